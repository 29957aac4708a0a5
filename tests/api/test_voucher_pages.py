"""The credit page and the boutique till over HTTP, on SQLite and PostgreSQL: a form sent twice moves money once,
and a department-store corner's staff cannot take vouchers."""

from __future__ import annotations

from support import PASSWORD, bearer, hidden, sign_in, signed_in_browser
from voucher_helpers import credit, eur, issue, open_shop

from forever.accounts import service as accounts


async def test_the_voucher_form_sent_twice_issues_one_voucher(client):
    shop = await open_shop(client)
    await credit(shop.seller_id, 10_000)
    async with signed_in_browser(client, "seller@example.com") as browser:
        page = (await browser.get("/credit")).text
        assert "€100" in page
        form = {"amount": "30,50", "form_key": hidden(page, "form_key")}
        first, second = [await browser.post("/credit/vouchers", data=form) for _ in range(2)]
        assert first.status_code == second.status_code == 303
        assert first.headers["location"] == second.headers["location"]
        refused = await browser.post("/credit/vouchers", data={"amount": "70", "form_key": "another"})
        assert refused.status_code == 422 and "Your credit is lower than this amount" in refused.text
    mine = (await client.get("/api/v1/me/vouchers", headers=shop.seller)).json()["items"]
    assert [v["amount"] for v in mine] == [eur(3_050)]
    assert (await client.get("/api/v1/me/credit", headers=shop.seller)).json()["balance"] == eur(6_950)


async def test_a_till_redemption_sent_twice_spends_once(client):
    shop = await open_shop(client)
    voucher = await issue(client, shop, 4_000)
    await accounts.create_staff("till@example.com", PASSWORD, "store_staff", "saint-honore")
    async with signed_in_browser(client, "till@example.com") as browser:
        assert (await browser.get("/signin")).headers["location"] == "/till"
        found = await browser.post("/till/lookup", data={"code": voucher["code"].lower()})
        assert found.status_code == 200 and "€40" in found.text
        form = {name: hidden(found.text, name) for name in ("code", "order_ref", "form_key")}
        assert form["order_ref"].startswith("TILL-saint-honore-")
        receipts = [await browser.post("/till/redeem", data={**form, "amount": "15"}) for _ in range(2)]
        for receipt in receipts:
            assert receipt.status_code == 200
            assert "AMI Saint-Honoré" in receipt.text and "€25" in receipt.text
            assert voucher["code"] not in receipt.text and voucher["code_last4"] in receipt.text
        too_much = await browser.post("/till/redeem", data={**form, "form_key": "second", "amount": "30"})
        assert too_much.status_code == 422 and 'data-code="insufficient_balance"' in too_much.text
    looked_up = await client.post("/api/v1/vouchers/lookup", headers=shop.store, json={"code": voucher["code"]})
    assert looked_up.json()["balance"] == eur(2_500)


async def test_department_store_corner_staff_are_refused_at_the_till(client):
    shop = await open_shop(client)
    voucher = await issue(client, shop, 2_000)
    await accounts.create_staff("corner@example.com", PASSWORD, "store_staff", "galeries")
    async with signed_in_browser(client, "corner@example.com") as browser:
        page = await browser.get("/till")
        assert page.status_code == 200 and 'data-code="channel_not_allowed"' in page.text
        assert 'name="code"' not in page.text
        tried = await browser.post("/till/lookup", data={"code": voucher["code"]})
        assert tried.status_code == 403 and "department-store corners" in tried.text
        spent = await browser.post("/till/redeem", data={"code": voucher["code"], "amount": "5", "form_key": "k"})
        assert spent.status_code == 403
    looked_up = await client.post("/api/v1/vouchers/lookup", headers=shop.store, json={"code": voucher["code"]})
    assert looked_up.json()["balance"] == eur(2_000)


async def test_the_till_and_the_credit_page_are_for_their_people_only(client):
    await open_shop(client)
    await accounts.create_staff("till@example.com", PASSWORD, "store_staff", "saint-honore")
    async with signed_in_browser(client, "seller@example.com") as seller:
        assert (await seller.get("/till")).status_code == 404
    async with signed_in_browser(client, "till@example.com") as staff:
        assert (await staff.get("/credit")).status_code == 404
    staff_token = bearer(await sign_in(client, "till@example.com"))
    assert (await client.post("/api/v1/vouchers/lookup", headers=staff_token, json={"code": "X"})).status_code == 404
