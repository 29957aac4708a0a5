"""Shared set-up of the privacy tests: one person who did everything (quoted, traded pieces in that were
photographed and graded, holds credit and a voucher, bought a piece with it), taken there through the API."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from dataclasses import dataclass

import httpx
from grading_helpers import fabric_photo
from listing_helpers import ResaleShop, open_resale_shop, order_body, refurbish_and_publish, travel
from support import PASSWORD, bearer, sign_in

from forever import clock, db

EMAIL = "zephyrine.quenouille@example.com"
FIRST_NAME, LAST_NAME = "Zéphyrine", "Quenouille"
BIRTH_DATE = "1987-04-23"
ADDRESS = {"name": "Zéphyrine Quenouille", "line1": "7 rue des Fileuses", "postal_code": "69004", "city": "Lyon",
           "phone": "+33 6 98 76 54 32"}
# What names the person anywhere: none of it may remain in the database after the erasure.
PERSONAL = (EMAIL, FIRST_NAME, LAST_NAME, BIRTH_DATE, "rue des Fileuses", "98 76 54 32")


@dataclass
class Person:
    headers: dict[str, str]
    account_id: str
    quote_ids: list[str]
    tradein_id: str
    item_ids: list[str]
    photo: bytes
    photo_id: str
    voucher: dict
    order: dict


async def register(client: httpx.AsyncClient, email: str = EMAIL) -> dict[str, str]:
    response = await client.post("/api/v1/accounts", json={
        "email": email, "password": PASSWORD, "first_name": FIRST_NAME, "last_name": LAST_NAME, "country": "FR",
        "birth_date": BIRTH_DATE})
    assert response.status_code == 201, response.text
    return bearer(await sign_in(client, email))


async def person_who_did_everything(client: httpx.AsyncClient) -> tuple[ResaleShop, Person]:
    """The resale shop's people, and a person who quoted twice, traded two pieces in (one photographed), was
    credited, generated a voucher, and bought one of the pieces back with it and a card (not yet shipped)."""
    shop = await open_resale_shop(client)
    headers = await register(client)
    account_id = (await client.get("/api/v1/me", headers=headers)).json()["id"]
    unused = await client.post("/api/v1/quotes", headers=headers, json={"items": [
        {"product_ref": "BAG-SS25", "condition": "excellent"}]})
    assert unused.status_code == 201, unused.text
    quote = await client.post("/api/v1/quotes", headers=headers, json={"items": [
        {"product_ref": "SW-SS24", "condition": "excellent", "size": "M"},
        {"product_ref": "SHIRT-FW24", "condition": "very_good", "size": "M"}]})
    assert quote.status_code == 201, quote.text
    tradein = await client.post(f"/api/v1/quotes/{quote.json()['id']}/accept", headers=headers,
                                json={"refused_items": "return"})
    assert tradein.status_code == 201, tradein.text
    received = await client.post("/api/v1/warehouse/receptions", headers=shop.grader,
                                 json={"tracking_number": tradein.json()["parcel"]["tracking_number"]})
    assert received.status_code == 200, received.text
    items = sorted(tradein.json()["items"], key=lambda item: item["line"])
    photo = fabric_photo()
    uploaded = await client.post(f"/api/v1/grading/items/{items[0]['id']}/photos", headers=shop.grader,
                                 data={"view": "front"}, files={"photo": ("front.jpg", photo, "image/jpeg")})
    assert uploaded.status_code == 201, uploaded.text
    for item in items:
        decided = await client.post(f"/api/v1/grading/items/{item['id']}/decision", headers=shop.grader,
                                    json={"grade": item["declared_condition"]})
        assert decided.status_code == 200, decided.text
    voucher = await client.post("/api/v1/me/vouchers", headers=headers,
                                json={"amount": {"amount": 5000, "currency": "EUR"}})
    assert voucher.status_code == 201, voucher.text
    stock = (await client.get("/api/v1/stock?limit=100", headers=shop.admin)).json()["items"]
    pieces = [(await client.get(f"/api/v1/stock/{piece['id']}", headers=shop.admin)).json() for piece in stock]
    listing_id = next(piece["id"] for piece in pieces if piece["tradein_item_id"] == items[0]["id"])
    await refurbish_and_publish(client, shop, listing_id)
    order = await client.post("/api/v1/orders", headers=headers, json=order_body(
        [listing_id], voucher_codes=[voucher.json()["code"]], country="FR", address=ADDRESS))
    assert order.status_code == 201, order.text
    return shop, Person(headers=headers, account_id=account_id, quote_ids=[unused.json()["id"], quote.json()["id"]],
                        tradein_id=tradein.json()["id"], item_ids=[item["id"] for item in items], photo=photo,
                        photo_id=uploaded.json()["photo_id"], voucher=voucher.json(), order=order.json())


async def deliver(client: httpx.AsyncClient, shop: ResaleShop, order_id: str) -> None:
    """Ship the order once it can no longer be cancelled, and have the carrier deliver it the next day."""
    await travel(client, shop, clock.now() + dt.timedelta(minutes=31))
    shipped = await client.post(f"/api/v1/orders/{order_id}/ship", headers=shop.store_staff)
    assert shipped.status_code == 200, shipped.text
    delivered = await client.post(f"/api/v1/orders/{order_id}/delivered", headers=shop.carrier,
                                  json={"delivered_at": clock.now().isoformat()})
    assert delivered.status_code == 200, delivered.text


def unzip(response: httpx.Response) -> zipfile.ZipFile:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(response.content))


async def tables() -> list[str]:
    if db.is_sqlite():
        rows = await db.fetch("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    else:
        rows = await db.fetch("SELECT table_name AS name FROM information_schema.tables "
                              "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'")
    return sorted(row["name"] for row in rows)


async def rows_mentioning(*needles: str) -> dict[str, list[str]]:
    """Every row of every table whose text holds one of `needles` (case-insensitive), by table."""
    found: dict[str, list[str]] = {}
    lowered = [needle.lower() for needle in needles]
    for table in await tables():
        for row in await db.fetch(f'SELECT * FROM "{table}"'):
            text = " ".join(str(value) for value in row.values()).lower()
            if any(needle in text for needle in lowered):
                found.setdefault(table, []).append(text[:300])
    return found

