"""Wire schemas of the resale shop: stock and refurbishment (staff), listings and search (anyone), checkout,
orders and returns (buyers), shipping, delivery and return reception (staff)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec

from forever.money import Money
from forever.schema import Input, Output

ListingId = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
ListingIds = Annotated[list[ListingId], msgspec.Meta(min_length=1, max_length=20)]
Condition = Literal["new_with_tags", "excellent", "very_good"]
Step = Literal["cleaned", "pressed", "retagged", "photographed"]
Size = Annotated[str, msgspec.Meta(min_length=1, max_length=16)]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


# --- listings, as the shop shows them -------------------------------------------------------------------------


class ListingQuery(msgspec.Struct, frozen=True, kw_only=True):
    """The shop's search: filters (prices in cents), sort (`newest`, `price_asc`, `price_desc`) and page."""

    q: str | None = None
    category: str | None = None
    size: str | None = None
    condition: str | None = None
    season: str | None = None
    min_price: int | None = None
    max_price: int | None = None
    sort: str = "newest"
    cursor: str | None = None
    limit: int = 20


class ConditionInfo(Output):
    """A piece's condition (its grade at the warehouse) and what that grade means (003_'s definitions)."""

    code: str
    title: str
    definition: str
    definition_fr: str


class ListingSummary(Output):
    """A live piece in the shop's results: enough for a card with its cover photo."""

    id: str
    name: str
    category: str
    season: str
    size: str | None
    condition: str
    colour: str
    price: Money
    retail_price: Money
    cover_photo_url: str | None
    published_at: dt.datetime | None


class ListingPage(Output):
    items: list[ListingSummary]
    next_cursor: str | None = None


class FacetCount(Output):
    value: str
    count: int


class PriceBandCount(Output):
    """Live pieces priced in [min_price, max_price) (cents; `max_price` null for the open last band)."""

    label: str
    min_price: int
    max_price: int | None
    count: int


class Facets(Output):
    """How many live pieces each filter value would show, the other filters applied (a facet's own filter is
    left out of its counts, so the buyer sees the alternatives). `total` matches every filter."""

    total: int
    category: list[FacetCount]
    size: list[FacetCount]
    condition: list[FacetCount]
    season: list[FacetCount]
    price: list[PriceBandCount]


class PhotoOut(Output):
    id: str
    url: str
    width: int
    height: int


class PassportFinding(Output):
    """What the grading station's analysis found on a passport photo (CONTRACT.md, "Grading")."""

    kind: str
    bbox: list[int]
    score: float
    severity: str


class PassportPhoto(Output):
    id: str
    view: str
    url: str
    width: int
    height: int
    findings: list[PassportFinding]


class Passport(Output):
    """The piece's grading record: its grade, when, and the station's photos with their findings."""

    grade: str
    graded_at: dt.datetime | None
    photos: list[PassportPhoto]


class Listing(Output):
    """A piece's page: the listing, its photos, its condition with its definition and its grading passport.
    `available` is whether it can be bought now (a reserved or sold piece still has its page)."""

    id: str
    status: str
    available: bool
    name: str
    product_ref: str
    category: str
    season: str
    size: str | None
    colour: str
    materials: list[str]
    condition: ConditionInfo
    price: Money
    retail_price: Money
    photos: list[PhotoOut]
    passport: Passport | None
    published_at: dt.datetime | None


# --- stock and refurbishment (staff) --------------------------------------------------------------------------


class StockEvent(Output):
    kind: str
    actor: str
    detail: str
    occurred_at: dt.datetime


class StockPiece(Output):
    """A piece as the warehouse sees it: refurbishment ticks, photos, grid and shop price, and what is missing
    before it can go live."""

    id: str
    tradein_item_id: str
    status: str
    product_ref: str
    name: str
    category: str
    season: str
    size: str | None
    size_choices: list[str]
    colour: str
    materials: list[str]
    condition: str
    retail_price: Money
    grid_price: Money
    grid_version: str
    price: Money
    price_overridden: bool
    steps: dict[str, dt.datetime | None]
    photos: list[PhotoOut]
    missing: list[str]
    entered_at: dt.datetime
    published_at: dt.datetime | None
    sold_order_id: str | None
    events: list[StockEvent]


class StockSummary(Output):
    id: str
    status: str
    name: str
    product_ref: str
    category: str
    size: str | None
    condition: str
    price: Money
    missing: list[str]
    entered_at: dt.datetime


class StockPage(Output):
    items: list[StockSummary]
    next_cursor: str | None = None


class StepUpdate(Input):
    """Tick (or untick) one refurbishment step."""

    step: Step
    done: bool = True


class ListingUpdate(Input):
    """Staff's changes to a listing: a price of their own (`reset_price` goes back to the grid's), the
    size."""

    price: Money | None = None
    reset_price: bool = False
    size: Size | None = None


class StockSweep(Output):
    stocked: int


# --- checkout and orders (buyers) -----------------------------------------------------------------------------


class Address(Input):
    """A delivery address. PO boxes are refused (001_, 002_)."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=120)]
    line1: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    postal_code: Annotated[str, msgspec.Meta(min_length=1, max_length=20)]
    city: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    line2: Annotated[str, msgspec.Meta(max_length=200)] = ""
    phone: Annotated[str, msgspec.Meta(max_length=30)] = ""


class Shipping(Input):
    country: Annotated[str, msgspec.Meta(min_length=2, max_length=2,
                                         description="ISO 3166 alpha-2, GB for the UK")]
    method: Literal["standard", "express"]
    address: Address


class Card(Input):
    """A payment card, passed to the payment provider and never stored (only its last four digits are)."""

    number: Annotated[str, msgspec.Meta(min_length=12, max_length=23)]
    expiry: Annotated[str, msgspec.Meta(pattern=r"^(0[1-9]|1[0-2])/[0-9]{2}$", description="MM/YY")]
    cvc: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{3,4}$")]


class ReservationCreate(Input):
    listing_ids: ListingIds


class Reservation(Output):
    """Pieces set aside for a buyer's checkout until `expires_at`."""

    listing_ids: list[str]
    expires_at: dt.datetime
    subtotal: Money


class BasketCreate(Input):
    listing_ids: ListingIds
    shipping: Shipping


class BasketPrice(Output):
    """What an order of these pieces would cost before vouchers: pieces, delivery, and the free-delivery
    threshold of the destination (null where delivery is always free or never)."""

    subtotal: Money
    delivery_fee: Money
    free_threshold: Money | None
    total: Money
    available: bool
    unavailable_ids: list[str]


class OrderCreate(Input):
    listing_ids: ListingIds
    shipping: Shipping
    voucher_codes: Annotated[list[Annotated[str, msgspec.Meta(min_length=1, max_length=64)]],
                             msgspec.Meta(max_length=10)] = []
    card: Card | None = None


class OrderLine(Output):
    listing_id: str
    name: str
    category: str
    size: str | None
    condition: str
    price: Money
    returned: bool


class VoucherApplied(Output):
    hold_id: str
    amount: Money
    status: str


class ShippingOut(Output):
    country: str
    method: str
    address: dict[str, str]


class Order(Output):
    """A buyer's order. `total_due` is what the card pays once the vouchers are applied."""

    id: str
    status: str
    items: list[OrderLine]
    subtotal: Money
    delivery_fee: Money
    vouchers_applied: list[VoucherApplied]
    total_due: Money
    card_last4: str | None
    shipping: ShippingOut
    created_at: dt.datetime
    confirmed_at: dt.datetime | None
    cancel_until: dt.datetime | None
    cancelled_at: dt.datetime | None
    shipped_at: dt.datetime | None
    tracking_number: str | None
    delivered_at: dt.datetime | None
    return_deadline: dt.date | None
    returns: list[ReturnOut]


class OrderSummary(Output):
    id: str
    status: str
    created_at: dt.datetime
    piece_count: int
    subtotal: Money
    delivery_fee: Money
    total_due: Money


class OrderPage(Output):
    items: list[OrderSummary]
    next_cursor: str | None = None


class DeliveryCreate(Input):
    """The carrier (or staff) reports the order delivered; `delivered_at` defaults to now."""

    delivered_at: dt.datetime | None = None


# --- returns --------------------------------------------------------------------------------------------------


class ReturnCreate(Input):
    listing_ids: ListingIds
    reason: Text


class ReturnLine(Output):
    listing_id: str
    name: str
    price: Money
    condition_matches: bool | None
    passport_grade: str | None
    observed_condition: str | None
    note: str


class ReturnOut(Output):
    """A return: its prepaid label (tracking number and PDF), then what the warehouse found and refunded. The
    voucher part is not re-credited automatically: customer service may re-credit it by hand."""

    id: str
    order_id: str
    status: str
    reason: str
    items: list[ReturnLine]
    requested_at: dt.datetime
    ship_by: dt.date
    tracking_number: str
    label_url: str
    received_at: dt.datetime | None
    refund_due_by: dt.date | None
    card_refund: Money
    voucher_part: Money
    withheld: Money
    refunded_at: dt.datetime | None


class ReturnCheck(Input):
    """What the warehouse found on one returned piece, against its passport."""

    listing_id: ListingId
    condition_matches: bool
    observed_condition: Condition | None = None
    note: Annotated[str, msgspec.Meta(max_length=500)] = ""


class ReturnReception(Input):
    items: Annotated[list[ReturnCheck], msgspec.Meta(min_length=1, max_length=20)]


class ReturnPage(Output):
    items: list[ReturnOut]
    next_cursor: str | None = None
