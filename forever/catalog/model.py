"""Catalog vocabulary: categories, seasons, conditions. Pure: no database, no web."""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Literal

import msgspec

CATEGORIES: tuple[str, ...] = (
    "tshirts", "sweatshirts", "shirts", "knitwear", "trousers", "denim", "shorts", "jackets", "coats",
    "suits", "dresses", "skirts", "shoes", "bags", "small_leather_goods", "accessories",
    "underwear", "swimwear", "lifestyle",
)
# Never taken back (003_38b7e7f894448fa2.txt: "Sous vêtements, maillots de bain et accessoires lifestyle").
EXCLUDED_CATEGORIES: frozenset[str] = frozenset({"underwear", "swimwear", "lifestyle"})

Category = Literal[
    "tshirts", "sweatshirts", "shirts", "knitwear", "trousers", "denim", "shorts", "jackets", "coats",
    "suits", "dresses", "skirts", "shoes", "bags", "small_leather_goods", "accessories",
    "underwear", "swimwear", "lifestyle",
]

CONDITIONS: tuple[str, ...] = ("new_with_tags", "excellent", "very_good", "worn", "damaged")
ACCEPTED_CONDITIONS: tuple[str, ...] = ("new_with_tags", "excellent", "very_good")
Condition = Literal["new_with_tags", "excellent", "very_good", "worn", "damaged"]

SEASON_PATTERN = re.compile(r"^(SS|FW)([0-9]{2})$")


@functools.lru_cache(maxsize=256)
def _parse_season(code: str) -> tuple[int, int]:
    match = SEASON_PATTERN.match(code)
    if not match:
        raise ValueError(f"not a season: {code!r} (expected SS<yy> or FW<yy>)")
    return (0 if match.group(1) == "SS" else 1), 2000 + int(match.group(2))


class Season:
    """A collection: SS<yy> (spring-summer, first half) or FW<yy> (fall-winter, second half)."""

    __slots__ = ("half", "year")

    def __init__(self, code: str) -> None:
        self.half, self.year = _parse_season(code)

    @property
    def code(self) -> str:
        return f"{'SS' if self.half == 0 else 'FW'}{self.year % 100:02d}"

    @property
    def ordinal(self) -> int:
        """Half-years since 2000: SS00 is 0, FW00 is 1, SS16 is 32."""
        return (self.year - 2000) * 2 + self.half

    def seasons_before(self, other: Season) -> int:
        """How many seasons `self` is older than `other` (negative when newer)."""
        return other.ordinal - self.ordinal

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Season) and other.ordinal == self.ordinal

    def __lt__(self, other: Season) -> bool:
        return self.ordinal < other.ordinal

    def __le__(self, other: Season) -> bool:
        return self.ordinal <= other.ordinal

    def __hash__(self) -> int:
        return self.ordinal

    def __repr__(self) -> str:
        return f"Season({self.code!r})"


def is_season(code: str) -> bool:
    return bool(SEASON_PATTERN.match(code))


def season_range(first: str, last: str) -> list[str]:
    """Every season code from `first` to `last`, both included, oldest first."""
    start, end = Season(first).ordinal, Season(last).ordinal
    return [f"{'SS' if o % 2 == 0 else 'FW'}{(o // 2) % 100:02d}" for o in range(start, end + 1)]


def fold(text: str) -> str:
    """Case- and accent-insensitive search key: "Cœur Écru" -> "coeur ecru"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.replace("œ", "oe").replace("æ", "ae").replace("ß", "ss")


class Product(msgspec.Struct, frozen=True, kw_only=True):
    """One AMI reference as the catalog knows it. `retail_price` is in EUR cents."""

    ref: str
    name: str
    category: str
    season: str
    retail_price: int
    color: str = ""
    materials: tuple[str, ...] = ()
    sizes: tuple[str, ...] = ()
