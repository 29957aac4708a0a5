"""Return windows, refunds, cancellation and store credit notes, at every boundary the seeds draw."""

import datetime as dt

import pytest

from forever.clock import PARIS
from forever.errors import InvalidInput
from forever.rules import (
    VOUCHERS_RECREDITED_AUTOMATICALLY,
    ReturnDecision,
    can_cancel,
    cancellation_deadline,
    refund_deadline,
    return_eligibility,
    rules_in_force,
    store_credit_note_validity,
)

DELIVERED = dt.date(2026, 3, 2)
UTC = dt.timezone.utc


def online(today, category="shirts", **facts):
    return return_eligibility("online", category, delivered_on=DELIVERED, today=today, **facts)


def in_store(purchased_on, today, category="shirts", **facts):
    return return_eligibility("store", category, purchased_on=purchased_on, today=today, **facts)


# --- online: "You have 14 calendar days from the date of receipt of your order" (002_) ----------------------


@pytest.mark.parametrize("days_after", [0, 1, 13, 14])
def test_14_calendar_days_from_the_date_of_receipt_day_14_is_in(days_after):
    decision = online(DELIVERED + dt.timedelta(days=days_after))
    assert decision == ReturnDecision(eligible=True, reasons=[], deadline=dt.date(2026, 3, 16))


@pytest.mark.parametrize("days_after", [15, 16, 400])
def test_14_calendar_days_from_the_date_of_receipt_day_15_is_out(days_after):
    decision = online(DELIVERED + dt.timedelta(days=days_after))
    assert decision == ReturnDecision(eligible=False, reasons=["return_window_closed"],
                                      deadline=dt.date(2026, 3, 16))


def test_the_window_counts_calendar_days_across_month_and_year_ends():
    christmas_eve = dt.date(2026, 12, 24)
    decision = return_eligibility("online", "coats", delivered_on=christmas_eve, today=dt.date(2027, 1, 7))
    assert decision.eligible and decision.deadline == dt.date(2027, 1, 7)
    late = return_eligibility("online", "coats", delivered_on=christmas_eve, today=dt.date(2027, 1, 8))
    assert late.reasons == ["return_window_closed"]


def test_an_online_return_counts_from_delivery_not_from_purchase():
    with pytest.raises(InvalidInput) as refused:
        return_eligibility("online", "shirts", purchased_on=DELIVERED, today=DELIVERED)
    assert refused.value.code == "missing_date"
    assert refused.value.errors == [{"field": "delivered_on", "message": "required"}]


def test_a_delivery_after_today_is_bad_input():
    with pytest.raises(InvalidInput) as refused:
        online(DELIVERED - dt.timedelta(days=1))
    assert refused.value.code == "date_in_future"


# --- in a store: "You have 30 calendar days following the date of purchase to return your item." (002_) -----


def test_30_calendar_days_following_the_date_of_purchase_day_30_in_day_31_out():
    bought = dt.date(2026, 1, 31)
    assert in_store(bought, dt.date(2026, 3, 2)) == ReturnDecision(True, [], dt.date(2026, 3, 2))
    assert in_store(bought, dt.date(2026, 3, 3)) == ReturnDecision(False, ["return_window_closed"],
                                                                   dt.date(2026, 3, 2))


def test_a_store_return_needs_the_purchase_date():
    with pytest.raises(InvalidInput) as refused:
        return_eligibility("store", "shirts", delivered_on=DELIVERED, today=DELIVERED)
    assert refused.value.errors == [{"field": "purchased_on", "message": "required"}]


def test_any_item_purchased_in_a_store_other_than_an_outlet_store():
    """002_: "Any item purchased in an AMI PARIS store, other than an outlet store, may be exchanged or
    subject to credit"."""
    decision = in_store(DELIVERED, DELIVERED, outlet=True)
    assert decision == ReturnDecision(False, ["outlet_purchase"], None)


# --- never returnable ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("channel", ["online", "store"])
@pytest.mark.parametrize("category", ["underwear", "swimwear"])
def test_underwear_swimwear_cannot_be_returned_or_exchanged(channel, category):
    """002_: "Underwear, swimwear and tax-free items cannot be returned or exchanged."."""
    decision = return_eligibility(channel, category, delivered_on=DELIVERED, purchased_on=DELIVERED,
                                  today=DELIVERED)
    assert decision == ReturnDecision(False, ["non_returnable_category"], None)


def test_tax_free_items_cannot_be_returned():
    assert in_store(DELIVERED, DELIVERED, tax_free=True) == ReturnDecision(False, ["tax_free"], None)


def test_personalized_products_cannot_be_returned():
    """002_: "Personalized products cannot be returned."."""
    assert online(DELIVERED, personalised=True) == ReturnDecision(False, ["personalised"], None)


def test_every_reason_a_piece_is_never_returnable_is_listed():
    decision = online(DELIVERED, category="swimwear", personalised=True)
    assert decision.reasons == ["non_returnable_category", "personalised"]


@pytest.mark.parametrize("category", ["lifestyle", "shoes", "bags", "accessories", "knitwear"])
def test_other_categories_are_returnable(category):
    assert online(DELIVERED, category=category).eligible


def test_an_unknown_category_or_channel_is_bad_input():
    with pytest.raises(InvalidInput) as refused:
        online(DELIVERED, category="hats")
    assert refused.value.code == "unknown_category"
    with pytest.raises(InvalidInput) as refused:
        return_eligibility("phone", "shirts", delivered_on=DELIVERED, today=DELIVERED)
    assert refused.value.code == "unknown_channel"


# --- sale items: "Sale items can only be returned within the same sale period." (002_) ----------------------


def test_sale_items_can_only_be_returned_within_the_same_sale_period():
    sale_ends = DELIVERED + dt.timedelta(days=5)
    assert online(sale_ends, on_sale=True, sale_ends_on=sale_ends) == ReturnDecision(True, [], sale_ends)
    after = online(sale_ends + dt.timedelta(days=1), on_sale=True, sale_ends_on=sale_ends)
    assert after == ReturnDecision(False, ["sale_period_ended"], sale_ends)


def test_a_sale_ending_after_the_return_window_does_not_extend_it():
    decision = online(dt.date(2026, 3, 17), on_sale=True, sale_ends_on=dt.date(2026, 4, 30))
    assert decision == ReturnDecision(False, ["return_window_closed"], dt.date(2026, 3, 16))


def test_a_sale_item_delivered_after_its_sale_ended_has_no_return_day():
    decision = online(DELIVERED, on_sale=True, sale_ends_on=DELIVERED - dt.timedelta(days=1))
    assert decision == ReturnDecision(False, ["sale_period_ended"], None)


def test_a_sale_item_needs_the_last_day_of_its_sale_period():
    with pytest.raises(InvalidInput) as refused:
        online(DELIVERED, on_sale=True)
    assert refused.value.code == "missing_date"
    assert refused.value.errors == [{"field": "sale_ends_on", "message": "required"}]


# --- refunds, cancellation, vouchers, store credit ----------------------------------------------------------


def test_refund_within_fourteen_days_from_receipt_of_the_returned_products():
    """001_: "The refund will be made by AMI PARIS within fourteen (14) days from receipt of the returned
    Products."."""
    assert refund_deadline(dt.date(2026, 3, 20)) == dt.date(2026, 4, 3)


def test_delivery_charges_are_non_refundable_and_return_costs_are_covered_when_compliant():
    rules = rules_in_force(DELIVERED)
    assert rules.delivery_charges_refunded is False
    assert rules.return_shipping_free_when_compliant is True


def test_ami_for_ever_vouchers_will_not_be_automatically_re_credited():
    assert VOUCHERS_RECREDITED_AUTOMATICALLY is False
    assert rules_in_force(DELIVERED).vouchers_recredited_automatically is False


def test_you_have_only_30_minutes_to_request_cancellation():
    """002_: "Once your order is confirmed, you have only 30 minutes to request cancellation of your
    order"."""
    confirmed = dt.datetime(2026, 3, 2, 9, 15, tzinfo=UTC)
    deadline = cancellation_deadline(confirmed)
    assert deadline == dt.datetime(2026, 3, 2, 9, 45, tzinfo=UTC)
    assert can_cancel(confirmed, confirmed)
    assert can_cancel(confirmed, deadline)
    assert not can_cancel(confirmed, deadline + dt.timedelta(microseconds=1))
    assert not can_cancel(confirmed, deadline + dt.timedelta(minutes=1))


@pytest.mark.parametrize("confirmed", [
    dt.datetime(2026, 10, 25, 2, 50, tzinfo=PARIS),  # 00:50 UTC; Paris clocks go back from 03:00 to 02:00
    dt.datetime(2026, 3, 29, 1, 50, tzinfo=PARIS),  # 00:50 UTC; Paris clocks go forward from 02:00 to 03:00
])
def test_the_30_minutes_are_real_minutes_when_paris_changes_its_clocks(confirmed):
    deadline = cancellation_deadline(confirmed)
    assert deadline == dt.datetime(confirmed.year, confirmed.month, confirmed.day, 1, 20, tzinfo=UTC)
    assert deadline.tzinfo is UTC
    assert can_cancel(confirmed, deadline) and not can_cancel(confirmed, deadline + dt.timedelta(seconds=1))


def test_a_time_without_its_offset_is_refused():
    with pytest.raises(InvalidInput) as refused:
        can_cancel(dt.datetime(2026, 3, 2, 9, 15), dt.datetime(2026, 3, 2, 9, 20, tzinfo=UTC))
    assert refused.value.code == "missing_timezone"


def test_the_credit_is_nominative_and_valid_for_one_year_in_the_same_country():
    """002_: "The credit is nominative and valid for one year in AMI PARIS's own stores located in the same
    country in which the credit was issued."."""
    note = store_credit_note_validity(dt.date(2026, 3, 2), "GB")
    assert (note.country, note.valid_until, note.nominative) == ("GB", dt.date(2027, 3, 2), True)
    assert store_credit_note_validity(dt.date(2028, 2, 29), "FR").valid_until == dt.date(2029, 2, 28)
    with pytest.raises(InvalidInput) as refused:
        store_credit_note_validity(dt.date(2026, 3, 2), "France")
    assert refused.value.code == "invalid_country"
