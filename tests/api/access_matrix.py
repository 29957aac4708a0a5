"""Who may call each route of the app (issue 7, "Security"): the table tests/api/test_role_matrix.py checks every
caller against, and tests/api/test_schemathesis.py fuzzes each API operation as the callers it lets through.

A route gives the callers it lets through; everyone else gets the contract's refusal: no credentials 401 on the
API and the sign-in page on pages, a wrong role or somebody else's object 404, a department-store corner's till
key 403 `channel_not_allowed`. Add every new route here (the suite fails until it is).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from litestar import Litestar
from litestar.routes import HTTPRoute
from privacy_helpers import EMAIL

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
    "POST /api/v1/grading/items/{item_id:str}/release": only(GRADER, ADMIN),
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
    "POST /warehouse/grading/{item_id:str}/release": only(GRADER, ADMIN),
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


def openapi_key(route: str) -> str:
    """"GET /api/v1/quotes/{quote_id:str}" as the OpenAPI document names it: "GET /api/v1/quotes/{quote_id}"."""
    return re.sub(r"\{(\w+):\w+\}", r"{\1}", route)
