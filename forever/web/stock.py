"""The resale warehouse's pages: stock, a piece's refurbishment checklist with its listing photos, the listing
filled in from the catalog and the grading with its price (the grid's, or the staff's own), publication;
orders to ship; returns to receive, each piece checked against its passport. Thin: forever.listings does the
work.

Every page is plain forms answered with redirects, so it works without JavaScript.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any
from urllib.parse import urlencode

import msgspec
from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.params import Body, FromPath, QueryParameter
from litestar.response import File, Redirect, Template

from forever import clock
from forever.accounts.schemas import Principal
from forever.api.idempotency import upload
from forever.api.listings import RESALE_STAFF_ROLES
from forever.auth import RoleGuard
from forever.errors import Conflict, DomainError, InvalidInput, NotFound
from forever.grading import intake
from forever.listings import model
from forever.listings import orders as shop_orders
from forever.listings import service as listings
from forever.listings.schemas import ListingUpdate, Order, ReturnOut, ReturnReception, StepUpdate, StockPiece
from forever.problems import status_of
from forever.web.formatting import euros
from forever.web.grading import UPLOAD_PROBLEMS
from forever.web.pages import form_key, once, render, see_other
from forever.web.shop import (
    COUNTRY_NAMES,
    FINDING_WORDS,
    KeyForm,
    METHOD_LABELS,
    ORDER_STATUS_LABELS,
    RETURN_STATUS_LABELS,
    VIEW_TITLES,
    passport_boxes,
)

STOCK = "/warehouse/stock"
TO_SHIP = "/warehouse/orders"
RETURNS = "/warehouse/returns"
PAGE_SIZE = 30
ORDERS_SHOWN = 20

# The resale warehouse's people (the API's group): anyone else is told 404; nobody signed in goes to sign in.
resale_staff_page = RoleGuard("person", *RESALE_STAFF_ROLES)
STAFF_PAGE: dict[str, Any] = {"guards": [resale_staff_page], "include_in_schema": False}
Multipart = Body(media_type=RequestEncodingType.MULTI_PART)
FormBody = Body(media_type=RequestEncodingType.URL_ENCODED)
Cursor = Annotated[str | None, QueryParameter(max_length=200)]
Status = Annotated[str | None, QueryParameter(max_length=16)]
Flag = Annotated[str | None, QueryParameter(max_length=64)]

STEP_TITLES = {model.CLEANED: "Cleaned", model.PRESSED: "Pressed", model.RETAGGED: "Re-tagged",
               model.PHOTOGRAPHED: "Photographed"}
MISSING_WORDS = {**{step: f"not {title.lower()} yet" for step, title in STEP_TITLES.items()},
                 "photos": "no listing photo", "size": "no size chosen"}
STOCK_STATUS_LABELS = {model.STOCK: "Being refurbished", model.LIVE: "On sale",
                       model.RESERVED: "In a checkout", model.SOLD: "Sold"}
EVENT_WORDS = {
    "entered_stock": "Entered stock", "cleaned": "Cleaned", "pressed": "Pressed", "retagged": "Re-tagged",
    "photographed": "Photographed", "photo_added": "Photo added", "photo_removed": "Photo removed",
    "repriced": "Price changed", "size_set": "Size chosen", "published": "Put on sale",
    "unpublished": "Taken off the shop", "sold": "Sold", "order_cancelled": "Order cancelled",
    "returned": "Returned",
}
SHIP_STATUSES = {model.CONFIRMED: "To ship", model.SHIPPED: "Shipped", model.DELIVERED: "Delivered"}


def _nav(current: str) -> dict[str, Any]:
    return {"nav": "resale", "subnav": current}


def _next(status: str, cursor: str | None) -> str | None:
    """The query of a list's next page, if there is one."""
    return urlencode({"status": status, "cursor": cursor}) if cursor else None


# --- stock --------------------------------------------------------------------------------------------------


@get(STOCK, **STAFF_PAGE)
async def stock(status: Status = None, cursor: Cursor = None) -> Template:
    """Pieces by status (being refurbished first), newest arrivals first, with what each still needs."""
    chosen = status if status in STOCK_STATUS_LABELS else model.STOCK
    page = await listings.list_stock(chosen, PAGE_SIZE, cursor)
    return render("stock/stock.html", **_nav("stock"), items=page.items, chosen=chosen,
                  status_labels=STOCK_STATUS_LABELS, missing_words=MISSING_WORDS,
                  next=_next(chosen, page.next_cursor))


async def _piece_page(listing_id: str, *, status: int = 200, problem: str | None = None,
                      price: str | None = None, done: str | None = None) -> Template:
    found = await listings.get_stock_piece(listing_id)
    return render("stock/piece.html", status=status, **_nav("stock"), piece=found, problem=problem,
                  price=price if price is not None else f"{found.price.major:f}", done=done,
                  step_titles=STEP_TITLES, missing_words=MISSING_WORDS, status_labels=STOCK_STATUS_LABELS,
                  event_words=EVENT_WORDS, photo_src=partial(photo_src, found.id),
                  max_upload_bytes=intake.MAX_UPLOAD_BYTES, new_form_key=form_key)


def photo_src(listing_id: str, photo_id: str) -> str:
    """A listing photo's address for staff (the API's takes a bearer token, and hides pieces in stock)."""
    return f"{STOCK}/{listing_id}/photos/{photo_id}"


@get(f"{STOCK}/{{listing_id:str}}", **STAFF_PAGE)
async def stock_piece(listing_id: FromPath[str], done: Flag = None) -> Template:
    return await _piece_page(listing_id, done=done)


class StepForm(msgspec.Struct, kw_only=True):
    step: str = ""
    done: str = "1"


@post(f"{STOCK}/{{listing_id:str}}/steps", **STAFF_PAGE, status_code=200)
async def tick(principal: NamedDependency[Principal], listing_id: FromPath[str],
               data: Annotated[StepForm, FormBody]) -> Template | Redirect:
    """Tick (or untick) a refurbishment step."""
    try:
        step = msgspec.convert({"step": data.step, "done": data.done == "1"}, StepUpdate)
        await listings.tick_step(principal, listing_id, step)
    except msgspec.ValidationError:
        return await _piece_page(listing_id, status=422, problem="Choose one of the refurbishment steps.")
    except Conflict as exc:
        return await _piece_page(listing_id, status=409, problem=exc.detail)
    return see_other(f"{STOCK}/{listing_id}#checklist")


@dataclass
class PhotoForm:
    """A listing photo (multipart), with the form's key: a double submit is one photo."""

    photo: UploadFile | None = None
    form_key: str = ""


def _photo_too_large(_: Request[Any, Any, Any], __: RequestEntityTooLarge) -> Template:
    return render("error.html", status=413, code=413, title="Photo too large",
                  message=UPLOAD_PROBLEMS[intake.PHOTO_TOO_LARGE])


@post(f"{STOCK}/{{listing_id:str}}/photos", **STAFF_PAGE, status_code=200,
      exception_handlers={RequestEntityTooLarge: _photo_too_large})
async def add_photo(principal: NamedDependency[Principal], listing_id: FromPath[str],
                    data: Annotated[PhotoForm, Multipart]) -> Template | Redirect:
    """A listing photo (the first is the cover), kept upright, without its metadata."""
    if not isinstance(data.photo, UploadFile) or not data.photo.filename:
        return await _piece_page(listing_id, status=422, problem="Choose a photo first.")
    photo = await data.photo.read()
    try:
        await once(principal, data.form_key, f"{STOCK}/{listing_id}/photos", upload(photo=photo), StockPiece,
                   partial(listings.add_photo, principal, listing_id, photo))
    except NotFound:
        raise
    except DomainError as exc:
        problem = UPLOAD_PROBLEMS.get(exc.code, exc.detail)
        return await _piece_page(listing_id, status=status_of(exc), problem=problem)
    return see_other(f"{STOCK}/{listing_id}#photos")


@post(f"{STOCK}/{{listing_id:str}}/photos/{{photo_id:str}}/remove", guards=[resale_staff_page],
      include_in_schema=False, status_code=200)
async def remove_photo(principal: NamedDependency[Principal], listing_id: FromPath[str],
                       photo_id: FromPath[str], data: Annotated[KeyForm, FormBody]) -> Template | Redirect:
    """Take a photo off the listing, once per form key: the same form sent again lands on the photos, not on
    "no such photo"."""
    try:
        await once(principal, data.form_key, f"{STOCK}/{listing_id}/photos/{photo_id}/remove", KeyForm(),
                   StockPiece, partial(listings.remove_photo, principal, listing_id, photo_id))
    except Conflict as exc:
        return await _piece_page(listing_id, status=409, problem=exc.detail)
    return see_other(f"{STOCK}/{listing_id}#photos")


@get(f"{STOCK}/{{listing_id:str}}/photos/{{photo_id:str}}", **STAFF_PAGE)
async def photo(listing_id: FromPath[str], photo_id: FromPath[str]) -> File:
    found = await listings.listing_photo(listing_id, photo_id, staff=True)
    return File(path=found.path, media_type=found.media_type, content_disposition_type="inline",
                headers={"Cache-Control": "private, max-age=86400"})


class ListingForm(msgspec.Struct, kw_only=True):
    """The listing's form: a price of the staff's own (euros), back to the grid's, or the size."""

    price: str = ""
    reset_price: str = ""
    size: str = ""


@post(f"{STOCK}/{{listing_id:str}}/listing", **STAFF_PAGE, status_code=200)
async def update_listing(principal: NamedDependency[Principal], listing_id: FromPath[str],
                         data: Annotated[ListingForm, FormBody]) -> Template | Redirect:
    try:
        if data.reset_price:
            change = ListingUpdate(reset_price=True)
        elif data.size:
            change = ListingUpdate(size=data.size)
        else:
            change = ListingUpdate(price=euros(data.price))
        await listings.update_listing(principal, listing_id, change)
    except ValueError as exc:
        return await _piece_page(listing_id, status=422, problem=str(exc), price=data.price)
    except (InvalidInput, Conflict) as exc:
        return await _piece_page(listing_id, status=status_of(exc), problem=exc.detail, price=data.price)
    return see_other(f"{STOCK}/{listing_id}?done=listing#listing")


@post(f"{STOCK}/{{listing_id:str}}/publish", **STAFF_PAGE, status_code=200)
async def publish(principal: NamedDependency[Principal], listing_id: FromPath[str],
                  data: Annotated[KeyForm, FormBody]) -> Template | Redirect:
    return await _publish_or_unpublish(principal, listing_id, data.form_key, "publish", listings.publish)


@post(f"{STOCK}/{{listing_id:str}}/unpublish", **STAFF_PAGE, status_code=200)
async def unpublish(principal: NamedDependency[Principal], listing_id: FromPath[str],
                    data: Annotated[KeyForm, FormBody]) -> Template | Redirect:
    return await _publish_or_unpublish(principal, listing_id, data.form_key, "unpublish", listings.unpublish)


async def _publish_or_unpublish(principal: Principal, listing_id: str, key: str, verb: str,
                                act: Callable[..., Awaitable[StockPiece]]) -> Template | Redirect:
    """Publish or unpublish once per form key, then back to the piece saying it was done (or why not)."""
    try:
        await once(principal, key, f"{STOCK}/{listing_id}/{verb}", KeyForm(), StockPiece,
                   partial(act, principal, listing_id))
    except Conflict as exc:
        return await _piece_page(listing_id, status=409, problem=exc.detail)
    return see_other(f"{STOCK}/{listing_id}?done={verb}ed")


# --- orders to ship -----------------------------------------------------------------------------------------


async def _orders_page(principal: Principal, status: str, cursor: str | None, *, code: int = 200,
                       problem: str | None = None, shipped: str | None = None) -> Template:
    page = await shop_orders.staff_orders(status, ORDERS_SHOWN, cursor)
    found = [await shop_orders.get_order(principal, summary.id) for summary in page.items]
    return render("stock/orders.html", status=code, **_nav("orders"), orders=found, chosen=status,
                  statuses=SHIP_STATUSES, status_labels=ORDER_STATUS_LABELS, method_labels=METHOD_LABELS,
                  country_names=COUNTRY_NAMES, now=clock.now(), problem=problem, shipped=shipped,
                  new_form_key=form_key,
                  next=_next(status, page.next_cursor))


@get(TO_SHIP, **STAFF_PAGE)
async def orders_to_ship(principal: NamedDependency[Principal], status: Status = None, cursor: Cursor = None,
                         shipped: Flag = None) -> Template:
    return await _orders_page(principal, status if status in SHIP_STATUSES else model.CONFIRMED, cursor,
                              shipped=shipped)


@post(f"{TO_SHIP}/{{order_id:str}}/ship", **STAFF_PAGE, status_code=200)
async def ship(principal: NamedDependency[Principal], order_id: FromPath[str],
               data: Annotated[KeyForm, FormBody]) -> Template | Redirect:
    """Ship an order whose 30 minutes to cancel are over: the vouchers' holds and the card are captured."""
    action = f"{TO_SHIP}/{order_id}/ship"
    try:
        await once(principal, data.form_key, action, KeyForm(), Order,
                   partial(shop_orders.ship_order, principal, order_id))
    except Conflict as exc:
        return await _orders_page(principal, model.CONFIRMED, None, code=409, problem=exc.detail)
    return see_other(f"{TO_SHIP}?{urlencode({'shipped': order_id})}")


# --- returns to receive -------------------------------------------------------------------------------------


@get(RETURNS, **STAFF_PAGE)
async def returns(status: Status = None, cursor: Cursor = None) -> Template:
    chosen = status if status in RETURN_STATUS_LABELS else model.REQUESTED
    page = await shop_orders.list_returns(chosen, ORDERS_SHOWN, cursor)
    return render("stock/returns.html", **_nav("returns"), returns=page.items, chosen=chosen,
                  status_labels=RETURN_STATUS_LABELS,
                  next=_next(chosen, page.next_cursor))


async def _return_page(return_id: str, *, status: int = 200, problem: str | None = None,
                       posted: dict[str, str] | None = None) -> Template:
    found = await shop_orders.get_return(return_id)
    # The passports to check against while the pieces are the buyer's (received, they are back in stock).
    pieces = ({line.listing_id: await listings.get_listing(line.listing_id) for line in found.items}
              if found.status == model.REQUESTED else {})
    return render("stock/return.html", status=status, **_nav("returns"), ret=found, pieces=pieces,
                  problem=problem, posted=posted or {}, status_labels=RETURN_STATUS_LABELS,
                  boxes=passport_boxes, view_titles=VIEW_TITLES, finding_words=FINDING_WORDS,
                  new_form_key=form_key)


@get(f"{RETURNS}/{{return_id:str}}", **STAFF_PAGE)
async def return_page(return_id: FromPath[str]) -> Template:
    return await _return_page(return_id)


def reception_of(form: Any, listing_ids: list[str]) -> ReturnReception:
    """The warehouse's check of each returned piece as posted (`match-<id>` yes or no, `observed-<id>`,
    `note-<id>`); InvalidInput when a piece is not checked."""
    checks = []
    for listing_id in listing_ids:
        matches = form.get(f"match-{listing_id}")
        if matches not in ("yes", "no"):
            raise InvalidInput("Say for every piece whether it matches its passport.",
                               code="check_every_piece")
        observed = str(form.get(f"observed-{listing_id}") or "") or None
        checks.append({"listing_id": listing_id, "condition_matches": matches == "yes",
                       "observed_condition": observed if matches == "no" else None,
                       "note": str(form.get(f"note-{listing_id}") or "").strip()[:500]})
    return msgspec.convert({"items": checks}, ReturnReception)


@post(f"{RETURNS}/{{return_id:str}}/receive", **STAFF_PAGE,
      status_code=200)
async def receive(request: Request[Any, Any, Any], principal: NamedDependency[Principal],
                  return_id: FromPath[str]) -> Template | Redirect:
    """Receive a return: pieces as graded are refunded on the card, the others withheld; all back to stock."""
    form = await request.form()
    posted = {key: str(value) for key, value in form.items()}
    found = await shop_orders.get_return(return_id)
    try:
        reception = reception_of(form, [line.listing_id for line in found.items])
        await once(principal, str(form.get("form_key") or ""), f"{RETURNS}/{return_id}/receive", reception,
                   ReturnOut, partial(shop_orders.receive_return, principal, return_id, reception))
    except msgspec.ValidationError:
        return await _return_page(return_id, status=422, posted=posted,
                                  problem="Choose the condition a piece not as graded was found in.")
    except (InvalidInput, Conflict) as exc:
        return await _return_page(return_id, status=status_of(exc), problem=exc.detail, posted=posted)
    return see_other(f"{RETURNS}/{return_id}")


handlers = [stock, stock_piece, tick, add_photo, remove_photo, photo, update_listing, publish, unpublish,
            orders_to_ship, ship, returns, return_page, receive]
