"""Properties of the shared rules over many inputs (hypothesis)."""

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from forever.catalog.model import CATEGORIES
from forever.money import Money
from forever.rules import (
    RULESETS,
    can_cancel,
    cancellation_deadline,
    delivery_address_problems,
    delivery_fee,
    refund_deadline,
    return_eligibility,
    rules_in_force,
    store_credit_note_validity,
)

FIRST_DAY = RULESETS[0].effective_from
ON = dt.date(2026, 11, 22)

destinations = st.sampled_from([
    (zone.currency, country, option.method)
    for zone in rules_in_force(ON).delivery_zones for country in zone.countries for option in zone.options
])
cents = st.integers(min_value=0, max_value=10_000_000)
days = st.dates(min_value=FIRST_DAY, max_value=dt.date(2100, 1, 1))
moments = st.datetimes(min_value=dt.datetime(2024, 1, 2), max_value=dt.datetime(2099, 1, 1),
                       timezones=st.sampled_from([dt.timezone.utc, dt.timezone(dt.timedelta(hours=-11))]))


@given(destinations, cents, cents)
def test_a_larger_subtotal_never_pays_more_and_no_fee_is_negative(destination, a, b):
    currency, country, method = destination
    small, large = sorted((a, b))
    fee_small = delivery_fee(country, method, Money(small, currency), on=ON).fee
    fee_large = delivery_fee(country, method, Money(large, currency), on=ON).fee
    assert fee_large.amount <= fee_small.amount
    assert fee_large.amount >= 0 and fee_small.amount >= 0


@given(destinations, cents)
def test_delivery_is_free_exactly_from_the_threshold(destination, amount):
    currency, country, method = destination
    answer = delivery_fee(country, method, Money(amount, currency), on=ON)
    if answer.free_threshold is None:
        assert answer.fee.amount > 0
    else:
        assert (answer.fee == Money.zero(currency)) == (amount >= answer.free_threshold.amount)


@given(st.sampled_from(["online", "store"]), st.sampled_from(CATEGORIES), days, st.integers(0, 400),
       st.booleans(), st.integers(-60, 60), st.booleans())
def test_a_deadline_is_never_before_delivery_or_purchase(channel, category, start, waited, on_sale, sale_left,
                                                          personalised):
    today = start + dt.timedelta(days=waited)
    decision = return_eligibility(channel, category, delivered_on=start, purchased_on=start, today=today,
                                  on_sale=on_sale, sale_ends_on=start + dt.timedelta(days=sale_left),
                                  personalised=personalised)
    if decision.deadline is not None:
        assert decision.deadline >= start
        assert decision.deadline <= start + dt.timedelta(days=30 if channel == "store" else 14)
    assert decision.eligible == (decision.deadline is not None and today <= decision.deadline)
    assert decision.eligible == (decision.reasons == [])


@given(moments, st.integers(0, 3600 * 2))
def test_cancelling_is_possible_until_the_deadline_and_never_after(confirmed, seconds):
    now = confirmed + dt.timedelta(seconds=seconds)
    assert can_cancel(confirmed, now) == (seconds <= 30 * 60)
    assert cancellation_deadline(confirmed) - confirmed == dt.timedelta(minutes=30)


@given(days)
def test_refunds_and_credit_notes_run_forward(day):
    assert refund_deadline(day) == day + dt.timedelta(days=14)
    valid_until = store_credit_note_validity(day, "FR").valid_until
    assert day + dt.timedelta(days=364) <= valid_until <= day + dt.timedelta(days=366)
    assert valid_until.year == day.year + 1


@given(st.text(max_size=80))
def test_an_address_with_a_po_box_line_is_always_refused(text):
    assert delivery_address_problems(f"{text}\nPO Box 12") == ["po_box"]
