"""Liveness, a trivial endpoint (the benchmarks' baseline), and the metrics Prometheus scrapes."""

from litestar import Request, get

from forever import db, observability
from forever.auth import metrics_reader
from forever.errors import DatabaseUnavailable
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
        raise DatabaseUnavailable() from exc
    return Health(status="ok")


@get("/ping", tags=["system"], summary="Trivial JSON answer, no database (benchmark baseline)")
async def ping() -> Pong:
    return Pong(pong=True)


@get("/metrics", tags=["system"], guards=[metrics_reader], media_type=observability.PROMETHEUS_TEXT,
     summary="Prometheus metrics: requests and latency by route, redemptions, ledger totals, pieces past their SLA",
     description="For an admin's token or a `metrics` channel key (`forever apikeys create --channel metrics`).")
async def metrics(request: Request) -> str:
    return await observability.metrics_text(request.app.state["request_metrics"])
