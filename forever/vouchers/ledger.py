"""The double-entry ledger: locking accounts, one writer per transaction kind, and the ledger's own checks.

Every business movement is one `ledger_transaction` and two or more `ledger_entry` legs summing to zero,
written inside the caller's `db.write_transaction()` after `lock()`. Bounded accounts (a seller's credit, a
voucher) carry a cached balance, updated in the same transaction, and each of their entries records the balance
after it.
The ledger is append-only: nothing here updates or deletes an entry.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections import defaultdict
from dataclasses import dataclass

from forever import clock, db
from forever.money import Money
from forever.vouchers import model
from forever.vouchers.schemas import LedgerCheck, LiabilityReport, MonthOfLiability
from forever.vouchers.tables import LedgerEntry

Balances = dict[str, int]


@dataclass(frozen=True)
class Posted:
    """A written transaction: its id, and each account's entry id and balance after (None on system accounts)."""

    txn_id: uuid.UUID
    created_at: dt.datetime
    entries: dict[str, tuple[int, int | None]]

    def entry_id(self, account: str) -> int:
        return self.entries[account][0]


async def lock(*accounts: str) -> Balances:
    """Lock bounded accounts for the rest of the transaction and return their balances (absent: no such account).

    On PostgreSQL `SELECT … FOR UPDATE` in primary-key order, so two writers touching the same accounts queue
    instead of deadlocking; on SQLite `write_transaction()` already holds the only writer lock.
    """
    wanted = sorted(set(accounts))
    # Written as SQL: every money move runs it (the query builder was a fifth of a redemption, profiled).
    sql = (f"SELECT id, balance FROM ledger_account WHERE id IN ({', '.join(['{}'] * len(wanted))}) ORDER BY id"
           + ("" if db.is_sqlite() else " FOR UPDATE"))
    return {row["id"]: row["balance"] for row in await db.fetch(sql, *wanted)}


_OPEN_ACCOUNT = """
    INSERT INTO ledger_account (id, kind, balance, currency, created_at) VALUES ({}, {}, {}, {}, {})
    ON CONFLICT (id) DO NOTHING
"""


async def open_account(account: str, now: dt.datetime) -> None:
    """Create an account unless it exists (a concurrent creator is no error); bounded ones start at zero."""
    await db.fetch(_OPEN_ACCOUNT, account, model.account_kind(account), 0 if model.is_bounded(account) else None,
                   model.CURRENCY, now)


_INSERT_TRANSACTION = """
    INSERT INTO ledger_transaction
        (id, kind, amount, currency, created_at, actor, channel, reference, reason, voucher, hold, tradein_item)
    VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})
"""
_UPDATE_BALANCE = "UPDATE ledger_account SET balance = {} WHERE id = {}"


@functools.cache
def _insert_entries(count: int) -> str:
    return ("INSERT INTO ledger_entry (txn, account, amount, balance_after, created_at) VALUES "
            + ", ".join(["({}, {}, {}, {}, {})"] * count) + " RETURNING id, account")


async def _post(kind: str, legs: tuple[model.Leg, ...], balances: Balances, *, actor: str, reference: str = "",
                channel: str | None = None, reason: str | None = None, voucher: uuid.UUID | None = None,
                hold: uuid.UUID | None = None, tradein_item: str | None = None) -> Posted:
    """Write one balanced transaction; `balances` (from `lock`) is updated in place."""
    after = model.apply(balances, legs)  # refuses unbalanced legs and overdrafts: callers check first
    if len({leg.account for leg in legs}) != len(legs):
        raise ValueError("one leg per account")
    now = clock.now()
    for leg in legs:
        if not model.is_bounded(leg.account):
            await open_account(leg.account, now)
    txn_id = uuid.uuid4()
    amount = sum(leg.amount for leg in legs if leg.amount > 0)
    await db.fetch(_INSERT_TRANSACTION, txn_id, kind, amount, model.CURRENCY, now, actor, channel, reference,
                   reason, voucher, hold, tradein_item)
    values: list[object] = []
    for leg in legs:
        values += [txn_id, leg.account, leg.amount, after.get(leg.account), now]
    rows = await db.fetch(_insert_entries(len(legs)), *values)
    for account, balance in after.items():
        await db.fetch(_UPDATE_BALANCE, balance, account)
    balances.update(after)
    return Posted(txn_id, now, {row["account"]: (row["id"], after.get(row["account"])) for row in rows})


# --- one writer per kind --------------------------------------------------------------------------------------


async def post_tradein_credit(balances: Balances, account_id: str, tradein_item_id: str, amount: int, *,
                              actor: str, reference: str) -> Posted:
    return await _post(model.TRADEIN_CREDIT,
                       model.transfer(model.TRADEIN_PAYABLE, model.credit_account(account_id), amount),
                       balances, actor=actor, reference=reference, tradein_item=tradein_item_id)


async def post_voucher_issue(balances: Balances, account_id: str, voucher_id: uuid.UUID, amount: int, *,
                             actor: str, reference: str) -> Posted:
    """Move credit onto a new voucher, opening the voucher's account."""
    account = model.voucher_account(str(voucher_id))
    await open_account(account, clock.now())
    balances[account] = 0
    return await _post(model.VOUCHER_ISSUE, model.transfer(model.credit_account(account_id), account, amount),
                       balances, actor=actor, reference=reference, voucher=voucher_id)


async def post_redemption(balances: Balances, voucher_id: uuid.UUID, channel: str, amount: int, *, actor: str,
                          order_ref: str) -> Posted:
    return await _post(model.REDEMPTION,
                       model.transfer(model.voucher_account(str(voucher_id)), model.redemptions_account(channel),
                                      amount),
                       balances, actor=actor, reference=order_ref, channel=channel, voucher=voucher_id)


async def post_hold(balances: Balances, voucher_id: uuid.UUID, hold_id: uuid.UUID, channel: str, amount: int, *,
                    actor: str, order_ref: str) -> Posted:
    return await _post(model.HOLD, model.transfer(model.voucher_account(str(voucher_id)), model.HOLDS, amount),
                       balances, actor=actor, reference=order_ref, channel=channel, voucher=voucher_id,
                       hold=hold_id)


async def post_hold_capture(balances: Balances, voucher_id: uuid.UUID, hold_id: uuid.UUID, channel: str,
                            amount: int, *, actor: str, order_ref: str) -> Posted:
    return await _post(model.HOLD_CAPTURE,
                       model.transfer(model.HOLDS, model.redemptions_account(channel), amount), balances,
                       actor=actor, reference=order_ref, channel=channel, voucher=voucher_id, hold=hold_id)


async def post_hold_release(balances: Balances, voucher_id: uuid.UUID, hold_id: uuid.UUID, channel: str,
                            amount: int, *, actor: str, order_ref: str, reason: str) -> Posted:
    """Give held money back to its voucher (void, the uncaptured rest, or a lapse: `reason`)."""
    return await _post(model.HOLD_RELEASE, model.transfer(model.HOLDS, model.voucher_account(str(voucher_id)),
                                                          amount),
                       balances, actor=actor, reference=order_ref, channel=channel, reason=reason,
                       voucher=voucher_id, hold=hold_id)


async def post_expiry(balances: Balances, voucher_id: uuid.UUID, amount: int, *, actor: str,
                      reference: str) -> Posted:
    return await _post(model.EXPIRY, model.transfer(model.voucher_account(str(voucher_id)), model.EXPIRED_SINK,
                                                    amount),
                       balances, actor=actor, reference=reference, voucher=voucher_id)


async def post_recredit(balances: Balances, destination: str, voucher_id: uuid.UUID, amount: int, *, actor: str,
                        reason: str, reference: str) -> Posted:
    """Customer service's re-credit, onto the voucher or the seller's credit (`destination`)."""
    return await _post(model.RECREDIT, model.transfer(model.RECREDIT_SOURCE, destination, amount), balances,
                       actor=actor, reason=reason, reference=reference, voucher=voucher_id)


# --- checks and reports ---------------------------------------------------------------------------------------


async def scan(sql: str, *args: object) -> list[dict]:
    """A read over many rows, through Piccolo's engine: off the event loop thread on SQLite, unlike
    `db.fetch`'s in-place reads (meant for indexed look-ups)."""
    return await LedgerEntry.raw(sql, *args)


_UNBALANCED = """
    SELECT t.id, t.kind, COALESCE(SUM(e.amount), 0) AS total, COUNT(e.id) AS legs
    FROM ledger_transaction t LEFT JOIN ledger_entry e ON e.txn = t.id
    GROUP BY t.id, t.kind
    HAVING COALESCE(SUM(e.amount), 0) <> 0 OR COUNT(e.id) < 2
"""
_STALE_BALANCES = """
    SELECT a.id, a.balance, COALESCE(SUM(e.amount), 0) AS total
    FROM ledger_account a LEFT JOIN ledger_entry e ON e.account = a.id
    WHERE a.balance IS NOT NULL
    GROUP BY a.id, a.balance
    HAVING a.balance <> COALESCE(SUM(e.amount), 0) OR a.balance < 0
"""
_BROKEN_RUNNING_BALANCES = """
    SELECT id, account, balance_after, running FROM (
        SELECT e.id, e.account, e.balance_after,
               SUM(e.amount) OVER (PARTITION BY e.account ORDER BY e.id) AS running
        FROM ledger_entry e JOIN ledger_account a ON a.id = e.account
        WHERE a.balance IS NOT NULL
    ) AS entries
    WHERE balance_after IS NULL OR balance_after <> running OR balance_after < 0
"""
_SYSTEM_TOTALS = """
    SELECT e.account, SUM(e.amount) AS total
    FROM ledger_entry e JOIN ledger_account a ON a.id = e.account
    WHERE a.balance IS NULL
    GROUP BY e.account
"""
_OPEN_HOLDS = "SELECT COALESCE(SUM(amount), 0) AS total FROM voucher_hold WHERE status = 'open'"
_COUNTS = """
    SELECT (SELECT COUNT(*) FROM ledger_transaction) AS transactions,
           (SELECT COUNT(*) FROM ledger_entry) AS entries,
           (SELECT COUNT(*) FROM ledger_account) AS accounts
"""
# Sources only ever give, sinks only ever receive.
_SOURCES = (model.TRADEIN_PAYABLE, model.RECREDIT_SOURCE)


async def check() -> LedgerCheck:
    """Verify the ledger's invariants: every transaction balances (two legs or more), no bounded account is or
    ever was below zero, each cached balance and each `balance_after` equals the sum of the entries so far, the
    holds account equals the open holds, sources never receive and sinks never give."""
    violations = [f"transaction {row['id']} ({row['kind']}): {row['legs']} legs summing to {row['total']}"
                  for row in await scan(_UNBALANCED)]
    violations += [f"account {row['id']}: cached balance {row['balance']}, entries sum to {row['total']}"
                   for row in await scan(_STALE_BALANCES)]
    violations += [f"entry {row['id']} on {row['account']}: balance_after {row['balance_after']}, "
                   f"running sum {row['running']}" for row in await scan(_BROKEN_RUNNING_BALANCES)]
    system = {row["account"]: row["total"] for row in await scan(_SYSTEM_TOTALS)}
    held = (await scan(_OPEN_HOLDS))[0]["total"]
    if system.get(model.HOLDS, 0) != held:
        violations.append(f"account {model.HOLDS}: {system.get(model.HOLDS, 0)}, open holds total {held}")
    for account, total in sorted(system.items()):
        if (total > 0) if account in _SOURCES else (total < 0):
            violations.append(f"account {account}: total {total} has the wrong sign")
    counts = (await scan(_COUNTS))[0]
    return LedgerCheck(transactions=counts["transactions"], entries=counts["entries"],
                       accounts=counts["accounts"], violations=violations)


_MOVEMENTS = """
    SELECT t.kind, t.created_at, e.account, e.amount
    FROM ledger_entry e JOIN ledger_transaction t ON t.id = e.txn
    ORDER BY e.id
"""
_FLOW_OF_KIND = {
    model.TRADEIN_CREDIT: "tradein_credited", model.VOUCHER_ISSUE: "vouchers_issued",
    model.REDEMPTION: "redeemed", model.HOLD_CAPTURE: "redeemed", model.EXPIRY: "expired",
    model.RECREDIT: "recredited",
}


def _liability(account: str) -> str | None:
    if account == model.HOLDS:
        return "held"
    return {model.CREDIT_ACCOUNT: "seller_credit", model.VOUCHER_ACCOUNT: "vouchers"}.get(
        model.account_kind(account))


async def liability_report() -> LiabilityReport:
    """What is owed (seller credit, voucher balances, held amounts) and what expired, in total and by month.

    Reads every entry once: fine for a monthly report at this scale; a larger ledger would aggregate in SQL by
    month (PostgreSQL's and SQLite's date functions differ).
    """
    flows: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    changes: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in await scan(_MOVEMENTS):
        created = row["created_at"]
        if isinstance(created, str):  # SQLite: a computed row may come back as text
            created = dt.datetime.fromisoformat(created)
        month = created.astimezone(clock.PARIS).strftime("%Y-%m")
        liability = _liability(row["account"])
        if liability:
            changes[month][liability] += row["amount"]
        flow = _FLOW_OF_KIND.get(row["kind"])
        if flow and row["amount"] > 0:  # a transaction's positive legs are its amount
            flows[month][flow] += row["amount"]
    months = []
    running: dict[str, int] = defaultdict(int)
    for month in sorted(set(flows) | set(changes)):
        for liability, change in changes[month].items():
            running[liability] += change
        months.append(MonthOfLiability(
            month=month, **{name: _eur(flows[month][name]) for name in (
                "tradein_credited", "vouchers_issued", "redeemed", "expired", "recredited")},
            seller_credit_at_end=_eur(running["seller_credit"]), vouchers_at_end=_eur(running["vouchers"]),
            held_at_end=_eur(running["held"]),
        ))
    expired = sum(flows[month]["expired"] for month in flows)
    return LiabilityReport(seller_credit=_eur(running["seller_credit"]), vouchers=_eur(running["vouchers"]),
                           held=_eur(running["held"]), expired=_eur(expired), months=months)


_TRANSACTIONS_BY_KIND = """
    SELECT kind, COUNT(*) AS transactions, COALESCE(SUM(amount), 0) AS amount
    FROM ledger_transaction GROUP BY kind
"""
_BALANCES_BY_KIND = """
    SELECT kind, COALESCE(SUM(balance), 0) AS balance
    FROM ledger_account WHERE balance IS NOT NULL GROUP BY kind
"""


@dataclass(frozen=True)
class Totals:
    """Since the ledger began, by transaction kind: how many and how much (cents); and what is owed now (cents)."""

    transactions: dict[str, int]
    amounts: dict[str, int]
    seller_credit: int
    vouchers: int
    held: int


async def totals() -> Totals:
    """The ledger's running totals in three aggregates, cheap enough to read at every scrape of /metrics (the
    cached balances of bounded accounts stand in for their entries)."""
    moved = await scan(_TRANSACTIONS_BY_KIND)
    owed = {row["kind"]: row["balance"] for row in await scan(_BALANCES_BY_KIND)}
    return Totals(transactions={row["kind"]: row["transactions"] for row in moved},
                  amounts={row["kind"]: row["amount"] for row in moved},
                  seller_credit=owed.get(model.CREDIT_ACCOUNT, 0), vouchers=owed.get(model.VOUCHER_ACCOUNT, 0),
                  held=(await scan(_OPEN_HOLDS))[0]["total"])


def _eur(cents: int) -> Money:
    return Money(cents, model.CURRENCY)
