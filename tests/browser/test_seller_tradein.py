"""A seller accepts an offer in headless Chromium and gets the label, the deed and the timeline."""

from __future__ import annotations

import io
import re
import uuid

import pypdf
import pytest
from playwright.sync_api import Page, expect

from live_server import Server

pytestmark = pytest.mark.browser

PASSWORD = "Correct-horse-9"


def test_a_seller_accepts_an_offer_and_gets_the_label_and_the_deed(server: Server, phone: Page) -> None:
    page = phone
    email = f"lou.{uuid.uuid4().hex[:10]}@example.com"
    assert server.api.post("/api/v1/accounts", json={
        "email": email, "password": PASSWORD, "first_name": "Lou", "last_name": "Garnier", "country": "BE",
        "birth_date": "1992-01-30"}).status_code == 201
    seller = {"Authorization": f"Bearer {server.token(email, PASSWORD)}"}
    taken = [p for p in server.products(category="shirts") if p["tradein_eligible"]][:2]
    underwear = server.products(category="underwear")[0]
    quote = server.api.post("/api/v1/quotes", headers=seller, json={"items": [
        {"product_ref": taken[0]["ref"], "condition": "excellent"},
        {"product_ref": taken[1]["ref"], "condition": "very_good"},
        {"product_ref": underwear["ref"], "condition": "new_with_tags"}]}).json()

    page.goto("/signin")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/sell$"))
    page.goto(f"/quotes/{quote['id']}")
    page.get_by_role("radio", name=re.compile(r"^Donate it")).check()
    page.get_by_role("button", name="Accept this offer").click()

    expect(page).to_have_url(re.compile(r"/tradeins/[0-9a-f-]{36}$"))
    tradein_id = page.url.rsplit("/", 1)[1]
    number = page.locator("#tracking-number").get_attribute("data-number")
    assert number and re.fullmatch(r"CB\d{9}FR", number)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your trade-in")
    expect(page.locator(".lede")).to_contain_text("2 pieces")
    expect(page.locator(".lede")).to_contain_text("donated")
    expect(page.locator(".piece")).to_have_count(2)
    expect(page.locator(".facts")).to_contain_text("Drop it off by")
    timeline = page.locator("#timeline")
    expect(timeline.locator(".timeline__entry--event")).to_contain_text("Label created")
    expect(timeline.locator(".timeline__entry--email")).to_contain_text("label and transfer deed")
    expect(timeline.locator(".timeline__entry--pending").first).to_contain_text("Dropped off")
    expect(page.locator(".piece").first.locator(".steps-mini__step--done")).to_have_text(re.compile("Label created"))

    links = {name: page.get_by_role("link", name=name) for name in
             ("Prepaid label (PDF)", "Transfer deed (PDF)", "Label for a thermal printer (ZPL)")}
    for link in links.values():
        expect(link).to_be_visible()
    label = page.request.get(links["Prepaid label (PDF)"].get_attribute("href"))
    assert label.status == 200 and label.headers["content-type"] == "application/pdf"
    assert number in pypdf.PdfReader(io.BytesIO(label.body())).pages[0].extract_text()
    deed = page.request.get(links["Transfer deed (PDF)"].get_attribute("href"))
    deed_text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(deed.body())).pages)
    assert all(piece["ref"] in deed_text for piece in taken) and underwear["ref"] not in deed_text
    zpl = page.request.get(links["Label for a thermal printer (ZPL)"].get_attribute("href"))
    assert zpl.text().startswith("^XA") and number in zpl.text()
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    page.screenshot(path="/tmp/forever-tradein-375.png", full_page=True)

    page.goto(f"/quotes/{quote['id']}")
    expect(page.get_by_role("link", name="See my trade-in")).to_have_attribute("href", f"/tradeins/{tradein_id}")
    page.get_by_role("link", name="My trade-ins").click()
    card = page.locator(".quote-card").first
    expect(card).to_contain_text(f"{number[:2]} {number[2:6]}")
    expect(card).to_contain_text("To send")
    page.screenshot(path="/tmp/forever-tradeins-375.png", full_page=True)
