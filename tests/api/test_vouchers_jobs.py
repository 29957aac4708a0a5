"""The jobs around vouchers, on SQLite and PostgreSQL: expiry, reminders by e-mail, the liability report."""

import datetime as dt
import email
from email import policy

import pytest
from test_errors import assert_problem
from voucher_helpers import eur, issue, open_shop, travel

from forever import clock
from forever.jobs import run_jobs
from forever.money import Money
from forever.vouchers import ledger


@pytest.fixture
async def shop(client):
    return await open_shop(client)


def when(text):
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def outbox(settings):
    folder = settings.outbox_dir
    paths = sorted(folder.glob("*.eml")) if folder.exists() else []
    return [email.message_from_bytes(path.read_bytes(), policy=policy.default) for path in paths]


async def test_expiry_moves_what_is_left_to_expired(client, shop):
    voucher = await issue(client, shop, 6000)
    await client.post("/api/v1/vouchers/redeem", headers=shop.eshop,
                      json={"code": voucher["code"], "amount": eur(1000), "order_ref": "A"})
    clock.set_now(when(voucher["expires_at"]) - dt.timedelta(days=2))
    hold = (await client.post("/api/v1/vouchers/holds", headers=shop.eshop,
                              json={"code": voucher["code"], "amount": eur(2000), "order_ref": "B"})).json()
    clock.set_now(when(voucher["expires_at"]) - dt.timedelta(seconds=1))
    assert (await run_jobs())["vouchers_expired"] == 0
    await travel(client, shop, when(voucher["expires_at"]) + dt.timedelta(days=5))
    jobs = await run_jobs()
    assert (jobs["holds_lapsed"], jobs["vouchers_expired"]) == (1, 1)  # the lapsed hold expires with it
    assert (await run_jobs())["vouchers_expired"] == 0
    mine = (await client.get("/api/v1/me/vouchers", headers=shop.seller)).json()["items"][0]
    assert (mine["status"], mine["balance"], mine["held"]) == ("expired", eur(0), eur(0))
    assert_problem(await client.post(f"/api/v1/vouchers/holds/{hold['hold_id']}/capture", headers=shop.eshop),
                   409, "hold_expired")
    report = (await client.get("/api/v1/ledger/report", headers=shop.admin)).json()
    assert report["expired"] == eur(5000) and report["vouchers"] == eur(0) and report["held"] == eur(0)
    assert (await ledger.check()).violations == []


async def test_a_hold_released_after_expiry_expires_at_the_next_run(client, shop):
    voucher = await issue(client, shop, 3000)
    clock.set_now(when(voucher["expires_at"]) - dt.timedelta(days=1))
    hold = (await client.post("/api/v1/vouchers/holds", headers=shop.resale,
                              json={"code": voucher["code"], "amount": eur(3000), "order_ref": "C"})).json()
    clock.set_now(when(voucher["expires_at"]) + dt.timedelta(hours=1))
    assert (await run_jobs())["vouchers_expired"] == 0  # everything is held: nothing to expire yet
    # A hold authorised before expiry may still be captured within its 7 days.
    voided = await client.post(f"/api/v1/vouchers/holds/{hold['hold_id']}/void", headers=shop.resale)
    assert voided.status_code == 200
    assert (await run_jobs())["vouchers_expired"] == 1
    assert (await ledger.liability_report()).expired == Money(3000)
    assert (await ledger.check()).violations == []


async def test_reminders_30_and_7_days_before_expiry_each_once(client, shop, settings):
    voucher = await issue(client, shop, 4200)
    expires = when(voucher["expires_at"])
    clock.set_now(expires - dt.timedelta(days=31))
    assert (await run_jobs())["expiry_reminders_sent"] == 0
    clock.set_now(expires - dt.timedelta(days=30))
    assert (await run_jobs())["expiry_reminders_sent"] == 1
    assert (await run_jobs())["expiry_reminders_sent"] == 0
    clock.set_now(expires - dt.timedelta(days=6))
    assert (await run_jobs())["expiry_reminders_sent"] == 1
    assert (await run_jobs())["expiry_reminders_sent"] == 0
    messages = outbox(settings)
    assert [message["To"] for message in messages] == ["seller@example.com"] * 2
    assert "30 days" in messages[0]["Subject"] and "7 days" in messages[1]["Subject"]
    text = messages[0].get_content()
    assert voucher["code_last4"] in text and "42.00 EUR" in text
    assert voucher["code"] not in text and voucher["code"].replace("-", "") not in text


async def test_spent_vouchers_get_no_reminder(client, shop, settings):
    voucher = await issue(client, shop, 1000)
    await client.post("/api/v1/vouchers/redeem", headers=shop.store,
                      json={"code": voucher["code"], "amount": eur(1000), "order_ref": "T"})
    clock.set_now(when(voucher["expires_at"]) - dt.timedelta(days=3))
    assert (await run_jobs())["expiry_reminders_sent"] == 0
    assert outbox(settings) == []


async def test_the_liability_report_by_month(client, shop):
    first = await issue(client, shop, 5000)
    await travel(client, shop, clock.now() + dt.timedelta(days=31))
    await issue(client, shop, 2000)
    await client.post("/api/v1/vouchers/redeem", headers=shop.eshop,
                      json={"code": first["code"], "amount": eur(1500), "order_ref": "A"})
    await client.post("/api/v1/vouchers/holds", headers=shop.eshop,
                      json={"code": first["code"], "amount": eur(500), "order_ref": "B"})
    response = await client.get("/api/v1/ledger/report", headers=shop.admin)
    assert response.status_code == 200
    report = response.json()
    assert (report["seller_credit"], report["vouchers"], report["held"], report["expired"]) == (
        eur(0), eur(5000), eur(500), eur(0))
    march, april = report["months"]
    assert (march["month"], march["tradein_credited"], march["vouchers_issued"], march["vouchers_at_end"]) == (
        "2026-03", eur(5000), eur(5000), eur(5000))
    assert (april["month"], april["redeemed"], april["vouchers_at_end"], april["held_at_end"]) == (
        "2026-04", eur(1500), eur(5000), eur(500))
    assert_problem(await client.get("/api/v1/ledger/report", headers=shop.service), 404, "not_found")
