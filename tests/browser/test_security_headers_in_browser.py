"""The pages under their Content-Security-Policy in Chromium: nothing refused, and htmx, the barcodes, the API docs
and the till's print button still work."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from test_credit_pages import generate_voucher, sign_in_as_seller
from test_till import STAFF, scan, sign_in_with_the_keyboard

pytestmark = pytest.mark.browser


def refusals(page: Page) -> list[str]:
    """Every Content-Security-Policy refusal Chromium reports on this page from now on."""
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text)
            if "Content Security Policy" in message.text else None)
    return refused


def test_seller_pages_and_the_docs_work_under_the_policy(phone: Page) -> None:
    page = phone
    refused = refusals(page)
    response = page.goto("/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    sign_in_as_seller(page)

    with page.expect_response(re.compile(r"/sell/search\?")) as search:
        page.get_by_label("Name of the piece").fill("coeur")  # htmx searches as one types
    assert search.value.ok
    expect(page.locator("#results")).to_contain_text("Cœur")

    page.goto("/credit")
    generate_voucher(page, "5")
    barcode = page.locator(".voucher--new svg.barcode")
    expect(barcode).to_be_visible()
    background = barcode.locator("rect").nth(1)  # drawn with presentation attributes: not a black block
    assert background.evaluate("rect => getComputedStyle(rect).fill") == "none"

    page.goto("/schema")
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/quotes").first).to_be_visible()
    assert refused == []


def test_the_till_prints_its_receipt_without_inline_script(phone: Page, desktop: Page) -> None:
    sign_in_as_seller(phone)
    phone.goto("/credit")
    code = generate_voucher(phone, "5")
    till = desktop
    refused = refusals(till)
    sign_in_with_the_keyboard(till, *STAFF)
    scan(till, code)
    expect(till.locator("#amount")).to_be_focused()
    till.keyboard.type("5")
    till.keyboard.press("Enter")
    expect(till.locator(".receipt")).to_be_visible()
    till.evaluate("() => { window.print = () => { window.printed = (window.printed || 0) + 1; }; }")
    till.get_by_role("button", name="Print the receipt").click()
    assert till.evaluate("window.printed") == 1
    assert refused == []
