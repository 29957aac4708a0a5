"""The trade-in pages over HTTP, on SQLite and PostgreSQL: accepting from the quote page, the station's answers."""

from __future__ import annotations

import datetime as dt

import pytest
from support import signed_in_browser
from tradein_helpers import T0, accepted_tradein, line, open_warehouse, quote

from forever import clock
from forever.tradein import s10


@pytest.fixture
async def place(client):
    return await open_warehouse(client)


async def test_a_seller_accepts_from_the_quote_page(client, place):
    offer = await quote(client, place.seller, line("SW-SS24"), line("TEE-FW26"))
    async with signed_in_browser(client, "seller@example.com") as browser:
        page = await browser.get(f"/quotes/{offer['id']}")
        assert "Accept this offer" in page.text and 'name="refused_items"' in page.text

        unchosen = await browser.post(f"/quotes/{offer['id']}/accept", data={})
        assert unchosen.status_code == 422 and "send them back, or donate" in unchosen.text

        accepted = await browser.post(f"/quotes/{offer['id']}/accept", data={"refused_items": "donate"})
        assert accepted.status_code == 303 and accepted.headers["location"].startswith("/tradeins/")
        tradein_page = await browser.get(accepted.headers["location"])
        assert tradein_page.status_code == 200
        assert "Prepaid label (PDF)" in tradein_page.text and "Label created" in tradein_page.text
        label = await browser.get(accepted.headers["location"] + "/label.pdf")
        assert label.status_code == 200 and label.headers["content-type"] == "application/pdf"

        again = await browser.post(f"/quotes/{offer['id']}/accept", data={"refused_items": "return"})
        assert again.status_code == 303 and again.headers["location"] == accepted.headers["location"]
        assert "See my trade-in" in (await browser.get(f"/quotes/{offer['id']}")).text
        listed = await browser.get("/tradeins")
        assert s10.spaced((await client.get("/api/v1/tradeins", headers=place.seller)).json()["items"][0][
            "tracking_number"]) in listed.text

        stale = await quote(client, place.seller, line("SW-SS24"))
        clock.set_now(T0 + dt.timedelta(days=30, minutes=1))
    async with signed_in_browser(client, "seller@example.com") as browser:
        expired = await browser.post(f"/quotes/{stale['id']}/accept", data={"refused_items": "return"})
        assert expired.status_code == 409 and "This offer expired on" in expired.text


async def test_the_station_answers_each_scan(client, place):
    tradein = await accepted_tradein(client, place)
    number = tradein["parcel"]["tracking_number"]
    async with signed_in_browser(client, "grader@example.com") as grader:
        assert (await grader.get("/signin")).headers["location"] == "/warehouse/reception"
        station = await grader.get("/warehouse/reception")
        assert station.status_code == 200 and "autofocus" in station.text

        fragment = await grader.post("/warehouse/reception", data={"tracking_number": number},
                                     headers={"hx-request": "true"})
        assert fragment.status_code == 200 and fragment.text.lstrip().startswith('<div id="station"')
        assert f"Received: {s10.spaced(number)}" in fragment.text and "awaiting grading" in fragment.text

        for scanned, status, says in ((number, 409, "Already received"),
                                      (s10.make("CB", 77_777_777, "FR"), 404, "Unknown parcel"),
                                      (number[:10] + str((int(number[10]) + 1) % 10) + number[11:], 422,
                                       "Not a valid tracking number"),
                                      ("", 422, "Not a valid tracking number")):
            page = await grader.post("/warehouse/reception", data={"tracking_number": scanned})
            assert page.status_code == status and says in page.text, scanned
            assert "<html" in page.text  # without htmx, the whole page
        board = await grader.get("/warehouse/sla")
        assert board.status_code == 200 and tradein["items"][0]["id"] in board.text

    async with signed_in_browser(client, "seller@example.com") as seller:
        assert (await seller.get("/warehouse/reception")).status_code == 404
        assert (await seller.get("/warehouse/sla")).status_code == 404
    async with signed_in_browser(client, "admin@example.com") as admin:
        assert (await admin.get("/signin")).headers["location"] == "/warehouse/sla"
        assert (await admin.get("/warehouse/sla")).status_code == 200
