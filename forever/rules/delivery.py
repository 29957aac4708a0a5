"""Delivery: where we deliver, by which method, and what it costs."""

from __future__ import annotations

import datetime as dt

import msgspec

from forever import clock
from forever.errors import InvalidInput
from forever.money import Money
from forever.rules.ruleset import (
    DELIVERY_METHODS,
    DeliveryOption,
    DeliveryZone,
    RuleSet,
    require_country_code,
    rules_in_force,
)


class DeliveryFee(msgspec.Struct, frozen=True):
    """What delivery costs for one subtotal, and the subtotal from which it would be free (None: never)."""

    fee: Money
    free_threshold: Money | None


def delivery_fee(country: str, method: str, subtotal: Money, *, on: dt.date | None = None) -> DeliveryFee:
    """The fee for delivering an order of `subtotal` to `country` by `method`, under the rules in force `on`
    (default: today).

    Free from the threshold itself: in the EU EUR 299.99 pays, EUR 300 does not (002_: "free for all orders
    over €300", DESIGN.md: "from EUR 300"). The subtotal must be in the country's currency (GBP for GB).
    """
    rules = rules_in_force(on or clock.today())
    zone = delivery_zone(country, rules)
    option = _option(zone, method)
    if subtotal.currency != zone.currency:
        raise InvalidInput(
            f"Orders delivered to {country} are paid in {zone.currency}, not {subtotal.currency}.",
            code="currency_mismatch",
            errors=[{"field": "subtotal.currency", "message": f"expected {zone.currency}"}],
        )
    if subtotal.amount < 0:
        raise InvalidInput("A subtotal cannot be negative.", code="negative_amount",
                           errors=[{"field": "subtotal.amount", "message": "must be 0 or more"}])
    is_free = option.free_from is not None and subtotal >= option.free_from
    fee = Money.zero(zone.currency) if is_free else option.fee
    return DeliveryFee(fee=fee, free_threshold=option.free_from)


def delivery_zone(country: str, rules: RuleSet) -> DeliveryZone:
    """The zone delivering to an upper-case ISO 3166 alpha-2 code (`GB` for the UK); 422 when not served."""
    require_country_code(country)
    zone = rules.zone_of(country)
    if zone is None:
        raise InvalidInput(f"We do not deliver to {country}.", code="country_not_served",
                           errors=[{"field": "country", "message": "not a country we deliver to"}])
    return zone


def delivery_methods(country: str, *, on: dt.date | None = None) -> tuple[str, ...]:
    """The methods a buyer may choose for `country` (only express outside Europe: 002_ "DHL STANDARD: Only
    available in Europe")."""
    zone = delivery_zone(country, rules_in_force(on or clock.today()))
    return tuple(option.method for option in zone.options)


def _option(zone: DeliveryZone, method: str) -> DeliveryOption:
    if method not in DELIVERY_METHODS:
        raise InvalidInput(f"{method!r} is not a delivery method (one of {', '.join(DELIVERY_METHODS)}).",
                           code="unknown_delivery_method", errors=[{"field": "method", "message": "unknown"}])
    option = zone.option(method)
    if option is None:
        offered = ", ".join(option.method for option in zone.options)
        raise InvalidInput(f"{method.capitalize()} delivery is not offered there; choose {offered}.",
                           code="delivery_method_not_available",
                           errors=[{"field": "method", "message": f"not offered: choose {offered}"}])
    return option
