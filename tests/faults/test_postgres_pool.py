"""PostgreSQL connections lost in the middle of a transaction (the server restarted, the network cut): each
failure says the database was unreachable, and after more such losses than the pool holds connections, in the
same task, transactions still run."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from forever import db
from forever.settings import Settings

pytestmark = pytest.mark.parametrize("database", ["postgres"], indirect=True)


async def test_connections_lost_inside_transactions_leave_the_pool_serving(
        bound_database: Settings) -> None:
    pool = db.engine().pool
    losses = pool.get_max_size() + 5
    killer = await asyncpg.connect(bound_database.database_url)
    try:
        async with asyncio.timeout(30):  # an emptied pool waits for ever: fail instead
            for _ in range(losses):  # lost during a statement: the rollback finds no connection
                with pytest.raises(Exception) as lost:
                    async with db.write_transaction():
                        await db.fetch("SELECT pg_terminate_backend(pg_backend_pid())")
                assert db.is_unreachable(lost.value), repr(lost.value)
            for _ in range(losses):  # lost before the commit
                with pytest.raises(Exception) as lost:
                    async with db.write_transaction():
                        pid = (await db.fetch("SELECT pg_backend_pid() AS pid"))[0]["pid"]
                        await killer.execute("SELECT pg_terminate_backend($1)", pid)
                assert db.is_unreachable(lost.value), repr(lost.value)
            async with db.write_transaction():
                assert await db.fetch("SELECT 1 AS one") == [{"one": 1}]
    finally:
        await killer.close()
    print(f"\n[postgresql] {2 * losses} connections lost inside transactions (pool of "
          f"{pool.get_max_size()}): the pool still serves ({pool.get_idle_size()} idle)")
