"""Checkout: pieces set aside for 15 minutes, the price before vouchers, abandoned checkouts lapsing (with and
without the job), and an order whose payment never finished given up by the job."""

import datetime as dt
import uuid

import msgspec
import pytest
from listing_helpers import T0, buyer_voucher, eur, live_listings, open_resale_shop, order_body, travel

from forever import db
from forever.accounts.schemas import Principal
from forever.clock import PARIS
from forever.jobs import run_jobs
from forever.listings import orders
from forever.listings.schemas import OrderCreate
from forever.vouchers import ledger


@pytest.fixture
async def shop(client):
    shop = await open_resale_shop(client)
    # 120 EUR, 45 EUR, 410 EUR (resale_grid.toml 2026.1)
    shop.sweatshirt, shop.tee, shop.coat = await live_listings(client, shop, [
        ("SW-SS24", "excellent", "M"), ("TEE-SS25", "excellent", "M"), ("COAT-SS16", "very_good", "L")])
    return shop


async def shown(client, listing_id):
    return listing_id in [item["id"] for item in (await client.get("/api/v1/listings")).json()["items"]]


async def checkout(client, headers, *listing_ids):
    return await client.post("/api/v1/checkout", headers=headers, json={"listing_ids": list(listing_ids)})


async def test_a_checkout_sets_pieces_aside_for_its_buyer_only(client, shop):
    response = await checkout(client, shop.buyer, shop.sweatshirt, shop.tee)
    assert response.status_code == 201, response.text
    held = response.json()
    assert held["subtotal"] == eur(16500)
    expires_at = dt.datetime.fromisoformat(held["expires_at"])
    assert expires_at == T0.replace(tzinfo=PARIS) + dt.timedelta(minutes=15)
    assert (await client.get("/api/v1/checkout",
                             headers=shop.buyer)).json()["listing_ids"] == held["listing_ids"]
    assert not await shown(client, shop.tee)
    page = (await client.get(f"/api/v1/listings/{shop.tee}")).json()
    assert (page["status"], page["available"]) == ("reserved", False)
    taken = await client.post("/api/v1/orders", headers=shop.other_buyer, json=order_body([shop.tee]))
    assert taken.status_code == 409 and taken.json()["code"] == "listing_unavailable"
    assert (await checkout(client, shop.other_buyer, shop.tee)).status_code == 409
    mine = await client.post("/api/v1/orders", headers=shop.buyer, json=order_body([shop.tee]))
    assert mine.status_code == 201, mine.text
    # The order took the tee; the sweatshirt is still set aside for the buyer.
    assert (await client.get("/api/v1/checkout",
                             headers=shop.buyer)).json()["listing_ids"] == [shop.sweatshirt]


async def test_a_new_checkout_replaces_the_last_and_an_abandoned_one_is_given_back(client, shop):
    await checkout(client, shop.buyer, shop.tee)
    await checkout(client, shop.buyer, shop.coat)
    assert await shown(client, shop.tee) and not await shown(client, shop.coat)
    assert (await client.delete("/api/v1/checkout", headers=shop.buyer)).status_code == 204
    assert await shown(client, shop.coat)
    gone = await client.get("/api/v1/checkout", headers=shop.buyer)
    assert gone.status_code == 404 and gone.json()["code"] == "no_checkout"


async def test_a_lapsed_checkout_is_anyone_s_and_the_job_puts_it_back_on_sale(client, shop):
    await checkout(client, shop.buyer, shop.tee, shop.coat)
    await travel(client, shop, T0 + dt.timedelta(minutes=15, seconds=1))
    # Before the job runs: the lapsed reservation does not stop another buyer.
    bought = await client.post("/api/v1/orders", headers=shop.other_buyer, json=order_body([shop.tee]))
    assert bought.status_code == 201, bought.text
    assert not await shown(client, shop.coat)
    assert (await run_jobs())["reservations_released"] == 1
    assert await shown(client, shop.coat) and not await shown(client, shop.tee)
    assert (await run_jobs())["reservations_released"] == 0


async def test_the_price_before_vouchers_follows_the_shared_delivery_rules(client, shop):
    body = {"listing_ids": [shop.tee], "shipping": order_body([])["shipping"]}
    priced = (await client.post("/api/v1/checkout/price", headers=shop.buyer, json=body)).json()
    assert (priced["subtotal"], priced["delivery_fee"], priced["free_threshold"], priced["total"]) == (
        eur(4500), eur(1500), eur(30000), eur(6000))
    assert priced["available"] is True
    express = {**body, "shipping": {**body["shipping"], "method": "express"}}
    assert (await client.post("/api/v1/checkout/price", headers=shop.buyer, json=express)).json()[
        "delivery_fee"] == eur(3000)
    free = {**body, "listing_ids": [shop.coat]}
    assert (await client.post("/api/v1/checkout/price", headers=shop.buyer, json=free)).json()[
        "delivery_fee"] == eur(0)
    await checkout(client, shop.other_buyer, shop.tee)
    taken = (await client.post("/api/v1/checkout/price", headers=shop.buyer, json=body)).json()
    assert (taken["available"], taken["unavailable_ids"]) == (False, [shop.tee])
    po_box = {**body, "shipping": {**body["shipping"], "address": {**body["shipping"]["address"],
                                                                     "line1": "Postfach 12 34"}}}
    refused = await client.post("/api/v1/checkout/price", headers=shop.buyer, json=po_box)
    assert refused.status_code == 422 and refused.json()["code"] == "po_box"


async def test_an_order_whose_payment_never_finished_is_given_up_by_the_job(client, shop):
    voucher = await buyer_voucher(client, shop.buyer, shop.buyer_id, 5000)
    data = msgspec.convert(order_body([shop.tee], voucher_codes=[voucher["code"]]), OrderCreate)
    # A process that died after holding the vouchers, before the card: steps 1 and 2a of
    # forever.listings.orders.
    order_key = uuid.uuid4()
    total = await orders._reserve_for_order(order_key, uuid.UUID(shop.buyer_id), [uuid.UUID(shop.tee)],
                                            data.shipping)
    principal = Principal(kind="person", role="customer", account_id=shop.buyer_id)
    assert await orders._hold_vouchers(order_key, principal, data.voucher_codes, total, "test") == 5000
    assert not await shown(client, shop.tee)
    assert (await run_jobs())["reservations_released"] == 0  # not lapsed yet
    await travel(client, shop, T0 + dt.timedelta(minutes=16))
    assert (await run_jobs())["reservations_released"] == 1
    assert await shown(client, shop.tee)
    [row] = await db.fetch("SELECT status, failure_code FROM shop_order")
    assert (row["status"], row["failure_code"]) == ("failed", "checkout_expired")
    mine = next(v for v in (await client.get("/api/v1/me/vouchers", headers=shop.buyer)).json()["items"])
    assert (mine["balance"], mine["held"]) == (eur(5000), eur(0))
    assert (await ledger.check()).violations == []
