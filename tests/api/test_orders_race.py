"""Buyers racing for unique pieces over HTTP, on SQLite and PostgreSQL: each piece sold once, every loser told
409 `listing_unavailable` with nothing held, the vouchers' holds and the ledger right."""

import asyncio
from collections import Counter

import pytest
from listing_helpers import buyer_voucher, eur, live_listings, open_resale_shop, order_body
from support import bearer, sign_up

from forever import db
from forever.vouchers import ledger

BUYERS = 50
PIECES = [("SW-SS24", "excellent", "M"), ("SW-SS24", "very_good", "L"), ("COAT-SS16", "very_good", "L"),
          ("SHIRT-FW24", "excellent", None), ("JKT-FW23", "new_with_tags", "S"), ("BAG-SS25", "excellent",
                                                                                  None),
          ("TEE-SS25", "excellent", "M"), ("TEE-SS25", "new_with_tags", "S"), ("TEE-SS25", "very_good", "L"),
          ("JKT-FW23", "excellent", "M")]
VOUCHER = 2000


@pytest.fixture
async def race(client):
    shop = await open_resale_shop(client)
    shop.pieces = await live_listings(client, shop, PIECES)
    buyers = []
    for number in range(BUYERS):
        headers = bearer(await sign_up(client, f"racer{number}@example.com", country="FR"))
        account_id = (await client.get("/api/v1/me", headers=headers)).json()["id"]
        voucher = await buyer_voucher(client, headers, account_id, VOUCHER)
        buyers.append((headers, voucher["code"]))
    return shop, buyers


async def books_are_right(client, buyers, confirmed):
    """Open holds are exactly the confirmed orders' voucher parts; every other voucher is whole; the ledger
    holds."""
    holds = await db.fetch("SELECT amount FROM voucher_hold WHERE status = 'open'")
    applied = [v["amount"]["amount"] for order in confirmed for v in order["vouchers_applied"]]
    assert sorted(row["amount"] for row in holds) == sorted(applied)
    assert await db.fetch("SELECT id FROM voucher_hold WHERE status <> 'open'") == []
    winners = {order["buyer_code"] for order in confirmed}
    for headers, code in buyers:
        [voucher] = (await client.get("/api/v1/me/vouchers", headers=headers)).json()["items"]
        expected = (eur(0), eur(VOUCHER)) if code in winners else (eur(VOUCHER), eur(0))
        assert (voucher["balance"], voucher["held"]) == expected
    assert (await ledger.check()).violations == []


async def test_50_buyers_racing_for_10_pieces_make_exactly_10_orders(client, race):
    shop, buyers = race

    async def buy(number):
        headers, code = buyers[number]
        response = await client.post("/api/v1/orders", headers=headers,
                                     json=order_body([shop.pieces[number % len(shop.pieces)]],
                                                     voucher_codes=[code]))
        return number, response

    results = await asyncio.gather(*(buy(number) for number in range(BUYERS)))
    statuses = Counter(response.status_code for _, response in results)
    assert statuses == {201: 10, 409: 40}, statuses
    assert {response.json()["code"] for _, response in results if response.status_code == 409} == {
        "listing_unavailable"}
    confirmed = [{**response.json(), "buyer_code": buyers[number][1]} for number, response in results
                 if response.status_code == 201]
    sold = [order["items"][0]["listing_id"] for order in confirmed]
    assert sorted(sold) == sorted(shop.pieces)  # every piece sold, none twice
    rows = await db.fetch("SELECT id, status, sold_order FROM listing")
    assert {row["status"] for row in rows} == {"sold"}
    assert len({str(row["sold_order"]) for row in rows}) == 10
    orders = await db.fetch("SELECT status FROM shop_order")
    assert Counter(row["status"] for row in orders) == {"confirmed": 10}  # the losers wrote no order
    assert all(order["vouchers_applied"][0]["amount"] == eur(VOUCHER) for order in confirmed)
    await books_are_right(client, buyers, confirmed)


async def test_buyers_racing_for_overlapping_baskets_never_share_a_piece(client, race):
    shop, buyers = race
    count = len(shop.pieces)

    async def buy(number):
        headers, code = buyers[number]
        # Pieces taken in opposite orders by neighbours: the locks are taken in id order, so none waits
        # forever.
        basket = [shop.pieces[number % count], shop.pieces[(number * 7 + 3) % count]][::(-1) ** number]
        response = await client.post("/api/v1/orders", headers=headers,
                                     json=order_body(basket, voucher_codes=[code]))
        return number, response

    results = await asyncio.gather(*(buy(number) for number in range(BUYERS)))
    assert {response.status_code for _, response in results} <= {201, 409}
    confirmed = [{**response.json(), "buyer_code": buyers[number][1]} for number, response in results
                 if response.status_code == 201]
    assert confirmed
    sold = [item["listing_id"] for order in confirmed for item in order["items"]]
    assert len(sold) == len(set(sold))
    rows = await db.fetch("SELECT id, status, sold_order FROM listing WHERE status = 'sold'")
    assert sorted(str(row["id"]) for row in rows) == sorted(sold)
    assert {row["status"] for row in await db.fetch("SELECT status FROM listing")} <= {"sold", "live"}
    await books_are_right(client, buyers, confirmed)
