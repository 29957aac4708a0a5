"""Shared set-up of the grading API tests: received trade-ins, fabric photos, hostile files, uploads."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import cv2
import httpx
import numpy as np
from support import bearer, sign_in
from tradein_helpers import Warehouse, accept, line, quote

from forever import db
from forever.grading import synthetic
from forever.settings import Settings


async def received_tradein(client: httpx.AsyncClient, place: Warehouse, *lines: dict[str, str],
                           refused_items: str = "return", seller: dict[str, str] | None = None) -> dict:
    """A trade-in whose parcel the warehouse has scanned in: its pieces await grading."""
    seller = seller or place.seller
    lines = lines or (line("SW-SS24", size="M"), line("COAT-SS16", "very_good"))
    body = await quote(client, seller, *lines)
    accepted = await accept(client, seller, body["id"], refused_items)
    assert accepted.status_code == 201, accepted.text
    received = await client.post("/api/v1/warehouse/receptions", headers=place.grader,
                                 json={"tracking_number": accepted.json()["parcel"]["tracking_number"]})
    assert received.status_code == 200, received.text
    return received.json()


async def sign_in_again(client: httpx.AsyncClient, place: Warehouse) -> None:
    """Fresh tokens for the seller, the grader and the admin after the clock moved past their 12 hours."""
    place.seller = bearer(await sign_in(client, "seller@example.com"))
    place.grader = bearer(await sign_in(client, "grader@example.com"))
    place.admin = bearer(await sign_in(client, "admin@example.com"))


def fabric_photo(seed: int = 3, *defects: synthetic.DefectSpec, tag: bool = False, family: str = "jersey",
                 size: tuple[int, int] = (640, 480)) -> bytes:
    """A small synthetic photo of fabric (JPEG), clean or with the defects asked for."""
    scene = synthetic.Scene(seed=seed, family=family, colour="navy", defects=tuple(defects), tag=tag,
                            width=size[0], height=size[1])
    return synthetic.render(scene).jpeg


def hole_photo(seed: int = 3) -> bytes:
    return fabric_photo(seed, synthetic.DefectSpec("hole", 9.0))


async def upload(client: httpx.AsyncClient, headers: dict[str, str], item_id: str, data: bytes,
                 view: str = "front", filename: str = "photo.jpg") -> httpx.Response:
    return await client.post(f"/api/v1/grading/items/{item_id}/photos", headers=headers, data={"view": view},
                             files={"photo": (filename, data, "image/jpeg")})


async def decide(client: httpx.AsyncClient, headers: dict[str, str], item_id: str, body: dict,
                 key: str | None = None) -> httpx.Response:
    extra = {"Idempotency-Key": key} if key else {}
    return await client.post(f"/api/v1/grading/items/{item_id}/decision", headers={**headers, **extra},
                             json=body)


async def stored_photo_rows() -> int:
    rows = await db.fetch("SELECT COUNT(*) AS photos FROM grading_photo")
    return rows[0]["photos"]


def stored_photo_files(settings: Settings) -> list[Path]:
    folder = settings.data_dir / "photos"
    return sorted(path for path in folder.rglob("*") if path.is_file()) if folder.exists() else []


# --- hostile files (issue #5, "Hostile photos") -------------------------------------------------------------


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    checksum = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", checksum)


def png_bomb(width: int = 20_000, height: int = 20_000) -> bytes:
    """A genuine 20000 x 20000 RGB PNG header over a tiny, highly compressed IDAT: 1.2 GB if ever decoded."""
    compressor = zlib.compressobj(9)
    row = b"\x00" * (1 + width * 3)
    idat = b"".join(compressor.compress(row) for _ in range(16)) + compressor.flush()
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b""))


def small_jpeg() -> bytes:
    image = np.full((60, 80, 3), (40, 90, 200), np.uint8)
    return cv2.imencode(".jpg", image)[1].tobytes()


def jpeg_of_60_megapixels() -> bytes:
    """A JPEG whose frame header says 10000 x 6000 (60 MP) over a tiny body: refused from its header."""
    data = bytearray(small_jpeg())
    frame = data.index(b"\xff\xc0")
    data[frame + 5:frame + 9] = struct.pack(">HH", 6_000, 10_000)
    return bytes(data)


def hostile_photos() -> dict[str, tuple[bytes, int, str]]:
    """name -> (file, expected status, expected code)."""
    jpeg = small_jpeg()
    return {
        "zero bytes": (b"", 422, "unreadable_image"),
        "truncated JPEG": (jpeg[: len(jpeg) * 2 // 3], 422, "unreadable_image"),
        "PDF named .jpg": (b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n", 415,
                           "unsupported_image"),
        "20000 x 20000 PNG bomb": (png_bomb(), 413, "photo_too_large"),
        "60 MP JPEG": (jpeg_of_60_megapixels(), 413, "photo_too_large"),
        "polyglot JPEG + ZIP": (jpeg + b"PK\x03\x04" + b"\x14\x00" * 40 + b"PK\x05\x06" + b"\x00" * 18, 415,
                                "unsupported_image"),
    }
