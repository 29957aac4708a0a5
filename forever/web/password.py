"""Forgotten password: ask for a link by e-mail, then choose a new password with it. Thin: the service decides."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.params import QueryParameter
from litestar.response import Redirect, Template

from forever.accounts import service as accounts
from forever.api.accounts import client_address
from forever.errors import InvalidInput, TooManyRequests
from forever.web.pages import render, see_other
from forever.web.seller import FormBody

Token = Annotated[str | None, QueryParameter(max_length=200)]


class ResetRequestForm(msgspec.Struct, kw_only=True):
    email: str = ""


class NewPasswordForm(msgspec.Struct, kw_only=True):
    token: str = ""
    password: str = ""


@get("/password-reset", include_in_schema=False)
async def reset_request_form() -> Template:
    return render("seller/password_reset.html", nav="signin", email="", error=None, sent=None)


@post("/password-reset", include_in_schema=False, status_code=200)
async def request_reset(request: Request[Any, Any, Any], data: Annotated[ResetRequestForm, FormBody]) -> Template:
    try:
        sent = await accounts.request_password_reset(data.email, client_address(request))
    except (InvalidInput, TooManyRequests) as exc:
        status = 429 if isinstance(exc, TooManyRequests) else 422
        return render("seller/password_reset.html", status=status, headers=exc.headers or None, nav="signin",
                      email=data.email, error=exc.detail, sent=None)
    return render("seller/password_reset.html", nav="signin", email=data.email, error=None, sent=sent)


@get("/password-reset/new", include_in_schema=False)
async def new_password_form(token: Token = None) -> Template | Redirect:
    if not token:
        return see_other("/password-reset")
    return render("seller/password_new.html", nav="signin", token=token, error=None, changed=False)


@post("/password-reset/new", include_in_schema=False, status_code=200)
async def choose_new_password(data: Annotated[NewPasswordForm, FormBody]) -> Template:
    try:
        await accounts.reset_password(data.token, data.password)
    except InvalidInput as exc:
        return render("seller/password_new.html", status=422, nav="signin", token=data.token, error=exc.detail,
                      link_unusable=exc.code in ("reset_link_invalid", "reset_link_expired"), changed=False)
    return render("seller/password_new.html", nav="signin", token="", error=None, changed=True)


handlers = [reset_request_form, request_reset, new_password_form, choose_new_password]
