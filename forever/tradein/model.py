"""Trade-in rules: who may sell, which pieces are taken, and what each is worth. Pure: no database, no web."""

from __future__ import annotations

import functools
import tomllib
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec

from forever.catalog.model import ACCEPTED_CONDITIONS, CATEGORIES, EXCLUDED_CATEGORIES, Product, Season
from forever.clock import age_on, current_season
from forever.money import MINOR_UNITS, Money

DEFAULT_GRID_PATH = Path(__file__).with_name("pricing_grid.toml")

# Sellers (003_38b7e7f894448fa2.txt: "âgées de 18 ans et plus, et résidant en France, en Allemagne,
# en Italie, en Espagne, en Belgique ou aux Pays-Bas"). Codes are upper-case ISO 3166 alpha-2: the wire layer
# normalises them.
SERVED_COUNTRIES: frozenset[str] = frozenset({"FR", "DE", "IT", "ES", "BE", "NL"})
ADULT_AGE = 18

# Seller refusal codes (CONTRACT.md, "Accounts" and "Trade-in").
MINOR = "minor"
COUNTRY_NOT_SERVED = "country_not_served"

# Quote line reason codes (CONTRACT.md, "Categories and reasons"), in the order a line lists them.
UNKNOWN_PRODUCT = "unknown_product"
EXCLUDED_CATEGORY = "excluded_category"
CURRENT_SEASON = "current_season"
SEASON_TOO_OLD = "season_too_old"
CONDITION_NOT_ACCEPTED = "condition_not_accepted"

# 003_38b7e7f894448fa2.txt: "Nous ne reprenons pas les articles [...] des saisons antérieures à 2016."
FIRST_ELIGIBLE_SEASON = Season("SS16")

TAKEN_CATEGORIES: tuple[str, ...] = tuple(c for c in CATEGORIES if c not in EXCLUDED_CATEGORIES)
AGE_FLOOR_KEY = "floor"
_GRID_KEYS = frozenset({
    "version", "effective_from", "currency", "minimum_offer_eur",
    "category_rate", "condition_factor", "age_factor",
})


# --- sellers ------------------------------------------------------------------------------------------------


def is_adult(birth_date: date, today: date) -> bool:
    """True from the 18th birthday itself onwards.

    Someone born on 29 February turns 18 on 1 March in a common year (`clock.age_on`): of the two candidate
    dates, the later one never lets a minor in.
    """
    return age_on(birth_date, today) >= ADULT_AGE


def seller_refusal(country: str, birth_date: date, today: date) -> str | None:
    """The code refusing this seller a trade-in (`minor`, `country_not_served`), or None when they may sell.

    `country` must already be an upper-case ISO 3166 alpha-2 code: "fr" is refused, not guessed at.
    """
    if not is_adult(birth_date, today):
        return MINOR
    if country not in SERVED_COUNTRIES:
        return COUNTRY_NOT_SERVED
    return None


# --- the pricing grid ---------------------------------------------------------------------------------------


class PricingGrid(msgspec.Struct, frozen=True, kw_only=True):
    """One version of the business-editable grid that prices trade-in offers (see pricing_grid.toml)."""

    version: str
    effective_from: date
    minimum_offer: Money
    category_rate: dict[str, Decimal]
    condition_factor: dict[str, Decimal]
    # age_factors[0] applies to the season just before the current one, age_factors[1] to the one before...
    age_factors: tuple[Decimal, ...]
    age_floor: Decimal

    @property
    def currency(self) -> str:
        return self.minimum_offer.currency

    def age_factor(self, seasons_old: int) -> Decimal:
        """The factor for a piece `seasons_old` seasons (1 or more) before the current season."""
        if seasons_old < 1:
            raise ValueError(f"a piece of the current or a later season has no age factor ({seasons_old})")
        if seasons_old <= len(self.age_factors):
            return self.age_factors[seasons_old - 1]
        return self.age_floor


def load_grid(path: Path | str = DEFAULT_GRID_PATH) -> PricingGrid:
    """Read and check a pricing grid file; ValueError names the first wrong entry."""
    return parse_grid(Path(path).read_text(encoding="utf-8"))


def parse_grid(text: str) -> PricingGrid:
    """Check and build a pricing grid from TOML text; ValueError names the first wrong entry."""
    # Decimal, not float: the grid's figures end up in money.
    document = tomllib.loads(text, parse_float=Decimal)
    unknown = sorted(set(document) - _GRID_KEYS)
    if unknown:
        raise ValueError(f"pricing grid: unknown key {unknown[0]!r}")

    version = _required(document, "version")
    if not isinstance(version, str) or not version.strip():
        raise ValueError("pricing grid: 'version' must be a non-empty string")
    effective_from = _required(document, "effective_from")
    if type(effective_from) is not date:
        raise ValueError("pricing grid: 'effective_from' must be a date such as 2026-01-01")
    currency = _required(document, "currency")
    if currency != "EUR":
        # Catalogue retail prices are EUR cents (catalog.model.Product).
        raise ValueError(f"pricing grid: 'currency' must be 'EUR', not {currency!r}")
    minimum_offer_eur = _required(document, "minimum_offer_eur")
    if type(minimum_offer_eur) is not int or minimum_offer_eur < 1:
        raise ValueError("pricing grid: 'minimum_offer_eur' must be a whole number of euros, 1 or more")

    category_rate = _fractions(document, "category_rate", expected=TAKEN_CATEGORIES)
    condition_factor = _fractions(document, "condition_factor", expected=ACCEPTED_CONDITIONS)
    # ACCEPTED_CONDITIONS runs best first: a better condition must never earn less.
    for better, worse in zip(ACCEPTED_CONDITIONS, ACCEPTED_CONDITIONS[1:]):
        if condition_factor[better] < condition_factor[worse]:
            raise ValueError(
                f"pricing grid: 'condition_factor.{worse}' ({condition_factor[worse]}) is above "
                f"'condition_factor.{better}' ({condition_factor[better]})"
            )
    age_factors, age_floor = _age_factors(document)

    return PricingGrid(
        version=version.strip(),
        effective_from=effective_from,
        minimum_offer=Money(minimum_offer_eur * MINOR_UNITS[currency], currency),
        category_rate=category_rate,
        condition_factor=condition_factor,
        age_factors=age_factors,
        age_floor=age_floor,
    )


def _required(table: dict[str, Any], key: str, prefix: str = "") -> Any:
    if key not in table:
        raise ValueError(f"pricing grid: missing {prefix + key!r}")
    return table[key]


def _table(document: dict[str, Any], name: str) -> dict[str, Any]:
    table = _required(document, name)
    if not isinstance(table, dict):
        raise ValueError(f"pricing grid: {name!r} must be a table ([{name}])")
    return table


def _fraction(value: Any, key: str) -> Decimal:
    """A factor in (0, 1]; TOML integers 1 (and 0, refused below) are accepted as numbers."""
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise ValueError(f"pricing grid: {key!r} must be a number, not {value!r}")
    fraction = Decimal(value)
    if not fraction.is_finite() or not Decimal(0) < fraction <= Decimal(1):
        raise ValueError(f"pricing grid: {key!r} = {value} is not in (0, 1]")
    return fraction


def _fractions(document: dict[str, Any], name: str, *, expected: tuple[str, ...]) -> dict[str, Decimal]:
    table = _table(document, name)
    extra = [key for key in table if key not in expected]
    if extra:
        raise ValueError(f"pricing grid: '{name}.{extra[0]}' is not one of {', '.join(expected)}")
    return {key: _fraction(_required(table, key, f"{name}."), f"{name}.{key}") for key in expected}


def _age_factors(document: dict[str, Any]) -> tuple[tuple[Decimal, ...], Decimal]:
    table = _table(document, "age_factor")
    floor = _fraction(_required(table, AGE_FLOOR_KEY, "age_factor."), f"age_factor.{AGE_FLOOR_KEY}")
    ages = [key for key in table if key != AGE_FLOOR_KEY]
    for key in ages:
        if not key.isdigit() or int(key) < 1:
            raise ValueError(
                f"pricing grid: 'age_factor.{key}' must be a number of seasons (1, 2, ...) "
                f"or '{AGE_FLOOR_KEY}'"
            )
    count = len(ages)
    for age in range(1, count + 1):
        _required(table, str(age), "age_factor.")  # no gaps: 1, 2, ... up to the last one listed
    factors = tuple(_fraction(table[str(age)], f"age_factor.{age}") for age in range(1, count + 1))
    for age in range(2, count + 1):
        if factors[age - 1] > factors[age - 2]:
            raise ValueError(
                f"pricing grid: 'age_factor.{age}' ({factors[age - 1]}) is above "
                f"'age_factor.{age - 1}' ({factors[age - 2]}): an older piece cannot earn more"
            )
    if factors and floor > factors[-1]:
        raise ValueError(
            f"pricing grid: 'age_factor.{AGE_FLOOR_KEY}' ({floor}) is above "
            f"'age_factor.{count}' ({factors[-1]})"
        )
    return factors, floor


# --- quote lines --------------------------------------------------------------------------------------------


class LineVerdict(msgspec.Struct, frozen=True, kw_only=True):
    """Whether one quote line is taken, every reason it is not, and its offer when it is."""

    eligible: bool
    reasons: tuple[str, ...]
    offer: Money | None


@functools.lru_cache(maxsize=16)
def _season_on(today: date) -> Season:
    """The season on sale on `today` (cached: every quote line asks)."""
    return Season(current_season(today))


def product_refusal_reasons(product: Product, today: date) -> tuple[str, ...]:
    """Why a product is never taken back, whatever its condition (empty when it may be)."""
    return _refusal_reasons(product.category, product.season, None, today)


def line_refusal_reasons(product: Product | None, condition: str, today: date) -> tuple[str, ...]:
    """Every reason a piece in this condition is refused (empty when it is taken)."""
    if product is None:
        return (UNKNOWN_PRODUCT,)
    return _refusal_reasons(product.category, product.season, condition, today)


@functools.lru_cache(maxsize=4096)
def _refusal_reasons(category: str, season: str, condition: str | None, today: date) -> tuple[str, ...]:
    """The reasons for a category, season and (when given) condition on `today`: a handful of answers that
    every quote line asks again (cached, bench/quotes.py)."""
    reasons: list[str] = []
    if category in EXCLUDED_CATEGORIES:
        reasons.append(EXCLUDED_CATEGORY)
    collection = Season(season)
    # A season later than the current one (shown ahead of its sale) is refused like the current one.
    if collection.seasons_before(_season_on(today)) < 1:
        reasons.append(CURRENT_SEASON)
    if collection < FIRST_ELIGIBLE_SEASON:
        reasons.append(SEASON_TOO_OLD)
    if condition is not None and condition not in ACCEPTED_CONDITIONS:
        reasons.append(CONDITION_NOT_ACCEPTED)
    return tuple(reasons)


def judge_line(product: Product | None, condition: str, grid: PricingGrid, today: date) -> LineVerdict:
    """Judge one quote line: all its refusal reasons, or the offer when there are none."""
    reasons = line_refusal_reasons(product, condition, today)
    if reasons or product is None:
        return LineVerdict(eligible=False, reasons=reasons, offer=None)
    return LineVerdict(eligible=True, reasons=(), offer=_price(product, condition, grid, today))


def offer_for(product: Product, condition: str, grid: PricingGrid, today: date) -> Money:
    """The offer for a piece that is taken: whole euros, at least the grid's minimum, never above retail.

    offer = min(max(round_half_up(retail x category rate x condition factor x age factor), minimum),
                retail rounded down to whole euros)
    Rounding, max and min are all non-decreasing, so a higher factor never yields a lower offer. The cap wins
    over the minimum: a piece retailing under the minimum is offered its retail price rounded down.
    Raises ValueError for a piece that is not taken (see `line_refusal_reasons`).
    """
    reasons = line_refusal_reasons(product, condition, today)
    if reasons:
        raise ValueError(f"{product.ref} in condition {condition!r} is not taken: {', '.join(reasons)}")
    return _price(product, condition, grid, today)


# The factors of the last grid and day priced, as exact fractions, by (category, condition, season). Lines of
# one day ask for the same few, so each is worked out once; a new grid (the file was edited) or a new day
# starts afresh. The grid is compared by identity: a PricingGrid is frozen.
_factors: list[Any] = [None, None, {}]


def _factor(grid: PricingGrid, today: date, category: str, condition: str, season: str) -> tuple[int, int]:
    """category rate x condition factor x age factor, as (numerator, denominator)."""
    if _factors[0] is not grid or _factors[1] != today:
        _factors[:] = [grid, today, {}]
    table = _factors[2]
    key = (category, condition, season)
    fraction = table.get(key)
    if fraction is None:
        age = grid.age_factor(Season(season).seasons_before(_season_on(today)))
        fraction = table[key] = (grid.category_rate[category] * grid.condition_factor[condition] * age
                                 ).as_integer_ratio()
    return fraction


def _price(product: Product, condition: str, grid: PricingGrid, today: date) -> Money:
    """`offer_for` without the eligibility check, for callers that have just made it.

    Integer arithmetic on the exact factor: every quote line runs this (bench/quotes.py).
    """
    numerator, denominator = _factor(grid, today, product.category, condition, product.season)
    unit = MINOR_UNITS[grid.currency]
    # round_half_up(retail x n / (d x unit)) for a non-negative amount, exactly.
    whole_units = (2 * product.retail_price * numerator + denominator * unit) // (2 * denominator * unit)
    amount = max(whole_units * unit, grid.minimum_offer.amount)
    return Money(min(amount, product.retail_price // unit * unit), grid.currency)


# --- trade-ins, parcels, pieces -----------------------------------------------------------------------------

# What becomes of a piece the experts refuse (DESIGN.md, "Grading and credit"): the seller chooses when accepting.
REFUSED_ITEM_CHOICES: tuple[str, ...] = ("return", "donate")
# 003_: one parcel for all the pieces, sent on a prepaid label. Our decision: to be dropped off within 30 days.
SHIP_BY_DAYS = 30

LABEL_CREATED, DROPPED_OFF, IN_TRANSIT, DELIVERED, RECEIVED = (
    "label_created", "dropped_off", "in_transit", "delivered", "received")
# A parcel's status is the furthest step any of its events reached, whatever order the events arrived in.
# `delivered` is the carrier's word; `received` is the warehouse's scan, the only one that starts the SLA.
PARCEL_PROGRESS: tuple[str, ...] = (LABEL_CREATED, DROPPED_OFF, IN_TRANSIT, DELIVERED, RECEIVED)
CARRIER_EVENTS: tuple[str, ...] = (DROPPED_OFF, IN_TRANSIT, DELIVERED)

AWAITING_SHIPMENT, AWAITING_GRADING = "awaiting_shipment", "awaiting_grading"
# Statuses only move forwards along these; grading adds its own after them (graded, closed; credited, ...).
TRADEIN_PROGRESS: tuple[str, ...] = (AWAITING_SHIPMENT, IN_TRANSIT, RECEIVED)
ITEM_PROGRESS: tuple[str, ...] = (AWAITING_SHIPMENT, IN_TRANSIT, AWAITING_GRADING)

_TRADEIN_OF_PARCEL = {LABEL_CREATED: AWAITING_SHIPMENT, DROPPED_OFF: IN_TRANSIT, IN_TRANSIT: IN_TRANSIT,
                      DELIVERED: IN_TRANSIT, RECEIVED: RECEIVED}
_ITEM_OF_PARCEL = {**_TRADEIN_OF_PARCEL, RECEIVED: AWAITING_GRADING}


# Grading (forever.grading) then settles each piece: credited at the offer (or at an accepted counter-offer),
# refused, or, after a counter-offer, sent back or donated at the seller's word.
CREDITED, COUNTER_OFFER, REFUSED = "credited", "counter_offer", "refused"
RETURNED, DONATED = "returned", "donated"
SETTLED_ITEM_STATUSES: frozenset[str] = frozenset({CREDITED, REFUSED, RETURNED, DONATED})
# A received trade-in is `graded` once every piece is decided, `closed` once every piece is settled.
GRADED, CLOSED = "graded", "closed"


def tradein_status_after_grading(item_statuses: list[str]) -> str | None:
    """Where a received trade-in stands once its pieces are at these statuses; None while some still await
    grading (it stays `received`)."""
    if any(status in ITEM_PROGRESS for status in item_statuses):
        return None
    return CLOSED if all(status in SETTLED_ITEM_STATUSES for status in item_statuses) else GRADED


def furthest_parcel_status(*statuses: str) -> str:
    """The most advanced of parcel statuses or events (an event names the status it leads to)."""
    return max(statuses, key=PARCEL_PROGRESS.index)


def tradein_status_for(parcel_status: str) -> str:
    """Where a trade-in stands once its parcel is at `parcel_status`."""
    return _TRADEIN_OF_PARCEL[parcel_status]


def item_status_for(parcel_status: str) -> str:
    """Where each piece in a parcel stands once the parcel is at `parcel_status`."""
    return _ITEM_OF_PARCEL[parcel_status]


def statuses_before(progress: tuple[str, ...], status: str) -> tuple[str, ...]:
    """The statuses that `status` may replace: those before it on `progress` (never a later one)."""
    return progress[:progress.index(status)]


def ship_by(accepted_on: date) -> date:
    """The last day to drop the parcel off."""
    return date.fromordinal(accepted_on.toordinal() + SHIP_BY_DAYS)


def tradein_reference(tradein_id: str) -> str:
    """The short reference printed on the label and the deed, e.g. "AFE-3F9A2C1B" (for people; the id and the
    tracking number are the keys)."""
    return "AFE-" + tradein_id.replace("-", "")[:8].upper()
