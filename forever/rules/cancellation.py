"""Cancellation: the window after an order is confirmed."""

from __future__ import annotations

import datetime as dt

from forever.clock import PARIS
from forever.errors import InvalidInput
from forever.rules.ruleset import rules_in_force


def cancellation_deadline(confirmed_at: dt.datetime) -> dt.datetime:
    """The last moment (in UTC) an order may be cancelled: 30 minutes after confirmation (002_: "Once your
    order is confirmed, you have only 30 minutes to request cancellation of your order")."""
    _require_timezone(confirmed_at, "confirmed_at")
    minutes = rules_in_force(confirmed_at.astimezone(PARIS).date()).cancellation_minutes
    # Added in UTC: on Paris' own clock, 30 minutes across the October change would be 90.
    return confirmed_at.astimezone(dt.timezone.utc) + dt.timedelta(minutes=minutes)


def can_cancel(confirmed_at: dt.datetime, now: dt.datetime) -> bool:
    """True up to and including the deadline itself (30 minutes in, a moment later out)."""
    _require_timezone(now, "now")
    return now <= cancellation_deadline(confirmed_at)


def _require_timezone(moment: dt.datetime, field: str) -> None:
    # A naive time could be Paris or UTC: an hour's doubt on a 30-minute window.
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInput(f"{field} must carry its UTC offset.", code="missing_timezone",
                           errors=[{"field": field, "message": "no UTC offset"}])
