"""The seller's credit over HTTP, on SQLite and PostgreSQL: trade-in credits, history, vouchers issued from it,
customer service's view and re-credits."""

import pytest
from support import bearer, sign_up
from test_errors import assert_problem
from voucher_helpers import credit, eur, issue, open_shop, travel

from forever import clock
from forever.errors import Conflict
from forever.money import Money
from forever.vouchers import ledger
from forever.vouchers import service as vouchers


@pytest.fixture
async def shop(client):
    return await open_shop(client)


async def test_credit_history_is_newest_first_with_signed_amounts(client, shop):
    await vouchers.credit_tradein_item(shop.seller_id, "item-1", Money(12000), reference="Trade-in 1, line 1")
    await vouchers.credit_tradein_item(shop.seller_id, "item-2", Money(4500))
    issued = await issue(client, shop, 10000, credit_first=False)
    response = await client.get("/api/v1/me/credit", headers=shop.seller)
    assert response.status_code == 200
    body = response.json()
    assert body["balance"] == eur(6500)
    assert [(entry["kind"], entry["amount"]["amount"], entry["balance_after"]["amount"])
            for entry in body["entries"]] == [
        ("voucher_issue", -10000, 6500), ("tradein_credit", 4500, 16500), ("tradein_credit", 12000, 12000)]
    newest, second, first = body["entries"]
    assert {"id", "kind", "amount", "balance_after", "created_at", "reference"} <= set(newest)
    assert first["reference"] == "Trade-in 1, line 1" and first["tradein_item_id"] == "item-1"
    assert second["reference"] == "trade-in item item-2"
    assert newest["code_last4"] == issued["code_last4"] and newest["voucher_id"] == issued["id"]
    assert issued["code"].replace("-", "") not in response.text  # only the last four show here
    assert newest["created_at"].endswith("Z") or "+" in newest["created_at"]


async def test_an_empty_account_has_no_credit(client, shop):
    assert (await client.get("/api/v1/me/credit", headers=shop.seller)).json() == {
        "balance": eur(0), "entries": [], "next_cursor": None}


async def test_credit_history_pages(client, shop):
    for number in range(5):
        await vouchers.credit_tradein_item(shop.seller_id, f"item-{number}", Money(1000 + number))
    first = (await client.get("/api/v1/me/credit?limit=2", headers=shop.seller)).json()
    assert [entry["tradein_item_id"] for entry in first["entries"]] == ["item-4", "item-3"]
    second = (await client.get(f"/api/v1/me/credit?limit=2&cursor={first['next_cursor']}",
                               headers=shop.seller)).json()
    assert [entry["tradein_item_id"] for entry in second["entries"]] == ["item-2", "item-1"]
    third = (await client.get(f"/api/v1/me/credit?limit=2&cursor={second['next_cursor']}",
                              headers=shop.seller)).json()
    assert [entry["tradein_item_id"] for entry in third["entries"]] == ["item-0"]
    assert third["next_cursor"] is None
    assert_problem(await client.get("/api/v1/me/credit?cursor=nonsense", headers=shop.seller), 422,
                   "invalid_cursor")
    assert (await client.get("/api/v1/me/credit?limit=101", headers=shop.seller)).status_code in (400, 422)


async def test_a_trade_in_item_is_credited_once(client, shop):
    entry = await vouchers.credit_tradein_item(shop.seller_id, "item-9", Money(3000))
    assert await vouchers.credit_tradein_item(shop.seller_id, "item-9", Money(3000)) == entry
    with pytest.raises(Conflict) as refused:
        await vouchers.credit_tradein_item(shop.seller_id, "item-9", Money(3100))
    assert refused.value.code == "already_credited"
    other = await sign_up(client, "other@example.com")
    other_id = (await client.get("/api/v1/me", headers=bearer(other))).json()["id"]
    with pytest.raises(Conflict):
        await vouchers.credit_tradein_item(other_id, "item-9", Money(3000))
    assert (await client.get("/api/v1/me/credit", headers=shop.seller)).json()["balance"] == eur(3000)


async def test_credit_is_only_the_sellers_own(client, shop):
    await credit(shop.seller_id, 5000)
    other = await sign_up(client, "other@example.com")
    assert (await client.get("/api/v1/me/credit", headers=bearer(other))).json()["balance"] == eur(0)
    assert (await client.get("/api/v1/me/credit")).status_code == 401
    assert_problem(await client.get("/api/v1/me/credit", headers=shop.eshop), 404, "not_found")
    assert_problem(await client.get("/api/v1/me/credit", headers=shop.service), 404, "not_found")
    # Customer service sees any seller's credit; nobody else does.
    path = f"/api/v1/accounts/{shop.seller_id}/credit"
    assert (await client.get(path, headers=shop.service)).json()["balance"] == eur(5000)
    assert_problem(await client.get(path, headers=bearer(other)), 404, "not_found")
    assert_problem(await client.get("/api/v1/accounts/not-a-uuid/credit", headers=shop.service), 404,
                   "not_found")


async def test_recredit_gives_back_what_a_voucher_paid_for(client, shop):
    voucher = await issue(client, shop, 10000)
    spent = await client.post("/api/v1/vouchers/redeem", headers=shop.eshop,
                              json={"code": voucher["code"], "amount": eur(6000), "order_ref": "AMI-1"})
    assert spent.status_code == 201
    path = f"/api/v1/vouchers/{voucher['code']}/recredit"
    response = await client.post(path, headers=shop.service, json={"amount": eur(2500), "reason": "return AMI-1"})
    assert response.status_code == 201, response.text
    entry = response.json()
    assert entry["kind"] == "recredit" and entry["credited"] == "voucher"
    assert entry["amount"] == eur(2500) and entry["balance_after"] == eur(6500)
    assert entry["reason"] == "return AMI-1" and entry["code_last4"] == voucher["code_last4"]
    # Never more than was spent and not given back yet.
    assert_problem(await client.post(path, headers=shop.service, json={"amount": eur(3501), "reason": "again"}),
                   422, "recredit_exceeds_spent")
    assert (await client.post(path, headers=shop.service,
                              json={"amount": eur(3500), "reason": "rest"})).status_code == 201
    assert_problem(await client.post(path, headers=shop.service, json={"amount": eur(1), "reason": "more"}),
                   422, "recredit_exceeds_spent")
    # Only customer service; codes that find nothing are 404.
    assert_problem(await client.post(path, headers=shop.seller, json={"amount": eur(1), "reason": "x"}),
                   404, "not_found")
    assert_problem(await client.post(path, headers=shop.eshop, json={"amount": eur(1), "reason": "x"}),
                   404, "not_found")
    assert_problem(await client.post("/api/v1/vouchers/AAAA-AAAA-AAAA-AAAA-A/recredit", headers=shop.service,
                                     json={"amount": eur(1), "reason": "x"}), 404, "voucher_not_found")
    assert (await client.post(path, headers=shop.service, json={"amount": eur(1), "reason": ""})).status_code == 422
    assert (await ledger.check()).violations == []


async def test_an_expired_voucher_is_recredited_to_the_sellers_credit(client, shop):
    voucher = await issue(client, shop, 5000)
    await client.post("/api/v1/vouchers/redeem", headers=shop.store,
                      json={"code": voucher["code"], "amount": eur(5000), "order_ref": "TILL-1"})
    await travel(client, shop, clock.now().replace(year=clock.now().year + 1))
    response = await client.post(f"/api/v1/vouchers/{voucher['code']}/recredit", headers=shop.service,
                                 json={"amount": eur(2000), "reason": "return after expiry"})
    assert response.status_code == 201, response.text
    assert response.json()["credited"] == "credit"
    history = (await client.get("/api/v1/me/credit", headers=shop.seller)).json()
    assert history["balance"] == eur(2000)
    assert history["entries"][0]["kind"] == "recredit"
    assert history["entries"][0]["reason"] == "return after expiry"
    assert (await ledger.check()).violations == []


async def test_money_input_is_checked(client, shop):
    await credit(shop.seller_id, 5000)
    for amount, code in ((eur(0), "invalid_amount"), (eur(-5), "invalid_amount"),
                         ({"amount": 100, "currency": "GBP"}, "currency_not_supported")):
        assert_problem(await client.post("/api/v1/me/vouchers", headers=shop.seller, json={"amount": amount}),
                       422, code)
    for body in ({"amount": {"amount": "twelve", "currency": "EUR"}}, {"amount": eur(100), "extra": 1}, {},
                 {"amount": {"amount": 100, "currency": "XXX"}}):
        response = await client.post("/api/v1/me/vouchers", headers=shop.seller, json=body)
        assert response.status_code in (400, 422), body
        assert response.headers["content-type"].startswith("application/problem+json")
    assert (await client.get("/api/v1/me/credit", headers=shop.seller)).json()["balance"] == eur(5000)
