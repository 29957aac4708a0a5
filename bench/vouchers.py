"""Benchmark: voucher redemptions per second through the channel API, beside GET /api/v1/ping, same run.

For each database (SQLite, and PostgreSQL on a throwaway cluster from tests/pgcluster.py), starts a throwaway
`forever serve` with the demo loaded, then seeds, through the services in the server's own environment, a
seller with credit, `--vouchers` (2,000) vouchers of EUR 50 and one of EUR 1,000,000, and a `store` channel
key for the Saint-Honoré boutique. It then drives `--connections` (32) keep-alive connections at

  * GET  /api/v1/ping                     the baseline (same app, same channel-key lookup, no database work);
  * POST /api/v1/vouchers/redeem          uncontended: request i spends EUR 0.01 of voucher i mod 2,000;
  * POST /api/v1/vouchers/redeem          contended: every request spends EUR 0.01 of the one large voucher;

runs `forever ledger check` after each database's runs, and prints requests/s, p50, p99 and the non-2xx
answers by status and problem code, with PASS/FAIL against the issue's targets: uncontended >= 500/s on
SQLite, contended >= 150/s, no error other than `insufficient_balance`. A benchmark, not a test: the exit
status is 1 only when a server failed, the ledger check failed, or an answer was an unexpected error.

    .venv/bin/python bench/vouchers.py [--sqlite | --postgres] [--duration 10] [--warmup 2] [--connections 32]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))

from _load import Cycle, LoadResult, build_request, measure
from _server import FOREVER, ServerFailed, _environment, running_server

TARGET_UNCONTENDED_SQLITE = 500.0
TARGET_CONTENDED = 150.0
ALLOWED_CODES = {"insufficient_balance"}
VOUCHER_CENTS = 5_000
BIG_VOUCHER_CENTS = 100_000_000
SPEND_CENTS = 1
RESULTS_DIR = BENCH_DIR / "results"


class BenchFailed(RuntimeError):
    pass


# --- seeding, run as a child process in the server's environment --------------------------------------------


def seed(count: int) -> None:
    """Print {"key": …, "codes": […], "big": …} after creating them through the services."""
    import uuid

    from forever.accounts import service as accounts
    from forever.accounts.schemas import AccountCreate
    from forever.cli import _run
    from forever.money import Money
    from forever.vouchers import service as vouchers

    async def work() -> dict:
        seller = await accounts.register(AccountCreate(
            email=f"bench.{uuid.uuid4().hex[:10]}@example.com", password="Bench-seller-2026!",
            first_name="Bench", last_name="Seller", country="FR", birth_date=dt.date(1990, 1, 1)))
        total = count * VOUCHER_CENTS + BIG_VOUCHER_CENTS
        await vouchers.credit_tradein_item(seller.id, f"bench-{seller.id}", Money(total))
        codes = [(await vouchers.issue_voucher(seller.id, Money(VOUCHER_CENTS))).code for _ in range(count)]
        big = (await vouchers.issue_voucher(seller.id, Money(BIG_VOUCHER_CENTS))).code
        key = await accounts.create_api_key("store", "saint-honore")
        return {"key": key, "codes": codes, "big": big}

    print(json.dumps(_run(work)()))


def _server_env(server) -> dict[str, str]:
    url = os.environ.get("BENCH_DATABASE_URL") if server.database == "postgresql" else None
    return _environment(server.data_dir, url)


def seeded(server, count: int) -> dict:
    done = subprocess.run([sys.executable, __file__, "--seed", str(count)], cwd=REPO_ROOT, env=_server_env(server),
                          capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        raise BenchFailed(f"seeding failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def ledger_check(server) -> tuple[bool, str]:
    done = subprocess.run([str(FOREVER), "ledger", "check"], cwd=REPO_ROOT, env=_server_env(server),
                          capture_output=True, text=True, timeout=600, check=False)
    return done.returncode == 0, (done.stdout + done.stderr).strip()


# --- measuring ------------------------------------------------------------------------------------------------


def redeem_request(port: int, auth: dict[str, str], code: str) -> bytes:
    body = json.dumps({"code": code, "amount": {"amount": SPEND_CENTS, "currency": "EUR"},
                       "order_ref": "BENCH"}, separators=(",", ":")).encode()
    return build_request("POST", "/api/v1/vouchers/redeem", port=port, headers=auth, body=body)


def run_database(label: str, database_url: str | None, args: argparse.Namespace) -> dict:
    run = {"connections": args.connections, "duration": args.duration, "warmup": args.warmup}
    if database_url:
        os.environ["BENCH_DATABASE_URL"] = database_url
    with running_server(database_url) as server:
        print(f"[{label}] server {server.base_url} (pid {server.pid}); seeding {args.vouchers} vouchers ...",
              flush=True)
        data = seeded(server, args.vouchers)
        auth = {"Authorization": f"Bearer {data['key']}"}
        ping = build_request("GET", "/api/v1/ping", port=server.port, headers=auth)
        uncontended = Cycle([redeem_request(server.port, auth, code) for code in data["codes"]])
        contended = redeem_request(server.port, auth, data["big"])
        results: list[LoadResult] = []
        for name, source in (("GET /api/v1/ping", ping), ("redeem uncontended", uncontended),
                             ("redeem contended", contended)):
            print(f"[{label}] measuring {name} ...", flush=True)
            results.append(measure(server.port, source, label=f"{label}: {name}", **run))
            server.check_alive()
        ok, ledger_output = ledger_check(server)
        print(f"[{label}] forever ledger check: {'ok' if ok else 'FAILED'}\n  " + ledger_output.replace("\n", "\n  "),
              flush=True)
    return {"database": label, "results": results, "ledger_ok": ok, "ledger": ledger_output}


def postgres_url() -> tuple[object, str]:
    sys.path.insert(0, str(REPO_ROOT / "tests"))
    from pgcluster import PostgresCluster

    cluster = PostgresCluster().start()
    cluster.create_database("bench_vouchers")
    return cluster, cluster.url("bench_vouchers")


def unexpected_codes(result: LoadResult) -> dict[str, int]:
    return {key: n for key, n in result.codes.items() if key.split(" ", 1)[-1] not in ALLOWED_CODES}


def print_table(runs: list[dict]) -> None:
    header = (f"{'endpoint':<32} {'requests/s':>11} {'p50 ms':>8} {'p99 ms':>8} {'requests':>9} "
              f"{'non-2xx':>8} {'errors':>7}  non-2xx by status/code")
    print(header)
    print("-" * len(header))
    for run in runs:
        for r in run["results"]:
            codes = ", ".join(f"{k}: {v}" for k, v in sorted(r.codes.items())) or "-"
            print(f"{r.label:<32} {r.rps:>11.1f} {r.p50_ms:>8.2f} {r.p99_ms:>8.2f} {r.requests:>9} "
                  f"{r.non_2xx:>8} {r.error_count:>7}  {codes}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Voucher redemptions/s vs GET /ping, same app, same run.")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--sqlite", action="store_true", help="SQLite only")
    which.add_argument("--postgres", action="store_true", help="PostgreSQL only")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds measured per endpoint (10)")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up per endpoint (2)")
    parser.add_argument("--connections", type=int, default=32, help="concurrent keep-alive connections (32)")
    parser.add_argument("--vouchers", type=int, default=2000, help="vouchers of the uncontended run (2000)")
    parser.add_argument("--no-json", action="store_true", help="do not write bench/results/vouchers-*.json")
    parser.add_argument("--seed", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.seed is not None:
        seed(args.seed)
        return 0

    started = dt.datetime.now(dt.UTC).astimezone()
    runs: list[dict] = []
    cluster = None
    try:
        if not args.postgres:
            runs.append(run_database("sqlite", None, args))
        if not args.sqlite:
            cluster, url = postgres_url()
            runs.append(run_database("postgresql", url, args))
    except (ServerFailed, BenchFailed, RuntimeError, TimeoutError) as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    finally:
        if cluster is not None:
            cluster.stop()

    print()
    print_table(runs)
    print()
    verdicts = {}
    for run in runs:
        ping, uncontended, contended = run["results"]
        name = run["database"]
        if name == "sqlite":
            verdicts[f"{name} uncontended >= {TARGET_UNCONTENDED_SQLITE:g}/s"] = uncontended.rps >= TARGET_UNCONTENDED_SQLITE
        verdicts[f"{name} contended >= {TARGET_CONTENDED:g}/s"] = contended.rps >= TARGET_CONTENDED
        for r in run["results"]:
            verdicts[f"{r.label}: no error but insufficient_balance"] = not unexpected_codes(r) and not r.error_count
        verdicts[f"{name} ledger check"] = run["ledger_ok"]
        print(f"{name}: uncontended {uncontended.rps / ping.rps:.3f} x ping, contended {contended.rps / ping.rps:.3f}"
              f" x ping")
    for what, ok in verdicts.items():
        print(f"  {'PASS' if ok else 'FAIL'}  {what}")

    if not args.no_json:
        RESULTS_DIR.mkdir(exist_ok=True)
        path = RESULTS_DIR / f"vouchers-{started:%Y%m%dT%H%M%S}.json"
        path.write_text(json.dumps({
            "benchmark": "vouchers", "started_at": started.isoformat(timespec="seconds"),
            "python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
            "settings": {"connections": args.connections, "duration": args.duration, "warmup": args.warmup,
                         "vouchers": args.vouchers, "spend_cents": SPEND_CENTS},
            "runs": [{"database": run["database"], "ledger_ok": run["ledger_ok"], "ledger": run["ledger"],
                      "results": [r.as_dict() for r in run["results"]]} for run in runs],
            "targets": {"uncontended_sqlite_min_rps": TARGET_UNCONTENDED_SQLITE,
                        "contended_min_rps": TARGET_CONTENDED, "allowed_codes": sorted(ALLOWED_CODES)},
            "pass": verdicts,
        }, indent=2) + "\n")
        print(f"figures written to {path.relative_to(REPO_ROOT)}")
    failed = any(not run["ledger_ok"] or any(unexpected_codes(r) or r.error_count for r in run["results"])
                 for run in runs)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
