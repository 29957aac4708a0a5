"""Money as integer minor units plus an ISO 4217 currency code."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import msgspec

MINOR_UNITS = {"EUR": 100, "GBP": 100, "USD": 100, "AUD": 100, "CHF": 100, "JPY": 1}


class Money(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """An amount in minor units (cents) of one currency."""

    amount: int
    currency: str = "EUR"

    def __post_init__(self) -> None:
        if self.currency not in MINOR_UNITS:
            raise ValueError(f"unsupported currency {self.currency!r}")

    @classmethod
    def zero(cls, currency: str = "EUR") -> Money:
        return cls(0, currency)

    @classmethod
    def from_major(cls, value: str | int | Decimal, currency: str = "EUR") -> Money:
        """Parse a decimal number of major units ("290", "290.00") exactly; reject sub-cent precision."""
        try:
            major = Decimal(str(value).strip())
        except InvalidOperation as exc:
            raise ValueError(f"not a number: {value!r}") from exc
        if not major.is_finite():
            raise ValueError(f"not a number: {value!r}")
        minor = major * MINOR_UNITS[currency]
        if minor != minor.to_integral_value():
            raise ValueError(f"more precision than the currency has: {value!r}")
        return cls(int(minor), currency)

    @property
    def major(self) -> Decimal:
        return Decimal(self.amount) / MINOR_UNITS[self.currency]

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot mix {self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.amount >= other.amount

    def format(self) -> str:
        """Human form for pages and documents, e.g. "EUR 1,290.00" -> "1 290,00 €" is left to templates."""
        return f"{self.major:,.2f} {self.currency}"


def round_whole_units(value: Decimal, currency: str = "EUR") -> Money:
    """Round a major-unit decimal to whole units (half up) and return it as Money."""
    whole = value.quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return Money(int(whole) * MINOR_UNITS[currency], currency)
