"""Photo intake (CONTRACT.md "Grading" upload errors, issue #5 "Hostile photos"): every hostile file gets its
clear 4xx code from the header alone, nothing is stored, memory stays bounded; EXIF orientation is applied."""

import io
import json
import os
import struct
import subprocess
import sys
import textwrap
import tracemalloc
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageOps

from forever.errors import InvalidInput, PayloadTooLarge, UnsupportedMedia
from forever.grading import intake

HOSTILE_PEAK_BYTES = 4_000_000  # what checking a hostile file may allocate at most (Python and numpy)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def png_bomb(width: int = 20_000, height: int = 20_000) -> bytes:
    """A real 20000 x 20000 RGB PNG header over a highly compressible IDAT (the first rows): ~12 KB on disk,
    1.2 GB once decoded."""
    compressor = zlib.compressobj(9)
    row = b"\x00" * (1 + width * 3)
    idat = b"".join(compressor.compress(row) for _ in range(64)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def small_jpeg(width: int = 80, height: int = 60) -> bytes:
    image = np.zeros((height, width, 3), np.uint8)
    image[:, : width // 2] = (40, 90, 200)
    return cv2.imencode(".jpg", image)[1].tobytes()


def _jpeg_comment(text: bytes) -> bytes:
    return b"\xff\xfe" + struct.pack(">H", len(text) + 2) + text


def jpeg_claiming(width: int, height: int) -> bytes:
    """A tiny JPEG whose frame header claims another size (a 60 MP photo in 700 bytes)."""
    data = bytearray(small_jpeg())
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def hostile_files() -> dict[str, tuple[bytes, type, str]]:
    jpeg = small_jpeg()
    return {
        "zero bytes": (b"", InvalidInput, "unreadable_image"),
        "truncated JPEG": (jpeg[: len(jpeg) * 2 // 3], InvalidInput, "unreadable_image"),
        "JPEG cut inside its header": (jpeg[:40], InvalidInput, "unreadable_image"),
        "PDF named photo.jpg": (
            b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n",
            UnsupportedMedia,
            "unsupported_image",
        ),
        "GIF": (b"GIF89a" + b"\x00" * 64, UnsupportedMedia, "unsupported_image"),
        "20000 x 20000 PNG bomb": (png_bomb(), PayloadTooLarge, "photo_too_large"),
        "60 MP JPEG": (jpeg_claiming(10_000, 6_000), PayloadTooLarge, "photo_too_large"),
        "polyglot JPEG + ZIP": (
            jpeg + b"PK\x03\x04" + b"\x14\x00" * 40 + b"PK\x05\x06" + b"\x00" * 18,
            UnsupportedMedia,
            "unsupported_image",
        ),
        "polyglot PDF in a JPEG comment": (
            jpeg[:2] + _jpeg_comment(b"%PDF-1.7 1 0 obj <<>> endobj") + jpeg[2:],
            UnsupportedMedia,
            "unsupported_image",
        ),
        "polyglot HTML after a PNG": (
            cv2.imencode(".png", np.zeros((8, 8, 3), np.uint8))[1].tobytes()
            + b"<html><script>alert(1)</script></html>",
            UnsupportedMedia,
            "unsupported_image",
        ),
        "truncated WebP": (
            cv2.imencode(".webp", np.zeros((32, 32, 3), np.uint8))[1].tobytes()[:-12],
            InvalidInput,
            "unreadable_image",
        ),
        "PNG without image data": (
            b"\x89PNG\r\n\x1a\n"
            + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0))
            + _png_chunk(b"IEND", b""),
            InvalidInput,
            "unreadable_image",
        ),
        "JPEG with garbage image data": (
            jpeg[:200] + bytes(range(256)) * 4,
            InvalidInput,
            "unreadable_image",
        ),
    }


@pytest.mark.parametrize("name", list(hostile_files()))
def test_each_hostile_file_gets_its_code_from_the_header(name):
    data, error, code = hostile_files()[name]
    with pytest.raises(error) as raised:
        intake.read_header(data)
    assert raised.value.code == code
    assert raised.value.detail


def test_more_than_25_million_bytes_is_too_large_before_anything_is_read():
    data = b"\xff\xd8\xff" + bytes(intake.MAX_UPLOAD_BYTES)
    with pytest.raises(PayloadTooLarge) as raised:
        intake.read_header(data)
    assert raised.value.code == "photo_too_large"


def test_exactly_50_megapixels_passes_the_header_check_and_one_more_row_does_not():
    assert intake.read_header(jpeg_claiming(10_000, 5_000)).width == 10_000
    with pytest.raises(PayloadTooLarge):
        intake.read_header(jpeg_claiming(10_000, 5_001))


@pytest.mark.parametrize("extension", [".jpg", ".png", ".webp"])
def test_allowed_formats_are_read_by_their_content(extension):
    image = np.zeros((30, 50, 3), np.uint8)
    header = intake.read_header(cv2.imencode(extension, image)[1].tobytes())
    assert (header.width, header.height) == (50, 30)
    assert header.format == {".jpg": "jpeg", ".png": "png", ".webp": "webp"}[extension]


def test_checking_hostile_files_allocates_almost_nothing():
    files = [data for data, _, _ in hostile_files().values()]
    tracemalloc.start()
    try:
        for data in files:
            with pytest.raises((InvalidInput, PayloadTooLarge, UnsupportedMedia)):
                intake.read_header(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < HOSTILE_PEAK_BYTES


def test_the_whole_analysis_refuses_hostile_files_with_bounded_memory_and_stores_nothing(tmp_path):
    """In a fresh process (so its peak resident memory is this test's own), from an empty working folder."""
    files = tmp_path / "files"
    files.mkdir()
    for i, (name, (data, _, code)) in enumerate(hostile_files().items()):
        (files / f"{i:02d}.bin").write_bytes(data)
        (files / f"{i:02d}.code").write_text(code)
    workdir = tmp_path / "work"
    workdir.mkdir()
    script = textwrap.dedent(f"""
        import json, pathlib, resource
        from forever.errors import DomainError
        from forever.grading.analysis import examine
        from forever.grading.classifier import default_model
        default_model()
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        codes = {{}}
        for path in sorted(pathlib.Path({str(files)!r}).glob("*.bin")):
            try:
                examine(path.read_bytes())
                codes[path.stem] = "accepted"
            except DomainError as exc:
                codes[path.stem] = exc.code
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps({{"codes": codes, "grown_kib": after - before}}))
    """)
    env = {**os.environ, "FOREVER_DATA_DIR": str(workdir / "data")}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    expected = {path.stem: path.read_text() for path in files.glob("*.code")}
    assert report["codes"] == expected
    assert report["grown_kib"] < 40 * 1024  # a decoded bomb would be 1.2 GB
    assert list(workdir.iterdir()) == []  # nothing written anywhere under the working folder


# --- EXIF orientation ---------------------------------------------------------------------------------------


def _asymmetric_image() -> np.ndarray:
    image = np.zeros((40, 60, 3), np.uint8)
    image[2:10, 3:20] = (255, 0, 0)
    image[25:38, 45:58] = (0, 255, 0)
    return image


def _with_orientation(rgb: np.ndarray, orientation: int, fmt: str = "JPEG") -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    options = {"quality": 95} if fmt == "JPEG" else {}
    Image.fromarray(rgb).save(buffer, fmt, exif=exif.tobytes(), **options)
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_decoding_applies_the_exif_orientation_as_viewers_do(orientation, fmt):
    data = _with_orientation(_asymmetric_image(), orientation, fmt)
    header = intake.read_header(data)
    assert header.orientation == orientation
    decoded = cv2.cvtColor(intake.decode(data, header), cv2.COLOR_BGR2RGB)
    expected = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB"))
    assert decoded.shape == expected.shape
    assert (decoded.shape[1], decoded.shape[0]) == (header.width, header.height)
    assert np.abs(decoded.astype(int) - expected.astype(int)).mean() < 6


def test_reduced_decoding_keeps_the_orientation():
    data = _with_orientation(
        np.dstack([np.tile(np.arange(400, dtype=np.uint8)[None, :] // 2, (300, 1))] * 3), 6
    )
    header = intake.read_header(data)
    decoded = intake.decode(data, header, reduction=2)
    assert decoded.shape[:2] == (200, 150)


def test_unreadable_exif_counts_as_upright():
    data = bytearray(_with_orientation(_asymmetric_image(), 6))
    start = data.index(b"Exif\x00\x00") + 6
    data[start : start + 8] = b"\x00" * 8  # a TIFF header no reader understands
    assert intake.read_header(bytes(data)).orientation == 1


def test_the_pixel_cap_reaches_opencv_before_it_loads():
    assert os.environ["OPENCV_IO_MAX_IMAGE_PIXELS"] == str(intake.MAX_UPLOAD_PIXELS)
    assert Path(intake.__file__).parent.name == "grading"
