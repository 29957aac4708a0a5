"""Shared set-up of the trade-in API tests: products, a seller with an accepted quote, a grader, a carrier key."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import httpx
from support import PASSWORD, bearer, sign_in, sign_up

from forever import clock
from forever.accounts import service as accounts
from forever.catalog import service as catalog
from forever.catalog.model import Product
from forever.settings import Settings

T0 = dt.datetime(2026, 11, 23, 10, 0)  # a Monday, Paris time; current season FW26

PRODUCTS = [
    Product(ref="SW-SS24", name="Ami de Cœur Sweatshirt", category="sweatshirts", season="SS24",
            retail_price=29000),
    Product(ref="COAT-SS16", name="Wool Trench Coat", category="coats", season="SS16", retail_price=129000),
    Product(ref="TEE-FW26", name="Paris Paris T-shirt", category="tshirts", season="FW26", retail_price=11000),
    Product(ref="BOXER-SS22", name="Ami de Cœur Boxer Briefs", category="underwear", season="SS22",
            retail_price=4500),
]


@dataclass
class Warehouse:
    """The people and systems around a trade-in."""

    seller: dict[str, str]
    grader: dict[str, str]
    admin: dict[str, str]
    service: dict[str, str]
    store_staff: dict[str, str]
    carrier: dict[str, str]
    eshop: dict[str, str]


async def open_warehouse(client: httpx.AsyncClient) -> Warehouse:
    clock.set_now(T0)
    await catalog.import_products(PRODUCTS)
    seller = await sign_up(client, "seller@example.com")
    await accounts.add_store("saint-honore", "AMI Saint-Honoré", "FR", "boutique")
    for email_address, role, store in (("grader@example.com", "grader", None), ("admin@example.com", "admin", None),
                                       ("service@example.com", "customer_service", None),
                                       ("shop@example.com", "store_staff", "saint-honore")):
        await accounts.create_staff(email_address, PASSWORD, role, store)
    return Warehouse(
        seller=bearer(seller), grader=bearer(await sign_in(client, "grader@example.com")),
        admin=bearer(await sign_in(client, "admin@example.com")),
        service=bearer(await sign_in(client, "service@example.com")),
        store_staff=bearer(await sign_in(client, "shop@example.com")),
        carrier=bearer(await accounts.create_api_key("carrier")), eshop=bearer(await accounts.create_api_key("eshop")),
    )


def line(ref: str, condition: str = "excellent", **extra: str) -> dict[str, str]:
    return {"product_ref": ref, "condition": condition, **extra}


async def quote(client: httpx.AsyncClient, headers: dict[str, str], *lines: dict[str, str]) -> dict:
    response = await client.post("/api/v1/quotes", headers=headers, json={"items": list(lines)})
    assert response.status_code == 201, response.text
    return response.json()


async def accept(client: httpx.AsyncClient, headers: dict[str, str], quote_id: str,
                 refused_items: str = "return") -> httpx.Response:
    return await client.post(f"/api/v1/quotes/{quote_id}/accept", headers=headers,
                             json={"refused_items": refused_items})


async def accepted_tradein(client: httpx.AsyncClient, place: Warehouse) -> dict:
    """A trade-in of two eligible pieces (a quote of four lines, two refused)."""
    body = await quote(client, place.seller, line("SW-SS24", size="M"), line("TEE-FW26"),
                       line("COAT-SS16", "very_good"), line("BOXER-SS22"))
    response = await accept(client, place.seller, body["id"])
    assert response.status_code == 201, response.text
    return response.json()


async def carrier_event(client: httpx.AsyncClient, place: Warehouse, tracking_number: str, event: str,
                        occurred_at: dt.datetime) -> httpx.Response:
    return await client.post("/api/v1/carrier/events", headers=place.carrier, json={
        "tracking_number": tracking_number, "event": event, "occurred_at": occurred_at.isoformat()})


def mails(settings: Settings) -> list[EmailMessage]:
    """The messages in the outbox folder, oldest first."""
    paths = sorted(Path(settings.outbox_dir).glob("*.eml"), key=lambda path: path.stat().st_mtime_ns)
    return [email.message_from_bytes(path.read_bytes(), policy=email.policy.default) for path in paths]
