"""Random walks over store credit and vouchers — credit, issue, redeem, hold, capture, void, re-credit, time
passing, the jobs, and retries under the same Idempotency-Key — checked step by step against a plain
in-memory model, over HTTP, on SQLite and PostgreSQL.

pytest-asyncio does not drive Hypothesis' state machines, so the test owns an event loop: the app runs its
lifespan on it and every step runs its requests with `run_until_complete`. All examples of one test share its
database; each starts with a new seller, and the ledger's invariants are checked over everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from forever import clock
from forever.accounts import service as accounts
from forever.app import create_app
from forever.jobs import run_jobs
from forever.money import Money
from forever.settings import Settings, use_settings
from forever.vouchers import ledger
from forever.vouchers import service as vouchers

T0 = dt.datetime(2026, 3, 10, 10, 0, tzinfo=clock.PARIS)
PASSWORD = "Correct-horse-9"
STEPS = [dt.timedelta(hours=1), dt.timedelta(days=3), dt.timedelta(days=8), dt.timedelta(days=100),
         dt.timedelta(days=200)]


@contextlib.asynccontextmanager
async def serving(app_settings: Settings):
    app = create_app(app_settings)
    started, stopping = asyncio.Event(), asyncio.Event()

    async def lifespan() -> None:
        async with app.lifespan():
            started.set()
            await stopping.wait()

    task = asyncio.create_task(lifespan())
    await started.wait()
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 40000))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client
    finally:
        stopping.set()
        await task


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def eur(cents: int) -> dict[str, Any]:
    return {"amount": cents, "currency": "EUR"}


@dataclass
class ModelVoucher:
    code: str
    balance: int
    expires_at: dt.datetime
    spent: int = 0
    recredited: int = 0


@dataclass
class ModelHold:
    code: str
    amount: int
    key: int
    expires_at: dt.datetime
    status: str = "open"


class VoucherWalk(RuleBasedStateMachine):
    """One seller's vouchers, as the channels and customer service use them."""

    loop: asyncio.AbstractEventLoop
    client: httpx.AsyncClient
    keys: list[dict[str, str]]

    vouchers = Bundle("vouchers")
    holds = Bundle("holds")

    def __init__(self) -> None:
        super().__init__()
        self.credit = 0
        self.model: dict[str, ModelVoucher] = {}
        self.model_holds: dict[str, ModelHold] = {}
        self.last_request: tuple[dt.datetime, str, str, str, Any, httpx.Response] | None = None

    # --- plumbing -------------------------------------------------------------------------------------------

    def run(self, coroutine: Any) -> Any:
        return self.loop.run_until_complete(coroutine)

    def headers(self, caller: str) -> dict[str, str]:
        """The current credentials of "seller", "service" or channel key "0", "1", "2"."""
        return {"seller": self.seller, "service": self.service}.get(caller) or self.keys[int(caller)]

    def post(self, path: str, caller: str, body: Any = None, key: str | None = None) -> httpx.Response:
        """A money-moving POST under an Idempotency-Key (a fresh one unless given), remembered for `retry`."""
        key = key or uuid.uuid4().hex
        response = self.run(self.client.post(path, headers={**self.headers(caller), "Idempotency-Key": key},
                                             json=body))
        self.last_request = (self.now, path, caller, key, body, response)
        return response

    def sign_in(self) -> None:
        async def tokens() -> tuple[str, str]:
            result = []
            for email in (self.email, "service@example.com"):
                response = await self.client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
                result.append(response.json()["token"])
            return result[0], result[1]

        seller, service = self.run(tokens())
        self.seller, self.service = bearer(seller), bearer(service)

    def expired(self, voucher: ModelVoucher) -> bool:
        return self.now >= voucher.expires_at

    # --- rules ----------------------------------------------------------------------------------------------

    @initialize()
    def open_account(self) -> None:
        self.now = T0
        clock.set_now(self.now)
        self.email = f"seller-{uuid.uuid4().hex[:12]}@example.com"
        response = self.run(self.client.post("/api/v1/accounts", json={
            "email": self.email, "password": PASSWORD, "first_name": "Léa", "last_name": "Dupont", "country": "FR",
            "birth_date": "1990-05-17"}))
        assert response.status_code == 201, response.text
        self.seller_id = response.json()["id"]
        self.sign_in()

    @rule(cents=st.integers(1, 20000))
    def tradein_credit(self, cents: int) -> None:
        self.run(vouchers.credit_tradein_item(self.seller_id, uuid.uuid4().hex, Money(cents)))
        self.credit += cents

    @rule(target=vouchers, cents=st.integers(1, 15000))
    def issue(self, cents: int) -> Any:
        response = self.post("/api/v1/me/vouchers", "seller", {"amount": eur(cents)})
        if cents > self.credit:
            assert (response.status_code, response.json()["code"]) == (422, "insufficient_credit")
            return None
        assert response.status_code == 201, response.text
        body = response.json()
        self.credit -= cents
        self.model[body["code"]] = ModelVoucher(body["code"], cents, dt.datetime.fromisoformat(body["expires_at"]))
        return body["code"]

    @rule(code=vouchers, cents=st.integers(1, 8000), key=st.integers(0, 2))
    def redeem(self, code: str | None, cents: int, key: int) -> None:
        if code is None:
            return
        voucher = self.model[code]
        response = self.post("/api/v1/vouchers/redeem", str(key),
                             {"code": code, "amount": eur(cents), "order_ref": "R"})
        if self.expired(voucher):
            assert (response.status_code, response.json()["code"]) == (422, "voucher_expired")
        elif cents > voucher.balance:
            assert (response.status_code, response.json()["code"]) == (422, "insufficient_balance")
        else:
            assert response.status_code == 201, response.text
            voucher.balance -= cents
            voucher.spent += cents
            assert response.json()["balance_after"] == eur(voucher.balance)

    @rule(target=holds, code=vouchers, cents=st.integers(1, 8000), key=st.integers(0, 2))
    def hold(self, code: str | None, cents: int, key: int) -> Any:
        if code is None:
            return None
        voucher = self.model[code]
        response = self.post("/api/v1/vouchers/holds", str(key),
                             {"code": code, "amount": eur(cents), "order_ref": "H"})
        if self.expired(voucher):
            assert (response.status_code, response.json()["code"]) == (422, "voucher_expired")
            return None
        if cents > voucher.balance:
            assert (response.status_code, response.json()["code"]) == (422, "insufficient_balance")
            return None
        assert response.status_code == 201, response.text
        voucher.balance -= cents
        hold_id = response.json()["hold_id"]
        self.model_holds[hold_id] = ModelHold(code, cents, key, dt.datetime.fromisoformat(
            response.json()["expires_at"]))
        return hold_id

    @rule(hold_id=holds, part=st.none() | st.integers(1, 8000), other_key=st.booleans())
    def capture(self, hold_id: str | None, part: int | None, other_key: bool) -> None:
        if hold_id is None:
            return
        hold = self.model_holds[hold_id]
        key = (hold.key + 1) % 3 if other_key else hold.key
        response = self.post(f"/api/v1/vouchers/holds/{hold_id}/capture", str(key),
                             {"amount": eur(part)} if part else None)
        if other_key:
            assert (response.status_code, response.json()["code"]) == (404, "hold_not_found")
        elif hold.status == "lapsed" or (hold.status == "open" and self.now >= hold.expires_at):
            assert (response.status_code, response.json()["code"]) == (409, "hold_expired")
        elif hold.status != "open":
            assert (response.status_code, response.json()["code"]) == (409, "hold_closed")
        elif part is not None and part > hold.amount:
            assert (response.status_code, response.json()["code"]) == (422, "capture_exceeds_hold")
        else:
            assert response.status_code == 200, response.text
            taken = hold.amount if part is None else part
            voucher = self.model[hold.code]
            voucher.spent += taken
            voucher.balance += hold.amount - taken
            hold.status = "captured"

    @rule(hold_id=holds)
    def void(self, hold_id: str | None) -> None:
        if hold_id is None:
            return
        hold = self.model_holds[hold_id]
        response = self.post(f"/api/v1/vouchers/holds/{hold_id}/void", str(hold.key))
        if hold.status == "captured":
            assert (response.status_code, response.json()["code"]) == (409, "hold_closed")
            return
        assert response.status_code == 200, response.text
        if hold.status == "open":
            self.model[hold.code].balance += hold.amount
            hold.status = "voided"
        assert response.json()["status"] == hold.status

    @rule(code=vouchers, cents=st.integers(1, 5000))
    def recredit(self, code: str | None, cents: int) -> None:
        if code is None:
            return
        voucher = self.model[code]
        response = self.post(f"/api/v1/vouchers/{code}/recredit", "service", {"amount": eur(cents),
                                                                              "reason": "return"})
        if cents > voucher.spent - voucher.recredited:
            assert (response.status_code, response.json()["code"]) == (422, "recredit_exceeds_spent")
            return
        assert response.status_code == 201, response.text
        voucher.recredited += cents
        if self.expired(voucher):
            assert response.json()["credited"] == "credit"
            self.credit += cents
        else:
            assert response.json()["credited"] == "voucher"
            voucher.balance += cents

    @rule(step=st.sampled_from(STEPS))
    def time_passes(self, step: dt.timedelta) -> None:
        self.now += step
        clock.set_now(self.now)
        self.sign_in()  # tokens last hours

    @rule()
    def jobs_run(self) -> None:
        self.run(run_jobs())
        for hold in self.model_holds.values():
            if hold.status == "open" and self.now >= hold.expires_at:
                hold.status = "lapsed"
                self.model[hold.code].balance += hold.amount
        for voucher in self.model.values():
            if self.expired(voucher):
                voucher.balance = 0

    @rule()
    def retry(self) -> None:
        """The last money-moving request again, same key and body: the same answer, nothing applied twice.

        Within the day keys are promised to last; `jobs run` forgets them after two.
        """
        if self.last_request is None or self.now - self.last_request[0] >= dt.timedelta(hours=24):
            return
        _, path, caller, key, body, first = self.last_request
        again = self.post(path, caller, body, key=key)
        assert (again.status_code, again.content) == (first.status_code, first.content)
        assert again.headers.get("idempotent-replayed") == "true"

    # --- invariants -----------------------------------------------------------------------------------------

    @invariant()
    def books_agree_with_the_model(self) -> None:
        if not hasattr(self, "seller"):
            return
        mine = self.run(self.client.get("/api/v1/me/vouchers?limit=100", headers=self.seller)).json()["items"]
        held: dict[str, int] = {}
        for hold in self.model_holds.values():
            if hold.status == "open":
                held[hold.code] = held.get(hold.code, 0) + hold.amount
        assert {item["code"]: (item["balance"]["amount"], item["held"]["amount"]) for item in mine} == {
            code: (voucher.balance, held.get(code, 0)) for code, voucher in self.model.items()}
        credit = self.run(self.client.get("/api/v1/me/credit", headers=self.seller)).json()
        assert credit["balance"] == eur(self.credit)
        assert self.run(ledger.check()).violations == []


WALKS = hypothesis_settings(max_examples=15, stateful_step_count=20, deadline=None,
                              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def test_random_walks_keep_the_books(settings: Settings) -> None:
    use_settings(settings)
    loop = asyncio.new_event_loop()
    server = serving(settings)
    try:
        VoucherWalk.loop = loop
        VoucherWalk.client = loop.run_until_complete(server.__aenter__())

        async def callers() -> list[dict[str, str]]:
            await accounts.add_store("saint-honore", "AMI Saint-Honoré", "FR", "boutique")
            await accounts.create_staff("service@example.com", PASSWORD, "customer_service")
            return [bearer(await accounts.create_api_key("eshop")), bearer(await accounts.create_api_key("resale")),
                    bearer(await accounts.create_api_key("store", "saint-honore"))]

        VoucherWalk.keys = loop.run_until_complete(callers())
        run_state_machine_as_test(VoucherWalk, settings=WALKS)
    finally:
        loop.run_until_complete(server.__aexit__(None, None, None))
        loop.close()
        clock.set_now(None)

