"""The resale shop's pages for buyers: browse with filters and their counts, a piece with its passport, the
cart (the pieces set aside for the buyer), checkout, orders, cancellation and returns. Thin: forever.listings
does the work.

Without JavaScript every page is plain links and forms. With it, htmx filters as the buyer chooses, loads more
pieces in place and prices the delivery as the address is filled in.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Annotated, Any
from urllib.parse import urlencode

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, QueryParameter
from litestar.response import Redirect, Template

from forever import clock, rules
from forever.accounts import service as accounts
from forever.accounts.schemas import Principal
from forever.api.accounts import client_address
from forever.auth import seller_only, signed_in
from forever.errors import Conflict, DomainError, InvalidInput, NotFound
from forever.grading.model import SHOWN_SCORE
from forever.listings import model
from forever.listings import orders as shop_orders
from forever.listings import service as listings
from forever.listings.schemas import (
    BasketCreate,
    Facets,
    Listing,
    ListingQuery,
    Order,
    OrderCreate,
    PassportPhoto,
    Reservation,
    ReservationCreate,
    ReturnCreate,
    ReturnOut,
    Shipping,
)
from forever.money import Money
from forever.problems import status_of
from forever.vouchers import service as vouchers
from forever.web import wording
from forever.web.pages import form_key, is_htmx, once, render, see_other

SHOP = "/shop"
CART = "/shop/cart"
CHECKOUT = "/shop/checkout"
ORDERS = "/shop/orders"
PAGE_SIZE = 24
CART_COOKIE = "forever_cart"
OWN_VOUCHERS_SHOWN = 20

FormBody = Body(media_type=RequestEncodingType.URL_ENCODED)
Text = Annotated[str | None, QueryParameter(max_length=100)]
Code = Annotated[str | None, QueryParameter(max_length=32)]
Cursor = Annotated[str | None, QueryParameter(max_length=200)]
Flag = Annotated[str | None, QueryParameter(max_length=64)]

FILTERS = ("q", "category", "size", "condition", "season", "price")
SORT_LABELS = {model.NEWEST: "Newest first", model.PRICE_ASC: "Price, low to high",
               model.PRICE_DESC: "Price, high to low"}
ORDER_STATUS_LABELS = {
    model.PENDING: "Being paid", model.CONFIRMED: "Confirmed", model.FAILED: "Payment did not go through",
    model.CANCELLED: "Cancelled", model.SHIPPED: "Shipped", model.DELIVERED: "Delivered",
}
RETURN_STATUS_LABELS = {model.REQUESTED: "Label issued: on its way back", model.RECEIVED: "Received"}
METHOD_LABELS = {rules.STANDARD: "Standard", rules.EXPRESS: "Express"}
RETURN_REASONS = {
    "too_small": "Too small", "too_large": "Too large", "not_as_pictured": "Not as pictured or described",
    "changed_mind": "Changed my mind", "other": "Another reason",
}
# The countries the shop delivers to in its currency (the shared rules price an order in its zone's currency).
COUNTRY_NAMES = {
    "AT": "Austria", "BE": "Belgium", "BG": "Bulgaria", "CY": "Cyprus", "CZ": "Czechia", "DE": "Germany",
    "DK": "Denmark", "EE": "Estonia", "ES": "Spain", "FI": "Finland", "FR": "France", "GR": "Greece",
    "HR": "Croatia", "HU": "Hungary", "IE": "Ireland", "IT": "Italy", "LT": "Lithuania", "LU": "Luxembourg",
    "LV": "Latvia", "MT": "Malta", "NL": "Netherlands", "PL": "Poland", "PT": "Portugal", "RO": "Romania",
    "SE": "Sweden", "SI": "Slovenia", "SK": "Slovakia",
}


# --- browsing -----------------------------------------------------------------------------------------------


def price_band(low: int, high: int | None) -> str:
    """The price filter's value of a band, e.g. "50-100" or "400+" (euros)."""
    return model.price_band_label(low, high)


def band_range(band: str | None) -> tuple[int | None, int | None]:
    """A price filter value as (min_price, max_price) in cents, the band's upper end left out; 422 when it is
    not one of the shop's bands."""
    if not band:
        return None, None
    for low, high in model.PRICE_BANDS:
        if price_band(low, high) == band:
            return low, (high - 1 if high is not None else None)
    raise InvalidInput(f"Unknown price band {band!r}.", code="invalid_price")


@dataclass(frozen=True)
class Browse:
    """What the buyer asked the shop for, as the filter form sends it (empty values dropped)."""

    q: str = ""
    category: str = ""
    size: str = ""
    condition: str = ""
    season: str = ""
    price: str = ""
    sort: str = model.NEWEST

    def query(self, cursor: str | None = None) -> ListingQuery:
        low, high = band_range(self.price)
        return ListingQuery(q=self.q or None, category=self.category or None, size=self.size or None,
                            condition=self.condition or None, season=self.season or None, min_price=low,
                            max_price=high, sort=self.sort or model.NEWEST, cursor=cursor, limit=PAGE_SIZE)

    def address(self, **more: str | None) -> str:
        """The shop's address for these filters (the newest-first sort left implicit)."""
        values = {name: getattr(self, name) for name in FILTERS}
        values["sort"] = self.sort if self.sort != model.NEWEST else ""
        query = urlencode({name: value for name, value in {**values, **more}.items() if value})
        return f"{SHOP}?{query}" if query else SHOP

    @property
    def filtered(self) -> bool:
        return any(getattr(self, name) for name in FILTERS)


def _browse(q: str | None, category: str | None, size: str | None, condition: str | None, season: str | None,
            price: str | None, sort: str | None) -> Browse:
    return Browse(q=(q or "").strip(), category=category or "", size=size or "", condition=condition or "",
                  season=season or "", price=price or "", sort=sort or model.NEWEST)


def _options(counts: Iterable[Any], chosen: str, label: Any) -> list[dict[str, Any]]:
    """A filter's choices with their counts; the chosen value stays listed even when nothing matches now."""
    options = [{"value": count.value, "label": label(count.value), "count": count.count} for count in counts]
    if chosen and chosen not in {option["value"] for option in options}:
        options.append({"value": chosen, "label": label(chosen), "count": 0})
    return options


def filter_choices(facets: Facets, browse: Browse) -> dict[str, list[dict[str, Any]]]:
    """Every filter of the form with each value's count (the other filters applied)."""
    return {
        "category": _options(facets.category, browse.category, wording.category_label),
        "size": _options(facets.size, browse.size, str),
        "condition": _options(facets.condition, browse.condition, condition_title),
        "season": _options(facets.season, browse.season, lambda code: f"{code} · {wording.season_label(code)}"),
        "price": [{"value": price_band(band.min_price, band.max_price), "count": band.count,
                   "label": (f"€{band.min_price // 100} and more" if band.max_price is None
                             else f"€{band.min_price // 100} to €{band.max_price // 100}")}
                  for band in facets.price],
    }


def condition_title(code: str) -> str:
    return model.CONDITION_DEFINITIONS.get(code, (code,))[0]


async def _results(browse: Browse, cursor: str | None) -> dict[str, Any]:
    """A page of pieces, the filters' counts, and the address of the next page."""
    query = browse.query(cursor)
    page = await listings.search_listings(query)
    facets = await listings.listing_facets(msgspec.structs.replace(query, cursor=None, sort=model.NEWEST))
    return {"browse": browse, "pieces": page.items, "facets": facets,
            "choices": filter_choices(facets, browse), "sort_labels": SORT_LABELS,
            "next": browse.address(cursor=page.next_cursor) if page.next_cursor else None,
            "more": ("/shop/more?" + browse.address(cursor=page.next_cursor).partition("?")[2]
                     if page.next_cursor else None)}


@get(SHOP, include_in_schema=False)
async def browse(request: Request[Any, Any, Any], q: Text = None, category: Code = None, size: Code = None,
                 condition: Code = None, season: Code = None, price: Code = None, sort: Code = None,
                 cursor: Cursor = None) -> Template:
    """The shop: filters with counts, pieces newest first (or by price), a page at a time. htmx asks for the
    results and the filters' counts alone as the buyer changes the form."""
    chosen = _browse(q, category, size, condition, season, price, sort)
    try:
        found = await _results(chosen, cursor)
    except InvalidInput as exc:
        return render("shop/browse.html", status=422, nav="shop", problem=exc.detail, browse=chosen,
                      pieces=[], facets=None, choices=None, sort_labels=SORT_LABELS, next=None, more=None,
                      cart_count=len(_cart_ids(request)))
    if is_htmx(request):
        return render("shop/_results.html", oob=True, headers={"HX-Push-Url": chosen.address()}, **found)
    return render("shop/browse.html", nav="shop", problem=None, cart_count=len(_cart_ids(request)), **found)


@get("/shop/more", include_in_schema=False)
async def more(q: Text = None, category: Code = None, size: Code = None, condition: Code = None,
               season: Code = None, price: Code = None, sort: Code = None, cursor: Cursor = None) -> Template:
    """The next page of pieces, for htmx to add below the others (its first piece takes the focus)."""
    found = await _results(_browse(q, category, size, condition, season, price, sort), cursor)
    return render("shop/_more.html", **found)


# --- a piece ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Box:
    """A defect found on a passport photo, in percent of the photo so that it sits over it at any size."""

    number: int
    kind: str
    severity: str
    left: float
    top: float
    width: float
    height: float


def passport_boxes(photo: PassportPhoto) -> list[Box]:
    """The defects of a passport photo (the findings the station shows as defects, CONTRACT.md) as boxes in
    percent. A box smaller than a 25th of the photo's long side is drawn that large around the same centre,
    so a small mark stays visible on a phone."""
    least = max(photo.width, photo.height) / 25
    boxes = []
    for finding in (f for f in photo.findings if f.score >= SHOWN_SCORE):
        x, y, w, h = finding.bbox
        width, height = min(max(w, least), photo.width), min(max(h, least), photo.height)
        left = min(max(x - (width - w) / 2, 0), photo.width - width)
        top = min(max(y - (height - h) / 2, 0), photo.height - height)
        boxes.append(Box(len(boxes) + 1, finding.kind, finding.severity, round(100 * left / photo.width, 2),
                         round(100 * top / photo.height, 2), round(100 * width / photo.width, 2),
                         round(100 * height / photo.height, 2)))
    return boxes


VIEW_TITLES = {"front": "Front", "back": "Back", "brand_label": "Brand label", "care_label": "Care label",
               "detail": "Detail"}
FINDING_WORDS = {"stain": "a stain", "hole": "a hole", "tear": "a tear", "pilling": "pilling",
                 "fading": "fading"}


def _piece_page(request: Request[Any, Any, Any], piece: Listing, *, status: int = 200,
                problem: str | None = None, cookies: list[Cookie] | None = None) -> Template:
    return render("shop/piece.html", status=status, cookies=cookies, nav="shop", piece=piece, problem=problem,
                  in_cart=piece.id in _cart_ids(request), cart_count=len(_cart_ids(request)),
                  boxes=passport_boxes, view_titles=VIEW_TITLES, finding_words=FINDING_WORDS)


@get("/shop/pieces/{listing_id:str}", include_in_schema=False)
async def piece(request: Request[Any, Any, Any], listing_id: FromPath[str]) -> Template:
    return _piece_page(request, await listings.get_listing(listing_id))


# --- the cart: pieces set aside for the buyer ---------------------------------------------------------------
#
# The pieces a buyer chose are kept in a small cookie (theirs only: it names their account) and set aside for
# them (orders.start_checkout) for 15 minutes. The cookie outlives the reservation, so the cart can say that
# the time is over and set the pieces aside again if nobody took them.


def _cart_ids(request: Request[Any, Any, Any]) -> list[str]:
    """The listing ids of the signed-in buyer's cart cookie (another account's cookie is an empty cart)."""
    cookie = request.cookies.get(CART_COOKIE)
    user = request.scope.get("user")
    if not cookie or user is None:
        return []
    try:
        stored = msgspec.json.decode(base64.urlsafe_b64decode(cookie.encode() + b"=" * (-len(cookie) % 4)))
    except (ValueError, msgspec.DecodeError):
        return []
    if not isinstance(stored, dict) or stored.get("account") != user.account_id:
        return []
    return _clean_ids(stored.get("ids"))


def _clean_ids(ids: object) -> list[str]:
    """Distinct listing ids (UUIDs), in the order given, at most an order's worth."""
    clean: list[str] = []
    for value in ids if isinstance(ids, list) else []:
        try:
            listing_id = str(uuid.UUID(str(value)))
        except ValueError:
            continue
        if listing_id not in clean:
            clean.append(listing_id)
    return clean[:model.MAX_PIECES_PER_ORDER]


def _cart_cookie(request: Request[Any, Any, Any], principal: Principal, ids: Sequence[str]) -> Cookie:
    secure = request.app.state["settings"].secure_cookies
    if not ids:
        return Cookie(key=CART_COOKIE, value="", max_age=0, expires=0, path="/")
    value = base64.urlsafe_b64encode(msgspec.json.encode({"account": principal.account_id, "ids": list(ids)}))
    return Cookie(key=CART_COOKIE, value=value.decode().rstrip("="), path="/", httponly=True, samesite="lax",
                  secure=secure)


def _listed_ids(exc: DomainError) -> set[str]:
    return {str(item.get("message")) for item in exc.errors if item.get("field") == "listing_ids"}


@dataclass
class Reserved:
    """What setting a cart aside came to: the pieces set aside, and those another buyer has."""

    kept: list[str]
    lost: list[str] = field(default_factory=list)


async def _set_aside(principal: Principal, ids: Sequence[str]) -> Reserved:
    """Set the cart's pieces aside for the buyer; pieces another buyer has (or that left the shop) drop out
    and the rest is set aside. An empty cart gives back whatever the buyer had set aside."""
    kept, lost = list(ids), []
    while kept:  # every refusal takes at least one piece out, so this ends
        try:
            await shop_orders.start_checkout(principal, ReservationCreate(listing_ids=kept))
        except (Conflict, InvalidInput) as exc:
            if exc.code not in ("listing_unavailable", "unknown_listing"):
                raise
            gone = _listed_ids(exc) & set(kept) or set(kept)
            lost += [listing_id for listing_id in kept if listing_id in gone]
            kept = [listing_id for listing_id in kept if listing_id not in gone]
            continue
        return Reserved(kept, lost)
    await shop_orders.abandon_checkout(principal)
    return Reserved([], lost)


async def _reservation(principal: Principal) -> Reservation | None:
    try:
        return await shop_orders.current_checkout(principal)
    except NotFound:
        return None


async def _shown(listing_id: str) -> Listing | None:
    try:
        return await listings.get_listing(listing_id)
    except NotFound:
        return None


def _with_reservation(request: Request[Any, Any, Any], reservation: Reservation | None) -> list[str]:
    """The cart: the cookie's pieces, and any other piece set aside for the buyer (say, through the API)."""
    return _clean_ids(_cart_ids(request) + (reservation.listing_ids if reservation else []))


async def _cart(request: Request[Any, Any, Any], principal: Principal) -> dict[str, Any]:
    """The cart as its pages show it: each piece, whether it is set aside for the buyer (and until when), and
    the pieces nobody can buy any more."""
    reservation = await _reservation(principal)
    held = set(reservation.listing_ids) if reservation else set()
    ids = _with_reservation(request, reservation)
    pieces = [found for found in [await _shown(listing_id) for listing_id in ids] if found is not None]
    lines = [{"piece": piece, "held": piece.id in held,
              "gone": piece.id not in held and not piece.available} for piece in pieces]
    buyable = [line for line in lines if not line["gone"]]
    subtotal = sum((line["piece"].price for line in buyable), Money.zero(model.CURRENCY))
    return {"lines": lines, "buyable": [line["piece"].id for line in buyable], "reservation": reservation,
            "subtotal": subtotal, "ids": [piece.id for piece in pieces],
            "lapsed": any(not line["held"] for line in buyable)}


def _unavailable_words(piece: Listing | None) -> str:
    if piece is not None and piece.status == model.RESERVED:
        return (f"{piece.name} is in another buyer's checkout right now. If they do not buy it within "
                "15 minutes, it is back on sale: look again later.")
    name = piece.name if piece is not None else "This piece"
    return f"Sorry: {name} has just been sold. Other pieces like it may be in the shop."


@post(CART, guards=[seller_only], include_in_schema=False, status_code=200)
async def add_to_cart(request: Request[Any, Any, Any],
                      principal: NamedDependency[Principal]) -> Template | Redirect:
    """Add a piece to the cart and set the whole cart aside for 15 minutes."""
    listing_id = str((await request.form()).get("listing_id") or "")
    piece = await listings.get_listing(listing_id)  # 404 for anything not in the shop
    current = _with_reservation(request, await _reservation(principal))
    if piece.id not in current and len(current) >= model.MAX_PIECES_PER_ORDER:
        return _piece_page(request, piece, status=409, problem=(
            f"A cart holds at most {model.MAX_PIECES_PER_ORDER} pieces: order these first."))
    reserved = await _set_aside(principal, [*current, piece.id] if piece.id not in current else current)
    cookie = _cart_cookie(request, principal, reserved.kept)
    if piece.id in reserved.lost:
        now = await listings.get_listing(piece.id)
        return _piece_page(request, now, status=409, problem=_unavailable_words(now), cookies=[cookie])
    lost = f"&lost={len(reserved.lost)}" if reserved.lost else ""
    return see_other(f"{CART}?added={piece.id}{lost}", cookies=[cookie])


@post(f"{CART}/remove", guards=[seller_only], include_in_schema=False, status_code=200)
async def remove_from_cart(request: Request[Any, Any, Any],
                           principal: NamedDependency[Principal]) -> Redirect:
    listing_id = str((await request.form()).get("listing_id") or "")
    current = _with_reservation(request, await _reservation(principal))
    reserved = await _set_aside(principal, [piece_id for piece_id in current if piece_id != listing_id])
    return see_other(CART, cookies=[_cart_cookie(request, principal, reserved.kept)])


@post(f"{CART}/reserve", guards=[seller_only], include_in_schema=False, status_code=200)
async def reserve_again(request: Request[Any, Any, Any], principal: NamedDependency[Principal]) -> Redirect:
    """Set the cart aside again once its 15 minutes are over (pieces others took drop out)."""
    reserved = await _set_aside(principal, (await _cart(request, principal))["buyable"])
    lost = f"?lost={len(reserved.lost)}" if reserved.lost else ""
    return see_other(CART + lost, cookies=[_cart_cookie(request, principal, reserved.kept)])


@get(CART, guards=[seller_only], include_in_schema=False)
async def cart(request: Request[Any, Any, Any], principal: NamedDependency[Principal], added: Flag = None,
               lost: Flag = None) -> Template:
    found = await _cart(request, principal)
    return render("shop/cart.html", nav="shop", added=added, lost=lost, cart_count=len(found["ids"]), **found)


# --- checkout -----------------------------------------------------------------------------------------------

ADDRESS_FIELDS = ("name", "line1", "line2", "postal_code", "city", "phone")
REQUIRED_ADDRESS = {"name": "Enter the name to deliver to.", "line1": "Enter the street and number.",
                    "postal_code": "Enter the postal code.", "city": "Enter the town or city."}
CARD_FIELDS = {"card_number": "number", "card_expiry": "expiry", "card_cvc": "cvc"}
FIELD_MESSAGES = {
    **REQUIRED_ADDRESS,
    "line2": "At most 200 characters.", "phone": "At most 30 characters.",
    "country": "Choose a country we deliver to.", "method": "Choose a delivery method.",
    "card_number": "Enter the card number (12 to 19 digits).",
    "card_expiry": "Enter the expiry date as MM/YY, such as 08/29.",
    "card_cvc": "Enter the 3 or 4 digits on the back of the card.",
    "voucher_codes": "At most 10 voucher codes.",
}
# Where each refusal of the shop belongs on the checkout form.
CODE_FIELDS = {
    "po_box": "line1", "missing_address": "line1", "country_not_served": "country",
    "invalid_country": "country", "currency_mismatch": "country", "delivery_method_not_available": "method",
    "unknown_delivery_method": "method",
    "card_required": "card_number", "invalid_card": "card_number", "card_declined": "card_number",
    "insufficient_funds": "card_number", "expired_card": "card_expiry", "voucher_not_found": "voucher_codes",
    "voucher_expired": "voucher_codes", "too_many_attempts": "voucher_codes",
}
CODE_MESSAGES = {
    "po_box": "We do not deliver to PO boxes (PO Box, BP, Postfach, Apartado…): give a street address.",
    "voucher_not_found": "One of these voucher codes is unknown: check it, character by character.",
    "voucher_expired": "One of these vouchers has expired: take it off.",
    "too_many_attempts": "Too many unknown voucher codes: wait 10 minutes, then try again.",
    "card_required": "Your vouchers do not cover the whole order: give a card for the rest.",
}


@dataclass
class CheckoutForm:
    """The checkout form as posted: delivery, vouchers (the buyer's own, ticked, and codes typed), card."""

    name: str = ""
    line1: str = ""
    line2: str = ""
    postal_code: str = ""
    city: str = ""
    phone: str = ""
    country: str = "FR"
    method: str = rules.STANDARD
    own_vouchers: list[str] = field(default_factory=list)
    other_codes: str = ""
    card_number: str = ""
    card_expiry: str = ""
    card_cvc: str = ""
    form_key: str = ""

    @classmethod
    def posted(cls, form: Any) -> CheckoutForm:
        text = {name: str(form.get(name) or "").strip()[:300] for name in (
            *ADDRESS_FIELDS, "country", "method", "other_codes", "card_number", "card_expiry", "card_cvc",
            "form_key")}
        return cls(**{**text, "country": text["country"].upper() or "FR",
                      "method": text["method"] or rules.STANDARD},
                   own_vouchers=[str(code) for code in form.getall("own_vouchers", [])][:10])

    @property
    def address(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in ADDRESS_FIELDS}

    @property
    def address_complete(self) -> bool:
        return all(getattr(self, name) for name in REQUIRED_ADDRESS)

    @property
    def voucher_codes(self) -> list[str]:
        typed = self.other_codes.replace(",", " ").replace(";", " ").split()
        return list(dict.fromkeys([*self.own_vouchers, *typed]))

    @property
    def card(self) -> dict[str, str] | None:
        if not any(getattr(self, name) for name in CARD_FIELDS):
            return None
        return {key: getattr(self, name) for name, key in CARD_FIELDS.items()}

    def shipping(self) -> dict[str, Any]:
        return {"country": self.country, "method": self.method, "address": self.address}

    def without_card(self) -> CheckoutForm:
        """What the page shows back: never the card's number or code."""
        return CheckoutForm(**{**self.__dict__, "card_number": "", "card_cvc": ""})


def _field_of(error: msgspec.ValidationError) -> str | None:
    """The form field a validation error is about ("... - at `$.shipping.address.city`" -> "city")."""
    path = str(error).rpartition("$.")[2].rstrip("`").split("[")[0]
    name = path.rsplit(".", 1)[-1]
    name = f"card_{name}" if path.startswith("card.") else name
    return name if name in FIELD_MESSAGES else None


def order_of(ids: Sequence[str], form: CheckoutForm) -> tuple[OrderCreate | None, dict[str, str]]:
    """The order the form asks for, or every field to correct (each with what to write)."""
    problems = {name: message for name, message in REQUIRED_ADDRESS.items() if not getattr(form, name)}
    if form.card is not None:
        problems.update({name: FIELD_MESSAGES[name] for name in CARD_FIELDS if not getattr(form, name)})
    if problems:
        return None, problems
    try:
        order = msgspec.convert({"listing_ids": list(ids), "shipping": form.shipping(),
                                 "voucher_codes": form.voucher_codes,
                                 **({"card": form.card} if form.card else {})}, OrderCreate)
    except msgspec.ValidationError as exc:
        name = _field_of(exc) or "line1"
        return None, {name: FIELD_MESSAGES[name]}
    return order, {}


def delivery_countries() -> dict[str, str]:
    """Where the shop delivers: the countries of the shared rules' zones that pay in the shop's currency."""
    zones = rules.rules_in_force(clock.today()).delivery_zones
    served = {country for zone in zones if zone.currency == model.CURRENCY for country in zone.countries}
    return dict(sorted(((code, COUNTRY_NAMES.get(code, code)) for code in served), key=lambda item: item[1]))


async def _summary(principal: Principal, ids: Sequence[str], form: CheckoutForm,
                   subtotal: Money) -> dict[str, Any]:
    """The order's price before vouchers: by the shop (orders.price_basket, which also checks the address)
    once the address is filled in, and meanwhile by the shared delivery rules for the country and method."""
    summary: dict[str, Any] = {"subtotal": subtotal, "fee": None, "threshold": None, "total": None,
                               "problem": None, "unavailable": []}
    try:
        if form.address_complete and ids:
            shipping = msgspec.convert(form.shipping(), Shipping)
            basket = BasketCreate(listing_ids=list(ids), shipping=shipping)
            priced = await shop_orders.price_basket(principal, basket)
            summary.update(fee=priced.delivery_fee, threshold=priced.free_threshold, total=priced.total,
                           unavailable=priced.unavailable_ids)
        else:
            fee = rules.delivery_fee(form.country, form.method, subtotal)
            summary.update(fee=fee.fee, threshold=fee.free_threshold, total=subtotal + fee.fee)
    except InvalidInput as exc:
        summary["problem"] = CODE_MESSAGES.get(exc.code, exc.detail)
    except msgspec.ValidationError as exc:
        summary["problem"] = FIELD_MESSAGES.get(_field_of(exc) or "", "Check the delivery address.")
    return summary


async def _checkout_page(request: Request[Any, Any, Any], principal: Principal, form: CheckoutForm, *,
                         status: int = 200, problems: dict[str, str] | None = None,
                         notice: str | None = None) -> Template | Redirect:
    found = await _cart(request, principal)
    if not found["lines"]:
        return see_other(CART)
    own, _ = await vouchers.list_vouchers(principal.account_id, OWN_VOUCHERS_SHOWN)
    countries = delivery_countries()
    return render("shop/checkout.html", status=status, nav="shop", form=form.without_card(),
                  problems=problems or {}, notice=notice, countries=countries, country_names=COUNTRY_NAMES,
                  methods=rules.delivery_methods(form.country) if form.country in countries else (),
                  method_labels=METHOD_LABELS, own_vouchers=[v for v in own if v.status == "active"],
                  summary=await _summary(principal, found["buyable"], form, found["subtotal"]),
                  new_form_key=form_key(),
                  cart_count=len(found["ids"]), **found)


@get(CHECKOUT, guards=[seller_only], include_in_schema=False)
async def checkout(request: Request[Any, Any, Any],
                   principal: NamedDependency[Principal]) -> Template | Redirect:
    account = await accounts.get_account(principal.account_id)
    country = account.country if account.country in delivery_countries() else "FR"
    form = CheckoutForm(name=f"{account.first_name} {account.last_name}".strip(), country=country)
    return await _checkout_page(request, principal, form)


@post(f"{CHECKOUT}/price", guards=[seller_only], include_in_schema=False, status_code=200)
async def checkout_price(request: Request[Any, Any, Any], principal: NamedDependency[Principal]) -> Template:
    """The summary alone, for htmx, as the delivery fields change."""
    form = CheckoutForm.posted(await request.form())
    found = await _cart(request, principal)
    summary = await _summary(principal, found["buyable"], form, found["subtotal"])
    return render("shop/_summary.html", summary=summary, form=form.without_card(),
                  method_labels=METHOD_LABELS, country_names=COUNTRY_NAMES, **found)


@post(CHECKOUT, guards=[seller_only], include_in_schema=False, status_code=200)
async def place_order(request: Request[Any, Any, Any],
                      principal: NamedDependency[Principal]) -> Template | Redirect:
    """Place the order of the pieces the buyer saw on the page: the vouchers pay first, the card the rest.
    Every refusal comes back beside its field; a piece another buyer took leaves the cart, and the buyer is
    told what to do."""
    posted = await request.form()
    form = CheckoutForm.posted(posted)
    ids = _clean_ids(posted.getall("listing_ids", []))
    if not ids:
        return see_other(CART)
    if posted.get("recalculate"):  # "Update the total", without script: the page again, nothing ordered
        return await _checkout_page(request, principal, form)
    order, problems = order_of(ids, form)
    if order is None:
        return await _checkout_page(request, principal, form, status=422, problems=problems)
    try:
        placed = await once(principal, form.form_key, CHECKOUT, order, Order,
                            partial(shop_orders.place_order, principal, order, client_address(request)))
    except Conflict as exc:
        if exc.code != "listing_unavailable":
            return await _checkout_page(request, principal, form, status=409, notice=exc.detail)
        return await _lost_pieces(request, principal, form, ids, _listed_ids(exc))
    except DomainError as exc:
        name = CODE_FIELDS.get(exc.code)
        message = CODE_MESSAGES.get(exc.code, exc.detail)
        if name is None:
            return await _checkout_page(request, principal, form, status=status_of(exc), notice=message)
        return await _checkout_page(request, principal, form, status=status_of(exc), problems={name: message})
    return see_other(f"{ORDERS}/{placed.id}?placed=1", cookies=[_cart_cookie(request, principal, [])])


async def _lost_pieces(request: Request[Any, Any, Any], principal: Principal, form: CheckoutForm,
                       ids: Sequence[str], taken: set[str]) -> Template | Redirect:
    """409 listing_unavailable at checkout: say which pieces went and why, take them out of the cart, set the
    rest aside again, and let the buyer check the new total."""
    words = [_unavailable_words(await _shown(listing_id)) for listing_id in ids if listing_id in taken]
    cart_ids = _with_reservation(request, await _reservation(principal))
    reserved = await _set_aside(principal, [listing_id for listing_id in cart_ids if listing_id not in taken])
    advice = ("We took it out of your cart and kept your other pieces set aside: check the new total and "
              "place your order again." if reserved.kept else
              "Nothing was charged. Other pieces are waiting for you in the shop.")
    page = await _checkout_page(request, principal, form, status=409, notice=" ".join([*words, advice]))
    page.cookies.append(_cart_cookie(request, principal, reserved.kept))
    return page


# --- orders -------------------------------------------------------------------------------------------------


@get(ORDERS, guards=[seller_only], include_in_schema=False)
async def orders_list(principal: NamedDependency[Principal], cursor: Cursor = None) -> Template:
    page = await shop_orders.list_orders(principal, 20, cursor)
    return render("shop/orders.html", nav="orders", orders=page.items, status_labels=ORDER_STATUS_LABELS,
                  next=urlencode({"cursor": page.next_cursor}) if page.next_cursor else None)


def returnable(order: Order) -> list[Any]:
    """The pieces the buyer may still send back (the order delivered, within its return deadline)."""
    deadline = order.return_deadline
    if order.status != model.DELIVERED or deadline is None or deadline < clock.today():
        return []
    return [item for item in order.items if not item.returned]


async def _order_page(principal: Principal, order_id: str, *, status: int = 200, problem: str | None = None,
                      return_problem: str | None = None, placed: bool = False, cancelled: bool = False,
                      returned: str | None = None, chosen: Sequence[str] = (), reason: str = "",
                      details: str = "") -> Template:
    order = await shop_orders.get_order(principal, order_id)
    now = clock.now()
    return render("shop/order.html", status=status, nav="orders", order=order, now=now,
                  can_cancel=order.status == model.CONFIRMED and order.cancel_until is not None
                  and now <= order.cancel_until,
                  returnable=returnable(order), status_labels=ORDER_STATUS_LABELS,
                  return_labels=RETURN_STATUS_LABELS, method_labels=METHOD_LABELS,
                  country_names=COUNTRY_NAMES,
                  reasons=RETURN_REASONS, problem=problem, return_problem=return_problem, placed=placed,
                  cancelled=cancelled, returned=returned, chosen=chosen, reason=reason, details=details,
                  new_form_key=form_key, label_url=return_label_url,
                  vouchers_part=sum((hold.amount for hold in order.vouchers_applied
                                     if hold.status != "voided"), Money.zero(model.CURRENCY)))


def return_label_url(order_id: str, return_id: str) -> str:
    """The page address of a return's label (the API's takes a bearer token, not the session)."""
    return f"{ORDERS}/{order_id}/returns/{return_id}/label.pdf"


@get(f"{ORDERS}/{{order_id:str}}", guards=[seller_only], include_in_schema=False)
async def order_page(principal: NamedDependency[Principal], order_id: FromPath[str], placed: Flag = None,
                     cancelled: Flag = None, returned: Flag = None) -> Template:
    return await _order_page(principal, order_id, placed=bool(placed), cancelled=bool(cancelled),
                             returned=returned)


class KeyForm(msgspec.Struct, kw_only=True):
    """A form whose only field is its key (a button that moves money or stock: cancel, ship)."""

    form_key: str = ""


@post(f"{ORDERS}/{{order_id:str}}/cancel", guards=[seller_only], include_in_schema=False, status_code=200)
async def cancel(principal: NamedDependency[Principal], order_id: FromPath[str],
                 data: Annotated[KeyForm, FormBody]) -> Template | Redirect:
    """Cancel within 30 minutes of confirmation: the vouchers' holds voided, the card released."""
    action = f"{ORDERS}/{order_id}/cancel"
    try:
        await once(principal, data.form_key, action, KeyForm(), Order,
                   partial(shop_orders.cancel_order, principal, order_id))
    except Conflict as exc:
        message = exc.detail
        if exc.code == "cancellation_window_closed":
            message = ("The 30 minutes to cancel are over: the order is being prepared. Once it is "
                       "delivered, you can return it within 14 days.")
        return await _order_page(principal, order_id, status=409, problem=message)
    return see_other(f"{ORDERS}/{order_id}?cancelled=1")


@post(f"{ORDERS}/{{order_id:str}}/returns", guards=[seller_only], include_in_schema=False, status_code=200)
async def request_return(request: Request[Any, Any, Any], principal: NamedDependency[Principal],
                         order_id: FromPath[str]) -> Template | Redirect:
    """Send pieces back within 14 days of delivery: a prepaid label, on the order page and by e-mail."""
    form = await request.form()
    chosen = [str(value) for value in form.getall("listing_ids", [])][:model.MAX_PIECES_PER_ORDER]
    reason, details = str(form.get("reason") or ""), str(form.get("details") or "").strip()[:400]
    keep = {"chosen": chosen, "reason": reason, "details": details}
    if not chosen or reason not in RETURN_REASONS:
        message = ("Tick the pieces you are sending back." if not chosen
                   else "Tell us why you are sending them back.")
        return await _order_page(principal, order_id, status=422, return_problem=message, **keep)
    data = ReturnCreate(listing_ids=chosen,
                        reason=RETURN_REASONS[reason] + (f": {details}" if details else ""))
    action = f"{ORDERS}/{order_id}/returns"
    try:
        made = await once(principal, str(form.get("form_key") or ""), action, data, ReturnOut,
                          partial(shop_orders.request_return, principal, order_id, data))
    except (Conflict, InvalidInput) as exc:
        return await _order_page(principal, order_id, status=status_of(exc), return_problem=exc.detail,
                                 **keep)
    return see_other(f"{ORDERS}/{order_id}?returned={made.id}#return-{made.id}")


@get(f"{ORDERS}/{{order_id:str}}/returns/{{return_id:str}}/label.pdf", guards=[signed_in],
     include_in_schema=False, media_type="application/pdf")
async def return_label(principal: NamedDependency[Principal], order_id: FromPath[str],
                       return_id: FromPath[str]) -> Response[bytes]:
    """The prepaid return label (PDF A6), for the order's buyer (and staff)."""
    pdf = await shop_orders.return_label(principal, order_id, return_id)
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="return-label-{return_id}.pdf"'})


handlers = [browse, more, piece, add_to_cart, remove_from_cart, reserve_again, cart, checkout, checkout_price,
            place_order, orders_list, order_page, cancel, request_return, return_label]
