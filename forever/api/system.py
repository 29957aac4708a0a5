"""Liveness and a trivial endpoint (the benchmarks' baseline)."""

from litestar import get

from forever import db
from forever.errors import Unavailable
from forever.schema import Output


class Health(Output):
    status: str


class Pong(Output):
    pong: bool


@get("/health", tags=["system"], summary="200 once the database answers")
async def health() -> Health:
    try:
        await db.ping()
    except Exception as exc:
        raise Unavailable("The database cannot be reached.", code="database_unavailable") from exc
    return Health(status="ok")


@get("/ping", tags=["system"], summary="Trivial JSON answer, no database (benchmark baseline)")
async def ping() -> Pong:
    return Pong(pong=True)
