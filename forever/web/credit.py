"""The seller's store credit: balance, history, generating vouchers, and each voucher's code with a barcode
for the till. Thin: the voucher service does the work."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

import msgspec
from litestar import get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, QueryParameter
from litestar.response import Redirect, Template

from forever.accounts.schemas import Principal
from forever.auth import seller_only
from forever.errors import InvalidInput
from forever.money import Money
from forever.vouchers import service as vouchers
from forever.vouchers.schemas import IssuedVoucher, RecreditEntry, TradeinCreditEntry, Voucher, VoucherCreate
from forever.web.barcodes import code128_svg
from forever.web.formatting import euros
from forever.web.pages import form_key, once, render, see_other

FormBody = Body(media_type=RequestEncodingType.URL_ENCODED)
Issued = Annotated[str | None, QueryParameter(max_length=64)]
HISTORY_SIZE = 50
VOUCHERS_SHOWN = 50
ISSUE_ACTION = "/credit/vouchers"

CHANNEL_NAMES = {"eshop": "amiparis.com", "resale": "forever.amiparis.com",
                 "store": "AMI boutiques (not department-store corners)"}
STATUS_NAMES = {"active": "Active", "used": "Used up", "expired": "Expired"}


class VoucherForm(msgspec.Struct, kw_only=True):
    amount: str = ""
    form_key: str = ""


def entry_words(entry: Any) -> str:
    """A ledger entry of the seller's credit in plain words."""
    match entry:
        case TradeinCreditEntry():
            return f"Credit for a traded-in piece: {entry.reference}"
        case RecreditEntry():
            return f"Given back by customer service (voucher ending {entry.code_last4}): {entry.reason}"
        case _:
            return f"Voucher ending {entry.code_last4} generated"


def absolute(amount: Money) -> Money:
    return Money(abs(amount.amount), amount.currency)


def voucher_barcode(voucher: Voucher) -> str:
    return code128_svg(voucher.code.replace("-", ""), f"Barcode of the voucher code {voucher.code}")


async def _credit_page(principal: Principal, *, amount: str = "", error: str | None = None,
                       issued: str | None = None, status: int = 200) -> Template:
    credit = await vouchers.credit_history(principal.account_id, HISTORY_SIZE)
    items, _ = await vouchers.list_vouchers(principal.account_id, VOUCHERS_SHOWN)
    return render("seller/credit.html", status=status, nav="credit", credit=credit, vouchers=items,
                  amount=amount, error=error, issued=issued, form_key=form_key(), action=ISSUE_ACTION,
                  entry_words=entry_words, absolute=absolute, barcode=voucher_barcode, channel_names=CHANNEL_NAMES,
                  status_names=STATUS_NAMES)


@get("/credit", guards=[seller_only], include_in_schema=False)
async def credit(principal: NamedDependency[Principal], issued: Issued = None) -> Template:
    return await _credit_page(principal, issued=issued)


@post(ISSUE_ACTION, guards=[seller_only], include_in_schema=False, status_code=200)
async def issue_voucher(principal: NamedDependency[Principal],
                        data: Annotated[VoucherForm, FormBody]) -> Template | Redirect:
    try:
        amount = euros(data.amount)
    except ValueError as exc:
        return await _credit_page(principal, amount=data.amount, error=str(exc), status=422)
    try:
        voucher = await once(principal, data.form_key, ISSUE_ACTION, VoucherCreate(amount=amount), IssuedVoucher,
                             partial(vouchers.issue_voucher, principal.account_id, amount))
    except InvalidInput as exc:
        message = ("Your credit is lower than this amount: choose a smaller one."
                   if exc.code == "insufficient_credit" else exc.detail)
        return await _credit_page(principal, amount=data.amount, error=message, status=422)
    return see_other(f"/credit?issued={voucher.id}#voucher-{voucher.id}")


handlers = [credit, issue_voucher]
