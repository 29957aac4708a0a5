"""Money, the clock, seasons and cursors: pure value rules."""

import datetime as dt
from decimal import Decimal

import pytest

from forever import clock
from forever.catalog.model import Season, fold, is_season, season_range
from forever.errors import InvalidInput
from forever.money import Money, round_whole_units
from forever.pagination import decode_cursor, encode_cursor


@pytest.mark.parametrize(("text", "cents"), [("290", 29000), ("290.00", 29000), ("0.5", 50), (" 12.34 ", 1234)])
def test_money_parses_major_units_exactly(text, cents):
    assert Money.from_major(text) == Money(cents, "EUR")


@pytest.mark.parametrize("text", ["12.345", "abc", "", "NaN", "inf"])
def test_money_refuses_what_is_not_an_amount(text):
    with pytest.raises(ValueError):
        Money.from_major(text)


def test_money_never_mixes_currencies():
    with pytest.raises(ValueError):
        Money(100, "EUR") + Money(100, "GBP")
    with pytest.raises(ValueError):
        Money(100, "XXX")
    assert Money(150) + Money(50) == Money(200)
    assert Money(150) > Money(50)


def test_whole_unit_rounding_is_half_up():
    assert round_whole_units(Decimal("12.5")) == Money(1300)
    assert round_whole_units(Decimal("12.49")) == Money(1200)


@pytest.mark.parametrize(("day", "season"), [
    (dt.date(2026, 1, 1), "SS26"), (dt.date(2026, 6, 30), "SS26"),
    (dt.date(2026, 7, 1), "FW26"), (dt.date(2026, 12, 31), "FW26"),
])
def test_current_season_turns_on_the_first_of_july_and_january(day, season):
    assert clock.current_season(day) == season


def test_today_is_the_paris_date():
    with clock.frozen(dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.timezone.utc)):
        assert clock.today() == dt.date(2027, 1, 1)
    with clock.frozen(dt.datetime(2026, 6, 30, 21, 59, tzinfo=dt.timezone.utc)):
        assert clock.today() == dt.date(2026, 6, 30)


@pytest.mark.parametrize(("birth", "day", "age"), [
    (dt.date(2008, 11, 22), dt.date(2026, 11, 22), 18),
    (dt.date(2008, 11, 23), dt.date(2026, 11, 22), 17),
    (dt.date(2008, 2, 29), dt.date(2026, 2, 28), 17),
    (dt.date(2008, 2, 29), dt.date(2026, 3, 1), 18),
])
def test_age_counts_completed_years(birth, day, age):
    assert clock.age_on(birth, day) == age


def test_seasons_order_and_ranges():
    assert Season("FW15") < Season("SS16") < Season("FW16")
    assert Season("SS16").seasons_before(Season("FW26")) == 21
    assert season_range("FW25", "SS27") == ["FW25", "SS26", "FW26", "SS27"]
    assert not is_season("FW٢٤") and not is_season("fw24") and not is_season("AW24")


def test_fold_ignores_case_and_accents():
    assert fold("Ami de CŒUR Écru Côtelé") == "ami de coeur ecru cotele"


def test_cursors_round_trip_and_foreign_ones_are_refused():
    assert decode_cursor(encode_cursor("ami", 7), (str, int)) == ["ami", 7]
    for bad in ("", "!!!", encode_cursor("only-one"), "eyJhIjoxfQ", encode_cursor(7, "ami"),
                encode_cursor("ami", True)):
        with pytest.raises(InvalidInput) as caught:
            decode_cursor(bad, (str, int))
        assert caught.value.code == "invalid_cursor"
