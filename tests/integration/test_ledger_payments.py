"""Paying one order with several vouchers (the resale checkout's `authorise_payment`), on SQLite and PostgreSQL."""

import datetime as dt
import uuid

import pytest

from forever import clock
from forever.accounts import service as accounts
from forever.accounts.schemas import AccountCreate
from forever.errors import InvalidInput, NotFound
from forever.money import Money
from forever.vouchers import ledger, model
from forever.vouchers import service as vouchers

T0 = dt.datetime(2026, 3, 10, 10, 0)


@pytest.fixture
async def seller(bound_database):
    clock.set_now(T0)
    account = await accounts.register(AccountCreate(
        email="seller@example.com", password="Correct-horse-9", first_name="Léa", last_name="Dupont",
        country="FR", birth_date=dt.date(1990, 5, 17)))
    yield account.id
    clock.set_now(None)


async def voucher(seller, cents, days_later=0):
    """A voucher of `cents` issued `days_later` days after T0 (so it also expires that much later)."""
    clock.set_now(T0 + dt.timedelta(days=days_later))
    await vouchers.credit_tradein_item(seller, uuid.uuid4().hex, Money(cents))
    return await vouchers.issue_voucher(seller, Money(cents))


async def available(seller, issued):
    """(available, held) cents of a voucher, as its owner sees them."""
    items, _ = await vouchers.list_vouchers(seller, limit=100)
    mine = next(item for item in items if item.id == issued.id)
    return mine.balance.amount, mine.held.amount


async def test_soonest_expiring_first_and_only_what_is_needed(seller):
    late = await voucher(seller, 5000, days_later=20)
    soon = await voucher(seller, 2000, days_later=0)
    middle = await voucher(seller, 4000, days_later=10)
    clock.set_now(T0 + dt.timedelta(days=30))
    holds = await vouchers.authorise_payment(Money(5000), "ORDER-1", codes=[late.code, soon.code, middle.code],
                                             account_id=seller)
    assert [hold.amount for hold in holds] == [Money(2000), Money(3000)]
    assert await available(seller, soon) == (0, 2000)
    assert await available(seller, middle) == (1000, 3000)
    assert await available(seller, late) == (5000, 0)
    for hold in holds:
        await vouchers.capture_hold(model.RESALE_CHECKOUT, hold.hold_id)
    assert await available(seller, middle) == (1000, 0)
    assert (await ledger.check()).violations == []


async def test_without_codes_the_buyers_own_unexpired_vouchers_pay(seller):
    expired = await voucher(seller, 9000, days_later=0)
    mine = await voucher(seller, 3000, days_later=200)
    clock.set_now(T0 + dt.timedelta(days=370))  # the first has expired
    holds = await vouchers.authorise_payment(Money(2500), "ORDER-2", account_id=seller)
    assert [hold.amount for hold in holds] == [Money(2500)]
    assert await available(seller, mine) == (500, 2500)
    assert await available(seller, expired) == (9000, 0)


async def test_vouchers_that_do_not_cover_the_order_pay_what_they_hold(seller):
    one = await voucher(seller, 1000)
    two = await voucher(seller, 1500, days_later=1)
    holds = await vouchers.authorise_payment(Money(10000), "ORDER-3", codes=[one.code, two.code])
    assert sum(hold.amount.amount for hold in holds) == 2500
    with pytest.raises(InvalidInput) as refused:
        await vouchers.authorise_payment(Money(100), "ORDER-4", codes=[one.code], require_full=True)
    assert refused.value.code == "insufficient_balance"


async def test_all_or_nothing(seller):
    good = await voucher(seller, 3000)
    with pytest.raises(NotFound):
        await vouchers.authorise_payment(Money(1000), "ORDER-5", codes=[good.code, "AAAA-AAAA-AAAA-AAAA-A"])
    other = await voucher(seller, 500, days_later=1)
    with pytest.raises(InvalidInput):
        await vouchers.authorise_payment(Money(5000), "ORDER-6", codes=[good.code, other.code], require_full=True)
    assert await available(seller, good) == (3000, 0)
    assert await available(seller, other) == (500, 0)
    assert (await ledger.check()).transactions == 4  # two trade-in credits, two issues: no hold


async def test_the_checkouts_holds_are_its_own(seller):
    paid = await voucher(seller, 3000)
    [hold] = await vouchers.authorise_payment(Money(1000), "ORDER-7", codes=[paid.code])
    with pytest.raises(NotFound):
        await vouchers.capture_hold("apikey:1", hold.hold_id)
    voided = await vouchers.void_hold(model.RESALE_CHECKOUT, hold.hold_id)
    assert voided.status == "voided" and voided.released == Money(1000)
    assert await available(seller, paid) == (3000, 0)
