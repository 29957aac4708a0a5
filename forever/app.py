"""create_app(): the one Litestar application, with errors mapped to problem+json in one place."""

from __future__ import annotations

import contextlib
import functools
import gc
import logging
import math
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
from litestar import Litestar, Request, Response
from litestar.config.csrf import CSRFConfig
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.exceptions import (
    HTTPException,
    InternalServerException,
    SerializationException,
    ValidationException,
)
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.openapi import OpenAPIConfig
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from litestar.types import Empty

from forever import db, errors
from forever.api import api_router, health_router
from forever.api.docs import SwaggerDocs
from forever.auth import authentication_middleware, provide_principal
from forever.observability import RequestMetrics, configure_logging, observe_requests
from forever.problems import FRAMEWORK_CODES, problem, status_of
from forever.security_headers import security_headers
from forever.settings import Settings, get_settings, use_settings
from forever.web import web_router
from forever.web.pages import page_for_http_error, wants_page

log = logging.getLogger("forever")

WEB_ROOT = Path(__file__).resolve().parent / "web"

def _domain_error(_: Request, exc: errors.DomainError) -> Response:
    status = status_of(exc)
    return problem(status, exc.code, exc.detail, title=exc.default_title, errors_=exc.errors or None,
                   headers=exc.headers or None)


_FIELD_AT = re.compile(r"at `\$\.?([^`]*)`")


def _validation_error(_: Request, exc: ValidationException) -> Response:
    """Litestar's body and parameter errors: unreadable JSON is 400, the rest 422 with each field named."""
    details = exc.extra if isinstance(exc.extra, list) else []
    messages = [str(item.get("message", "")) if isinstance(item, dict) else str(item) for item in details]
    if any("malformed" in m.lower() or "truncated" in m.lower() or "invalid utf-8" in m.lower()
           for m in messages):
        return problem(400, "malformed_json", "The request body is not valid JSON.")
    field_errors = []
    for item, message in zip(details, messages, strict=False):
        key = item.get("key") if isinstance(item, dict) else None
        match = _FIELD_AT.search(message)
        field = key or (match.group(1) if match else "") or "body"
        field_errors.append({"field": str(field), "message": message})
    return problem(422, "validation_error", "Some fields are missing or have the wrong type.",
                   errors_=field_errors or None)


def _http_error(request: Request, exc: HTTPException) -> Response:
    if wants_page(request):  # a person typed an address that matches no page
        return page_for_http_error(request, exc)
    status = exc.status_code
    if status == 400 and isinstance(exc.__cause__, SerializationException):
        return problem(400, "malformed_json", f"The request body is not valid JSON: {exc.detail}.")
    code = FRAMEWORK_CODES.get(status, "error")
    detail = exc.detail if status < 500 else "Something went wrong on our side."
    return problem(status, code, str(detail), headers=exc.headers or None)


@functools.cache
def _strict_decoder(annotation: Any) -> msgspec.json.Decoder:
    return msgspec.json.Decoder(annotation, strict=True)


class StrictJSONRequest(Request):
    """A request whose JSON body is decoded once, strictly, straight into the handler's `data` type.

    Litestar converts request data leniently (`"12"` would become `12`); CONTRACT.md wants a wrong type to be
    4xx. Litestar asks `json()` for the body of a `data: JSONBody[T]` parameter and passes a `T` it gets back
    through unchanged, so decoding it here strictly is the only decode (decoding once more after Litestar's own
    cost a quote about 20 µs, bench/quotes.py).
    """

    __slots__ = ()

    async def body(self) -> bytes:
        """The body, read from the server's messages under Litestar's limit (the same 413), not its stream.

        Litestar reads it through an async generator and builds the request's Headers for the announced
        length: 57,000 instructions of a quote's 885,000 (callgrind). A length announced over the limit is
        refused once the bytes read pass it.
        """
        if self._body is not Empty:
            return self._body
        state = self._connection_state
        if state.body is Empty:
            if not self.is_connected:
                raise InternalServerException("stream consumed")
            limit = self.route_handler.resolve_request_max_body_size() or math.inf
            chunks: list[bytes] = []
            size = 0
            while True:
                event = await self.receive()
                if event["type"] == "http.disconnect":
                    raise InternalServerException("client disconnected prematurely")
                chunk = event.get("body", b"")
                size += len(chunk)
                if size > limit:
                    raise RequestEntityTooLarge
                chunks.append(chunk)
                if not event.get("more_body", False):
                    break
            self.is_connected = False
            state.body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        self._body = state.body
        return self._body

    async def json(self) -> Any:
        field = self.route_handler.parsed_fn_signature.parameters.get("data")
        if field is None or getattr(field.kwarg_definition, "media_type", None) != RequestEncodingType.JSON:
            return await super().json()
        body = await self.body()
        if not body.strip() and field.is_optional:
            return None
        try:
            return _strict_decoder(field.annotation).decode(body)
        except msgspec.ValidationError as exc:
            match = _FIELD_AT.search(str(exc))
            raise errors.InvalidInput("Some fields are missing or have the wrong type.", code="validation_error",
                                      errors=[{"field": match.group(1) if match else "body", "message": str(exc)}],
                                      ) from None
        except msgspec.DecodeError as exc:
            raise errors.BadRequest(f"The request body is not valid JSON: {exc}.", code="malformed_json") from None


def _unexpected_error(request: Request, exc: Exception) -> Response:
    # The route's template, never the path itself: a path may carry a voucher code.
    route = request.scope.get("path_template") or getattr(request.scope.get("route_handler"), "handler_name", "?")
    if db.is_unreachable(exc):  # an outage, not a bug: the caller may retry once the database is back
        log.warning("database unreachable on %s %s: %r", request.method, route, exc)
        return _domain_error(request, errors.DatabaseUnavailable())
    log.exception("unhandled error on %s %s", request.method, route, exc_info=exc)
    return problem(500, "internal_error", "Something went wrong on our side. It has been logged.")


def create_app(settings: Settings | None = None) -> Litestar:
    """The application for `settings` (default: the environment's)."""
    settings = settings or get_settings()
    use_settings(settings)

    @contextlib.asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        engine = db.make_engine(settings.database_url)
        db.bind(engine)
        await db.open_pool(engine)
        try:
            yield
        finally:
            await db.close_pool(engine)

    request_metrics = RequestMetrics()
    app = Litestar(
        route_handlers=[
            health_router,
            api_router,
            web_router,
            create_static_files_router(path="/static", directories=[WEB_ROOT / "static"],
                                       include_in_schema=False),
        ],
        lifespan=[lifespan],
        middleware=[authentication_middleware],
        exception_handlers={
            errors.DomainError: _domain_error,
            ValidationException: _validation_error,
            HTTPException: _http_error,
            Exception: _unexpected_error,
        },
        template_config=TemplateConfig(directory=WEB_ROOT / "templates", engine=JinjaTemplateEngine),
        csrf_config=CSRFConfig(secret=settings.secret_key.decode(), cookie_secure=settings.secure_cookies,
                               cookie_httponly=False, exclude=["/api", "/health", "/schema"]),
        openapi_config=OpenAPIConfig(
            title="AMI For Ever",
            version="1.0.0",
            description="Trade-in and second-hand platform of AMI Paris.",
            path="/schema",
            render_plugins=[SwaggerDocs()],
        ),
        request_max_body_size=settings.max_body_bytes,
        dependencies={"principal": Provide(provide_principal)},
        request_class=StrictJSONRequest,
        before_send=[security_headers(settings)],
        state={"settings": settings, "request_metrics": request_metrics},
        debug=False,
        logging_config=None,  # ours: JSON lines with request ids (forever.observability.configure_logging)
    )
    # Litestar runs middleware for matched routes only: wrapping its handler, as its OpenTelemetry plugin does,
    # sees every request (an unknown address, a wrong method) and every answer.
    app.asgi_handler = observe_requests(app.asgi_handler, request_metrics)
    return app


def _tune_gc_for_serving() -> None:
    gc.collect()
    gc.freeze()  # the app's long-lived objects stay out of every later collection
    gc.set_threshold(20_000, 50, 100)  # fewer collections: requests make short-lived garbage (p99 halved)


def create_served_app() -> Litestar:
    """The app as `forever serve` runs it, with the garbage collector tuned for a long-lived server."""
    configure_logging()  # here too: each worker process of `serve --workers N` starts afresh
    app = create_app()
    app.on_startup.append(_tune_gc_for_serving)
    return app
