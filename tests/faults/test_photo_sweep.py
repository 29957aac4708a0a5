"""The sweep of the photo store: what interrupted uploads leave (a `.part` file, a photo whose row was never
written) goes once older than ORPHAN_AFTER; stored photos, young files and files not of the store's naming
stay."""

from __future__ import annotations

import hashlib
import os
import time
import uuid

from photo_load import fabric_photo, photo_files, piece_awaiting_grading, sha256_of

from forever.accounts import service as accounts
from forever.grading import service as grading
from forever.settings import Settings


async def test_the_sweep_removes_only_old_leftovers_of_interrupted_uploads(bound_database: Settings) -> None:
    settings = bound_database
    station = await piece_awaiting_grading()
    grader = await accounts.authenticate(station.grader_token)
    photo = fabric_photo(1)
    stored = await grading.add_photo(grader, station.item_id, "front", photo)
    (stored_path,) = photo_files(settings)
    piece_folder = stored_path.parent
    cut_short = piece_folder / f"{uuid.uuid4()}.jpg.part"
    without_row = piece_folder / f"{uuid.uuid4()}.jpg"
    young = piece_folder / f"{uuid.uuid4()}.jpg"
    not_ours = [settings.data_dir / "photos" / "2026" / "11" / "item-1-front.jpg", piece_folder / "notes.txt"]
    for path in (cut_short, without_row, young, *not_ours):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\xff\xd8 cut short")
    long_ago = time.time() - grading.ORPHAN_AFTER.total_seconds() - 60
    for path in (stored_path, cut_short, without_row, *not_ours):
        os.utime(path, (long_ago, long_ago))

    assert await grading.sweep_photo_files() == 2
    assert set(photo_files(settings)) == {stored_path, young, *not_ours}
    assert (await grading.photo_file(stored.photo_id))[0] == stored_path
    assert sha256_of(stored_path) == hashlib.sha256(photo).hexdigest()
    assert await grading.sweep_photo_files() == 0  # again: nothing more to do
