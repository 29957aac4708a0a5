"""Sign-up, sign-in, sign-out, the signed-in account, passwords (change, reset by e-mail)."""

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from forever.accounts import service
from forever.accounts.schemas import (
    Account,
    AccountCreate,
    LoginRequest,
    PasswordChange,
    PasswordChanged,
    PasswordResetConfirm,
    PasswordResetCreate,
    PasswordResetRequested,
    Principal,
    Session,
)
from forever.auth import signed_in


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@post("/accounts", tags=["accounts"], summary="Open a customer account")
async def create_account(data: JSONBody[AccountCreate]) -> Account:
    return await service.register(data)


@post("/auth/login", tags=["accounts"], summary="Exchange e-mail and password for a bearer token",
      status_code=200)
async def login(request: Request, data: JSONBody[LoginRequest]) -> Session:
    return await service.login(data.email, data.password, client_address(request))


@post("/auth/logout", tags=["accounts"], guards=[signed_in], status_code=204, summary="Revoke this token")
async def logout(request: Request) -> None:
    await service.logout(request.auth)


@get("/me", tags=["accounts"], guards=[signed_in], summary="The signed-in account")
async def me(principal: NamedDependency[Principal]) -> Account:
    return await service.get_account(principal.account_id)


@post("/me/password", tags=["accounts"], guards=[signed_in], status_code=200,
      summary="Change the password; the account's other sessions end")
async def change_password(request: Request, principal: NamedDependency[Principal],
                          data: JSONBody[PasswordChange]) -> PasswordChanged:
    return await service.change_password(principal.account_id, request.auth, data.current_password,
                                         data.new_password, client_address(request))


@post("/auth/password-reset", tags=["accounts"], status_code=202,
      summary="E-mail a single-use link to choose a new password (202 whether or not an account uses the address)")
async def request_password_reset(request: Request, data: JSONBody[PasswordResetCreate]) -> PasswordResetRequested:
    return await service.request_password_reset(data.email, client_address(request))


@post("/auth/password-reset/confirm", tags=["accounts"], status_code=200,
      summary="Choose a new password with the e-mailed link's token; every session ends")
async def confirm_password_reset(data: JSONBody[PasswordResetConfirm]) -> PasswordChanged:
    return await service.reset_password(data.token, data.password)


handlers = [create_account, login, logout, me, change_password, request_password_reset, confirm_password_reset]
