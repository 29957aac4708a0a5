"""`Idempotency-Key` on the money-moving voucher calls, on SQLite and PostgreSQL (CONTRACT.md, "Conventions")."""

import datetime as dt

import msgspec
import pytest
from test_errors import assert_problem
from voucher_helpers import credit, eur, issue, open_shop, with_key

from forever import clock, db
from forever.accounts import service as accounts
from forever.idempotency import service as idempotency
from forever.vouchers import ledger
from forever.vouchers.schemas import RedemptionCreate


@pytest.fixture
async def shop(client):
    return await open_shop(client)


@pytest.fixture
async def voucher(client, shop):
    return await issue(client, shop, 10000)


def redemption(code, cents, order_ref="AMI-1"):
    return {"code": code, "amount": eur(cents), "order_ref": order_ref}


async def balance(client, shop, code):
    return (await client.post("/api/v1/vouchers/lookup", headers=shop.eshop, json={"code": code})).json()["balance"]


async def test_a_retried_redemption_is_answered_again_and_applied_once(client, shop, voucher):
    headers = with_key(shop.eshop, "order-1-payment")
    first = await client.post("/api/v1/vouchers/redeem", headers=headers, json=redemption(voucher["code"], 2500))
    assert first.status_code == 201
    assert "idempotent-replayed" not in first.headers
    again = await client.post("/api/v1/vouchers/redeem", headers=headers, json=redemption(voucher["code"], 2500))
    assert (again.status_code, again.content) == (first.status_code, first.content)
    assert again.headers["idempotent-replayed"] == "true"
    assert await balance(client, shop, voucher["code"]) == eur(7500)
    # Key order and spacing of the JSON do not make another body.
    raw = ('{"order_ref": "AMI-1", "amount": {"currency": "EUR", "amount": 2500}, "code": "%s"}'
           % voucher["code"])
    spaced = await client.post("/api/v1/vouchers/redeem", content=raw,
                               headers={**headers, "content-type": "application/json"})
    assert spaced.content == first.content
    assert await balance(client, shop, voucher["code"]) == eur(7500)


async def test_the_same_key_with_another_body_is_refused(client, shop, voucher):
    headers = with_key(shop.eshop, "k-1")
    await client.post("/api/v1/vouchers/redeem", headers=headers, json=redemption(voucher["code"], 2500))
    assert_problem(await client.post("/api/v1/vouchers/redeem", headers=headers,
                                     json=redemption(voucher["code"], 2600)), 422, "idempotency_key_reused")
    assert_problem(await client.post("/api/v1/vouchers/holds", headers=headers,
                                     json=redemption(voucher["code"], 2500)), 422, "idempotency_key_reused")
    assert await balance(client, shop, voucher["code"]) == eur(7500)


async def test_keys_belong_to_their_caller(client, shop, voucher):
    for headers in (shop.eshop, shop.store):
        response = await client.post("/api/v1/vouchers/redeem", headers=with_key(headers, "shared-key"),
                                     json=redemption(voucher["code"], 1000))
        assert response.status_code == 201
        assert "idempotent-replayed" not in response.headers
    assert await balance(client, shop, voucher["code"]) == eur(8000)


async def test_a_refusal_is_the_answer_too(client, shop, voucher):
    hold_id = (await client.post("/api/v1/vouchers/holds", headers=shop.store,
                                 json=redemption(voucher["code"], 5000))).json()["hold_id"]
    headers = with_key(shop.eshop, "too-much")
    first = await client.post("/api/v1/vouchers/redeem", headers=headers, json=redemption(voucher["code"], 8000))
    assert_problem(first, 422, "insufficient_balance")
    await client.post(f"/api/v1/vouchers/holds/{hold_id}/void", headers=shop.store)
    # The money is back, but the key's answer was given: a retry gets it again and spends nothing.
    again = await client.post("/api/v1/vouchers/redeem", headers=headers, json=redemption(voucher["code"], 8000))
    assert (again.status_code, again.content) == (422, first.content)
    assert await balance(client, shop, voucher["code"]) == eur(10000)
    assert again.headers["content-type"].startswith("application/problem+json")


async def test_a_request_still_running_is_409(client, shop, voucher):
    body = redemption(voucher["code"], 1000)
    path = "/api/v1/vouchers/redeem"
    scope = f"apikey:{(await _key_id(shop.eshop))}"
    held = await idempotency.claim(scope, "slow", idempotency.fingerprint("POST", path, _struct(body)), 201)
    assert isinstance(held, idempotency.Claim)
    assert_problem(await client.post(path, headers=with_key(shop.eshop, "slow"), json=body), 409,
                   "request_in_progress")
    # The first copy died: a minute later a retry takes the key over and does the work once.
    clock.set_now(clock.now() + idempotency.TAKEOVER_AFTER + dt.timedelta(seconds=1))
    retried = await client.post(path, headers=with_key(shop.eshop, "slow"), json=body)
    assert retried.status_code == 201
    with pytest.raises(idempotency.ClaimLost):  # the first copy, waking up, can no longer record
        async with db.write_transaction():
            await idempotency.record(held, _struct(body))
    assert await balance(client, shop, voucher["code"]) == eur(9000)


async def test_every_money_moving_call_replays(client, shop, voucher):
    calls = [
        ("/api/v1/vouchers/holds", shop.eshop, redemption(voucher["code"], 3000)),
        ("/api/v1/me/vouchers", shop.seller, {"amount": eur(500)}),
    ]
    await credit(shop.seller_id, 500)
    for path, headers, body in calls:
        first = await client.post(path, headers=with_key(headers, "once"), json=body)
        again = await client.post(path, headers=with_key(headers, "once"), json=body)
        assert first.status_code == 201 and (again.status_code, again.content) == (201, first.content)
    hold_id = (await client.post("/api/v1/vouchers/holds", headers=with_key(shop.eshop, "once"),
                                 json=calls[0][2])).json()["hold_id"]
    capture = f"/api/v1/vouchers/holds/{hold_id}/capture"
    first = await client.post(capture, headers=with_key(shop.eshop, "cap"), json={"amount": eur(1000)})
    again = await client.post(capture, headers=with_key(shop.eshop, "cap"), json={"amount": eur(1000)})
    assert (first.status_code, again.status_code, again.content) == (200, 200, first.content)
    recredit = f"/api/v1/vouchers/{voucher['code']}/recredit"
    first = await client.post(recredit, headers=with_key(shop.service, "rc"), json={"amount": eur(700), "reason": "r"})
    again = await client.post(recredit, headers=with_key(shop.service, "rc"), json={"amount": eur(700), "reason": "r"})
    assert (first.status_code, again.content) == (201, first.content)
    # 10000 - 3000 held + 2000 released + 700 re-credited, once each; one voucher of 500 issued.
    assert await balance(client, shop, voucher["code"]) == eur(9700)
    vouchers = (await client.get("/api/v1/me/vouchers", headers=shop.seller)).json()["items"]
    assert len(vouchers) == 2
    assert (await ledger.check()).violations == []


async def test_void_replays(client, shop, voucher):
    hold_id = (await client.post("/api/v1/vouchers/holds", headers=shop.store,
                                 json=redemption(voucher["code"], 3000))).json()["hold_id"]
    void = f"/api/v1/vouchers/holds/{hold_id}/void"
    first = await client.post(void, headers=with_key(shop.store, "void-1"))
    again = await client.post(void, headers=with_key(shop.store, "void-1"))
    assert (first.status_code, again.content) == (200, first.content)
    assert again.headers["idempotent-replayed"] == "true"


async def test_a_key_must_be_1_to_255_characters(client, shop, voucher):
    for key in ("", "k" * 256):
        response = await client.post("/api/v1/vouchers/redeem", headers=with_key(shop.eshop, key),
                                     json=redemption(voucher["code"], 100))
        assert response.status_code in (400, 422), key
        assert response.headers["content-type"].startswith("application/problem+json")
    assert (await client.post("/api/v1/vouchers/redeem", headers=with_key(shop.eshop, "k" * 255),
                              json=redemption(voucher["code"], 100))).status_code == 201
    assert await balance(client, shop, voucher["code"]) == eur(9900)


async def test_a_rate_limited_request_keeps_its_key_free(client, shop, voucher):
    for _ in range(10):
        await client.post("/api/v1/vouchers/lookup", headers=shop.eshop, json={"code": "AAAA-AAAA-AAAA-AAAA-A"})
    headers = with_key(shop.eshop, "after-the-limit")
    assert_problem(await client.post("/api/v1/vouchers/redeem", headers=headers,
                                     json=redemption(voucher["code"], 100)), 429, "too_many_attempts")
    clock.set_now(clock.now() + dt.timedelta(minutes=11))
    assert (await client.post("/api/v1/vouchers/redeem", headers=headers,
                              json=redemption(voucher["code"], 100))).status_code == 201


async def test_old_keys_are_purged_after_a_day_and_more(client, shop, voucher):
    headers = with_key(shop.eshop, "old")
    await client.post("/api/v1/vouchers/redeem", headers=headers, json=redemption(voucher["code"], 100))
    clock.set_now(clock.now() + dt.timedelta(hours=24))
    assert await idempotency.purge() == 0
    assert (await client.post("/api/v1/vouchers/redeem", headers=headers,
                              json=redemption(voucher["code"], 100))).headers["idempotent-replayed"] == "true"
    clock.set_now(clock.now() + idempotency.KEEP_FOR)
    assert await idempotency.purge() == 1



async def _key_id(headers):
    principal = await accounts.authenticate(headers["Authorization"].removeprefix("Bearer "))
    return principal.api_key_id


def _struct(body):
    return msgspec.convert(body, RedemptionCreate)
