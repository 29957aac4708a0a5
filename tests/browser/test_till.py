"""The boutique till in headless Chromium: the seller's voucher is scanned (typed + Enter), part of it redeemed,
the receipt shown, and an amount above what is left refused."""

from __future__ import annotations

import re

import pytest
from live_server import Server
from playwright.sync_api import Page, expect
from test_credit_pages import generate_voucher, last4, sign_in_as_seller

pytestmark = pytest.mark.browser

STAFF = ("saint-honore@forever.demo", "Forever-2026!")


def sign_in_with_the_keyboard(page: Page, email: str, password: str) -> None:
    page.goto("/signin")
    for _ in range(30):
        if page.evaluate("document.activeElement.id") == "email":
            break
        page.keyboard.press("Tab")
    else:
        pytest.fail("Tab never reached the e-mail field")
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    page.keyboard.press("Enter")


def scan(page: Page, code: str) -> None:
    """A USB scanner: the code typed fast into the focused field, then Enter."""
    expect(page.locator("#code")).to_be_focused()
    page.keyboard.type(code.replace("-", ""), delay=5)
    page.keyboard.press("Enter")


def test_staff_redeem_part_of_a_voucher_and_print_the_receipt(phone: Page, desktop: Page) -> None:
    sign_in_as_seller(phone)
    phone.goto("/credit")
    code = generate_voucher(phone, "40")

    till = desktop
    sign_in_with_the_keyboard(till, *STAFF)
    expect(till).to_have_url(re.compile(r"/till$"))
    expect(till.get_by_role("link", name="Till")).to_have_attribute("aria-current", "page")
    scan(till, code)
    found = till.locator("#voucher-found")
    expect(found).to_contain_text(f"Voucher ending {last4(code)}")
    expect(till.locator("#available")).to_have_text("€40")
    expect(found).to_contain_text("Can be used")

    expect(till.locator("#amount")).to_be_focused()
    till.keyboard.type("15")
    till.keyboard.press("Enter")
    receipt = till.locator(".receipt")
    expect(receipt).to_contain_text("AMI Saint-Honoré")
    expect(till.locator("#receipt-amount")).to_have_text("€15")
    expect(till.locator("#receipt-balance")).to_have_text("€25")
    expect(till.locator("#receipt-last4")).to_have_text(last4(code))
    body = till.locator("body").inner_text()
    assert code not in body and code.replace("-", "")[:8] not in body.replace("-", "")
    next_voucher = till.get_by_role("button", name="Next voucher")
    expect(next_voucher).to_be_focused()
    expect(till.get_by_role("button", name="Print the receipt")).to_be_visible()
    till.emulate_media(media="print")  # hides the focused button, so it loses focus
    expect(till.locator(".site-header")).to_be_hidden()
    expect(till.get_by_role("button", name="Print the receipt")).to_be_hidden()
    expect(receipt).to_be_visible()
    till.emulate_media(media="screen")

    next_voucher.press("Enter")
    scan(till, code)
    expect(till.locator("#available")).to_have_text("€25")
    till.keyboard.type("30")
    till.keyboard.press("Enter")
    error = till.locator("#amount-error")
    expect(error).to_have_attribute("data-code", "insufficient_balance")
    expect(error).to_contain_text("Not enough on this voucher")
    expect(till.locator("#available")).to_have_text("€25")
    expect(till.locator("#amount")).to_have_attribute("aria-invalid", "true")


def test_unknown_codes_are_said_plainly(desktop: Page) -> None:
    sign_in_with_the_keyboard(desktop, *STAFF)
    scan(desktop, "2222-3333-4444-5555-6")
    problem = desktop.locator("#till-result")
    expect(problem).to_have_attribute("data-code", "voucher_not_found")
    expect(problem).to_contain_text("Unknown code")
    expect(desktop.locator("#code")).to_have_attribute("aria-invalid", "true")


def test_a_double_tap_redeems_once(desktop: Page, server: Server) -> None:
    seller = {"Authorization": f"Bearer {server.token('camille@forever.demo', 'Forever-2026!')}"}
    issued = server.api.post("/api/v1/me/vouchers", headers=seller, json={"amount": {"amount": 2000, "currency": "EUR"}})
    assert issued.status_code == 201, issued.text
    code = issued.json()["code"]
    page = desktop
    sign_in_with_the_keyboard(page, "beaumarchais@forever.demo", "Forever-2026!")
    scan(page, code)
    form = {name: page.locator(f'form[action="/till/redeem"] [name="{name}"]').get_attribute("value")
            for name in ("_csrf_token", "code", "order_ref", "form_key")}
    answers = [page.request.post("/till/redeem", form={**form, "amount": "7.50"}) for _ in range(2)]
    assert [a.status for a in answers] == [200, 200]
    assert all("€12.50" in a.text() for a in answers)
    page.goto("/till")
    scan(page, code)
    expect(page.locator("#available")).to_have_text("€12.50")
