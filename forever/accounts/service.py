"""Use cases of accounts: sign-up, sign-in, tokens, passwords (change, reset by e-mail), staff, stores and channel
API keys."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import secrets
import uuid

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from forever import clock, db
from forever.accounts import model
from forever.accounts.schemas import (
    Account,
    AccountCreate,
    PasswordChanged,
    PasswordResetRequested,
    Principal,
    Session,
)
from forever.accounts.tables import Account as AccountRow
from forever.accounts.tables import ApiKey, AuthToken, LoginFailure, PasswordReset, PasswordResetRequest, Store
from forever.errors import Conflict, InvalidInput, NotAuthenticated, NotFound, TooManyRequests
from forever.notify import service as notify
from forever.settings import Settings, get_settings

log = logging.getLogger("forever.accounts")

API_KEY_PREFIX = "fek_"
_hashers: dict[tuple[int, int], tuple[PasswordHasher, str]] = {}


def _hasher() -> tuple[PasswordHasher, str]:
    """The Argon2id hasher of the settings in force, and a hash to verify against when the e-mail is unknown
    (so that an unknown e-mail and a wrong password take the same time)."""
    settings = get_settings()
    cost = (settings.argon2_memory_kib, settings.argon2_time_cost)
    if cost not in _hashers:
        hasher = PasswordHasher(memory_cost=cost[0], time_cost=cost[1])
        _hashers[cost] = (hasher, hasher.hash("not-a-real-password-1!"))
    return _hashers[cost]


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher()[0].hash, password)


async def _password_matches(password_hash: str, password: str) -> bool:
    try:
        return await asyncio.to_thread(_hasher()[0].verify, password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _check_password(password: str) -> None:
    problems = model.password_problems(password)
    if problems:
        raise InvalidInput(
            "The password needs " + ", ".join(problems) + ".",
            code="weak_password",
            errors=[{"field": "password", "message": problem} for problem in problems],
        )


def _check_email(email: str) -> str:
    email = model.normalise_email(email)
    if not model.is_valid_email(email):
        raise InvalidInput("That is not an e-mail address.", code="invalid_email",
                           errors=[{"field": "email", "message": "not an e-mail address"}])
    return email


def _to_account(row: dict, store_code: str | None = None) -> Account:
    return Account(
        id=str(row["id"]),
        email=row["email"],
        first_name=row["first_name"],
        last_name=row["last_name"],
        country=row["country"],
        birth_date=row["birth_date"],
        role=row["role"],
        store_code=store_code,
        created_at=row["created_at"],
    )


async def register(data: AccountCreate) -> Account:
    """Open a customer account. Minors are refused and nothing about them is kept (000_: no data on minors)."""
    email = _check_email(data.email)
    _check_password(data.password)
    country = data.country.upper()
    if not model.COUNTRY_PATTERN.match(country):
        raise InvalidInput("Country must be an ISO 3166 alpha-2 code.", code="invalid_country",
                           errors=[{"field": "country", "message": "ISO 3166 alpha-2 code"}])
    today = clock.today()
    if data.birth_date > today or data.birth_date.year < 1900:
        raise InvalidInput("That birth date is not possible.", code="invalid_birth_date",
                           errors=[{"field": "birth_date", "message": "not a possible birth date"}])
    if clock.age_on(data.birth_date, today) < model.MINIMUM_AGE:
        raise InvalidInput("AMI For Ever is open to people aged 18 and over.", code="minor")
    password_hash = await hash_password(data.password)
    row = {
        "id": uuid.uuid4(), "email": email, "password_hash": password_hash,
        "first_name": data.first_name.strip(), "last_name": data.last_name.strip(),
        "country": country, "birth_date": data.birth_date, "role": model.CUSTOMER,
        "created_at": clock.now(),
    }
    await _insert_account(row)
    return _to_account(row)


async def _insert_account(row: dict) -> None:
    """Insert an account; its e-mail being taken, even by a concurrent sign-up, is `email_taken`."""
    taken = Conflict("An account already uses this e-mail address.", code="email_taken")
    try:
        async with db.write_transaction():
            if await AccountRow.exists().where(AccountRow.email == row["email"]):
                raise taken
            await AccountRow.insert(AccountRow(**row))
    except Exception as exc:
        if db.is_unique_violation(exc):
            raise taken from None
        raise


async def login(email: str, password: str, address: str, settings: Settings | None = None) -> Session:
    """Exchange an e-mail and password for an expiring bearer token; failures are rate limited."""
    settings = settings or get_settings()
    email = model.normalise_email(email)
    now = clock.now()
    await _refuse_repeated_failures(email, address, settings, now)
    row = await AccountRow.select(AccountRow.id, AccountRow.password_hash, AccountRow.role).where(
        AccountRow.email == email).first()
    matches = await _password_matches(row["password_hash"] if row else _hasher()[1], password)
    if row is None or not matches:
        await _record_failure(email, address, settings, now)
        raise NotAuthenticated("Wrong e-mail or password.", code="invalid_credentials")
    token = secrets.token_urlsafe(32)
    expires_at = now + dt.timedelta(hours=settings.token_ttl_hours)
    async with db.write_transaction():
        await AuthToken.insert(AuthToken(token_hash=_digest(token), account=row["id"], created_at=now,
                                         expires_at=expires_at))
        # Activity that keeps the account (000_: inactive accounts are deleted after 3 years).
        await AccountRow.update({AccountRow.last_sign_in_at: now, AccountRow.retention_notice_at: None}).where(
            AccountRow.id == row["id"])
    return Session(token=token, expires_at=expires_at, account_id=str(row["id"]), role=row["role"])


def _failure_window(settings: Settings, now: dt.datetime) -> dt.datetime:
    return now - dt.timedelta(minutes=settings.login_window_minutes)


async def _refuse_repeated_failures(email: str, address: str, settings: Settings, now: dt.datetime) -> None:
    """429 once an e-mail or an address has failed too often within the window (a guesser slows to a crawl)."""
    since = _failure_window(settings, now)
    by_email = await LoginFailure.count().where(LoginFailure.email == email, LoginFailure.failed_at >= since)
    by_address = await LoginFailure.count().where(LoginFailure.address == address,
                                                  LoginFailure.failed_at >= since)
    if by_email >= settings.login_failures_per_email or by_address >= settings.login_failures_per_address:
        raise TooManyRequests("Too many failed sign-ins. Try again in a few minutes.",
                              code="too_many_attempts",
                              headers={"Retry-After": str(settings.login_window_minutes * 60)})


async def _record_failure(email: str, address: str, settings: Settings, now: dt.datetime) -> None:
    async with db.write_transaction():
        await LoginFailure.insert(LoginFailure(email=email, address=address[:64], failed_at=now))
        await LoginFailure.delete().where(LoginFailure.failed_at < _failure_window(settings, now))


async def logout(token: str) -> None:
    """Revoke a bearer token."""
    async with db.write_transaction():
        await AuthToken.update({AuthToken.revoked_at: clock.now()}).where(
            AuthToken.token_hash == _digest(token), AuthToken.revoked_at.is_null())


# Every authenticated request runs one of these: written once as SQL, because building them through the
# query builder cost more than the rest of a trivial request (bench/quotes.py, profiled).
_PERSON_BY_TOKEN = """
    SELECT account.id, account.role, account.country, account.birth_date, store.code AS store_code,
           store.kind AS store_kind, auth_token.expires_at
    FROM auth_token
    JOIN account ON account.id = auth_token.account
    LEFT JOIN store ON store.id = account.store
    WHERE auth_token.token_hash = {} AND auth_token.revoked_at IS NULL
"""
_SYSTEM_BY_KEY = """
    SELECT api_key.id, api_key.channel, store.code AS store_code, store.kind AS store_kind
    FROM api_key
    LEFT JOIN store ON store.id = api_key.store
    WHERE api_key.key_hash = {} AND api_key.revoked_at IS NULL
"""


async def authenticate(secret: str) -> Principal | None:
    """Who holds this bearer secret: a person's live token or a system's live API key, else None."""
    if not secret or len(secret) > 200:
        return None
    digest = _digest(secret)
    if secret.startswith(API_KEY_PREFIX):
        keys = await db.fetch(_SYSTEM_BY_KEY, digest)
        if not keys:
            return None
        key = keys[0]
        return Principal(kind="system", channel=key["channel"], api_key_id=key["id"],
                         store_code=key["store_code"], store_kind=key["store_kind"])
    people = await db.fetch(_PERSON_BY_TOKEN, digest)
    if not people or people[0]["expires_at"] <= clock.now():
        return None
    person = people[0]
    return Principal(kind="person", role=person["role"], account_id=str(person["id"]),
                     store_code=person["store_code"], store_kind=person["store_kind"], country=person["country"],
                     birth_date=person["birth_date"])


async def get_account(account_id: str) -> Account:
    """The account of a person; an erased one is not found (nobody is written to or named any more)."""
    row = await AccountRow.select(*AccountRow.all_columns(), AccountRow.store.code).where(
        AccountRow.id == uuid.UUID(account_id)).first()
    if row is None or row["erased_at"] is not None:
        raise NotFound("No such account.")
    return _to_account(row, row["store.code"])


async def add_store(code: str, name: str, country: str, kind: str) -> str:
    """Register an AMI point of sale; returns its code."""
    if not model.STORE_CODE_PATTERN.match(code):
        raise InvalidInput("Store codes are lowercase letters, digits, '-' or '_'.", code="invalid_store_code")
    if kind not in model.STORE_KINDS:
        raise InvalidInput(f"Store kind must be one of {', '.join(model.STORE_KINDS)}.", code="invalid_store_kind")
    if not model.COUNTRY_PATTERN.match(country.upper()):
        raise InvalidInput("Country must be an ISO 3166 alpha-2 code.", code="invalid_country")
    async with db.write_transaction():
        if await Store.exists().where(Store.code == code):
            raise Conflict(f"A store already has the code {code!r}.", code="store_exists")
        await Store.insert(Store(code=code, name=name, country=country.upper(), kind=kind,
                                 created_at=clock.now()))
    return code


async def store_name(code: str) -> str:
    """The name of a point of sale, as a receipt prints it."""
    store = await Store.select(Store.name).where(Store.code == code).first()
    if store is None:
        raise NotFound(f"No store has the code {code!r}.", code="unknown_store")
    return store["name"]


async def _store_id(code: str | None) -> int | None:
    if code is None:
        return None
    store = await Store.select(Store.id).where(Store.code == code).first()
    if store is None:
        raise NotFound(f"No store has the code {code!r}.", code="unknown_store")
    return store["id"]


async def create_staff(email: str, password: str, role: str, store_code: str | None = None) -> Account:
    """Create a member of staff; store staff belong to a store."""
    email = _check_email(email)
    _check_password(password)
    if role not in model.STAFF_ROLES:
        raise InvalidInput(f"Role must be one of {', '.join(model.STAFF_ROLES)}.", code="invalid_role")
    if role == model.STORE_STAFF and store_code is None:
        raise InvalidInput("Store staff need a store (--store CODE).", code="store_required")
    store_id = await _store_id(store_code)
    password_hash = await hash_password(password)
    row = {
        "id": uuid.uuid4(), "email": email, "password_hash": password_hash, "first_name": "",
        "last_name": "", "country": "FR", "birth_date": None, "role": role, "store": store_id,
        "created_at": clock.now(),
    }
    await _insert_account(row)
    return _to_account(row, store_code)


async def create_api_key(channel: str, store_code: str | None = None) -> str:
    """Issue a channel key; returns the key itself, which is never stored and cannot be shown again."""
    if channel not in model.CHANNELS:
        raise InvalidInput(f"Channel must be one of {', '.join(model.CHANNELS)}.", code="invalid_channel")
    if channel == "store" and store_code is None:
        raise InvalidInput("A store key belongs to a store (--store CODE).", code="store_required")
    store_id = await _store_id(store_code)
    key = f"{API_KEY_PREFIX}{channel}_{secrets.token_urlsafe(32)}"
    async with db.write_transaction():
        await ApiKey.insert(ApiKey(key_hash=_digest(key), prefix=key[:12], channel=channel, store=store_id,
                                   created_at=clock.now()))
    return key


async def ensure_api_key(key: str, channel: str, store_code: str | None = None) -> None:
    """Register a key chosen elsewhere (the demo's derived keys) unless it is already known."""
    if not key.startswith(API_KEY_PREFIX) or channel not in model.CHANNELS:
        raise InvalidInput("Not a channel key.", code="invalid_channel")
    store_id = await _store_id(store_code)
    async with db.write_transaction():
        if not await ApiKey.exists().where(ApiKey.key_hash == _digest(key)):
            await ApiKey.insert(ApiKey(key_hash=_digest(key), prefix=key[:12], channel=channel, store=store_id,
                                       created_at=clock.now()))


async def account_exists(email: str) -> bool:
    return await AccountRow.exists().where(AccountRow.email == model.normalise_email(email))


# --- passwords: change, reset by e-mail -------------------------------------------------------------------------


async def _set_password(account: uuid.UUID, password_hash: str, now: dt.datetime, *, keep_token: str | None = None
                        ) -> int:
    """Inside the caller's transaction: the new password; every session of the account ends but `keep_token`'s,
    and every reset link not yet used stops working. Returns how many sessions ended."""
    await AccountRow.update({AccountRow.password_hash: password_hash}).where(AccountRow.id == account)
    live = (AuthToken.account == account) & AuthToken.revoked_at.is_null() & (AuthToken.expires_at > now)
    if keep_token is not None:
        live &= AuthToken.token_hash != _digest(keep_token)
    ended = await AuthToken.update({AuthToken.revoked_at: now}).where(live).returning(AuthToken.id)
    await PasswordReset.update({PasswordReset.used_at: now}).where(PasswordReset.account == account,
                                                                   PasswordReset.used_at.is_null())
    return len(ended)


async def change_password(account_id: str, token: str, current_password: str, new_password: str, address: str,
                          settings: Settings | None = None) -> PasswordChanged:
    """A signed-in person's new password. The current one must be given (a wrong one counts as a failed sign-in);
    every other session of theirs ends, the one asking goes on."""
    _check_password(new_password)
    await verify_password(account_id, current_password, address, settings, field="current_password")
    now = clock.now()
    password_hash = await hash_password(new_password)
    async with db.write_transaction():
        ended = await _set_password(uuid.UUID(account_id), password_hash, now, keep_token=token)
    return PasswordChanged(sessions_ended=ended)


async def verify_password(account_id: str, password: str, address: str, settings: Settings | None = None, *,
                          field: str = "password") -> None:
    """A signed-in person proving it is them before a change that matters (a new password, erasing their data):
    a wrong password is 422 `wrong_password` and counts as a failed sign-in."""
    settings = settings or get_settings()
    now = clock.now()
    row = await AccountRow.select(AccountRow.email, AccountRow.password_hash).where(
        AccountRow.id == uuid.UUID(account_id)).first()
    if row is None:
        raise NotFound("No such account.")
    await _refuse_repeated_failures(row["email"], address, settings, now)
    if not await _password_matches(row["password_hash"], password):
        await _record_failure(row["email"], address, settings, now)
        raise InvalidInput("That is not your current password.", code="wrong_password",
                           errors=[{"field": field, "message": "not your current password"}])


def _reset_text(link: str, minutes: int) -> str:
    return (f"Someone, we hope you, asked to choose a new password for your AMI For Ever account.\n\n"
            f"Choose it here within {minutes} minutes; the link works once:\n{link}\n\n"
            "If you did not ask, ignore this message: your password stays as it is.\n")


async def request_password_reset(email: str, address: str, settings: Settings | None = None
                                 ) -> PasswordResetRequested:
    """E-mail a single-use link to choose a new password, when an account uses this address.

    The answer is the same whether one does or not, so that it tells nobody who has an account. Requests are
    limited per e-mail and per address, known or not (the limit says nothing either).
    """
    settings = settings or get_settings()
    email = _check_email(email)
    now = clock.now()
    since = now - dt.timedelta(minutes=settings.password_reset_window_minutes)
    requests = PasswordResetRequest.requested_at >= since
    by_email = await PasswordResetRequest.count().where(requests,
                                                        PasswordResetRequest.email_hash == _digest(email))
    by_address = await PasswordResetRequest.count().where(requests, PasswordResetRequest.address == address[:64])
    if by_email >= settings.password_resets_per_email or by_address >= settings.password_resets_per_address:
        raise TooManyRequests("Too many password-reset requests. Try again later.", code="too_many_attempts",
                              headers={"Retry-After": str(settings.password_reset_window_minutes * 60)})
    token = secrets.token_urlsafe(32)
    async with db.write_transaction():
        await PasswordResetRequest.insert(PasswordResetRequest(email_hash=_digest(email), address=address[:64],
                                                               requested_at=now))
        account = await AccountRow.select(AccountRow.id).where(AccountRow.email == email).first()
        if account is not None:
            await PasswordReset.insert(PasswordReset(
                token_hash=_digest(token), account=account["id"], created_at=now,
                expires_at=now + dt.timedelta(minutes=settings.password_reset_minutes)))
    if account is not None:
        link = f"{settings.public_url}/password-reset/new?token={token}"
        try:
            await notify.send(email, "Choose a new AMI For Ever password",
                              _reset_text(link, settings.password_reset_minutes))
        except Exception:  # the answer must not differ: the person may ask again
            log.exception("a password-reset e-mail could not be sent")
    return PasswordResetRequested(
        detail="If an account uses this e-mail address, a link to choose a new password is on its way.",
        link_valid_minutes=settings.password_reset_minutes)


_CLAIM_RESET_LINK = """
    UPDATE password_reset SET used_at = {}
    WHERE token_hash = {} AND used_at IS NULL AND expires_at > {}
    RETURNING account
"""


async def reset_password(token: str, new_password: str) -> PasswordChanged:
    """Choose a new password through an e-mailed link: once, before it expires. Every session ends."""
    _check_password(new_password)
    password_hash = await hash_password(new_password)
    now = clock.now()
    digest = _digest(token)
    async with db.write_transaction():
        # The update claims the link: of two uses at once, one finds it already used.
        claimed = await db.fetch(_CLAIM_RESET_LINK, now, digest, now)
        if not claimed:
            link = await PasswordReset.select(PasswordReset.used_at).where(
                PasswordReset.token_hash == digest).first()
            if link is not None and link["used_at"] is None:
                raise InvalidInput("This link has expired: ask for a new one.", code="reset_link_expired")
            raise InvalidInput("This link has been used already, or is not one we sent: ask for a new one.",
                               code="reset_link_invalid")
        ended = await _set_password(uuid.UUID(str(claimed[0]["account"])), password_hash, now)
    return PasswordChanged(sessions_ended=ended)


async def purge_expired_credentials(now: dt.datetime | None = None) -> int:
    """Forget tokens and reset links past their expiry (revoked or used ones too): none can be used any more."""
    now = now or clock.now()
    async with db.write_transaction():
        tokens = await AuthToken.delete().where(AuthToken.expires_at < now).returning(AuthToken.id)
        links = await PasswordReset.delete().where(PasswordReset.expires_at < now).returning(PasswordReset.id)
    return len(tokens) + len(links)


async def prune_attempts(settings: Settings | None = None, now: dt.datetime | None = None) -> int:
    """Forget failed sign-ins and reset requests older than their rate-limit windows: only the window counts."""
    settings = settings or get_settings()
    now = now or clock.now()
    reset_since = now - dt.timedelta(minutes=settings.password_reset_window_minutes)
    async with db.write_transaction():
        failures = await LoginFailure.delete().where(
            LoginFailure.failed_at < _failure_window(settings, now)).returning(LoginFailure.id)
        requests = await PasswordResetRequest.delete().where(
            PasswordResetRequest.requested_at < reset_since).returning(PasswordResetRequest.id)
    return len(failures) + len(requests)


# --- erasure (forever.accounts.privacy) -----------------------------------------------------------------------

# Not an Argon2 hash: no password ever matches it.
ERASED_PASSWORD_HASH = "!erased"


async def pseudonymise(account_id: str, now: dt.datetime) -> str:
    """Inside the caller's transaction: an account that names nobody any more. The row stays (other records
    refer to it); the e-mail becomes a placeholder (the address is free again), the names, birth date and
    password go, and every session, reset link and sign-in attempt of it is forgotten. Returns the e-mail the
    account had."""
    key = uuid.UUID(account_id)
    row = await AccountRow.select(AccountRow.email).where(AccountRow.id == key).first()
    if row is None:
        raise NotFound("No such account.")
    await AccountRow.update({
        AccountRow.email: model.erased_email(account_id), AccountRow.first_name: "", AccountRow.last_name: "",
        AccountRow.birth_date: None, AccountRow.password_hash: ERASED_PASSWORD_HASH, AccountRow.erased_at: now,
        AccountRow.retention_notice_at: None,
    }).where(AccountRow.id == key)
    await AuthToken.delete().where(AuthToken.account == key)
    await PasswordReset.delete().where(PasswordReset.account == key)
    await LoginFailure.delete().where(LoginFailure.email == row["email"])
    await PasswordResetRequest.delete().where(PasswordResetRequest.email_hash == _digest(row["email"]))
    return row["email"]
