"""The seller's pages in headless Chromium: sign up, build a quote, read the offer, list the quotes."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from live_server import DEMO_SELLER, PHONE, Server

pytestmark = pytest.mark.browser

SCREENSHOTS = "/tmp"
PASSWORD = "Correct-horse-9"


# --- helpers ------------------------------------------------------------------------------------------------


def eligible(server: Server, **filters: str) -> dict[str, Any]:
    """The first product the catalog marks as taken back today, among those matching `filters`."""
    return next(p for p in server.products(**filters) if p["tradein_eligible"])


def euros(text: str) -> Decimal:
    """"€1,290" -> 1290."""
    match = re.search(r"€([\d,]+(?:\.\d\d)?)", text)
    assert match, f"no amount in euros in {text!r}"
    return Decimal(match.group(1).replace(",", ""))


def expiry_of_a_quote_made_now() -> str:
    """How the quote page writes the end of its 30 days of validity."""
    expires = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=30)).astimezone(ZoneInfo("Europe/Paris"))
    return f"{expires.day} {expires:%B %Y}"


def assert_no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{page.url} is {width}px wide"


TAP_TARGETS = ("button, select, input:not([type=hidden]):not([type=radio]), label.condition, .button, "
               ".site-nav a, .brand, .quote-card__title a")


def assert_tap_targets(page: Page) -> None:
    """Every control is at least 44 px high (buttons also 44 px wide): big enough for a thumb."""
    shown, small = page.evaluate("""selector => {
        const shown = [...document.querySelectorAll(selector)].filter(element => element.getClientRects().length);
        const small = shown
            .map(element => [element.outerHTML.slice(0, 80), element.getBoundingClientRect()])
            .filter(([_, box]) => box.height < 44 || box.width < 44)
            .map(([html, box]) => `${html} ${Math.round(box.width)}x${Math.round(box.height)}`);
        return [shown.length, small];
    }""", TAP_TARGETS)
    assert shown >= 4 and not small, f"too small to tap on {page.url}: {small}"


def sign_in(page: Page, email: str, password: str) -> None:
    page.goto("/signin")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/sell$"))


def add_piece(page: Page, product: dict[str, Any], *, query: str = "") -> None:
    """Find `product` with the builder's search (name, category, season) and add it to the basket."""
    count = page.locator("#basket li.line").count()
    page.get_by_label("Name of the piece").fill(query)
    page.get_by_label("Category").select_option(product["category"])
    page.get_by_label("Season").select_option(product["season"])
    row = page.locator(f'#results li[data-ref="{product["ref"]}"]')
    row.get_by_role("button", name=re.compile(r"^Add")).click()
    expect(page.locator("#basket li.line")).to_have_count(count + 1)
    expect(page.locator(f"#line-{count}")).to_have_attribute("data-ref", product["ref"])


def choose(page: Page, line: int, condition: str, size: str | None = None) -> None:
    page.locator(f'#line-{line} input[name="condition-{line}"][value="{condition}"]').check()
    if size:
        page.locator(f"#size-{line}").select_option(size)


def tab_to(page: Page, selector: str, limit: int = 120) -> None:
    """Press Tab until the focused element matches `selector` (keyboard only, no clicks)."""
    for _ in range(limit):
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def quote_lines(page: Page) -> list[dict[str, Any]]:
    lines = []
    for item in page.locator(".quote-line").all():
        offer = item.locator(".offer")
        text = " ".join((item.text_content() or "").split())
        lines.append({"ref": item.get_attribute("data-ref"), "text": text,
                      "offer": euros(offer.inner_text()) if offer.count() else None})
    return lines


# --- tests --------------------------------------------------------------------------------------------------


def test_a_new_seller_gets_a_full_quote_on_a_phone(server: Server, phone: Page) -> None:
    page = phone
    hearts = [p for p in server.products(q="coeur", category="sweatshirts") if p["tradein_eligible"]]
    assert hearts and "Cœur" in hearts[0]["name"]
    first, second = hearts[0], eligible(server, category="trousers")
    sizes = next(p["sizes"] for p in server.products(category="trousers", season=second["season"])
                 if p["ref"] == second["ref"])

    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("second life")
    assert_no_sideways_scroll(page)
    page.get_by_role("link", name="Create an account").first.click()
    page.get_by_label("First name").fill("Léa")
    page.get_by_label("Last name").fill("Dupont")
    page.get_by_label("E-mail address").fill(f"lea.{uuid.uuid4().hex[:10]}@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Country you live in").select_option("FR")
    page.get_by_label("Date of birth").fill("1990-05-17")
    assert_no_sideways_scroll(page)
    page.get_by_role("button", name="Create my account").click()
    expect(page).to_have_url(re.compile(r"/sell$"))

    add_piece(page, first, query="coeur")  # no accent typed: the name has "Cœur"
    choose(page, 0, "excellent")
    add_piece(page, second)
    choose(page, 1, "very_good", size=sizes[0])
    line = page.locator("#line-0")
    expect(line).to_contain_text("Practically new, no signs of wear")
    expect(line).to_contain_text("Excellent état : Ces articles sont pratiquement neufs")
    expect(line).to_contain_text("plis d’usage, matière plus souple que l’état neuf, léger boulochage")
    expect(line.locator(".condition--refused")).to_have_count(2)
    assert_no_sideways_scroll(page)
    assert_tap_targets(page)
    page.screenshot(path=f"{SCREENSHOTS}/forever-builder-375.png", full_page=True)

    page.get_by_role("button", name="Get my offer").click()
    expect(page).to_have_url(re.compile(r"/quotes/[0-9a-f-]{36}$"))
    lines = quote_lines(page)
    assert [line["ref"] for line in lines] == [first["ref"], second["ref"]]
    assert all(line["offer"] and line["offer"] >= 5 for line in lines)
    assert "Condition: Excellent" in lines[0]["text"] and "Condition: Very good" in lines[1]["text"]
    assert euros(page.locator(".total__amount").inner_text()) == sum(line["offer"] for line in lines)
    expect(page.locator(".validity")).to_have_text(f"Valid until {expiry_of_a_quote_made_now()}")
    expect(page.locator(".fine-print")).to_contain_text("grid version")
    assert_no_sideways_scroll(page)
    assert_tap_targets(page)
    page.screenshot(path=f"{SCREENSHOTS}/forever-quote-375.png", full_page=True)
    total = page.locator(".total__amount").inner_text()

    page.get_by_role("link", name="My quotes", exact=True).click()
    card = page.locator(".quote-card").first
    expect(card).to_contain_text(total)
    expect(card).to_contain_text("Valid until")
    expect(card).to_contain_text(expiry_of_a_quote_made_now())
    expect(card).to_contain_text("Open")
    assert_no_sideways_scroll(page)
    assert_tap_targets(page)
    page.screenshot(path=f"{SCREENSHOTS}/forever-quotes-375.png", full_page=True)

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("link", name="Sign in", exact=True)).to_be_visible()


def test_refused_lines_say_why_in_plain_words(server: Server, phone: Page) -> None:
    page = phone
    underwear = server.products(category="underwear")[0]
    too_old = server.products(season="FW15")[0]
    current = server.products(season="FW26")[0]
    worn = eligible(server, category="coats")
    sign_in(page, *DEMO_SELLER)

    page.get_by_label("Category").select_option("underwear")
    shown = page.locator(f'#results li[data-ref="{underwear["ref"]}"]')
    expect(shown).to_contain_text("AMI For Ever does not take underwear, swimwear or lifestyle items.")

    for number, (product, condition) in enumerate(
            [(underwear, "excellent"), (too_old, "very_good"), (current, "new_with_tags"), (worn, "worn")]):
        add_piece(page, product)
        choose(page, number, condition)
    page.get_by_role("button", name="Get my offer").click()
    expect(page).to_have_url(re.compile(r"/quotes/[0-9a-f-]{36}$"))

    lines = quote_lines(page)
    assert all(line["offer"] is None and "Not taken" in line["text"] for line in lines)
    assert "AMI For Ever does not take underwear, swimwear or lifestyle items." in lines[0]["text"]
    assert "Pieces from before 2016 are not taken." in lines[1]["text"]
    assert "Pieces from the current season are not taken yet." in lines[2]["text"]
    assert "worn or damaged pieces earn no credit" in lines[3]["text"]
    expect(page.locator(".total__amount")).to_have_text("€0")
    assert_no_sideways_scroll(page)
    page.screenshot(path=f"{SCREENSHOTS}/forever-refused-375.png", full_page=True)


def test_a_quote_by_keyboard_alone(server: Server, desktop: Page) -> None:
    page = desktop
    results = server.products(q="coeur hoodie")
    piece = next(p for p in results[:20] if p["tradein_eligible"])

    page.goto("/sell")
    expect(page).to_have_url(re.compile(r"/signin\?next=%2Fsell$"))
    tab_to(page, "#email")
    page.keyboard.type(DEMO_SELLER[0])
    page.keyboard.press("Tab")
    page.keyboard.type(DEMO_SELLER[1])
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/sell$"))

    tab_to(page, "#q")
    page.keyboard.type("coeur hoodie")
    add = f'#results button[name="add"][value="{piece["ref"]}"]'
    page.locator(add).wait_for()
    tab_to(page, add)
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid", "the focused button shows no focus ring"
    page.keyboard.press("Enter")
    expect(page.locator("#basket li.line")).to_have_count(1)
    expect(page.locator("#basket-status")).to_contain_text("Added")

    tab_to(page, 'input[name="condition-0"]')
    page.keyboard.press("Space")
    page.keyboard.press("ArrowDown")
    expect(page.locator('input[name="condition-0"]:checked')).to_have_value("excellent")
    tab_to(page, "#quote-form button:not([name])")
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/quotes/[0-9a-f-]{36}$"))
    (line,) = quote_lines(page)
    assert line["ref"] == piece["ref"] and line["offer"] >= 5


def test_pages_of_a_seller_need_signing_in_and_stay_private(server: Server, phone: Page) -> None:
    page = phone
    page.goto("/sell")
    expect(page).to_have_url(re.compile(r"/signin\?next=%2Fsell$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    page.goto("/quotes")
    expect(page).to_have_url(re.compile(r"/signin\?next=%2Fquotes$"))

    page.get_by_label("E-mail address").fill(DEMO_SELLER[0])
    page.get_by_label("Password").fill("not-the-password-1!")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("Wrong e-mail or password")
    expect(page.get_by_label("E-mail address")).to_have_value(DEMO_SELLER[0])

    unknown = f"nobody.{uuid.uuid4().hex[:10]}@example.com"
    for _ in range(6):
        page.get_by_label("E-mail address").fill(unknown)
        page.get_by_label("Password").fill("Wrong-guess-1")
        page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("Too many failed sign-ins")

    forged = server.api.post("/signin", data={"email": DEMO_SELLER[0], "password": DEMO_SELLER[1]})
    assert forged.status_code == 403 and "This form has expired" in forged.text

    camille = server.token(*DEMO_SELLER)
    piece = eligible(server, category="shirts")
    created = server.api.post("/api/v1/quotes", headers={"Authorization": f"Bearer {camille}"},
                              json={"items": [{"product_ref": piece["ref"], "condition": "excellent"}]})
    assert created.status_code == 201, created.text
    someone_else = f"other.{uuid.uuid4().hex[:10]}@example.com"
    registered = server.api.post("/api/v1/accounts", json={
        "email": someone_else, "password": PASSWORD, "first_name": "Noé", "last_name": "Petit",
        "country": "BE", "birth_date": "1985-02-03"})
    assert registered.status_code == 201, registered.text
    page.context.add_cookies([{"name": "forever_session", "value": server.token(someone_else, PASSWORD),
                               "url": server.url}])
    response = page.goto(f"/quotes/{created.json()['id']}")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")


def test_sign_up_errors_sit_beside_their_fields(server: Server, phone: Page) -> None:
    page = phone
    page.goto("/signup")
    page.get_by_label("First name").fill("Jules")
    page.get_by_label("Last name").fill("Martin")
    page.get_by_label("E-mail address").fill(f"jules.{uuid.uuid4().hex[:10]}@example.com")
    page.get_by_label("Password").fill("short")
    page.get_by_label("Country you live in").select_option("IT")
    page.get_by_label("Date of birth").fill("1994-03-08")
    page.get_by_role("button", name="Create my account").click()
    expect(page.locator("#password-error")).to_contain_text("at least 8 characters")
    expect(page.get_by_label("Password")).to_have_value("")
    expect(page.get_by_label("Password")).to_be_focused()
    expect(page.get_by_label("First name")).to_have_value("Jules")
    expect(page.get_by_label("Country you live in")).to_have_value("IT")

    young = dt.date.today().replace(year=dt.date.today().year - 17).isoformat()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Date of birth").fill(young)
    page.get_by_role("button", name="Create my account").click()
    expect(page.locator("#birth_date-error")).to_contain_text("18 and over")
    assert_no_sideways_scroll(page)


def test_a_seller_outside_the_served_countries_is_told_why(server: Server, phone: Page) -> None:
    page = phone
    email = f"sam.{uuid.uuid4().hex[:10]}@example.com"
    registered = server.api.post("/api/v1/accounts", json={
        "email": email, "password": PASSWORD, "first_name": "Sam", "last_name": "Jones", "country": "GB",
        "birth_date": "1988-09-30"})
    assert registered.status_code == 201, registered.text
    sign_in(page, email, PASSWORD)
    expect(page.locator("#seller-problem")).to_contain_text("France, Germany, Italy, Spain, Belgium or the Netherlands")

    add_piece(page, eligible(server, category="knitwear"))
    choose(page, 0, "excellent")
    page.get_by_role("button", name="Get my offer").click()
    expect(page).to_have_url(re.compile(r"/quotes$"))  # the form posted back, no quote was made
    expect(page.get_by_role("alert").first).to_contain_text("cannot make you an offer")
    expect(page.locator("#line-0 input[value=excellent]")).to_be_checked()


def test_the_builder_works_without_javascript(server: Server, no_script: Page) -> None:
    page = no_script
    piece = eligible(server, category="bags")
    sign_in(page, *DEMO_SELLER)
    page.get_by_label("Category").select_option(piece["category"])
    page.get_by_label("Season").select_option(piece["season"])
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"/sell\?q=&category=bags&season=[SF][SW]\d\d$"))
    page.locator(f'#results li[data-ref="{piece["ref"]}"]').get_by_role("button", name=re.compile("^Add")).click()
    expect(page.locator("#line-0")).to_have_attribute("data-ref", piece["ref"])
    choose(page, 0, "new_with_tags")
    page.get_by_role("button", name="Get my offer").click()
    expect(page).to_have_url(re.compile(r"/quotes/[0-9a-f-]{36}$"))
    (line,) = quote_lines(page)
    assert line["offer"] >= 5
    assert page.viewport_size == PHONE
