"""Opaque cursors for keyset pagination, and the limit rule of every list (default 20, max 100)."""

from __future__ import annotations

import base64
import binascii
from typing import Any

import msgspec

from forever.errors import InvalidInput

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


def encode_cursor(*values: Any) -> str:
    """Cursor after a row, from the values of its sort key."""
    return base64.urlsafe_b64encode(msgspec.json.encode(list(values))).decode().rstrip("=")


def decode_cursor(cursor: str, types: tuple[type, ...]) -> list[Any]:
    """The sort key a cursor carries, one value of each of `types`; any other cursor is 422 `invalid_cursor`."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = msgspec.json.decode(raw)
    except (binascii.Error, ValueError, msgspec.DecodeError):
        values = None
    if (not isinstance(values, list) or len(values) != len(types)
            or not all(type(value) is kind for value, kind in zip(values, types, strict=True))):
        raise InvalidInput("That cursor is not one this list gave out.", code="invalid_cursor",
                           errors=[{"field": "cursor", "message": "unknown cursor"}])
    return values


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}.", code="invalid_limit",
                           errors=[{"field": "limit", "message": f"between 1 and {MAX_LIMIT}"}])
    return limit
