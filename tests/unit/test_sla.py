"""The grading SLA: 15 business days after the reception day, in metropolitan France's calendar."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from forever.tradein.sla import add_business_days, business_days_left, is_business_day, sla_due_date

D = dt.date


@pytest.mark.parametrize(("received", "due", "without_holidays"), [
    # Christmas (Fri 25 Dec 2026) and New Year's Day (Fri 1 Jan 2027) both fall in the window.
    (D(2026, 12, 18), D(2027, 1, 12), D(2027, 1, 8)),
    # Easter Monday, 6 April 2026; Good Friday (3 April) is worked outside Alsace-Moselle.
    (D(2026, 4, 2), D(2026, 4, 24), D(2026, 4, 23)),
    # 1 May and 8 May (Fridays), Ascension (Thu 14 May) and Whit Monday (25 May) 2026.
    (D(2026, 4, 30), D(2026, 5, 27), D(2026, 5, 21)),
    # 14 July 2026, a Tuesday.
    (D(2026, 7, 13), D(2026, 8, 4), D(2026, 8, 3)),
    # 15 August 2025, a Friday.
    (D(2025, 8, 14), D(2025, 9, 5), D(2025, 9, 4)),
    # 15 August 2026 is a Saturday: it costs nothing.
    (D(2026, 8, 14), D(2026, 9, 4), D(2026, 9, 4)),
    # 11 November 2026, a Wednesday.
    (D(2026, 11, 2), D(2026, 11, 24), D(2026, 11, 23)),
])
def test_the_sla_counts_past_french_public_holidays(received, due, without_holidays):
    assert sla_due_date(received) == due
    weekdays_only = received
    for _ in range(15):
        weekdays_only += dt.timedelta(days=1)
        while weekdays_only.weekday() >= 5:
            weekdays_only += dt.timedelta(days=1)
    assert weekdays_only == without_holidays


@pytest.mark.parametrize(("day", "business"), [
    (D(2026, 12, 25), False), (D(2027, 1, 1), False), (D(2026, 4, 6), False), (D(2026, 5, 1), False),
    (D(2026, 7, 14), False), (D(2025, 8, 15), False), (D(2026, 11, 11), False), (D(2026, 5, 25), False),
    (D(2026, 11, 21), False), (D(2026, 11, 22), False),
    # Alsace-Moselle's extra days are not metropolitan France's: Good Friday and 26 December are worked.
    (D(2026, 4, 3), True), (D(2025, 12, 26), True), (D(2026, 11, 23), True),
])
def test_business_days_are_weekdays_that_are_not_public_holidays(day, business):
    assert is_business_day(day) is business


def test_the_reception_day_itself_never_counts():
    assert add_business_days(D(2026, 11, 23), 1) == D(2026, 11, 24)  # received Monday: Tuesday is day 1
    assert add_business_days(D(2026, 11, 21), 1) == D(2026, 11, 23)  # received Saturday: Monday is day 1
    # Received on Friday, Saturday or Sunday: the count starts on Monday all the same.
    assert sla_due_date(D(2026, 11, 20)) == sla_due_date(D(2026, 11, 21)) == sla_due_date(D(2026, 11, 22)) \
        == D(2026, 12, 11)
    assert add_business_days(D(2026, 12, 24), 1) == D(2026, 12, 28)


@given(st.dates(min_value=D(2016, 1, 1), max_value=D(2040, 12, 31)))
def test_the_due_date_is_the_fifteenth_business_day_after_reception(received):
    due = sla_due_date(received)
    assert is_business_day(due)
    between = [received + dt.timedelta(days=n) for n in range(1, (due - received).days + 1)]
    assert sum(1 for day in between if is_business_day(day)) == 15
    assert business_days_left(received, due) == 15


@pytest.mark.parametrize(("today", "due", "left"), [
    (D(2026, 12, 14), D(2026, 12, 14), 0),
    (D(2026, 12, 11), D(2026, 12, 14), 1),  # Friday for Monday
    (D(2026, 12, 23), D(2026, 12, 28), 2),  # past Christmas
    (D(2026, 12, 15), D(2026, 12, 14), -1),
    (D(2026, 12, 12), D(2026, 12, 11), -1),  # Saturday, due Friday: overdue already
    (D(2026, 12, 14), D(2026, 12, 11), -1),  # Monday, due Friday
    (D(2026, 12, 16), D(2026, 12, 11), -3),
])
def test_business_days_left_count_down_then_go_negative(today, due, left):
    assert business_days_left(today, due) == left
