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


# --- trade-ins ----------------------------------------------------------------------------------------------

RefusedItems = Literal["return", "donate"]
CarrierEventName = Literal["dropped_off", "in_transit", "delivered"]
TrackingNumberText = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class TradeInCreate(Input):
    """Accepting a quote: what becomes of pieces the experts refuse."""

    refused_items: RefusedItems


class TradeInItem(Output):
    id: str
    line: int
    product_ref: str
    declared_condition: str
    offer: Money
    status: str
    grade: str | None
    credited: Money | None
    name: str = ""
    season: str = ""
    size: str | None = None


class ParcelEvent(Output):
    event: str
    occurred_at: dt.datetime
    source: str  # "system" (the label), "carrier" or "warehouse"


class Parcel(Output):
    tracking_number: str
    carrier: str
    status: str
    ship_by: dt.date
    events: list[ParcelEvent]
    received_at: dt.datetime | None = None


class Notification(Output):
    """An e-mail sent to the seller about the trade-in."""

    kind: str
    subject: str
    sent_at: dt.datetime


class TradeIn(Output):
    id: str
    status: str
    refused_items: str
    items: list[TradeInItem]
    parcel: Parcel
    received_at: dt.datetime | None
    sla_due_date: dt.date | None
    reference: str = ""
    quote_id: str = ""
    created_at: dt.datetime | None = None
    total_offer: Money | None = None
    notifications: list[Notification] = msgspec.field(default_factory=list)


class TradeInSummary(Output):
    """A trade-in in the seller's list."""

    id: str
    reference: str
    status: str
    created_at: dt.datetime
    piece_count: int
    total_offer: Money
    tracking_number: str
    parcel_status: str
    ship_by: dt.date
    sla_due_date: dt.date | None
    received_at: dt.datetime | None = None


class CarrierEventCreate(Input):
    """What a carrier reports about a parcel; `occurred_at` carries its UTC offset."""

    tracking_number: TrackingNumberText
    event: CarrierEventName
    occurred_at: Annotated[dt.datetime, msgspec.Meta(tz=True)]


class CarrierEventReceipt(Output):
    """The answer to a carrier: whether the event was new, and the parcel's status now."""

    tracking_number: str
    event: str
    occurred_at: dt.datetime
    recorded: bool
    parcel_status: str


class ReceptionCreate(Input):
    """A parcel scanned at the warehouse."""

    tracking_number: TrackingNumberText


class SlaItem(Output):
    """A piece awaiting grading on the warehouse lead's board (and in the grading station's queue)."""

    item_id: str
    tradein_id: str
    reference: str
    product_ref: str
    name: str
    declared_condition: str
    tracking_number: str
    received_at: dt.datetime
    sla_due_date: dt.date
    business_days_left: int
    overdue: bool
    category: str = ""
    season: str = ""
    size: str | None = None
    offer: Money | None = None


class GradingPiece(Output):
    """A trade-in piece as grading needs it: its offer, the quote's grid and day, and the seller's choices."""

    id: str
    tradein_id: str
    reference: str
    account_id: str
    line: int
    product_ref: str
    name: str
    category: str
    season: str
    size: str | None
    declared_condition: str
    offer: Money
    status: str
    grade: str | None
    credited: Money | None
    refused_items: str
    grid_version: str
    quoted_at: dt.datetime
    received_at: dt.datetime | None
    sla_due_date: dt.date | None
    business_days_left: int | None


class ReturnShipment(Output):
    """A parcel booked to send a piece back to its seller, free of charge."""

    carrier: str
    tracking_number: str


class CreditedPiece(Output):
    """A piece whose credit has landed, as the resale shop stocks it: what it is, its final grade, its seller."""

    tradein_item_id: str
    seller_id: str
    product_ref: str
    name: str
    category: str
    season: str
    size: str | None
    grade: str
    credited: Money
