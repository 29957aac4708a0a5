"""`kill -9` of the server while 64 clients redeem vouchers with Idempotency-Keys, then a restart: every
acknowledged redemption is in the ledger, nothing is half-written, balances are what was issued minus what was
redeemed, and retrying the requests that got no answer (same key, same body) redeems each exactly once."""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import time
import uuid
from dataclasses import dataclass

import httpx
from fault_server import FaultServer, engine_name

from forever import clock, db
from forever.accounts import service as accounts
from forever.accounts.schemas import AccountCreate
from forever.idempotency import service as idempotency
from forever.money import Money
from forever.vouchers import model as ledger_model
from forever.vouchers import service as vouchers

CLIENTS = 64
VOUCHERS = 4
VOUCHER_CENTS = 5_000
KILL_AFTER = 300  # acknowledged redemptions before the kill
REDEEM = "/api/v1/vouchers/redeem"


@dataclass
class Attempt:
    """One redemption request and what the client saw of it (no status: the server died under it)."""

    key: str
    body: dict
    status: int | None = None
    answer: dict | None = None


async def store_with_vouchers() -> tuple[str, list[str]]:
    """A boutique's channel key and VOUCHERS vouchers of a seller, made through the services."""
    await accounts.add_store("saint-honore", "AMI Saint-Honoré", "FR", "boutique")
    seller = await accounts.register(AccountCreate(
        email="seller@example.com", password="Correct-horse-9", first_name="Léa", last_name="Dupont",
        country="FR", birth_date=dt.date(1990, 5, 17)))
    await vouchers.credit_tradein_item(seller.id, "fault-item", Money(VOUCHERS * VOUCHER_CENTS))
    codes = [(await vouchers.issue_voucher(seller.id, Money(VOUCHER_CENTS))).code for _ in range(VOUCHERS)]
    return await accounts.create_api_key("store", "saint-honore"), codes


def attempt(client_number: int, sequence: int, codes: list[str]) -> Attempt:
    key = f"fault-{client_number}-{sequence}-{uuid.uuid4().hex[:8]}"
    # The order reference is the key, so the ledger says which request each redemption came from.
    return Attempt(key, {"code": codes[(client_number + sequence) % len(codes)],
                         "amount": {"amount": 1, "currency": "EUR"}, "order_ref": key})


async def send(client: httpx.AsyncClient, sent: Attempt) -> httpx.Response:
    return await client.post(REDEEM, json=sent.body, headers={"Idempotency-Key": sent.key})


async def redeem_until_killed(server: FaultServer, channel_key: str, codes: list[str]) -> list[Attempt]:
    """CLIENTS clients redeem EUR 0.01 at a time until the server is killed after KILL_AFTER answers."""
    attempts: list[Attempt] = []
    answered = asyncio.Event()

    async def client_loop(number: int) -> None:
        async with httpx.AsyncClient(base_url=server.url, timeout=10,
                                     headers={"Authorization": f"Bearer {channel_key}"}) as client:
            for sequence in range(10_000):
                sent = attempt(number, sequence, codes)
                attempts.append(sent)
                try:
                    response = await send(client, sent)
                except httpx.TransportError:
                    return  # killed: this one, and anything after it, got no answer
                sent.status, sent.answer = response.status_code, response.json()
                if sum(a.status == 201 for a in attempts) >= KILL_AFTER:
                    answered.set()

    clients = [asyncio.create_task(client_loop(number)) for number in range(CLIENTS)]
    await asyncio.wait_for(answered.wait(), 60)
    server.kill()
    await asyncio.wait_for(asyncio.gather(*clients), 30)
    return attempts


async def redemptions_by_reference() -> dict[str, list[str]]:
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
    """The same requests again, same keys and bodies, CLIENTS at a time."""
    limits = httpx.Limits(max_connections=CLIENTS)
    async with httpx.AsyncClient(base_url=server.url, timeout=10, limits=limits,
                                 headers={"Authorization": f"Bearer {channel_key}"}) as client:
        return list(await asyncio.gather(*(send(client, sent) for sent in attempts)))


async def age_claims_of_dead_process() -> int:
    """Let the takeover delay pass for claims still "in progress": only the killed process held them."""
    long_ago = clock.now() - idempotency.TAKEOVER_AFTER - dt.timedelta(seconds=1)
    async with db.write_transaction():
        aged = await db.fetch("UPDATE idempotency_key SET claimed_at = {} WHERE status = {} RETURNING id",
                              long_ago, idempotency.IN_PROGRESS)
    return len(aged)


def check_ledger(server: FaultServer) -> str:
    checked = server.cli("ledger", "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    return " ".join(checked.stdout.split())


async def test_kill_9_during_redemption_load_loses_and_doubles_nothing(server: FaultServer) -> None:
    channel_key, codes = await store_with_vouchers()
    server.start()
    started = time.monotonic()
    attempts = await redeem_until_killed(server, channel_key, codes)
    load_seconds = time.monotonic() - started
    answered = [a for a in attempts if a.status is not None]
    acknowledged = [a for a in answered if a.status == 201]
    unanswered = [a for a in attempts if a.status is None]
    # No error before the kill.
    assert answered == acknowledged, collections.Counter(a.status for a in answered)

    restart_seconds = server.start()
    first_check = check_ledger(server)
    ledger = await redemptions_by_reference()
    for sent in acknowledged:  # every acknowledged redemption is there, under its own request
        assert ledger.get(sent.key) == [sent.answer["redemption_id"]], sent.key
    assert all(len(ids) == 1 for ids in ledger.values())
    committed_unanswered = [a for a in unanswered if a.key in ledger]
    assert set(ledger) == {a.key for a in acknowledged + committed_unanswered}
    for account, (cached, issued_minus_redeemed) in (await voucher_balances()).items():
        assert cached == issued_minus_redeemed, account
    assert sum(cached for cached, _ in (await voucher_balances()).values()) == \
        VOUCHERS * VOUCHER_CENTS - len(ledger)

    # Retried at once: a request that was done answers as it did; one the dead process had claimed is
    # "in progress" (409) until the takeover delay passes; one never claimed is done now.
    first = await retry(server, channel_key, unanswered)
    statuses = collections.Counter(response.status_code for response in first)
    for sent, response in zip(unanswered, first, strict=True):
        if sent.key in ledger:
            assert response.status_code == 201 and response.headers.get("Idempotent-Replayed") == "true"
            assert response.json()["redemption_id"] == ledger[sent.key][0]
        else:
            assert response.status_code in (201, 409), response.text
            assert response.status_code == 201 or response.json()["code"] == "request_in_progress"
    aged = await age_claims_of_dead_process()
    assert aged == statuses[409]
    second = await retry(server, channel_key, unanswered)
    assert {response.status_code for response in second} == {201}
    replays = await retry(server, channel_key, acknowledged)
    for sent, response in zip(acknowledged, replays, strict=True):
        assert response.status_code == 201 and response.json() == sent.answer

    ledger = await redemptions_by_reference()
    assert sorted(ledger) == sorted(a.key for a in attempts)  # every request redeemed, each exactly once
    assert all(len(ids) == 1 for ids in ledger.values())
    for sent, response in zip(unanswered, second, strict=True):
        assert ledger[sent.key] == [response.json()["redemption_id"]]
    assert sum(cached for cached, _ in (await voucher_balances()).values()) == \
        VOUCHERS * VOUCHER_CENTS - len(attempts)
    last_check = check_ledger(server)
    print(f"\n[{engine_name(server.settings)}] kill -9 during {CLIENTS}-client redemptions: "
          f"{len(attempts)} requests in {load_seconds:.2f} s, {len(acknowledged)} acknowledged (all in the "
          f"ledger), "
          f"{len(unanswered)} unanswered: {len(committed_unanswered)} committed before the kill (replayed on "
          f"retry), {statuses[409]} claimed by the dead process (409 request_in_progress, then taken over), "
          f"{len(unanswered) - len(committed_unanswered) - statuses[409]} redeemed on first retry; "
          f"restart {restart_seconds:.2f} s; ledger check after restart: {first_check}; after retries: "
          f"{last_check}")
