"""Sign-up, sign-in, sign-out, the signed-in account."""

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from forever.accounts import service
from forever.accounts.schemas import Account, AccountCreate, LoginRequest, Principal, Session
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


handlers = [create_account, login, logout, me]
