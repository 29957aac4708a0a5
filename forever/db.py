"""The database engine: which one, how tables are bound to it, and how writes are serialised.

SQLite (the embedded default) runs in WAL mode over a small pool of long-lived connections, because
Piccolo's stock engine opens a new connection (and thread) for every query. Writes that must not race are
serialised as DESIGN.md says: on SQLite one in-process lock plus `BEGIN IMMEDIATE`; on PostgreSQL the
caller locks its parent rows with `lock_rows` (primary-key order) inside the transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import errno
import functools
import io
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import aiosqlite
from piccolo.conf.apps import AppConfig, table_finder
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction
from piccolo.engine.sqlite import ADAPTERS, SQLiteEngine, TransactionType, convert_datetime_in, dict_factory

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = NORMAL",
    "PRAGMA foreign_keys = ON",
    "PRAGMA busy_timeout = 10000",
)


Statement = tuple[str, Sequence[Any]]


class _WriteQueue:
    """Batches waiting for the next group commit of one event loop."""

    def __init__(self) -> None:
        self.pending: list[tuple[Sequence[Statement], asyncio.Future[None]]] = []
        self.flushing = False


def _apply_batches(connection: sqlite3.Connection, batches: list[Sequence[Statement]]) -> list[Exception | None]:
    """Inside an immediate transaction: every batch, all or nothing, failing alone.

    Optimistic, as a batch almost never fails: all of them under one savepoint; only if one fails are they
    undone and run again one by one, each under its own (two statements a group rather than two a batch).
    """
    connection.execute("SAVEPOINT batches")
    try:
        for statements in batches:
            _run(connection, statements)
    except Exception:
        connection.execute("ROLLBACK TO batches")
        outcomes = [_apply_alone(connection, statements) for statements in batches]
    else:
        outcomes = [None] * len(batches)
    connection.execute("RELEASE batches")
    return outcomes


def _apply_alone(connection: sqlite3.Connection, statements: Sequence[Statement]) -> Exception | None:
    connection.execute("SAVEPOINT batch")
    try:
        _run(connection, statements)
    except Exception as exc:
        connection.execute("ROLLBACK TO batch")
        return exc
    finally:
        connection.execute("RELEASE batch")
    return None


def _run(connection: sqlite3.Connection, statements: Sequence[Statement]) -> None:
    for sql, args in statements:
        connection.execute(sql, args)


class _LeasedConnection:
    """A pooled connection handed to Piccolo's transaction; `close()` gives it back instead."""

    def __init__(self, connection: aiosqlite.Connection, engine: PooledSQLiteEngine) -> None:
        self._connection = connection
        self._engine = engine

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)

    async def close(self) -> None:
        await self._engine._release(self._connection)


class PooledSQLiteEngine(SQLiteEngine):
    """Piccolo's SQLite engine over a pool of WAL-mode connections, one pool per event loop."""

    def __init__(self, path: str, pool_size: int = 4) -> None:
        super().__init__(path=path, timeout=10.0, check_same_thread=False)
        self.pool_size = pool_size
        self._pools: dict[int, asyncio.Queue[aiosqlite.Connection]] = {}
        self._opened: dict[int, list[aiosqlite.Connection]] = {}
        self._write_locks: dict[int, asyncio.Lock] = {}
        self._groups: dict[int, _WriteQueue] = {}
        self._readers: dict[int, sqlite3.Connection] = {}

    def write_lock(self) -> asyncio.Lock:
        """The one in-process writer lock of the running event loop."""
        loop_id = id(asyncio.get_running_loop())
        lock = self._write_locks.get(loop_id)
        if lock is None:
            lock = self._write_locks[loop_id] = asyncio.Lock()
        return lock

    async def _open(self) -> aiosqlite.Connection:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        connection = await aiosqlite.connect(**self.connection_kwargs)
        connection.row_factory = dict_factory  # type: ignore[assignment]
        for pragma in SQLITE_PRAGMAS:
            await connection.execute(pragma)
        return connection

    async def _acquire(self) -> aiosqlite.Connection:
        loop_id = id(asyncio.get_running_loop())
        pool = self._pools.get(loop_id)
        if pool is None:
            pool = self._pools[loop_id] = asyncio.Queue()
            self._opened[loop_id] = []
        if pool.empty() and len(self._opened[loop_id]) < self.pool_size:
            connection = await self._open()
            self._opened[loop_id].append(connection)
            return connection
        return await pool.get()

    async def _release(self, connection: aiosqlite.Connection) -> None:
        if connection.in_transaction:
            await connection.rollback()
        self._pools[id(asyncio.get_running_loop())].put_nowait(connection)

    async def get_connection(self) -> Any:
        return _LeasedConnection(await self._acquire(), self)

    def read_now(self, query: str, args: Sequence[Any]) -> list[dict[str, Any]]:
        """Run a short read on the calling (event loop) thread, on a connection of its own.

        A hand-off to a connection's thread costs about 0.3 ms of CPU (measured), an indexed look-up in
        WAL mode a few microseconds and never waits for writers: the hot look-ups (a bearer token, a few
        products) are cheaper run in place. Never for scans or anything that might wait on a lock.
        """
        reader = self._readers.get(threading.get_ident())
        if reader is None:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            reader = sqlite3.connect(**{**self.connection_kwargs, "timeout": 0.25})
            reader.row_factory = dict_factory
            for pragma in SQLITE_PRAGMAS:
                reader.execute(pragma)
            self._readers[threading.get_ident()] = reader
        return reader.execute(query, args).fetchall()

    async def _run_in_new_connection(self, query: str, args: list[Any] | None = None,
                                     query_type: str = "generic", table: Any = None) -> Any:
        connection = await self._acquire()
        try:
            # One hop to the connection's thread (execute + fetch + close would be three).
            return await connection.execute_fetchall(query, args or [])
        finally:
            await self._release(connection)

    async def _run_in_existing_connection(self, connection: Any, query: str, args: list[Any] | None = None,
                                          query_type: str = "generic", table: Any = None) -> Any:
        transaction = self.current_transaction.get()
        if transaction is not None and transaction.transaction_type is TransactionType.immediate:
            # Inside BEGIN IMMEDIATE this process holds SQLite's write lock (and our writer lock): no statement
            # can wait on anything, so it runs in place. A hop to the connection's thread costs ~0.3 ms of CPU
            # and a redemption makes ten of them while holding the writer lock (profiled, bench/vouchers.py).
            # BEGIN and COMMIT, which may wait (another process, a checkpoint), still go through the thread.
            raw = connection._connection if isinstance(connection, _LeasedConnection) else connection
            return raw._conn.execute(query, args or []).fetchall()
        return await connection.execute_fetchall(query, args or [])

    async def write_group(self, statements: Sequence[Statement]) -> None:
        """Commit `statements` atomically, grouped with the other batches waiting at this moment.

        Group commit: while one group is being written, new batches queue up; the next group writes them all
        in one `BEGIN IMMEDIATE … COMMIT`, each batch inside its own savepoint so one failing batch fails alone.
        One commit for many requests, instead of one each under the writer lock (bench/quotes.py: the lock, not
        the CPU, was the bottleneck).

        BEGIN and COMMIT, which may wait (another process, a checkpoint), go to the connection's thread; the
        inserts between them run in place, as in `_run_in_existing_connection`: this process then holds SQLite's
        write lock, so nothing they do waits. Run on the thread they made both threads trade the GIL at every
        statement (bench/quotes.py, served: 4 context switches and 500 µs of CPU a quote, against 2 and 400).
        """
        loop = asyncio.get_running_loop()
        queue = self._groups.setdefault(id(loop), _WriteQueue())
        done = loop.create_future()
        queue.pending.append((statements, done))
        if not queue.flushing:
            queue.flushing = True
            loop.create_task(self._flush(queue))
        await done

    async def _flush(self, queue: _WriteQueue) -> None:
        try:
            while queue.pending:
                group, queue.pending = queue.pending, []
                try:
                    async with self.write_lock():
                        connection = await self._acquire()
                        try:
                            raw = connection._conn
                            await connection._execute(raw.execute, "BEGIN IMMEDIATE")
                            try:
                                outcomes = _apply_batches(raw, [statements for statements, _ in group])
                                await connection._execute(raw.execute, "COMMIT")
                            except BaseException:
                                if raw.in_transaction:
                                    await connection._execute(raw.execute, "ROLLBACK")
                                raise
                        finally:
                            await self._release(connection)
                except Exception as exc:  # the whole group failed (e.g. the disk): every batch hears it
                    outcomes = [exc] * len(group)
                for (_, done), outcome in zip(group, outcomes, strict=True):
                    if done.done():
                        continue
                    if outcome is None:
                        done.set_result(None)
                    else:
                        done.set_exception(outcome)
        finally:
            queue.flushing = False

    async def close(self) -> None:
        """Close every pooled connection of the running loop."""
        loop_id = id(asyncio.get_running_loop())
        for connection in self._opened.pop(loop_id, []):
            await connection.close()
        reader = self._readers.pop(threading.get_ident(), None)
        if reader is not None:
            reader.close()
        self._pools.pop(loop_id, None)
        self._write_locks.pop(loop_id, None)


class _PostgresTransaction(PostgresTransaction):
    """Piccolo's transaction, made to survive a lost connection (PostgreSQL restarted, the network cut).

    When COMMIT or ROLLBACK fails, Piccolo's own leaves itself as the task's current transaction (every later
    transaction of the task joins the dead one), keeps the connection out of the pool (for good, if it is still
    open) and reports the failed ROLLBACK instead of the error that caused it; when BEGIN fails it keeps the
    connection too. Here the connection always goes back (asyncpg replaces a broken one on the next acquire),
    the task is left without a transaction, and the error raised is the one that matters.
    """

    __slots__ = ()

    async def __aenter__(self) -> PostgresTransaction:
        if self._parent is not None:
            return self._parent
        self.connection = await self.get_connection()
        try:
            self.transaction = self.connection.transaction()
            await self.begin()
        except BaseException:
            await self._hand_back()
            raise
        self.context = self.engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type: Any, exception: BaseException | None, traceback: Any) -> bool:
        if self._parent:
            return exception is None
        try:
            if exception is None:
                if not self._committed and not self._rolled_back:
                    await self.commit()
            elif not self._rolled_back:
                # Without a connection there is nothing to roll back: the server already did.
                with contextlib.suppress(Exception):
                    await self.rollback()
        finally:
            self.engine.current_transaction.reset(self.context)
            await self._hand_back()
        return exception is None

    async def _hand_back(self) -> None:
        # A connection that cannot be reset is terminated by asyncpg, which frees its slot: nothing left to do.
        with contextlib.suppress(Exception):
            if self.engine.pool:
                await self.engine.pool.release(self.connection)
            else:
                await self.connection.close()


class PooledPostgresEngine(PostgresEngine):
    """Piccolo's PostgreSQL engine, whose transactions give lost connections back to the pool."""

    def transaction(self, allow_nested: bool = True) -> PostgresTransaction:
        return _PostgresTransaction(engine=self, allow_nested=allow_nested)


def domain_app(name: str, depends_on: Sequence[str] = ()) -> AppConfig:
    """The Piccolo app of one domain package: its `tables` module and its `piccolo_migrations` folder."""
    package = Path(__file__).resolve().parent / name
    return AppConfig(
        app_name=name,
        migrations_folder_path=str(package / "piccolo_migrations"),
        table_classes=table_finder(modules=[f"forever.{name}.tables"], exclude_imported=True),
        migration_dependencies=[f"forever.{dependency}.piccolo_app" for dependency in depends_on],
        commands=[],
    )


def make_engine(url: str) -> Engine:
    """An engine for `sqlite:///abs/path.sqlite3` or `postgresql://user:pw@host:port/db`."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = url.removeprefix("sqlite://")
        if not path or path == "/":
            raise ValueError(f"no file in database URL {url!r}")
        return PooledSQLiteEngine(path=path)
    if parsed.scheme in ("postgresql", "postgres"):
        return PooledPostgresEngine(config={"dsn": url}, log_queries=False)
    raise ValueError(f"unsupported database URL {url!r}: use sqlite:///path or postgresql://…")


def engine() -> Engine:
    """The engine every table is bound to now."""
    from forever import piccolo_conf

    return piccolo_conf.DB


def is_sqlite(db: Engine | None = None) -> bool:
    return isinstance(db or engine(), SQLiteEngine)


def bind(db: Engine) -> None:
    """Point Piccolo's configuration and every table of every app (and Piccolo's own) at `db`."""
    from piccolo.apps.migrations.tables import Migration

    from forever import piccolo_conf

    piccolo_conf.DB = db
    Migration._meta.db = db
    for app_config in piccolo_conf.APP_REGISTRY.app_configs.values():
        for table in app_config.table_classes:
            table._meta.db = db


async def open_pool(db: Engine) -> None:
    if isinstance(db, PostgresEngine):
        await db.start_connection_pool(min_size=2, max_size=20)


async def close_pool(db: Engine) -> None:
    if isinstance(db, PostgresEngine):
        with contextlib.suppress(Exception):
            await db.close_connection_pool()
    elif isinstance(db, PooledSQLiteEngine):
        await db.close()


@contextlib.asynccontextmanager
async def write_transaction() -> AsyncIterator[None]:
    """A transaction for a use case that writes; nested calls join the outer one.

    On SQLite it takes the process's writer lock and `BEGIN IMMEDIATE`, so two writers never interleave
    (a deferred transaction fails with `database is locked` under contention, measured). On PostgreSQL
    the caller must still lock the rows it reads-then-writes (`lock_rows("UPDATE")`, primary-key order).
    """
    db = engine()
    if db.current_transaction.get() is not None:
        yield
        return
    if isinstance(db, PooledSQLiteEngine):
        async with db.write_lock(), db.transaction(transaction_type=TransactionType.immediate):
            yield
    else:
        async with db.transaction():
            yield


@functools.cache
def _placeholders(sql: str, sqlite: bool) -> str:
    """`{}` placeholders as the driver wants them: `?` for SQLite, `$1, $2, …` for PostgreSQL."""
    if sqlite:
        return sql.replace("{}", "?")
    parts = sql.split("{}")
    return "".join(part + (f"${index}" if index < len(parts) else "") for index, part in enumerate(parts, 1))


# For `_sqlite_datetime`: the text of each whole UTC second written lately,
# by (day ordinal, hour, minute, second).
_second_texts: dict[tuple[int, int, int, int], str] = {}


def _sqlite_datetime(value: dt.datetime) -> str:
    """The text Piccolo stores for `value` (`str()` of it in UTC), the part up to the second made once.

    `str()` of a datetime costs 15,000 instructions (C's printf, then the offset); a quote writes two
    (bench/quotes.py, callgrind). Piccolo's own text matters: SQLite compares these columns as text.
    """
    if value.tzinfo is not dt.UTC:
        return convert_datetime_in(value)
    second = (value.toordinal(), value.hour, value.minute, value.second)
    text = _second_texts.get(second)
    if text is None:
        if len(_second_texts) > 256:
            _second_texts.clear()
        text = _second_texts[second] = str(value.replace(microsecond=0)).removesuffix("+00:00")
    return f"{text}.{value.microsecond:06d}+00:00" if value.microsecond else f"{text}+00:00"


# sqlite3 calls a registered adapter through a slow generic path (about 2 µs a UUID, 3 µs a datetime, and a
# failed look-up for every bool, measured): hot statements hand it plain values made by Piccolo's own adapters.
_SQLITE_VALUES: dict[type, Any] = {**ADAPTERS, dt.datetime: _sqlite_datetime, bool: int}
# Statement -> the positions of its values that needed adapting the first time it ran. Looking at those only
# spares a pass over every value (a quote's lines have 55, five of them bools); a value of another type at
# another position later is still stored right, by the adapters Piccolo registered with sqlite3.
_ADAPTED_AT: dict[str, tuple[int, ...]] = {}


def _sqlite_values(sql: str, args: Sequence[Any]) -> Sequence[Any]:
    """`args` as the values SQLite stores, exactly as Piccolo's adapters would write them."""
    positions = _ADAPTED_AT.get(sql)
    if positions is None:
        positions = _ADAPTED_AT[sql] = tuple(
            index for index, value in enumerate(args) if type(value) in _SQLITE_VALUES)
    if not positions:
        return args
    values = list(args)
    for index in positions:
        adapt = _SQLITE_VALUES.get(type(values[index]))
        if adapt is not None:
            values[index] = adapt(values[index])
    return values


def time_ordered_uuid() -> uuid.UUID:
    """A version 7 UUID (RFC 9562): 48 bits of Unix milliseconds, then 74 random bits.

    A key for rows written on a hot path: new keys land at the end of the primary-key index and of every
    index referencing it, where random (version 4) keys dirty one page per row all over them and a commit
    writes every such page (a quote's insert: 115 µs of CPU with random keys, 75 µs with these; measured).
    The random bits keep ids unguessable; the milliseconds tell no more than the row's own `created_at`.
    """
    return uuid.UUID(int=_time_ordered_int())


def time_ordered_id() -> str:
    """`str(time_ordered_uuid())` without the UUID object, whose making and printing (Python code both) cost a
    quote 15,000 instructions (callgrind)."""
    digits = f"{_time_ordered_int():032x}"
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


def _time_ordered_int() -> int:
    milliseconds = time.time_ns() // 1_000_000 & 0xFFFF_FFFF_FFFF
    random_bits = int.from_bytes(os.urandom(10))  # 80: 12 after the version, 62 after the variant, 6 unused
    rand_a, rand_b = random_bits >> 68, random_bits & (1 << 62) - 1
    return milliseconds << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b


async def fetch(sql: str, *args: Any) -> list[dict[str, Any]]:
    """Run one SQL statement written with `{}` placeholders, in the current transaction if there is one.

    For the few statements on a hot path: Piccolo's query builder and its QueryString cost more than the
    database itself there (profiled with bench/quotes.py). Values go through the same adapters as Piccolo's.
    Outside a transaction it only reads (on SQLite, in place: see `PooledSQLiteEngine.read_now`).
    """
    db = engine()
    transaction = db.current_transaction.get()
    if transaction is None and not sql.lstrip().upper().startswith(("SELECT", "WITH")):
        raise ValueError("outside a transaction, fetch() only reads: write with write_batch()")
    if isinstance(db, PooledSQLiteEngine):
        query = _placeholders(sql, True)
        if transaction is not None:
            return await db._run_in_existing_connection(transaction.connection, query,
                                                        _sqlite_values(query, args))
        return db.read_now(query, _sqlite_values(query, args))
    query = _placeholders(sql, False)
    if transaction is not None:
        rows = await transaction.connection.fetch(query, *args)
    elif db.pool is not None:
        rows = await db._run_in_pool(query, args)
    else:
        rows = await db._run_in_new_connection(query, args)
    return [dict(row) for row in rows]


async def write_batch(*statements: tuple[str, Sequence[Any]]) -> None:
    """Run insert/update statements (with `{}` placeholders) atomically, all or none.

    For writes that need no read inside the transaction (a new quote and its lines). On SQLite they join a
    group commit; on PostgreSQL they run in one transaction of their own; inside an open transaction they
    simply run there.
    """
    db = engine()
    sqlite = isinstance(db, PooledSQLiteEngine)
    compiled = []
    for sql, args in statements:
        query = _placeholders(sql, sqlite)
        compiled.append((query, _sqlite_values(query, args) if sqlite else list(args)))
    if db.current_transaction.get() is not None:
        for sql, args in statements:
            await fetch(sql, *args)
    elif sqlite:
        await db.write_group(compiled)
    else:
        async with db.transaction() as transaction:
            for sql, args in compiled:
                await transaction.connection.execute(sql, *args)


def is_unique_violation(exc: BaseException) -> bool:
    """True when a write failed on a unique constraint (a concurrent writer got there first)."""
    import asyncpg

    if isinstance(exc, asyncpg.UniqueViolationError):
        return True
    return isinstance(exc, sqlite3.IntegrityError) and "UNIQUE constraint failed" in str(exc)


# What a database that is down, restarting or cut off raises, as opposed to a wrong query: worth a retry.
_LOST_ERRNOS = frozenset({errno.ECONNREFUSED, errno.ECONNRESET, errno.ECONNABORTED, errno.EPIPE, errno.ETIMEDOUT,
                          errno.EHOSTUNREACH, errno.ENETUNREACH})
_SQLITE_UNREACHABLE = ("unable to open database file", "database is locked", "disk i/o error")


def is_unreachable(exc: BaseException) -> bool:
    """True when a query failed because the database cannot be reached right now: PostgreSQL stopped,
    restarting, shutting connections down or refusing them (too many), a connection lost, its file that SQLite
    cannot open or stays locked. The request may be retried in a moment (503), unlike a bug (500)."""
    import asyncpg

    if isinstance(exc, asyncpg.PostgresConnectionError | asyncpg.CannotConnectNowError | asyncpg.AdminShutdownError
                  | asyncpg.CrashShutdownError | asyncpg.TooManyConnectionsError | ConnectionError | TimeoutError):
        return True
    if isinstance(exc, asyncpg.InternalClientError):  # e.g. a COMMIT sent as the server's goodbye arrives
        return True
    if isinstance(exc, asyncpg.InterfaceError):  # asyncpg's own word for a connection or pool it closed
        return "closed" in str(exc) or "closing" in str(exc)
    if isinstance(exc, OSError):  # asyncio reports every address refused as one OSError
        return exc.errno in _LOST_ERRNOS or "Connect call failed" in str(exc)
    return isinstance(exc, sqlite3.OperationalError) and str(exc).lower().startswith(_SQLITE_UNREACHABLE)


async def migrate() -> None:
    """Bring the schema of the bound database up to date (idempotent)."""
    from piccolo.apps.migrations.commands.forwards import run_forwards

    chatter = io.StringIO()  # Piccolo prints a banner per app; keep it for the error message only
    with contextlib.redirect_stdout(chatter):
        response = await run_forwards(app_name="all", migration_id="all", fake=False)
    if not response.success:
        raise RuntimeError(f"migration failed: {response.message}\n{chatter.getvalue()}")


async def ping() -> None:
    """Raise if the database cannot answer."""
    await engine().run_ddl("SELECT 1")
