"""`kill -9` of the server while 64 clients redeem vouchers with Idempotency-Keys and graders upload photos,
then a restart.

Redemptions: every acknowledged one is in the ledger under its own request, nothing is half-written (the
ledger's invariants hold), balances are what was issued minus what was redeemed, and retrying the requests
that got no answer (same key, same body) redeems each exactly once. Photos: every acknowledged one has its row
and its file with the sha256 of what was sent, no row lacks its file, and what an interrupted upload left (a
`.part` file, a file without its row) is swept once old enough, while stored photos stay.
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
import itertools
import os
import time
from dataclasses import dataclass

import httpx
from fault_server import FaultServer, engine_name
from photo_load import (
    Station,
    fabric_photo,
    photo_files,
    photo_rows,
    piece_awaiting_grading,
    sha256_of,
    upload,
)
from voucher_load import (
    VOUCHER_CENTS,
    VOUCHERS,
    Attempt,
    attempt,
    checked_by_cli,
    checked_ledger,
    let_takeover_delay_pass,
    redemptions_by_reference,
    retry,
    send,
    store_with_vouchers,
    voucher_balances,
)

from forever.grading import service as grading

CLIENTS = 64
GRADERS = 2
PHOTOS_BEFORE_KILL = 2  # acknowledged uploads before the redemptions start
REDEMPTIONS_BEFORE_KILL = 200  # acknowledged redemptions before the kill
REPLAYED = 200  # acknowledged redemptions retried after the restart


@dataclass
class Upload:
    photo: bytes
    status: int | None = None
    answer: dict | None = None


async def redeem_until_killed(server: FaultServer, channel_key: str, codes: list[str],
                              attempts: list[Attempt], enough: asyncio.Event) -> None:
    """CLIENTS clients redeem EUR 0.01 at a time until the server dies; `enough` once REDEMPTIONS_BEFORE_KILL
    are acknowledged."""
    acknowledged = 0

    async def client_loop(number: int) -> None:
        nonlocal acknowledged
        async with httpx.AsyncClient(base_url=server.url, timeout=30,
                                     headers={"Authorization": f"Bearer {channel_key}"}) as client:
            for sequence in itertools.count():
                sent = attempt(number, sequence, codes)
                attempts.append(sent)
                try:
                    response = await send(client, sent)
                except httpx.TransportError:
                    return  # killed: this one, and anything after it, got no answer
                sent.status, sent.answer = response.status_code, response.json()
                acknowledged += sent.status == 201
                if acknowledged >= REDEMPTIONS_BEFORE_KILL:
                    enough.set()

    await asyncio.gather(*(client_loop(number) for number in range(CLIENTS)))


async def upload_until_killed(server: FaultServer, station: Station, uploads: list[Upload],
                              enough: asyncio.Event) -> None:
    """GRADERS graders upload distinct photos of the piece until the server dies; `enough` once
    PHOTOS_BEFORE_KILL are acknowledged."""
    seeds = itertools.count(1)

    async def grader() -> None:
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
            while True:
                this = Upload(await asyncio.to_thread(fabric_photo, next(seeds)))
                uploads.append(this)
                try:
                    response = await upload(client, station, this.photo)
                except httpx.TransportError:
                    return
                this.status, this.answer = response.status_code, response.json()
                if sum(1 for u in uploads if u.status == 201) >= PHOTOS_BEFORE_KILL:
                    enough.set()

    await asyncio.gather(*(grader() for _ in range(GRADERS)))


async def redemptions_survived(server: FaultServer, channel_key: str, attempts: list[Attempt]) -> str:
    """Check the redemptions after the restart; what happened to them, in words."""
    answered = [a for a in attempts if a.status is not None]
    acknowledged = [a for a in answered if a.status == 201]
    unanswered = [a for a in attempts if a.status is None]
    # No error before the kill.
    assert answered == acknowledged, collections.Counter(a.status for a in answered)
    after_restart = await checked_ledger()
    ledger = await redemptions_by_reference()
    for sent in acknowledged:  # every acknowledged redemption is there, under its own request
        assert ledger.get(sent.key) == [sent.answer["redemption_id"]], sent.key
    assert all(len(ids) == 1 for ids in ledger.values())
    committed_unanswered = [a for a in unanswered if a.key in ledger]
    assert set(ledger) == {a.key for a in acknowledged + committed_unanswered}
    for account, (cached, issued_minus_redeemed) in (await voucher_balances()).items():
        assert cached == issued_minus_redeemed, account
    assert sum(cached for cached, _ in (await voucher_balances()).values()) == \
        VOUCHERS * VOUCHER_CENTS - len(ledger)

    # Retried at once: a request that was done answers as it did; one the dead process had claimed is
    # "in progress" (409) until the takeover delay passes; one never claimed is done now.
    first = await retry(server, channel_key, unanswered)
    statuses = collections.Counter(response.status_code for response in first)
    for sent, response in zip(unanswered, first, strict=True):
        if sent.key in ledger:
            assert response.status_code == 201 and response.headers.get("Idempotent-Replayed") == "true"
            assert response.json()["redemption_id"] == ledger[sent.key][0]
        else:
            assert response.status_code in (201, 409), response.text
            assert response.status_code == 201 or response.json()["code"] == "request_in_progress"
    assert await let_takeover_delay_pass() == statuses[409]
    second = await retry(server, channel_key, unanswered)
    assert {response.status_code for response in second} == {201}
    replayed = acknowledged[::max(1, len(acknowledged) // REPLAYED)]
    for sent, response in zip(replayed, await retry(server, channel_key, replayed), strict=True):
        assert response.status_code == 201 and response.json() == sent.answer

    ledger = await redemptions_by_reference()
    assert sorted(ledger) == sorted(a.key for a in attempts)  # every request redeemed, each exactly once
    assert all(len(ids) == 1 for ids in ledger.values())
    for sent, response in zip(unanswered, second, strict=True):
        assert ledger[sent.key] == [response.json()["redemption_id"]]
    assert sum(cached for cached, _ in (await voucher_balances()).values()) == \
        VOUCHERS * VOUCHER_CENTS - len(attempts)
    in_the_end = checked_by_cli(server)
    done_on_retry = len(unanswered) - len(committed_unanswered) - statuses[409]
    return (f"redemptions ({CLIENTS} clients): {len(attempts)} sent, {len(acknowledged)} acknowledged (all "
            f"in the ledger), {len(unanswered)} unanswered: {len(committed_unanswered)} committed before the "
            f"kill (replayed on retry), {statuses[409]} claimed by the dead process (409 "
            f"request_in_progress, taken over after the delay), {done_on_retry} done on the first retry; {len(replayed)} "
            f"acknowledged ones replayed identically; ledger after the restart: {after_restart}; "
            f"`forever ledger check` after the retries: {in_the_end}")


async def photos_survived(server: FaultServer, station: Station, uploads: list[Upload]) -> str:
    """Check the photos after the restart, then sweep; what happened to them, in words."""
    answered = [u for u in uploads if u.status is not None]
    assert {u.status for u in answered} == {201}, collections.Counter(u.status for u in answered)
    data_dir = server.settings.data_dir
    rows = await photo_rows()
    for u in answered:  # its row, its file, the bytes that were sent
        row = rows[u.answer["photo_id"]]
        assert row["sha256"] == hashlib.sha256(u.photo).hexdigest() == sha256_of(data_dir / row["path"])
    for row in rows.values():  # no row without its whole file
        assert sha256_of(data_dir / row["path"]) == row["sha256"], row["path"]
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        served = await client.get(f"/api/v1/grading/photos/{answered[0].answer['photo_id']}",
                                  headers={"Authorization": f"Bearer {station.grader_token}"})
    assert served.status_code == 200 and served.content == answered[0].photo

    stored = {data_dir / row["path"] for row in rows.values()}
    leftovers = [path for path in photo_files(server.settings) if path not in stored]
    assert await grading.sweep_photo_files() == 0  # too young to tell from an upload under way
    long_ago = time.time() - grading.ORPHAN_AFTER.total_seconds() - 60
    for path in photo_files(server.settings):  # every file, stored photos too: the sweep must spare those
        os.utime(path, (long_ago, long_ago))
    assert await grading.sweep_photo_files() == len(leftovers)
    assert set(photo_files(server.settings)) == stored
    names = ", ".join(path.name for path in leftovers) or "none"
    return (f"photos ({GRADERS} graders): {len(uploads)} sent, {len(answered)} acknowledged (row, file and "
            f"sha256 all there), {len(rows) - len(answered)} more stored unanswered, "
            f"{len(uploads) - len(rows)} not stored; {len(leftovers)} leftover files ({names}), swept once "
            f"{grading.ORPHAN_AFTER} old")


async def test_kill_9_during_redemptions_and_uploads_loses_and_doubles_nothing(server: FaultServer) -> None:
    channel_key, codes = await store_with_vouchers()
    station = await piece_awaiting_grading()
    server.start()
    attempts: list[Attempt] = []
    uploads: list[Upload] = []
    photos_enough, redemptions_enough = asyncio.Event(), asyncio.Event()
    started = time.monotonic()
    graders = asyncio.create_task(upload_until_killed(server, station, uploads, photos_enough))
    await asyncio.wait_for(photos_enough.wait(), 120)
    clients = asyncio.create_task(redeem_until_killed(server, channel_key, codes, attempts,
                                                      redemptions_enough))
    await asyncio.wait_for(redemptions_enough.wait(), 60)
    server.kill()
    killed_after = time.monotonic() - started
    await asyncio.wait_for(asyncio.gather(graders, clients), 60)
    restart_seconds = server.start()

    redemptions = await redemptions_survived(server, channel_key, attempts)
    photos = await photos_survived(server, station, uploads)
    print(f"\n[{engine_name(server.settings)}] kill -9 {killed_after:.1f} s into the load, restart in "
          f"{restart_seconds:.1f} s.\n  {redemptions}\n  {photos}")
