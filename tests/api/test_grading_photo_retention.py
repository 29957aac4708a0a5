"""The station's photos under the retention job, on SQLite and PostgreSQL: a piece that left without being
credited (refused, or counter-offered then asked back or donated) loses its photos, files and rows, 90 days
after that; a credited piece keeps them for its passport; running the job again changes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from grading_helpers import (
    decide,
    fabric_photo,
    hole_photo,
    received_tradein,
    sign_in_again,
    stored_photo_files,
    upload,
)
from tradein_helpers import T0, line, open_warehouse

from forever import clock, db
from forever.accounts import privacy
from forever.grading import service as grading
from forever.jobs import run_jobs

DAY = dt.timedelta(days=1)


@pytest.fixture
async def place(client):
    return await open_warehouse(client)


def photo_actions(run) -> list[tuple[str, str]]:
    return [(action.subject, action.reason) for action in run.actions
            if action.action == "delete_grading_photos"]


async def photo_rows(item_id: str) -> int:
    rows = await db.fetch("SELECT COUNT(*) AS photos FROM grading_photo WHERE item = {}", item_id)
    return rows[0]["photos"]


async def photographed(client, place, item_id: str, photo: bytes) -> None:
    for view in ("front", "care_label"):
        assert (await upload(client, place.grader, item_id, photo, view)).status_code == 201


async def test_photos_of_pieces_that_left_uncredited_go_90_days_later(client, place, settings):
    clock.set_now(T0)
    first = await received_tradein(client, place)  # refused pieces go back
    credited, refused = (item["id"] for item in first["items"])
    second = await received_tradein(client, place, line("SW-SS24", size="S"), line("SW-SS24", size="M"),
                                    line("SW-SS24", size="L"))
    donated, returned, accepted = (item["id"] for item in second["items"])
    for item_id in (credited, donated, returned, accepted):
        await photographed(client, place, item_id, fabric_photo())
    await photographed(client, place, refused, hole_photo())
    assert (await decide(client, place.grader, credited, {"grade": "excellent"})).json()["status"] \
        == "credited"
    refusal = await decide(client, place.grader, refused, {"refused": True, "reason": "hole"})
    assert refusal.status_code == 200
    for item_id in (donated, returned, accepted):
        assert (await decide(client, place.grader, item_id, {"grade": "very_good"})).json()["status"] == \
            "counter_offer"
    clock.set_now(T0 + DAY)
    await sign_in_again(client, place)
    for item_id, choice in ((donated, "donate"), (returned, "return"), (accepted, "accept")):
        answered = await client.post(f"/api/v1/tradeins/{second['id']}/items/{item_id}/counter-offer",
                                     headers=place.seller, json={"decision": choice})
        assert answered.status_code == 200, answered.text
    seen = (await client.get(f"/api/v1/tradeins/{first['id']}", headers=place.seller)).json()
    assert len(next(item for item in seen["items"] if item["id"] == refused)["photos"]) == 2
    files = {item_id: [path for path in stored_photo_files(settings) if item_id in str(path)]
             for item_id in (credited, refused, donated, returned, accepted)}
    assert all(len(found) == 2 for found in files.values())

    clock.set_now(T0 + 90 * DAY - dt.timedelta(minutes=1))
    assert photo_actions(await privacy.retention(dry_run=True)) == []
    clock.set_now(T0 + 90 * DAY + dt.timedelta(hours=1))
    assert photo_actions(await privacy.retention(dry_run=True)) == [
        (refused, "refused on 2026-11-23, photos kept 90 days")]

    clock.set_now(T0 + 92 * DAY)
    listed = photo_actions(await privacy.retention(dry_run=True))
    assert listed[0][0] == refused  # oldest first; the two answers came at the same moment
    assert sorted(subject for subject, _ in listed[1:]) == sorted([donated, returned])
    assert ({reason for _, reason in listed[1:]}
            == {"donated on 2026-11-24, photos kept 90 days", "returned on 2026-11-24, photos kept 90 days"})
    assert await photo_rows(refused) == 2  # a dry run deletes nothing

    assert (await run_jobs())["privacy_retention_actions"] == 3
    for gone in (refused, donated, returned):
        assert await photo_rows(gone) == 0
        assert not any(path.exists() for path in files[gone])
        assert not files[gone][0].parent.exists()  # the piece's folder too
    for kept in (credited, accepted):
        assert await photo_rows(kept) == 2
        assert all(path.exists() for path in files[kept])
        passport = await grading.passport(kept)
        assert passport is not None and len(passport.photos) == 2

    # Once done, nothing is left to do, and doing it again deletes nothing.
    assert photo_actions(await privacy.retention()) == []
    assert await grading.forget_photos(refused, clock.now()) == 0
    assert await grading.forget_photos(credited, clock.now()) == 0  # credited: never
    assert await photo_rows(credited) == 2

    # The seller's trade-in still says why the piece was refused; the photos are no longer shown.
    await sign_in_again(client, place)
    seen = (await client.get(f"/api/v1/tradeins/{first['id']}", headers=place.seller)).json()
    coat = next(item for item in seen["items"] if item["id"] == refused)
    assert coat["refusal_reason"] == "hole" and coat.get("photos", []) == []


async def test_a_piece_refused_within_90_days_keeps_its_photos(client, place, settings):
    tradein = await received_tradein(client, place)
    item_id = tradein["items"][1]["id"]
    await photographed(client, place, item_id, hole_photo())
    await decide(client, place.grader, item_id, {"refused": True, "reason": "hole"})
    clock.set_now(T0 + 60 * DAY)
    assert await grading.forget_photos(item_id, clock.now()) == 0
    assert photo_actions(await privacy.retention()) == []
    assert await photo_rows(item_id) == 2 and len(stored_photo_files(settings)) == 2
