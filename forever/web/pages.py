"""What every HTML page shares: rendering with the formatting helpers, redirects, and error pages."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

from litestar import MediaType, Request, Response
from litestar.datastructures import Cookie
from litestar.exceptions import HTTPException, PermissionDeniedException, ValidationException
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

import msgspec

from forever import errors
from forever.accounts.schemas import Principal
from forever.api.idempotency import key_scope
from forever.idempotency import service as idempotency
from forever.idempotency.service import Claim, StoredAnswer
from forever.problems import status_of
from forever.web import formatting, wording

log = logging.getLogger("forever.web")

T = TypeVar("T", bound=msgspec.Struct)
# How long a second copy of a form waits for the first to finish before saying it is still being processed.
SAME_FORM_WAIT_S, SAME_FORM_POLL_S = 5.0, 0.1

COMMON_CONTEXT: dict[str, Any] = {
    **formatting.HELPERS,
    "category_label": wording.category_label,
    "season_label": wording.season_label,
    "reason_text": wording.reason_text,
    "conditions": wording.CONDITION_TEXTS,
}


def render(template: str, *, status: int = 200, cookies: list[Cookie] | None = None,
           headers: dict[str, str] | None = None, **context: Any) -> Template:
    """A page (or an htmx fragment) with the helpers every template may use."""
    return Template(template, context={**COMMON_CONTEXT, **context}, status_code=status,
                    cookies=cookies, headers=headers, media_type=MediaType.HTML)


def see_other(path: str, cookies: list[Cookie] | None = None) -> Redirect:
    """303 after a form post, so reloading the next page does not post again."""
    return Redirect(path, status_code=HTTP_303_SEE_OTHER, cookies=cookies)


def form_key() -> str:
    """A fresh key for a money-moving form, sent back hidden: the form's double submit is one request."""
    return str(uuid.uuid4())


async def once(principal: Principal, key: str, action: str, body: msgspec.Struct, answer: type[T],
               work: Callable[..., Awaitable[T]]) -> T:
    """Run `work(claim=…)` at most once per form key (the pages' half of the API's `Idempotency-Key`).

    A second copy of the form gets the first one's result, waiting for it while it runs. A refusal (a domain
    error) changed nothing and is not kept: the seller may correct the form and send it again.
    """
    if not 1 <= len(key) <= 255:
        return await work(claim=None)
    fingerprint = idempotency.fingerprint("POST", action, body)
    waited = 0.0
    while True:
        try:
            held: Claim | StoredAnswer = await idempotency.claim(key_scope(principal), key, fingerprint, 200)
            break
        except errors.Conflict as exc:
            if exc.code != "request_in_progress" or waited >= SAME_FORM_WAIT_S:
                raise
        await asyncio.sleep(SAME_FORM_POLL_S)
        waited += SAME_FORM_POLL_S
    if isinstance(held, StoredAnswer):
        return msgspec.json.decode(held.body, type=answer)
    try:
        return await work(claim=held)
    except BaseException:
        await idempotency.release(held)
        raise


def is_htmx(request: Request[Any, Any, Any]) -> bool:
    return request.headers.get("hx-request") == "true"


def safe_next(target: str | None, default: str) -> str:
    """A local path to return to after signing in; anything pointing off-site becomes `default`."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def _back_after_sign_in(request: Request[Any, Any, Any]) -> str:
    """The page to come back to: this one, or for a form or an htmx fragment, the page it came from."""
    if request.method == "GET" and not is_htmx(request):
        return request.url.path + (f"?{request.url.query}" if request.url.query else "")
    came_from = urlsplit(request.headers.get("hx-current-url") or request.headers.get("referer") or "")
    if came_from.netloc not in ("", request.url.netloc) or not came_from.path:
        return "/"
    return came_from.path + (f"?{came_from.query}" if came_from.query else "")


def _sign_in_first(request: Request[Any, Any, Any], _: errors.NotAuthenticated) -> Response:
    target = f"/signin?next={quote(safe_next(_back_after_sign_in(request), '/'), safe='')}"
    if is_htmx(request):
        # htmx would swap the sign-in page into a fragment; make it load the whole page instead.
        return Response(content="", status_code=401, headers={"HX-Redirect": target})
    return Redirect(target, status_code=HTTP_303_SEE_OTHER)


def _error_page(status: int, title: str, message: str) -> Template:
    return render("error.html", status=status, code=status, title=title, message=message)


def _not_found(_: Request[Any, Any, Any], __: errors.NotFound) -> Template:
    return _error_page(404, "Page not found", "There is nothing here, or it belongs to someone else.")


def _domain_error(_: Request[Any, Any, Any], exc: errors.DomainError) -> Template:
    return _error_page(status_of(exc), "That did not work", exc.detail)


def wants_page(request: Request[Any, Any, Any]) -> bool:
    """A person's browser asking for a page (not the API, not the docs)."""
    path = request.url.path
    return (not path.startswith(("/api/", "/schema", "/health", "/static/"))
            and "text/html" in request.headers.get("accept", ""))


def page_for_http_error(_: Request[Any, Any, Any], exc: HTTPException) -> Template:
    """The error page for one of the framework's own errors (an unknown address, a wrong method…)."""
    if isinstance(exc, PermissionDeniedException):
        return _error_page(403, "This form has expired",
                           "For your security, forms expire. Go back, reload the page and try again.")
    if isinstance(exc, ValidationException):
        return _error_page(400, "That address is not right", "Some part of the address could not be read.")
    return _error_page(exc.status_code, "That did not work", str(exc.detail))


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Template:
    # The route's template, never the path itself: a path may carry a voucher code.
    route = request.scope.get("path_template", "?")
    log.exception("unhandled error on %s %s", request.method, route, exc_info=exc)
    return _error_page(500, "Something went wrong on our side",
                       "It has been logged. Please try again in a moment.")


# Pages answer with pages: the JSON API's problem documents would mean nothing to a person.
EXCEPTION_HANDLERS = {
    errors.NotAuthenticated: _sign_in_first,
    errors.NotFound: _not_found,
    errors.DomainError: _domain_error,
    ValidationException: page_for_http_error,
    HTTPException: page_for_http_error,
    Exception: _unexpected,
}
