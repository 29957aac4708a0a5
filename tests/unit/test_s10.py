"""UPU S10 tracking numbers: the check digit, forming and reading numbers."""

import pytest

from forever.tradein import s10


@pytest.mark.parametrize(("serial", "check"), [
    ("12345678", 5),  # the UPU's own example, EE 123456785 US
    ("00000001", 4),  # 1 x 7 = 7; 11 - 7
    ("00000011", 6),  # 9 + 7 = 16 = 5 mod 11; 11 - 5
    ("11000000", 8),  # 8 + 6 = 14 = 3 mod 11
    ("00000008", 0),  # 8 x 7 = 56 = 1 mod 11; 11 - 1 = 10 becomes 0
    ("10001000", 5),  # 8 + 3 = 11 = 0 mod 11; 11 - 0 = 11 becomes 5
])
def test_the_check_digit_follows_the_s10_weights(serial, check):
    assert s10.check_digit(serial) == check


def test_numbers_are_formed_and_read_back():
    number = s10.make("CB", 12345678, "FR")
    assert number == "CB123456785FR"
    assert s10.parse(number) == number
    assert s10.make("CB", 1, "FR") == "CB000000014FR"
    assert s10.spaced(number) == "CB 1234 5678 5 FR"


@pytest.mark.parametrize("typed", ["cb123456785fr", " CB 1234 5678 5 FR ", "CB-12345678-5-FR", "CB.123.456.785.FR\n"])
def test_what_people_and_scanners_add_around_a_number_is_ignored(typed):
    assert s10.parse(typed) == "CB123456785FR"


@pytest.mark.parametrize(("typed", "says"), [
    ("CB123456784FR", "check digit"),
    ("CB123456755FR", "check digit"),
    ("CB12345678FR", "13 characters"),
    ("C1123456785FR", "13 characters"),
    ("CB123456785F", "13 characters"),
    ("", "13 characters"),
    ("1Z999AA10123456784", "13 characters"),
])
def test_what_is_not_an_s10_number_is_refused_with_a_reason(typed, says):
    with pytest.raises(s10.InvalidTrackingNumber, match=says):
        s10.parse(typed)


@pytest.mark.parametrize(("indicator", "serial", "country"), [
    ("CB", 0, "FR"), ("CB", 100_000_000, "FR"), ("C", 1, "FR"), ("cb", 1, "FR"), ("CB", 1, "FRA"),
])
def test_numbers_outside_the_standard_are_never_formed(indicator, serial, country):
    with pytest.raises(ValueError):
        s10.make(indicator, serial, country)


def test_every_serial_reads_back_and_a_wrong_check_digit_never_does():
    for serial in range(1, 100_000, 997):
        number = s10.make("CB", serial, "FR")
        assert s10.parse(number) == number
        for wrong in set("0123456789") - {number[10]}:
            with pytest.raises(s10.InvalidTrackingNumber):
                s10.parse(number[:10] + wrong + number[11:])
