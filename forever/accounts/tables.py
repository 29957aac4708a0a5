"""Accounts, staff, stores, tokens and channel keys."""

from piccolo.columns import (
    UUID,
    Date,
    ForeignKey,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table


class Store(Table):
    """An AMI point of sale: boutique, outlet or department-store corner."""

    code = Varchar(length=32, unique=True)
    name = Varchar(length=200)
    country = Varchar(length=2)
    kind = Varchar(length=32)
    created_at = Timestamptz()


class Account(Table):
    """A person: a customer (seller or buyer) or a member of staff, by `role`."""

    id = UUID(primary_key=True)
    email = Varchar(length=254, unique=True)
    password_hash = Varchar(length=255)
    first_name = Varchar(length=100)
    last_name = Varchar(length=100)
    country = Varchar(length=2)
    birth_date = Date(null=True, default=None)
    role = Varchar(length=32, index=True)
    store = ForeignKey(references=Store, null=True)
    created_at = Timestamptz()


class AuthToken(Table):
    """A bearer token, kept only as its SHA-256 hash."""

    token_hash = Varchar(length=64, unique=True)
    account = ForeignKey(references=Account, index=True)
    created_at = Timestamptz()
    expires_at = Timestamptz()
    revoked_at = Timestamptz(null=True, default=None)


class ApiKey(Table):
    """A system's key (channel, till, carrier), kept only as its SHA-256 hash."""

    key_hash = Varchar(length=64, unique=True)
    prefix = Varchar(length=16)
    channel = Varchar(length=16)
    store = ForeignKey(references=Store, null=True)
    created_at = Timestamptz()
    revoked_at = Timestamptz(null=True, default=None)


class LoginFailure(Table):
    """One failed sign-in, counted per e-mail and per address for rate limiting."""

    email = Varchar(length=254, index=True)
    address = Varchar(length=64, index=True)
    failed_at = Timestamptz(index=True)


class PasswordReset(Table):
    """A password-reset link sent by e-mail, kept only as its token's SHA-256 hash: used once, before it expires."""

    token_hash = Varchar(length=64, unique=True)
    account = ForeignKey(references=Account, index=True)
    created_at = Timestamptz()
    expires_at = Timestamptz(index=True)
    used_at = Timestamptz(null=True, default=None)


class PasswordResetRequest(Table):
    """One request for a reset link, counted per e-mail (kept as its hash: most are nobody's) and per address."""

    email_hash = Varchar(length=64, index=True)
    address = Varchar(length=64, index=True)
    requested_at = Timestamptz(index=True)
