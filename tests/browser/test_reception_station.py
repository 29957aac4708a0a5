"""The warehouse reception station in headless Chromium: a USB scanner types each number and Enter."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from live_server import Server

pytestmark = pytest.mark.browser

GRADER = ("grader@forever.demo", "Forever-2026!")
ADMIN = ("admin@forever.demo", "Forever-2026!")
PASSWORD = "Correct-horse-9"


def accepted_tradein(server: Server, seller: dict[str, str]) -> dict[str, Any]:
    """A trade-in of one eligible piece, accepted over the API."""
    piece = next(p for p in server.products(category="knitwear") if p["tradein_eligible"])
    quote = server.api.post("/api/v1/quotes", headers=seller,
                            json={"items": [{"product_ref": piece["ref"], "condition": "excellent"}]})
    assert quote.status_code == 201, quote.text
    accepted = server.api.post(f"/api/v1/quotes/{quote.json()['id']}/accept", headers=seller,
                               json={"refused_items": "return"})
    assert accepted.status_code == 201, accepted.text
    return accepted.json()


def new_seller(server: Server) -> dict[str, str]:
    email = f"scan.{uuid.uuid4().hex[:10]}@example.com"
    registered = server.api.post("/api/v1/accounts", json={
        "email": email, "password": PASSWORD, "first_name": "Inès", "last_name": "Moreau", "country": "FR",
        "birth_date": "1987-06-02"})
    assert registered.status_code == 201, registered.text
    return {"Authorization": f"Bearer {server.token(email, PASSWORD)}"}


def sign_in(page: Page, email: str, password: str, lands_on: str) -> None:
    page.goto("/signin")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(re.escape(lands_on) + "$"))


def scan(page: Page, text: str) -> None:
    """What a USB barcode scanner does: type the characters fast into the focused field, then Enter."""
    expect(page.locator("#tracking_number")).to_be_focused()
    page.keyboard.type(text, delay=5)
    page.keyboard.press("Enter")


def test_parcels_are_received_scan_after_scan(server: Server, desktop: Page) -> None:
    page = desktop
    seller = new_seller(server)
    first, second = accepted_tradein(server, seller), accepted_tradein(server, seller)
    one, two = first["parcel"]["tracking_number"], second["parcel"]["tracking_number"]

    sign_in(page, *GRADER, lands_on="/warehouse/reception")
    result = page.locator("#scan-result")
    scan(page, one)
    expect(result.locator(".scan")).to_have_attribute("data-code", "received")
    expect(result).to_contain_text(f"Received: {one[:2]} {one[2:6]}")
    expect(result).to_contain_text("1 piece now awaiting grading")
    expect(page.locator("#tracking_number")).to_have_value("")
    expect(page).to_have_url(re.compile(r"/warehouse/reception$"))  # htmx: no page load between scans

    scan(page, two.lower())  # some scanners send lower case
    expect(result).to_contain_text(f"Received: {two[:2]} {two[2:6]}")
    expect(page.locator(".recent li").first).to_contain_text(second["reference"])

    scan(page, one)
    expect(result.locator(".scan")).to_have_attribute("data-code", "already_received")
    expect(result).to_contain_text("Already received")
    expect(page.locator("#tracking_number")).to_have_attribute("aria-invalid", "true")

    misread = one[:10] + str((int(one[10]) + 1) % 10) + one[11:]
    scan(page, misread)
    expect(result.locator(".scan")).to_have_attribute("data-code", "invalid_tracking_number")
    expect(result).to_contain_text("check digit does not match")

    scan(page, "CB999999995FR")
    expect(result.locator(".scan")).to_have_attribute("data-code", "parcel_not_found")
    expect(result).to_contain_text("Unknown parcel")
    expect(page.locator("#tracking_number")).to_be_focused()

    for tradein in (first, second):
        now = server.api.get(f"/api/v1/tradeins/{tradein['id']}", headers=seller).json()
        assert now["status"] == "received" and now["sla_due_date"]
        assert {item["status"] for item in now["items"]} == {"awaiting_grading"}
    page.screenshot(path="/tmp/forever-reception.png", full_page=True)

    page.get_by_role("link", name="SLA").click()
    expect(page).to_have_url(re.compile(r"/warehouse/sla$"))
    pieces = page.locator(".sla-item")
    expect(pieces.first).to_be_visible()
    assert "overdue" in (page.locator("#sla-summary").text_content() or "")
    for tradein in (first, second):
        expect(page.locator(f'.sla-item[data-item="{tradein["items"][0]["id"]}"]')).to_contain_text(
            "15 business days left")
    page.screenshot(path="/tmp/forever-sla.png", full_page=True)


def test_the_station_works_without_javascript(server: Server, no_script: Page) -> None:
    page = no_script
    tradein = accepted_tradein(server, new_seller(server))
    number = tradein["parcel"]["tracking_number"]
    sign_in(page, *GRADER, lands_on="/warehouse/reception")
    page.get_by_label("Tracking number").fill(f"{number[:2]} {number[2:6]} {number[6:10]} {number[10]} {number[11:]}")
    page.get_by_role("button", name="Receive").click()
    expect(page.locator("#scan-result")).to_contain_text(f"Trade-in {tradein['reference']}")
    expect(page.locator("#tracking_number")).to_be_focused()
    page.get_by_label("Tracking number").fill(number)
    with page.expect_response(re.compile(r"/warehouse/reception$")) as answer:
        page.get_by_role("button", name="Receive").click()
    response = answer.value
    assert response.status == 409
    expect(page.locator("#scan-result")).to_contain_text("Already received")


def test_only_graders_reach_the_station(server: Server, phone: Page) -> None:
    page = phone
    sign_in(page, *ADMIN, lands_on="/warehouse/sla")
    response = page.goto("/warehouse/reception")
    assert response is not None and response.status == 404
