"""A seller answers a counter-offer on their trade-in page in headless Chromium, on a phone: the grade in plain
words, the new amount and its deadline, the experts' photos with the findings drawn, the refusal reason and the
return parcel of a refused piece."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from station_helpers import PASSWORD, clean_photo, grader_headers, hole_photo, new_seller, received_tradein, sign_in

from live_server import Server

pytestmark = pytest.mark.browser

MAX_TABS = 80


def graded_tradein(server: Server, seller: dict[str, str], folder: Path) -> tuple[dict, dict, dict]:
    """A received trade-in of two pieces declared excellent: the first graded very good (a counter-offer), the
    second refused for a hole, each photographed."""
    tradein = received_tradein(server, seller, "excellent", "excellent")
    lower, holed = tradein["items"]
    grader = grader_headers(server)
    for item, photo in ((lower, clean_photo(folder)), (holed, hole_photo(folder))):
        sent = server.api.post(f"/api/v1/grading/items/{item['id']}/photos", headers=grader, data={"view": "front"},
                               files={"photo": (photo.name, photo.read_bytes(), "image/jpeg")})
        assert sent.status_code == 201, sent.text
    for item, decision in ((lower, {"grade": "very_good"}), (holed, {"refused": True, "reason": "hole"})):
        decided = server.api.post(f"/api/v1/grading/items/{item['id']}/decision", headers=grader, json=decision)
        assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "refused"
    return tradein, lower, holed


def tab_to(page: Page, name: str) -> None:
    """Press Tab until the button or link called `name` has the focus, as a keyboard user does."""
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if (page.evaluate("document.activeElement.textContent") or "").strip() == name:
            return
    raise AssertionError(f"{name!r} never took the focus")


def credit_of(server: Server, seller: dict[str, str]) -> int:
    return server.api.get("/api/v1/me/credit", headers=seller).json()["balance"]["amount"]


def test_the_seller_accepts_a_counter_offer_by_keyboard_on_a_phone(server: Server, phone: Page,
                                                                  tmp_path: Path) -> None:
    page = phone
    email, seller = new_seller(server)
    tradein, lower, holed = graded_tradein(server, seller, tmp_path)
    offer = server.api.get(f"/api/v1/tradeins/{tradein['id']}", headers=seller).json()["items"][0]["counter_offer"]
    amount = f"€{offer['amount']['amount'] // 100}"
    sign_in(page, email, PASSWORD, lands_on="/sell")
    page.goto(f"/tradeins/{tradein['id']}")

    first, second = page.locator(".piece").nth(0), page.locator(".piece").nth(1)
    expect(first).to_contain_text("Our experts graded it Very good rather than Excellent as you declared.")
    expect(first.locator(".counter-offer")).to_contain_text(f"worth {amount} instead of")
    shown = first.locator(".counter-offer time").get_attribute("datetime")
    assert shown and dt.datetime.fromisoformat(shown) == dt.datetime.fromisoformat(offer["deadline"])
    expect(first.locator(".steps-mini__step--current")).to_contain_text("Counter-offer")
    expect(second).to_contain_text("Not accepted. It has a hole.")
    expect(second.locator(".return-tracking")).to_have_attribute(
        "data-number", re.compile(r"^[A-Z]{2}\d{9}[A-Z]{2}$"))
    hole = second.locator('.finding--defect[data-kind="hole"] rect')
    expect(hole).to_have_count(1)
    expect(hole).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # nothing wider than the phone
    page.screenshot(path="/tmp/forever-counter-offer.png", full_page=True)

    tab_to(page, f"Accept {amount}")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/tradeins/{tradein['id']}\?answered={lower['id']}#piece-1$"))
    expect(first.locator("[role=status]")).to_have_text("Thank you: your answer is recorded.")
    expect(first).to_contain_text("You accepted it on")
    expect(first).to_contain_text(f"{amount} credited")
    expect(first.get_by_role("button", name=f"Accept {amount}")).to_have_count(0)
    assert credit_of(server, seller) == offer["amount"]["amount"]


def test_the_seller_asks_for_the_piece_back_without_javascript(server: Server, no_script: Page,
                                                               tmp_path: Path) -> None:
    page = no_script
    email, seller = new_seller(server)
    tradein, lower, _ = graded_tradein(server, seller, tmp_path)
    sign_in(page, email, PASSWORD, lands_on="/sell")
    page.goto(f"/tradeins/{tradein['id']}")
    page.get_by_role("button", name="Send it back to me").click()
    expect(page).to_have_url(re.compile(rf"answered={lower['id']}#piece-1$"))
    first = page.locator(".piece").nth(0)
    expect(first).to_contain_text("You asked for it back")
    number = server.api.get(f"/api/v1/tradeins/{tradein['id']}", headers=seller).json()["items"][0][
        "return_shipment"]["tracking_number"]
    expect(first.locator(".return-tracking")).to_have_attribute("data-number", number)
    assert credit_of(server, seller) == 0
