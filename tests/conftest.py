"""Shared fixtures: a fresh, migrated database per test on SQLite and on a PostgreSQL server this run starts.

`database` is parametrised, so every test that asks for it (directly or through `app_client`) runs on both.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

# Anything imported from `forever` before a test binds its own database must not touch the work tree. One
# directory per process (each pytest-xdist worker has its own), removed when the process ends.
_SESSION_DIR = Path(tempfile.mkdtemp(prefix="forever-tests-"))
_SESSION_PID = os.getpid()
os.environ["FOREVER_DATA_DIR"] = str(_SESSION_DIR / "default")
os.environ.pop("FOREVER_DATABASE_URL", None)
# The `forever` commands the tests start (`demo`, `serve`) hash passwords at the tests' low Argon2 cost too, as
# the `settings` fixture does; tests/unit/test_password_cost.py checks the production cost.
TEST_ARGON2 = {"argon2_memory_kib": 8192, "argon2_time_cost": 1}
os.environ["FOREVER_ARGON2_MEMORY_KIB"] = str(TEST_ARGON2["argon2_memory_kib"])
os.environ["FOREVER_ARGON2_TIME_COST"] = str(TEST_ARGON2["argon2_time_cost"])
sys.path.insert(0, str(Path(__file__).resolve().parent))

from pgcluster import PostgresCluster  # noqa: E402

from forever import db  # noqa: E402
from forever.settings import Settings, use_settings  # noqa: E402

BACKENDS = ("sqlite", "postgres")
# Each pytest-xdist worker starts its own PostgreSQL server; on a shared one (FOREVER_TEST_POSTGRES_URL) each
# keeps a template of its own.
POSTGRES_TEMPLATE = f"forever_template_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"


@atexit.register
def _remove_session_dir() -> None:
    if os.getpid() == _SESSION_PID:  # not in a forked child that exits normally
        shutil.rmtree(_SESSION_DIR, ignore_errors=True)


async def _migrate(url: str) -> None:
    engine = db.make_engine(url)
    db.bind(engine)
    await db.open_pool(engine)
    try:
        await db.migrate()
    finally:
        await db.close_pool(engine)


@pytest.fixture(scope="session")
def sqlite_template() -> Path:
    """A migrated SQLite file, copied for each test."""
    path = _SESSION_DIR / "template.sqlite3"
    asyncio.run(_migrate(f"sqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """A PostgreSQL server for the whole run, with a migrated template database."""
    cluster = PostgresCluster().start()
    cluster.create_database(POSTGRES_TEMPLATE)
    asyncio.run(_migrate(cluster.url(POSTGRES_TEMPLATE)))
    yield cluster
    cluster.stop()


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh, migrated database of each backend."""
    if request.param == "sqlite":
        path = tmp_path / "forever.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    name = f"t_{uuid.uuid4().hex[:16]}"
    cluster.create_database(name, template=POSTGRES_TEMPLATE)
    yield cluster.url(name)
    cluster.drop_database(name)


@pytest.fixture
def settings(database: str, tmp_path: Path) -> Settings:
    """Settings of one test: its own database and data directory."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    # Argon2id at a low cost: the same algorithm and code path, a fraction of the time per sign-up.
    return Settings(data_dir=data_dir, database_url=database, secret_key=b"test-secret-key", **TEST_ARGON2)


@pytest.fixture
async def bound_database(settings: Settings) -> AsyncIterator[Settings]:
    """The test's database bound to every table, for calling services directly."""
    use_settings(settings)
    engine = db.make_engine(settings.database_url)
    db.bind(engine)
    await db.open_pool(engine)
    yield settings
    await db.close_pool(engine)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests last: Playwright's sync driver keeps an event loop running in this thread until the
    session ends, and the database fixtures need `asyncio.run`.

    `make test` keeps this true on each pytest-xdist worker: `--dist loadfile --no-loadscope-reorder` hands
    out whole files in this order, so a worker is given a browser file only once every other file is taken."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)
