"""Hostile input (issue 7): schemathesis fuzzes every operation of /schema/openapi.json, in process, as the
callers each one lets through (access_matrix.MATRIX) and as one it keeps out, with valid and invalid input. Every
answer must be in the document: no 5xx, a status it lists, the content type and body schema it gives there.

Half the examples aim at the owner's real objects (world_helpers) rather than made-up ids, so the fuzzed bodies
reach the code behind the lookups: a decision on a piece awaiting grading, a capture of a live hold, a return of a
delivered order. SQLite only: what is checked is the HTTP layer and the services' handling of input, which the
database does not change, and it keeps the file within its time budget on two cores.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import schemathesis
from access_matrix import (
    ANONYMOUS,
    CARRIER,
    EMAILS,
    ESHOP,
    MATRIX,
    METRICS,
    OWNER,
    PEOPLE,
    STAFF,
    is_page,
    openapi_key,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode, checks
from schemathesis.python import asgi
from support import bearer, sign_in
from world_helpers import FRESH_PHOTO, World, object_for, owner_s_world

from forever import clock
from forever.app import create_app
from forever.settings import Settings

# No 5xx; a documented status, content type and body. (schemathesis' negative_data_rejection is left out: query
# parameters are converted leniently by Litestar, e.g. `since=0.0` reads as 1970-01-01, harmless but flagged.)
CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_schema_conformance]
# The people and systems the operations are called as: a seller, every staff role, a channel key, the carrier's,
# the scraper's. The matrix's other callers pass or fail every guard as one of these does.
CALLERS = frozenset({OWNER, *STAFF, ESHOP, CARRIER, METRICS})
API_ROUTES = [route for route in MATRIX if not is_page(route) and not route.startswith("GET /schema")]
EXAMPLES = 20
LOGOUT = "POST /api/v1/auth/logout"


@dataclass
class Fuzzed:
    schema: schemathesis.BaseSchema
    world: World
    spare_tokens: dict[str, list[str]]  # by person: for the operation that revokes the token it is called with
    moment: dt.datetime  # the world's time, which the calls keep (tokens live 12 hours)

    def headers(self, route: str, caller: str) -> dict[str, str]:
        if route == LOGOUT and caller in self.spare_tokens:
            return bearer(self.spare_tokens[caller].pop())
        return self.world.headers[caller]


async def _owner_s_world(settings_: Settings) -> tuple[World, dict[str, list[str]]]:
    """The owner's world, and spare tokens of each person, made through the API of an app of its own on this
    loop, then shut. (Signing in during the fuzz would meet the sign-in throttle the fuzzed logins trip.)"""
    app = create_app(settings_)
    async with app.lifespan():
        transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            world = await owner_s_world(client)
            spare = {person: [await sign_in(client, EMAILS[person]) for _ in range(EXAMPLES)]
                     for person in sorted(CALLERS & PEOPLE)}
    return world, spare


@pytest.fixture(scope="module")
def fuzzed(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzed]:
    """The app on a database holding the owner's world, and its OpenAPI document loaded by schemathesis (which
    serves the app on an event loop of its own)."""
    folder = tmp_path_factory.mktemp("schemathesis")
    shutil.copyfile(sqlite_template, folder / "forever.sqlite3")
    (folder / "data").mkdir()
    settings_ = Settings(data_dir=folder / "data", database_url=f"sqlite:///{folder / 'forever.sqlite3'}",
                         secret_key=b"test-secret-key", argon2_memory_kib=8192, argon2_time_cost=1)
    world, spare_tokens = asyncio.run(_owner_s_world(settings_))
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", create_app(settings_))
    yield Fuzzed(schema, world, spare_tokens, clock.now())
    asgi.shutdown_lifespans()


def test_the_document_lists_every_api_route_and_its_problems(fuzzed: Fuzzed) -> None:
    paths = fuzzed.schema.raw_schema["paths"]
    operations = {f"{method.upper()} {path}": operation for path, item in paths.items()
                  for method, operation in item.items() if method in ("get", "post", "put", "patch", "delete")}
    assert sorted(operations) == sorted(openapi_key(route) for route in API_ROUTES)
    for route, operation in operations.items():
        documented = operation["responses"]
        for status in ("400", "401", "404", "409", "413", "422", "429", "503"):
            assert documented[status]["content"] == {"application/problem+json": {
                "schema": {"$ref": "#/components/schemas/Problem"}}}, (route, status)
        spending = ("POST /api/v1/vouchers/lookup", "POST /api/v1/vouchers/redeem", "POST /api/v1/vouchers/holds")
        assert ("403" in documented) == route.startswith(spending), route
        assert ("415" in documented) == ("photos" in route and route.startswith("POST")
                                         or route == "POST /api/v1/grading/analyze"), route


@pytest.mark.parametrize("route", API_ROUTES)
def test_every_answer_is_in_the_document(route: str, fuzzed: Fuzzed) -> None:
    clock.set_now(fuzzed.moment)
    method, template = route.split(" ", 1)
    operation = fuzzed.schema[openapi_key(template)][method]
    callers = [*sorted(MATRIX[route].allowed & CALLERS), ANONYMOUS]
    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                      operation.as_strategy(GenerationMode.NEGATIVE))

    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=cases, caller=st.sampled_from(callers), real=st.booleans())
    def fuzz(case: schemathesis.Case, caller: str, real: bool) -> None:
        if real and case.path_parameters:
            for name in case.path_parameters:
                which = object_for(route, name)  # a photo removed once is gone: the fuzz removes the standing one
                case.path_parameters[name] = fuzzed.world.objects["stock_photo" if which == FRESH_PHOTO else which]
        case.call_and_validate(headers=fuzzed.headers(route, caller), checks=CHECKS)

    fuzz()
