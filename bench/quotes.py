"""Benchmark: a 5-line trade-in quote against a trivial JSON endpoint of the same app, in the same run.

Starts a throwaway `forever serve` (SQLite in a temporary directory, demo data loaded), signs in as the demo
seller, and drives 32 keep-alive connections at

  * GET  /api/v1/ping    the baseline: the same app, auth middleware and JSON encoding, no database;
  * POST /api/v1/quotes  5 eligible pieces in mixed conditions (one read of the seller, one of the products,
                         one write transaction: the quote and its 5 lines);

then measures the baseline once more to show drift. It prints requests/s, p50 and p99 for each, the ratio
quotes / ping, and PASS or FAIL against the targets (ratio >= 0.5, quote p99 < 50 ms); on Linux also the
server's CPU per request for each (from /proc), steadier than requests/s when other work shares the machine. A benchmark, not a
test: the exit status is 0 whatever the figures, 1 only when the server failed or requests errored.

    .venv/bin/python bench/quotes.py [--duration 10] [--warmup 2] [--connections 32] [--database-url URL]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from _load import Cycle, LoadResult, build_request, measure
from _server import ServerFailed, http_json, running_server

SELLER_EMAIL = "camille@forever.demo"
SELLER_PASSWORD = "Forever-2026!"
LINES = 5
CONDITIONS = ("new_with_tags", "excellent", "very_good")
# Seasons tried in order until five eligible pieces are found (past, not current, not before SS16).
SEASONS = ("SS24", "FW23", "SS23", "FW24", "FW22", "SS22")
TARGET_RATIO = 0.5
TARGET_P99_MS = 50.0
RESULTS_DIR = BENCH_DIR / "results"


class BenchFailed(RuntimeError):
    pass


def sign_in(base_url: str) -> str:
    status, body = http_json("POST", f"{base_url}/api/v1/auth/login",
                             {"email": SELLER_EMAIL, "password": SELLER_PASSWORD})
    if status != 200 or not isinstance(body, dict) or "token" not in body:
        raise BenchFailed(f"login as {SELLER_EMAIL} answered {status}: {body}")
    return body["token"]


def pick_products(base_url: str) -> list[dict]:
    """Five eligible products, of different categories where the catalog allows it."""
    eligible: list[dict] = []
    for season in SEASONS:
        status, body = http_json("GET", f"{base_url}/api/v1/catalog/products?season={season}&limit=100")
        if status != 200 or not isinstance(body, dict):
            raise BenchFailed(f"GET /catalog/products?season={season} answered {status}: {body}")
        eligible += [p for p in body["items"] if p.get("tradein_eligible")]
        if len({p["category"] for p in eligible}) >= LINES:
            break
    chosen: list[dict] = []
    seen: set[str] = set()
    for product in eligible:  # one per category first, then fill up
        if product["category"] not in seen:
            seen.add(product["category"])
            chosen.append(product)
    chosen += [p for p in eligible if p not in chosen]
    if len(chosen) < LINES:
        raise BenchFailed(f"only {len(chosen)} eligible products in seasons {', '.join(SEASONS)}")
    return chosen[:LINES]


def quote_bodies(products: list[dict]) -> list[bytes]:
    """A few 5-line bodies: the same pieces, conditions rotated, so the server can't answer from a cache."""
    bodies = []
    for shift in range(len(CONDITIONS)):
        items = []
        for i, product in enumerate(products):
            item = {"product_ref": product["ref"], "condition": CONDITIONS[(i + shift) % len(CONDITIONS)]}
            if product.get("sizes"):
                item["size"] = product["sizes"][0]
            items.append(item)
        bodies.append(json.dumps({"items": items}, separators=(",", ":")).encode())
    return bodies


def check_quote(base_url: str, token: str, body: bytes) -> dict:
    status, quote = http_json("POST", f"{base_url}/api/v1/quotes", json.loads(body), token=token)
    if status != 201 or not isinstance(quote, dict):
        raise BenchFailed(f"POST /api/v1/quotes answered {status}: {quote}")
    lines = quote.get("items", [])
    if len(lines) != LINES or not all(line.get("eligible") for line in lines):
        raise BenchFailed(f"the quote is not 5 eligible lines: {json.dumps(quote)[:600]}")
    return quote


def git_revision() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], check=False, cwd=BENCH_DIR.parent, capture_output=True,
                              text=True, timeout=5).stdout.strip()

    try:
        return git("rev-parse", "--short", "HEAD") + ("+dirty" if git("status", "--porcelain") else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def server_cpu_seconds(pid: int) -> float | None:
    """User + system CPU the server process (all its threads) has used so far; None where /proc is missing."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_per_request_us(cpu_seconds: float | None, result: LoadResult) -> float | None:
    """The server's CPU per answer over the run, warm-up included (so at the measured rate: approximate).

    On a machine that other work keeps busy, requests/s falls with the CPU the server gets; its CPU per request
    shows what each request itself costs, and the ratio of those is a second, steadier reading of the target.
    """
    if cpu_seconds is None or not result.rps:
        return None
    return cpu_seconds / (result.rps * (result.warmup_s + result.duration_s)) * 1e6


def print_table(results: list[LoadResult], cpu_us: dict[str, float | None]) -> None:
    header = f"{'endpoint':<26} {'requests/s':>11} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8} " \
             f"{'requests':>9} {'non-2xx':>8} {'errors':>7} {'server CPU µs/req':>18}"
    print(header)
    print("-" * len(header))
    for r in results:
        cpu = cpu_us.get(r.label)
        print(f"{r.label:<26} {r.rps:>11.1f} {r.p50_ms:>8.2f} {r.p90_ms:>8.2f} {r.p99_ms:>8.2f} "
              f"{r.max_ms:>8.2f} {r.requests:>9} {r.non_2xx:>8} {r.error_count:>7} "
              f"{'-' if cpu is None else f'{cpu:.0f}':>18}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="5-line quote vs GET /ping, same app, same run.")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds measured per endpoint (10)")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up per endpoint (2)")
    parser.add_argument("--connections", type=int, default=32, help="concurrent keep-alive connections (32)")
    parser.add_argument("--database-url", default=None,
                        help="benchmark this database instead of a fresh SQLite file (e.g. a scratch "
                             "postgresql://… database: the demo data is loaded into it)")
    parser.add_argument("--no-drift-check", action="store_true", help="skip the second baseline run")
    parser.add_argument("--pause", action="store_true",
                        help="wait for Enter before the quote run, to attach a profiler to the printed pid")
    parser.add_argument("--no-json", action="store_true", help="do not write bench/results/quotes-*.json")
    args = parser.parse_args(argv)

    run = {"connections": args.connections, "duration": args.duration, "warmup": args.warmup}
    started = dt.datetime.now(dt.UTC).astimezone()
    try:
        with running_server(args.database_url) as server:
            print(f"server: {server.base_url} (pid {server.pid}, {server.database}); "
                  f"load: {args.connections} connections, {args.warmup:g}s warm-up + {args.duration:g}s "
                  f"measured per endpoint, {os.cpu_count()} CPUs", flush=True)
            token = sign_in(server.base_url)
            products = pick_products(server.base_url)
            bodies = quote_bodies(products)
            sample = check_quote(server.base_url, token, bodies[0])
            described = [f"{p['ref']} ({p['category']} {p['season']}, {line['condition']}, "
                         f"{line['offer']['amount'] // 100} EUR)"
                         for p, line in zip(products, sample["items"], strict=True)]
            print("quote lines: " + ", ".join(described), flush=True)

            auth = {"Authorization": f"Bearer {token}"}
            ping = build_request("GET", "/api/v1/ping", port=server.port, headers=auth)
            quotes = Cycle([build_request("POST", "/api/v1/quotes", port=server.port, headers=auth, body=body)
                            for body in bodies])

            results = []
            cpu_us: dict[str, float | None] = {}
            plan = [("GET /api/v1/ping", ping), ("POST /api/v1/quotes", quotes)]
            if not args.no_drift_check:
                plan.append(("GET /api/v1/ping (again)", ping))
            for label, source in plan:
                if args.pause and label.startswith("POST"):
                    input(f"server pid {server.pid}: attach the profiler, then press Enter ")
                print(f"measuring {label} ...", flush=True)
                cpu_before = server_cpu_seconds(server.pid)
                results.append(measure(server.port, source, label=label, **run))
                cpu_after = server_cpu_seconds(server.pid)
                cpu_us[label] = cpu_per_request_us(
                    None if cpu_before is None or cpu_after is None else cpu_after - cpu_before, results[-1])
                server.check_alive()
    except (ServerFailed, BenchFailed, RuntimeError, TimeoutError) as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1

    pings = [r for r in results if "ping" in r.label]
    quote = next(r for r in results if "quotes" in r.label)
    baseline_rps = statistics.fmean(r.rps for r in pings)
    ratio = quote.rps / baseline_rps if baseline_rps else 0.0
    drift = (pings[-1].rps / pings[0].rps - 1) if len(pings) > 1 and pings[0].rps else None
    ratio_ok = ratio >= TARGET_RATIO
    p99_ok = quote.p99_ms < TARGET_P99_MS

    ping_cpu = [cpu_us[r.label] for r in pings if cpu_us.get(r.label) is not None]
    quote_cpu = cpu_us.get(quote.label)
    cpu_ratio = statistics.fmean(ping_cpu) / quote_cpu if ping_cpu and quote_cpu else None

    print()
    print_table(results, cpu_us)
    print()
    drift_note = ""
    if drift is not None:
        drift_note = f" (baseline = mean of {len(pings)} ping runs, drift {drift:+.1%})"
    print(f"ratio quotes/ping requests/s: {ratio:.3f}{drift_note}")
    if cpu_ratio is not None:
        print(f"ratio ping/quote server CPU per request: {cpu_ratio:.3f} (for information: the target is on "
              f"requests/s)")
    print(f"  throughput: {'PASS' if ratio_ok else 'FAIL'}  (target ratio >= {TARGET_RATIO})")
    print(f"  latency:    {'PASS' if p99_ok else 'FAIL'}  (target quote p99 < {TARGET_P99_MS:g} ms, "
          f"measured {quote.p99_ms:.2f} ms)")

    unexpected = [r for r in results if r.error_count or r.non_2xx]
    for r in unexpected:
        print(f"{r.label}: statuses {r.statuses}, errors {r.errors}", file=sys.stderr)
        for status, body in r.samples.items():
            print(f"  {status}: {body}", file=sys.stderr)

    if not args.no_json:
        RESULTS_DIR.mkdir(exist_ok=True)
        path = RESULTS_DIR / f"quotes-{started:%Y%m%dT%H%M%S}.json"
        path.write_text(json.dumps({
            "benchmark": "quotes", "started_at": started.isoformat(timespec="seconds"),
            "git": git_revision(), "python": platform.python_version(), "machine": platform.machine(),
            "cpus": os.cpu_count(), "database": "postgresql" if args.database_url else "sqlite",
            "settings": run, "lines_per_quote": LINES,
            "products": [{key: p[key] for key in ("ref", "category", "season")} for p in products],
            "results": [r.as_dict() for r in results],
            "baseline_rps": baseline_rps, "ratio": ratio, "baseline_drift": drift,
            "server_cpu_us_per_request": cpu_us, "cpu_ratio": cpu_ratio,
            "targets": {"ratio_min": TARGET_RATIO, "quote_p99_ms_max": TARGET_P99_MS},
            "pass": {"ratio": ratio_ok, "p99": p99_ok},
        }, indent=2) + "\n")
        print(f"figures written to {path.relative_to(BENCH_DIR.parent)}")
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
