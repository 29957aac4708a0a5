"""The store-credit ledger (accounts, transactions, entries), vouchers, holds, and missed code look-ups."""

from piccolo.columns import UUID, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.table import Table


class LedgerAccount(Table):
    """A seller's credit, a voucher, or a system account; named, e.g. `credit:<account id>`, `system:expired`.

    `balance` is a cache of the sum of the account's entries, kept for bounded accounts only (credit, voucher)
    and written under the row's lock; system accounts keep none (see forever.vouchers.model).
    """

    id = Varchar(length=64, primary_key=True)
    kind = Varchar(length=16)
    balance = Integer(null=True, default=None)
    currency = Varchar(length=3, default="EUR")
    created_at = Timestamptz()


class LedgerTransaction(Table):
    """One business movement: its kind, who did it, why, and on what; its entries sum to zero."""

    id = UUID(primary_key=True)
    kind = Varchar(length=24, index=True)
    amount = Integer()
    currency = Varchar(length=3, default="EUR")
    created_at = Timestamptz(index=True)
    actor = Varchar(length=80)
    channel = Varchar(length=16, null=True, default=None)
    reference = Varchar(length=255, default="")
    reason = Varchar(length=500, null=True, default=None)
    voucher = UUID(null=True, default=None, index=True)
    hold = UUID(null=True, default=None)
    # A trade-in item is credited once, whoever asks twice.
    tradein_item = Varchar(length=64, null=True, default=None, unique=True)


class LedgerEntry(Table):
    """One leg of a transaction on one account: a signed amount and the account's balance after it."""

    txn = ForeignKey(references=LedgerTransaction, index=True)
    account = ForeignKey(references=LedgerAccount, index=True)
    amount = Integer()
    balance_after = Integer(null=True, default=None)
    created_at = Timestamptz()


class Voucher(Table):
    """Stored value issued from a seller's credit, valid 12 months.

    The code itself is never stored: `code_seed` and the secret key derive it
    (forever.vouchers.model.derive_code), `code_hash` finds it. `owner` is a plain column, not a foreign key:
    the ledger outlives any change to the account.
    """

    id = UUID(primary_key=True)
    owner = UUID(index=True)
    code_hash = Varchar(length=64, unique=True)
    code_seed = Varchar(length=32)
    last4 = Varchar(length=4)
    amount = Integer()
    currency = Varchar(length=3, default="EUR")
    issued_at = Timestamptz(index=True)
    expires_at = Timestamptz(index=True)
    last_reminder_days = Integer(null=True, default=None)


class VoucherHold(Table):
    """An amount of a voucher set aside for an order, until captured, voided or lapsed (7 days)."""

    id = UUID(primary_key=True)
    voucher = ForeignKey(references=Voucher, index=True)
    holder = Varchar(length=64)
    channel = Varchar(length=16)
    order_ref = Varchar(length=255)
    amount = Integer()
    captured = Integer(default=0)
    status = Varchar(length=16, default="open", index=True)
    created_at = Timestamptz()
    expires_at = Timestamptz(index=True)
    closed_at = Timestamptz(null=True, default=None)


class VoucherMiss(Table):
    """A code that found no voucher, counted per caller and per address to stop guessing."""

    source = Varchar(length=64, index=True)
    address = Varchar(length=64, index=True)
    missed_at = Timestamptz(index=True)
