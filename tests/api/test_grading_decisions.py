"""Grading decisions over HTTP, on SQLite and PostgreSQL: credit at the quoted offer exactly once,
counter-offers priced with the quote's own grid and answered by the seller (or by 14 days of silence),
refusals with a return parcel, and what the experts' decisions leave behind (dashboard, passports, labelled
photos)."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from dataclasses import replace

import pytest
from grading_helpers import decide, fabric_photo, hole_photo, received_tradein, sign_in_again, upload
from support import bearer, sign_up
from tradein_helpers import T0, mails, open_warehouse

from forever import clock
from forever.grading import service as grading
from forever.jobs import run_jobs
from forever.listings import service as listings
from forever.settings import use_settings
from forever.tradein import s10

NO_SUCH_ID = "00000000-0000-0000-0000-000000000000"


@pytest.fixture
async def place(client):
    return await open_warehouse(client)


async def credit_of(client, headers) -> tuple[int, list[dict]]:
    body = (await client.get("/api/v1/me/credit", headers=headers)).json()
    return body["balance"]["amount"], body["entries"]


async def tradein_of(client, place, tradein_id) -> dict:
    response = await client.get(f"/api/v1/tradeins/{tradein_id}", headers=place.seller)
    assert response.status_code == 200, response.text
    return response.json()


async def answer(client, headers, tradein_id, item_id, decision, key=None):
    extra = {"Idempotency-Key": key} if key else {}
    return await client.post(f"/api/v1/tradeins/{tradein_id}/items/{item_id}/counter-offer",
                             headers={**headers, **extra}, json={"decision": decision})


async def test_a_piece_graded_as_declared_is_credited_at_its_offer_with_the_decision_kept(client, place,
                                                                                         settings):
    tradein = await received_tradein(client, place)
    sweatshirt, coat = tradein["items"]  # excellent for 45 EUR; very good for 116 EUR
    grader_id = (await client.get("/api/v1/me", headers=place.grader)).json()["id"]
    await client.get(f"/api/v1/grading/items/{sweatshirt['id']}", headers=place.grader)  # the clock starts
    clock.set_now(T0 + dt.timedelta(seconds=40))
    photo_id = (await upload(client, place.grader, sweatshirt["id"], fabric_photo())).json()["photo_id"]
    clock.set_now(T0 + dt.timedelta(seconds=95))

    response = await decide(client, place.grader, sweatshirt["id"], {"grade": "excellent"})
    assert response.status_code == 200, response.text
    piece = response.json()
    assert piece["status"] == "credited" and piece["grade"] == "excellent"
    assert piece["credited"] == {"amount": 4500, "currency": "EUR"}
    decision = piece["decision"]
    assert decision["outcome"] == "credited" and decision["grader_id"] == grader_id
    assert decision["photo_ids"] == [photo_id] and decision["seconds_spent"] == 95
    assert dt.datetime.fromisoformat(decision["decided_at"]) == T0.replace(tzinfo=clock.PARIS) + dt.timedelta(
        seconds=95)
    assert decision["suggestion"]["grade"] in ("excellent", "new_with_tags")
    assert decision["suggestion"]["model_version"] and 0 < decision["suggestion"]["confidence"] <= 1
    assert decision["refused"] is False and decision["reason"] is None

    balance, entries = await credit_of(client, place.seller)
    assert balance == 4500 and [entry["amount"]["amount"] for entry in entries] == [4500]
    assert entries[0]["tradein_item_id"] == sweatshirt["id"]
    subjects = [mail["Subject"] for mail in mails(settings)]
    assert "45.00 EUR credited for your Ami de Cœur Sweatshirt" in subjects
    assert (await tradein_of(client, place, tradein["id"]))["status"] == "received"  # one piece still waits

    again = await decide(client, place.grader, sweatshirt["id"], {"grade": "excellent"})
    assert again.status_code == 409 and again.json()["code"] == "not_awaiting_grading"

    # Graded above its declared condition: still the quoted offer. Every piece decided: the trade-in is
    # closed.
    above = await decide(client, place.grader, coat["id"], {"grade": "new_with_tags"})
    assert above.json()["credited"] == {"amount": 11600, "currency": "EUR"}
    after = await tradein_of(client, place, tradein["id"])
    assert after["status"] == "closed"
    assert [(item["status"], item["credited"]["amount"]) for item in after["items"]] == [("credited", 4500),
                                                                                         ("credited", 11600)]
    assert (await credit_of(client, place.seller))[0] == 16100
    # Both entered the resale shop's stock as they were credited: the shop's sweep finds nothing left.
    assert (await run_jobs())["pieces_stocked"] == 0
    assert len((await listings.list_stock()).items) == 2
    queue = (await client.get("/api/v1/grading/queue", headers=place.grader)).json()
    assert queue["items"] == []


async def test_a_retried_decision_changes_nothing_twice(client, place):
    tradein = await received_tradein(client, place)
    item_id = tradein["items"][0]["id"]
    first = await decide(client, place.grader, item_id, {"grade": "excellent"}, key="decide-1")
    retried = await decide(client, place.grader, item_id, {"grade": "excellent"}, key="decide-1")
    assert first.status_code == retried.status_code == 200
    assert retried.json() == first.json() and retried.headers["Idempotent-Replayed"] == "true"
    other = await decide(client, place.grader, item_id, {"grade": "very_good"}, key="decide-1")
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    balance, entries = await credit_of(client, place.seller)
    assert balance == 4500 and len(entries) == 1


@pytest.mark.parametrize("same_key", [False, True])
async def test_two_decisions_at_the_same_moment_credit_once(client, place, same_key):
    tradein = await received_tradein(client, place)
    item_id = tradein["items"][0]["id"]
    keys = ("both", "both") if same_key else (None, None)
    responses = await asyncio.gather(*(decide(client, place.grader, item_id, {"grade": "excellent"}, key=key)
                                       for key in keys))
    statuses = sorted(response.status_code for response in responses)
    if same_key:
        assert statuses in ([200, 200], [200, 409])  # replayed, or refused while the first one runs
    else:
        assert statuses == [200, 409]
        refused = next(response for response in responses if response.status_code == 409)
        assert refused.json()["code"] == "not_awaiting_grading"
    balance, entries = await credit_of(client, place.seller)
    assert balance == 4500 and len(entries) == 1


async def test_a_decision_is_a_grade_or_a_refusal_with_a_reason(client, place):
    tradein = await received_tradein(client, place)
    item_id = tradein["items"][0]["id"]
    for body, code in (({}, "invalid_decision"), ({"refused": True}, "invalid_decision"),
                       ({"grade": "excellent", "reason": "hole"}, "invalid_decision"),
                       ({"grade": "excellent", "refused": True, "reason": "hole"}, "invalid_decision"),
                       ({"grade": "worn"}, "validation_error"),
                       ({"refused": True, "reason": "ugly"}, "validation_error"),
                       ({"grade": "excellent", "colour": "red"}, "validation_error"),
                       ({"grade": 3}, "validation_error")):
        response = await decide(client, place.grader, item_id, body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["code"] == code, body
    unknown = await decide(client, place.grader, NO_SUCH_ID, {"grade": "excellent"})
    assert unknown.status_code == 404 and unknown.json()["code"] == "item_not_found"
    assert (await credit_of(client, place.seller))[0] == 0
    piece = (await client.get(f"/api/v1/grading/items/{item_id}", headers=place.grader)).json()
    assert piece["status"] == "awaiting_grading" and piece["decision"] is None


async def test_a_counter_offer_uses_the_quote_s_grid_and_day_and_the_seller_accepts_it(client, place,
                                                                                      settings, tmp_path):
    tradein = await received_tradein(client, place)
    sweatshirt, coat = tradein["items"]
    # Since the quote, the grid changed and a season went by: neither touches the locked offer.
    edited = tmp_path / "grid.toml"
    text = settings.pricing_grid_path.read_text()
    edited.write_text(text.replace('version = "', 'version = "edited-').replace("sweatshirts = 0.24",
                                                                                "sweatshirts = 0.12"))
    use_settings(replace(settings, pricing_grid_path=edited))
    clock.set_now(dt.datetime(2027, 1, 4, 10, 0))  # SS27: every piece one season older
    await sign_in_again(client, place)

    response = await decide(client, place.grader, sweatshirt["id"], {"grade": "very_good"})
    assert response.status_code == 200, response.text
    piece = response.json()
    assert piece["status"] == "counter_offer" and piece["grade"] == "very_good" and piece["credited"] is None
    offer = piece["counter_offer"]
    # 290 EUR x 0.24 (sweatshirts) x 0.6 (very good) x 0.80 (SS24 seen from FW26) = 33.41 -> 33 EUR
    assert offer["amount"] == {"amount": 3300, "currency": "EUR"} and offer["status"] == "open"
    assert offer["grid_version"] == "2026.1" and offer["grade"] == "very_good"
    offered_at = dt.datetime.fromisoformat(offer["offered_at"])
    assert dt.datetime.fromisoformat(offer["deadline"]) - offered_at == dt.timedelta(days=14)
    mail = mails(settings)[-1]
    assert mail["Subject"] == "A new offer for your Ami de Cœur Sweatshirt"
    assert "33.00 EUR instead of 45.00 EUR" in mail.get_body(preferencelist=("plain",)).get_content()
    assert (await credit_of(client, place.seller))[0] == 0

    await decide(client, place.grader, coat["id"], {"grade": "very_good"})
    seen = await tradein_of(client, place, tradein["id"])
    assert seen["status"] == "graded"  # every piece decided, one answer awaited
    assert seen["items"][0]["counter_offer"] == offer

    # Only its seller answers it.
    stranger = bearer(await sign_up(client, "stranger@example.com"))
    for who in (stranger, place.grader):
        assert (await answer(client, who, tradein["id"], sweatshirt["id"], "accept")).status_code == 404
    wrong_tradein = await answer(client, place.seller, NO_SUCH_ID, sweatshirt["id"], "accept")
    assert wrong_tradein.status_code == 404
    no_offer = await answer(client, place.seller, tradein["id"], coat["id"], "accept")
    assert no_offer.status_code == 404 and no_offer.json()["code"] == "counter_offer_not_found"
    assert (await client.post(f"/api/v1/tradeins/{tradein['id']}/items/{sweatshirt['id']}/counter-offer",
                              json={"decision": "accept"})).status_code == 401

    accepted = await answer(client, place.seller, tradein["id"], sweatshirt["id"], "accept", key="yes")
    assert accepted.status_code == 200, accepted.text
    item = accepted.json()
    assert item["status"] == "credited" and item["credited"] == {"amount": 3300, "currency": "EUR"}
    assert item["counter_offer"]["status"] == "accepted" and item["counter_offer"]["answered_at"]
    replayed = await answer(client, place.seller, tradein["id"], sweatshirt["id"], "accept", key="yes")
    assert replayed.status_code == 200 and replayed.json() == item
    twice = await answer(client, place.seller, tradein["id"], sweatshirt["id"], "donate")
    assert twice.status_code == 409 and twice.json()["code"] == "counter_offer_closed"
    assert (await credit_of(client, place.seller))[0] == 3300 + 11600
    assert (await tradein_of(client, place, tradein["id"]))["status"] == "closed"


@pytest.mark.parametrize("choice", ["return", "donate"])
async def test_the_seller_may_take_a_counter_offered_piece_back_or_donate_it(client, place, settings, choice):
    tradein = await received_tradein(client, place)
    item_id = tradein["items"][0]["id"]
    await decide(client, place.grader, item_id, {"grade": "very_good"})
    response = await answer(client, place.seller, tradein["id"], item_id, choice)
    assert response.status_code == 200, response.text
    item = response.json()
    assert item["status"] == {"return": "returned", "donate": "donated"}[choice]
    assert item["credited"] is None and item["counter_offer"]["status"] == item["status"]
    if choice == "return":
        number = item["return_shipment"]["tracking_number"]
        assert re.fullmatch(r"[A-Z]{2}\d{9}[A-Z]{2}", number) and s10.parse(number) == number
        assert number != tradein["parcel"]["tracking_number"]
        assert number in mails(settings)[-1].get_body(preferencelist=("plain",)).get_content()
    else:
        assert "return_shipment" not in item
    assert (await credit_of(client, place.seller))[0] == 0
    assert (await tradein_of(client, place, tradein["id"]))["items"][0] == item


async def test_fourteen_days_of_silence_accept_a_counter_offer(client, place, settings):
    tradein = await received_tradein(client, place)
    item_id = tradein["items"][0]["id"]
    await decide(client, place.grader, item_id, {"grade": "very_good"})
    clock.set_now(T0 + dt.timedelta(days=13, hours=23))
    assert (await run_jobs())["counter_offers_lapsed"] == 0

    clock.set_now(T0 + dt.timedelta(days=14, minutes=1))
    await sign_in_again(client, place)
    late = await answer(client, place.seller, tradein["id"], item_id, "return")
    assert late.status_code == 409 and late.json()["code"] == "counter_offer_closed"
    # Two runs at once (two cron hosts): the piece is credited once.
    lapsed = await asyncio.gather(grading.lapse_counter_offers(), grading.lapse_counter_offers())
    assert sorted(lapsed) == [0, 1]
    jobs = await run_jobs()
    assert jobs["counter_offers_lapsed"] == 0 and jobs["pieces_stocked"] == 0  # stocked when it lapsed
    item = (await tradein_of(client, place, tradein["id"]))["items"][0]
    assert item["status"] == "credited" and item["credited"] == {"amount": 3300, "currency": "EUR"}
    assert item["counter_offer"]["status"] == "lapsed"
    balance, entries = await credit_of(client, place.seller)
    assert balance == 3300 and len(entries) == 1
    assert mails(settings)[-1]["Subject"] == "33.00 EUR credited for your Ami de Cœur Sweatshirt"


async def test_a_refused_piece_goes_back_with_a_return_parcel_the_seller_can_follow(client, place, settings):
    tradein = await received_tradein(client, place, refused_items="return")
    item_id = tradein["items"][0]["id"]
    await upload(client, place.grader, item_id, hole_photo())
    response = await decide(client, place.grader, item_id, {"refused": True, "reason": "hole",
                                                            "note": "hole by the left cuff"})
    assert response.status_code == 200, response.text
    piece = response.json()
    assert piece["status"] == "refused" and piece["grade"] == "refused" and piece["credited"] is None
    assert piece["decision"]["reason"] == "hole" and piece["decision"]["note"] == "hole by the left cuff"
    assert piece["decision"]["refused_items"] == "return"
    assert piece["decision"]["suggestion"]["grade"] == "refused"  # the model saw it too
    number = piece["return_shipment"]["tracking_number"]
    assert s10.parse(number) == number

    seen = (await tradein_of(client, place, tradein["id"]))["items"][0]
    assert seen["status"] == "refused" and seen["refusal_reason"] == "hole"
    assert seen["return_shipment"] == {"carrier": "builtin", "tracking_number": number}
    assert "note" not in seen  # the grader's note stays at the station
    mail = mails(settings)[-1]
    assert mail["Subject"] == "We could not accept your Ami de Cœur Sweatshirt"
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert "it has a hole" in text and number in text
    assert (await credit_of(client, place.seller))[0] == 0


async def test_a_refused_piece_is_donated_when_the_seller_chose_so(client, place):
    tradein = await received_tradein(client, place, refused_items="donate")
    item_id = tradein["items"][1]["id"]
    piece = (await decide(client, place.grader, item_id, {"refused": True, "reason": "odor"})).json()
    assert piece["status"] == "refused" and piece["return_shipment"] is None
    assert piece["decision"]["refused_items"] == "donate" and piece["decision"]["suggestion"] is None


async def test_the_dashboard_compares_the_model_with_the_experts(client, place):
    tradein = await received_tradein(client, place)
    sweatshirt, coat = tradein["items"]
    await upload(client, place.grader, sweatshirt["id"], fabric_photo())  # suggests a clean grade
    await upload(client, place.grader, coat["id"], hole_photo())  # suggests refused
    await client.get(f"/api/v1/grading/items/{coat['id']}", headers=place.grader)
    clock.set_now(T0 + dt.timedelta(seconds=30))
    await decide(client, place.grader, sweatshirt["id"], {"grade": "excellent"})
    clock.set_now(T0 + dt.timedelta(seconds=50))
    await decide(client, place.grader, coat["id"], {"grade": "very_good"})

    response = await client.get("/api/v1/grading/dashboard", headers=place.admin)
    assert response.status_code == 200, response.text
    board = response.json()
    assert board["pieces_decided"] == 2 and board["with_suggestion"] == 2
    assert board["agreement_within_one"] == 1.0  # refused vs very good: one grade apart
    assert board["agreement_exact"] == 0.5  # the clean piece graded as suggested, the holed one not
    [pace] = board["graders"]
    assert pace["email"] == "grader@example.com" and pace["pieces_decided"] == 2
    assert pace["median_seconds"] == 40.0  # 30 s (first photo to decision) and 50 s (opening to decision)
    later = await client.get("/api/v1/grading/dashboard", headers=place.grader,
                             params={"since": (T0 + dt.timedelta(seconds=40)).replace(
                                 tzinfo=clock.PARIS).isoformat()})
    assert later.json()["pieces_decided"] == 1
    assert (await client.get("/api/v1/grading/dashboard", headers=place.seller)).status_code == 404


async def test_passports_and_experts_labels_come_from_the_decisions(client, place):
    tradein = await received_tradein(client, place)
    sweatshirt, coat = tradein["items"]
    front = (await upload(client, place.grader, sweatshirt["id"], fabric_photo(), "front")).json()
    await upload(client, place.grader, coat["id"], hole_photo())
    assert await grading.passport(sweatshirt["id"]) is None  # not decided yet
    await decide(client, place.grader, sweatshirt["id"], {"grade": "excellent"})
    await decide(client, place.grader, coat["id"], {"refused": True, "reason": "hole"})

    passport = await grading.passport(sweatshirt["id"])
    assert passport is not None and passport.grade == "excellent"
    assert [(photo.photo_id, photo.view, photo.width, photo.height) for photo in passport.photos] == [
        (front["photo_id"], "front", 640, 480)]
    assert await grading.passport(coat["id"]) is None and await grading.passport("nonsense") is None
    path, media_type = await grading.photo_file(front["photo_id"])
    assert media_type == "image/jpeg" and path.read_bytes() == fabric_photo()

    labelled = await grading.expert_photos()
    assert sorted((photo.grade, photo.refusal_reason) for photo in labelled) == [("excellent", None),
                                                                                 ("refused", "hole")]
    assert {photo.image for photo in labelled} == {fabric_photo(), hole_photo()}
