"""PostgreSQL stopped (`pg_ctl stop -m fast`) and started again under a redemption load: while it is away
every request gets a clean 503 problem+json (`database_unavailable`, with Retry-After) and /health says 503;
once it is back the same server process answers again by itself; no acknowledged redemption is lost and none
is made twice."""

from __future__ import annotations

import asyncio
import collections
import time
from dataclasses import dataclass

import httpx
import pytest
from fault_server import FaultServer
from pgcluster import PostgresCluster
from voucher_load import (
    Attempt,
    attempt,
    checked_ledger,
    let_takeover_delay_pass,
    redemptions_by_reference,
    retry,
    send,
    store_with_vouchers,
)

pytestmark = pytest.mark.parametrize("database", ["postgres"], indirect=True)

CLIENTS = 16
OUTAGE_SECONDS = 2.0
PAUSE_BETWEEN_RETRIES = 0.05


@dataclass(frozen=True)
class Answer:
    """One answer a client got: when its request was sent and when the answer came (the test's clock)."""

    sent_at: float
    at: float
    status: int
    code: str | None
    retry_after: str | None
    media_type: str


def answer_of(response: httpx.Response, sent_at: float) -> Answer:
    body = response.json()
    return Answer(sent_at, time.monotonic(), response.status_code, body.get("code"),
                  response.headers.get("Retry-After"), response.headers["content-type"])


class Load:
    """CLIENTS clients redeeming, each retrying a request answered 503 with the same key until it is done,
    and a /health poller, until `stop` is set."""

    def __init__(self, server: FaultServer, channel_key: str, codes: list[str]) -> None:
        self.server, self.channel_key, self.codes = server, channel_key, codes
        self.attempts: list[Attempt] = []
        self.answers: list[Answer] = []
        self.health: list[Answer] = []
        self.in_progress: list[Attempt] = []  # 409: a claim that a request cut off by the outage still holds
        self.stop = asyncio.Event()

    async def client(self, number: int) -> None:
        async with httpx.AsyncClient(base_url=self.server.url, timeout=10,
                                     headers={"Authorization": f"Bearer {self.channel_key}"}) as client:
            sequence = 0
            while not self.stop.is_set():
                sent = attempt(number, sequence, self.codes)
                sequence += 1
                self.attempts.append(sent)
                while not self.stop.is_set():
                    sent_at = time.monotonic()
                    response = await send(client, sent)
                    answer = answer_of(response, sent_at)
                    self.answers.append(answer)
                    sent.status, sent.answer = response.status_code, response.json()
                    if answer.status != 503:
                        break
                    await asyncio.sleep(PAUSE_BETWEEN_RETRIES)
                if answer.status == 409:
                    self.in_progress.append(sent)

    async def poll_health(self) -> None:
        async with httpx.AsyncClient(base_url=self.server.url, timeout=10) as client:
            while not self.stop.is_set():
                sent_at = time.monotonic()
                self.health.append(answer_of(await client.get("/health"), sent_at))
                await asyncio.sleep(0.05)

    def acknowledged_after(self, moment: float) -> int:
        return sum(1 for answer in self.answers if answer.status == 201 and answer.at > moment)


async def wait_for(condition, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_postgres_restart_answers_503_then_recovers_by_itself(server: FaultServer,
                                                                   postgres: PostgresCluster) -> None:
    if postgres.external:
        pytest.skip("the PostgreSQL server of FOREVER_TEST_POSTGRES_URL is not this run's to stop")
    channel_key, codes = await store_with_vouchers()
    server.start()
    load = Load(server, channel_key, codes)
    tasks = [asyncio.create_task(load.client(number)) for number in range(CLIENTS)]
    tasks.append(asyncio.create_task(load.poll_health()))
    try:
        await wait_for(lambda: load.acknowledged_after(0) >= 100, 60)
        stopping = time.monotonic()
        await asyncio.to_thread(postgres.pause, "fast")
        down = time.monotonic()
        await asyncio.sleep(OUTAGE_SECONDS)
        await asyncio.to_thread(postgres.resume)
        up = time.monotonic()
        await wait_for(lambda: load.acknowledged_after(up) >= 100, 60)
    finally:
        load.stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 30)

    assert server.process.poll() is None  # the same process all along: it recovered by itself
    statuses = collections.Counter(answer.status for answer in load.answers)
    assert set(statuses) <= {201, 503, 409}, statuses
    unavailable = [answer for answer in load.answers + load.health if answer.status == 503]
    assert {a.code for a in unavailable} == {"database_unavailable"}
    assert {a.media_type for a in unavailable} == {"application/problem+json"}
    assert all(a.retry_after is not None and int(a.retry_after) >= 1 for a in unavailable)
    assert all(answer.code == "request_in_progress" for answer in load.answers if answer.status == 409)
    # Asked while PostgreSQL was down and answered before it was back: unavailable, every one, or (a client's
    # retry of a request the server is still waiting on the database for) 409 `request_in_progress`; never
    # served. (An answer that merely arrives after the stop may be to a request finished just before it.)
    during = [answer for answer in load.answers if down < answer.sent_at and answer.at < up]
    refused = [answer for answer in during if answer.status == 503]
    assert refused and all(answer.status in (503, 409) for answer in during), [
        answer for answer in during if answer.status not in (503, 409)]
    health_during = [answer for answer in load.health if down < answer.sent_at and answer.at < up]
    assert health_during and all(answer.status == 503 for answer in health_during)
    first_ok = min(answer.at for answer in load.answers if answer.status == 201 and answer.at > up)
    health_ok = min(answer.at for answer in load.health if answer.status == 200 and answer.at > up)

    ledger_after_outage = await checked_ledger()
    ledger = await redemptions_by_reference()
    acknowledged = [sent for sent in load.attempts if sent.status == 201]
    for sent in acknowledged:
        assert ledger.get(sent.key) == [sent.answer["redemption_id"]], sent.key
    # Requests cut off by the outage whose claim is still held, and any left unanswered when the load stopped:
    # retried once the takeover delay has passed, each is redeemed exactly once.
    unfinished = [sent for sent in load.attempts if sent.status != 201]
    aged = await let_takeover_delay_pass()
    retried = await retry(server, channel_key, unfinished)
    assert {response.status_code for response in retried} <= {201}
    ledger = await redemptions_by_reference()
    assert sorted(ledger) == sorted(sent.key for sent in load.attempts)
    assert all(len(ids) == 1 for ids in ledger.values())
    ledger_in_the_end = await checked_ledger()
    print(f"\n[postgresql] pg_ctl stop -m fast under {CLIENTS} redeeming clients: stop took "
          f"{down - stopping:.2f} s, down {up - down:.2f} s; {statuses[201]} redemptions acknowledged, "
          f"{statuses[503]} answered 503 database_unavailable (Retry-After {unavailable[0].retry_after} s), "
          f"{len(health_during)} /health polls 503 while down, 0 other errors, no transport error; first "
          f"redemption {first_ok - up:.2f} s and /health 200 {health_ok - up:.2f} s after PostgreSQL was "
          f"back, same server process; {len(load.in_progress)} requests cut off in the middle (409 "
          f"request_in_progress, {aged} claims taken over after the delay) and {len(unfinished)} unfinished "
          f"retried: each redeemed once; ledger check after the outage: {ledger_after_outage}; in the end: "
          f"{ledger_in_the_end}")
