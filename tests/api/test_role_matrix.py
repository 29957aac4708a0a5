"""Every route of the app against every kind of caller (issue 7, "Security").

MATRIX says, for each route the app serves (JSON API and pages alike), who gets through; everyone else gets the
contract's refusal: no credentials 401 on the API and the sign-in page on pages, a wrong role or somebody else's
object 404, a department-store corner's till key 403 `channel_not_allowed`. The routes are read from the app
itself, so a new one missing here fails the suite until someone decides who may call it.

Path parameters are real objects of one seller (the "owner"): a quote, trade-ins with a piece awaiting grading and
one counter-offered, grading and listing photos, a voucher with a hold, an order and a delivered one with a
return, a privacy request. So a refusal to "another seller" or "a buyer" is an ownership check at work, not a
404 for an id that exists nowhere. The bodies are minimal: a caller let through may well get 400, 409 or 422
(the guard let them in, which is what is checked); a caller kept out gets exactly the refusal.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from listing_helpers import buyer_voucher, eur, jpeg, live_listings, order_body
from litestar import Litestar
from litestar.routes import HTTPRoute
from privacy_helpers import EMAIL, deliver, person_who_did_everything
from support import PASSWORD, bearer, sign_in

from forever.accounts import service as accounts
from forever.app import create_app
from forever.settings import Settings

# --- who calls ------------------------------------------------------------------------------------------------

ANONYMOUS, OWNER, OTHER_SELLER, BUYER = "anonymous", "owner", "other_seller", "buyer"
GRADER, STORE_STAFF, SERVICE, ADMIN = "grader", "store_staff", "customer_service", "admin"
# One key per channel of forever.accounts.model.CHANNELS, and a store key of a department-store corner.
ESHOP, RESALE, STORE, CORNER, CARRIER, METRICS = ("eshop_key", "resale_key", "store_key", "corner_key",
                                                  "carrier_key", "metrics_key")

CUSTOMERS = frozenset({OWNER, OTHER_SELLER, BUYER})
STAFF = frozenset({GRADER, STORE_STAFF, SERVICE, ADMIN})
PEOPLE = CUSTOMERS | STAFF
SPENDING_KEYS = frozenset({ESHOP, RESALE, STORE})
KEYS = SPENDING_KEYS | {CORNER, CARRIER, METRICS}
ROLES = (ANONYMOUS, *sorted(PEOPLE), *sorted(KEYS))
EVERYONE = frozenset(ROLES)
TRADEIN_STAFF = frozenset({GRADER, SERVICE, ADMIN})  # see a seller's trade-ins and their photos
RESALE_STAFF = frozenset({GRADER, STORE_STAFF, ADMIN})  # run the resale warehouse
ORDER_STAFF = RESALE_STAFF | {SERVICE}  # see any order
PRIVACY_STAFF = frozenset({SERVICE, ADMIN})

EMAILS = {OWNER: EMAIL, OTHER_SELLER: "seller@example.com", BUYER: "buyer@example.com",
          GRADER: "grader@example.com", STORE_STAFF: "shop@example.com", SERVICE: "service@example.com",
          ADMIN: "admin@example.com"}

# --- the expectations -----------------------------------------------------------------------------------------

OK = "let through"  # any answer but 401, 403, 404, a 5xx or the sign-in page
SIGN_IN = "sent to sign in"  # a page's answer to no credentials: 303 to /signin?next=…


@dataclass(frozen=True)
class Access:
    """Who gets through a route, and refusals other than the default (401 / sign-in page, else 404)."""

    allowed: frozenset[str]
    refused: Mapping[str, int] = field(default_factory=dict)


def only(*groups: str | frozenset[str], **refused: int) -> Access:
    allowed = frozenset().union(*({group} if isinstance(group, str) else group for group in groups))
    return Access(allowed, {role.lower(): status for role, status in refused.items()})


PUBLIC = only(EVERYONE)
OWNER_OR_TRADEIN_STAFF = only(OWNER, TRADEIN_STAFF)
SPENDING = Access(SPENDING_KEYS, {CORNER: 403})  # channel_not_allowed

MATRIX: dict[str, Access] = {
    # system
    "GET /health": PUBLIC,
    "GET /api/v1/health": PUBLIC,
    "GET /api/v1/ping": PUBLIC,
    "GET /metrics": only(ADMIN, METRICS),
    "GET /schema": PUBLIC,
    "GET /schema/openapi.json": PUBLIC,
    # accounts
    "POST /api/v1/accounts": PUBLIC,
    "POST /api/v1/auth/login": PUBLIC,
    "POST /api/v1/auth/logout": only(PEOPLE),
    "POST /api/v1/auth/password-reset": PUBLIC,
    "POST /api/v1/auth/password-reset/confirm": PUBLIC,
    "GET /api/v1/me": only(PEOPLE),
    "PATCH /api/v1/me": only(CUSTOMERS),
    "POST /api/v1/me/password": only(PEOPLE),
    # catalog and shared rules
    "GET /api/v1/catalog/products": PUBLIC,
    "GET /api/v1/rules": PUBLIC,
    "POST /api/v1/rules/delivery-fee": PUBLIC,
    "POST /api/v1/rules/return-eligibility": PUBLIC,
    # quotes and trade-ins
    "POST /api/v1/quotes": only(CUSTOMERS),
    "GET /api/v1/quotes": only(CUSTOMERS),
    "GET /api/v1/quotes/{quote_id:str}": only(OWNER),
    "POST /api/v1/quotes/{quote_id:str}/accept": only(OWNER),
    "GET /api/v1/tradeins": only(CUSTOMERS),
    "GET /api/v1/tradeins/{tradein_id:str}": OWNER_OR_TRADEIN_STAFF,
    "GET /api/v1/tradeins/{tradein_id:str}/label.pdf": OWNER_OR_TRADEIN_STAFF,
    "GET /api/v1/tradeins/{tradein_id:str}/label.zpl": OWNER_OR_TRADEIN_STAFF,
    "GET /api/v1/tradeins/{tradein_id:str}/deed.pdf": OWNER_OR_TRADEIN_STAFF,
    "POST /api/v1/tradeins/{tradein_id:str}/items/{item_id:str}/counter-offer": only(OWNER),
    "POST /api/v1/carrier/events": only(CARRIER),
    "POST /api/v1/warehouse/receptions": only(GRADER),
    "GET /api/v1/warehouse/sla": only(GRADER, ADMIN),
    # grading
    "GET /api/v1/grading/queue": only(GRADER),
    "POST /api/v1/grading/analyze": only(GRADER),
    "GET /api/v1/grading/items/{item_id:str}": only(GRADER),
    "POST /api/v1/grading/items/{item_id:str}/photos": only(GRADER),
    "POST /api/v1/grading/items/{item_id:str}/decision": only(GRADER),
    "GET /api/v1/grading/photos/{photo_id:str}": OWNER_OR_TRADEIN_STAFF,
    "GET /api/v1/grading/dashboard": only(GRADER, ADMIN),
    # credit and vouchers
    "GET /api/v1/me/credit": only(CUSTOMERS),
    "POST /api/v1/me/vouchers": only(CUSTOMERS),
    "GET /api/v1/me/vouchers": only(CUSTOMERS),
    "POST /api/v1/vouchers/lookup": SPENDING,
    "POST /api/v1/vouchers/redeem": SPENDING,
    "POST /api/v1/vouchers/holds": SPENDING,
    "POST /api/v1/vouchers/holds/{hold_id:str}/capture": only(ESHOP, corner_key=403),  # its own channel's hold
    "POST /api/v1/vouchers/holds/{hold_id:str}/void": only(ESHOP, corner_key=403),
    "POST /api/v1/vouchers/{code:str}/recredit": only(SERVICE),
    "GET /api/v1/accounts/{account_id:str}/credit": only(SERVICE),
    "GET /api/v1/ledger/report": only(ADMIN),
    # the resale shop and its warehouse
    "GET /api/v1/listings": PUBLIC,
    "GET /api/v1/listings/facets": PUBLIC,
    "GET /api/v1/listings/{listing_id:str}": PUBLIC,
    # a piece still in stock: its photos are the warehouse's until it goes on sale
    "GET /api/v1/listings/{listing_id:str}/photos/{photo_id:str}": only(RESALE_STAFF, anonymous=404),
    "GET /api/v1/listings/{listing_id:str}/passport/photos/{photo_id:str}": PUBLIC,
    "GET /api/v1/stock": only(RESALE_STAFF),
    "GET /api/v1/stock/{listing_id:str}": only(RESALE_STAFF),
    "PATCH /api/v1/stock/{listing_id:str}": only(RESALE_STAFF),
    "POST /api/v1/stock/{listing_id:str}/steps": only(RESALE_STAFF),
    "POST /api/v1/stock/{listing_id:str}/photos": only(RESALE_STAFF),
    "DELETE /api/v1/stock/{listing_id:str}/photos/{photo_id:str}": only(RESALE_STAFF),
    "POST /api/v1/stock/{listing_id:str}/publish": only(RESALE_STAFF),
    "POST /api/v1/stock/{listing_id:str}/unpublish": only(RESALE_STAFF),
    "POST /api/v1/checkout": only(CUSTOMERS),
    "GET /api/v1/checkout": only(CUSTOMERS),
    "DELETE /api/v1/checkout": only(CUSTOMERS),
    "POST /api/v1/checkout/price": only(CUSTOMERS),
    "POST /api/v1/orders": only(CUSTOMERS),
    "GET /api/v1/orders": only(CUSTOMERS),
    "GET /api/v1/orders/{order_id:str}": only(OWNER, ORDER_STAFF),
    "POST /api/v1/orders/{order_id:str}/cancel": only(OWNER),
    "POST /api/v1/orders/{order_id:str}/ship": only(RESALE_STAFF),
    "POST /api/v1/orders/{order_id:str}/delivered": only(RESALE_STAFF, CARRIER),
    "POST /api/v1/orders/{order_id:str}/returns": only(OWNER),
    "GET /api/v1/orders/{order_id:str}/returns/{return_id:str}/label.pdf": only(OWNER, ORDER_STAFF),
    "GET /api/v1/warehouse/orders": only(RESALE_STAFF),
    "GET /api/v1/warehouse/returns": only(RESALE_STAFF),
    "GET /api/v1/warehouse/returns/{return_id:str}": only(RESALE_STAFF),
    "POST /api/v1/warehouse/returns/{return_id:str}/receive": only(RESALE_STAFF),
    # privacy
    "GET /api/v1/me/export": only(CUSTOMERS),
    "GET /api/v1/me/erasure": only(CUSTOMERS),
    "POST /api/v1/me/erasure": only(CUSTOMERS),
    "GET /api/v1/me/consents": only(CUSTOMERS),
    "PUT /api/v1/me/consents": only(CUSTOMERS),
    "GET /api/v1/privacy/requests": only(PRIVACY_STAFF),
    "POST /api/v1/privacy/requests": only(PRIVACY_STAFF),
    "GET /api/v1/privacy/requests/{request_id:str}": only(PRIVACY_STAFF),
    "POST /api/v1/privacy/requests/{request_id:str}/run": only(PRIVACY_STAFF),
    "POST /api/v1/privacy/requests/{request_id:str}/export": only(PRIVACY_STAFF),
    # pages: everyone's
    "GET /": PUBLIC,
    "GET /signup": PUBLIC,
    "POST /signup": PUBLIC,
    "GET /signin": PUBLIC,
    "POST /signin": PUBLIC,
    "POST /signout": PUBLIC,
    "GET /password-reset": PUBLIC,
    "POST /password-reset": PUBLIC,
    "GET /password-reset/new": PUBLIC,
    "POST /password-reset/new": PUBLIC,
    "GET /shop": PUBLIC,
    "GET /shop/more": PUBLIC,
    "GET /shop/pieces/{listing_id:str}": PUBLIC,
    "GET /account/erased": PUBLIC,
    # pages: sellers and buyers
    "GET /sell": only(CUSTOMERS),
    "GET /sell/search": only(CUSTOMERS),
    "POST /sell/basket/add": only(CUSTOMERS),
    "POST /sell/basket/remove": only(CUSTOMERS),
    "POST /sell/basket/save": only(CUSTOMERS),
    "GET /quotes": only(CUSTOMERS),
    "POST /quotes": only(CUSTOMERS),
    "GET /quotes/{quote_id:str}": only(OWNER),
    "POST /quotes/{quote_id:str}/accept": only(OWNER),
    "GET /tradeins": only(CUSTOMERS),
    "GET /tradeins/{tradein_id:str}": OWNER_OR_TRADEIN_STAFF,
    "GET /tradeins/{tradein_id:str}/{name:str}": OWNER_OR_TRADEIN_STAFF,
    "POST /tradeins/{tradein_id:str}/items/{item_id:str}/counter-offer": only(OWNER),
    "GET /grading/photos/{photo_id:str}": OWNER_OR_TRADEIN_STAFF,
    "GET /credit": only(CUSTOMERS),
    "POST /credit/vouchers": only(CUSTOMERS),
    "GET /shop/cart": only(CUSTOMERS),
    "POST /shop/cart": only(CUSTOMERS),
    "POST /shop/cart/remove": only(CUSTOMERS),
    "POST /shop/cart/reserve": only(CUSTOMERS),
    "GET /shop/checkout": only(CUSTOMERS),
    "POST /shop/checkout": only(CUSTOMERS),
    "POST /shop/checkout/price": only(CUSTOMERS),
    "GET /shop/orders": only(CUSTOMERS),
    "GET /shop/orders/{order_id:str}": only(OWNER),
    "POST /shop/orders/{order_id:str}/cancel": only(OWNER),
    "POST /shop/orders/{order_id:str}/returns": only(OWNER),
    "GET /shop/orders/{order_id:str}/returns/{return_id:str}/label.pdf": only(OWNER, ORDER_STAFF),
    "GET /account": only(CUSTOMERS),
    "POST /account/consents": only(CUSTOMERS),
    "POST /account/profile": only(CUSTOMERS),
    "POST /account/export": only(CUSTOMERS),
    "POST /account/erasure": only(CUSTOMERS),
    # pages: the boutique's till
    "GET /till": only(STORE_STAFF),
    "POST /till/lookup": only(STORE_STAFF),
    "POST /till/redeem": only(STORE_STAFF),
    # pages: the warehouse
    "GET /warehouse/reception": only(GRADER),
    "POST /warehouse/reception": only(GRADER),
    "GET /warehouse/sla": only(GRADER, ADMIN),
    "GET /warehouse/grading": only(GRADER),
    "GET /warehouse/grading/dashboard": only(GRADER, ADMIN),
    "GET /warehouse/grading/{item_id:str}": only(GRADER),
    "GET /warehouse/grading/{item_id:str}/next": only(GRADER),
    "POST /warehouse/grading/{item_id:str}/photos": only(GRADER),
    "POST /warehouse/grading/{item_id:str}/decision": only(GRADER),
    "GET /warehouse/stock": only(RESALE_STAFF),
    "GET /warehouse/stock/{listing_id:str}": only(RESALE_STAFF),
    "POST /warehouse/stock/{listing_id:str}/steps": only(RESALE_STAFF),
    "POST /warehouse/stock/{listing_id:str}/photos": only(RESALE_STAFF),
    "GET /warehouse/stock/{listing_id:str}/photos/{photo_id:str}": only(RESALE_STAFF),
    "POST /warehouse/stock/{listing_id:str}/photos/{photo_id:str}/remove": only(RESALE_STAFF),
    "POST /warehouse/stock/{listing_id:str}/listing": only(RESALE_STAFF),
    "POST /warehouse/stock/{listing_id:str}/publish": only(RESALE_STAFF),
    "POST /warehouse/stock/{listing_id:str}/unpublish": only(RESALE_STAFF),
    "GET /warehouse/orders": only(RESALE_STAFF),
    "POST /warehouse/orders/{order_id:str}/ship": only(RESALE_STAFF),
    "GET /warehouse/returns": only(RESALE_STAFF),
    "GET /warehouse/returns/{return_id:str}": only(RESALE_STAFF),
    "POST /warehouse/returns/{return_id:str}/receive": only(RESALE_STAFF),
}

FRESH_PHOTO = "fresh_photo"  # a photo of its own for each caller let through: the route removes it
# Which object fills a path parameter, by its name, unless the route says otherwise below.
PARAMETERS = {"quote_id": "quote", "tradein_id": "tradein", "item_id": "awaiting_item", "photo_id": "grading_photo",
              "listing_id": "stock_piece", "order_id": "order", "return_id": "return", "hold_id": "hold",
              "code": "voucher_code", "account_id": "owner_id", "request_id": "privacy_request",
              "name": "label_name"}
ROUTE_PARAMETERS = {
    "POST /api/v1/tradeins/{tradein_id:str}/items/{item_id:str}/counter-offer": {"item_id": "countered_item"},
    "POST /tradeins/{tradein_id:str}/items/{item_id:str}/counter-offer": {"item_id": "countered_item"},
    "GET /api/v1/listings/{listing_id:str}": {"listing_id": "sold_listing"},
    "GET /shop/pieces/{listing_id:str}": {"listing_id": "sold_listing"},
    "GET /api/v1/listings/{listing_id:str}/photos/{photo_id:str}": {"photo_id": "stock_photo"},
    "GET /api/v1/listings/{listing_id:str}/passport/photos/{photo_id:str}": {"listing_id": "sold_listing"},
    "GET /warehouse/stock/{listing_id:str}/photos/{photo_id:str}": {"photo_id": "stock_photo"},
    "DELETE /api/v1/stock/{listing_id:str}/photos/{photo_id:str}": {"photo_id": FRESH_PHOTO},
    "POST /warehouse/stock/{listing_id:str}/photos/{photo_id:str}/remove": {"photo_id": FRESH_PHOTO},
    "GET /api/v1/orders/{order_id:str}/returns/{return_id:str}/label.pdf": {"order_id": "delivered_order"},
    "GET /shop/orders/{order_id:str}/returns/{return_id:str}/label.pdf": {"order_id": "delivered_order"},
}
# Valid bodies where the refusal to look for comes after validation: an ownership check in the service (another
# seller's 404) or channel_not_allowed. Elsewhere `{}` (JSON) or an empty form.
JSON_BODIES = {
    "POST /api/v1/quotes/{quote_id:str}/accept": lambda objects: {"refused_items": "return"},
    "POST /api/v1/tradeins/{tradein_id:str}/items/{item_id:str}/counter-offer":
        lambda objects: {"decision": "accept"},
    "POST /api/v1/orders/{order_id:str}/returns": lambda objects: {"listing_ids": [objects["sold_listing"]],
                                                                   "reason": "Too small"},
    "POST /api/v1/vouchers/lookup": lambda objects: {"code": objects["voucher_code"]},
    "POST /api/v1/vouchers/redeem": lambda objects: {"code": objects["voucher_code"], "amount": eur(100),
                                                     "order_ref": "matrix-redeem"},
    "POST /api/v1/vouchers/holds": lambda objects: {"code": objects["voucher_code"], "amount": eur(100),
                                                    "order_ref": "matrix-hold"},
    "POST /api/v1/vouchers/holds/{hold_id:str}/capture": lambda objects: None,
}
FORM_BODIES = {
    "POST /signin": lambda objects: {"email": EMAILS[BUYER], "password": PASSWORD, "next": ""},
    "POST /quotes/{quote_id:str}/accept": lambda objects: {"refused_items": "return"},
    "POST /tradeins/{tradein_id:str}/items/{item_id:str}/counter-offer": lambda objects: {"decision": "accept"},
    "POST /shop/cart": lambda objects: {"listing_id": objects["sold_listing"]},
    "POST /shop/orders/{order_id:str}/returns": lambda objects: {"listing_ids": objects["sold_listing"],
                                                                 "reason": "too_small"},
    "POST /till/lookup": lambda objects: {"code": objects["voucher_code"]},
    "POST /till/redeem": lambda objects: {"code": objects["voucher_code"], "amount": "1.00",
                                          "order_ref": "matrix-till"},
}
# A 404 that answers a caller let through (nothing of theirs there), told apart from a refusal by its code.
NOT_FOUND_ANSWERS = {"GET /api/v1/checkout": "no_checkout"}
# Routes that end the caller's session: each person calls them with a token of their own.
SIGNING_OUT = {"POST /api/v1/auth/logout", "POST /signout"}

# What the walk leaves out: the framework's automatic OPTIONS answers, static files and the docs' assets.
_DOCS_ASSETS = {"/schema/{path:str}", "/schema/oauth2-redirect.html"}


def app_routes(app: Litestar) -> Iterator[str]:
    """Every "METHOD /path" the app serves, read from the app itself."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path.startswith("/static/") or route.path in _DOCS_ASSETS:
            continue
        for handler in route.route_handlers:
            if handler.fn.__qualname__.startswith("HTTPRoute.create_options_handler"):
                continue
            for method in sorted(handler.http_methods):
                yield f"{method} {route.path}"


def is_page(route: str) -> bool:
    path = route.split(" ", 1)[1]
    return not path.startswith(("/api/", "/schema", "/health", "/metrics"))


def expected(route: str, role: str) -> str | int:
    access = MATRIX[route]
    if role in access.allowed:
        return OK
    if role in access.refused:
        return access.refused[role]
    if role == ANONYMOUS:
        return SIGN_IN if is_page(route) else 401
    return 404


def test_every_route_of_the_app_is_in_the_matrix(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path}/unused.sqlite3",
                              secret_key=b"matrix"))
    served = list(app_routes(app))
    missing = sorted(set(served) - set(MATRIX))
    assert not missing, (
        "Routes without an entry in tests/api/test_role_matrix.py MATRIX (say who may call each, e.g. "
        "only(CUSTOMERS), only(OWNER, TRADEIN_STAFF) or PUBLIC; the suite then checks every role against it):\n  "
        + "\n  ".join(missing))
    gone = sorted(set(MATRIX) - set(served))
    assert not gone, "MATRIX names routes the app no longer serves (remove them):\n  " + "\n  ".join(gone)
    for route, access in MATRIX.items():
        assert access.allowed <= EVERYONE and set(access.refused) <= EVERYONE - access.allowed, route
    for route, parameters in ROUTE_PARAMETERS.items():
        assert route in MATRIX and set(parameters) <= set(re.findall(r"\{(\w+):", route)), route


# --- the world the routes are called in ------------------------------------------------------------------------


@dataclass
class World:
    headers: dict[str, dict[str, str]]  # by role
    objects: dict[str, str]  # by name (PARAMETERS)
    csrf: str


async def _stock_photo(client: httpx.AsyncClient, admin: dict[str, str], listing_id: str) -> str:
    before = (await client.get(f"/api/v1/stock/{listing_id}", headers=admin)).json()["photos"]
    added = await client.post(f"/api/v1/stock/{listing_id}/photos", headers=admin,
                              files={"photo": ("front.jpg", jpeg(), "image/jpeg")})
    assert added.status_code == 201, added.text
    [photo] = [p for p in added.json()["photos"] if p["id"] not in {old["id"] for old in before}]
    return photo["id"]


async def owner_s_world(client: httpx.AsyncClient) -> World:
    """The owner (who quoted, traded in, was credited, holds a voucher and bought) and everyone else."""
    shop, person = await person_who_did_everything(client)
    owner = person.headers
    # The other seller's pieces on sale; the owner buys one, has it delivered and sends it back.
    [bought] = await live_listings(client, shop, [("TEE-SS25", "excellent", "M")])
    placed = await client.post("/api/v1/orders", headers=owner, json=order_body([bought], country="FR"))
    assert placed.status_code == 201, placed.text
    delivered_order = placed.json()["id"]
    await deliver(client, shop, delivered_order)
    returned = await client.post(f"/api/v1/orders/{delivered_order}/returns", headers=owner,
                                 json={"listing_ids": [bought], "reason": "Too small"})
    assert returned.status_code == 201, returned.text
    # A second trade-in: one piece counter-offered, one awaiting grading.
    quote = await client.post("/api/v1/quotes", headers=owner, json={"items": [
        {"product_ref": "JKT-FW23", "condition": "excellent", "size": "M"},
        {"product_ref": "BAG-SS25", "condition": "excellent"}]})
    assert quote.status_code == 201, quote.text
    tradein = await client.post(f"/api/v1/quotes/{quote.json()['id']}/accept", headers=owner,
                                json={"refused_items": "return"})
    assert tradein.status_code == 201, tradein.text
    received = await client.post("/api/v1/warehouse/receptions", headers=shop.grader,
                                 json={"tracking_number": tradein.json()["parcel"]["tracking_number"]})
    assert received.status_code == 200, received.text
    countered, awaiting = sorted(tradein.json()["items"], key=lambda item: item["line"])
    graded = await client.post(f"/api/v1/grading/items/{countered['id']}/decision", headers=shop.grader,
                               json={"grade": "very_good"})
    assert graded.json()["status"] == "counter_offer", graded.text
    unaccepted = await client.post("/api/v1/quotes", headers=owner, json={"items": [
        {"product_ref": "SHIRT-FW24", "condition": "very_good", "size": "M"}]})
    assert unaccepted.status_code == 201, unaccepted.text
    # The piece of the first trade-in still in stock, with a photo; the one the owner bought back is sold.
    stock = (await client.get("/api/v1/stock?limit=100", headers=shop.admin)).json()["items"]
    pieces = {piece["id"]: (await client.get(f"/api/v1/stock/{piece['id']}", headers=shop.admin)).json()
              for piece in stock}
    stock_piece = next(key for key, piece in pieces.items() if piece["tradein_item_id"] == person.item_ids[1])
    sold = person.order["items"][0]["listing_id"]
    # A voucher of the owner's, with a hold of the e-shop's on it; a privacy request about the owner.
    await accounts.add_store("galeries", "AMI corner, Galeries Lafayette", "FR", "department_store_corner")
    keys = {ESHOP: bearer(await accounts.create_api_key("eshop")),
            RESALE: bearer(await accounts.create_api_key("resale")),
            STORE: bearer(await accounts.create_api_key("store", "saint-honore")),
            CORNER: bearer(await accounts.create_api_key("store", "galeries")),
            CARRIER: shop.carrier, METRICS: bearer(await accounts.create_api_key("metrics"))}
    voucher = await buyer_voucher(client, owner, person.account_id, 10_000)
    hold = await client.post("/api/v1/vouchers/holds", headers=keys[ESHOP], json={
        "code": voucher["code"], "amount": eur(500), "order_ref": "matrix-setup"})
    assert hold.status_code == 201, hold.text
    request = await client.post("/api/v1/privacy/requests", headers=shop.service, json={
        "email": EMAIL, "kind": "export", "channel": "email"})
    assert request.status_code == 201, request.text
    signin_page = await client.get("/signin")
    csrf = signin_page.cookies["csrftoken"]
    client.cookies.clear()
    return World(
        headers={ANONYMOUS: {}, OWNER: owner, OTHER_SELLER: shop.seller, BUYER: shop.buyer, GRADER: shop.grader,
                 STORE_STAFF: shop.store_staff, SERVICE: shop.service, ADMIN: shop.admin, **keys},
        objects={"quote": unaccepted.json()["id"], "tradein": tradein.json()["id"], "awaiting_item": awaiting["id"],
                 "countered_item": countered["id"], "grading_photo": person.photo_id, "stock_piece": stock_piece,
                 "stock_photo": await _stock_photo(client, shop.admin, stock_piece), "sold_listing": sold,
                 "order": person.order["id"], "delivered_order": delivered_order, "return": returned.json()["id"],
                 "hold": hold.json()["hold_id"], "voucher_code": voucher["code"], "owner_id": person.account_id,
                 "privacy_request": request.json()["id"], "label_name": "label.pdf"},
        csrf=csrf)


# --- the walk -------------------------------------------------------------------------------------------------


async def call(client: httpx.AsyncClient, world: World, route: str, role: str) -> httpx.Response:
    """`route` as `role` calls it: the path filled with the owner's objects, a minimal body, a CSRF token (so a
    page's form reaches its guard), no cookie of an earlier call."""
    method, template = route.split(" ", 1)
    chosen = ROUTE_PARAMETERS.get(route, {})
    path = template
    for name in re.findall(r"\{(\w+):\w+\}", template):
        which = chosen.get(name, PARAMETERS[name])
        if which == FRESH_PHOTO:
            value = (await _stock_photo(client, world.headers[ADMIN], world.objects["stock_piece"])
                     if role in MATRIX[route].allowed else world.objects["stock_photo"])
        else:
            value = world.objects[which]
        path = re.sub(rf"\{{{name}:\w+\}}", value, path)
    headers = dict(world.headers[role])
    if route in SIGNING_OUT and role in PEOPLE:
        headers = bearer(await sign_in(client, EMAILS[role], PASSWORD))
    headers.update({"x-csrftoken": world.csrf, "cookie": f"csrftoken={world.csrf}"})
    body: dict[str, Any] = {}
    if method in ("POST", "PUT", "PATCH"):
        if is_page(route):
            body["data"] = FORM_BODIES.get(route, lambda _: {"form_key": ""})(world.objects)
        else:
            payload = JSON_BODIES.get(route, lambda _: {})(world.objects)
            if payload is not None:
                body["json"] = payload
    client.cookies.clear()
    return await client.request(method, path, headers=headers, **body)


def outcome(route: str, response: httpx.Response) -> str | int:
    status = response.status_code
    if status == 303 and response.headers.get("location", "").startswith("/signin"):
        return SIGN_IN
    if status == 404 and route in NOT_FOUND_ANSWERS and response.json().get("code") == NOT_FOUND_ANSWERS[route]:
        return OK
    return status if status in (401, 403, 404) or status >= 500 else OK


def refusal_problems(route: str, role: str, response: httpx.Response) -> list[str]:
    """What is wrong with a refusal's body: the API answers problem+json, 403 only for channel_not_allowed."""
    if is_page(route) or response.status_code not in (401, 403, 404):
        return []
    if not response.headers.get("content-type", "").startswith("application/problem+json"):
        return [f"{route} as {role}: {response.status_code} is not problem+json"]
    if response.status_code == 403 and response.json().get("code") != "channel_not_allowed":
        return [f"{route} as {role}: 403 {response.json().get('code')}, only channel_not_allowed may be 403"]
    return []


async def test_every_role_gets_what_the_matrix_says_on_every_route(client: httpx.AsyncClient) -> None:
    world = await owner_s_world(client)
    wrong: list[str] = []
    calls = 0
    for route, access in MATRIX.items():
        # Those kept out first: a caller let through may change the object (cancel, capture, remove…).
        for role in sorted(ROLES, key=lambda role: role in access.allowed):
            response = await call(client, world, route, role)
            calls += 1
            want, got = expected(route, role), outcome(route, response)
            if got != want:
                wrong.append(f"{route} as {role}: expected {want}, got {response.status_code} "
                             f"{response.headers.get('location', '')}{response.text[:160]!r}")
            wrong += refusal_problems(route, role, response)
    assert calls == len(MATRIX) * len(ROLES)
    assert not wrong, f"{len(wrong)} of {calls} calls went wrong:\n" + "\n".join(wrong)
