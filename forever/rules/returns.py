"""Returns: whether a purchase may still be returned and until when, refunds, and store credit notes."""

from __future__ import annotations

import calendar
import datetime as dt

import msgspec

from forever.catalog.model import CATEGORIES
from forever.errors import InvalidInput
from forever.rules.ruleset import CHANNELS, ONLINE, RuleSet, require_country_code, rules_in_force

# Reasons a return is refused, in the order a decision lists them.
NON_RETURNABLE_CATEGORY = "non_returnable_category"
PERSONALISED = "personalised"
TAX_FREE = "tax_free"
OUTLET_PURCHASE = "outlet_purchase"
SALE_PERIOD_ENDED = "sale_period_ended"
RETURN_WINDOW_CLOSED = "return_window_closed"


class ReturnDecision(msgspec.Struct, frozen=True):
    """Whether a return may be requested today, why not, and the last day it may be requested.

    `deadline` is None when no day would do: a piece that is never returnable, or a sale that ended before the
    piece was delivered or bought.
    """

    eligible: bool
    reasons: list[str]
    deadline: dt.date | None


class StoreCreditNote(msgspec.Struct, frozen=True, kw_only=True):
    """The credit a boutique gives for a returned purchase: who, where, and until when it can be spent."""

    country: str
    issued_on: dt.date
    valid_until: dt.date
    nominative: bool


def return_eligibility(
    channel: str,
    category: str,
    *,
    delivered_on: dt.date | None = None,
    purchased_on: dt.date | None = None,
    today: dt.date,
    on_sale: bool = False,
    sale_ends_on: dt.date | None = None,
    personalised: bool = False,
    tax_free: bool = False,
    outlet: bool = False,
) -> ReturnDecision:
    """May a piece be returned `today`?

    Online (`delivered_on` required): 14 calendar days from delivery, day 14 in, day 15 out (002_: "You have
    14 calendar days from the date of receipt of your order to register your return request"). In a store
    (`purchased_on` required): 30 calendar days from purchase. A sale item (`on_sale`, with `sale_ends_on`,
    the sale period's last day) only within its sale period (002_). Underwear, swimwear, personalised,
    tax-free and outlet purchases never. The rules are those in force on the day of delivery (online) or
    purchase (store): the ones the piece was sold under.
    """
    start = _start_date(channel, delivered_on, purchased_on, today)
    if category not in CATEGORIES:
        raise InvalidInput(f"{category!r} is not a category.", code="unknown_category",
                           errors=[{"field": "category", "message": "unknown"}])
    if on_sale and sale_ends_on is None:
        raise InvalidInput("A sale item's return window depends on its sale period: give sale_ends_on.",
                           code="missing_date", errors=[{"field": "sale_ends_on", "message": "required"}])
    rules = rules_in_force(start)

    never = _never_returnable(rules, category, personalised, tax_free, outlet)
    if never:
        return ReturnDecision(eligible=False, reasons=never, deadline=None)
    window_days = rules.online_return_days if channel == ONLINE else rules.store_return_days
    deadline, closing_reason = start + dt.timedelta(days=window_days), RETURN_WINDOW_CLOSED
    if on_sale and sale_ends_on is not None and not rules.sale_items_returnable_after_sale_period:
        if sale_ends_on < start:
            return ReturnDecision(eligible=False, reasons=[SALE_PERIOD_ENDED], deadline=None)
        if sale_ends_on < deadline:
            deadline, closing_reason = sale_ends_on, SALE_PERIOD_ENDED
    if today > deadline:
        return ReturnDecision(eligible=False, reasons=[closing_reason], deadline=deadline)
    return ReturnDecision(eligible=True, reasons=[], deadline=deadline)


def refund_deadline(return_received_on: dt.date) -> dt.date:
    """The last day to refund a compliant return (001_: "within fourteen (14) days from receipt of the
    returned Products")."""
    return return_received_on + dt.timedelta(days=rules_in_force(return_received_on).refund_days)


def store_credit_note_validity(issued_on: dt.date, country: str) -> StoreCreditNote:
    """The credit note a boutique issues for a returned purchase: nominative, spendable until the same day a
    year later (28 February for one issued on 29 February, never beyond a year) in AMI's own stores of the
    country that issued it (002_: "The credit is nominative and valid for one year in AMI PARIS's own stores
    located in the same country in which the credit was issued")."""
    require_country_code(country)
    rules = rules_in_force(issued_on)
    return StoreCreditNote(country=country, issued_on=issued_on,
                           valid_until=_months_later(issued_on, rules.store_credit_valid_months),
                           nominative=rules.store_credit_nominative)


def _start_date(channel: str, delivered_on: dt.date | None, purchased_on: dt.date | None,
                today: dt.date) -> dt.date:
    """The day the return window opens: delivery online, purchase in a store."""
    if channel not in CHANNELS:
        raise InvalidInput(f"{channel!r} is not a channel (one of {', '.join(CHANNELS)}).",
                           code="unknown_channel", errors=[{"field": "channel", "message": "unknown"}])
    field, start = ("delivered_on", delivered_on) if channel == ONLINE else ("purchased_on", purchased_on)
    if start is None:
        raise InvalidInput(f"A return of a {channel} purchase counts from {field}: give it.",
                           code="missing_date", errors=[{"field": field, "message": "required"}])
    if start > today:
        raise InvalidInput(f"{field} ({start.isoformat()}) is after today ({today.isoformat()}).",
                           code="date_in_future", errors=[{"field": field, "message": "after today"}])
    return start


def _never_returnable(rules: RuleSet, category: str, personalised: bool, tax_free: bool,
                      outlet: bool) -> list[str]:
    reasons = []
    if category in rules.non_returnable_categories:
        reasons.append(NON_RETURNABLE_CATEGORY)
    if personalised and not rules.personalised_returnable:
        reasons.append(PERSONALISED)
    if tax_free and not rules.tax_free_returnable:
        reasons.append(TAX_FREE)
    if outlet and not rules.outlet_purchases_returnable:
        reasons.append(OUTLET_PURCHASE)
    return reasons


def _months_later(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, or that month's last day when it is shorter (never beyond the period)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
