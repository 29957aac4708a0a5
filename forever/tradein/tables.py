"""Quotes and their lines (trade-ins, parcels and reception come with the shipping work)."""

from piccolo.columns import JSON, UUID, Boolean, ForeignKey, Integer, Timestamptz, Varchar
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
