"""Erasure on request (000_): a preview of what stops it and what would be lost, refused while something is
under way, then done on confirmation with the password: the person's data pseudonymised in every table that held
it, accounting records kept and balanced, sessions revoked, the e-mail address free again."""

import datetime as dt

import pytest
from privacy_helpers import ADDRESS, EMAIL, PERSONAL, deliver, person_who_did_everything, register, rows_mentioning
from support import PASSWORD, bearer, sign_in
from tradein_helpers import mails

from forever import clock, db
from forever.accounts import service as accounts
from forever.vouchers import ledger


@pytest.fixture
async def world(client):
    return await person_who_did_everything(client)


async def erase(client, headers, **body):
    return await client.post("/api/v1/me/erasure", headers=headers,
                             json={"confirm": True, "password": PASSWORD, **body})


async def test_an_order_not_delivered_stops_the_erasure_and_nothing_changes(client, world):
    _, person = world
    preview = (await client.get("/api/v1/me/erasure", headers=person.headers)).json()
    assert preview["can_erase"] is False
    assert [(b["code"], b["reference"]) for b in preview["blockers"]] == [("order_under_way", person.order["id"])]
    refused = await erase(client, person.headers)
    assert refused.status_code == 409 and refused.json()["code"] == "erasure_blocked"
    assert refused.json()["errors"][0]["field"] == "order_under_way"
    assert (await client.get("/api/v1/me", headers=person.headers)).json()["email"] == EMAIL


async def test_a_trade_in_whose_label_is_valid_stops_the_erasure_until_it_lapses(client, world):
    shop, person = world
    await deliver(client, shop, person.order["id"])
    quote = await client.post("/api/v1/quotes", headers=person.headers, json={"items": [
        {"product_ref": "JKT-FW23", "condition": "excellent", "size": "M"}]})
    tradein = await client.post(f"/api/v1/quotes/{quote.json()['id']}/accept", headers=person.headers,
                                json={"refused_items": "donate"})
    assert tradein.status_code == 201, tradein.text
    preview = (await client.get("/api/v1/me/erasure", headers=person.headers)).json()
    assert [b["code"] for b in preview["blockers"]] == ["tradein_under_way"]
    assert (await erase(client, person.headers)).status_code == 409
    ship_by = dt.date.fromisoformat(tradein.json()["parcel"]["ship_by"])
    clock.set_now(dt.datetime.combine(ship_by + dt.timedelta(days=1), dt.time(10)))
    person.headers = bearer(await sign_in(client, EMAIL))  # the token lived 12 hours
    assert (await client.get("/api/v1/me/erasure", headers=person.headers)).json()["can_erase"] is True


async def test_the_preview_tells_what_would_be_lost_and_what_is_kept(client, world):
    shop, person = world
    await deliver(client, shop, person.order["id"])
    preview = (await client.get("/api/v1/me/erasure", headers=person.headers)).json()
    assert preview["can_erase"] is True and preview["blockers"] == []
    credit = (await client.get("/api/v1/me/credit", headers=person.headers)).json()["balance"]
    assert preview["credit"] == credit and credit["amount"] > 0
    vouchers = (await client.get("/api/v1/me/vouchers", headers=person.headers)).json()["items"]
    assert [(v["voucher_id"], v["balance"]) for v in preview["vouchers"]] == [
        (v["id"], v["balance"]) for v in vouchers if v["balance"]["amount"] > 0]
    assert [o["order_id"] for o in preview["returnable_orders"]] == [person.order["id"]]
    assert any("accounting" in line for line in preview["kept"])


async def test_confirmation_and_the_password_are_required(client, world):
    shop, person = world
    await deliver(client, shop, person.order["id"])
    unconfirmed = await erase(client, person.headers, confirm=False)
    assert unconfirmed.status_code == 422 and unconfirmed.json()["code"] == "confirmation_required"
    wrong = await erase(client, person.headers, password="Not-my-password-1")
    assert wrong.status_code == 422 and wrong.json()["code"] == "wrong_password"
    missing = await client.post("/api/v1/me/erasure", headers=person.headers, json={"confirm": True})
    assert missing.status_code in (400, 422)
    assert (await client.get("/api/v1/me", headers=person.headers)).json()["email"] == EMAIL
    for staff in (shop.service, shop.admin, shop.grader):
        assert (await erase(client, staff)).status_code == 404
    assert (await erase(client, {})).status_code == 401


async def test_erasure_leaves_nothing_that_names_the_person_and_keeps_the_accounts_balanced(client, world, settings):
    shop, person = world
    await deliver(client, shop, person.order["id"])
    consent = await client.put("/api/v1/me/consents", headers=person.headers, json={"marketing_email": True})
    assert consent.status_code == 200
    assert any(message["To"] == EMAIL for message in mails(settings))
    assert await rows_mentioning(*PERSONAL)  # the check below can find them
    order_before = (await client.get(f"/api/v1/orders/{person.order['id']}", headers=shop.service)).json()
    balances_before = await db.fetch("SELECT id, balance FROM ledger_account ORDER BY id")

    response = await erase(client, person.headers)
    assert response.status_code == 200, response.text
    done = response.json()
    assert (done["kind"], done["status"], done["channel"]) == ("erasure", "done", "self_service")
    assert done["account_email"].endswith("@erased.invalid")

    assert await rows_mentioning(*PERSONAL) == {}
    assert not any(message["To"] == EMAIL for message in mails(settings))
    assert (await client.get("/api/v1/me", headers=person.headers)).status_code == 401  # sessions revoked
    signing_in = await client.post("/api/v1/auth/login", json={"email": EMAIL, "password": PASSWORD})
    assert signing_in.status_code == 401
    order_after = (await client.get(f"/api/v1/orders/{person.order['id']}", headers=shop.service)).json()
    assert order_after["shipping"]["address"] == {key: "" for key in (*ADDRESS, "line2")}
    assert {key: order_after[key] for key in ("subtotal", "delivery_fee", "total_due", "vouchers_applied", "items")} \
        == {key: order_before[key] for key in ("subtotal", "delivery_fee", "total_due", "vouchers_applied", "items")}
    assert await db.fetch("SELECT id, balance FROM ledger_account ORDER BY id") == balances_before
    assert (await ledger.check()).violations == []
    tradein = await client.get(f"/api/v1/tradeins/{person.tradein_id}", headers=shop.service)
    assert tradein.status_code == 200 and len(tradein.json()["items"]) == 2  # the pieces' records stay
    consents = await db.fetch("SELECT granted, source FROM consent_event ORDER BY id")
    assert [(bool(row["granted"]), row["source"]) for row in consents] == [(True, "self_service"), (False, "erasure")]
    # The address is free again: the same person may come back.
    again = await register(client)
    assert (await client.get("/api/v1/me", headers=again)).json()["email"] == EMAIL


async def test_the_voucher_keeps_working_for_whoever_holds_its_code(client, world):
    shop, person = world
    await deliver(client, shop, person.order["id"])
    extra = await client.post("/api/v1/me/vouchers", headers=person.headers,
                              json={"amount": {"amount": 1000, "currency": "EUR"}})
    assert extra.status_code == 201, extra.text
    assert (await erase(client, person.headers)).status_code == 200
    eshop = bearer(await accounts.create_api_key("eshop"))
    looked_up = await client.post("/api/v1/vouchers/lookup", headers=eshop, json={"code": extra.json()["code"]})
    assert looked_up.status_code == 200 and looked_up.json()["balance"] == {"amount": 1000, "currency": "EUR"}
