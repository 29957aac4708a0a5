"""What counts as the database being out of reach (503, worth a retry) rather than a fault of ours (500)."""

import errno
import sqlite3

import asyncpg
import pytest

from forever import db

OUTAGES = [
    ConnectionRefusedError(errno.ECONNREFUSED, "Connect call failed ('127.0.0.1', 5432)"),
    OSError("Multiple exceptions: [Errno 111] Connect call failed ('::1', 5432, 0, 0), [Errno 111] Connect call "
            "failed ('127.0.0.1', 5432)"),
    OSError(errno.EHOSTUNREACH, "No route to host"),
    TimeoutError(),
    asyncpg.CannotConnectNowError("the database system is starting up"),
    asyncpg.AdminShutdownError("terminating connection due to administrator command"),
    asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
    asyncpg.TooManyConnectionsError("sorry, too many clients already"),
    asyncpg.InterfaceError("cannot perform operation: connection is closed"),
    sqlite3.OperationalError("unable to open database file"),
    sqlite3.OperationalError("database is locked"),
]
FAULTS = [
    OSError(errno.ENOSPC, "No space left on device"),
    FileNotFoundError(errno.ENOENT, "No such file or directory"),
    asyncpg.UndefinedTableError('relation "nothing" does not exist'),
    asyncpg.UniqueViolationError("duplicate key value violates unique constraint"),
    asyncpg.InterfaceError("cannot perform operation: another operation is in progress"),
    sqlite3.OperationalError("no such table: nothing"),
    sqlite3.IntegrityError("UNIQUE constraint failed: account.email"),
    ValueError("a bug"),
]


@pytest.mark.parametrize("error", OUTAGES, ids=repr)
def test_a_database_out_of_reach_is_unreachable(error: BaseException) -> None:
    assert db.is_unreachable(error)


@pytest.mark.parametrize("error", FAULTS, ids=repr)
def test_a_fault_of_ours_or_of_the_request_is_not(error: BaseException) -> None:
    assert not db.is_unreachable(error)
