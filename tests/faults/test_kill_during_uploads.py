"""`kill -9` of the server while graders upload photos of a piece, then a restart: every acknowledged photo has
its row and its file with the sha256 of what was sent, no row lacks its file, and what an interrupted upload
left behind (a `.part` file, a file without its row) is swept by `forever jobs run` once old enough, while
young files (maybe an upload under way) and every stored photo stay."""

from __future__ import annotations

import asyncio
import collections
import hashlib
import itertools
import os
import re
import time
from dataclasses import dataclass

import httpx
from fault_server import FaultServer, engine_name
from photo_load import Station, fabric_photo, photo_files, photo_rows, piece_awaiting_grading, sha256_of, upload

from forever.grading.service import ORPHAN_AFTER

UPLOADERS = 4
KILL_AFTER = 5  # acknowledged photos before the kill


@dataclass
class Sent:
    photo: bytes
    status: int | None = None
    answer: dict | None = None


async def upload_until_killed(server: FaultServer, station: Station) -> list[Sent]:
    sent: list[Sent] = []
    seeds = itertools.count(1)
    acknowledged = asyncio.Event()

    async def uploader() -> None:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            while True:
                this = Sent(await asyncio.to_thread(fabric_photo, next(seeds)))
                sent.append(this)
                try:
                    response = await upload(client, station, this.photo)
                except httpx.TransportError:
                    return  # killed
                this.status, this.answer = response.status_code, response.json()
                if sum(1 for s in sent if s.status == 201) >= KILL_AFTER:
                    acknowledged.set()

    uploaders = [asyncio.create_task(uploader()) for _ in range(UPLOADERS)]
    await asyncio.wait_for(acknowledged.wait(), 120)
    server.kill()
    await asyncio.wait_for(asyncio.gather(*uploaders), 30)
    return sent


def swept(server: FaultServer) -> int:
    ran = server.cli("jobs", "run")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    return int(re.search(r"^photo_files_swept: (\d+)$", ran.stdout, re.MULTILINE).group(1))


async def test_kill_9_during_photo_uploads_keeps_every_acknowledged_photo_whole(server: FaultServer) -> None:
    station = await piece_awaiting_grading()
    server.start()
    started = time.monotonic()
    sent = await upload_until_killed(server, station)
    load_seconds = time.monotonic() - started
    acknowledged = [s for s in sent if s.status is not None]
    assert {s.status for s in acknowledged} == {201}, collections.Counter(s.status for s in acknowledged)
    restart_seconds = server.start()

    data_dir = server.settings.data_dir
    rows = await photo_rows()
    for s in acknowledged:  # its row, its file, the bytes that were sent; and served again
        row = rows[s.answer["photo_id"]]
        assert row["sha256"] == hashlib.sha256(s.photo).hexdigest() == sha256_of(data_dir / row["path"])
    for row in rows.values():  # no row without its whole file
        assert sha256_of(data_dir / row["path"]) == row["sha256"], row["path"]
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        served = await client.get(f"/api/v1/grading/photos/{acknowledged[0].answer['photo_id']}",
                                  headers={"Authorization": f"Bearer {station.grader_token}"})
    assert served.status_code == 200 and served.content == acknowledged[0].photo

    stored = {data_dir / row["path"] for row in rows.values()}
    leftovers = [path for path in photo_files(server.settings) if path not in stored]
    assert swept(server) == 0  # too young to tell from an upload under way
    assert set(photo_files(server.settings)) == stored | set(leftovers)
    long_ago = time.time() - ORPHAN_AFTER.total_seconds() - 60
    for path in photo_files(server.settings):  # every file, stored photos too: the sweep must spare those
        os.utime(path, (long_ago, long_ago))
    assert swept(server) == len(leftovers)
    assert set(photo_files(server.settings)) == stored
    for row in rows.values():
        assert sha256_of(data_dir / row["path"]) == row["sha256"]
    print(f"\n[{engine_name(server.settings)}] kill -9 during photo uploads ({UPLOADERS} graders): {len(sent)} "
          f"uploads in {load_seconds:.2f} s, {len(acknowledged)} acknowledged (row + file + sha256 all there), "
          f"{len(rows) - len(acknowledged)} more committed unanswered, {len(sent) - len(rows)} lost unanswered; "
          f"{len(leftovers)} leftover files ({', '.join(p.name for p in leftovers) or 'none'}) swept once "
          f"{ORPHAN_AFTER} old; restart {restart_seconds:.2f} s")
