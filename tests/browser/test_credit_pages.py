"""The seller's "My credit" page in headless Chromium, on a phone: balance, generating a voucher, its barcode."""

from __future__ import annotations

import re

import pytest
from live_server import DEMO_SELLER, Server
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

CODE = re.compile(r"^[2-9A-HJ-NP-Z]{4}(-[2-9A-HJ-NP-Z]{4}){3}-[2-9A-HJ-NP-Z]$")


def sign_in_as_seller(page: Page) -> None:
    page.goto("/signin")
    page.get_by_label("E-mail address").fill(DEMO_SELLER[0])
    page.get_by_label("Password").fill(DEMO_SELLER[1])
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/sell$"))


def last4(code: str) -> str:
    """What receipts and the history print: the last four characters, hyphens aside."""
    return code.replace("-", "")[-4:]


def balance_cents(page: Page) -> int:
    text = page.locator(".balance__amount").inner_text()
    return round(float(text.replace("€", "").replace(",", "")) * 100)


def generate_voucher(page: Page, amount: str) -> str:
    """Generate a voucher on /credit and return its code as the page shows it."""
    page.get_by_label("Amount in euros").fill(amount)
    page.get_by_role("button", name="Generate the voucher").click()
    expect(page).to_have_url(re.compile(r"/credit\?issued="))
    new = page.locator(".voucher--new")
    expect(new).to_contain_text("Your new voucher is ready")
    return new.locator(".voucher__code .code").inner_text().strip()


def test_a_seller_turns_credit_into_a_voucher_with_a_barcode(phone: Page) -> None:
    page = phone
    sign_in_as_seller(page)
    page.get_by_role("link", name="My credit").click()
    expect(page).to_have_url(re.compile(r"/credit$"))
    expect(page.get_by_role("heading", name="My credit")).to_be_visible()
    before = balance_cents(page)
    assert before >= 4_000  # the demo credits Camille
    expect(page.locator(".history")).to_contain_text("Credit for a traded-in piece")

    code = generate_voucher(page, "40")
    assert CODE.match(code), code
    new = page.locator(".voucher--new")
    barcode = new.locator("svg.barcode")
    expect(barcode).to_be_visible()
    assert barcode.locator("rect").count() > 20  # bars, not an empty drawing
    expect(new).to_contain_text("€40")
    expect(new).to_contain_text("amiparis.com")
    assert balance_cents(page) == before - 4_000
    expect(page.locator(".history__entry").first).to_contain_text(f"Voucher ending {last4(code)}")
    expect(page.locator(".history__entry").first).to_contain_text("−€40")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the page scrolls sideways on a phone ({width}px)"


def test_amounts_the_credit_does_not_cover_are_refused_beside_the_field(phone: Page) -> None:
    page = phone
    sign_in_as_seller(page)
    page.goto("/credit")
    before = balance_cents(page)
    amount = page.get_by_label("Amount in euros")
    amount.fill(f"{before // 100 + 1}")
    page.get_by_role("button", name="Generate the voucher").click()
    expect(page.locator("#amount-error")).to_contain_text("Your credit is lower than this amount")
    expect(amount).to_have_attribute("aria-invalid", "true")
    expect(amount).to_be_focused()
    amount.fill("12.345")
    page.keyboard.press("Enter")
    expect(page.locator("#amount-error")).to_contain_text("at most two decimals")
    assert balance_cents(page) == before


def test_sending_the_form_twice_issues_one_voucher(phone: Page, server: Server) -> None:
    page = phone
    sign_in_as_seller(page)
    page.goto("/credit")
    before, vouchers = balance_cents(page), page.locator(".voucher").count()
    form = {name: page.locator(f'form[action="/credit/vouchers"] [name="{name}"]').get_attribute("value")
            for name in ("_csrf_token", "form_key")}
    answers = [page.request.post("/credit/vouchers", form={**form, "amount": "5"}, max_redirects=0)
               for _ in range(2)]
    assert [a.status for a in answers] == [303, 303]
    assert answers[0].headers["location"] == answers[1].headers["location"]
    page.goto("/credit")
    assert page.locator(".voucher").count() == vouchers + 1
    assert balance_cents(page) == before - 500
