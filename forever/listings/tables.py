"""Stock pieces and their listings, listing photos, the shop's orders, returns, and the local payment
provider's records.

A listing row carries everything search filters and sorts on (denormalised from the catalog and the grading),
so a page of results reads one table through one index. The composite indexes that search uses are partial
(live pieces only) and are created by the app's second migration: Piccolo declares single-column indexes only.
"""

from piccolo.columns import JSON, UUID, Boolean, Date, ForeignKey, Integer, Serial, Timestamptz, Varchar
from piccolo.table import Table


class Listing(Table):
    """One credited piece, from the day it enters stock: its refurbishment, its listing, and where it is now.

    `tradein_item` and `seller` are plain columns, not foreign keys: another domain's rows are reached through
    its service only. `shelf_seq` is handed out each time the piece goes live (newest first = highest first)
    and breaks ties of every sort, so keyset pages stay on small integer indexes."""

    id = UUID(primary_key=True)
    # A piece enters stock once, whoever asks twice.
    tradein_item = Varchar(length=64, unique=True)
    seller = UUID(index=True)
    product_ref = Varchar(length=64, index=True)
    name = Varchar(length=200)
    name_key = Varchar(length=200)
    category = Varchar(length=32)
    season = Varchar(length=4)
    colour = Varchar(length=100, default="")
    materials = JSON(default=[])
    size = Varchar(length=16, null=True, default=None)
    condition = Varchar(length=16)
    retail_price = Integer()
    grid_price = Integer()
    grid_version = Varchar(length=32)
    price = Integer()
    price_overridden = Boolean(default=False)
    currency = Varchar(length=3, default="EUR")
    status = Varchar(length=16, default="stock")
    cleaned_at = Timestamptz(null=True, default=None)
    pressed_at = Timestamptz(null=True, default=None)
    retagged_at = Timestamptz(null=True, default=None)
    photographed_at = Timestamptz(null=True, default=None)
    cover_photo = UUID(null=True, default=None)
    entered_at = Timestamptz()
    published_at = Timestamptz(null=True, default=None)
    shelf_seq = Integer(null=True, default=None, unique=True)
    reserved_by = UUID(null=True, default=None)
    reserved_until = Timestamptz(null=True, default=None)
    reserved_order = UUID(null=True, default=None)
    sold_order = UUID(null=True, default=None, index=True)


class ShelfSerial(Table, tablename="shelf_serial"):
    """Serial numbers of pieces going live: the database hands each one out once, in order."""

    id = Serial(primary_key=True)
    issued_at = Timestamptz()


class ListingPhoto(Table, tablename="listing_photo"):
    """A photo staff took of the refurbished piece, stored under `<data dir>/listing-photos/`."""

    id = UUID(primary_key=True)
    listing = ForeignKey(references=Listing, index=True)
    position = Integer()
    width = Integer()
    height = Integer()
    byte_size = Integer()
    uploaded_at = Timestamptz()
    uploaded_by = UUID()


class ListingEvent(Table, tablename="listing_event"):
    """What happened to a piece, by whom: entered stock, a step ticked, repriced, published, sold,
    returned."""

    listing = ForeignKey(references=Listing, index=True)
    kind = Varchar(length=32)
    actor = Varchar(length=80)
    detail = Varchar(length=500, default="")
    occurred_at = Timestamptz()


class ShopOrder(Table, tablename="shop_order"):
    """A buyer's order of one or more pieces: amounts, delivery, how it is paid, and how far it got."""

    id = UUID(primary_key=True)
    buyer = UUID(index=True)
    status = Varchar(length=16, index=True)
    currency = Varchar(length=3, default="EUR")
    subtotal = Integer()
    delivery_fee = Integer()
    free_threshold = Integer(null=True, default=None)
    vouchers_applied = Integer(default=0)
    card_amount = Integer(default=0)
    card_refunded = Integer(default=0)
    ship_country = Varchar(length=2)
    ship_method = Varchar(length=16)
    ship_address = JSON()
    payment_provider = Varchar(length=32, null=True, default=None)
    payment_authorisation = Varchar(length=64, null=True, default=None)
    card_last4 = Varchar(length=4, null=True, default=None)
    failure_code = Varchar(length=64, null=True, default=None)
    tracking_number = Varchar(length=32, null=True, default=None)
    created_at = Timestamptz(index=True)
    confirmed_at = Timestamptz(null=True, default=None)
    cancel_until = Timestamptz(null=True, default=None)
    cancelled_at = Timestamptz(null=True, default=None)
    shipped_at = Timestamptz(null=True, default=None)
    delivered_at = Timestamptz(null=True, default=None)
    # Three years after it ended, an order is archived for accounting (up to 10 years, 000_): its delivery address
    # is forgotten (forever.listings.orders.archive_orders).
    archived_at = Timestamptz(null=True, default=None)


class OrderItem(Table, tablename="order_item"):
    """One piece of an order, as it was sold."""

    order = ForeignKey(references=ShopOrder, index=True)
    listing = ForeignKey(references=Listing, index=True)
    name = Varchar(length=200)
    category = Varchar(length=32)
    size = Varchar(length=16, null=True, default=None)
    condition = Varchar(length=16)
    price = Integer()


class OrderHold(Table, tablename="order_hold"):
    """A voucher hold paying part of an order (forever.vouchers), captured at shipment, voided on cancel."""

    order = ForeignKey(references=ShopOrder, index=True)
    hold_id = Varchar(length=64, unique=True)
    amount = Integer()
    status = Varchar(length=16, default="open")


class ShopReturn(Table, tablename="shop_return"):
    """A return of pieces of a delivered order: its prepaid label, then what the warehouse found and
    refunded."""

    id = UUID(primary_key=True)
    order = ForeignKey(references=ShopOrder, index=True)
    status = Varchar(length=16, index=True)
    reason = Varchar(length=500)
    requested_at = Timestamptz()
    ship_by = Date()
    carrier = Varchar(length=32)
    tracking_number = Varchar(length=32, unique=True)
    received_at = Timestamptz(null=True, default=None)
    received_by = UUID(null=True, default=None)
    refund_due_by = Date(null=True, default=None)
    card_refund = Integer(default=0)
    voucher_part = Integer(default=0)
    withheld = Integer(default=0)
    refund_reference = Varchar(length=64, null=True, default=None)
    refunded_at = Timestamptz(null=True, default=None)


class ReturnItem(Table, tablename="return_item"):
    """One piece of a return, with what the warehouse found; an order's piece is returned at most once."""

    shop_return = ForeignKey(references=ShopReturn, index=True)
    order_item = ForeignKey(references=OrderItem, unique=True)
    price = Integer()
    condition_matches = Boolean(null=True, default=None)
    observed_condition = Varchar(length=16, null=True, default=None)
    note = Varchar(length=500, default="")


class PaymentRecord(Table, tablename="payment_record"):
    """The local test payment provider's book: every authorisation, capture, release and refund it made."""

    reference = Varchar(length=64, index=True)  # the authorisation's id; its operations share it
    kind = Varchar(length=16)
    amount = Integer()
    currency = Varchar(length=3)
    card_last4 = Varchar(length=4, default="")
    order_ref = Varchar(length=255, default="")
    created_at = Timestamptz()
