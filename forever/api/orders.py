"""The resale shop's checkout, orders and returns (buyers), and the warehouse's side of them: shipping,
delivery (staff or the carrier's key) and receiving returns."""

from functools import partial
from typing import Annotated, Any

from litestar import Request, Response, delete, get, post
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.handlers.base import BaseRouteHandler
from litestar.params import FromPath, JSONBody, QueryParameter

from forever.accounts.schemas import Principal
from forever.api.accounts import client_address
from forever.api.idempotency import IdempotencyKey, idempotent
from forever.api.listings import is_resale_staff, resale_staff_only
from forever.auth import principal_of, seller_only, signed_in
from forever.errors import NotFound
from forever.listings import orders
from forever.listings.schemas import (
    BasketCreate,
    BasketPrice,
    DeliveryCreate,
    Order,
    OrderCreate,
    OrderPage,
    Reservation,
    ReservationCreate,
    ReturnCreate,
    ReturnOut,
    ReturnPage,
    ReturnReception,
)

Limit = Annotated[int, QueryParameter(ge=1, le=100)]
Cursor = Annotated[str | None, QueryParameter(max_length=200)]
Status = Annotated[str, QueryParameter(max_length=16)]


async def resale_staff_or_carrier(connection: ASGIConnection[Any, Any, Any, Any],
                                  _: BaseRouteHandler) -> None:
    """The warehouse's people, or the carrier's key (which reports deliveries)."""
    principal = principal_of(connection)
    if not (is_resale_staff(principal) or (principal.kind == "system" and principal.channel == "carrier")):
        raise NotFound("Nothing here.")


# --- checkout -------------------------------------------------------------------------------------------------


@post("/checkout", tags=["orders"], guards=[seller_only], status_code=201,
      summary="Set pieces aside for 15 minutes while checking out (replaces the buyer's earlier checkout)")
async def start_checkout(principal: NamedDependency[Principal],
                         data: JSONBody[ReservationCreate]) -> Reservation:
    return await orders.start_checkout(principal, data)


@get("/checkout", tags=["orders"], guards=[seller_only], summary="The pieces set aside for the buyer now")
async def current_checkout(principal: NamedDependency[Principal]) -> Reservation:
    return await orders.current_checkout(principal)


@delete("/checkout", tags=["orders"], guards=[seller_only],
        summary="Put the buyer's checkout pieces back on sale")
async def abandon_checkout(principal: NamedDependency[Principal]) -> None:
    await orders.abandon_checkout(principal)


@post("/checkout/price", tags=["orders"], guards=[seller_only], status_code=200,
      summary="What an order of these pieces would cost before vouchers: pieces and delivery")
async def price_basket(principal: NamedDependency[Principal], data: JSONBody[BasketCreate]) -> BasketPrice:
    return await orders.price_basket(principal, data)


# --- orders ---------------------------------------------------------------------------------------------------


@post("/orders", tags=["orders"], guards=[seller_only], status_code=201,
      summary="Buy pieces: vouchers (held) and a card; 409 listing_unavailable")
async def place_order(request: Request, principal: NamedDependency[Principal], data: JSONBody[OrderCreate],
                      idempotency_key: IdempotencyKey = None) -> Response[Order]:
    return await idempotent(request, principal, idempotency_key, data, 201,
                            partial(orders.place_order, principal, data, client_address(request)))


@get("/orders", tags=["orders"], guards=[seller_only], summary="The buyer's orders, newest first")
async def list_orders(principal: NamedDependency[Principal], limit: Limit = 20,
                      cursor: Cursor = None) -> OrderPage:
    return await orders.list_orders(principal, limit, cursor)


@get("/orders/{order_id:str}", tags=["orders"], guards=[signed_in], summary="An order (its buyer, staff)")
async def get_order(principal: NamedDependency[Principal], order_id: FromPath[str]) -> Order:
    return await orders.get_order(principal, order_id)


@post("/orders/{order_id:str}/cancel", tags=["orders"], guards=[seller_only], status_code=200,
      summary="Cancel within 30 minutes of confirmation; 409 cancellation_window_closed after")
async def cancel_order(request: Request, principal: NamedDependency[Principal], order_id: FromPath[str],
                       idempotency_key: IdempotencyKey = None) -> Response[Order]:
    return await idempotent(request, principal, idempotency_key, None, 200,
                            partial(orders.cancel_order, principal, order_id))


@post("/orders/{order_id:str}/ship", tags=["warehouse"], guards=[resale_staff_only], status_code=200,
      summary="Ship a confirmed order once it can no longer be cancelled: holds and card captured")
async def ship_order(request: Request, principal: NamedDependency[Principal], order_id: FromPath[str],
                     idempotency_key: IdempotencyKey = None) -> Response[Order]:
    return await idempotent(request, principal, idempotency_key, None, 200,
                            partial(orders.ship_order, principal, order_id))


@post("/orders/{order_id:str}/delivered", tags=["warehouse"], guards=[resale_staff_or_carrier],
      status_code=200,
      summary="A shipped order was delivered (the carrier's key, or staff)")
async def mark_delivered(request: Request, principal: NamedDependency[Principal], order_id: FromPath[str],
                         data: JSONBody[DeliveryCreate | None] = None,
                         idempotency_key: IdempotencyKey = None) -> Response[Order]:
    return await idempotent(request, principal, idempotency_key, data, 200,
                            partial(orders.mark_delivered, order_id, data or DeliveryCreate()))


@post("/orders/{order_id:str}/returns", tags=["orders"], guards=[seller_only], status_code=201,
      summary="Return pieces within 14 days of delivery: a prepaid label; 409 return_window_closed after")
async def request_return(request: Request, principal: NamedDependency[Principal], order_id: FromPath[str],
                         data: JSONBody[ReturnCreate],
                         idempotency_key: IdempotencyKey = None) -> Response[ReturnOut]:
    return await idempotent(request, principal, idempotency_key, data, 201,
                            partial(orders.request_return, principal, order_id, data))


@get("/orders/{order_id:str}/returns/{return_id:str}/label.pdf", tags=["orders"], guards=[signed_in],
     media_type="application/pdf", summary="A return's prepaid label (PDF A6)")
async def return_label(principal: NamedDependency[Principal], order_id: FromPath[str],
                       return_id: FromPath[str]) -> Response[bytes]:
    pdf = await orders.return_label(principal, order_id, return_id)
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="return-label-{return_id}.pdf"'})


# --- the warehouse --------------------------------------------------------------------------------------------


@get("/warehouse/orders", tags=["warehouse"], guards=[resale_staff_only],
     summary="Orders by status (default: confirmed, to ship), newest first")
async def warehouse_orders(status: Status = "confirmed", limit: Limit = 20,
                           cursor: Cursor = None) -> OrderPage:
    return await orders.staff_orders(status, limit, cursor)


@get("/warehouse/returns", tags=["warehouse"], guards=[resale_staff_only],
     summary="Returns by status (default: requested, on their way), oldest first")
async def warehouse_returns(status: Status = "requested", limit: Limit = 20,
                            cursor: Cursor = None) -> ReturnPage:
    return await orders.list_returns(status, limit, cursor)


@get("/warehouse/returns/{return_id:str}", tags=["warehouse"], guards=[resale_staff_only], summary="A return")
async def warehouse_return(return_id: FromPath[str]) -> ReturnOut:
    return await orders.get_return(return_id)


@post("/warehouse/returns/{return_id:str}/receive", tags=["warehouse"], guards=[resale_staff_only],
      status_code=200,
      summary="Receive a return: each piece checked against its passport, the card part refunded")
async def receive_return(request: Request, principal: NamedDependency[Principal], return_id: FromPath[str],
                         data: JSONBody[ReturnReception], idempotency_key: IdempotencyKey = None
                         ) -> Response[ReturnOut]:
    return await idempotent(request, principal, idempotency_key, data, 200,
                            partial(orders.receive_return, principal, return_id, data))


handlers = [start_checkout, current_checkout, abandon_checkout, price_basket, place_order, list_orders,
            get_order, cancel_order, ship_order, mark_delivered, request_return, return_label,
            warehouse_orders, warehouse_returns, warehouse_return, receive_return]
