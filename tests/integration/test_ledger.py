"""The ledger's own checks and the `forever ledger` / `forever jobs` commands, on SQLite and PostgreSQL."""

import datetime as dt
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from forever import clock, db
from forever.accounts import service as accounts
from forever.accounts.schemas import AccountCreate, Principal
from forever.money import Money
from forever.vouchers import ledger
from forever.vouchers import service as vouchers
from forever.vouchers.schemas import RedemptionCreate

FOREVER = Path(sys.executable).with_name("forever")


def run(settings, *args, check=True):
    env = {**os.environ, "FOREVER_DATABASE_URL": settings.database_url, "FOREVER_DATA_DIR": str(settings.data_dir)}
    result = subprocess.run([str(FOREVER), *args], env=env, capture_output=True, text=True, timeout=120)
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture
async def books(bound_database):
    """A seller with credit, a voucher, a redemption and an open hold."""
    clock.set_now(dt.datetime(2026, 3, 10, 10, 0))
    seller = await accounts.register(AccountCreate(
        email="seller@example.com", password="Correct-horse-9", first_name="Léa", last_name="Dupont",
        country="FR", birth_date=dt.date(1990, 5, 17)))
    await vouchers.credit_tradein_item(seller.id, "item-1", Money(12000))
    voucher = await vouchers.issue_voucher(seller.id, Money(10000))
    key = await accounts.create_api_key("eshop")
    channel: Principal = await accounts.authenticate(key)
    await vouchers.redeem(channel, RedemptionCreate(code=voucher.code, amount=Money(2500), order_ref="A-1"),
                          "192.0.2.1")
    await vouchers.authorise_payment(Money(1000), "B-1", codes=[voucher.code])
    clock.set_now(None)
    return voucher


async def test_a_sound_ledger_passes(books, bound_database):
    result = await ledger.check()
    assert result.violations == []
    assert (result.transactions, result.entries) == (4, 8)
    out = run(bound_database, "ledger", "check")
    assert "4 transactions, 8 entries" in out.stdout and "ledger ok" in out.stdout


async def test_a_stale_cached_balance_is_a_violation(books, bound_database):
    async with db.write_transaction():
        await db.fetch("UPDATE ledger_account SET balance = balance + 1 WHERE id = {}", f"voucher:{books.id}")
    violations = (await ledger.check()).violations
    assert any(f"voucher:{books.id}: cached balance" in violation for violation in violations)
    result = run(bound_database, "ledger", "check", check=False)
    assert result.returncode == 1
    assert "violation" in result.stderr and "Traceback" not in result.stderr


async def test_an_unbalanced_transaction_is_a_violation(books, bound_database):
    txn = (await db.fetch("SELECT id FROM ledger_transaction WHERE kind = 'redemption'"))[0]["id"]
    async with db.write_transaction():
        await db.fetch("UPDATE ledger_entry SET amount = amount + 5 WHERE txn = {} AND amount < 0", txn)
    violations = (await ledger.check()).violations
    assert any(f"transaction {txn} (redemption)" in violation for violation in violations)
    assert any("running sum" in violation or "entries sum" in violation for violation in violations)
    assert run(bound_database, "ledger", "check", check=False).returncode == 1


async def test_a_negative_balance_and_lost_holds_are_violations(books, bound_database):
    tid = uuid.uuid4()
    async with db.write_transaction():
        await db.fetch("UPDATE voucher_hold SET status = 'voided'")
        await db.fetch("INSERT INTO ledger_transaction (id, kind, amount, currency, created_at, actor, reference) "
                       "VALUES ({}, 'redemption', 99999, 'EUR', {}, 'test', '')", tid, clock.now())
    violations = (await ledger.check()).violations
    assert any("open holds total 0" in violation for violation in violations)
    assert any(f"transaction {tid} (redemption): 0 legs" in violation for violation in violations)


async def test_report_and_jobs_commands(books, bound_database):
    report = run(bound_database, "ledger", "report").stdout
    assert "2026-03" in report
    assert "outstanding seller credit 20.00 EUR; vouchers 65.00 EUR; held 10.00 EUR" in report
    jobs = run(bound_database, "jobs", "run").stdout
    assert "holds_lapsed: 1" in jobs  # the hold was placed in March 2026, long before now
    assert "vouchers_expired: 0" in jobs or "vouchers_expired: 1" in jobs
    assert run(bound_database, "ledger", "check").returncode == 0
