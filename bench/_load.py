"""A small, dependency-free HTTP/1.1 keep-alive load generator (loopback only).

N connections (asyncio streams) each send one request, read the whole answer, and send the next one: one
request in flight per connection, which is what "N concurrent connections" means in the figures. Requests are
pre-encoded bytes, so the generator spends its time on the socket rather than on building requests; the
answer is parsed just enough to find its end (status line, headers, `Content-Length` or chunked body).

Only answers completed inside the measuring window count (after a warm-up); the run is bounded in time and
stops by itself. `measure()` runs the generator in a child process (spawned, so it shares no GIL and no
event loop with the caller) on uvloop when it is installed.

    from _load import measure, Cycle, build_request   # with bench/ on sys.path
    result = measure(port, build_request("GET", "/api/v1/ping"), connections=32, duration=10, warmup=2)
    print(result.rps, result.p99_ms)
"""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import multiprocessing
import re
import socket
import time
from array import array
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

RequestSource = bytes | Sequence[bytes] | Callable[[int], bytes]

LOOPBACK_NAMES = {"localhost"}
MAX_HEADER_BYTES = 64 * 1024
SAMPLE_BODY_BYTES = 500
PROBLEM_CODE = re.compile(rb'"code"\s*:\s*"([^"]{1,64})"')  # the machine code of a problem+json answer


def build_request(method: str, path: str, *, host: str = "127.0.0.1", port: int | None = None,
                  headers: Mapping[str, str] | None = None, body: bytes | None = None,
                  content_type: str = "application/json") -> bytes:
    """One HTTP/1.1 keep-alive request, encoded once."""
    authority = f"{host}:{port}" if port else host
    lines = [f"{method} {path} HTTP/1.1", f"Host: {authority}", "Connection: keep-alive",
             "Accept: application/json", "User-Agent: forever-bench/1"]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    if body is not None:
        lines.append(f"Content-Type: {content_type}")
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")


class Cycle:
    """A picklable request factory: request i is `requests[i % len(requests)]`."""

    def __init__(self, requests: Sequence[bytes]) -> None:
        if not requests:
            raise ValueError("Cycle needs at least one request")
        self.requests = list(requests)

    def __call__(self, i: int) -> bytes:
        return self.requests[i % len(self.requests)]


@dataclasses.dataclass
class LoadResult:
    """What one run measured. Latencies are per request, from the first byte sent to the last byte read."""

    label: str
    connections: int
    duration_s: float          # the measuring window actually observed
    warmup_s: float
    requests: int              # answers completed inside the window
    rps: float
    mean_ms: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    statuses: dict[int, int]   # status code -> count (inside the window)
    errors: dict[str, int]     # exception type -> count (whole run, warm-up included)
    samples: dict[int, str]    # first body seen for each non-2xx status (truncated)
    codes: dict[str, int] = dataclasses.field(default_factory=dict)  # "status code" -> count, non-2xx only

    @property
    def non_2xx(self) -> int:
        return sum(count for status, count in self.statuses.items() if not 200 <= status < 300)

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def as_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["statuses"] = {str(k): v for k, v in self.statuses.items()}
        data["samples"] = {str(k): v for k, v in self.samples.items()}
        data["non_2xx"] = self.non_2xx
        return data


class ProtocolError(Exception):
    """The server's answer could not be parsed."""


def _check_loopback(host: str) -> None:
    if host in LOOPBACK_NAMES:
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise ValueError(f"the load generator only targets loopback addresses, not {host!r}")


def _factory(source: RequestSource) -> Callable[[int], bytes]:
    if isinstance(source, (bytes, bytearray)):
        data = bytes(source)
        return lambda _i: data
    if callable(source):
        return source
    return Cycle(source)


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """(status, body, server_keeps_connection). Minimal, but follows Content-Length and chunked bodies."""
    head = await reader.readuntil(b"\r\n\r\n")
    if len(head) > MAX_HEADER_BYTES:
        raise ProtocolError("header block too large")
    status_line, _, header_block = head.partition(b"\r\n")
    parts = status_line.split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
        raise ProtocolError(f"bad status line {status_line[:80]!r}")
    status = int(parts[1])
    length: int | None = None
    chunked = False
    keep_alive = parts[0] == b"HTTP/1.1"
    for line in header_block.split(b"\r\n"):
        name, sep, value = line.partition(b":")
        if not sep:
            continue
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value.strip())
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
        elif name == b"connection":
            token = value.strip().lower()
            keep_alive = token == b"keep-alive" or (keep_alive and token != b"close")
    if chunked:
        pieces = []
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.split(b";", 1)[0].strip(), 16)
            if size == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers
                    pass
                break
            pieces.append(await reader.readexactly(size))
            await reader.readexactly(2)
        body = b"".join(pieces)
    elif length is not None:
        body = await reader.readexactly(length) if length else b""
    elif status in (204, 304) or 100 <= status < 200:
        body = b""
    else:  # no framing: the body runs to the end of the connection
        body = await reader.read()
        keep_alive = False
    return status, body, keep_alive


async def run_load(port: int, requests: RequestSource, *, host: str = "127.0.0.1", connections: int = 32,
                   duration: float = 10.0, warmup: float = 2.0, request_timeout: float = 10.0,
                   label: str = "") -> LoadResult:
    """Drive `connections` keep-alive connections for `warmup + duration` s; measure the last `duration` s."""
    _check_loopback(host)
    if connections < 1 or duration <= 0 or warmup < 0:
        raise ValueError("connections >= 1, duration > 0 and warmup >= 0")
    factory = _factory(requests)
    counter = iter(range(1 << 62))
    perf = time.perf_counter_ns
    start = perf()
    window_start = start + int(warmup * 1e9)
    window_end = window_start + int(duration * 1e9)
    latencies = array("q")
    statuses: Counter[int] = Counter()
    errors: Counter[str] = Counter()
    samples: dict[int, str] = {}
    codes: Counter[str] = Counter()

    async def connect() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), request_timeout)
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return reader, writer

    async def worker() -> None:
        reader = writer = None
        while perf() < window_end:
            try:
                if writer is None:
                    reader, writer = await connect()
                payload = factory(next(counter))
                t0 = perf()
                writer.write(payload)
                status, body, keep_alive = await asyncio.wait_for(_read_response(reader), request_timeout)
                t1 = perf()
            except (TimeoutError, OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                    ProtocolError, ValueError) as exc:
                errors[type(exc).__name__] += 1
                if writer is not None:
                    writer.close()
                reader = writer = None
                await asyncio.sleep(0.01)  # no hot loop against a dead server
                continue
            if window_start <= t1 < window_end:
                latencies.append(t1 - t0)
                statuses[status] += 1
                if not 200 <= status < 300:
                    found = PROBLEM_CODE.search(body)
                    codes[f"{status} {found.group(1).decode() if found else '-'}"] += 1
                    if status not in samples:
                        samples[status] = body[:SAMPLE_BODY_BYTES].decode("utf-8", "replace")
            if not keep_alive:
                writer.close()
                reader = writer = None
        if writer is not None:
            writer.close()

    tasks = [asyncio.ensure_future(worker()) for _ in range(connections)]
    hard_stop = warmup + duration + request_timeout + 5.0
    done, pending = await asyncio.wait(tasks, timeout=hard_stop)
    for task in pending:  # cannot happen unless a read hangs past its own timeout
        task.cancel()
        errors["Unfinished"] += 1
    for task in done:
        if task.exception() is not None:
            errors[type(task.exception()).__name__] += 1
    observed = max(min(perf(), window_end) - window_start, 1) / 1e9
    ordered = sorted(latencies)
    count = len(ordered)

    def pct(p: float) -> float:
        if not ordered:
            return float("nan")
        rank = max(1, -(-count * p // 100))  # nearest-rank percentile
        return ordered[int(rank) - 1] / 1e6

    return LoadResult(
        label=label, connections=connections, duration_s=round(observed, 3), warmup_s=warmup,
        requests=count, rps=count / observed,
        mean_ms=(sum(ordered) / count / 1e6) if count else float("nan"),
        p50_ms=pct(50), p90_ms=pct(90), p99_ms=pct(99), max_ms=(ordered[-1] / 1e6) if count else float("nan"),
        statuses=dict(sorted(statuses.items())), errors=dict(errors), samples=samples, codes=dict(codes),
    )


def _child(kwargs: dict[str, Any]) -> LoadResult:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(run_load(**kwargs))
    return uvloop.run(run_load(**kwargs))


def _child_main(kwargs: dict[str, Any], connection: Any) -> None:
    try:
        connection.send(("ok", _child(kwargs)))
    except Exception as exc:  # noqa: BLE001 - reported to the parent rather than dying silently
        connection.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        connection.close()


def measure(port: int, requests: RequestSource, *, in_process: bool = False, **kwargs: Any) -> LoadResult:
    """`run_load` in a spawned child process (default) or in this one. A callable source must be picklable."""
    kwargs = {"port": port, "requests": requests, **kwargs}
    if in_process:
        return _child(kwargs)
    budget = (kwargs.get("warmup", 2.0) + kwargs.get("duration", 10.0) + kwargs.get("request_timeout", 10.0)
              + 60)
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_child_main, args=(kwargs, sender), name="forever-bench-load", daemon=True)
    child.start()
    sender.close()
    try:
        if not receiver.poll(budget):
            raise TimeoutError(f"the load generator did not finish within {budget:.0f}s")
        outcome, value = receiver.recv()
    except EOFError:
        raise RuntimeError(f"the load generator died (exit code {child.exitcode})") from None
    finally:
        receiver.close()
        child.join(5)
        if child.is_alive():
            child.terminate()
            child.join()
    if outcome != "ok":
        raise RuntimeError(f"the load generator failed: {value}")
    return value
