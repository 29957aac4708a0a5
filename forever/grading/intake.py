"""Safe photo intake: caps, format allow-list and structure checked from the header, then a bounded decode.

Every check before the decode reads only the file's own structure (JPEG segments, PNG chunks, the WebP RIFF
header), so a decompression bomb is refused from its header and never decoded. Errors are the contract's:
413 `photo_too_large`, 415 `unsupported_image`, 422 `unreadable_image` (CONTRACT.md, "Grading").
"""

from __future__ import annotations

import io
import re
import struct
from dataclasses import dataclass

import cv2  # after forever/grading/__init__.py has put OpenCV's pixel cap in the environment
import numpy as np
from PIL import Image, UnidentifiedImageError

from forever.errors import InvalidInput, PayloadTooLarge, UnsupportedMedia

MAX_UPLOAD_BYTES = 25_000_000
MAX_UPLOAD_PIXELS = 50_000_000

PHOTO_TOO_LARGE = "photo_too_large"
UNSUPPORTED_IMAGE = "unsupported_image"
UNREADABLE_IMAGE = "unreadable_image"

FORMATS: tuple[str, ...] = ("jpeg", "png", "webp")
_PILLOW_FORMATS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}

# Pillow refuses anything above twice this on its own; ours is refused earlier, from the header.
Image.MAX_IMAGE_PIXELS = MAX_UPLOAD_PIXELS

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# A marker inside JPEG entropy-coded data: 0xFF followed by anything but a stuffed zero, a restart marker or
# another fill byte.
_JPEG_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
_JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
_JPEG_FRAME_HEADERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# What makes another program read the same bytes as a document or an archive: PDF readers look for their
# header anywhere in the first kilobyte, browsers sniff markup, ZIP readers look for the end-of-archive record
# in the last 64 KiB.
_FOREIGN_HEADERS = (b"%PDF-", b"PK\x03\x04", b"<html", b"<script", b"<svg", b"<?php", b"<!doctype")
_ZIP_END_RECORD = b"PK\x05\x06"
_ZIP_TAIL = 65_557
_ORIENTATION_TAG = 0x0112

# EXIF orientation -> what turns the stored pixels upright (EXIF 2.32, tag 0x0112).
_UPRIGHT = {
    2: lambda image: cv2.flip(image, 1),
    3: lambda image: cv2.rotate(image, cv2.ROTATE_180),
    4: lambda image: cv2.flip(image, 0),
    5: lambda image: cv2.transpose(image),
    6: lambda image: cv2.rotate(image, cv2.ROTATE_90_CLOCKWISE),
    7: lambda image: cv2.flip(cv2.transpose(image), -1),
    8: lambda image: cv2.rotate(image, cv2.ROTATE_90_COUNTERCLOCKWISE),
}
_REDUCED_COLOR = {
    1: cv2.IMREAD_COLOR,
    2: cv2.IMREAD_REDUCED_COLOR_2,
    4: cv2.IMREAD_REDUCED_COLOR_4,
    8: cv2.IMREAD_REDUCED_COLOR_8,
}


@dataclass(frozen=True, slots=True)
class PhotoHeader:
    """What the header of an accepted photo says: format, stored size and EXIF orientation."""

    format: str
    stored_width: int
    stored_height: int
    orientation: int = 1

    @property
    def width(self) -> int:
        """Width once the EXIF orientation is applied: the uploaded image's pixels."""
        return self.stored_height if self.orientation >= 5 else self.stored_width

    @property
    def height(self) -> int:
        return self.stored_width if self.orientation >= 5 else self.stored_height


@dataclass(frozen=True, slots=True)
class _Layout:
    width: int
    height: int
    end: int  # offset just past the image's last byte
    exif: bytes | None


def sniff_format(data: bytes) -> str | None:
    """The allowed format `data` starts like (magic bytes, never a file name), or None."""
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if data[:8] == _PNG_SIGNATURE:
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def read_header(data: bytes) -> PhotoHeader:
    """Check an upload from its bytes alone (caps, allow-list, structure), without decoding any pixels."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise PayloadTooLarge(
            f"the photo is {len(data):,} bytes; at most {MAX_UPLOAD_BYTES:,} are accepted",
            code=PHOTO_TOO_LARGE,
        )
    if not data:
        raise InvalidInput("the photo is empty", code=UNREADABLE_IMAGE)
    fmt = sniff_format(data)
    if fmt is None:
        raise UnsupportedMedia("the photo is not a JPEG, PNG or WebP image", code=UNSUPPORTED_IMAGE)
    try:
        layout = {"jpeg": _jpeg_layout, "png": _png_layout, "webp": _webp_layout}[fmt](data)
    except (IndexError, struct.error) as exc:
        raise _unreadable(f"the {fmt.upper()} header is cut short or malformed") from exc
    _refuse_polyglot(data, layout.end, fmt)
    _cross_check_with_pillow(data, fmt, layout)
    return PhotoHeader(fmt, layout.width, layout.height, _orientation(layout.exif))


def decode(data: bytes, header: PhotoHeader, *, reduction: int = 1) -> np.ndarray:
    """Decode an accepted photo to upright BGR pixels, `reduction` times smaller (1, 2, 4 or 8).

    JPEGs are reduced inside the decoder (DCT scaling), which is about twice as fast as a full decode; the
    orientation is applied here, from the header already read, so both always agree.
    """
    flags = _REDUCED_COLOR[reduction] | cv2.IMREAD_IGNORE_ORIENTATION
    try:
        image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), flags)
    except cv2.error as exc:
        raise _unreadable(f"the {header.format.upper()} data cannot be decoded") from exc
    if image is None or image.size == 0:
        raise _unreadable(f"the {header.format.upper()} data cannot be decoded")
    upright = _UPRIGHT.get(header.orientation)
    return upright(image) if upright else image


def _unreadable(detail: str) -> InvalidInput:
    return InvalidInput(detail, code=UNREADABLE_IMAGE)


def _too_large(width: int, height: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"the photo is {width} x {height} pixels ({width * height / 1e6:.1f} megapixels); "
        f"at most {MAX_UPLOAD_PIXELS / 1e6:g} megapixels are accepted",
        code=PHOTO_TOO_LARGE,
    )


def _check_pixels(width: int, height: int) -> None:
    if width * height > MAX_UPLOAD_PIXELS:
        raise _too_large(width, height)
    if width <= 0 or height <= 0:
        raise _unreadable(f"the header gives an empty image ({width} x {height})")


def _jpeg_layout(data: bytes) -> _Layout:
    size: tuple[int, int] | None = None
    exif = None
    pos = 2
    while True:
        if pos >= len(data):
            raise _unreadable("the JPEG is truncated (no end-of-image marker)")
        if data[pos] != 0xFF:
            raise _unreadable(f"the JPEG is corrupt (no segment marker at byte {pos})")
        while pos < len(data) and data[pos] == 0xFF:
            pos += 1
        if pos >= len(data):
            raise _unreadable("the JPEG is truncated (no end-of-image marker)")
        marker = data[pos]
        pos += 1
        if marker == 0xD9:
            if size is None:
                raise _unreadable("the JPEG has no frame header")
            return _Layout(size[0], size[1], pos, exif)
        if marker in _JPEG_STANDALONE:
            continue
        if marker == 0xD8:
            raise _unreadable("the JPEG is corrupt (a second start-of-image marker)")
        (length,) = struct.unpack_from(">H", data, pos)
        if length < 2 or pos + length > len(data):
            raise _unreadable("the JPEG is truncated inside a segment")
        if marker in _JPEG_FRAME_HEADERS:
            height, width = struct.unpack_from(">HH", data, pos + 3)
            _check_pixels(width, height)
            size = (width, height)
        elif marker == 0xE1 and exif is None and data.startswith(b"Exif\x00\x00", pos + 2):
            exif = data[pos + 2 : pos + length]
        pos += length
        if marker == 0xDA:
            if size is None:
                raise _unreadable("the JPEG is corrupt (image data before the frame header)")
            found = _JPEG_MARKER.search(data, pos)
            if found is None:
                raise _unreadable("the JPEG is truncated (image data runs to the end of the file)")
            pos = found.start()


def _png_layout(data: bytes) -> _Layout:
    pos = len(_PNG_SIGNATURE)
    length, kind = struct.unpack_from(">I4s", data, pos)
    if kind != b"IHDR" or length != 13:
        raise _unreadable("the PNG does not start with its header chunk")
    width, height = struct.unpack_from(">II", data, pos + 8)
    _check_pixels(width, height)
    exif = None
    seen_data = False
    while True:
        if pos + 12 > len(data):
            raise _unreadable("the PNG is truncated (no end chunk)")
        length, kind = struct.unpack_from(">I4s", data, pos)
        end = pos + 12 + length
        if length > 0x7FFFFFFF or end > len(data):
            raise _unreadable("the PNG is truncated inside a chunk")
        if kind == b"IDAT":
            seen_data = True
        elif kind == b"eXIf" and exif is None:
            exif = data[pos + 8 : pos + 8 + length]
        elif kind == b"IEND":
            if not seen_data:
                raise _unreadable("the PNG has no image data")
            return _Layout(width, height, end, exif)
        pos = end


def _webp_layout(data: bytes) -> _Layout:
    (riff_size,) = struct.unpack_from("<I", data, 4)
    end = 8 + riff_size + (riff_size & 1)
    if end > len(data):
        raise _unreadable("the WebP is truncated")
    pos = 12
    size: tuple[int, int] | None = None
    exif = None
    while pos + 8 <= end:
        kind, length = struct.unpack_from("<4sI", data, pos)
        body = pos + 8
        if body + length > end:
            raise _unreadable("the WebP is truncated inside a chunk")
        if kind == b"VP8X" and size is None:
            width = 1 + int.from_bytes(data[body + 4 : body + 7], "little")
            height = 1 + int.from_bytes(data[body + 7 : body + 10], "little")
            _check_pixels(width, height)
            size = (width, height)
        elif kind == b"VP8 " and size is None:
            if data[body + 3 : body + 6] != b"\x9d\x01\x2a":
                raise _unreadable("the WebP's lossy frame header is corrupt")
            width, height = struct.unpack_from("<HH", data, body + 6)
            size = (width & 0x3FFF, height & 0x3FFF)
            _check_pixels(*size)
        elif kind == b"VP8L" and size is None:
            if data[body] != 0x2F:
                raise _unreadable("the WebP's lossless frame header is corrupt")
            (bits,) = struct.unpack_from("<I", data, body + 1)
            size = (1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF))
            _check_pixels(*size)
        elif kind == b"EXIF" and exif is None:
            exif = data[body : body + length]
        pos = body + length + (length & 1)
    if size is None:
        raise _unreadable("the WebP has no image frame")
    return _Layout(size[0], size[1], end, exif)


def _refuse_polyglot(data: bytes, end: int, fmt: str) -> None:
    """Refuse a file that is also something else: bytes after the image's end, or another format's header."""
    trailer = data[end:]
    if trailer.strip(b"\x00"):
        raise UnsupportedMedia(
            f"the file carries {len(trailer):,} bytes after the end of its {fmt.upper()} "
            "image; only plain photos are accepted",
            code=UNSUPPORTED_IMAGE,
        )
    head = data[:1024].lower()
    for signature in _FOREIGN_HEADERS:
        if signature.lower() in head:
            raise UnsupportedMedia(
                f"the file is also read as {signature.decode(errors='replace')!r} content; "
                "only plain photos are accepted",
                code=UNSUPPORTED_IMAGE,
            )
    if _ZIP_END_RECORD in data[-_ZIP_TAIL:]:
        raise UnsupportedMedia(
            "the file is also a ZIP archive; only plain photos are accepted", code=UNSUPPORTED_IMAGE
        )


def _cross_check_with_pillow(data: bytes, fmt: str, layout: _Layout) -> None:
    """A second, independent header reader (lazy: no pixels): both must agree on what the file is."""
    try:
        with Image.open(io.BytesIO(data), formats=[_PILLOW_FORMATS[fmt]]) as image:
            size = image.size
    except Image.DecompressionBombError as exc:
        raise _too_large(layout.width, layout.height) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, struct.error) as exc:
        raise _unreadable(f"the {fmt.upper()} header cannot be read") from exc
    if size != (layout.width, layout.height):
        raise _unreadable(
            f"the {fmt.upper()} header is inconsistent ({size} vs {(layout.width, layout.height)})"
        )


def _orientation(exif: bytes | None) -> int:
    """The EXIF orientation (1 to 8); 1 when absent or unreadable, as viewers do."""
    if not exif:
        return 1
    parsed = Image.Exif()
    try:
        parsed.load(exif)
        value = parsed.get(_ORIENTATION_TAG, 1)
    except (SyntaxError, ValueError, OSError, KeyError, IndexError, TypeError, struct.error):
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1
