"""`kill -9` of the server while 64 clients redeem vouchers with Idempotency-Keys, then a restart: every
acknowledged redemption is in the ledger, nothing is half-written, balances are what was issued minus what was
redeemed, and retrying the requests that got no answer (same key, same body) redeems each exactly once."""

from __future__ import annotations

import asyncio
import collections
import time

import httpx
from fault_server import FaultServer, engine_name
from voucher_load import (
    VOUCHER_CENTS,
    VOUCHERS,
    Attempt,
    attempt,
    check_ledger,
    let_takeover_delay_pass,
    redemptions_by_reference,
    retry,
    send,
    store_with_vouchers,
    voucher_balances,
)

CLIENTS = 64
KILL_AFTER = 300  # acknowledged redemptions before the kill


async def redeem_until_killed(server: FaultServer, channel_key: str, codes: list[str]) -> list[Attempt]:
    """CLIENTS clients redeem EUR 0.01 at a time until the server is killed after KILL_AFTER answers."""
    attempts: list[Attempt] = []
    acknowledged = collections.Counter[bool]()
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
                acknowledged[sent.status == 201] += 1
                if acknowledged[True] >= KILL_AFTER:
                    answered.set()

    clients = [asyncio.create_task(client_loop(number)) for number in range(CLIENTS)]
    await asyncio.wait_for(answered.wait(), 60)
    server.kill()
    await asyncio.wait_for(asyncio.gather(*clients), 30)
    return attempts


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
    aged = await let_takeover_delay_pass()
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
