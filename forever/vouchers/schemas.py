"""Wire schemas of store credit, vouchers, holds and the ledger's reports."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

from forever.money import Money
from forever.schema import Input, Output

Code = Annotated[str, msgspec.Meta(min_length=1, max_length=64, description="a voucher code; case, spaces and "
                                   "hyphens do not matter")]
OrderRef = Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


# --- the seller's credit --------------------------------------------------------------------------------------


class EntryBase(Output, tag_field="kind"):
    """One movement on a seller's credit: credits positive, debits negative."""

    id: int
    amount: Money
    balance_after: Money
    created_at: dt.datetime
    reference: str


class TradeinCreditEntry(EntryBase, tag="tradein_credit"):
    tradein_item_id: str


class VoucherIssueEntry(EntryBase, tag="voucher_issue"):
    voucher_id: str
    code_last4: str


class RecreditEntry(EntryBase, tag="recredit"):
    """Customer service gave back what a voucher paid for: onto the voucher, or onto the seller's credit when
    the voucher has expired (`credited` says which)."""

    reason: str
    code_last4: str
    credited: str  # "voucher" or "credit"


CreditEntry = TradeinCreditEntry | VoucherIssueEntry | RecreditEntry


class Credit(Output):
    balance: Money
    entries: list[CreditEntry]
    next_cursor: str | None = None


# --- vouchers -------------------------------------------------------------------------------------------------


class VoucherCreate(Input):
    amount: Money


class IssuedVoucher(Output):
    id: str
    code: str
    code_last4: str
    amount: Money
    balance: Money
    issued_at: dt.datetime
    expires_at: dt.datetime
    channels: list[str]


class Voucher(Output):
    """One of the seller's vouchers; `balance` is what can be spent now, `held` what open orders set aside."""

    id: str
    code: str
    code_last4: str
    amount: Money
    balance: Money
    held: Money
    status: str
    issued_at: dt.datetime
    expires_at: dt.datetime
    channels: list[str]


class VoucherPage(Output):
    items: list[Voucher]
    next_cursor: str | None


# --- channels -------------------------------------------------------------------------------------------------


class VoucherLookupRequest(Input):
    code: Code


class VoucherLookup(Output):
    code_last4: str
    balance: Money
    expires_at: dt.datetime
    status: str


class RedemptionCreate(Input):
    code: Code
    amount: Money
    order_ref: OrderRef


class Redemption(Output):
    redemption_id: str
    amount: Money
    balance_after: Money


class HoldCreate(Input):
    code: Code
    amount: Money
    order_ref: OrderRef


class HoldPlaced(Output):
    hold_id: str
    amount: Money
    expires_at: dt.datetime


class CaptureCreate(Input):
    amount: Money | None = None


class Hold(Output):
    """A hold after capture or void: what was captured, and what went back to the voucher."""

    hold_id: str
    status: str
    amount: Money
    captured: Money
    released: Money
    order_ref: str
    expires_at: dt.datetime


# --- customer service -----------------------------------------------------------------------------------------


class RecreditCreate(Input):
    amount: Money
    reason: Reason


# --- the ledger -----------------------------------------------------------------------------------------------


class LedgerCheck(Output):
    """What `forever ledger check` found: counts, and every broken invariant in words."""

    transactions: int
    entries: int
    accounts: int
    violations: list[str]


class MonthOfLiability(Output):
    """Movements of one month (Paris time), and what was owed at its end."""

    month: str
    tradein_credited: Money
    vouchers_issued: Money
    redeemed: Money
    expired: Money
    recredited: Money
    seller_credit_at_end: Money
    vouchers_at_end: Money
    held_at_end: Money


class LiabilityReport(Output):
    """What AMI owes its sellers now: unspent credit, voucher balances, amounts held; and what expired."""

    seller_credit: Money
    vouchers: Money
    held: Money
    expired: Money
    months: list[MonthOfLiability]


class StatementLine(Output):
    """One movement of a person's credit or of one of their vouchers, as their data export lists them."""

    account: str  # "credit" or "voucher"
    voucher_id: str | None
    code_last4: str | None
    kind: str
    amount: Money
    balance_after: Money | None
    created_at: dt.datetime
    channel: str | None
    reference: str
    reason: str | None
