"""Shared set-up of the resale shop's API tests: a catalog, the people around the shop, and pieces taken all
the way from a seller's trade-in through grading and refurbishment to the shop (no shortcut through the
tables)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import cv2
import httpx
import numpy as np
from support import PASSWORD, bearer, sign_in, sign_up

from forever import clock
from forever.accounts import service as accounts
from forever.catalog import service as catalog
from forever.catalog.model import Product

T0 = dt.datetime(2026, 11, 23, 10, 0)  # a Monday, Paris time; current season FW26

PRODUCTS = [
    Product(ref="SW-SS24", name="Ami de Cœur Sweatshirt", category="sweatshirts", season="SS24",
            retail_price=29000, color="Heather Grey", materials=("100% cotton",), sizes=("S", "M", "L")),
    Product(ref="COAT-SS16", name="Wool Trench Coat", category="coats", season="SS16", retail_price=129000,
            color="Camel", materials=("100% virgin wool",), sizes=("M", "L")),
    Product(ref="SHIRT-FW24", name="Oversized Ami de Cœur Shirt", category="shirts", season="FW24",
            retail_price=21000, color="Sky Blue", materials=("100% cotton",), sizes=("M",)),
    Product(ref="JKT-FW23", name="Écru Denim Jacket", category="jackets", season="FW23", retail_price=45000,
            color="Écru", materials=("100% cotton",), sizes=("S", "M", "L")),
    Product(ref="BAG-SS25", name="Leather Tote Bag", category="bags", season="SS25", retail_price=89000,
            color="Black", materials=("100% calfskin leather",), sizes=()),
    Product(ref="TEE-SS25", name="Paris Paris T-shirt", category="tshirts", season="SS25", retail_price=11000,
            color="Off-White", materials=("100% organic cotton",), sizes=("S", "M", "L")),
]


@dataclass
class ResaleShop:
    """The people and systems around the shop."""

    seller: dict[str, str]
    seller_id: str
    buyer: dict[str, str]
    buyer_id: str
    other_buyer: dict[str, str]
    grader: dict[str, str]
    admin: dict[str, str]
    service: dict[str, str]
    store_staff: dict[str, str]
    carrier: dict[str, str]


async def open_resale_shop(client: httpx.AsyncClient) -> ResaleShop:
    clock.set_now(T0)
    await catalog.import_products(PRODUCTS)
    seller = await sign_up(client, "seller@example.com")
    buyer = await sign_up(client, "buyer@example.com", country="DE")
    other = await sign_up(client, "other.buyer@example.com", country="IT")
    await accounts.add_store("saint-honore", "AMI Saint-Honoré", "FR", "boutique")
    for email_address, role, store in (("grader@example.com", "grader", None), ("admin@example.com", "admin",
                                                                                None),
                                       ("service@example.com", "customer_service", None),
                                       ("shop@example.com", "store_staff", "saint-honore")):
        await accounts.create_staff(email_address, PASSWORD, role, store)
    me = (await client.get("/api/v1/me", headers=bearer(seller))).json()
    buyer_me = (await client.get("/api/v1/me", headers=bearer(buyer))).json()
    return ResaleShop(
        seller=bearer(seller), seller_id=me["id"], buyer=bearer(buyer), buyer_id=buyer_me["id"],
        other_buyer=bearer(other), grader=bearer(await sign_in(client, "grader@example.com")),
        admin=bearer(await sign_in(client, "admin@example.com")),
        service=bearer(await sign_in(client, "service@example.com")),
        store_staff=bearer(await sign_in(client, "shop@example.com")),
        carrier=bearer(await accounts.create_api_key("carrier")),
    )


async def sign_in_again(client: httpx.AsyncClient, shop: ResaleShop) -> None:
    """New tokens for everyone (after the clock moved further than a token lives)."""
    shop.seller = bearer(await sign_in(client, "seller@example.com"))
    shop.buyer = bearer(await sign_in(client, "buyer@example.com"))
    shop.other_buyer = bearer(await sign_in(client, "other.buyer@example.com"))
    shop.grader = bearer(await sign_in(client, "grader@example.com"))
    shop.admin = bearer(await sign_in(client, "admin@example.com"))
    shop.service = bearer(await sign_in(client, "service@example.com"))
    shop.store_staff = bearer(await sign_in(client, "shop@example.com"))


async def travel(client: httpx.AsyncClient, shop: ResaleShop, to: dt.datetime) -> None:
    clock.set_now(to)
    await sign_in_again(client, shop)


def jpeg(width: int = 96, height: int = 64, shade: int = 120) -> bytes:
    image = np.full((height, width, 3), shade, dtype=np.uint8)
    cv2.rectangle(image, (width // 4, height // 4), (width // 2, height // 2), (30, 60, 200), -1)
    ok, data = cv2.imencode(".jpg", image)
    assert ok
    return data.tobytes()


async def credited_pieces(client: httpx.AsyncClient, shop: ResaleShop,
                          lines: list[tuple[str, str, str | None]], *, station_photo: bool = False) -> list[str]:
    """Take pieces (product ref, condition, size) through a trade-in and grading at their declared condition
    (with a photo taken at the station first, if asked); returns their listing ids, in the order given (each
    piece entered stock when it was credited)."""
    items = [{"product_ref": ref, "condition": condition, **({"size": size} if size else {})}
             for ref, condition, size in lines]
    quote = await client.post("/api/v1/quotes", headers=shop.seller, json={"items": items})
    assert quote.status_code == 201, quote.text
    assert all(line["eligible"] for line in quote.json()["items"]), quote.text
    tradein = await client.post(f"/api/v1/quotes/{quote.json()['id']}/accept", headers=shop.seller,
                                json={"refused_items": "return"})
    assert tradein.status_code == 201, tradein.text
    received = await client.post("/api/v1/warehouse/receptions", headers=shop.grader,
                                 json={"tracking_number": tradein.json()["parcel"]["tracking_number"]})
    assert received.status_code == 200, received.text
    item_ids = []
    for item in sorted(tradein.json()["items"], key=lambda item: item["line"]):
        if station_photo:
            taken = await client.post(f"/api/v1/grading/items/{item['id']}/photos", headers=shop.grader,
                                      data={"view": "front"}, files={"photo": ("front.jpg", jpeg(), "image/jpeg")})
            assert taken.status_code == 201, taken.text
        decided = await client.post(f"/api/v1/grading/items/{item['id']}/decision", headers=shop.grader,
                                    json={"grade": item["declared_condition"]})
        assert decided.status_code == 200, decided.text
        item_ids.append(item["id"])
    stock = await client.get("/api/v1/stock?limit=100", headers=shop.admin)
    assert stock.status_code == 200, stock.text
    by_item = {}
    for summary in stock.json()["items"]:
        piece = (await client.get(f"/api/v1/stock/{summary['id']}", headers=shop.admin)).json()
        by_item[piece["tradein_item_id"]] = piece["id"]
    return [by_item[item_id] for item_id in item_ids]


async def refurbish_and_publish(client: httpx.AsyncClient, shop: ResaleShop, listing_id: str) -> dict:
    """Photograph a stock piece, tick every step and put it on sale; returns the live stock piece."""
    headers = shop.store_staff
    added = await client.post(f"/api/v1/stock/{listing_id}/photos", headers=headers,
                              files={"photo": ("front.jpg", jpeg(), "image/jpeg")})
    assert added.status_code == 201, added.text
    for step in ("cleaned", "pressed", "retagged", "photographed"):
        ticked = await client.post(f"/api/v1/stock/{listing_id}/steps", headers=headers, json={"step": step})
        assert ticked.status_code == 200, ticked.text
    published = await client.post(f"/api/v1/stock/{listing_id}/publish", headers=headers)
    assert published.status_code == 200, published.text
    return published.json()


async def live_listings(client: httpx.AsyncClient, shop: ResaleShop,
                        lines: list[tuple[str, str, str | None]]) -> list[str]:
    """Pieces all the way to the shop; returns their listing ids in the order given."""
    ids = await credited_pieces(client, shop, lines)
    for listing_id in ids:
        await refurbish_and_publish(client, shop, listing_id)
    return ids


CARD = {"number": "4242 4242 4242 4242", "expiry": "12/29", "cvc": "123"}
DECLINED_CARD = {"number": "4000 0000 0000 0002", "expiry": "12/29", "cvc": "123"}
ADDRESS = {"name": "Jonas Weber", "line1": "Torstraße 12", "postal_code": "10119", "city": "Berlin"}


def order_body(listing_ids: list[str], *, voucher_codes: list[str] = (), card: dict | None = CARD,
               country: str = "DE", method: str = "standard", address: dict | None = None) -> dict:
    body = {"listing_ids": list(listing_ids),
            "shipping": {"country": country, "method": method, "address": address or ADDRESS}}
    if voucher_codes:
        body["voucher_codes"] = list(voucher_codes)
    if card is not None:
        body["card"] = card
    return body


async def buyer_voucher(client: httpx.AsyncClient, headers: dict[str, str], account_id: str,
                        cents: int) -> dict:
    """A voucher of `cents` for a buyer (credited first, as a piece of a trade-in of theirs would be)."""
    import uuid

    from forever.money import Money
    from forever.vouchers import service as vouchers

    await vouchers.credit_tradein_item(account_id, f"test-{uuid.uuid4().hex[:12]}", Money(cents))
    response = await client.post("/api/v1/me/vouchers", headers=headers,
                                 json={"amount": {"amount": cents, "currency": "EUR"}})
    assert response.status_code == 201, response.text
    return response.json()


def eur(cents: int) -> dict:
    return {"amount": cents, "currency": "EUR"}
