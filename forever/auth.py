"""Who is calling, and one guard per role. A caller without the right role is told 404, not 403 (CONTRACT.md)."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.types import ASGIApp, Receive, Scope, Send

from forever.accounts import model as accounts_model
from forever.accounts import service as accounts
from forever.accounts.schemas import Principal
from forever.errors import NotAuthenticated, NotFound

SESSION_COOKIE = "forever_session"


def bearer_secret(scope: Scope) -> str | None:
    """The bearer token of the Authorization header, else (pages only) the session cookie.

    The JSON API never reads the cookie, so a cross-site form cannot act through it.
    """
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, secret = value.decode("latin-1").partition(" ")
            return secret.strip() if scheme.lower() == "bearer" else None
    if scope.get("path", "").startswith("/api/"):
        return None
    for name, value in scope.get("headers", ()):
        if name == b"cookie":
            for part in value.decode("latin-1").split(";"):
                key, _, cookie = part.strip().partition("=")
                if key == SESSION_COOKIE and cookie:
                    return cookie
    return None


def authentication_middleware(app: ASGIApp) -> ASGIApp:
    """Resolve the caller once per request into `scope["user"]` (None when anonymous), and refuse them at once
    if the route is `guarded()` against them."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            secret = bearer_secret(scope)
            scope["user"] = principal = await accounts.authenticate(secret) if secret else None
            scope["auth"] = secret
            guard = scope["route_handler"].opt.get(_GUARD_OPT)
            if guard is not None:
                guard.check(principal)
        await app(scope, receive, send)

    return middleware


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    principal = connection.scope.get("user")
    if principal is None:
        raise NotAuthenticated("Sign in, or send an API key.")
    return principal


class RoleGuard:
    """Lets through people of these roles (`kind` "person") or systems of these channels (`kind` "system").

    Anyone else is told 404, and a caller without a token 401. It is a Litestar guard (`guards=[grader_only]`);
    on a hot path, declare it as `opt=guarded(seller_only)` instead: the authentication middleware then checks
    it as soon as it knows the caller, sparing the copy of the route handler that Litestar makes for every
    guard call (15 µs a request, bench/quotes.py).
    """

    __slots__ = ("__name__", "allowed", "kind")

    def __init__(self, kind: str, *allowed: str) -> None:
        self.kind = kind
        self.allowed = frozenset(allowed)
        self.__name__ = f"{'_or_'.join(allowed)}_{'only' if kind == 'person' else 'key_only'}"

    def check(self, principal: Principal | None) -> None:
        if principal is None:
            raise NotAuthenticated("Sign in, or send an API key.")
        held = principal.role if self.kind == "person" else principal.channel
        if principal.kind != self.kind or held not in self.allowed:
            raise NotFound("Nothing here.")

    async def __call__(self, connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        self.check(connection.scope.get("user"))

    def __repr__(self) -> str:
        return self.__name__


_GUARD_OPT = "forever_guard"


def guarded(guard: RoleGuard) -> dict[str, RoleGuard]:
    """A route's `opt` having the authentication middleware check `guard` (see RoleGuard)."""
    return {_GUARD_OPT: guard}


async def signed_in(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Any person with a live token."""
    if principal_of(connection).kind != "person":
        raise NotFound("Nothing here.")


seller_only = RoleGuard("person", accounts_model.CUSTOMER)
grader_only = RoleGuard("person", accounts_model.GRADER)
store_staff_only = RoleGuard("person", accounts_model.STORE_STAFF)
customer_service_only = RoleGuard("person", accounts_model.CUSTOMER_SERVICE)
admin_only = RoleGuard("person", accounts_model.ADMIN)
staff_only = RoleGuard("person", *accounts_model.STAFF_ROLES)
channel_key_only = RoleGuard("system", "eshop", "resale", "store")
carrier_key_only = RoleGuard("system", "carrier")
_metrics_key_only = RoleGuard("system", accounts_model.METRICS)


async def metrics_reader(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """An admin, or the scraper's `metrics` key: a long-lived key suits Prometheus, a 12-hour token does not."""
    principal = principal_of(connection)
    (admin_only if principal.kind == "person" else _metrics_key_only).check(principal)


async def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    return principal_of(request)
