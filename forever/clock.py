"""The one place that knows what time it is. Tests move time with `frozen()` / `set_now()`."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")

_fixed: dt.datetime | None = None


def now() -> dt.datetime:
    """Current time, timezone-aware (UTC)."""
    if _fixed is not None:
        return _fixed
    return dt.datetime.now(dt.timezone.utc)


def today() -> dt.date:
    """Today's date in Europe/Paris, the calendar every product rule speaks in."""
    return now().astimezone(PARIS).date()


def set_now(moment: dt.datetime | None) -> None:
    """Pin the clock (None releases it). Naive datetimes are taken as Europe/Paris."""
    global _fixed
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=PARIS)
    _fixed = moment.astimezone(dt.timezone.utc) if moment is not None else None


@contextlib.contextmanager
def frozen(moment: dt.datetime) -> Iterator[None]:
    """Pin the clock for the duration of a block."""
    previous = _fixed
    set_now(moment)
    try:
        yield
    finally:
        globals()["_fixed"] = previous


def current_season(on: dt.date | None = None) -> str:
    """The season on sale on a date: January-June is SS<yy>, July-December FW<yy> (DESIGN.md)."""
    day = on or today()
    prefix = "SS" if day.month <= 6 else "FW"
    return f"{prefix}{day.year % 100:02d}"


def age_on(birth_date: dt.date, day: dt.date) -> int:
    """Completed years on `day`. Someone born on 29 February has their birthday on 1 March in other years."""
    had_birthday = (day.month, day.day) >= (birth_date.month, birth_date.day)
    return day.year - birth_date.year - (0 if had_birthday else 1)
