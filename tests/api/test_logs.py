"""Structured logs: one JSON line per request with its id, and nothing personal or secret in them."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator

import pytest
from support import PASSWORD
from tradein_helpers import mails
from voucher_helpers import eur, issue, open_shop

from forever.app import create_app
from forever.observability import JsonFormatter, configure_logging, json_log_handler


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    """Everything the app logs at INFO and above, as `forever serve` writes it (not the test's HTTP client's)."""
    stream = io.StringIO()
    handler = json_log_handler(stream)
    handler.addFilter(lambda record: not record.name.startswith("httpx"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


def entries(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


async def test_a_day_of_vouchers_logs_no_email_password_token_or_code(client, settings, captured_logs):
    shop = await open_shop(client)
    voucher = await issue(client, shop, 5000)
    code = voucher["code"]
    assert (await client.post("/api/v1/vouchers/lookup", headers=shop.eshop, json={"code": code})).status_code == 200
    redeemed = await client.post("/api/v1/vouchers/redeem", headers=shop.store,
                                 json={"code": code, "amount": eur(1500), "order_ref": "T-1"})
    assert redeemed.status_code == 201
    recredited = await client.post(f"/api/v1/vouchers/{code}/recredit", headers=shop.service,
                                   json={"amount": eur(500), "reason": "goodwill"})
    assert recredited.status_code == 201
    wrong = await client.post("/api/v1/auth/login", json={"email": "seller@example.com", "password": "Wrong-1!x"})
    assert wrong.status_code == 401
    assert (await client.get(f"/no/such/page/{code}")).status_code == 404
    page = await client.get("/credit", headers={"Cookie": f"forever_session={shop.seller['Authorization'][7:]}"})
    assert page.status_code == 200
    assert (await client.post("/api/v1/auth/password-reset", json={"email": "seller@example.com"})).status_code == 202
    reset_token = re.search(r"token=(\S+)", mails(settings)[-1].get_content()).group(1)
    reset = await client.post("/api/v1/auth/password-reset/confirm",
                              json={"token": reset_token, "password": "Brand-new-pass-4"})
    assert reset.status_code == 200

    text = captured_logs.getvalue()
    normalised = code.replace("-", "")
    secrets = {"e-mail": "@example.com", "password": PASSWORD, "wrong password": "Wrong-1!x",
               "new password": "Brand-new-pass-4", "reset token": reset_token,
               "voucher code": code, "code without dashes": normalised, "code's start": normalised[:8]}
    secrets |= {f"bearer of {who}": getattr(shop, who)["Authorization"][7:]
                for who in ("seller", "service", "eshop", "store")}
    assert {name for name, secret in secrets.items() if secret in text} == set()

    access = [entry for entry in entries(captured_logs) if entry["logger"] == "forever.access"]
    routes = {(entry["method"], entry["route"], entry["status"]) for entry in access}
    assert ("POST", "/api/v1/vouchers/{code}/recredit", 201) in routes
    assert ("GET", "unmatched", 404) in routes
    assert all(entry["request_id"] and entry["duration_ms"] >= 0 for entry in access)
    issued = next(entry for entry in entries(captured_logs) if "issued" in entry["message"])
    assert issued["logger"] == "forever.vouchers"
    assert issued["request_id"] in {entry["request_id"] for entry in access if entry["route"] == "/api/v1/me/vouchers"}


async def test_each_request_gets_an_id_a_sane_one_is_kept(client, captured_logs):
    given = await client.get("/api/v1/ping", headers={"X-Request-ID": "edge-7f3a.42:1"})
    assert given.headers["x-request-id"] == "edge-7f3a.42:1"
    for insane in ("has spaces", "x" * 129, "<script>", "é"):
        replaced = await client.get("/api/v1/ping", headers={"X-Request-ID": insane.encode()})
        assert replaced.headers["x-request-id"] not in (insane, "")
    first, second = await client.get("/health"), await client.get("/nothing-here")
    assert first.headers["x-request-id"] != second.headers["x-request-id"]
    logged = {entry["request_id"]: entry for entry in entries(captured_logs) if entry["logger"] == "forever.access"}
    assert logged[second.headers["x-request-id"]]["status"] == 404
    assert logged[first.headers["x-request-id"]]["route"] == "/health"
    bad = await client.post("/api/v1/auth/login", content=b"{not json", headers={"Content-Type": "application/json"})
    assert bad.status_code == 400 and bad.headers["x-request-id"] in {
        entry["request_id"] for entry in entries(captured_logs)}


async def test_the_app_keeps_the_logging_it_is_served_with(settings):
    """Litestar configures logging its own way unless told not to, which would drop the JSON handler."""
    stream, root = io.StringIO(), logging.getLogger()
    level = root.level
    configure_logging(stream=stream)
    try:
        app = create_app(settings)
        async with app.lifespan():
            logging.getLogger("forever.test").info("still JSON")
        assert json.loads(stream.getvalue().splitlines()[-1])["message"] == "still JSON"
    finally:
        for handler in [handler for handler in root.handlers if isinstance(handler.formatter, JsonFormatter)]:
            root.removeHandler(handler)
        root.setLevel(level)
