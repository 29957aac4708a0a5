"""Warehouse reception and the SLA board over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from support import bearer, sign_in
from tradein_helpers import T0, accepted_tradein, carrier_event, mails, open_warehouse

from forever import clock
from forever.clock import PARIS
from forever.tradein import s10


@pytest.fixture
async def place(client):
    return await open_warehouse(client)


async def receive(client, headers, tracking_number):
    return await client.post("/api/v1/warehouse/receptions", headers=headers, json={"tracking_number": tracking_number})


async def test_a_scanned_parcel_is_received_and_its_pieces_await_grading(client, place, settings):
    tradein = await accepted_tradein(client, place)
    number = tradein["parcel"]["tracking_number"]
    await carrier_event(client, place, number, "delivered", dt.datetime(2026, 11, 23, 15, 0, tzinfo=PARIS))

    clock.set_now(T0 + dt.timedelta(hours=6))
    response = await receive(client, place.grader, number)
    assert response.status_code == 200, response.text
    received = response.json()
    assert received["id"] == tradein["id"] and received["status"] == "received"
    assert dt.datetime.fromisoformat(received["received_at"]) == dt.datetime(2026, 11, 23, 16, 0, tzinfo=PARIS)
    assert received["sla_due_date"] == "2026-12-14"  # Monday 23 November + 15 business days
    assert {item["status"] for item in received["items"]} == {"awaiting_grading"}
    assert received["parcel"]["status"] == "received"
    assert [(event["event"], event["source"]) for event in received["parcel"]["events"]] == [
        ("label_created", "system"), ("delivered", "carrier"), ("received", "warehouse")]

    mail = mails(settings)[-1]
    assert mail["Subject"] == f"We received your parcel {number}"
    assert "14/12/2026" in mail.get_body(preferencelist=("plain",)).get_content()
    assert [note["kind"] for note in received["notifications"]] == ["accepted", "in_transit", "received"]

    # A carrier's late report changes nothing the warehouse established.
    await carrier_event(client, place, number, "in_transit", dt.datetime(2026, 11, 22, 18, 0, tzinfo=PARIS))
    after = (await client.get(f"/api/v1/tradeins/{tradein['id']}", headers=place.seller)).json()
    assert after["status"] == "received" and after["parcel"]["status"] == "received"
    assert {item["status"] for item in after["items"]} == {"awaiting_grading"}


async def test_a_second_unknown_or_mistyped_scan_says_so(client, place, settings):
    tradein = await accepted_tradein(client, place)
    number = tradein["parcel"]["tracking_number"]
    assert (await receive(client, place.grader, s10.spaced(number))).status_code == 200
    again = await receive(client, place.grader, number)
    assert again.status_code == 409 and again.json()["code"] == "already_received"
    assert "already received on 23/11/2026 at 10:00" in again.json()["detail"]

    unknown = await receive(client, place.grader, s10.make("CB", 4_242_424, "FR"))
    assert unknown.status_code == 404 and unknown.json()["code"] == "parcel_not_found"
    bad_check = await receive(client, place.grader, number[:10] + str((int(number[10]) + 3) % 10) + number[11:])
    assert bad_check.status_code == 422 and bad_check.json()["code"] == "invalid_tracking_number"
    assert "check digit" in bad_check.json()["detail"]
    for body in ({}, {"tracking_number": ""}, {"tracking_number": number, "extra": True}):
        response = await client.post("/api/v1/warehouse/receptions", headers=place.grader, json=body)
        assert response.status_code in (400, 422) and response.json()["code"] == "validation_error"

    for headers in (place.seller, place.service, place.admin, place.carrier):
        assert (await receive(client, headers, number)).status_code == 404
    assert len([mail for mail in mails(settings) if mail["Subject"].startswith("We received")]) == 1


async def test_the_sla_board_lists_pieces_by_business_days_left_overdue_first(client, place):
    clock.set_now(dt.datetime(2026, 11, 2, 10, 0))  # a Monday; 11 November is a holiday
    early = await accepted_tradein(client, place)
    assert (await receive(client, place.grader, early["parcel"]["tracking_number"])).json()["sla_due_date"] \
        == "2026-11-24"
    clock.set_now(T0)
    late = await accepted_tradein(client, place)
    await receive(client, place.grader, late["parcel"]["tracking_number"])
    waiting = await accepted_tradein(client, place)  # never shipped: not on the board

    clock.set_now(dt.datetime(2026, 11, 25, 9, 0))
    grader = bearer(await sign_in(client, "grader@example.com"))
    board = (await client.get("/api/v1/warehouse/sla", headers=grader)).json()
    assert board["total"] == 4 and board["overdue"] == 2 and board["next_cursor"] is None
    assert [(item["reference"], item["business_days_left"], item["overdue"]) for item in board["items"]] == [
        (early["reference"], -1, True), (early["reference"], -1, True),
        (late["reference"], 13, False), (late["reference"], 13, False)]
    assert {item["item_id"] for item in board["items"]} == {item["id"] for item in early["items"] + late["items"]}
    assert waiting["id"] not in {item["tradein_id"] for item in board["items"]}

    first = (await client.get("/api/v1/warehouse/sla?limit=3", headers=grader)).json()
    rest = (await client.get(f"/api/v1/warehouse/sla?limit=3&cursor={first['next_cursor']}", headers=grader)).json()
    assert [item["item_id"] for item in first["items"] + rest["items"]] == [item["item_id"] for item in board["items"]]
    assert (await client.get("/api/v1/warehouse/sla?cursor=nonsense", headers=grader)).status_code == 422

    admin = bearer(await sign_in(client, "admin@example.com"))
    assert (await client.get("/api/v1/warehouse/sla", headers=admin)).status_code == 200
    seller = bearer(await sign_in(client, "seller@example.com"))
    assert (await client.get("/api/v1/warehouse/sla", headers=seller)).status_code == 404
