"""Accepting a quote over HTTP, on SQLite and PostgreSQL: the trade-in, its parcel, its documents, bad input."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import re

import pypdf
import pytest
from support import bearer, sign_in, sign_up
from tradein_helpers import T0, accept, accepted_tradein, line, mails, open_warehouse, quote

from forever import clock
from forever.tradein import s10


@pytest.fixture
async def place(client):
    return await open_warehouse(client)


async def test_accepting_a_quote_makes_a_trade_in_of_its_eligible_pieces(client, place, settings):
    offer = await quote(client, place.seller, line("SW-SS24", size="M"), line("TEE-FW26"),
                        line("COAT-SS16", "very_good"), line("BOXER-SS22"))
    response = await accept(client, place.seller, offer["id"], "donate")
    assert response.status_code == 201, response.text
    tradein = response.json()

    assert {"id", "status", "refused_items", "items", "parcel", "received_at", "sla_due_date"} <= set(tradein)
    assert tradein["status"] == "awaiting_shipment"
    assert tradein["refused_items"] == "donate"
    assert tradein["received_at"] is None and tradein["sla_due_date"] is None
    eligible = [item for item in offer["items"] if item["eligible"]]
    assert [(item["line"], item["product_ref"], item["declared_condition"], item["offer"])
            for item in tradein["items"]] \
        == [(item["line"], item["product_ref"], item["condition"], item["offer"]) for item in eligible]
    for item in tradein["items"]:
        assert {"id", "line", "product_ref", "declared_condition", "offer", "status", "grade", "credited"} <= set(item)
        assert item["status"] == "awaiting_shipment" and item["grade"] is None and item["credited"] is None
    assert tradein["total_offer"] == offer["total_offer"]

    parcel = tradein["parcel"]
    assert {"tracking_number", "carrier", "status", "ship_by", "events"} <= set(parcel)
    assert re.fullmatch(r"[A-Z]{2}\d{9}[A-Z]{2}", parcel["tracking_number"])
    assert s10.parse(parcel["tracking_number"]) == parcel["tracking_number"]
    assert parcel["carrier"] == "builtin" and parcel["status"] == "label_created"
    assert parcel["ship_by"] == (T0.date() + dt.timedelta(days=30)).isoformat()
    assert [event["event"] for event in parcel["events"]] == ["label_created"]

    again = await client.get(f"/api/v1/tradeins/{tradein['id']}", headers=place.seller)
    assert again.status_code == 200 and again.json() == tradein
    assert (await client.get(f"/api/v1/quotes/{offer['id']}", headers=place.seller)).json()["status"] == "accepted"
    listed = (await client.get("/api/v1/tradeins", headers=place.seller)).json()
    assert [summary["id"] for summary in listed["items"]] == [tradein["id"]]
    assert listed["items"][0]["piece_count"] == 2 and listed["next_cursor"] is None
    assert listed["items"][0]["tracking_number"] == parcel["tracking_number"]

    (mail,) = mails(settings)
    assert mail["To"] == "seller@example.com"
    assert tradein["notifications"] == [{"kind": "accepted", "subject": mail["Subject"].strip(),
                                         "sent_at": tradein["notifications"][0]["sent_at"]}]
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert s10.spaced(parcel["tracking_number"]) in text and f"/tradeins/{tradein['id']}" in text
    attachments = {part.get_filename(): part.get_content() for part in mail.iter_attachments()}
    assert set(attachments) == {f"label-{parcel['tracking_number']}.pdf", f"deed-{tradein['reference']}.pdf"}
    for content in attachments.values():
        pdf_text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(content)).pages)
        assert parcel["tracking_number"] in pdf_text
    deed_text = "".join(page.extract_text() for page in pypdf.PdfReader(
        io.BytesIO(attachments[f"deed-{tradein['reference']}.pdf"])).pages)
    assert "SW-SS24" in deed_text and "COAT-SS16" in deed_text and "Ami de Cœur Sweatshirt" in deed_text
    assert "TEE-FW26" not in deed_text


async def test_tracking_numbers_are_distinct_and_sequential_per_parcel(client, place):
    numbers = []
    for _ in range(3):
        offer = await quote(client, place.seller, line("SW-SS24"))
        numbers.append((await accept(client, place.seller, offer["id"])).json()["parcel"]["tracking_number"])
    serials = [int(number[2:10]) for number in numbers]
    assert len(set(numbers)) == 3 and serials == sorted(serials)


async def test_the_documents_are_served_to_the_seller_and_staff_only(client, place):
    tradein = await accepted_tradein(client, place)
    number = tradein["parcel"]["tracking_number"]
    base = f"/api/v1/tradeins/{tradein['id']}"
    label = await client.get(f"{base}/label.pdf", headers=place.seller)
    assert label.status_code == 200 and label.headers["content-type"] == "application/pdf"
    assert f'filename="label-{number}.pdf"' in label.headers["content-disposition"]
    page = pypdf.PdfReader(io.BytesIO(label.content)).pages[0]
    assert (round(float(page.mediabox.width) / 72 * 25.4), round(float(page.mediabox.height) / 72 * 25.4)) == (105, 148)
    assert number in page.extract_text()
    zpl = await client.get(f"{base}/label.zpl", headers=place.grader)
    assert zpl.status_code == 200 and zpl.headers["content-type"].startswith("text/plain")
    assert zpl.text.startswith("^XA") and zpl.text.rstrip().endswith("^XZ") and f"^FD{number}^FS" in zpl.text
    deed = await client.get(f"{base}/deed.pdf", headers=place.service)
    assert deed.status_code == 200 and deed.content.startswith(b"%PDF")
    assert (await client.get(f"{base}/deed.pdf", headers=place.admin)).status_code == 200

    other = bearer(await sign_up(client, "other@example.com"))
    for headers in (other, place.store_staff, place.carrier, place.eshop):
        for path in (base, f"{base}/label.pdf", f"{base}/label.zpl", f"{base}/deed.pdf"):
            response = await client.get(path, headers=headers)
            assert response.status_code == 404, (path, response.text)
    assert (await client.get(f"{base}/label.pdf")).status_code == 401
    assert (await client.get(f"{base}/receipt.pdf", headers=place.seller)).status_code == 404
    assert (await client.get("/api/v1/tradeins/not-a-uuid", headers=place.seller)).json()["code"] == "tradein_not_found"
    assert (await client.get("/api/v1/tradeins", headers=place.grader)).status_code == 404


async def test_accepting_what_cannot_be_accepted_says_why_and_changes_nothing(client, place, settings):
    offer = await quote(client, place.seller, line("SW-SS24"))
    other = bearer(await sign_up(client, "other@example.com"))
    for headers, quote_id in ((other, offer["id"]), (place.seller, "not-a-uuid"),
                              (place.seller, "00000000-0000-4000-8000-000000000000")):
        response = await accept(client, headers, quote_id)
        assert response.status_code == 404 and response.json()["code"] == "quote_not_found"
    assert (await accept(client, place.grader, offer["id"])).status_code == 404

    refused = await quote(client, place.seller, line("TEE-FW26"), line("BOXER-SS22"), line("SW-SS24", "worn"))
    response = await accept(client, place.seller, refused["id"])
    assert response.status_code == 409 and response.json()["code"] == "nothing_to_accept"
    assert response.headers["content-type"].startswith("application/problem+json")

    for body in ({"refused_items": "keep"}, {}, {"refused_items": "return", "extra": 1}, {"refused_items": None}):
        response = await client.post(f"/api/v1/quotes/{offer['id']}/accept", headers=place.seller, json=body)
        assert response.status_code in (400, 422), body
        assert response.json()["code"] == "validation_error"

    clock.set_now(T0 + dt.timedelta(days=30, seconds=1))
    place.seller = bearer(await sign_in(client, "seller@example.com"))  # tokens last 12 hours
    response = await accept(client, place.seller, offer["id"])
    assert response.status_code == 409 and response.json()["code"] == "quote_expired"
    assert (await client.get("/api/v1/tradeins", headers=place.seller)).json()["items"] == []
    assert mails(settings) == []

    clock.set_now(T0 + dt.timedelta(days=29))
    place.seller = bearer(await sign_in(client, "seller@example.com"))
    assert (await accept(client, place.seller, offer["id"])).status_code == 201
    response = await accept(client, place.seller, offer["id"])
    assert response.status_code == 409 and response.json()["code"] == "already_accepted"
    clock.set_now(T0 + dt.timedelta(days=31))
    place.seller = bearer(await sign_in(client, "seller@example.com"))
    response = await accept(client, place.seller, offer["id"])
    assert response.status_code == 409 and response.json()["code"] == "already_accepted"
    assert len((await client.get("/api/v1/tradeins", headers=place.seller)).json()["items"]) == 1


async def test_two_accepts_at_once_make_one_trade_in(client, place, settings):
    offer = await quote(client, place.seller, line("SW-SS24"), line("COAT-SS16"))
    responses = await asyncio.gather(*(accept(client, place.seller, offer["id"]) for _ in range(4)))
    assert sorted(response.status_code for response in responses) == [201, 409, 409, 409]
    assert {response.json()["code"] for response in responses if response.status_code == 409} == {"already_accepted"}
    assert len((await client.get("/api/v1/tradeins", headers=place.seller)).json()["items"]) == 1
    assert len(mails(settings)) == 1
