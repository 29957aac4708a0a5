"""Carrier events over HTTP, on SQLite and PostgreSQL: idempotent, safe out of order, clear refusals."""

from __future__ import annotations

import datetime as dt

import pytest
from tradein_helpers import accepted_tradein, carrier_event, mails, open_warehouse

from forever.clock import PARIS
from forever.tradein import s10

DROP = dt.datetime(2026, 11, 24, 9, 30, tzinfo=PARIS)
TRANSIT = dt.datetime(2026, 11, 24, 18, 5, tzinfo=PARIS)
DELIVERY = dt.datetime(2026, 11, 25, 7, 45, tzinfo=PARIS)


@pytest.fixture
async def place(client):
    return await open_warehouse(client)


async def test_events_move_the_parcel_forwards_whatever_their_order(client, place, settings):
    tradein = await accepted_tradein(client, place)
    number = tradein["parcel"]["tracking_number"]

    delivered = await carrier_event(client, place, number, "delivered", DELIVERY)
    assert delivered.status_code == 202, delivered.text
    assert delivered.json()["recorded"] is True and delivered.json()["parcel_status"] == "delivered"
    late = await carrier_event(client, place, number, "in_transit", TRANSIT)
    assert late.status_code == 202 and late.json()["parcel_status"] == "delivered"
    await carrier_event(client, place, number, "dropped_off", DROP)

    now = (await client.get(f"/api/v1/tradeins/{tradein['id']}", headers=place.seller)).json()
    assert now["parcel"]["status"] == "delivered"
    assert [event["event"] for event in now["parcel"]["events"]] == ["label_created", "dropped_off", "in_transit",
                                                                      "delivered"]
    assert [event["source"] for event in now["parcel"]["events"]] == ["system", "carrier", "carrier", "carrier"]
    assert dt.datetime.fromisoformat(now["parcel"]["events"][1]["occurred_at"]) == DROP
    # On its way, not received: only the warehouse's scan receives a parcel.
    assert now["status"] == "in_transit" and now["received_at"] is None and now["sla_due_date"] is None
    assert {item["status"] for item in now["items"]} == {"in_transit"}
    # One e-mail for the parcel leaving, whichever event said so first.
    subjects = [mail["Subject"] for mail in mails(settings)]
    assert subjects[1:] == [f"Your parcel {number} is on its way"]
    assert [note["kind"] for note in now["notifications"]] == ["accepted", "in_transit"]


async def test_a_repeated_event_is_stored_once(client, place):
    tradein = await accepted_tradein(client, place)
    number = tradein["parcel"]["tracking_number"]
    first = await carrier_event(client, place, number, "dropped_off", DROP)
    # The same moment written in another offset, and the number spaced as on the label.
    again = await carrier_event(client, place, s10.spaced(number).lower(), "dropped_off", DROP.astimezone(dt.UTC))
    assert first.json()["recorded"] is True
    assert again.status_code == 202 and again.json()["recorded"] is False
    assert again.json()["tracking_number"] == number
    later = await carrier_event(client, place, number, "dropped_off", DROP + dt.timedelta(minutes=5))
    assert later.json()["recorded"] is True  # another moment is another report
    events = (await client.get(f"/api/v1/tradeins/{tradein['id']}", headers=place.seller)).json()["parcel"]["events"]
    assert [event["event"] for event in events] == ["label_created", "dropped_off", "dropped_off"]


async def test_unknown_mistyped_and_unauthorised_reports_are_refused(client, place):
    tradein = await accepted_tradein(client, place)
    number = tradein["parcel"]["tracking_number"]
    unknown = s10.make("CB", 99_999_999, "FR")
    response = await carrier_event(client, place, unknown, "dropped_off", DROP)
    assert response.status_code == 404 and response.json()["code"] == "parcel_not_found"
    assert unknown in response.json()["detail"]

    wrong_check = number[:10] + str((int(number[10]) + 1) % 10) + number[11:]
    response = await carrier_event(client, place, wrong_check, "dropped_off", DROP)
    assert response.status_code == 422 and response.json()["code"] == "invalid_tracking_number"
    assert "check digit" in response.json()["detail"]
    response = await carrier_event(client, place, "12345", "dropped_off", DROP)
    assert response.status_code == 422 and response.json()["code"] == "invalid_tracking_number"

    for body in ({"tracking_number": number, "event": "received", "occurred_at": DROP.isoformat()},
                 {"tracking_number": number, "event": "dropped_off", "occurred_at": "2026-11-24T09:30:00"},
                 {"tracking_number": number, "event": "dropped_off"},
                 {"tracking_number": number, "event": "dropped_off", "occurred_at": DROP.isoformat(), "x": 1}):
        response = await client.post("/api/v1/carrier/events", headers=place.carrier, json=body)
        assert response.status_code in (400, 422), body
        assert response.json()["code"] == "validation_error"

    for headers in (place.seller, place.grader, place.eshop):
        response = await client.post("/api/v1/carrier/events", headers=headers, json={
            "tracking_number": number, "event": "dropped_off", "occurred_at": DROP.isoformat()})
        assert response.status_code == 404
    assert (await client.post("/api/v1/carrier/events", json={})).status_code == 401
    after = (await client.get(f"/api/v1/tradeins/{tradein['id']}", headers=place.seller)).json()
    assert after["parcel"]["status"] == "label_created" and len(after["parcel"]["events"]) == 1
