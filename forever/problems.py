"""The one table from domain errors to HTTP, and the RFC 9457 problem document every API error is."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from litestar import Response

from forever import errors

PROBLEM_JSON = "application/problem+json"

# One table from domain error to HTTP status.
STATUS_OF: dict[type[errors.DomainError], int] = {
    errors.BadRequest: 400,
    errors.NotAuthenticated: 401,
    errors.NotAllowed: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.PayloadTooLarge: 413,
    errors.UnsupportedMedia: 415,
    errors.InvalidInput: 422,
    errors.TooManyRequests: 429,
    errors.Unavailable: 503,
    errors.StorageFull: 507,
}

# Codes of the framework's own errors, by status.
FRAMEWORK_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_attempts",
    500: "internal_error",
    503: "unavailable",
}


def status_of(exc: errors.DomainError) -> int:
    """The status of the error's own class, else of its nearest base (StorageFull is Unavailable, but 507)."""
    return next(STATUS_OF[cls] for cls in type(exc).__mro__ if cls in STATUS_OF)


def problem(status: int, code: str, detail: str, *, title: str | None = None,
            errors_: list[dict[str, str]] | None = None, headers: dict[str, str] | None = None) -> Response:
    """An RFC 9457 problem document with our stable `code`."""
    body: dict[str, Any] = {
        "type": f"https://forever.amiparis.com/problems/{code}",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if errors_:
        body["errors"] = errors_
    return Response(content=body, status_code=status, media_type=PROBLEM_JSON, headers=headers)
