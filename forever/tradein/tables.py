"""Quotes and their lines, the pricing grids they were priced with; trade-ins, their pieces, parcels, parcel
events and the e-mails sent about them."""

from piccolo.columns import JSON, OnDelete, UUID, Boolean, Date, ForeignKey, Integer, Serial, Timestamptz, Varchar
from piccolo.table import Table

from forever.accounts.tables import Account


class Quote(Table):
    """A locked trade-in offer: its lines and grid version never change after creation."""

    id = UUID(primary_key=True)
    account = ForeignKey(references=Account, index=True)
    status = Varchar(length=16, default="open")
    created_at = Timestamptz(index=True)
    expires_at = Timestamptz()
    grid_version = Varchar(length=32)
    total_offer = Integer()
    currency = Varchar(length=3, default="EUR")


class PricingGridVersion(Table, tablename="pricing_grid_version"):
    """Each version of the pricing grid a quote was priced with (the file only holds the latest): a piece
    graded below its declared condition is priced with its quote's own grid."""

    version = Varchar(length=32, unique=True)
    grid = JSON()
    archived_at = Timestamptz()


class QuoteLine(Table):
    """One piece of a quote, with the product as it was when quoted."""

    quote = ForeignKey(references=Quote, index=True)
    line = Integer()
    product_ref = Varchar(length=64)
    name = Varchar(length=200)
    category = Varchar(length=32)
    season = Varchar(length=8)
    condition = Varchar(length=16)
    size = Varchar(length=16, null=True, default=None)
    eligible = Boolean()
    reasons = JSON(default=[])
    offer = Integer(null=True, default=None)


class TradeIn(Table, tablename="tradein"):
    """An accepted quote: the pieces it took, on their way to the warehouse and then through grading."""

    id = UUID(primary_key=True)
    # Unique: a quote is accepted once, even by two requests at the same moment.
    quote = ForeignKey(references=Quote, unique=True)
    account = ForeignKey(references=Account, index=True)
    status = Varchar(length=24, default="awaiting_shipment")
    refused_items = Varchar(length=8)
    total_offer = Integer()
    currency = Varchar(length=3, default="EUR")
    created_at = Timestamptz(index=True)
    received_at = Timestamptz(null=True, default=None)
    sla_due_date = Date(null=True, default=None, index=True)


class TradeInItem(Table, tablename="tradein_item"):
    """One piece of a trade-in: an eligible quote line, with the offer locked by the quote."""

    id = UUID(primary_key=True)
    tradein = ForeignKey(references=TradeIn, index=True)
    line = Integer()
    product_ref = Varchar(length=64)
    name = Varchar(length=200)
    category = Varchar(length=32)
    season = Varchar(length=8)
    size = Varchar(length=16, null=True, default=None)
    declared_condition = Varchar(length=16)
    offer = Integer()
    status = Varchar(length=24, default="awaiting_shipment", index=True)
    grade = Varchar(length=16, null=True, default=None)
    credited = Integer(null=True, default=None)


class Parcel(Table):
    """A parcel on a prepaid label: its tracking number and how far it got."""

    id = UUID(primary_key=True)
    tradein = ForeignKey(references=TradeIn, index=True)
    carrier = Varchar(length=32)
    tracking_number = Varchar(length=32, unique=True)
    status = Varchar(length=24, default="label_created")
    ship_by = Date()
    created_at = Timestamptz()
    received_at = Timestamptz(null=True, default=None, index=True)
    # The grader who scanned it; their account leaving must not take the parcel with it.
    received_by = ForeignKey(references=Account, null=True, default=None, on_delete=OnDelete.set_null)


class ParcelEvent(Table, tablename="parcel_event"):
    """One step of a parcel, as the carrier or the warehouse reported it; each is stored once."""

    parcel = ForeignKey(references=Parcel, index=True)
    event = Varchar(length=24)
    occurred_at = Timestamptz()
    recorded_at = Timestamptz()
    source = Varchar(length=16)
    # "<parcel>:<event>:<occurred_at in UTC>", unique: a repeated event is stored once. (A composite unique
    # constraint would say the same, but Piccolo adds those with ALTER TABLE, which SQLite cannot run.)
    once_key = Varchar(length=100, unique=True)


class TradeInMessage(Table, tablename="tradein_message"):
    """An e-mail sent to the seller about a trade-in (shown on its timeline)."""

    tradein = ForeignKey(references=TradeIn, index=True)
    kind = Varchar(length=32)
    subject = Varchar(length=200)
    sent_at = Timestamptz()


class TrackingSerial(Table, tablename="tracking_serial"):
    """The built-in carrier's serial numbers: the database hands each one out once (forever.tradein.carrier)."""

    id = Serial(primary_key=True)
    issued_at = Timestamptz()
