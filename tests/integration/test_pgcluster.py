"""The throwaway PostgreSQL cluster starts, clones a template database and stops cleanly."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

import asyncpg
import pytest

try:
    from tests.pgcluster import ENV_URL, PostgresCluster, find_pg_bin, port_accepts
except ImportError:  # pytest started from elsewhere than the repository root
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from tests.pgcluster import ENV_URL, PostgresCluster, find_pg_bin, port_accepts


def test_cluster_start_template_copy_drop_stop() -> None:
    if os.environ.get(ENV_URL):
        try:
            find_pg_bin()
        except RuntimeError:
            pytest.skip(f"{ENV_URL} is set and there is no local PostgreSQL to start")

    t0 = time.perf_counter()
    cluster = PostgresCluster(use_env=False).start()
    started = time.perf_counter() - t0
    try:
        assert cluster.host == "127.0.0.1" and cluster.user == "forever"
        assert cluster.url("x") == f"postgresql://forever@127.0.0.1:{cluster.port}/x"
        assert port_accepts(cluster.host, cluster.port)

        cluster.create_database("smoke_template")

        async def fill_template() -> None:
            conn = await asyncpg.connect(cluster.url("smoke_template"))
            try:
                await conn.execute("CREATE TABLE item (id int PRIMARY KEY, name text NOT NULL)")
                await conn.execute("INSERT INTO item VALUES (1, 'jacket')")
            finally:
                await conn.close()

        asyncio.run(fill_template())

        t1 = time.perf_counter()
        cluster.create_database("t123", template="smoke_template")
        cloned = time.perf_counter() - t1

        async def read_copy() -> list[tuple[int, str]]:
            conn = await asyncpg.connect(cluster.url("t123"))
            try:
                return [tuple(r) for r in await conn.fetch("SELECT id, name FROM item")]
            finally:
                await conn.close()

        assert asyncio.run(read_copy()) == [(1, "jacket")]

        async def hold_connection_then_drop() -> None:
            conn = await asyncpg.connect(cluster.url("t123"))  # DROP ... WITH (FORCE) ends it
            try:
                await asyncio.to_thread(cluster.drop_database, "t123")
            finally:
                conn.terminate()

        asyncio.run(hold_connection_then_drop())

        async def database_names() -> set[str]:
            conn = await asyncpg.connect(cluster.url("postgres"))
            try:
                return {r["datname"] for r in await conn.fetch("SELECT datname FROM pg_database")}
            finally:
                await conn.close()

        names = asyncio.run(database_names())
        assert "t123" not in names and "smoke_template" in names
    finally:
        t2 = time.perf_counter()
        cluster.stop()
        stopped = time.perf_counter() - t2

    base_dir = cluster.base_dir
    assert base_dir is not None and not base_dir.exists()
    assert not port_accepts("127.0.0.1", cluster.port)
    cluster.stop()  # a second stop is harmless
    print(f"\npgcluster: start {started:.2f}s, clone from template {cloned * 1000:.0f}ms, stop {stopped:.2f}s")
