"""Benchmark: the resale shop's search over 1,000,000 listings, on SQLite and on PostgreSQL, through the
service function beside the bare SQL of the same query, in the same run.

For each database (a fresh SQLite file; a throwaway PostgreSQL cluster from tests/pgcluster.py), it migrates
the schema, generates `--listings` (1,000,000) listings in one INSERT ... SELECT (a recursive CTE on SQLite,
generate_series on PostgreSQL: 16 categories, their sizes, three conditions, 22 seasons, prices from 20 to
1,020 EUR; about 90 % live, the rest in stock or sold) with the secondary indexes dropped and built again
after, then runs ANALYZE (VACUUM ANALYZE on PostgreSQL). It then times, `--iterations` (200) times each after
`--warmup` (20) untimed runs, alternating the two so that drift hits both:

  * first page:  category=jackets & size=M, newest first, 20 pieces;
  * deep page:   category=jackets, price ascending, 20 pieces after a cursor 10,000 pieces in;

each through `forever.listings.service.search_listings` (validation, SQL, rows to Structs, the next cursor)
and as the bare statement it runs (`service.search_sql`) on a plain driver connection. It prints p50/p95/max
in ms, the service/bare ratio of the p50s, and PASS/FAIL against the issue's targets: p95 at most 50 ms on
PostgreSQL and 100 ms on SQLite. For information (no target) it also times an unfiltered first page by price,
a name search and the facet counts of one category (uncached). The query plans of the two measured statements
are printed.

    .venv/bin/python bench/listings.py [--sqlite | --postgres] [--listings 1000000] [--iterations 200]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "tests"))
os.environ.pop("FOREVER_DATABASE_URL", None)

from forever import db  # noqa: E402
from forever.listings import model, service  # noqa: E402
from forever.listings.schemas import ListingQuery  # noqa: E402
from forever.pagination import encode_cursor  # noqa: E402
from forever.settings import Settings, use_settings  # noqa: E402

TARGET_P95_MS = {"sqlite": 100.0, "postgresql": 50.0}
DEEP_AFTER = 10_000

CATEGORIES = model.RESALE_CATEGORIES  # 16
LETTERS = ("XS", "S", "M", "L", "XL")
SIZES = {"trousers": ("28", "30", "32", "34", "36"), "denim": ("28", "30", "32", "34", "36"),
         "shorts": ("28", "30", "32", "34", "36"), "suits": ("44", "46", "48", "50", "52"),
         "shoes": ("40", "41", "42", "43", "44"), "bags": ("U",), "small_leather_goods": ("U",),
         "accessories": ("U",)}
MODELS = (("Ami de Cœur", "ami de coeur"), ("Paris Paris", "paris paris"), ("Écru Boxy", "ecru boxy"),
          ("Oversized", "oversized"), ("Alexandre Mattiussi", "alexandre mattiussi"),
          ("Heart Logo", "heart logo"),
          ("Tonal", "tonal"), ("Classic", "classic"))
SEASONS = tuple(f"{half}{year:02d}" for year in range(16, 27) for half in ("SS", "FW"))  # 22
CONDITIONS = ("new_with_tags",) * 2 + ("excellent",) * 5 + ("very_good",) * 3  # 20 %, 50 %, 30 %


def _case(selector: str, values: tuple[str, ...]) -> str:
    whens = " ".join(f"WHEN {index} THEN '{value}'" for index, value in enumerate(values))
    return f"CASE {selector} % {len(values)} {whens} END"


def _size_case() -> str:
    whens = []
    for index, category in enumerate(CATEGORIES):
        whens.append(f"WHEN {index} THEN {_case('(h / 7)', SIZES.get(category, LETTERS))}")
    return f"CASE i % {len(CATEGORIES)} {' '.join(whens)} END"


def generate_sql(count: int, sqlite: bool) -> str:
    """One INSERT ... SELECT writing `count` listings, computed from their number `i` and a hash `h` of it."""
    names = " ".join(f"WHEN {index} THEN '{name.replace(chr(39), chr(39) * 2)} '" for index, (name, _) in
                     enumerate(MODELS))
    keys = " ".join(f"WHEN {index} THEN '{key} '" for index, (_, key) in enumerate(MODELS))
    category_names = " ".join(f"WHEN {index} THEN '{category.replace('_', ' ')}'"
                              for index, category in enumerate(CATEGORIES))
    if sqlite:
        numbers = f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {count})"
        source = "SELECT i, (i * 2654435761) % 4294967296 AS h FROM n"
        listing_id = "printf('00000000-0000-4000-8000-%012x', i)"
        moment, seller = "'2026-01-01 00:00:00+00:00'", "'5f1c0a2e-0000-4000-8000-000000000001'"
        false, materials = "0", "'[]'"
    else:
        numbers = ""
        source = (f"SELECT i, (i::bigint * 2654435761) % 4294967296 AS h "
                  f"FROM generate_series(1, {count}) AS g(i)")
        listing_id = "('00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid"
        moment, seller, false, materials = "'2026-01-01 00:00:00+00'::timestamptz", \
            "'5f1c0a2e-0000-4000-8000-000000000001'::uuid", "false", "'[]'::json"
    status = "CASE (h / 1000003) % 20 WHEN 0 THEN 'stock' WHEN 1 THEN 'sold' ELSE 'live' END"
    price = "(2000 + ((h / 1471) % 100000) / 500 * 500)"
    return f"""
        {numbers}
        INSERT INTO listing (id, tradein_item, seller, product_ref, name, name_key, category, season, colour,
                             materials, size, condition, retail_price, grid_price, grid_version, price,
                             price_overridden, currency, status, entered_at, published_at, shelf_seq)
        SELECT {listing_id}, 'bench-' || i, {seller}, 'BENCH-' || (i % 16) || '-' || ((h / 13) % 8),
               (CASE (h / 13) % 8 {names} END) || (CASE i % 16 {category_names} END),
               (CASE (h / 13) % 8 {keys} END) || (CASE i % 16 {category_names} END),
               {_case('i', CATEGORIES)}, {_case('(h / 70)', SEASONS)}, 'Black', {materials}, {_size_case()},
               {_case('(h / 3)', CONDITIONS)}, {price} * 2, {price}, '2026.1', {price}, {false}, 'EUR',
               {status}, {moment}, CASE WHEN {status} = 'stock' THEN NULL ELSE {moment} END,
               CASE WHEN {status} = 'stock' THEN NULL ELSE i END
        FROM ({source}) AS t
    """


# --- one database ---------------------------------------------------------------------------------------------


class BareSQL:
    """The same statements on a plain driver connection: sqlite3, or asyncpg."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sqlite = url.startswith("sqlite")
        self.connection = None

    async def open(self) -> None:
        if self.sqlite:
            self.connection = sqlite3.connect(self.url.removeprefix("sqlite://"))
        else:
            import asyncpg

            self.connection = await asyncpg.connect(self.url)

    async def close(self) -> None:
        if self.sqlite:
            self.connection.close()
        else:
            await self.connection.close()

    def _compiled(self, sql: str) -> str:
        if self.sqlite:
            return sql.replace("{}", "?")
        parts = sql.split("{}")
        return "".join(part + (f"${index}" if index < len(parts) else "")
                       for index, part in enumerate(parts, 1))

    async def fetch(self, sql: str, args: list) -> list:
        if self.sqlite:
            return self.connection.execute(self._compiled(sql), args).fetchall()
        return await self.connection.fetch(self._compiled(sql), *args)

    async def execute(self, sql: str) -> None:
        if self.sqlite:
            self.connection.executescript(sql)
            self.connection.commit()
        else:
            await self.connection.execute(sql)

    async def secondary_indexes(self) -> list[tuple[str, str]]:
        """(name, CREATE statement) of the listing table's indexes that no constraint owns."""
        if self.sqlite:
            rows = self.connection.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                                           "AND tbl_name = 'listing' AND sql IS NOT NULL").fetchall()
            return [(row[0], row[1]) for row in rows]
        rows = await self.connection.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'listing' "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint)")
        return [(row[0], row[1]) for row in rows]

    async def bulk_load(self, sql: str) -> None:
        """Run a bulk INSERT with the secondary indexes dropped, then build them again (much faster than
        keeping them up to date row by row; the measured queries run on the same indexes either way)."""
        indexes = await self.secondary_indexes()
        if self.sqlite:
            self.connection.execute("PRAGMA synchronous = OFF")
            self.connection.execute("PRAGMA cache_size = -262144")
        else:
            await self.connection.execute("SET maintenance_work_mem = '256MB'")
            await self.connection.execute("SET synchronous_commit = off")
        for name, _ in indexes:
            await self.execute(f"DROP INDEX {name}")
        await self.execute(sql)
        for _, create in indexes:
            await self.execute(create)
        # Statistics for the planners, and on PostgreSQL the visibility map index-only scans need: what
        # autovacuum gives a table that has settled.
        await self.execute("ANALYZE" if self.sqlite else "VACUUM ANALYZE listing")

    async def plan(self, sql: str, args: list) -> str:
        if self.sqlite:
            rows = self.connection.execute("EXPLAIN QUERY PLAN " + self._compiled(sql), args).fetchall()
            return "\n".join(row[-1] for row in rows)
        rows = await self.connection.fetch("EXPLAIN " + self._compiled(sql), *args)
        return "\n".join(row[0] for row in rows)


def _ms(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def rank(p: float) -> float:  # nearest rank
        return ordered[max(0, min(len(ordered) - 1, round(p * len(ordered) + 0.5) - 1))]

    return {"p50": rank(0.50), "p95": rank(0.95), "max": ordered[-1], "mean": statistics.fmean(ordered),
            "n": len(ordered)}


async def _timed(call) -> float:
    started = time.perf_counter()
    await call()
    return (time.perf_counter() - started) * 1000


async def measure_pair(query: ListingQuery, bare: BareSQL, iterations: int, warmup: int) -> dict:
    """Service and bare SQL of one query, alternating; the answers must agree."""
    sql, args = service.search_sql(query)
    page = await service.search_listings(query)
    rows = await bare.fetch(sql, args)
    assert [item.id for item in page.items] == [str(row[0]) for row in rows[:query.limit]], \
        "service and SQL differ"
    assert len(page.items) == query.limit, f"expected a full page, got {len(page.items)}"
    through, direct = [], []
    for index in range(warmup + iterations):
        a = await _timed(lambda: service.search_listings(query))
        b = await _timed(lambda: bare.fetch(sql, args))
        if index >= warmup:
            through.append(a)
            direct.append(b)
    return {"service": _ms(through), "bare": _ms(direct), "plan": await bare.plan(sql, args)}


async def measure_alone(call, iterations: int, warmup: int) -> dict:
    samples = []
    for index in range(warmup + iterations):
        elapsed = await _timed(call)
        if index >= warmup:
            samples.append(elapsed)
    return {"service": _ms(samples)}


async def run_database(label: str, url: str, args: argparse.Namespace, data_dir: Path) -> dict:
    use_settings(Settings(data_dir=data_dir, database_url=url, secret_key=b"bench-listings"))
    engine = db.make_engine(url)
    db.bind(engine)
    await db.open_pool(engine)
    bare = BareSQL(url)
    try:
        print(f"[{label}] migrating ...", flush=True)
        await db.migrate()
        await bare.open()
        started = time.perf_counter()
        print(f"[{label}] generating {args.listings:,} listings ...", flush=True)
        await bare.bulk_load(generate_sql(args.listings, bare.sqlite))
        load_s = time.perf_counter() - started
        live = (await bare.fetch("SELECT COUNT(*) FROM listing WHERE status = 'live'", []))[0][0]
        print(f"[{label}] {args.listings:,} listings ({live:,} live) in {load_s:.1f} s", flush=True)

        first = ListingQuery(category="jackets", size="M", sort=model.NEWEST)
        deep_key = (await bare.fetch(
            "SELECT price, shelf_seq FROM listing WHERE status = 'live' AND category = {} "
            "ORDER BY price, shelf_seq LIMIT 1 OFFSET {}", ["jackets", DEEP_AFTER - 1]))[0]
        deep = ListingQuery(category="jackets", sort=model.PRICE_ASC,
                            cursor=encode_cursor(model.PRICE_ASC, deep_key[0], deep_key[1]))
        results = {}
        for name, query in (("first page: category + size, newest", first),
                            (f"deep page: category, price_asc, after {DEEP_AFTER:,}", deep)):
            print(f"[{label}] measuring {name} ...", flush=True)
            results[name] = await measure_pair(query, bare, args.iterations, args.warmup)
        informational = {
            "first page: no filter, price_desc": (lambda: service.search_listings(
                ListingQuery(sort=model.PRICE_DESC))),
            "name search q='coeur jacket', newest": (lambda: service.search_listings(
                ListingQuery(q="cœur jacket"))),
            "facets of category=jackets (uncached)": (
                lambda: _uncached_facets(ListingQuery(category="jackets"))),
        }
        for name, call in informational.items():
            print(f"[{label}] measuring {name} (information) ...", flush=True)
            results[name] = await measure_alone(call, max(5, args.iterations // 20), 1)
    finally:
        await bare.close()
        await db.close_pool(engine)
    return {"database": label, "listings": args.listings, "live": live, "load_s": load_s, "results": results}


async def _uncached_facets(query: ListingQuery):
    service._facets_cache.clear()  # the shop caches them for seconds; this measures the queries themselves
    return await service.listing_facets(query)


# --- report ---------------------------------------------------------------------------------------------------


def print_report(runs: list[dict]) -> dict[str, bool]:
    header = f"{'database':<11} {'query':<48} {'':>8} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}"
    print(header)
    print("-" * len(header))
    verdicts = {}
    for run in runs:
        for name, result in run["results"].items():
            for kind in ("service", "bare"):
                if kind in result:
                    figures = result[kind]
                    print(f"{run['database']:<11} {name:<48} {kind:>8} {figures['p50']:>8.2f} "
                          f"{figures['p95']:>8.2f} {figures['max']:>8.2f}")
            if "bare" in result:
                ratio = result["service"]["p50"] / result["bare"]["p50"]
                print(f"{'':<11} {'':<48} {'ratio':>8} {ratio:>8.2f}  (service p50 / bare SQL p50)")
                target = TARGET_P95_MS[run["database"]]
                p95 = result["service"]["p95"]
                verdicts[f"{run['database']}: {name}: p95 {p95:.1f} ms <= {target:g} ms"] = p95 <= target
    print()
    for run in runs:
        print(f"{run['database']}: {run['listings']:,} listings ({run['live']:,} live) generated in "
              f"{run['load_s']:.1f} s")
        for name, result in run["results"].items():
            if "plan" in result:
                print(f"  plan of {name}:\n    " + result["plan"].replace("\n", "\n    "))
    print()
    for what, ok in verdicts.items():
        print(f"  {'PASS' if ok else 'FAIL'}  {what}")
    return verdicts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Resale search over many listings: service vs bare SQL.")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--sqlite", action="store_true", help="SQLite only")
    which.add_argument("--postgres", action="store_true", help="PostgreSQL only")
    parser.add_argument("--listings", type=int, default=1_000_000, help="listings generated (1,000,000)")
    parser.add_argument("--iterations", type=int, default=200, help="timed runs per query (200)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed runs first (20)")
    parser.add_argument("--no-json", action="store_true", help="do not write bench/results/listings-*.json")
    args = parser.parse_args(argv)
    if args.listings < DEEP_AFTER * 20:
        parser.error(f"--listings must be at least {DEEP_AFTER * 20:,} for a page {DEEP_AFTER:,} pieces deep")

    started = dt.datetime.now(dt.UTC).astimezone()
    runs: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="forever-bench-listings-") as scratch:
        scratch_dir = Path(scratch)
        if not args.postgres:
            url = f"sqlite:///{scratch_dir / 'listings.sqlite3'}"
            runs.append(asyncio.run(run_database("sqlite", url, args, scratch_dir)))
        if not args.sqlite:
            from pgcluster import PostgresCluster

            cluster = PostgresCluster().start()
            try:
                cluster.create_database("bench_listings")
                runs.append(asyncio.run(run_database("postgresql", cluster.url("bench_listings"), args,
                                                     scratch_dir)))
            finally:
                cluster.stop()
    print()
    verdicts = print_report(runs)
    if not args.no_json:
        RESULTS_DIR.mkdir(exist_ok=True)
        path = RESULTS_DIR / f"listings-{started:%Y%m%dT%H%M%S}.json"
        path.write_text(json.dumps({
            "benchmark": "listings", "started_at": started.isoformat(timespec="seconds"),
            "python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
            "settings": {"listings": args.listings, "iterations": args.iterations, "warmup": args.warmup},
            "runs": runs, "targets_p95_ms": TARGET_P95_MS, "pass": verdicts,
        }, indent=2) + "\n")
        print(f"figures written to {path.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
