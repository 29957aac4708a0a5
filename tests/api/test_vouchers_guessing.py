"""Guessing codes is stopped: 10 misses by one key, or from one address, within 10 minutes, then 429 for
look-ups and redemptions alike (CONTRACT.md), on SQLite and PostgreSQL."""

import datetime as dt

import httpx
import pytest
from test_errors import assert_problem
from voucher_helpers import eur, issue, open_shop

from forever import clock

WRONG = "AAAA-AAAA-AAAA-AAAA-A"


@pytest.fixture
async def shop(client):
    return await open_shop(client)


def from_address(client, address):
    """Another client of the same app, calling from another address."""
    transport = httpx.ASGITransport(app=client._transport.app, client=(address, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def miss(client, headers, times, path="/api/v1/vouchers/lookup"):
    for _ in range(times):
        body = {"code": WRONG} if path.endswith("lookup") else {"code": WRONG, "amount": eur(100),
                                                                "order_ref": "GUESS"}
        assert_problem(await client.post(path, headers=headers, json=body), 404, "voucher_not_found")


async def test_ten_misses_by_a_key_then_429(client, shop):
    voucher = await issue(client, shop, 1000)
    await miss(client, shop.eshop, 6)
    await miss(client, shop.eshop, 4, path="/api/v1/vouchers/redeem")
    for path, body in (("/api/v1/vouchers/lookup", {"code": voucher["code"]}),
                       ("/api/v1/vouchers/redeem", {"code": voucher["code"], "amount": eur(100), "order_ref": "R"}),
                       ("/api/v1/vouchers/holds", {"code": voucher["code"], "amount": eur(100), "order_ref": "H"})):
        response = await client.post(path, headers=shop.eshop, json=body)
        assert_problem(response, 429, "too_many_attempts")
        assert int(response.headers["retry-after"]) > 0
    async with from_address(client, "198.51.100.20") as elsewhere:
        # The key is blocked from anywhere; another key from another address is not.
        assert_problem(await elsewhere.post("/api/v1/vouchers/lookup", headers=shop.eshop,
                                            json={"code": voucher["code"]}), 429, "too_many_attempts")
        assert (await elsewhere.post("/api/v1/vouchers/lookup", headers=shop.resale,
                                     json={"code": voucher["code"]})).status_code == 200
    clock.set_now(clock.now() + dt.timedelta(minutes=10, seconds=1))
    assert (await client.post("/api/v1/vouchers/lookup", headers=shop.eshop,
                              json={"code": voucher["code"]})).status_code == 200


async def test_ten_misses_from_an_address_then_429_for_every_key_there(client, shop):
    voucher = await issue(client, shop, 1000)
    for headers in (shop.eshop, shop.resale, shop.store, shop.eshop, shop.resale):
        await miss(client, headers, 2)
    assert_problem(await client.post("/api/v1/vouchers/lookup", headers=shop.store,
                                     json={"code": voucher["code"]}), 429, "too_many_attempts")
    async with from_address(client, "198.51.100.21") as elsewhere:
        assert (await elsewhere.post("/api/v1/vouchers/lookup", headers=shop.store,
                                     json={"code": voucher["code"]})).status_code == 200


async def test_nine_misses_are_not_yet_too_many_and_hits_do_not_count(client, shop):
    voucher = await issue(client, shop, 1000)
    await miss(client, shop.eshop, 9)
    for _ in range(5):
        assert (await client.post("/api/v1/vouchers/lookup", headers=shop.eshop,
                                  json={"code": voucher["code"]})).status_code == 200
    await miss(client, shop.eshop, 1)
    assert_problem(await client.post("/api/v1/vouchers/lookup", headers=shop.eshop,
                                     json={"code": voucher["code"]}), 429, "too_many_attempts")


async def test_misses_slide_out_of_the_window(client, shop):
    await miss(client, shop.eshop, 5)
    clock.set_now(clock.now() + dt.timedelta(minutes=6))
    await miss(client, shop.eshop, 5)
    assert_problem(await client.post("/api/v1/vouchers/lookup", headers=shop.eshop, json={"code": WRONG}), 429,
                   "too_many_attempts")
    clock.set_now(clock.now() + dt.timedelta(minutes=5))  # the first five are now older than 10 minutes
    await miss(client, shop.eshop, 1)
