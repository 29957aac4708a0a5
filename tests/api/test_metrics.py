"""/metrics in Prometheus's text format: who may read it, requests by route template, the ledger, the SLA."""

from __future__ import annotations

import datetime as dt
import re
import uuid

from support import bearer
from tradein_helpers import accepted_tradein, open_warehouse
from voucher_helpers import eur, issue, open_shop

from forever import clock
from forever.accounts import service as accounts

SAMPLE = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)")
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> tuple[Samples, dict[str, str]]:
    """The samples by (name, labels), and each family's type; any line that is neither fails."""
    samples: Samples = {}
    types: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            types[name] = kind
        elif not line.startswith("# HELP "):
            match = SAMPLE.fullmatch(line)
            assert match, f"not a sample line: {line!r}"
            name, labels, value = match.groups()
            key = (name, frozenset(LABEL.findall(labels or "")))
            assert key not in samples, f"twice: {line!r}"
            samples[key] = float(value)
    return samples, types


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


async def scrape(client, headers) -> Samples:
    response = await client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    samples, types = parse(response.text)
    assert types["forever_http_request_duration_seconds"] == "histogram"
    return samples


async def test_metrics_are_for_an_admin_or_the_metrics_key(client):
    shop = await open_shop(client)
    assert (await client.get("/metrics")).status_code == 401
    for headers in (shop.seller, shop.service, shop.eshop, shop.store, shop.carrier, bearer("fek_metrics_made-up")):
        assert (await client.get("/metrics", headers=headers)).status_code in (401, 404)
    await scrape(client, shop.admin)
    await scrape(client, bearer(await accounts.create_api_key("metrics")))


async def test_requests_are_counted_by_route_template_with_a_latency_histogram(client):
    shop = await open_shop(client)
    quote_id = str(uuid.uuid4())
    for _ in range(2):
        assert (await client.get("/api/v1/catalog/products")).status_code == 200
    assert (await client.get(f"/api/v1/quotes/{quote_id}", headers=shop.seller)).status_code == 404
    assert (await client.get(f"/nowhere/{quote_id}")).status_code == 404

    response = await client.get("/metrics", headers=shop.admin)
    assert quote_id not in response.text
    samples, _ = parse(response.text)
    counts = {dict(labels)["route"]: count for (name, labels), count in samples.items()
              if name == "forever_http_requests_total" and dict(labels)["status"] == "404"}
    assert counts == {"/api/v1/quotes/{quote_id}": 1, "unmatched": 1}
    assert value(samples, "forever_http_requests_total", method="GET", route="/api/v1/catalog/products",
                 status="200") == 2
    series = {labels for (name, labels) in samples if name == "forever_http_requests_total"}
    for labels in series:
        buckets = sorted(((float(dict(bucket_labels)["le"]), count) for (name, bucket_labels), count
                          in samples.items() if name == "forever_http_request_duration_seconds_bucket"
                          and bucket_labels - {("le", dict(bucket_labels)["le"])} == labels))
        cumulative = [count for _, count in buckets]
        assert cumulative == sorted(cumulative) and len(buckets) == 12
        assert buckets[-1] == (float("inf"), samples[("forever_http_requests_total", labels)])
        assert samples[("forever_http_request_duration_seconds_count", labels)] == buckets[-1][1]
        assert samples[("forever_http_request_duration_seconds_sum", labels)] >= 0


async def test_redemptions_and_ledger_totals(client):
    shop = await open_shop(client)
    empty = await scrape(client, shop.admin)
    assert value(empty, "forever_voucher_redemptions_total") == 0
    assert value(empty, "forever_store_credit_outstanding_euros", held_as="seller_credit") == 0

    voucher = await issue(client, shop, 5000)  # credits 50.00, then turns it into a voucher
    code = voucher["code"]
    redeem = {"code": code, "amount": eur(1500), "order_ref": "T-1"}
    assert (await client.post("/api/v1/vouchers/redeem", headers=shop.store, json=redeem)).status_code == 201
    captured = await client.post("/api/v1/vouchers/holds", headers=shop.eshop,
                                 json={"code": code, "amount": eur(1000), "order_ref": "E-1"})
    capture = await client.post(f"/api/v1/vouchers/holds/{captured.json()['hold_id']}/capture", headers=shop.eshop)
    assert capture.status_code == 200
    held = await client.post("/api/v1/vouchers/holds", headers=shop.eshop,
                             json={"code": code, "amount": eur(700), "order_ref": "E-2"})
    assert held.status_code == 201
    await issue(client, shop, 2000)

    samples = await scrape(client, shop.admin)
    assert value(samples, "forever_voucher_redemptions_total") == 2
    assert value(samples, "forever_ledger_transactions_total", kind="voucher_issue") == 2
    assert value(samples, "forever_ledger_moved_euros_total", kind="tradein_credit") == 70.0
    assert value(samples, "forever_ledger_moved_euros_total", kind="redemption") == 15.0
    assert value(samples, "forever_store_credit_outstanding_euros", held_as="seller_credit") == 0
    assert value(samples, "forever_store_credit_outstanding_euros", held_as="vouchers") == 50 - 15 - 10 - 7 + 20
    assert value(samples, "forever_store_credit_outstanding_euros", held_as="held") == 7.0


async def test_pieces_past_their_sla(client):
    place = await open_warehouse(client)
    tradein = await accepted_tradein(client, place)  # two pieces
    received = await client.post("/api/v1/warehouse/receptions", headers=place.grader,
                                 json={"tracking_number": tradein["parcel"]["tracking_number"]})
    due = dt.date.fromisoformat(received.json()["sla_due_date"])
    metrics_key = bearer(await accounts.create_api_key("metrics"))  # a key, unlike a token, does not expire
    clock.set_now(dt.datetime.combine(due, dt.time(18, 0)))
    assert value(await scrape(client, metrics_key), "forever_pieces_past_sla") == 0
    clock.set_now(dt.datetime.combine(due + dt.timedelta(days=1), dt.time(9, 0)))
    assert value(await scrape(client, metrics_key), "forever_pieces_past_sla") == 2
