"""A piece in one grader's hand at a time, over HTTP, on SQLite and PostgreSQL: the grader who opens a piece
has it until they decide, release it or leave it idle 30 minutes; the others see who has it and are told 409
`piece_taken` when they open, photograph or decide it; an admin can release it; two graders opening one piece
at the same moment: exactly one gets it."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from grading_helpers import decide, fabric_photo, received_tradein, stored_photo_rows, upload
from support import PASSWORD, bearer, hidden, sign_in, signed_in_browser
from tradein_helpers import T0, line, open_warehouse

from forever import clock
from forever.accounts import service as accounts

OTHER_GRADER = "grader2@example.com"
IDLE = dt.timedelta(minutes=30)


def moment(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


@pytest.fixture
async def place(client):
    return await open_warehouse(client)


@pytest.fixture
async def other(client, place) -> dict[str, str]:
    """A second grader at the next station."""
    await accounts.create_staff(OTHER_GRADER, PASSWORD, "grader")
    return bearer(await sign_in(client, OTHER_GRADER))


async def open_piece(client, headers, item_id):
    return await client.get(f"/api/v1/grading/items/{item_id}", headers=headers)


async def release(client, headers, item_id):
    return await client.post(f"/api/v1/grading/items/{item_id}/release", headers=headers)


async def queued(client, headers) -> dict[str, dict]:
    items = (await client.get("/api/v1/grading/queue", headers=headers)).json()["items"]
    return {item["item_id"]: item for item in items}


def assert_taken(response, by: str = "grader@example.com") -> None:
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "piece_taken"
    assert by in response.json()["detail"]


async def test_the_grader_who_opens_a_piece_has_it_until_they_decide(client, place, other):
    tradein = await received_tradein(client, place)
    sweatshirt, coat = tradein["items"]
    grader_id = (await client.get("/api/v1/me", headers=place.grader)).json()["id"]

    opened = await open_piece(client, place.grader, sweatshirt["id"])
    assert opened.status_code == 200
    assert opened.json()["taken_by"]["grader_id"] == grader_id
    assert moment(opened.json()["taken_by"]["taken_at"]) == T0.replace(tzinfo=clock.PARIS)
    assert moment(opened.json()["taken_by"]["free_at"]) == T0.replace(tzinfo=clock.PARIS) + IDLE

    queue = await queued(client, other)
    assert queue[sweatshirt["id"]]["taken_by"]["name"] == "grader@example.com"
    assert queue[coat["id"]]["taken_by"] is None

    assert_taken(await open_piece(client, other, sweatshirt["id"]))
    rows = await stored_photo_rows()
    assert_taken(await upload(client, other, sweatshirt["id"], fabric_photo()))
    assert await stored_photo_rows() == rows  # nothing stored
    assert_taken(await decide(client, other, sweatshirt["id"], {"grade": "excellent"}))
    assert (await open_piece(client, place.grader, sweatshirt["id"])).json()["status"] == "awaiting_grading"

    # The other grader takes the next piece meanwhile: each has their own.
    assert (await open_piece(client, other, coat["id"])).status_code == 200
    assert_taken(await decide(client, place.grader, coat["id"], {"grade": "very_good"}), by=OTHER_GRADER)

    decided = await decide(client, place.grader, sweatshirt["id"], {"grade": "excellent"})
    assert decided.status_code == 200 and decided.json()["status"] == "credited"
    assert decided.json().get("taken_by") is None
    after = await open_piece(client, other, sweatshirt["id"])  # decided: anyone may look at it
    assert after.status_code == 200 and after.json().get("taken_by") is None
    assert sweatshirt["id"] not in await queued(client, other)


async def test_a_piece_is_released_by_its_grader_or_an_admin(client, place, other):
    tradein = await received_tradein(client, place)
    item_id = tradein["items"][0]["id"]

    assert (await release(client, place.grader, item_id)).status_code == 200  # nobody had it: nothing changes
    await open_piece(client, place.grader, item_id)
    assert_taken(await release(client, other, item_id))
    released = await release(client, place.grader, item_id)
    assert released.status_code == 200 and released.json().get("taken_by") is None
    assert (await queued(client, other))[item_id]["taken_by"] is None

    assert (await open_piece(client, other, item_id)).status_code == 200
    assert_taken(await open_piece(client, place.grader, item_id), by=OTHER_GRADER)
    by_admin = await release(client, place.admin, item_id)
    assert by_admin.status_code == 200 and by_admin.json().get("taken_by") is None
    assert (await open_piece(client, place.grader, item_id)).status_code == 200

    for stranger in (place.seller, place.service, place.store_staff):
        assert (await release(client, stranger, item_id)).status_code == 404
    unknown = await release(client, place.grader, "00000000-0000-0000-0000-000000000000")
    assert unknown.status_code == 404 and unknown.json()["code"] == "item_not_found"


async def test_a_piece_left_idle_30_minutes_is_free_again(client, place, other):
    tradein = await received_tradein(client, place)
    item_id = tradein["items"][0]["id"]
    start = T0 + dt.timedelta(hours=2)  # within the sign-ins' 12 hours
    clock.set_now(start)
    await open_piece(client, place.grader, item_id)

    clock.set_now(start + dt.timedelta(minutes=29))
    assert_taken(await open_piece(client, other, item_id))
    assert (await upload(client, place.grader, item_id, fabric_photo())).status_code == 201  # still at work

    clock.set_now(start + dt.timedelta(minutes=58))  # 29 minutes after the photo
    assert_taken(await open_piece(client, other, item_id))
    clock.set_now(start + dt.timedelta(minutes=59, seconds=1))  # 30 idle minutes
    assert (await queued(client, other))[item_id]["taken_by"] is None
    taken = await open_piece(client, other, item_id)
    assert taken.status_code == 200 and taken.json()["taken_by"]["name"] == OTHER_GRADER
    now = clock.now()
    assert moment(taken.json()["taken_by"]["taken_at"]) == now
    assert moment(taken.json()["taken_by"]["free_at"]) == now + IDLE
    assert_taken(await decide(client, place.grader, item_id, {"grade": "excellent"}), by=OTHER_GRADER)


@pytest.mark.parametrize("round_", range(3))
async def test_two_graders_opening_one_piece_at_once_exactly_one_gets_it(client, place, other, round_):
    tradein = await received_tradein(client, place, line("SW-SS24", size="M"))
    item_id = tradein["items"][0]["id"]
    first, second = await asyncio.gather(open_piece(client, place.grader, item_id),
                                         open_piece(client, other, item_id))
    statuses = sorted([first.status_code, second.status_code])
    assert statuses == [200, 409], (first.text, second.text)
    loser = first if first.status_code == 409 else second
    assert loser.json()["code"] == "piece_taken"
    winner = (first if first.status_code == 200 else second).json()["taken_by"]["grader_id"]
    holders = (await queued(client, place.grader))[item_id]["taken_by"]
    assert holders["grader_id"] == winner

    # And two decisions at once by the two graders on a piece neither opened: one decides, once.
    fresh = (await received_tradein(client, place, line("SW-SS24", size="M")))["items"][0]["id"]
    answers = await asyncio.gather(decide(client, place.grader, fresh, {"grade": "excellent"}),
                                   decide(client, other, fresh, {"grade": "excellent"}))
    assert sorted(answer.status_code for answer in answers) == [200, 409], [a.text for a in answers]
    credit = (await client.get("/api/v1/me/credit", headers=place.seller)).json()
    assert credit["balance"]["amount"] == 4500 and len(credit["entries"]) == 1


async def test_the_api_documents_piece_taken(client):
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    for path, method in (("/api/v1/grading/items/{item_id}", "get"),
                         ("/api/v1/grading/items/{item_id}/photos", "post"),
                         ("/api/v1/grading/items/{item_id}/decision", "post"),
                         ("/api/v1/grading/items/{item_id}/release", "post")):
        conflict = paths[path][method]["responses"]["409"]
        assert "piece_taken" in conflict["description"], path
        assert "application/problem+json" in conflict["content"]


# --- the pages ----------------------------------------------------------------------------------------------

STATION = "/warehouse/grading"


async def test_the_station_pages_say_who_has_a_piece_and_let_it_go(client, place, other):
    tradein = await received_tradein(client, place)
    sweatshirt, coat = tradein["items"]
    async with (signed_in_browser(client, "grader@example.com") as mine,
                signed_in_browser(client, OTHER_GRADER) as theirs,
                signed_in_browser(client, "admin@example.com") as admin):
        page = await mine.get(f"{STATION}/{sweatshirt['id']}")
        assert page.status_code == 200, page.text
        assert 'id="release-form"' in page.text and 'id="grade-form"' in page.text

        queue = await theirs.get(STATION)
        assert "With grader@example.com" in queue.text
        assert f'href="{STATION}/{coat["id"]}" data-key="N"' in queue.text  # the first free piece
        assert "With you" in (await mine.get(STATION)).text

        seen = await theirs.get(f"{STATION}/{sweatshirt['id']}")
        assert seen.status_code == 409
        assert "With grader@example.com" in seen.text
        for form in ('id="grade-form"', 'id="refuse-form"', 'id="photo-form"', 'id="release-form"'):
            assert form not in seen.text, form
        refused = await theirs.post(f"{STATION}/{sweatshirt['id']}/decision",
                                    data={"grade": "excellent", "form_key": hidden(page.text, "form_key")})
        assert refused.status_code == 409 and "grader@example.com" in refused.text
        # N from the coat goes past the sweatshirt, held by the other grader: back to the coat's queue.
        assert (await theirs.get(f"{STATION}/{coat['id']}")).status_code == 200
        onwards = await theirs.get(f"{STATION}/{coat['id']}/next")
        assert onwards.status_code == 303 and onwards.headers["location"] == STATION

        board = await admin.get(f"{STATION}/dashboard")
        assert board.status_code == 200 and f'action="{STATION}/{sweatshirt["id"]}/release"' in board.text
        assert "with grader@example.com" in board.text and "with grader2@example.com" in board.text
        graders_board = (await mine.get(f"{STATION}/dashboard")).text
        assert "back in the queue" not in graders_board.split('id="in-hand"')[1]  # graders cannot release

        not_theirs = await theirs.post(f"{STATION}/{sweatshirt['id']}/release")
        assert not_theirs.status_code == 409
        let_go = await mine.post(f"{STATION}/{sweatshirt['id']}/release")
        assert let_go.status_code == 303
        assert let_go.headers["location"] == f"{STATION}?released={sweatshirt['id']}"
        assert "Put back in the queue" in (await mine.get(let_go.headers["location"])).text
        assert (await theirs.get(f"{STATION}/{sweatshirt['id']}")).status_code == 200

        by_admin = await admin.post(f"{STATION}/{coat['id']}/release")
        assert by_admin.status_code == 303 and by_admin.headers["location"].startswith(f"{STATION}/dashboard")
        assert (await mine.get(f"{STATION}/{coat['id']}")).status_code == 200
