"""The boutique till: scan or type a voucher code, see what it holds, redeem an amount, print the receipt.

The till is the staff member's store spending through the `store` channel: the same look-up and redemption
as a store's channel key (forever.vouchers.service), so the same rules, limits and ledger entries apply.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Template

from forever import clock
from forever.accounts import service as accounts
from forever.accounts.schemas import Principal
from forever.api.accounts import client_address
from forever.auth import store_staff_only
from forever.errors import DomainError
from forever.problems import status_of
from forever.vouchers import model as voucher_rules
from forever.vouchers import service as vouchers
from forever.vouchers.schemas import Redemption, RedemptionCreate, VoucherLookup
from forever.web.formatting import euros
from forever.web.pages import form_key, once, render

FormBody = Body(media_type=RequestEncodingType.URL_ENCODED)
REDEEM_ACTION = "/till/redeem"

# What the till says, large, when a code or an amount is refused.
TILL_PROBLEMS: dict[str, tuple[str, str]] = {
    "voucher_not_found": ("Unknown code", "No voucher has this code. Check it and type it again, or scan it once more."),
    "voucher_expired": ("Expired voucher", "This voucher has expired: it can no longer be used."),
    "insufficient_balance": ("Not enough on this voucher", "Redeem at most what the voucher holds."),
    "too_many_attempts": ("Too many unknown codes", "This till has typed too many unknown codes. "
                          "Wait 10 minutes, then try again."),
    "channel_not_allowed": ("Vouchers are not accepted here", "AMI For Ever vouchers cannot be used in "
                            "department-store corners. The customer can use it in an AMI boutique or on "
                            "amiparis.com."),
}


# Refusals of the amount, said beside it (None: the service's own words).
AMOUNT_PROBLEMS: dict[str, str | None] = {
    "insufficient_balance": "Not enough on this voucher: redeem at most what it holds.",
    "invalid_amount": None,
}


class CodeForm(msgspec.Struct, kw_only=True):
    code: str = ""


class RedeemForm(msgspec.Struct, kw_only=True):
    code: str = ""
    amount: str = ""
    order_ref: str = ""
    form_key: str = ""


def _problem(exc: DomainError) -> dict[str, str]:
    title, advice = TILL_PROBLEMS.get(exc.code, ("That did not work", exc.detail))
    return {"code": exc.code, "title": title, "detail": advice}


def _order_ref(principal: Principal) -> str:
    return f"TILL-{principal.store_code}-{clock.now().astimezone(clock.PARIS):%Y%m%d-%H%M%S}"


def _till(principal: Principal, *, status: int = 200, **context: Any) -> Template:
    allowed = voucher_rules.channel_allowed(voucher_rules.STORE, principal.store_kind)
    refusal = None if allowed else TILL_PROBLEMS["channel_not_allowed"]
    return render("store/till.html", status=status, nav="till", refusal=refusal, **context)


def _redeem_step(principal: Principal, code: str, found: VoucherLookup, *, amount: str = "",
                 error: dict[str, str] | None = None, status: int = 200) -> Template:
    return _till(principal, status=status, step="redeem", code=code, found=found, amount=amount, error=error,
                 form_key=form_key(), order_ref=_order_ref(principal), action=REDEEM_ACTION)


@get("/till", guards=[store_staff_only], include_in_schema=False)
async def till(principal: NamedDependency[Principal]) -> Template:
    return _till(principal, step="scan")


@post("/till/lookup", guards=[store_staff_only], include_in_schema=False, status_code=200)
async def look_up(request: Request[Any, Any, Any], principal: NamedDependency[Principal],
                  data: Annotated[CodeForm, FormBody]) -> Template:
    code = data.code.strip()[:64]
    try:
        found = await vouchers.look_up(principal, code, client_address(request))
    except DomainError as exc:
        return _till(principal, status=status_of(exc), step="scan", code=code, problem=_problem(exc))
    return _redeem_step(principal, code, found)


@post(REDEEM_ACTION, guards=[store_staff_only], include_in_schema=False, status_code=200)
async def redeem(request: Request[Any, Any, Any], principal: NamedDependency[Principal],
                 data: Annotated[RedeemForm, FormBody]) -> Template:
    code, address = data.code.strip()[:64], client_address(request)
    order_ref = data.order_ref.strip()[:255] or _order_ref(principal)
    try:
        amount = euros(data.amount)
    except ValueError as exc:
        problem = {"code": "invalid_amount", "detail": str(exc)}
    else:
        asked = RedemptionCreate(code=code, amount=amount, order_ref=order_ref)
        try:
            redemption = await once(principal, data.form_key, REDEEM_ACTION, asked, Redemption,
                                    partial(vouchers.redeem, principal, asked, address))
        except DomainError as exc:
            if exc.code not in AMOUNT_PROBLEMS:
                return _till(principal, status=status_of(exc), step="scan", code=code, problem=_problem(exc))
            problem = {"code": exc.code, "detail": AMOUNT_PROBLEMS[exc.code] or exc.detail}
        else:
            return _till(principal, step="receipt", redemption=redemption, order_ref=order_ref,
                         store=await accounts.store_name(principal.store_code), at=clock.now(),
                         last4=voucher_rules.last4(voucher_rules.normalise_code(code) or code))
    try:  # the amount step again, with what the voucher holds now
        found = await vouchers.look_up(principal, code, address)
    except DomainError as exc:
        return _till(principal, status=status_of(exc), step="scan", code=code, problem=_problem(exc))
    return _redeem_step(principal, code, found, amount=data.amount, error=problem, status=422)


handlers = [till, look_up, redeem]
