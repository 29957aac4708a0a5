"""Many channels spending one voucher at once, over HTTP, on SQLite and PostgreSQL: never more than its balance,
every success in the ledger, the ledger's invariants intact."""

import asyncio
from collections import Counter

import pytest
from voucher_helpers import eur, issue, open_shop

from forever import db
from forever.vouchers import ledger

CLIENTS = 64


@pytest.fixture
async def shop(client):
    return await open_shop(client)


async def test_64_concurrent_redemptions_never_overspend(client, shop):
    voucher = await issue(client, shop, 10000)
    keys = [shop.eshop, shop.resale, shop.store]

    async def spend(number):
        return await client.post("/api/v1/vouchers/redeem", headers=keys[number % 3],
                                 json={"code": voucher["code"], "amount": eur(300), "order_ref": f"R-{number}"})

    responses = await asyncio.gather(*(spend(number) for number in range(CLIENTS)))
    statuses = Counter(response.status_code for response in responses)
    assert set(statuses) <= {201, 422}, statuses
    assert statuses[201] == 10000 // 300  # serialised: every one that fits, and no more
    assert all(response.json()["code"] == "insufficient_balance"
               for response in responses if response.status_code == 422)
    balances_after = sorted(response.json()["balance_after"]["amount"]
                            for response in responses if response.status_code == 201)
    assert balances_after == [10000 - 300 * count for count in range(statuses[201], 0, -1)]
    ids = {response.json()["redemption_id"] for response in responses if response.status_code == 201}
    rows = await db.fetch("SELECT id, channel FROM ledger_transaction WHERE kind = 'redemption'")
    assert {str(row["id"]) for row in rows} == ids
    assert Counter(row["channel"] for row in rows).keys() == {"eshop", "resale", "store"}
    lookup = await client.post("/api/v1/vouchers/lookup", headers=shop.eshop, json={"code": voucher["code"]})
    assert lookup.json()["balance"] == eur(10000 - 300 * statuses[201])
    assert (await ledger.check()).violations == []


async def test_concurrent_holds_captures_and_redemptions_keep_the_books(client, shop):
    voucher = await issue(client, shop, 5000)

    async def hold_then_settle(number):
        headers = [shop.eshop, shop.resale, shop.store][number % 3]
        placed = await client.post("/api/v1/vouchers/holds", headers=headers,
                                   json={"code": voucher["code"], "amount": eur(200), "order_ref": f"H-{number}"})
        if placed.status_code != 201:
            return placed.status_code
        action = ("capture", "void")[number % 2]
        settled = await client.post(f"/api/v1/vouchers/holds/{placed.json()['hold_id']}/{action}",
                                    headers=headers, json={"amount": eur(150)} if action == "capture" else None)
        assert settled.status_code == 200, settled.text
        return action

    async def redeem(number):
        response = await client.post("/api/v1/vouchers/redeem", headers=shop.store,
                                     json={"code": voucher["code"], "amount": eur(100), "order_ref": f"R-{number}"})
        return response.status_code

    outcomes = await asyncio.gather(*(hold_then_settle(n) for n in range(32)), *(redeem(n) for n in range(32)))
    counts = Counter(outcomes)
    spent = 150 * counts["capture"] + 100 * counts[201]
    lookup = await client.post("/api/v1/vouchers/lookup", headers=shop.eshop, json={"code": voucher["code"]})
    assert lookup.json()["balance"] == eur(5000 - spent)
    assert (await ledger.check()).violations == []
