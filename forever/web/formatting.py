"""How pages write money and dates: one style everywhere ("€1,290", "22 December 2026", Paris time)."""

from __future__ import annotations

import datetime as dt
import re

from forever.clock import PARIS
from forever.money import Money

CURRENCY_SIGNS = {"EUR": "€", "GBP": "£", "USD": "$"}
# Spelled out rather than strftime("%B"), which follows the process locale.
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")


def money(value: Money | None) -> str:
    """"€84" for whole amounts, "€84.50" otherwise; an empty string for no amount."""
    if value is None:
        return ""
    sign = CURRENCY_SIGNS.get(value.currency, value.currency + " ")
    major = value.major
    text = f"{major:,.0f}" if major == major.to_integral_value() else f"{major:,.2f}"
    return f"{sign}{text}"


def _in_paris(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(PARIS)


def day(moment: dt.datetime | dt.date) -> str:
    """"22 December 2026", on the Paris calendar."""
    if isinstance(moment, dt.datetime):
        moment = _in_paris(moment).date()
    return f"{moment.day} {MONTHS[moment.month - 1]} {moment.year}"


def day_and_time(moment: dt.datetime) -> str:
    """"22 November 2026, 14:05" in Paris time."""
    local = _in_paris(moment)
    return f"{day(local)}, {local:%H:%M}"


def iso_day(moment: dt.datetime) -> str:
    """The Paris date as YYYY-MM-DD, for <time datetime>."""
    return _in_paris(moment).date().isoformat()


HELPERS = {"money": money, "day": day, "day_and_time": day_and_time, "iso_day": iso_day}


def euros(text: str) -> Money:
    """An amount typed in euros ("40", "12.50", "12,50 €") as Money; ValueError with a message to show."""
    cleaned = text.strip().replace("€", "").replace("EUR", "").replace(" ", "").replace("\u202f", "")
    if not cleaned:
        raise ValueError("Enter an amount in euros, such as 40 or 12.50.")
    if re.fullmatch(r"\d+,\d{1,2}", cleaned):
        cleaned = cleaned.replace(",", ".")  # a French decimal comma
    try:
        amount = Money.from_major(cleaned)
    except ValueError:
        raise ValueError("Enter an amount in euros, such as 40 or 12.50 (at most two decimals).") from None
    if amount.amount <= 0:
        raise ValueError("Enter an amount above zero.")
    if amount.amount > 100_000_000:
        raise ValueError("That amount is far too large.")
    return amount
