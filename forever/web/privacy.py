"""The seller's "My data" page (000_): their details and corrections, marketing e-mails, downloading everything
held about them, and erasing it. Thin: forever.accounts.privacy does the work."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.response import Redirect, Stream, Template

from forever.accounts import privacy
from forever.accounts import service as accounts
from forever.accounts.schemas import Principal, ProfileUpdate
from forever.api.accounts import client_address
from forever.api.privacy import archive_response
from forever.auth import SESSION_COOKIE, seller_only
from forever.errors import Conflict, InvalidInput, TooManyRequests
from forever.web import basket
from forever.web.pages import render, see_other
from forever.web.seller import FormBody
from forever.web.seller import _expired as expired_cookie

Saved = Annotated[str | None, QueryParameter(max_length=16)]
SAVED_MESSAGES = {"consents": "Your choice about marketing e-mails is saved.",
                  "profile": "Your details are corrected."}


class ConsentForm(msgspec.Struct, kw_only=True):
    marketing_email: str = ""  # a checkbox: "on" when ticked, absent when not


class ProfileForm(msgspec.Struct, kw_only=True):
    first_name: str = ""
    last_name: str = ""


class ErasureForm(msgspec.Struct, kw_only=True):
    password: str = ""
    confirm: str = ""


async def _page(principal: Principal, *, status: int = 200, saved: str | None = None,
                profile: ProfileForm | None = None, profile_error: str | None = None,
                erasure_error: str | None = None) -> Template:
    account = await accounts.get_account(principal.account_id)
    return render("seller/privacy.html", status=status, nav="account", account=account,
                  consents=await privacy.consents(principal.account_id),
                  preview=await privacy.erasure_preview(principal.account_id),
                  saved=SAVED_MESSAGES.get(saved or ""), profile=profile or ProfileForm(
                      first_name=account.first_name, last_name=account.last_name),
                  profile_error=profile_error, erasure_error=erasure_error)


@get("/account", guards=[seller_only], include_in_schema=False)
async def my_data(principal: NamedDependency[Principal], saved: Saved = None) -> Template:
    return await _page(principal, saved=saved)


@post("/account/consents", guards=[seller_only], include_in_schema=False, status_code=200)
async def save_consents(principal: NamedDependency[Principal], data: Annotated[ConsentForm, FormBody]) -> Redirect:
    await privacy.set_consents(principal, data.marketing_email == "on")
    return see_other("/account?saved=consents#marketing")


@post("/account/profile", guards=[seller_only], include_in_schema=False, status_code=200)
async def correct_profile(principal: NamedDependency[Principal],
                          data: Annotated[ProfileForm, FormBody]) -> Template | Redirect:
    account = await accounts.get_account(principal.account_id)
    changes = ProfileUpdate(first_name=data.first_name if data.first_name != account.first_name else None,
                            last_name=data.last_name if data.last_name != account.last_name else None)
    if changes.first_name is None and changes.last_name is None:
        return see_other("/account#details")
    try:
        await privacy.rectify(principal, changes)
    except InvalidInput as exc:
        return await _page(principal, status=422, profile=data, profile_error=exc.detail)
    return see_other("/account?saved=profile#details")


@post("/account/export", guards=[seller_only], include_in_schema=False, status_code=200)
async def download(principal: NamedDependency[Principal]) -> Stream:
    return archive_response(await privacy.export_my_data(principal))


@post("/account/erasure", guards=[seller_only], include_in_schema=False, status_code=200)
async def erase(request: Request[Any, Any, Any], principal: NamedDependency[Principal],
                data: Annotated[ErasureForm, FormBody]) -> Template | Redirect:
    try:
        await privacy.erase_me(principal, data.confirm == "on", data.password, client_address(request))
    except (InvalidInput, Conflict, TooManyRequests) as exc:
        status = {InvalidInput: 422, Conflict: 409, TooManyRequests: 429}[type(exc)]
        return await _page(principal, status=status, erasure_error=exc.detail)
    # Signed out with it: the session's token no longer exists.
    return see_other("/account/erased", cookies=[expired_cookie(SESSION_COOKIE), expired_cookie(basket.COOKIE)])


@get("/account/erased", include_in_schema=False)
async def erased() -> Template:
    return render("seller/erased.html", nav="home")


handlers = [my_data, save_consents, correct_profile, download, erase, erased]
