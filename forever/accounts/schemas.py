"""Wire schemas of accounts and sign-in."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec

from forever.money import Money
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


# --- privacy ---------------------------------------------------------------------------------------------------


class ConsentsUpdate(Input):
    marketing_email: bool


class ConsentChange(Output):
    purpose: str
    granted: bool
    recorded_at: dt.datetime
    source: str  # self_service, customer_service, retention, erasure


class Consents(Output):
    """The person's choices now, and every change of them, newest first."""

    marketing_email: bool
    history: list[ConsentChange]


class ProfileUpdate(Input):
    """A rectification: the fields given are corrected."""

    first_name: Name | None = None
    last_name: Name | None = None
    birth_date: dt.date | None = None


class ErasureBlocker(Output):
    """Something under way that must end before the data can be erased."""

    code: str  # tradein_under_way, order_under_way
    reference: str
    detail: str


class VoucherAtStake(Output):
    voucher_id: str
    code_last4: str
    balance: Money
    expires_at: dt.datetime


class ReturnAtStake(Output):
    order_id: str
    return_deadline: dt.date


class ErasurePreview(Output):
    """What erasing the account's data would do: what stops it now, what the person would lose, what is kept."""

    can_erase: bool
    blockers: list[ErasureBlocker]
    credit: Money  # unspent credit: no longer reachable by anyone
    vouchers: list[VoucherAtStake]  # they keep working for whoever has the code, but are no longer shown
    returnable_orders: list[ReturnAtStake]  # online returns are asked for from the account
    kept: list[str]


class ErasureConfirm(Input):
    confirm: bool
    password: Password


class PrivacyRequestCreate(Input):
    """A request customer service received by e-mail, post or phone, filed on the person's behalf."""

    email: Email  # the account's e-mail address
    kind: Literal["export", "erasure", "consent", "rectification"]
    channel: Literal["email", "post", "phone"]
    note: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    marketing_email: bool | None = None  # consent: the choice asked for
    changes: ProfileUpdate | None = None  # rectification: the corrections asked for


class PrivacyRequest(Output):
    id: str
    account_id: str
    account_email: str  # a placeholder once the account's data is erased
    kind: str
    status: str  # requested, done
    channel: str  # self_service, email, post, phone
    requested_at: dt.datetime
    requested_by: str
    detail: dict
    note: str
    done_at: dt.datetime | None
    done_by: str | None


class PrivacyRequestPage(Output):
    items: list[PrivacyRequest]
    next_cursor: str | None


class RetentionAction(Output):
    """One thing the retention job does (or, in a dry run, would do)."""

    action: str  # erase_account, notify_account, withdraw_marketing, archive_order, delete_order, delete_request,
    # delete_grading_photos
    subject: str  # the account, order or request id, or the trade-in piece whose photos go
    reason: str


class RetentionRun(Output):
    dry_run: bool
    ran_at: dt.datetime
    actions: list[RetentionAction]
