"""A full photo disk (a 2 MB tmpfs mounted as the photo folder, mostly taken by another file): uploads are
stored until there is no room, then answered 507 problem+json `storage_full`, leaving no file, no part of one
and no row; the server stays up, and stores photos again as soon as room is made."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fault_server import FaultServer, engine_name
from photo_load import fabric_photo, photo_files, photo_rows, piece_awaiting_grading, sha256_of, upload
from small_disk import fill, small_disk

from forever.settings import Settings

DISK_SIZE = "2m"
ROOM_LEFT = 100 * 1024  # bytes left free beside the other file: a few photos of about 25 KB


@pytest.fixture
def small_photo_disk(bound_database: Settings) -> Iterator[Path]:
    """The data directory's photo folder on a tmpfs of DISK_SIZE, unmounted afterwards."""
    with small_disk(bound_database.data_dir / "photos", DISK_SIZE) as folder:
        yield folder


async def test_a_full_photo_disk_is_a_clean_507_and_changes_nothing(server: FaultServer,
                                                                     small_photo_disk: Path) -> None:
    station = await piece_awaiting_grading()
    other = fill(small_photo_disk, ROOM_LEFT)
    server.start()
    stored, refused = [], None
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
        for seed in range(1, 30):
            photo = fabric_photo(seed)
            rows_before, files_before = await photo_rows(), photo_files(server.settings)
            free_before = shutil.disk_usage(small_photo_disk).free
            response = await upload(client, station, photo)
            if response.status_code != 201:
                refused = response
                break
            stored.append((response.json()["photo_id"], photo))
        assert refused is not None, "the disk never filled up"
        assert refused.status_code == 507
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["code"] == "storage_full"
        assert len(photo) > free_before  # refused because it did not fit, not before
        assert await photo_rows() == rows_before  # no row
        assert photo_files(server.settings) == files_before  # no file, no part of one
        again = await upload(client, station, photo)
        assert again.status_code == 507 and await photo_rows() == rows_before
        assert (await client.get("/health")).status_code == 200

        other.unlink()  # room made: the same server stores photos again
        after = await upload(client, station, photo)
    assert after.status_code == 201, after.text
    rows = await photo_rows()
    assert len(rows) == len(stored) + 1
    for photo_id, photo in [*stored, (after.json()["photo_id"], photo)]:
        row = rows[photo_id]
        assert sha256_of(server.settings.data_dir / row["path"]) == row["sha256"]
        assert row["sha256"] == hashlib.sha256(photo).hexdigest()
    print(f"\n[{engine_name(server.settings)}] full photo disk (tmpfs {DISK_SIZE}, {ROOM_LEFT // 1024} KB "
          f"left free): {len(stored)} photos stored, then a {len(photo) // 1024} KB photo with "
          f"{free_before // 1024} KB free: {refused.status_code} {refused.json()['code']} twice, rows and "
          f"files unchanged, /health 200; stored (201) as soon as room was made, without a restart")
