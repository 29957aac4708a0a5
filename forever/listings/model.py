"""Resale shop rules: stock and listing statuses, refurbishment, the resale price grid, search vocabulary,
reservations, orders and returns. Pure: no database, no web. Amounts are integer cents of EUR.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import msgspec

from forever.catalog.model import ACCEPTED_CONDITIONS, CATEGORIES, EXCLUDED_CATEGORIES, Season, fold
from forever.clock import current_season
from forever.money import MINOR_UNITS

CURRENCY = "EUR"
DEFAULT_GRID_PATH = Path(__file__).with_name("resale_grid.toml")

# --- a piece's life in the shop -------------------------------------------------------------------------------

# stock: in the warehouse, being refurbished (not shown); live: for sale; reserved: in a buyer's checkout
# (lapses); sold: in an order. A received return puts the piece back in stock.
STOCK, LIVE, RESERVED, SOLD = "stock", "live", "reserved", "sold"
LISTING_STATUSES: tuple[str, ...] = (STOCK, LIVE, RESERVED, SOLD)
# What a buyer may look at (a stock piece is not in the shop, even by its address).
SHOWN_STATUSES: tuple[str, ...] = (LIVE, RESERVED, SOLD)

# Refurbishment, in the order the warehouse does it; every step before a piece goes live.
CLEANED, PRESSED, RETAGGED, PHOTOGRAPHED = "cleaned", "pressed", "retagged", "photographed"
STEPS: tuple[str, ...] = (CLEANED, PRESSED, RETAGGED, PHOTOGRAPHED)

# A checkout holds its pieces this long; an abandoned one lapses and the pieces are for sale again.
RESERVATION_TIME = dt.timedelta(minutes=15)
MAX_PIECES_PER_ORDER = 20
MAX_LISTING_PHOTOS = 12

# Condition definitions shown to buyers: 003_38b7e7f894448fa2.txt's own words, and their English.
CONDITION_DEFINITIONS: dict[str, tuple[str, str, str]] = {  # code -> (title, English, French)
    "new_with_tags": ("New with tags", "Never worn, original outer tag still on.",
                      "Etat neuf\u00a0: ces articles n'ont jamais été portés et ont conservé leur étiquette "
                      "extérieure d'origine"),
    "excellent": ("Excellent", "Practically new, no signs of wear and no visible defects.",
                  "Excellent état\u00a0: Ces articles sont pratiquement neufs sans traces d'usure ni défauts "
                  "visibles"),
    "very_good": ("Very good", "Minor signs of wear only: creases from wearing, fabric softer than when new, "
                  "slight pilling.",
                  "Très bon état\u00a0: Ces articles ne présentent que des traces d'usure mineures"),
}
assert tuple(CONDITION_DEFINITIONS) == ACCEPTED_CONDITIONS


def missing_steps(done: dict[str, bool]) -> list[str]:
    """The refurbishment steps not ticked yet, in the warehouse's order."""
    return [step for step in STEPS if not done.get(step)]


def is_available(status: str, reserved_by: str | None, reserved_until: dt.datetime | None, for_order: bool,
                 buyer: str | None, now: dt.datetime) -> bool:
    """Whether `buyer` may take a piece now: it is live, or in their own checkout, or its reservation has
    lapsed (the job that puts lapsed pieces back on sale may not have run yet). A piece reserved for an order
    being paid is nobody's to take, not even its buyer's (that order is still going through)."""
    if status == LIVE:
        return True
    if status != RESERVED:
        return False
    if reserved_until is None or reserved_until <= now:
        return True
    return buyer is not None and reserved_by == buyer and not for_order


# --- the resale price grid ------------------------------------------------------------------------------------

RESALE_CATEGORIES: tuple[str, ...] = tuple(c for c in CATEGORIES if c not in EXCLUDED_CATEGORIES)
AGE_FLOOR_KEY = "floor"
_GRID_KEYS = frozenset({"version", "effective_from", "currency", "minimum_price_eur", "rounding_eur",
                        "category_rate", "condition_factor", "age_factor"})


class ResaleGrid(msgspec.Struct, frozen=True, kw_only=True):
    """One version of the business-editable grid that prices resale listings (see resale_grid.toml)."""

    version: str
    effective_from: dt.date
    minimum_price: int  # cents
    rounding: int  # cents
    category_rate: dict[str, Decimal]
    condition_factor: dict[str, Decimal]
    age_factors: tuple[Decimal, ...]  # [0] for last season, [1] for the one before, ...
    age_floor: Decimal

    def age_factor(self, seasons_old: int) -> Decimal:
        """The factor of a piece `seasons_old` seasons before the current one (0 or less counts as 1)."""
        seasons_old = max(seasons_old, 1)
        return self.age_factors[seasons_old - 1] if seasons_old <= len(self.age_factors) else self.age_floor

    def price(self, retail_price: int, category: str, condition: str, season: str, today: dt.date) -> int:
        """The grid price in cents: retail x rates, rounded to the grid's step (half up), at least the
        minimum, never above the retail price."""
        if category not in self.category_rate:
            raise ValueError(f"the resale grid has no rate for category {category!r}")
        if condition not in self.condition_factor:
            raise ValueError(f"pieces in condition {condition!r} are not sold")
        seasons_old = Season(season).seasons_before(Season(current_season(today)))
        factor = (self.category_rate[category] * self.condition_factor[condition]
                  * self.age_factor(seasons_old))
        steps = (Decimal(retail_price) * factor / self.rounding).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        return min(max(int(steps) * self.rounding, self.minimum_price), retail_price)


def load_grid(path: Path | str = DEFAULT_GRID_PATH) -> ResaleGrid:
    """Read and check a resale grid file; ValueError names the first wrong entry."""
    return parse_grid(Path(path).read_text(encoding="utf-8"))


def parse_grid(text: str) -> ResaleGrid:
    """Check and build a resale grid from TOML text; ValueError names the first wrong entry."""
    document = tomllib.loads(text, parse_float=Decimal)  # Decimal, not float: the figures end up in money
    unknown = sorted(set(document) - _GRID_KEYS)
    if unknown:
        raise ValueError(f"resale grid: unknown key {unknown[0]!r}")
    version = _required(document, "version")
    if not isinstance(version, str) or not version.strip():
        raise ValueError("resale grid: 'version' must be a non-empty string")
    effective_from = _required(document, "effective_from")
    if type(effective_from) is not dt.date:
        raise ValueError("resale grid: 'effective_from' must be a date such as 2026-01-01")
    if _required(document, "currency") != CURRENCY:
        raise ValueError(f"resale grid: 'currency' must be {CURRENCY!r} (catalog prices are EUR cents)")
    unit = MINOR_UNITS[CURRENCY]
    minimum = _whole_euros(document, "minimum_price_eur")
    rounding = _whole_euros(document, "rounding_eur")
    category_rate = _fractions(document, "category_rate", RESALE_CATEGORIES)
    condition_factor = _fractions(document, "condition_factor", ACCEPTED_CONDITIONS)
    for better, worse in zip(ACCEPTED_CONDITIONS, ACCEPTED_CONDITIONS[1:]):  # best first
        if condition_factor[better] < condition_factor[worse]:
            raise ValueError(f"resale grid: 'condition_factor.{worse}' is above 'condition_factor.{better}'")
    age_factors, floor = _age_factors(_table(document, "age_factor"))
    return ResaleGrid(version=version.strip(), effective_from=effective_from, minimum_price=minimum * unit,
                      rounding=rounding * unit, category_rate=category_rate,
                      condition_factor=condition_factor,
                      age_factors=age_factors, age_floor=floor)


def _required(table: dict[str, Any], key: str, prefix: str = "") -> Any:
    if key not in table:
        raise ValueError(f"resale grid: missing {prefix + key!r}")
    return table[key]


def _whole_euros(document: dict[str, Any], key: str) -> int:
    value = _required(document, key)
    if type(value) is not int or value < 1:
        raise ValueError(f"resale grid: {key!r} must be a whole number of euros, 1 or more")
    return value


def _table(document: dict[str, Any], name: str) -> dict[str, Any]:
    table = _required(document, name)
    if not isinstance(table, dict):
        raise ValueError(f"resale grid: {name!r} must be a table ([{name}])")
    return table


def _fraction(value: Any, key: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise ValueError(f"resale grid: {key!r} must be a number, not {value!r}")
    fraction = Decimal(value)
    if not fraction.is_finite() or not Decimal(0) < fraction <= Decimal(1):
        raise ValueError(f"resale grid: {key!r} = {value} is not in (0, 1]")
    return fraction


def _fractions(document: dict[str, Any], name: str, expected: tuple[str, ...]) -> dict[str, Decimal]:
    table = _table(document, name)
    extra = [key for key in table if key not in expected]
    if extra:
        raise ValueError(f"resale grid: '{name}.{extra[0]}' is not one of {', '.join(expected)}")
    return {key: _fraction(_required(table, key, f"{name}."), f"{name}.{key}") for key in expected}


def _age_factors(table: dict[str, Any]) -> tuple[tuple[Decimal, ...], Decimal]:
    floor = _fraction(_required(table, AGE_FLOOR_KEY, "age_factor."), f"age_factor.{AGE_FLOOR_KEY}")
    ages = [key for key in table if key != AGE_FLOOR_KEY]
    if any(not key.isdigit() or int(key) < 1 for key in ages):
        raise ValueError("resale grid: 'age_factor' keys are numbers of seasons (1, 2, ...) or "
                         f"'{AGE_FLOOR_KEY}'")
    factors = tuple(_fraction(_required(table, str(age), "age_factor."), f"age_factor.{age}")
                    for age in range(1, len(ages) + 1))
    for younger, older in zip((*factors, floor), (*factors, floor)[1:]):
        if older > younger:
            raise ValueError("resale grid: an age factor is above the one before it: an older piece cannot "
                             "sell for more")
    return factors, floor


# --- search ---------------------------------------------------------------------------------------------------

NEWEST, PRICE_ASC, PRICE_DESC = "newest", "price_asc", "price_desc"
SORTS: tuple[str, ...] = (NEWEST, PRICE_ASC, PRICE_DESC)
SIZE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ./-]{0,15}$")
MAX_QUERY_WORDS = 8

# Price bands of the shop's price filter, in cents: [low, high), the last one open.
PRICE_BANDS: tuple[tuple[int, int | None], ...] = (
    (0, 5_000), (5_000, 10_000), (10_000, 20_000), (20_000, 40_000), (40_000, None))


def price_band_label(low: int, high: int | None) -> str:
    return f"{low // 100}+" if high is None else f"{low // 100}-{high // 100}"


def search_words(q: str | None) -> list[str]:
    """The words a name must all contain, folded like the stored name key (LIKE's wildcards are spaces)."""
    return fold(q or "").replace("%", " ").replace("_", " ").replace("\\", " ").split()[:MAX_QUERY_WORDS]


# --- orders and returns ---------------------------------------------------------------------------------------

# pending: pieces reserved, payment being authorised; confirmed: paid (authorised), cancellable for 30
# minutes; failed: the payment did not go through (nothing is held any more).
PENDING, CONFIRMED, FAILED, CANCELLED, SHIPPED, DELIVERED = (
    "pending", "confirmed", "failed", "cancelled", "shipped", "delivered")
ORDER_STATUSES: tuple[str, ...] = (PENDING, CONFIRMED, FAILED, CANCELLED, SHIPPED, DELIVERED)

# A return: requested (label issued), then received at the warehouse and checked against each piece's
# passport.
REQUESTED, RECEIVED = "requested", "received"
# 001_d00102674b0828d8.txt: the product must come back "within twenty (20) days following communication of the
# withdrawal decision": the last day to drop off a return parcel.
RETURN_SHIP_WITHIN = dt.timedelta(days=20)


@dataclass(frozen=True)
class RefundSplit:
    """How the price of returned pieces comes back: to the card, and what the vouchers had paid (which is
    not re-credited automatically)."""

    card: int
    vouchers: int


def refund_split(returned: int, card_paid: int, card_refunded: int) -> RefundSplit:
    """Split a refund of `returned` cents between the card and the vouchers that paid the order.

    Our decision: the card comes first, up to what it paid and was not refunded yet; only the rest is the
    voucher part, which customer service may re-credit by hand (002_: vouchers are never re-credited
    automatically). Delivery charges are not refunded, so `returned` is the pieces' prices only.
    """
    card = max(0, min(returned, card_paid - card_refunded))
    return RefundSplit(card=card, vouchers=returned - card)
