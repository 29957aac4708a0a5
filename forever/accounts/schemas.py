"""Wire schemas of accounts and sign-in."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

from forever.schema import Input, Output

Email = Annotated[str, msgspec.Meta(min_length=3, max_length=254)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Password = Annotated[str, msgspec.Meta(max_length=256)]
Country = Annotated[str, msgspec.Meta(min_length=2, max_length=2)]


class AccountCreate(Input):
    email: Email
    password: Password
    first_name: Name
    last_name: Name
    country: Country
    birth_date: dt.date


class Account(Output):
    id: str
    email: str
    first_name: str
    last_name: str
    country: str
    birth_date: dt.date | None
    role: str
    created_at: dt.datetime
    store_code: str | None = None


class LoginRequest(Input):
    email: Annotated[str, msgspec.Meta(max_length=254)]
    password: Password


class Session(Output):
    token: str
    expires_at: dt.datetime
    account_id: str
    role: str


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """Who is calling: a person (by account and role) or a system (by API key and channel)."""

    kind: str  # "person" or "system"
    role: str | None = None
    account_id: str | None = None
    store_code: str | None = None
    store_kind: str | None = None
    channel: str | None = None
    api_key_id: int | None = None
    country: str | None = None
    birth_date: dt.date | None = None


class PasswordChange(Input):
    current_password: Password
    new_password: Password


class PasswordResetCreate(Input):
    email: Email


class PasswordResetConfirm(Input):
    token: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    password: Password


class PasswordResetRequested(Output):
    """The same answer whether an account uses the e-mail address or not."""

    detail: str
    link_valid_minutes: int


class PasswordChanged(Output):
    sessions_ended: int
