"""Shared set-up of the voucher API tests: stores, channel keys, a seller with credit, customer service."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import httpx
from support import PASSWORD, bearer, sign_in, sign_up

from forever import clock
from forever.accounts import service as accounts
from forever.money import Money
from forever.vouchers import service as vouchers

T0 = dt.datetime(2026, 3, 10, 10, 0)  # Paris time


@dataclass
class Shop:
    eshop: dict[str, str]
    resale: dict[str, str]
    store: dict[str, str]
    corner: dict[str, str]
    carrier: dict[str, str]
    seller: dict[str, str]
    seller_id: str
    service: dict[str, str]
    admin: dict[str, str]


async def open_shop(client: httpx.AsyncClient) -> Shop:
    clock.set_now(T0)
    await accounts.add_store("saint-honore", "AMI Saint-Honoré", "FR", "boutique")
    await accounts.add_store("galeries", "AMI corner, Galeries Lafayette", "FR", "department_store_corner")
    seller = await sign_up(client, "seller@example.com")
    seller_id = (await client.get("/api/v1/me", headers=bearer(seller))).json()["id"]
    await accounts.create_staff("service@example.com", PASSWORD, "customer_service")
    await accounts.create_staff("admin@example.com", PASSWORD, "admin")
    return Shop(
        eshop=bearer(await accounts.create_api_key("eshop")),
        resale=bearer(await accounts.create_api_key("resale")),
        store=bearer(await accounts.create_api_key("store", "saint-honore")),
        corner=bearer(await accounts.create_api_key("store", "galeries")),
        carrier=bearer(await accounts.create_api_key("carrier")),
        seller=bearer(seller), seller_id=seller_id,
        service=bearer(await sign_in(client, "service@example.com")),
        admin=bearer(await sign_in(client, "admin@example.com")),
    )


async def credit(account_id: str, cents: int, item: str | None = None) -> None:
    await vouchers.credit_tradein_item(account_id, item or f"item-{uuid.uuid4().hex[:8]}", Money(cents))


async def issue(client: httpx.AsyncClient, shop: Shop, cents: int, *, credit_first: bool = True) -> dict:
    """A new voucher of `cents` (crediting the seller that much first)."""
    if credit_first:
        await credit(shop.seller_id, cents)
    response = await client.post("/api/v1/me/vouchers", headers=shop.seller,
                                 json={"amount": {"amount": cents, "currency": "EUR"}})
    assert response.status_code == 201, response.text
    return response.json()


def eur(cents: int) -> dict:
    return {"amount": cents, "currency": "EUR"}


def with_key(headers: dict[str, str], key: str) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


async def travel(client: httpx.AsyncClient, shop: Shop, to: dt.datetime) -> None:
    """Move the clock, and sign the people in again (their tokens last hours, not months)."""
    clock.set_now(to)
    shop.seller = bearer(await sign_in(client, "seller@example.com"))
    shop.service = bearer(await sign_in(client, "service@example.com"))
    shop.admin = bearer(await sign_in(client, "admin@example.com"))
