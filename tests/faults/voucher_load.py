"""Voucher redemptions as the fault tests drive them: a boutique's key and a few vouchers, requests whose
Idempotency-Key is also their order reference (so the ledger says which request each redemption came from),
and what the ledger holds afterwards."""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import uuid
from dataclasses import dataclass

import httpx
from fault_server import FaultServer

from forever import clock, db
from forever.accounts import service as accounts
from forever.accounts.schemas import AccountCreate
from forever.idempotency import service as idempotency
from forever.money import Money
from forever.vouchers import ledger
from forever.vouchers import model as ledger_model
from forever.vouchers import service as vouchers

VOUCHERS = 4
VOUCHER_CENTS = 5_000
REDEEM = "/api/v1/vouchers/redeem"
RETRIES_AT_ONCE = 64


@dataclass
class Attempt:
    """One redemption request (EUR 0.01) and the last answer the client saw to it (none: no answer)."""

    key: str
    body: dict
    status: int | None = None
    answer: dict | None = None


async def store_with_vouchers() -> tuple[str, list[str]]:
    """A boutique's channel key and VOUCHERS vouchers of a seller, made through the services."""
    await accounts.add_store("saint-honore", "AMI Saint-Honoré", "FR", "boutique")
    seller = await accounts.register(AccountCreate(
        email="voucher.seller@example.com", password="Correct-horse-9", first_name="Léa", last_name="Dupont",
        country="FR", birth_date=dt.date(1990, 5, 17)))
    await vouchers.credit_tradein_item(seller.id, "fault-item", Money(VOUCHERS * VOUCHER_CENTS))
    codes = [(await vouchers.issue_voucher(seller.id, Money(VOUCHER_CENTS))).code for _ in range(VOUCHERS)]
    return await accounts.create_api_key("store", "saint-honore"), codes


def attempt(client_number: int, sequence: int, codes: list[str]) -> Attempt:
    key = f"fault-{client_number}-{sequence}-{uuid.uuid4().hex[:8]}"
    return Attempt(key, {"code": codes[(client_number + sequence) % len(codes)],
                         "amount": {"amount": 1, "currency": "EUR"}, "order_ref": key})


async def send(client: httpx.AsyncClient, sent: Attempt) -> httpx.Response:
    return await client.post(REDEEM, json=sent.body, headers={"Idempotency-Key": sent.key})


async def redemptions_by_reference() -> dict[str, list[str]]:
    """The ids of the redemptions in the ledger, by order reference (the key of the request)."""
    rows = await db.fetch("SELECT id, reference FROM ledger_transaction WHERE kind = {}",
                          ledger_model.REDEMPTION)
    found: dict[str, list[str]] = collections.defaultdict(list)
    for row in rows:
        found[row["reference"]].append(str(row["id"]))
    return found


async def voucher_balances() -> dict[str, tuple[int, int]]:
    """Each voucher's cached balance, and what was issued onto it minus what was redeemed from it."""
    cached = await db.fetch("SELECT id, balance FROM ledger_account WHERE kind = {}",
                            ledger_model.VOUCHER_ACCOUNT)
    moved = await db.fetch("SELECT voucher, kind, SUM(amount) AS total FROM ledger_transaction "
                           "WHERE voucher IS NOT NULL GROUP BY voucher, kind")
    expected: dict[str, int] = collections.defaultdict(int)
    for row in moved:
        sign = {ledger_model.VOUCHER_ISSUE: 1, ledger_model.REDEMPTION: -1}[row["kind"]]
        expected[ledger_model.voucher_account(str(row["voucher"]))] += sign * row["total"]
    return {row["id"]: (row["balance"], expected[row["id"]]) for row in cached}


async def retry(server: FaultServer, channel_key: str, attempts: list[Attempt]) -> list[httpx.Response]:
    """The same requests again, same keys and bodies, RETRIES_AT_ONCE at a time."""
    limits = httpx.Limits(max_connections=RETRIES_AT_ONCE)
    async with httpx.AsyncClient(base_url=server.url, timeout=10, limits=limits,
                                 headers={"Authorization": f"Bearer {channel_key}"}) as client:
        return list(await asyncio.gather(*(send(client, sent) for sent in attempts)))


async def let_takeover_delay_pass() -> int:
    """Date back the claims still "in progress" by the takeover delay (60 s), as if the test had waited that
    long: only requests that died (with their server, or their database) still hold them. Returns how many."""
    long_ago = clock.now() - idempotency.TAKEOVER_AFTER - dt.timedelta(seconds=1)
    async with db.write_transaction():
        aged = await db.fetch("UPDATE idempotency_key SET claimed_at = {} WHERE status = {} RETURNING id",
                              long_ago, idempotency.IN_PROGRESS)
    return len(aged)


async def checked_ledger() -> str:
    """The ledger's invariants (forever.vouchers.ledger.check) must hold; its counts, on one line."""
    result = await ledger.check()
    assert not result.violations, result.violations
    return f"{result.transactions} transactions, {result.entries} entries: ok"


def checked_by_cli(server: FaultServer) -> str:
    """`forever ledger check` must exit 0; its report, on one line."""
    checked = server.cli("ledger", "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    return " ".join(checked.stdout.split())
