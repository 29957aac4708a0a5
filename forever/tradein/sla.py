"""The grading deadline in French business days. Pure: no database, no web.

003_38b7e7f894448fa2.txt: "vous serez notifié par email sous 15 jours ouvrés (à compter de la date de
réception de votre colis par notre entrepôt)". Business days skip Saturdays, Sundays and metropolitan France's
public holidays (the `holidays` library's France without a subdivision: no Alsace-Moselle extras). Dates are
Europe/Paris calendar dates.
"""

from __future__ import annotations

import datetime as dt

import holidays

SLA_BUSINESS_DAYS = 15
_ONE_DAY = dt.timedelta(days=1)
_FRANCE = holidays.France()  # metropolitan France; fills in each year on first use


def is_business_day(day: dt.date) -> bool:
    """Monday to Friday, and not a French public holiday."""
    return day.weekday() < 5 and day not in _FRANCE


def add_business_days(start: dt.date, count: int) -> dt.date:
    """The `count`-th business day after `start` (`start` itself never counts, whatever day it is)."""
    if count < 0:
        raise ValueError("count business days forwards only")
    day = start
    while count:
        day += _ONE_DAY
        if is_business_day(day):
            count -= 1
    return day


def sla_due_date(received_on: dt.date) -> dt.date:
    """When the seller must have heard about each piece: 15 business days after the reception day."""
    return add_business_days(received_on, SLA_BUSINESS_DAYS)


def business_days_left(today: dt.date, due: dt.date) -> int:
    """Business days from `today` until `due`: 0 when due today, negative once overdue.

    Counted like `add_business_days`: due the next business day is 1. Once the date has passed it is minus
    the business days since, and never 0: a deadline of Friday is -1 on the Saturday and on the Monday.
    """
    if due >= today:
        return _business_days_between(today, due)
    return -max(1, _business_days_between(due, today))


def _business_days_between(first: dt.date, last: dt.date) -> int:
    """Business days in (first, last]."""
    return sum(1 for offset in range(1, (last - first).days + 1)
               if is_business_day(first + dt.timedelta(days=offset)))
