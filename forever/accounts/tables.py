"""Accounts, staff, stores, tokens and channel keys."""

from piccolo.columns import (
    JSON,
    UUID,
    Boolean,
    Date,
    ForeignKey,
    Text,
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
    # The last sign-in: with the person's trade-ins, orders and vouchers, what "last account activity" counts
    # from when the retention job looks for accounts inactive for 3 years (000_).
    last_sign_in_at = Timestamptz(null=True, default=None)
    # When an inactive account holding credit or vouchers was told it would be closed (forever.accounts.privacy).
    retention_notice_at = Timestamptz(null=True, default=None)
    # Set when the person's data was erased: the row stays (orders and the ledger refer to it), pseudonymised.
    erased_at = Timestamptz(null=True, default=None, index=True)


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


class ConsentEvent(Table, tablename="consent_event"):
    """A consent given or withdrawn (marketing e-mails): the latest event of a purpose is the person's choice,
    the others are the proof of when and how they chose."""

    account = ForeignKey(references=Account, index=True)
    purpose = Varchar(length=32)
    granted = Boolean()
    recorded_at = Timestamptz()
    source = Varchar(length=32)  # self_service, customer_service, retention, erasure
    actor = Varchar(length=80)


class PrivacyRequest(Table, tablename="privacy_request"):
    """A request under the GDPR rights of the policy (000_): export, erasure, consent, rectification; who asked,
    through which channel, when, and when and by whom it was done (or refused, and why)."""

    id = UUID(primary_key=True)
    account = ForeignKey(references=Account, index=True)
    kind = Varchar(length=16)
    status = Varchar(length=16, index=True)
    channel = Varchar(length=16)
    requested_at = Timestamptz(index=True)
    requested_by = Varchar(length=80)
    # What the request asks or changed: a consent's value, the fields rectified (their names, not the values),
    # the codes that refused an erasure.
    detail = JSON(default={})
    note = Text(default="")
    done_at = Timestamptz(null=True, default=None)
    done_by = Varchar(length=80, null=True, default=None)
