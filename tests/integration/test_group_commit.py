"""`db.write_batch`, on SQLite and PostgreSQL: each batch is all or nothing, and batches written at the same
moment (one group commit on SQLite) succeed or fail each on its own."""

import asyncio
import datetime as dt
import sqlite3
import uuid

import asyncpg
import pytest

from forever import db
from forever.accounts import service as accounts

INSERT_QUOTE = """
    INSERT INTO quote (id, account, status, created_at, expires_at, grid_version, total_offer, currency)
    VALUES ({}, {}, 'open', {}, {}, 'test', {}, 'EUR')
"""
INSERT_LINE = """
    INSERT INTO quote_line (quote, line, product_ref, name, category, season, condition, size, eligible, reasons,
                            offer)
    VALUES ({}, {}, 'REF', 'A piece', 'shirts', 'SS24', 'excellent', NULL, {}, '[]', {})
"""
FOREIGN_KEY_REFUSED = (sqlite3.IntegrityError, asyncpg.ForeignKeyViolationError)


@pytest.fixture
async def account_id(bound_database) -> str:
    account = await accounts.create_staff("writer@example.com", "Correct-horse-9", "grader")
    return str(account.id)


def quote(account: str, total: int = 500) -> tuple[str, tuple]:
    now = dt.datetime(2026, 11, 22, 10, 0, tzinfo=dt.UTC)
    return INSERT_QUOTE, (str(db.time_ordered_uuid()), account, now, now + dt.timedelta(days=30), total)


async def totals() -> list[int]:
    return sorted(row["total_offer"] for row in await db.fetch("SELECT total_offer FROM quote"))


async def test_batches_written_together_fail_each_on_its_own(account_id):
    nobody = str(uuid.uuid4())
    outcomes = await asyncio.gather(
        db.write_batch(quote(account_id, 100)),
        db.write_batch(quote(nobody, 200)),  # no such account: refused by the foreign key
        db.write_batch(quote(account_id, 300)),
        return_exceptions=True,
    )
    assert outcomes[0] is None and outcomes[2] is None
    assert isinstance(outcomes[1], FOREIGN_KEY_REFUSED)
    assert await totals() == [100, 300]


async def test_a_batch_is_all_or_nothing(account_id):
    sql, args = quote(account_id, 700)
    missing_quote = str(uuid.uuid4())
    with pytest.raises(FOREIGN_KEY_REFUSED):
        await db.write_batch((sql, args), (INSERT_LINE, (missing_quote, 1, True, 700)))
    assert await totals() == []
    await db.write_batch((sql, args), (INSERT_LINE, (args[0], 1, True, 700)))
    assert await totals() == [700]
    lines = await db.fetch("SELECT quote, eligible, offer FROM quote_line")
    assert [(str(line["quote"]), bool(line["eligible"]), line["offer"]) for line in lines] == [(args[0], True, 700)]
