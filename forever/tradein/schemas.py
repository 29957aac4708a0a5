"""Wire schemas of trade-in quotes."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec

from forever.money import Money
from forever.schema import Input, Output

Condition = Literal["new_with_tags", "excellent", "very_good", "worn", "damaged"]


class QuoteItemCreate(Input):
    product_ref: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    condition: Condition
    size: Annotated[str, msgspec.Meta(min_length=1, max_length=16)] | None = None


class QuoteCreate(Input):
    items: Annotated[list[QuoteItemCreate], msgspec.Meta(min_length=1, max_length=50)]


class QuoteLine(Output):
    line: int
    product_ref: str
    name: str | None
    category: str | None
    season: str | None
    condition: str
    size: str | None
    eligible: bool
    reasons: list[str]
    offer: Money | None


class Quote(Output):
    id: str
    status: str
    created_at: dt.datetime
    expires_at: dt.datetime
    grid_version: str
    items: list[QuoteLine]
    total_offer: Money


class QuoteSummary(Output):
    """A quote in the seller's list."""

    id: str
    status: str
    created_at: dt.datetime
    expires_at: dt.datetime
    piece_count: int
    eligible_count: int
    total_offer: Money


class CatalogProduct(Output):
    """A catalog product as the seller browses it, with whether it can be traded in at all today."""

    ref: str
    name: str
    category: str
    season: str
    retail_price: Money
    tradein_eligible: bool
    color: str = ""
    sizes: list[str] = msgspec.field(default_factory=list)
