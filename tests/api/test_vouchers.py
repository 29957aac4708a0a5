"""Vouchers over HTTP, on SQLite and PostgreSQL: issuing, the seller's list, and the channels' look-ups,
redemptions and holds (CONTRACT.md, "Store credit and vouchers")."""

import datetime as dt
import re

import pytest
from support import bearer, sign_up
from test_errors import assert_problem
from voucher_helpers import credit, eur, issue, open_shop

from forever import clock
from forever.vouchers import ledger

CODE = re.compile(r"^[2-9A-HJ-NP-Z]{4}(-[2-9A-HJ-NP-Z]{4}){3}-[2-9A-HJ-NP-Z]$")


@pytest.fixture
async def shop(client):
    return await open_shop(client)


def redemption(code, cents, order_ref="AMI-1001"):
    return {"code": code, "amount": eur(cents), "order_ref": order_ref}


async def look_up(client, headers, code):
    return await client.post("/api/v1/vouchers/lookup", headers=headers, json={"code": code})


async def test_a_voucher_is_issued_from_credit(client, shop):
    await credit(shop.seller_id, 15000)
    response = await client.post("/api/v1/me/vouchers", headers=shop.seller, json={"amount": eur(10000)})
    assert response.status_code == 201, response.text
    voucher = response.json()
    assert {"code", "amount", "balance", "issued_at", "expires_at", "channels"} <= set(voucher)
    assert CODE.match(voucher["code"])
    assert voucher["amount"] == voucher["balance"] == eur(10000)
    assert voucher["channels"] == ["eshop", "resale", "store"]
    issued = dt.datetime.fromisoformat(voucher["issued_at"].replace("Z", "+00:00"))
    expires = dt.datetime.fromisoformat(voucher["expires_at"].replace("Z", "+00:00"))
    assert (expires.astimezone(clock.PARIS).date() - issued.astimezone(clock.PARIS).date()).days == 365
    assert expires.astimezone(clock.PARIS).time() == issued.astimezone(clock.PARIS).time()
    assert (await client.get("/api/v1/me/credit", headers=shop.seller)).json()["balance"] == eur(5000)
    assert_problem(await client.post("/api/v1/me/vouchers", headers=shop.seller, json={"amount": eur(5001)}),
                   422, "insufficient_credit")
    assert (await client.post("/api/v1/me/vouchers", headers=shop.seller,
                              json={"amount": eur(5000)})).status_code == 201
    assert_problem(await client.post("/api/v1/me/vouchers", headers=shop.seller, json={"amount": eur(1)}),
                   422, "insufficient_credit")


async def test_only_sellers_issue_vouchers(client, shop):
    await credit(shop.seller_id, 1000)
    assert (await client.post("/api/v1/me/vouchers", json={"amount": eur(100)})).status_code == 401
    for headers in (shop.eshop, shop.service):
        assert_problem(await client.post("/api/v1/me/vouchers", headers=headers, json={"amount": eur(100)}),
                       404, "not_found")


async def test_the_seller_lists_their_vouchers_with_codes_and_balances(client, shop):
    first = await issue(client, shop, 3000)
    clock.set_now(clock.now() + dt.timedelta(minutes=1))
    second = await issue(client, shop, 7000)
    hold = await client.post("/api/v1/vouchers/holds", headers=shop.resale, json=redemption(second["code"], 2000))
    assert hold.status_code == 201
    await client.post("/api/v1/vouchers/redeem", headers=shop.eshop, json=redemption(first["code"], 3000))
    page = (await client.get("/api/v1/me/vouchers", headers=shop.seller)).json()
    assert [item["code"] for item in page["items"]] == [second["code"], first["code"]]
    newest, oldest = page["items"]
    assert (newest["balance"], newest["held"], newest["status"]) == (eur(5000), eur(2000), "active")
    assert (oldest["balance"], oldest["held"], oldest["status"]) == (eur(0), eur(0), "used")
    assert page["next_cursor"] is None
    one = (await client.get("/api/v1/me/vouchers?limit=1", headers=shop.seller)).json()
    rest = (await client.get(f"/api/v1/me/vouchers?limit=1&cursor={one['next_cursor']}",
                             headers=shop.seller)).json()
    assert [one["items"][0]["id"], rest["items"][0]["id"]] == [second["id"], first["id"]]
    other = await sign_up(client, "other@example.com")
    assert (await client.get("/api/v1/me/vouchers", headers=bearer(other))).json()["items"] == []


async def test_look_up_shows_what_can_be_spent_now(client, shop):
    voucher = await issue(client, shop, 8000)
    response = await look_up(client, shop.store, voucher["code"])
    assert response.status_code == 200
    assert response.json() == {"code_last4": voucher["code_last4"], "balance": eur(8000),
                               "expires_at": voucher["expires_at"], "status": "active"}
    await client.post("/api/v1/vouchers/holds", headers=shop.eshop, json=redemption(voucher["code"], 3000))
    # Typed by hand: lower case, spaces instead of hyphens.
    typed = voucher["code"].lower().replace("-", " ")
    assert (await look_up(client, shop.resale, typed)).json()["balance"] == eur(5000)
    assert voucher["code"] not in (await look_up(client, shop.eshop, voucher["code"])).text


async def test_unknown_and_mistyped_codes_look_alike(client, shop):
    voucher = await issue(client, shop, 1000)
    code = voucher["code"]
    mistyped = code[:-1] + ("2" if code[-1] != "2" else "3")
    for candidate in (mistyped, "AAAA-AAAA-AAAA-AAAA-A", "nonsense", code[:-2]):
        response = await look_up(client, shop.eshop, candidate)
        body = assert_problem(response, 404, "voucher_not_found")
        assert body["detail"] == "No voucher has this code."
        assert_problem(await client.post("/api/v1/vouchers/redeem", headers=shop.eshop,
                                         json=redemption(candidate, 100)), 404, "voucher_not_found")


async def test_who_may_use_the_channel_calls(client, shop):
    voucher = await issue(client, shop, 1000)
    for path, body in (("/api/v1/vouchers/lookup", {"code": voucher["code"]}),
                       ("/api/v1/vouchers/redeem", redemption(voucher["code"], 100)),
                       ("/api/v1/vouchers/holds", redemption(voucher["code"], 100))):
        assert (await client.post(path, json=body)).status_code == 401
        assert_problem(await client.post(path, headers=shop.carrier, json=body), 404, "not_found")
        assert_problem(await client.post(path, headers=shop.seller, json=body), 404, "not_found")
        assert_problem(await client.post(path, headers=shop.corner, json=body), 403, "channel_not_allowed")
    assert (await look_up(client, shop.store, voucher["code"])).json()["balance"] == eur(1000)


async def test_redeem_spends_part_then_the_rest(client, shop):
    voucher = await issue(client, shop, 10000)
    response = await client.post("/api/v1/vouchers/redeem", headers=shop.store,
                                 json=redemption(voucher["code"], 2550, "TILL-77"))
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"redemption_id", "amount", "balance_after"}
    assert body["amount"] == eur(2550) and body["balance_after"] == eur(7450)
    assert_problem(await client.post("/api/v1/vouchers/redeem", headers=shop.eshop,
                                     json=redemption(voucher["code"], 7451)), 422, "insufficient_balance")
    final = await client.post("/api/v1/vouchers/redeem", headers=shop.eshop, json=redemption(voucher["code"], 7450))
    assert final.json()["balance_after"] == eur(0)
    assert (await look_up(client, shop.eshop, voucher["code"])).json()["status"] == "used"
    for bad in ({**redemption(voucher["code"], 1), "order_ref": ""}, {"code": voucher["code"], "amount": eur(1)},
                redemption(voucher["code"], 0)):
        response = await client.post("/api/v1/vouchers/redeem", headers=shop.eshop, json=bad)
        assert response.status_code == 422, bad
    assert (await ledger.check()).violations == []


async def test_an_expired_voucher_is_refused_and_says_no_more(client, shop):
    voucher = await issue(client, shop, 1000)
    clock.set_now(dt.datetime.fromisoformat(voucher["expires_at"].replace("Z", "+00:00")))
    for path in ("/api/v1/vouchers/redeem", "/api/v1/vouchers/holds"):
        body = assert_problem(await client.post(path, headers=shop.eshop, json=redemption(voucher["code"], 100)),
                              422, "voucher_expired")
        assert set(body) == {"type", "title", "status", "detail", "code"}
    assert_problem(await look_up(client, shop.eshop, voucher["code"]), 422, "voucher_expired")


async def test_hold_then_capture_part_releases_the_rest(client, shop):
    voucher = await issue(client, shop, 10000)
    response = await client.post("/api/v1/vouchers/holds", headers=shop.eshop,
                                 json=redemption(voucher["code"], 6000, "AMI-2002"))
    assert response.status_code == 201, response.text
    hold = response.json()
    assert set(hold) == {"hold_id", "amount", "expires_at"}
    assert hold["amount"] == eur(6000)
    assert hold["expires_at"] == "2026-03-17T09:00:00Z"  # 7 days
    assert (await look_up(client, shop.eshop, voucher["code"])).json()["balance"] == eur(4000)
    assert_problem(await client.post("/api/v1/vouchers/redeem", headers=shop.store,
                                     json=redemption(voucher["code"], 4001)), 422, "insufficient_balance")
    capture = f"/api/v1/vouchers/holds/{hold['hold_id']}/capture"
    assert_problem(await client.post(capture, headers=shop.eshop, json={"amount": eur(6001)}), 422,
                   "capture_exceeds_hold")
    response = await client.post(capture, headers=shop.eshop, json={"amount": eur(4500)})
    assert response.status_code == 200, response.text
    assert response.json() == {"hold_id": hold["hold_id"], "status": "captured", "amount": eur(6000),
                               "captured": eur(4500), "released": eur(1500), "order_ref": "AMI-2002",
                               "expires_at": hold["expires_at"]}
    assert (await look_up(client, shop.eshop, voucher["code"])).json()["balance"] == eur(5500)
    assert_problem(await client.post(capture, headers=shop.eshop, json={}), 409, "hold_closed")
    assert_problem(await client.post(f"/api/v1/vouchers/holds/{hold['hold_id']}/void", headers=shop.eshop),
                   409, "hold_closed")
    assert (await ledger.check()).violations == []


async def test_capture_without_an_amount_takes_it_all(client, shop):
    voucher = await issue(client, shop, 3000)
    hold = (await client.post("/api/v1/vouchers/holds", headers=shop.store,
                              json=redemption(voucher["code"], 2000))).json()
    response = await client.post(f"/api/v1/vouchers/holds/{hold['hold_id']}/capture", headers=shop.store)
    assert response.status_code == 200, response.text
    assert response.json()["captured"] == eur(2000) and response.json()["released"] == eur(0)
    assert (await look_up(client, shop.store, voucher["code"])).json()["balance"] == eur(1000)


async def test_void_gives_the_hold_back(client, shop):
    voucher = await issue(client, shop, 3000)
    hold = (await client.post("/api/v1/vouchers/holds", headers=shop.resale,
                              json=redemption(voucher["code"], 2000))).json()
    void = f"/api/v1/vouchers/holds/{hold['hold_id']}/void"
    response = await client.post(void, headers=shop.resale)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "voided" and response.json()["released"] == eur(2000)
    assert (await client.post(void, headers=shop.resale)).json() == response.json()
    assert (await look_up(client, shop.resale, voucher["code"])).json()["balance"] == eur(3000)
    assert_problem(await client.post(f"/api/v1/vouchers/holds/{hold['hold_id']}/capture", headers=shop.resale),
                   409, "hold_closed")
    assert (await ledger.check()).violations == []


async def test_a_hold_belongs_to_the_key_that_made_it(client, shop):
    voucher = await issue(client, shop, 3000)
    hold = (await client.post("/api/v1/vouchers/holds", headers=shop.eshop,
                              json=redemption(voucher["code"], 2000))).json()
    for headers in (shop.resale, shop.store):
        for action in ("capture", "void"):
            assert_problem(await client.post(f"/api/v1/vouchers/holds/{hold['hold_id']}/{action}", headers=headers),
                           404, "hold_not_found")
    assert_problem(await client.post(f"/api/v1/vouchers/holds/{hold['hold_id']}/void", headers=shop.carrier), 404,
                   "not_found")
    for unknown in ("not-a-uuid", "00000000-0000-0000-0000-000000000000"):
        assert_problem(await client.post(f"/api/v1/vouchers/holds/{unknown}/void", headers=shop.eshop), 404,
                       "hold_not_found")
    assert (await look_up(client, shop.eshop, voucher["code"])).json()["balance"] == eur(1000)


async def test_a_hold_lapses_after_7_days(client, shop):
    from forever.jobs import run_jobs

    voucher = await issue(client, shop, 3000)
    hold = (await client.post("/api/v1/vouchers/holds", headers=shop.eshop,
                              json=redemption(voucher["code"], 2000))).json()
    clock.set_now(clock.now() + dt.timedelta(days=7))
    assert_problem(await client.post(f"/api/v1/vouchers/holds/{hold['hold_id']}/capture", headers=shop.eshop),
                   409, "hold_expired")
    assert (await run_jobs())["holds_lapsed"] == 1
    assert (await run_jobs())["holds_lapsed"] == 0
    assert (await look_up(client, shop.eshop, voucher["code"])).json()["balance"] == eur(3000)
    assert_problem(await client.post(f"/api/v1/vouchers/holds/{hold['hold_id']}/capture", headers=shop.eshop),
                   409, "hold_expired")
    voided = await client.post(f"/api/v1/vouchers/holds/{hold['hold_id']}/void", headers=shop.eshop)
    assert voided.status_code == 200 and voided.json()["status"] == "lapsed"
    assert (await ledger.check()).violations == []
