"""The seller's basket of pieces before a quote: kept in a small cookie, posted back as one form. Pure."""

from __future__ import annotations

import base64
from collections.abc import Mapping

import msgspec

from forever.catalog.model import CONDITIONS

COOKIE = "forever_basket"
# A quote takes 1 to 50 pieces (CONTRACT.md); a full basket still fits in one cookie.
MAX_LINES = 50
MAX_REF = 64
MAX_SIZE = 16


class BasketLine(msgspec.Struct, array_like=True, frozen=True):
    """One piece the seller means to sell, with what they said of it so far."""

    ref: str
    condition: str | None = None
    size: str | None = None


def line(ref: object, condition: object = None, size: object = None) -> BasketLine | None:
    """A basket line from posted or stored values: None without a usable ref; unknown values dropped."""
    if not isinstance(ref, str) or not ref.strip() or len(ref.strip()) > MAX_REF:
        return None
    condition = condition if condition in CONDITIONS else None
    size = size.strip() if isinstance(size, str) and 0 < len(size.strip()) <= MAX_SIZE else None
    return BasketLine(ref.strip(), condition, size)


def decode(cookie: str | None) -> list[BasketLine]:
    """The basket a cookie holds; anything unreadable is an empty basket."""
    if not cookie:
        return []
    try:
        raw = msgspec.json.decode(base64.urlsafe_b64decode(cookie.encode() + b"=" * (-len(cookie) % 4)))
    except (ValueError, msgspec.DecodeError):
        return []
    if not isinstance(raw, list):
        return []
    stored = [line(*entry[:3]) for entry in raw[:MAX_LINES] if isinstance(entry, list) and entry]
    return [entry for entry in stored if entry is not None]


def encode(lines: list[BasketLine]) -> str:
    return base64.urlsafe_b64encode(msgspec.json.encode(lines[:MAX_LINES])).decode().rstrip("=")


def from_form(form: Mapping[str, object]) -> list[BasketLine]:
    """The basket as the builder's form posts it: `ref-N`, `condition-N`, `size-N` for N = 0, 1, ..."""
    lines = []
    for number in range(MAX_LINES):
        ref = form.get(f"ref-{number}")
        if ref is None:
            break
        posted = line(ref, form.get(f"condition-{number}"), form.get(f"size-{number}"))
        if posted is not None:
            lines.append(posted)
    return lines


def without(lines: list[BasketLine], position: object) -> list[BasketLine]:
    """The basket less the line at `position` (a form value); unchanged when it names no line."""
    try:
        index = int(str(position))
    except ValueError:
        return lines
    return [line for number, line in enumerate(lines) if number != index]
