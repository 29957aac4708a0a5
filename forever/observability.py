"""What operators see: a request id on every request, one JSON log line per request, and `/metrics`.

Logs and metrics name a request by its route's template (`/api/v1/vouchers/{code}/recredit`), never by its
path: a path may carry a voucher code. No message here holds a body, a header value or an address.
"""

from __future__ import annotations

import bisect
import contextvars
import itertools
import logging
import re
import secrets
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import msgspec
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from forever.tradein import service as tradein
from forever.vouchers import ledger
from forever.vouchers import model as vouchers_model

REQUEST_ID_HEADER = b"x-request-id"
# An incoming id is kept when it looks like one (a proxy's or a client's); anything else is replaced.
_SANE_REQUEST_ID = re.compile(rb"^[A-Za-z0-9._:-]{1,128}$")
UNMATCHED_ROUTE = "unmatched"
PROMETHEUS_TEXT = "text/plain; version=0.0.4"  # Litestar adds "; charset=utf-8"
# Prometheus's default buckets, in seconds.
LATENCY_BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
access_log = logging.getLogger("forever.access")


# --- logs -----------------------------------------------------------------------------------------------------


class RequestIdFilter(logging.Filter):
    """Stamps each record with the id of the request it was logged in (None outside requests)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, request id, and a record's `fields`."""

    _second: tuple[int, str] = (0, "")

    def _time(self, created: float) -> str:
        """`2026-11-22T06:57:46.688Z`; the part up to the second is made once a second (datetime: 4 µs a line)."""
        second, text = self._second
        if int(created) != second:
            second, text = int(created), time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created))
            self._second = (second, text)
        return f"{text}.{int((created - second) * 1000):03d}Z"

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": self._time(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return msgspec.json.encode(entry).decode()


def json_log_handler(stream: object = None) -> logging.Handler:
    """A handler writing JSON lines (to stderr by default), each with its request id."""
    handler = logging.StreamHandler(stream or sys.stderr)  # type: ignore[arg-type]
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    return handler


def configure_logging(level: int = logging.INFO, stream: object = None) -> None:
    """Every logger (ours, uvicorn's, the libraries') through one JSON handler on stderr. Idempotent.

    INFO, not DEBUG: the database drivers log rows at DEBUG.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler.formatter, JsonFormatter):
            root.removeHandler(handler)
    root.addHandler(json_log_handler(stream))
    root.setLevel(level)


# --- request metrics ------------------------------------------------------------------------------------------


@dataclass
class _Series:
    count: int = 0
    seconds: float = 0.0
    buckets: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BUCKETS) + 1))


class RequestMetrics:
    """Requests and their latency by method, route template and status, since this process started.

    Updated on the event loop's thread only, so it needs no lock. Each process counts its own requests.
    """

    def __init__(self) -> None:
        self._series: dict[tuple[str, str, str], _Series] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, str(status))
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = _Series()
        series.count += 1
        series.seconds += seconds
        series.buckets[bisect.bisect_left(LATENCY_BUCKETS, seconds)] += 1

    def exposition(self) -> Iterable[str]:
        """The Prometheus text lines of both families."""
        yield "# HELP forever_http_requests_total HTTP requests answered, by route template and status."
        yield "# TYPE forever_http_requests_total counter"
        ordered = sorted(self._series.items())
        for key, series in ordered:
            yield f"forever_http_requests_total{{{_labels(key)}}} {series.count}"
        yield "# HELP forever_http_request_duration_seconds Time to answer, by route template and status."
        yield "# TYPE forever_http_request_duration_seconds histogram"
        for key, series in ordered:
            labels = _labels(key)
            running = 0
            for bound, count in zip((*LATENCY_BUCKETS, float("inf")), series.buckets, strict=True):
                running += count
                yield f'forever_http_request_duration_seconds_bucket{{{labels},le="{_number(bound)}"}} {running}'
            yield f"forever_http_request_duration_seconds_sum{{{labels}}} {series.seconds!r}"
            yield f"forever_http_request_duration_seconds_count{{{labels}}} {series.count}"


def _family(name: str, kind: str, help_text: str, samples: Iterable[tuple[str, float]]) -> list[str]:
    """One metric family: its HELP and TYPE lines, then one line per (labels, value)."""
    return [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}",
            *(f"{name}{{{labels}}} {value!r}" if labels else f"{name} {value!r}" for labels, value in samples)]


def _euros(cents: int) -> float:
    return cents / 100


async def metrics_text(requests: RequestMetrics) -> str:
    """All of /metrics in Prometheus's text format: this process's requests, and figures read from the database
    (the same whichever process answers)."""
    totals = await ledger.totals()
    spends = (vouchers_model.REDEMPTION, vouchers_model.HOLD_CAPTURE)
    lines = [
        *requests.exposition(),
        *_family("forever_voucher_redemptions_total", "counter",
                 "Voucher spends (redemptions and captured holds) since the ledger began.",
                 [("", sum(totals.transactions.get(kind, 0) for kind in spends))]),
        *_family("forever_ledger_transactions_total", "counter", "Ledger transactions by kind.",
                 [(f'kind="{_escape(kind)}"', count) for kind, count in sorted(totals.transactions.items())]),
        *_family("forever_ledger_moved_euros_total", "counter",
                 "Amounts moved by kind of ledger transaction (tradein_credit: store credit issued).",
                 [(f'kind="{_escape(kind)}"', _euros(cents)) for kind, cents in sorted(totals.amounts.items())]),
        *_family("forever_store_credit_outstanding_euros", "gauge",
                 "What is owed to sellers now: unspent credit, voucher balances, amounts held for orders.",
                 [('held_as="seller_credit"', _euros(totals.seller_credit)),
                  ('held_as="vouchers"', _euros(totals.vouchers)), ('held_as="held"', _euros(totals.held))]),
        *_family("forever_pieces_past_sla", "gauge",
                 "Pieces still awaiting grading after their 15-business-day due date.",
                 [("", await tradein.pieces_past_sla())]),
    ]
    return "\n".join(lines) + "\n"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(key: tuple[str, str, str]) -> str:
    method, route, status = key
    return f'method="{_escape(method)}",route="{_escape(route)}",status="{status}"'


def _number(value: float) -> str:
    return "+Inf" if value == float("inf") else repr(value)


# --- the middleware -------------------------------------------------------------------------------------------


_ID_PREFIX = secrets.token_hex(6)  # this process's
_ids = itertools.count(1)


def _new_request_id() -> str:
    """Unique without a system call per request (uuid4 costs 4 µs): a random prefix per process, then a count."""
    return f"{_ID_PREFIX}{next(_ids):012x}"


def _incoming_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == REQUEST_ID_HEADER:
            return value.decode("ascii") if _SANE_REQUEST_ID.match(value) else None
    return None


def observe_requests(app: ASGIApp, metrics: RequestMetrics) -> ASGIApp:
    """Give each HTTP request an id (the caller's `X-Request-ID` when sane, else a new one) that its log records
    carry and its response echoes; count it; log one line for it once answered."""

    async def observed(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        rid = _incoming_id(scope) or _new_request_id()
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500  # unless a response starts

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (REQUEST_ID_HEADER, rid.encode())]
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route = scope.get("path_template") or UNMATCHED_ROUTE
            metrics.observe(scope["method"], route, status, seconds)
            if access_log.isEnabledFor(logging.INFO):
                # A record made here rather than by .info(), which looks up the calling file and line (5 µs).
                access_log.handle(access_log.makeRecord(
                    access_log.name, logging.INFO, __file__, 0, "%s %s %d", (scope["method"], route, status), None,
                    extra={"fields": {"method": scope["method"], "route": route, "status": status,
                                      "duration_ms": round(seconds * 1000, 2)}}))
            request_id.reset(token)

    return observed
