"""Datetimes written to SQLite by `db.fetch` and `db.write_batch` are stored as the very text Piccolo writes:
SQLite compares and orders these columns as text, so rows written either way must sort together."""

import datetime as dt
import random
from zoneinfo import ZoneInfo

from piccolo.engine.sqlite import convert_datetime_in

from forever.db import _sqlite_datetime

PARIS = ZoneInfo("Europe/Paris")


def moments(count: int) -> list[dt.datetime]:
    draw = random.Random(7)
    start = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
    return [start + dt.timedelta(seconds=draw.randrange(10**10),
                                 microseconds=draw.choice([0, draw.randrange(10**6)]))
            for _ in range(count)]


def test_utc_moments_are_written_as_piccolo_writes_them():
    for moment in moments(20_000):
        for value in (moment, moment + dt.timedelta(days=30), moment.replace(microsecond=0)):
            assert _sqlite_datetime(value) == convert_datetime_in(value)


def test_other_zones_and_naive_moments_too():
    for moment in moments(2_000):
        for value in (moment.astimezone(PARIS), moment.replace(tzinfo=None)):
            assert _sqlite_datetime(value) == convert_datetime_in(value)


def test_the_same_second_a_month_apart_is_not_confused():
    first = dt.datetime(2026, 4, 1, 10, 0, 0, 5, tzinfo=dt.UTC)
    assert _sqlite_datetime(first) == "2026-04-01 10:00:00.000005+00:00"
    assert _sqlite_datetime(first + dt.timedelta(days=30)) == "2026-05-01 10:00:00.000005+00:00"
