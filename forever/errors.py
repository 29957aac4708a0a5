"""Domain errors. Services raise these with a stable `code`; `forever.app` maps each class to HTTP once."""

from __future__ import annotations

from collections.abc import Sequence


class DomainError(Exception):
    """Base of every error a service raises on purpose."""

    default_code = "error"
    default_title = "Request failed"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        errors: Sequence[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code or self.default_code
        self.errors = list(errors or [])
        self.headers = dict(headers or {})


class InvalidInput(DomainError):
    """The request is well formed but breaks a rule (422)."""

    default_code = "validation_error"
    default_title = "Invalid input"


class BadRequest(DomainError):
    """The request cannot be read at all (400)."""

    default_code = "bad_request"
    default_title = "Bad request"


class NotAuthenticated(DomainError):
    """No valid credentials (401)."""

    default_code = "not_authenticated"
    default_title = "Authentication required"


class NotAllowed(DomainError):
    """Credentials are valid but the action is refused openly (403); most refusals are NotFound instead."""

    default_code = "forbidden"
    default_title = "Forbidden"


class NotFound(DomainError):
    """The resource does not exist, or the caller may not know that it does (404)."""

    default_code = "not_found"
    default_title = "Not found"


class Conflict(DomainError):
    """The resource's state forbids the action (409)."""

    default_code = "conflict"
    default_title = "Conflict"


class PayloadTooLarge(DomainError):
    """The body or upload is above a cap (413)."""

    default_code = "payload_too_large"
    default_title = "Payload too large"


class UnsupportedMedia(DomainError):
    """The content type is not on the allow-list (415)."""

    default_code = "unsupported_media_type"
    default_title = "Unsupported media type"


class TooManyRequests(DomainError):
    """A rate limit was hit (429)."""

    default_code = "too_many_attempts"
    default_title = "Too many attempts"


class Unavailable(DomainError):
    """A dependency (the database) cannot be reached right now (503)."""

    default_code = "unavailable"
    default_title = "Service unavailable"


class DatabaseUnavailable(Unavailable):
    """The database is down, restarting or out of connections: the caller may retry shortly (503)."""

    default_code = "database_unavailable"
    retry_after_seconds = 2

    def __init__(self, detail: str = "The database cannot be reached right now. Try again in a few seconds.",
                 ) -> None:
        super().__init__(detail, headers={"Retry-After": str(self.retry_after_seconds)})


class StorageFull(Unavailable):
    """The disk that would keep an upload is full: nothing was stored, and a retry may succeed later (507)."""

    default_code = "storage_full"
    default_title = "Insufficient storage"
