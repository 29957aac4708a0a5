"""The world the access tests call the app in: one seller (the "owner") with an object of every kind, the other
people and the channel keys, each with credentials (tests/api/test_role_matrix.py, test_schemathesis.py)."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from access_matrix import (
    ADMIN,
    ANONYMOUS,
    BUYER,
    CARRIER,
    CORNER,
    ESHOP,
    GRADER,
    METRICS,
    OTHER_SELLER,
    OWNER,
    RESALE,
    SERVICE,
    STORE,
    STORE_STAFF,
)
from listing_helpers import buyer_voucher, eur, jpeg, live_listings, order_body
from privacy_helpers import EMAIL, deliver, person_who_did_everything
from support import bearer

from forever.accounts import service as accounts

FRESH_PHOTO = "fresh_photo"  # a photo of its own for each caller let through: the route removes it
# Which object fills a path parameter, by its name, unless the route says otherwise below.
PARAMETERS = {"quote_id": "quote", "tradein_id": "tradein", "item_id": "awaiting_item",
              "photo_id": "grading_photo", "listing_id": "stock_piece", "order_id": "order", "return_id": "return", "hold_id": "hold",
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


def object_for(route: str, parameter: str) -> str:
    """The name of the object (World.objects) that fills `parameter` of `route`."""
    return ROUTE_PARAMETERS.get(route, {}).get(parameter, PARAMETERS[parameter])


# --- the world the routes are called in ------------------------------------------------------------------------


@dataclass
class World:
    headers: dict[str, dict[str, str]]  # by role
    objects: dict[str, str]  # by name (PARAMETERS)
    csrf: str


async def stock_photo(client: httpx.AsyncClient, admin: dict[str, str], listing_id: str) -> str:
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
        objects={"quote": unaccepted.json()["id"], "tradein": tradein.json()["id"],
                 "awaiting_item": awaiting["id"],
                 "countered_item": countered["id"], "grading_photo": person.photo_id, "stock_piece": stock_piece,
                 "stock_photo": await stock_photo(client, shop.admin, stock_piece), "sold_listing": sold,
                 "order": person.order["id"], "delivered_order": delivered_order, "return": returned.json()["id"],
                 "hold": hold.json()["hold_id"], "voucher_code": voucher["code"], "owner_id": person.account_id,
                 "privacy_request": request.json()["id"], "label_name": "label.pdf"},
        csrf=csrf)


