"""Retraining learns from the experts' final decisions: `forever grading train` reads every photo of a decided piece
from the database (SQLite and PostgreSQL) and its manifest and model card count them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from grading_helpers import fabric_photo, hole_photo, received_tradein, upload
from tradein_helpers import open_warehouse

from forever.grading.classifier import MANIFEST_FILE

FOREVER = Path(sys.executable).with_name("forever")


@pytest.fixture
async def place(client):
    return await open_warehouse(client)


async def test_training_counts_every_photo_of_a_decided_piece_and_no_other(client, place, settings, tmp_path):
    tradein = await received_tradein(client, place)
    decided, undecided = (item["id"] for item in tradein["items"])
    for seed in (1, 2):
        uploaded = await upload(client, place.grader, decided, hole_photo(seed), ("front", "back")[seed - 1])
        assert uploaded.status_code == 201, uploaded.text
    assert (await upload(client, place.grader, undecided, fabric_photo(5))).status_code == 201
    decision = await client.post(f"/api/v1/grading/items/{decided}/decision", headers=place.grader,
                                 json={"refused": True, "reason": "hole"})
    assert decision.status_code == 200, decision.text

    out = tmp_path / "model"
    env = {**os.environ, "FOREVER_DATABASE_URL": settings.database_url, "FOREVER_DATA_DIR": str(settings.data_dir)}
    trained = subprocess.run(
        [str(FOREVER), "grading", "train", "--images", "8", "--workers", "1", "--seed", "3", "--station-share", "0",
         "--out", str(out)],
        env=env, capture_output=True, text=True, timeout=600)
    assert trained.returncode == 0, trained.stderr
    assert "and 2 photos of the experts' decisions" in trained.stdout
    manifest = json.loads((out / MANIFEST_FILE).read_text())
    assert manifest["training"]["expert_photos"] == 2  # the undecided piece's photo is no label yet
    assert manifest["version"].endswith("-n10")  # 8 synthetic photos and the experts' 2
    assert "Expert decisions used: 2." in (out / "MODEL_CARD.md").read_text()
