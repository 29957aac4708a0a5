"""Store credit and vouchers: the seller's credit and vouchers, the channels' look-ups, redemptions and holds,
customer service's re-credits, and the liability report."""

from functools import partial
from typing import Annotated

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from forever.accounts.schemas import Principal
from forever.api.accounts import client_address
from forever.api.idempotency import IdempotencyKey, idempotent
from forever.auth import admin_only, channel_key_only, customer_service_only, seller_only
from forever.vouchers import ledger, service
from forever.vouchers.schemas import (
    CaptureCreate,
    Credit,
    Hold,
    HoldCreate,
    HoldPlaced,
    IssuedVoucher,
    LiabilityReport,
    RecreditCreate,
    RecreditEntry,
    Redemption,
    RedemptionCreate,
    VoucherCreate,
    VoucherLookup,
    VoucherLookupRequest,
    VoucherPage,
)

Limit = Annotated[int, QueryParameter(ge=1, le=100)]
Cursor = Annotated[str | None, QueryParameter(max_length=200)]


@get("/me/credit", tags=["vouchers"], guards=[seller_only], summary="The seller's credit and its movements")
async def my_credit(principal: NamedDependency[Principal], limit: Limit = 20, cursor: Cursor = None) -> Credit:
    return await service.credit_history(principal.account_id, limit, cursor)


@post("/me/vouchers", tags=["vouchers"], guards=[seller_only], status_code=201,
      summary="Turn credit into a voucher (the code is in the answer)")
async def issue_voucher(request: Request, principal: NamedDependency[Principal], data: JSONBody[VoucherCreate],
                        idempotency_key: IdempotencyKey = None) -> Response[IssuedVoucher]:
    return await idempotent(request, principal, idempotency_key, data, 201,
                            partial(service.issue_voucher, principal.account_id, data.amount))


@get("/me/vouchers", tags=["vouchers"], guards=[seller_only], summary="The seller's vouchers, newest first")
async def my_vouchers(principal: NamedDependency[Principal], limit: Limit = 20,
                      cursor: Cursor = None) -> VoucherPage:
    items, next_cursor = await service.list_vouchers(principal.account_id, limit, cursor)
    return VoucherPage(items=items, next_cursor=next_cursor)


@post("/vouchers/lookup", tags=["vouchers"], guards=[channel_key_only], status_code=200,
      summary="A voucher's available balance and expiry, by code")
async def look_up(request: Request, principal: NamedDependency[Principal],
                  data: JSONBody[VoucherLookupRequest]) -> VoucherLookup:
    return await service.look_up(principal, data.code, client_address(request))


@post("/vouchers/redeem", tags=["vouchers"], guards=[channel_key_only], status_code=201,
      summary="Spend part or all of a voucher")
async def redeem(request: Request, principal: NamedDependency[Principal], data: JSONBody[RedemptionCreate],
                 idempotency_key: IdempotencyKey = None) -> Response[Redemption]:
    return await idempotent(request, principal, idempotency_key, data, 201,
                            partial(service.redeem, principal, data, client_address(request)))


@post("/vouchers/holds", tags=["vouchers"], guards=[channel_key_only], status_code=201,
      summary="Set an amount of a voucher aside for an order (7 days)")
async def place_hold(request: Request, principal: NamedDependency[Principal], data: JSONBody[HoldCreate],
                     idempotency_key: IdempotencyKey = None) -> Response[HoldPlaced]:
    return await idempotent(request, principal, idempotency_key, data, 201,
                            partial(service.place_hold, principal, data, client_address(request)))


@post("/vouchers/holds/{hold_id:str}/capture", tags=["vouchers"], guards=[channel_key_only], status_code=200,
      summary="Capture a hold, or part of it (the rest goes back to the voucher)")
async def capture_hold(request: Request, principal: NamedDependency[Principal], hold_id: FromPath[str],
                       data: JSONBody[CaptureCreate | None] = None,
                       idempotency_key: IdempotencyKey = None) -> Response[Hold]:
    return await idempotent(request, principal, idempotency_key, data, 200,
                            partial(service.capture, principal, hold_id, data))


@post("/vouchers/holds/{hold_id:str}/void", tags=["vouchers"], guards=[channel_key_only], status_code=200,
      summary="Release a hold back to its voucher")
async def void_hold(request: Request, principal: NamedDependency[Principal], hold_id: FromPath[str],
                    idempotency_key: IdempotencyKey = None) -> Response[Hold]:
    return await idempotent(request, principal, idempotency_key, None, 200,
                            partial(service.void, principal, hold_id))


@post("/vouchers/{code:str}/recredit", tags=["vouchers"], guards=[customer_service_only], status_code=201,
      summary="Give back what a voucher paid for (customer service)")
async def recredit(request: Request, principal: NamedDependency[Principal], code: FromPath[str],
                   data: JSONBody[RecreditCreate],
                   idempotency_key: IdempotencyKey = None) -> Response[RecreditEntry]:
    return await idempotent(request, principal, idempotency_key, data, 201,
                            partial(service.recredit, principal, code, data))


@get("/accounts/{account_id:str}/credit", tags=["vouchers"], guards=[customer_service_only],
     summary="A seller's credit and its movements (customer service)")
async def account_credit(account_id: FromPath[str], limit: Limit = 20, cursor: Cursor = None) -> Credit:
    return await service.credit_history(account_id, limit, cursor)


@get("/ledger/report", tags=["vouchers"], guards=[admin_only], summary="What is owed to sellers, by month")
async def liability_report() -> LiabilityReport:
    return await ledger.liability_report()


handlers = [my_credit, issue_voucher, my_vouchers, look_up, redeem, place_hold, capture_hold, void_hold,
            recredit, account_credit, liability_report]
