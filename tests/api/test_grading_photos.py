"""The grading station's queue, photo analysis and stored photos over HTTP, on SQLite and PostgreSQL: hostile
files get the contract's codes and leave nothing behind; photos are for graders to take and for staff and the
piece's seller to see."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import pytest
from grading_helpers import (
    fabric_photo,
    hole_photo,
    hostile_photos,
    received_tradein,
    sign_in_again,
    stored_photo_files,
    stored_photo_rows,
    upload,
)
from support import bearer, sign_up
from tradein_helpers import T0, line, open_warehouse

from forever import clock, db
from forever.grading import service as grading


@pytest.fixture
async def place(client):
    return await open_warehouse(client)


async def test_the_queue_lists_pieces_awaiting_grading_earliest_sla_first_in_pages(client, place):
    first = await received_tradein(client, place)  # received Monday 23 November: due 14 December
    clock.set_now(T0 + dt.timedelta(days=1))
    await sign_in_again(client, place)
    later = await received_tradein(client, place, line("SW-SS24", "new_with_tags"))
    await upload(client, place.grader, first["items"][0]["id"], fabric_photo())

    response = await client.get("/api/v1/grading/queue", headers=place.grader)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["next_cursor"] is None
    queued = [item["item_id"] for item in body["items"]]
    assert set(queued[:2]) == {item["id"] for item in first["items"]}
    assert queued[2:] == [later["items"][0]["id"]]
    assert [item["sla_due_date"] for item in body["items"]] == ["2026-12-14", "2026-12-14", "2026-12-15"]
    sweatshirt = next(item for item in body["items"] if item["item_id"] == first["items"][0]["id"])
    assert sweatshirt["name"] == "Ami de Cœur Sweatshirt" and sweatshirt["category"] == "sweatshirts"
    assert sweatshirt["declared_condition"] == "excellent" and sweatshirt["offer"] == {"amount": 4500,
                                                                                       "currency": "EUR"}
    assert sweatshirt["tradein_id"] == first["id"] and sweatshirt["business_days_left"] == 14
    assert sweatshirt["photo_count"] == 1 and sweatshirt["size"] == "M"

    pages, cursor = [], None
    while True:
        page = (await client.get("/api/v1/grading/queue", headers=place.grader,
                                 params={"limit": 2, **({"cursor": cursor} if cursor else {})})).json()
        pages.append([item["item_id"] for item in page["items"]])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [len(page) for page in pages] == [2, 1]
    assert sum(pages, []) == [item["item_id"] for item in body["items"]]
    bad = await client.get("/api/v1/grading/queue", headers=place.grader, params={"cursor": "nonsense"})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_cursor"


async def test_the_grading_calls_are_for_graders_only(client, place):
    tradein = await received_tradein(client, place)
    item_id = tradein["items"][0]["id"]
    calls = [("GET", "/api/v1/grading/queue", {}), ("GET", f"/api/v1/grading/items/{item_id}", {}),
             ("POST", f"/api/v1/grading/items/{item_id}/decision", {"json": {"grade": "excellent"}}),
             ("POST", "/api/v1/grading/analyze",
              {"files": {"photo": ("a.jpg", fabric_photo(), "image/jpeg")}}),
             ("POST", f"/api/v1/grading/items/{item_id}/photos",
              {"data": {"view": "front"}, "files": {"photo": ("a.jpg", fabric_photo(), "image/jpeg")}}),
             ("GET", "/api/v1/grading/dashboard", {})]
    for method, path, extra in calls:
        anonymous = await client.request(method, path, **extra)
        assert anonymous.status_code == 401, path
        assert anonymous.json()["code"] == "not_authenticated"
        for who in (place.seller, place.service, place.store_staff, place.eshop):
            refused = await client.request(method, path, headers=who, **extra)
            assert refused.status_code == 404, (path, refused.text)
    assert await stored_photo_rows() == 0
    untouched = (await client.get(f"/api/v1/tradeins/{tradein['id']}", headers=place.seller)).json()
    assert {item["status"] for item in untouched["items"]} == {"awaiting_grading"}


async def test_analyze_answers_the_contract_s_analysis_and_stores_nothing(client, place, settings):
    response = await client.post("/api/v1/grading/analyze", headers=place.grader,
                                 files={"photo": ("hole.jpg", hole_photo(), "image/jpeg")})
    assert response.status_code == 200, response.text
    analysis = response.json()
    assert set(analysis) == {"width", "height", "findings", "quality", "suggested_grade", "elapsed_ms"}
    assert (analysis["width"], analysis["height"]) == (640, 480)
    assert analysis["suggested_grade"] == "refused"
    hole = max(analysis["findings"], key=lambda finding: finding["score"])
    assert hole["kind"] == "hole" and hole["score"] >= 0.5
    assert hole["severity"] in ("minor", "moderate", "severe")
    x, y, w, h = hole["bbox"]
    assert 0 <= x < x + w <= 640 and 0 <= y < y + h <= 480
    assert set(analysis["quality"]) == {"sharpness", "exposure"}

    clean = (await client.post("/api/v1/grading/analyze", headers=place.grader,
                               files={"photo": ("clean.jpg", fabric_photo(), "image/jpeg")})).json()
    assert clean["suggested_grade"] in ("excellent", "new_with_tags")
    assert [f for f in clean["findings"] if f["score"] >= 0.5] == []
    assert await stored_photo_rows() == 0 and stored_photo_files(settings) == []


@pytest.mark.parametrize("name", list(hostile_photos()))
async def test_a_hostile_photo_gets_its_code_and_leaves_nothing_behind(client, place, settings, name):
    data, status, code = hostile_photos()[name]
    tradein = await received_tradein(client, place)
    item_id = tradein["items"][0]["id"]
    analysed = await client.post("/api/v1/grading/analyze", headers=place.grader,
                                 files={"photo": ("photo.jpg", data, "image/jpeg")})
    stored = await upload(client, place.grader, item_id, data)
    for response in (analysed, stored):
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == code and response.json()["detail"]
    assert await stored_photo_rows() == 0
    assert stored_photo_files(settings) == []
    piece = (await client.get(f"/api/v1/grading/items/{item_id}", headers=place.grader)).json()
    assert piece["photos"] == [] and piece["status"] == "awaiting_grading"


async def test_an_upload_above_the_body_limit_is_a_photo_too_large(client, place, settings):
    tradein = await received_tradein(client, place)
    data = b"\xff\xd8\xff" + bytes(27 * 1024 * 1024)  # above the app's 26 MiB body limit
    response = await upload(client, place.grader, tradein["items"][0]["id"], data)
    assert response.status_code == 413 and response.json()["code"] == "photo_too_large"
    just_above = b"\xff\xd8\xff" + bytes(25_000_000)  # inside the body limit, above the photo cap
    response = await client.post("/api/v1/grading/analyze", headers=place.grader,
                                 files={"photo": ("big.jpg", just_above, "image/jpeg")})
    assert response.status_code == 413 and response.json()["code"] == "photo_too_large"
    assert await stored_photo_rows() == 0 and stored_photo_files(settings) == []


async def test_photos_are_stored_with_their_analysis_and_shown_on_the_piece(client, place, settings):
    tradein = await received_tradein(client, place)
    item_id = tradein["items"][0]["id"]
    front = await upload(client, place.grader, item_id, fabric_photo(), "front")
    assert front.status_code == 201, front.text
    added = front.json()
    assert added["view"] == "front" and added["analysis"]["width"] == 640
    assert added["retake"] == [] and added["model_version"]
    back = await upload(client, place.grader, item_id, hole_photo(), "back")
    assert back.status_code == 201, back.text

    piece = (await client.get(f"/api/v1/grading/items/{item_id}", headers=place.grader)).json()
    assert piece["declared_condition"] == "excellent"
    assert piece["offer"] == {"amount": 4500, "currency": "EUR"}
    assert piece["catalog"]["retail_price"] == {"amount": 29000, "currency": "EUR"}
    assert piece["catalog"]["category"] == "sweatshirts" and piece["size"] == "M"
    assert [photo["view"] for photo in piece["photos"]] == ["front", "back"]
    assert piece["photos"][0]["photo_id"] == added["photo_id"]
    assert piece["photos"][1]["analysis"]["suggested_grade"] == "refused"
    # The worst finding across photos drives the suggestion.
    suggestion = piece["suggestion"]
    assert suggestion["grade"] == "refused" and suggestion["refusal_reason"] == "hole"
    assert 0 < suggestion["confidence"] <= 1 and suggestion["photo_count"] == 2
    assert any(reason.startswith("back: ") and "hole" in reason for reason in suggestion["reasons"])
    assert len(stored_photo_files(settings)) == 2 and await stored_photo_rows() == 2

    bad_view = await upload(client, place.grader, item_id, fabric_photo(), "sideways")
    assert bad_view.status_code == 422 and bad_view.json()["code"] == "invalid_view"
    unknown = await upload(client, place.grader, "00000000-0000-0000-0000-000000000000", fabric_photo())
    assert unknown.status_code == 404 and unknown.json()["code"] == "item_not_found"
    assert await stored_photo_rows() == 2


async def test_a_photo_uploaded_again_with_its_key_is_stored_once_and_not_analysed_again(client, place,
                                                                                           settings):
    """A retry after a lost answer gets the first answer, without a second analysis; the same key with another
    photo, view or piece is refused; a new key is a new photo."""
    tradein = await received_tradein(client, place)
    item_id, other_item = (item["id"] for item in tradein["items"])
    keyed = {**place.grader, "Idempotency-Key": "station-1"}
    first = await upload(client, keyed, item_id, fabric_photo(), filename="a.jpg")
    assert first.status_code == 201, first.text
    photo_id = first.json()["photo_id"]
    async with grading._analysis_slot():  # held: an upload that analysed its photo would wait here
        again = await asyncio.wait_for(upload(client, keyed, item_id, fabric_photo(), filename="b.jpg"), 10)
        fresh = asyncio.create_task(upload(client, {**place.grader, "Idempotency-Key": "station-2"}, item_id,
                                           fabric_photo()))
        await asyncio.sleep(0.2)
        assert not fresh.done()  # a photo not seen before does wait for the analysis
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.content == first.content
    for data, view, piece in ((hole_photo(), "front", item_id), (fabric_photo(), "back", item_id),
                              (fabric_photo(), "front", other_item)):
        reused = await upload(client, keyed, piece, data, view)
        assert reused.status_code == 422 and reused.json()["code"] == "idempotency_key_reused", view
    second = await fresh
    assert second.status_code == 201, second.text
    second_id = second.json()["photo_id"]
    assert "Idempotent-Replayed" not in second.headers and second_id != photo_id
    rows = await db.fetch("SELECT id FROM grading_photo ORDER BY id")
    assert [str(row["id"]) for row in rows] == [photo_id, second_id]
    assert sorted(path.stem for path in stored_photo_files(settings)) == sorted([photo_id, second_id])
    shown = (await client.get(f"/api/v1/grading/items/{item_id}", headers=place.grader)).json()
    assert [photo["photo_id"] for photo in shown["photos"]] == [photo_id, second_id]


async def test_the_api_documents_the_upload_s_idempotency_key(client):
    upload_photo = (await client.get("/schema/openapi.json")).json()["paths"][
        "/api/v1/grading/items/{item_id}/photos"]["post"]
    assert {"name": "Idempotency-Key", "in": "header"}.items() <= next(
        parameter for parameter in upload_photo["parameters"] if parameter["in"] == "header").items()
    assert "request_in_progress" in upload_photo["responses"]["409"]["description"]


async def test_without_photos_the_suggestion_says_so(client, place):
    tradein = await received_tradein(client, place)
    item_id = tradein["items"][1]["id"]
    piece = (await client.get(f"/api/v1/grading/items/{item_id}", headers=place.grader)).json()
    assert piece["photos"] == []
    assert piece["suggestion"]["grade"] is None and piece["suggestion"]["confidence"] is None
    assert piece["suggestion"]["reasons"] == ["No photo yet: the analysis suggests a grade once the piece is "
                                              "photographed."]


async def test_a_photo_is_served_to_staff_and_its_seller_only(client, place):
    tradein = await received_tradein(client, place)
    item_id = tradein["items"][0]["id"]
    data = fabric_photo()
    photo_id = (await upload(client, place.grader, item_id, data)).json()["photo_id"]
    url = f"/api/v1/grading/photos/{photo_id}"
    for who in (place.grader, place.admin, place.service, place.seller):
        response = await client.get(url, headers=who)
        assert response.status_code == 200, response.text
        assert response.content == data and response.headers["content-type"] == "image/jpeg"
    stranger = bearer(await sign_up(client, "stranger@example.com"))
    for who in (stranger, place.store_staff, place.eshop):
        assert (await client.get(url, headers=who)).status_code == 404
    assert (await client.get(url)).status_code == 401
    missing = await client.get("/api/v1/grading/photos/not-a-photo", headers=place.grader)
    assert missing.status_code == 404 and missing.json()["code"] == "photo_not_found"
    # A seller cannot photograph their own piece.
    assert (await upload(client, place.seller, item_id, data)).status_code == 404


async def test_the_seller_sees_the_photos_of_a_decided_piece_on_their_trade_in(client, place):
    tradein = await received_tradein(client, place, refused_items="donate")
    item_id = tradein["items"][0]["id"]
    photo_id = (await upload(client, place.grader, item_id, hole_photo())).json()["photo_id"]
    before = (await client.get(f"/api/v1/tradeins/{tradein['id']}", headers=place.seller)).json()
    assert "photos" not in before["items"][0]  # shown once the experts have decided
    decided = await client.post(f"/api/v1/grading/items/{item_id}/decision", headers=place.grader,
                                json={"refused": True, "reason": "hole"})
    assert decided.status_code == 200, decided.text
    after = (await client.get(f"/api/v1/tradeins/{tradein['id']}", headers=place.seller)).json()
    piece = after["items"][0]
    assert piece["status"] == "refused" and piece["refusal_reason"] == "hole"
    assert [photo["photo_id"] for photo in piece["photos"]] == [photo_id]
    assert piece["photos"][0]["url"] == f"/api/v1/grading/photos/{photo_id}"
    assert any(finding["kind"] == "hole" for finding in piece["photos"][0]["findings"])
    assert "return_shipment" not in piece  # donated, as the seller chose
