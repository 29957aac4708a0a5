"""Every route of the app against every kind of caller (issue 7, "Security").

access_matrix.MATRIX says, for each route the app serves (JSON API and pages alike), who gets through; everyone
else gets the contract's refusal: no credentials 401 on the API and the sign-in page on pages, a wrong role or
somebody else's object 404, a department-store corner's till key 403 `channel_not_allowed`. The routes are read
from the app itself, so a new one missing from the table fails the suite until someone decides who may call it.

Path parameters are real objects of one seller (the "owner"): a quote, trade-ins with a piece awaiting grading and
one counter-offered, grading and listing photos, a voucher with a hold, an order and a delivered one with a
return, a privacy request. So a refusal to "another seller" or "a buyer" is an ownership check at work, not a
404 for an id that exists nowhere. The bodies are minimal: a caller let through may well get 400, 409 or 422
(the guard let them in, which is what is checked); a caller kept out gets exactly the refusal.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
from access_matrix import (
    ADMIN,
    BUYER,
    EMAILS,
    EVERYONE,
    MATRIX,
    OK,
    PEOPLE,
    ROLES,
    SIGN_IN,
    app_routes,
    expected,
    is_page,
)
from listing_helpers import eur
from support import PASSWORD, bearer, sign_in
from world_helpers import FRESH_PHOTO, ROUTE_PARAMETERS, World, object_for, owner_s_world, stock_photo

from forever.app import create_app
from forever.settings import Settings

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

def test_every_route_of_the_app_is_in_the_matrix(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path}/unused.sqlite3",
                              secret_key=b"matrix"))
    served = list(app_routes(app))
    missing = sorted(set(served) - set(MATRIX))
    assert not missing, (
        "Routes without an entry in tests/api/access_matrix.py MATRIX (say who may call each, e.g. "
        "only(CUSTOMERS), only(OWNER, TRADEIN_STAFF) or PUBLIC; the suite then checks every role against it):\n  "
        + "\n  ".join(missing))
    gone = sorted(set(MATRIX) - set(served))
    assert not gone, "MATRIX names routes the app no longer serves (remove them):\n  " + "\n  ".join(gone)
    for route, access in MATRIX.items():
        assert access.allowed <= EVERYONE and set(access.refused) <= EVERYONE - access.allowed, route
    for route, parameters in ROUTE_PARAMETERS.items():
        assert route in MATRIX and set(parameters) <= set(re.findall(r"\{(\w+):", route)), route


# --- the walk -------------------------------------------------------------------------------------------------


async def call(client: httpx.AsyncClient, world: World, route: str, role: str) -> httpx.Response:
    """`route` as `role` calls it: the path filled with the owner's objects, a minimal body, a CSRF token (so a
    page's form reaches its guard), no cookie of an earlier call."""
    method, template = route.split(" ", 1)
    path = template
    for name in re.findall(r"\{(\w+):\w+\}", template):
        which = object_for(route, name)
        if which == FRESH_PHOTO:
            value = (await stock_photo(client, world.headers[ADMIN], world.objects["stock_piece"])
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
