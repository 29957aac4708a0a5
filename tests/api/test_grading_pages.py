"""The grading station's pages and the seller's counter-offer buttons over HTTP, on SQLite and PostgreSQL:
photos as files (whole pages, or the station's fragment), decisions that lead to the next piece and move
credit once, CSRF on every form, wrong roles told 404, the dashboard's periods."""

from __future__ import annotations

import re

import pytest
from grading_helpers import (
    decide,
    fabric_photo,
    hole_photo,
    received_tradein,
    stored_photo_files,
    stored_photo_rows,
)
from support import hidden, sign_up, signed_in_browser
from tradein_helpers import line, open_warehouse

from forever.grading import synthetic

STATION = "/warehouse/grading"


@pytest.fixture
async def place(client):
    return await open_warehouse(client)


def photo_form(data: bytes, view: str = "front") -> dict:
    return {"data": {"view": view}, "files": {"photo": ("photo.jpg", data, "image/jpeg")}}


async def credit_balance(client, headers) -> int:
    return (await client.get("/api/v1/me/credit", headers=headers)).json()["balance"]["amount"]


async def status_of_piece(client, place, item_id) -> str:
    return (await client.get(f"/api/v1/grading/items/{item_id}", headers=place.grader)).json()["status"]


async def test_a_grader_photographs_and_grades_pieces_through_the_station_forms(client, place):
    tradein = await received_tradein(client, place)
    sweatshirt, coat = tradein["items"]
    async with signed_in_browser(client, "grader@example.com") as grader:
        queue = await grader.get(STATION)
        assert queue.status_code == 200
        listed = (await client.get("/api/v1/grading/queue", headers=place.grader)).json()["items"]
        order = [item["item_id"] for item in listed]
        assert sorted(order, key=queue.text.index) == order  # earliest SLA first (here the same: then by id)
        assert "15 business days left" in queue.text and "Declared Excellent" in queue.text

        page = await grader.get(f"{STATION}/{sweatshirt['id']}")
        assert page.status_code == 200
        for shown in ("Ami de Cœur Sweatshirt", "€45", "€290", "SS24 · Spring-Summer 2024", "Sweatshirts",
                      'data-key="1"', 'data-key="N"', 'data-reason-key="H"', 'data-shot-key="F"',
                      'accept="image/*"', 'capture="environment"', "No photo yet."):
            assert shown in page.text, shown

        # Without script: the file form, then back to the piece.
        sent = await grader.post(f"{STATION}/{sweatshirt['id']}/photos", **photo_form(fabric_photo()))
        assert sent.status_code == 303
        assert sent.headers["location"] == f"{STATION}/{sweatshirt['id']}#shot-front"
        # The station's script: the views and the suggestion alone, the hole boxed as a defect.
        fragment = await grader.post(f"{STATION}/{sweatshirt['id']}/photos", headers={"hx-request": "true"},
                                     **photo_form(hole_photo(), "back"))
        assert fragment.status_code == 201 and "<html" not in fragment.text
        assert 'id="shots"' in fragment.text and 'id="suggestion"' in fragment.text
        assert 'class="finding finding--defect" data-kind="hole"' in fragment.text
        assert re.search(r'<p class="suggestion__grade">Refused · Hole', fragment.text)
        assert 'value="hole" data-reason-key="H" checked' not in fragment.text  # the forms are not in it

        piece = (await client.get(f"/api/v1/grading/items/{sweatshirt['id']}", headers=place.grader)).json()
        photo_ids = [photo["photo_id"] for photo in piece["photos"]]
        page = await grader.get(f"{STATION}/{sweatshirt['id']}")
        assert all(f"/grading/photos/{photo_id}" in page.text for photo_id in photo_ids)
        assert 'value="hole" data-reason-key="H" checked' in page.text  # R, Enter: the suggested reason
        image = await grader.get(f"/grading/photos/{photo_ids[0]}")
        assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"

        # A grade sends the grader straight to the next piece; the same form sent again changes nothing.
        form = {"grade": "excellent", "form_key": hidden(page.text, "form_key")}
        decided = await grader.post(f"{STATION}/{sweatshirt['id']}/decision", data=form)
        assert decided.status_code == 303
        assert decided.headers["location"] == f"{STATION}/{coat['id']}?decided={sweatshirt['id']}"
        again = await grader.post(f"{STATION}/{sweatshirt['id']}/decision", data=form)
        assert again.status_code == 303 and again.headers["location"] == decided.headers["location"]
        assert await credit_balance(client, place.seller) == 4500
        late = await grader.post(f"{STATION}/{sweatshirt['id']}/decision",
                                 data={"grade": "very_good", "form_key": "another"})
        assert late.status_code == 409 and "not awaiting grading" in late.text
        next_page = await grader.get(decided.headers["location"])
        assert "Done: Ami de Cœur Sweatshirt" in next_page.text and "Excellent, credited" in next_page.text

        # A refusal needs a reason; with one, the queue is empty, so back to it.
        no_reason = await grader.post(f"{STATION}/{coat['id']}/decision", data={"refused": "true"})
        assert no_reason.status_code == 422 and "refuse the piece with a reason" in no_reason.text
        unknown = await grader.post(f"{STATION}/{coat['id']}/decision", data={"grade": "like_new"})
        assert unknown.status_code == 422
        assert await status_of_piece(client, place, coat["id"]) == "awaiting_grading"
        refused = await grader.post(f"{STATION}/{coat['id']}/decision",
                                    data={"refused": "true", "reason": "odor", "note": "smoke"})
        assert refused.status_code == 303 and refused.headers["location"] == f"{STATION}?decided={coat['id']}"
        assert "No piece is awaiting grading" in (await grader.get(refused.headers["location"])).text
        decided_page = await grader.get(f"{STATION}/{coat['id']}")
        assert "Refused: odour" in decided_page.text and 'id="grade-form"' not in decided_page.text
    coat_piece = (await client.get(f"/api/v1/grading/items/{coat['id']}", headers=place.grader)).json()
    assert coat_piece["decision"]["reason"] == "odor" and coat_piece["decision"]["note"] == "smoke"


async def test_next_skips_a_piece_and_comes_back_round(client, place):
    first, second = (await received_tradein(client, place, line("SW-SS24"), line("COAT-SS16")))["items"]
    async with signed_in_browser(client, "grader@example.com") as grader:
        skipped = await grader.get(f"{STATION}/{first['id']}/next")
        assert skipped.status_code == 303 and skipped.headers["location"] == f"{STATION}/{second['id']}"
        round_again = await grader.get(f"{STATION}/{second['id']}/next")
        assert round_again.headers["location"] == f"{STATION}/{first['id']}"
        await decide(client, place.grader, second["id"], {"grade": "very_good"})
        alone = await grader.get(f"{STATION}/{first['id']}/next")
        assert alone.headers["location"] == STATION  # no other piece


async def test_refused_photos_say_why_and_leave_nothing(client, place, settings):
    item_id = (await received_tradein(client, place))["items"][0]["id"]
    pdf = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
    async with signed_in_browser(client, "grader@example.com") as grader:
        page = await grader.post(f"{STATION}/{item_id}/photos", **photo_form(pdf))
        assert page.status_code == 415 and "<html" in page.text
        assert "not a photo the station reads" in page.text
        fragment = await grader.post(f"{STATION}/{item_id}/photos", headers={"hx-request": "true"},
                                     **photo_form(b""))
        assert fragment.status_code == 422 and "could not be read" in fragment.text
        assert "<html" not in fragment.text
        wrong_view = await grader.post(f"{STATION}/{item_id}/photos", **photo_form(fabric_photo(), "sleeve"))
        assert wrong_view.status_code == 422 and "Choose which view" in wrong_view.text
        no_file = await grader.post(f"{STATION}/{item_id}/photos", data={"view": "front"},
                                    files={"photo": ("", b"", "application/octet-stream")})  # no file chosen
        assert no_file.status_code == 422 and "Choose a photo first" in no_file.text
        unknown_piece = await grader.post(f"{STATION}/00000000-0000-0000-0000-000000000000/photos",
                                          **photo_form(fabric_photo()))
        assert unknown_piece.status_code == 404
    assert await stored_photo_rows() == 0 and stored_photo_files(settings) == []


def photo_form_key(page: str) -> str:
    """The photo form's own key (the decision forms have theirs)."""
    return hidden(page[page.index('id="photo-form"'):], "form_key")


def keyed_photo_form(data: bytes, view: str, key: str) -> dict:
    form = photo_form(data, view)
    form["data"]["form_key"] = key
    return form


async def test_the_photo_form_sent_twice_stores_one_photo(client, place, settings):
    item_id = (await received_tradein(client, place))["items"][0]["id"]
    async with signed_in_browser(client, "grader@example.com") as grader:
        page = (await grader.get(f"{STATION}/{item_id}")).text
        key = photo_form_key(page)
        assert key != hidden(page[page.index('id="grade-form"'):], "form_key")
        form = keyed_photo_form(fabric_photo(), "front", key)
        first, second = [await grader.post(f"{STATION}/{item_id}/photos", **form) for _ in range(2)]
        assert first.status_code == second.status_code == 303
        assert second.headers["location"] == first.headers["location"] == f"{STATION}/{item_id}#shot-front"
        assert await stored_photo_rows() == 1 and len(stored_photo_files(settings)) == 1

        # The same key with another photo is not that form again: refused, nothing stored.
        reused = await grader.post(f"{STATION}/{item_id}/photos",
                                   **keyed_photo_form(hole_photo(), "back", key))
        assert reused.status_code == 422 and "already used" in reused.text
        assert await stored_photo_rows() == 1
        # The page after a photo has a fresh key: the next photo goes in.
        fresh = photo_form_key((await grader.get(first.headers["location"])).text)
        assert fresh != key
        following = await grader.post(f"{STATION}/{item_id}/photos",
                                      **keyed_photo_form(hole_photo(), "back", fresh))
        assert following.status_code == 303
    assert await stored_photo_rows() == 2 and len(stored_photo_files(settings)) == 2


async def test_station_forms_need_their_csrf_token_and_the_grader_role(client, place, settings):
    tradein = await received_tradein(client, place)
    item_id = tradein["items"][0]["id"]
    async with signed_in_browser(client, "grader@example.com") as grader:
        del grader.headers["x-csrftoken"]
        forged = await grader.post(f"{STATION}/{item_id}/decision", data={"grade": "excellent"})
        assert forged.status_code == 403
        forged_photo = await grader.post(f"{STATION}/{item_id}/photos", **photo_form(fabric_photo()))
        assert forged_photo.status_code == 403
        token = grader.cookies["csrftoken"]
        in_form = await grader.post(f"{STATION}/{item_id}/photos",
                                    data={"view": "front", "_csrf_token": token},
                                    files={"photo": ("photo.jpg", fabric_photo(), "image/jpeg")})
        assert in_form.status_code == 303  # the token inside the multipart form, as a browser sends it
    assert await status_of_piece(client, place, item_id) == "awaiting_grading"
    assert await stored_photo_rows() == 1
    photo_id = (await client.get(f"/api/v1/grading/items/{item_id}", headers=place.grader)).json()[
        "photos"][0]["photo_id"]

    async with signed_in_browser(client, "seller@example.com") as seller:
        for path in (STATION, f"{STATION}/{item_id}", f"{STATION}/{item_id}/next", f"{STATION}/dashboard"):
            assert (await seller.get(path)).status_code == 404, path
        decided = await seller.post(f"{STATION}/{item_id}/decision", data={"grade": "excellent"})
        assert decided.status_code == 404
        # Its seller sees the piece's photos; nobody else does.
        assert (await seller.get(f"/grading/photos/{photo_id}")).status_code == 200
    await sign_up(client, "stranger@example.com")
    async with signed_in_browser(client, "stranger@example.com") as stranger:
        assert (await stranger.get(f"/grading/photos/{photo_id}")).status_code == 404
    async with signed_in_browser(client, "admin@example.com") as admin:
        assert (await admin.get(STATION)).status_code == 404
        assert (await admin.get(f"{STATION}/dashboard")).status_code == 200
    anonymous = await client.get(f"{STATION}/{item_id}", headers={"accept": "text/html"})
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/signin?next=")
    assert await status_of_piece(client, place, item_id) == "awaiting_grading"


async def test_the_dashboard_shows_agreement_and_pace_over_a_period(client, place):
    sweatshirt, coat = (await received_tradein(client, place))["items"]
    for item, photo in ((sweatshirt, fabric_photo()), (coat, hole_photo())):
        await client.post(f"/api/v1/grading/items/{item['id']}/photos", headers=place.grader,
                          data={"view": "front"}, files={"photo": ("p.jpg", photo, "image/jpeg")})
    await decide(client, place.grader, sweatshirt["id"], {"grade": "excellent"})  # as suggested
    await decide(client, place.grader, coat["id"], {"grade": "very_good"})  # suggested refused: one apart
    async with signed_in_browser(client, "grader@example.com") as grader:
        board = await grader.get(f"{STATION}/dashboard?period=7")
        assert board.status_code == 200
        figures = {name: re.search(rf'id="{name}">([^<]*)<', board.text).group(1)
                   for name in ("pieces-decided", "agreement-exact", "agreement-within-one")}
        assert figures == {"pieces-decided": "2", "agreement-exact": "50%", "agreement-within-one": "100%"}
        assert "grader@example.com" in board.text and 'aria-current="page">7 days' in board.text
        assert "Decisions since 17 November 2026" in board.text  # 7 days back from Monday 23 November
        assert 'id="pieces-decided">2<' in (await grader.get(f"{STATION}/dashboard?since=2026-11-23")).text
        later = await grader.get(f"{STATION}/dashboard?since=2026-11-24")
        assert 'id="pieces-decided">0<' in later.text and "No piece was decided" in later.text
        bad = await grader.get(f"{STATION}/dashboard?since=23/11/2026")
        assert bad.status_code == 422 and "Enter a date such as" in bad.text


async def graded_below_declared(client, place) -> tuple[dict, dict, dict]:
    """A trade-in whose sweatshirt (declared excellent) was graded very good, and whose coat was refused."""
    tradein = await received_tradein(client, place)
    sweatshirt, coat = tradein["items"]
    await client.post(f"/api/v1/grading/items/{coat['id']}/photos", headers=place.grader,
                      data={"view": "front"}, files={"photo": ("p.jpg", hole_photo(), "image/jpeg")})
    assert (await decide(client, place.grader, sweatshirt["id"], {"grade": "very_good"})).status_code == 200
    refused = await decide(client, place.grader, coat["id"], {"refused": True, "reason": "hole"})
    assert refused.status_code == 200
    return tradein, sweatshirt, coat


async def test_the_seller_answers_a_counter_offer_on_the_trade_in_page(client, place):
    tradein, sweatshirt, coat = await graded_below_declared(client, place)
    path = f"/tradeins/{tradein['id']}"
    answer_path = f"{path}/items/{sweatshirt['id']}/counter-offer"
    async with signed_in_browser(client, "seller@example.com") as seller:
        page = await seller.get(path)
        assert page.status_code == 200
        assert "Our experts graded it <strong>Very good</strong> rather than Excellent" in page.text
        assert "worth <span class=\"counter-offer__amount\">€33</span> instead of €45" in page.text
        assert "Accept €33" in page.text and "Send it back to me" in page.text and "Donate it" in page.text
        assert "It has a hole." in page.text and "We are sending it back to you free of charge" in page.text
        assert 'class="finding finding--defect" data-kind="hole"' in page.text  # the refused coat's photo

        del seller.headers["x-csrftoken"]
        assert (await seller.post(answer_path, data={"decision": "accept"})).status_code == 403
        seller.headers["x-csrftoken"] = seller.cookies["csrftoken"]
        unknown = await seller.post(answer_path, data={"decision": "keep"})
        assert unknown.status_code == 422 and "ask for the piece back" in unknown.text
        assert await credit_balance(client, place.seller) == 0

        form = {"decision": "accept", "form_key": hidden(page.text, "form_key")}
        accepted = await seller.post(answer_path, data=form)
        assert accepted.status_code == 303
        assert accepted.headers["location"] == f"{path}?answered={sweatshirt['id']}#piece-1"
        assert (await seller.post(answer_path, data=form)).status_code == 303  # the same form: once
        assert await credit_balance(client, place.seller) == 3300
        after = await seller.get(accepted.headers["location"])
        assert "Thank you: your answer is recorded." in after.text and "You accepted it" in after.text
        assert "€33 credited" in after.text and "Accept €33" not in after.text
        closed = await seller.post(answer_path, data={"decision": "donate", "form_key": "other"})
        assert closed.status_code == 409 and "already settled" in closed.text
    assert await credit_balance(client, place.seller) == 3300

    await sign_up(client, "stranger@example.com")
    async with signed_in_browser(client, "stranger@example.com") as stranger:
        assert (await stranger.get(path)).status_code == 404
        assert (await stranger.post(answer_path, data={"decision": "accept"})).status_code == 404
    async with signed_in_browser(client, "grader@example.com") as grader:
        assert (await grader.post(answer_path, data={"decision": "accept"})).status_code == 404


async def test_a_piece_asked_back_shows_its_return_parcel(client, place):
    tradein, sweatshirt, _ = await graded_below_declared(client, place)
    async with signed_in_browser(client, "seller@example.com") as seller:
        answered = await seller.post(f"/tradeins/{tradein['id']}/items/{sweatshirt['id']}/counter-offer",
                                     data={"decision": "return"})
        assert answered.status_code == 303
        page = (await seller.get(answered.headers["location"])).text
    item = (await client.get(f"/api/v1/tradeins/{tradein['id']}", headers=place.seller)).json()["items"][0]
    number = item["return_shipment"]["tracking_number"]
    assert "You asked for it back" in page and f'data-number="{number}"' in page
    assert await credit_balance(client, place.seller) == 0


async def test_a_dark_photo_asks_for_a_retake(client, place):
    item_id = (await received_tradein(client, place))["items"][0]["id"]
    dark = synthetic.render(synthetic.Scene(seed=22, family="fleece", colour="grey_marl", exposure=0.01,
                                            width=640, height=480)).jpeg
    async with signed_in_browser(client, "grader@example.com") as grader:
        fragment = await grader.post(f"{STATION}/{item_id}/photos", headers={"hx-request": "true"},
                                     **photo_form(dark, "care_label"))
        assert fragment.status_code == 201
        assert re.search(r'class="retake" role="alert" data-view="care_label">Take it again: '
                         r'this photo is\s+too dark', fragment.text)
        fine = await grader.post(f"{STATION}/{item_id}/photos", headers={"hx-request": "true"},
                                 **photo_form(fabric_photo(), "care_label"))
        assert 'class="retake"' not in fine.text  # the latest photo of the view counts
