"""Voucher rules without a database: codes and their check character, expiry, reminders, channels,
paying with several vouchers, and ledger arithmetic."""

import datetime as dt
import re
import secrets

import pytest
from hypothesis import given
from hypothesis import strategies as st

from forever.clock import PARIS
from forever.vouchers import model

SECRET = b"unit-test-secret"
codes = st.binary(min_size=16, max_size=16).map(lambda seed: model.derive_code(SECRET, seed.hex()))


def test_the_alphabet_has_32_symbols_none_of_them_confusable():
    assert len(model.ALPHABET) == len(set(model.ALPHABET)) == 32
    assert not set("0O1I") & set(model.ALPHABET)


def test_x_generates_gf32():
    value, order = 1, 0
    while True:
        value, order = model._times_x(value), order + 1
        if value == 1:
            break
    assert order == 31  # so the 17 position weights x^0 .. x^16 are all different


@given(codes)
def test_a_code_carries_80_bits_and_a_check_character(code):
    assert len(code) == model.CODE_LENGTH == 17
    assert set(code) <= set(model.ALPHABET)
    assert 5 * model.BODY_LENGTH >= 80
    assert model.normalise_code(code) == code
    shown = model.display_code(code)
    assert re.fullmatch(r"[2-9A-HJ-NP-Z]{4}(-[2-9A-HJ-NP-Z]{4}){3}-[2-9A-HJ-NP-Z]", shown)
    assert model.normalise_code(shown.lower()) == code
    assert model.normalise_code(" ".join(shown.split("-"))) == code
    assert model.last4(code) == code[-4:]


@given(codes)
def test_every_single_substitution_is_caught(code):
    for position in range(len(code)):
        for symbol in model.ALPHABET:
            if symbol != code[position]:
                assert model.normalise_code(code[:position] + symbol + code[position + 1:]) is None


@given(codes)
def test_every_adjacent_transposition_is_caught(code):
    for position in range(len(code) - 1):
        a, b = code[position], code[position + 1]
        if a != b:
            assert model.normalise_code(code[:position] + b + a + code[position + 2:]) is None


@pytest.mark.parametrize("text", ["", "ABCD", "0000-0000-0000-0000-0", "IIII-IIII-IIII-IIII-I", "x" * 17])
def test_what_cannot_be_a_code_is_refused(text):
    assert model.normalise_code(text) is None


def test_codes_derive_from_secret_and_seed_only():
    seed = secrets.token_hex(16)
    assert model.derive_code(SECRET, seed) == model.derive_code(SECRET, seed)
    assert model.derive_code(b"another-secret", seed) != model.derive_code(SECRET, seed)
    assert model.derive_code(SECRET, secrets.token_hex(16)) != model.derive_code(SECRET, seed)
    code = model.derive_code(SECRET, seed)
    assert len(model.lookup_hash(SECRET, code)) == 64
    assert code not in model.lookup_hash(SECRET, code)


@pytest.mark.parametrize(("issued", "expires"), [
    (dt.datetime(2026, 3, 10, 10, 0), dt.datetime(2027, 3, 10, 10, 0)),
    (dt.datetime(2028, 2, 29, 18, 30), dt.datetime(2029, 2, 28, 18, 30)),  # no 29 February next year
    (dt.datetime(2026, 7, 1, 0, 15), dt.datetime(2027, 7, 1, 0, 15)),
    (dt.datetime(2026, 12, 31, 23, 59), dt.datetime(2027, 12, 31, 23, 59)),
])
def test_a_voucher_expires_12_months_after_issue_paris_time(issued, expires):
    expiry = model.expiry_of(issued.replace(tzinfo=PARIS).astimezone(dt.timezone.utc))
    assert expiry.tzinfo is not None
    assert expiry.astimezone(PARIS).replace(tzinfo=None) == expires


def test_expiry_and_status():
    now = dt.datetime(2026, 5, 1, tzinfo=dt.timezone.utc)
    assert model.voucher_status(100, 0, now + dt.timedelta(seconds=1), now) == model.ACTIVE
    assert model.voucher_status(0, 50, now + dt.timedelta(days=1), now) == model.ACTIVE
    assert model.voucher_status(0, 0, now + dt.timedelta(days=1), now) == model.USED
    assert model.voucher_status(100, 0, now, now) == model.EXPIRED


def test_reminders_come_30_then_7_days_before_each_once():
    expires = dt.datetime(2027, 3, 10, 9, 0, tzinfo=dt.timezone.utc)
    day = dt.timedelta(days=1)
    assert model.due_reminder(expires, expires - 31 * day, None) is None
    assert model.due_reminder(expires, expires - 30 * day, None) == 30
    assert model.due_reminder(expires, expires - 20 * day, 30) is None
    assert model.due_reminder(expires, expires - 7 * day, 30) == 7
    assert model.due_reminder(expires, expires - 2 * day, 7) is None
    assert model.due_reminder(expires, expires - 3 * day, None) == 7  # a late job sends only the urgent one
    assert model.due_reminder(expires, expires, None) is None


def test_department_store_corners_may_not_take_vouchers():
    assert model.channel_allowed("eshop", None)
    assert model.channel_allowed("resale", None)
    assert model.channel_allowed("store", "boutique")
    assert model.channel_allowed("store", "outlet")
    assert not model.channel_allowed("store", "department_store_corner")
    assert not model.channel_allowed("carrier", None)


def _spendable(name, available, days):
    start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    return model.Spendable(name, available, start + dt.timedelta(days=days), start)


def test_several_vouchers_pay_soonest_expiring_first_and_only_what_is_needed():
    vouchers = [_spendable("late", 5000, 300), _spendable("soon", 2000, 10), _spendable("mid", 4000, 100)]
    assert model.allocate(5000, vouchers) == [("soon", 2000), ("mid", 3000)]
    assert model.allocate(1500, vouchers) == [("soon", 1500)]
    assert model.allocate(20000, vouchers) == [("soon", 2000), ("mid", 4000), ("late", 5000)]
    assert model.allocate(100, [_spendable("empty", 0, 1), _spendable("full", 100, 2)]) == [("full", 100)]
    with pytest.raises(ValueError):
        model.allocate(0, vouchers)


@given(st.integers(1, 10**6), st.lists(st.tuples(st.integers(0, 10**5), st.integers(0, 365)), max_size=8))
def test_allocation_never_takes_more_than_needed_or_available(amount, specs):
    vouchers = [_spendable(f"v{index}", available, days) for index, (available, days) in enumerate(specs)]
    plan = model.allocate(amount, vouchers)
    available = {voucher.voucher_id: voucher.available for voucher in vouchers}
    assert all(0 < part <= available[name] for name, part in plan)
    assert sum(part for _, part in plan) == min(amount, sum(available.values()))
    assert len({name for name, _ in plan}) == len(plan)


def test_ledger_arithmetic():
    credit, voucher = model.credit_account("a"), model.voucher_account("v")
    legs = model.transfer(credit, voucher, 300)
    assert model.is_balanced(legs)
    assert model.apply({credit: 500, voucher: 0}, legs) == {credit: 200, voucher: 300}
    with pytest.raises(ValueError, match="overdraw"):
        model.apply({credit: 200, voucher: 0}, legs)
    with pytest.raises(ValueError, match="not locked"):
        model.apply({credit: 500}, legs)
    with pytest.raises(ValueError, match="unbalanced"):
        model.apply({credit: 500, voucher: 0}, (model.Leg(credit, -300), model.Leg(voucher, 200)))
    # System accounts keep no balance and may go either way.
    assert model.apply({voucher: 0}, model.transfer(model.RECREDIT_SOURCE, voucher, 50)) == {voucher: 50}
    with pytest.raises(ValueError):
        model.transfer(credit, voucher, 0)
    assert model.recredit_allowance(1000, 300) == 700
    assert model.recredit_allowance(300, 300) == 0
