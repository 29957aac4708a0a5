"""The problem documents each API operation may answer, as the OpenAPI document lists them.

Every error is `application/problem+json` (forever.problems), whatever raised it; Litestar would otherwise
document only its own validation error, in a shape we never send. Declared once here for every operation, from
what the operation is: guarded by a channel key (403 `channel_not_allowed`), taking an upload (415, 507).
"""

from __future__ import annotations

import typing
from collections.abc import Iterable
from typing import Annotated

from litestar.enums import RequestEncodingType
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import BodyKwarg

from forever.auth import channel_key_only
from forever.problems import PROBLEM_JSON
from forever.schema import Output


class FieldProblem(Output):
    field: str
    message: str


class Problem(Output):
    """An RFC 9457 problem document; `code` is stable, `errors` names the fields of a validation error."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[FieldProblem] | None = None


def _problem(description: str) -> ResponseSpec:
    return ResponseSpec(data_container=Problem, description=description, media_type=PROBLEM_JSON,
                        generate_examples=False)


EVERY_OPERATION = {
    400: _problem("Malformed JSON or an unreadable parameter (`malformed_json`, `bad_request`)."),
    401: _problem("No credentials, or not valid any more (`not_authenticated`); a wrong e-mail or password "
                  "(`invalid_credentials`)."),
    404: _problem("Not found, not yours, or not for your role (`not_found`, or the object's own code)."),
    409: _problem("Not possible in the object's present state (e.g. `quote_expired`), or the first request with "
                  "this Idempotency-Key is still running (`request_in_progress`)."),
    413: _problem("The request body is too large (`payload_too_large`, `photo_too_large`)."),
    422: _problem("Invalid input: `validation_error` with `errors` by field, or a rule's code (e.g. "
                  "`weak_password`, `insufficient_credit`, `idempotency_key_reused`)."),
    429: _problem("Too many attempts (`too_many_attempts`): try again after Retry-After seconds."),
    503: _problem("The database is out of reach (`database_unavailable`): try again after Retry-After seconds."),
}
SPENDING_CHANNELS = {
    403: _problem("This channel may not spend vouchers, e.g. a department-store corner's till "
                  "(`channel_not_allowed`)."),
}
UPLOADS = {
    415: _problem("Not a JPEG, PNG or WebP image by its content (`unsupported_image`)."),
    507: _problem("No room left to store the photo; nothing was kept (`storage_full`)."),
}


def conflicts(description: str) -> dict[int, ResponseSpec]:
    """An operation's own 409 problems (its codes named), documented in place of the generic line."""
    return {409: _problem(description)}


def _takes_upload(handler: HTTPRouteHandler) -> bool:
    data = typing.get_type_hints(handler.fn, include_extras=True).get("data")
    if typing.get_origin(data) is not Annotated:
        return False
    return any(isinstance(meta, BodyKwarg) and meta.media_type == RequestEncodingType.MULTI_PART
               for meta in data.__metadata__)


def with_problems(handlers: Iterable[HTTPRouteHandler]) -> list[HTTPRouteHandler]:
    """`handlers`, each documenting the problems it may answer (besides any responses it declares itself)."""
    documented = list(handlers)
    for handler in documented:
        problems = dict(EVERY_OPERATION)
        if channel_key_only in (handler.guards or ()):
            problems |= SPENDING_CHANNELS
        if _takes_upload(handler):
            problems |= UPLOADS
        handler.responses = {**problems, **(handler.responses or {})}
    return documented
