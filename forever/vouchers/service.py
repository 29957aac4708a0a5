"""Use cases of store credit and vouchers: crediting trade-ins, issuing vouchers, spending them through the
channels (look-up, redemption, holds), paying an order with several vouchers, customer service's re-credits,
and the jobs that lapse holds, expire vouchers and send reminders.

Every money movement runs in one `db.write_transaction()` that first locks the ledger accounts it changes
(`ledger.lock`), then reads their balances, then writes; a request's idempotency answer is recorded in the same
transaction (forever.idempotency.service).
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from forever import clock, db
from forever.accounts import model as accounts_model
from forever.accounts import service as accounts
from forever.accounts.schemas import Principal
from forever.errors import Conflict, InvalidInput, NotAllowed, NotFound, TooManyRequests
from forever.idempotency import service as idempotency
from forever.idempotency.service import Claim
from forever.money import Money
from forever.notify import service as notify
from forever.pagination import check_limit, decode_cursor, encode_cursor
from forever.settings import Settings, get_settings
from forever.vouchers import ledger, model
from forever.vouchers.schemas import (
    CaptureCreate,
    Credit,
    CreditEntry,
    Hold,
    HoldCreate,
    HoldPlaced,
    IssuedVoucher,
    RecreditCreate,
    RecreditEntry,
    Redemption,
    RedemptionCreate,
    StatementLine,
    TradeinCreditEntry,
    Voucher,
    VoucherIssueEntry,
    VoucherLookup,
)
from forever.vouchers.tables import VoucherHold, VoucherMiss

log = logging.getLogger("forever.vouchers")

SYSTEM_ACTOR = "system"
OPEN, CAPTURED, VOIDED, LAPSED = "open", "captured", "voided", "lapsed"


def _eur(cents: int) -> Money:
    return Money(cents, model.CURRENCY)


def _cents(amount: Money, field: str = "amount") -> int:
    """A positive amount in EUR cents, else 422."""
    if amount.currency != model.CURRENCY:
        raise InvalidInput("Store credit and vouchers are in EUR.", code="currency_not_supported",
                           errors=[{"field": field, "message": "EUR only"}])
    if amount.amount <= 0:
        raise InvalidInput("The amount must be above zero.", code="invalid_amount",
                           errors=[{"field": field, "message": "above zero"}])
    return amount.amount


def _account_uuid(account_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(account_id)
    except (TypeError, ValueError):
        raise NotFound("No such account.") from None


def actor_of(principal: Principal) -> str:
    """How the ledger names who acted."""
    if principal.kind == "system":
        return f"apikey:{principal.api_key_id}"
    return f"account:{principal.account_id}"


def _voucher_reference(last4: str) -> str:
    return f"voucher ending {last4}"


# --- the seller's credit --------------------------------------------------------------------------------------


async def credit_tradein_item(account_id: str, tradein_item_id: str, amount: Money, *, reference: str = "",
                              actor: str = SYSTEM_ACTOR) -> TradeinCreditEntry:
    """Credit a seller for one validated trade-in piece (003_: credit lands piece by piece).

    Crediting the same item again changes nothing and returns the first entry; with another amount it is 409
    `already_credited`.
    """
    cents = _cents(amount)
    owner = str(_account_uuid(account_id))
    if not 1 <= len(tradein_item_id) <= 64:
        raise ValueError(f"not a trade-in item id: {tradein_item_id!r}")
    credit = model.credit_account(owner)
    already = Conflict(f"Trade-in item {tradein_item_id} was already credited.", code="already_credited")
    try:
        async with db.write_transaction():
            await ledger.open_account(credit, clock.now())
            balances = await ledger.lock(credit)
            # Read under the lock: a concurrent credit of the same item has committed or not started.
            earlier = await _entries(credit, tradein_item=tradein_item_id)
            if earlier:
                if earlier[0].amount.amount != cents:
                    raise already
                return earlier[0]
            await ledger.post_tradein_credit(balances, owner, tradein_item_id, cents, actor=actor,
                                             reference=(reference or f"trade-in item {tradein_item_id}")[:255])
            entry = (await _entries(credit, tradein_item=tradein_item_id))[0]
    except Exception as exc:
        if db.is_unique_violation(exc):  # credited to another seller
            raise already from None
        raise
    log.info("credit %s: trade-in item %s credited %d", owner, tradein_item_id, cents)
    return entry


_ENTRIES = """
    SELECT e.id, e.amount, e.balance_after, e.created_at, t.kind, t.reference, t.reason, t.voucher,
           t.tradein_item, v.last4
    FROM ledger_entry e
    JOIN ledger_transaction t ON t.id = e.txn
    LEFT JOIN voucher v ON v.id = t.voucher
    WHERE e.account = {}
"""


async def _entries(account: str, *, tradein_item: str | None = None, before: int | None = None,
                   limit: int = 1) -> list[CreditEntry]:
    sql, args = _ENTRIES, [account]
    if tradein_item is not None:
        sql, args = sql + " AND t.tradein_item = {}", [*args, tradein_item]
    if before is not None:
        sql, args = sql + " AND e.id < {}", [*args, before]
    rows = await db.fetch(sql + " ORDER BY e.id DESC LIMIT {}", *args, limit)
    return [_credit_entry(row) for row in rows]


def _credit_entry(row: dict) -> CreditEntry:
    common = {"id": row["id"], "amount": _eur(row["amount"]), "balance_after": _eur(row["balance_after"]),
              "created_at": row["created_at"], "reference": row["reference"]}
    match row["kind"]:
        case model.TRADEIN_CREDIT:
            return TradeinCreditEntry(**common, tradein_item_id=row["tradein_item"])
        case model.VOUCHER_ISSUE:
            return VoucherIssueEntry(**common, voucher_id=str(row["voucher"]), code_last4=row["last4"])
        case model.RECREDIT:
            return RecreditEntry(**common, reason=row["reason"] or "", code_last4=row["last4"] or "",
                                 credited=model.CREDIT_ACCOUNT)
    raise ValueError(f"a {row['kind']} entry on a credit account")


async def credit_history(account_id: str, limit: int = 20, cursor: str | None = None) -> Credit:
    """A seller's credit balance and its movements, newest first: credits positive, debits negative."""
    check_limit(limit)
    credit = model.credit_account(str(_account_uuid(account_id)))
    before = decode_cursor(cursor, (int,))[0] if cursor is not None else None
    balance = await db.fetch("SELECT balance FROM ledger_account WHERE id = {}", credit)
    entries = await _entries(credit, before=before, limit=limit + 1)
    next_cursor = encode_cursor(entries[limit - 1].id) if len(entries) > limit else None
    return Credit(balance=_eur(balance[0]["balance"] if balance else 0), entries=entries[:limit],
                  next_cursor=next_cursor)


# Every entry on a person's credit account and on their vouchers' accounts (forever.accounts.privacy).
_STATEMENT = """
    SELECT e.id, e.account, e.amount, e.balance_after, e.created_at, t.kind, t.channel, t.reference, t.reason,
           t.voucher, v.last4
    FROM ledger_entry e
    JOIN ledger_transaction t ON t.id = e.txn
    LEFT JOIN voucher v ON v.id = t.voucher
    WHERE e.account = {} OR e.account IN (SELECT 'voucher:' || id FROM voucher WHERE owner = {})
"""


async def statement(account_id: str) -> list[StatementLine]:
    """Every movement of a person's credit and of their vouchers (redemptions, holds, expiry...), oldest first:
    their data export. The ledger itself is never changed by an erasure (accounting records, 000_)."""
    owner = _account_uuid(account_id)
    rows = await db.fetch(_STATEMENT + " ORDER BY e.id", model.credit_account(str(owner)), owner)
    return [StatementLine(
        account=model.account_kind(row["account"]), voucher_id=str(row["voucher"]) if row["voucher"] else None,
        code_last4=row["last4"], kind=row["kind"], amount=_eur(row["amount"]),
        balance_after=_eur(row["balance_after"]) if row["balance_after"] is not None else None,
        created_at=row["created_at"], channel=row["channel"], reference=row["reference"], reason=row["reason"])
        for row in rows]


async def last_activity(account_id: str) -> dt.datetime | None:
    """When a person's credit or one of their vouchers last moved (a credit, a voucher, a redemption in a
    boutique...): activity of the customer relationship, for the retention job."""
    owner = _account_uuid(account_id)
    rows = await db.fetch(_STATEMENT + " ORDER BY e.id DESC LIMIT 1", model.credit_account(str(owner)), owner)
    return rows[0]["created_at"] if rows else None


# --- vouchers -------------------------------------------------------------------------------------------------

_INSERT_VOUCHER = """
    INSERT INTO voucher (id, owner, code_hash, code_seed, last4, amount, currency, issued_at, expires_at)
    VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {})
"""


async def issue_voucher(account_id: str, amount: Money, *, claim: Claim | None = None) -> IssuedVoucher:
    """Turn some of a seller's credit into a voucher valid 12 months on the three channels.

    The full code is in the answer; the database keeps only what finds it again (see model.derive_code).
    """
    cents = _cents(amount)
    owner = _account_uuid(account_id)
    credit = model.credit_account(str(owner))
    secret = get_settings().secret_key
    seed = secrets.token_hex(16)
    code = model.derive_code(secret, seed)
    voucher_id = uuid.uuid4()
    # Two 80-bit codes colliding would fail the unique hash, and this request with it: too rare to handle.
    async with db.write_transaction():
        balances = await ledger.lock(credit)
        if balances.get(credit, 0) < cents:
            raise InvalidInput("There is not enough credit for a voucher of this amount.",
                               code="insufficient_credit")
        now = clock.now()
        expires_at = model.expiry_of(now)
        await db.fetch(_INSERT_VOUCHER, voucher_id, owner, model.lookup_hash(secret, code), seed,
                       model.last4(code), cents, model.CURRENCY, now, expires_at)
        await ledger.post_voucher_issue(balances, str(owner), voucher_id, cents, actor=f"account:{owner}",
                                        reference=_voucher_reference(model.last4(code)))
        issued = IssuedVoucher(id=str(voucher_id), code=model.display_code(code), code_last4=model.last4(code),
                               amount=_eur(cents), balance=_eur(cents), issued_at=now, expires_at=expires_at,
                               channels=list(model.CHANNELS))
        await idempotency.record(claim, issued)
    log.info("voucher ending %s issued to %s for %d", model.last4(code), owner, cents)
    return issued


_VOUCHERS = """
    SELECT v.id, v.owner, v.code_seed, v.last4, v.amount, v.issued_at, v.expires_at, v.last_reminder_days,
           a.balance,
           (SELECT COALESCE(SUM(h.amount), 0) FROM voucher_hold h WHERE h.voucher = v.id AND h.status = 'open')
               AS held
    FROM voucher v JOIN ledger_account a ON a.id = 'voucher:' || v.id
"""


async def list_vouchers(account_id: str, limit: int = 20, cursor: str | None = None
                        ) -> tuple[list[Voucher], str | None]:
    """The seller's vouchers, newest first, with their codes (only their owner sees them) and balances."""
    check_limit(limit)
    sql, args = _VOUCHERS + " WHERE v.owner = {}", [_account_uuid(account_id)]
    if cursor is not None:
        issued_at, voucher_id = decode_cursor(cursor, (str, str))
        try:
            after, after_id = dt.datetime.fromisoformat(issued_at), uuid.UUID(voucher_id)
        except ValueError:
            raise InvalidInput("That cursor is not one this list gave out.", code="invalid_cursor") from None
        sql += " AND (v.issued_at < {} OR (v.issued_at = {} AND v.id < {}))"
        args += [after, after, after_id]
    rows = await db.fetch(sql + " ORDER BY v.issued_at DESC, v.id DESC LIMIT {}", *args, limit + 1)
    secret, now = get_settings().secret_key, clock.now()
    items = [_voucher(row, secret, now) for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor(last["issued_at"].isoformat(), str(last["id"]))
    return items, next_cursor


def _voucher(row: dict, secret: bytes, now: dt.datetime) -> Voucher:
    code = model.derive_code(secret, row["code_seed"])
    return Voucher(id=str(row["id"]), code=model.display_code(code), code_last4=row["last4"],
                   amount=_eur(row["amount"]), balance=_eur(row["balance"]), held=_eur(row["held"]),
                   status=model.voucher_status(row["balance"], row["held"], row["expires_at"], now),
                   issued_at=row["issued_at"], expires_at=row["expires_at"], channels=list(model.CHANNELS))


# --- finding a voucher by its code, against guessing ---------------------------------------------------------

_MISSES = """
    SELECT COALESCE(SUM(CASE WHEN source = {} THEN 1 ELSE 0 END), 0) AS by_source,
           COALESCE(SUM(CASE WHEN address = {} THEN 1 ELSE 0 END), 0) AS by_address
    FROM voucher_miss WHERE missed_at >= {} AND (source = {} OR address = {})
"""


async def _refuse_guessers(source: str, address: str, settings: Settings) -> None:
    """429 for a caller (key or account) or an address with too many recent misses.

    Misses are rows in the database, so every process of the service counts the same ones.
    """
    window = dt.timedelta(minutes=settings.voucher_miss_window_minutes)
    counts = (await db.fetch(_MISSES, source, address, clock.now() - window, source, address))[0]
    if max(counts["by_source"], counts["by_address"]) >= settings.voucher_misses_allowed:
        raise TooManyRequests("Too many unknown voucher codes. Try again in a few minutes.",
                              code="too_many_attempts",
                              headers={"Retry-After": str(int(window.total_seconds()))})


async def _miss(source: str, address: str, settings: Settings) -> NotFound:
    """Count a code that found nothing; returns the 404 to raise."""
    now = clock.now()
    async with db.write_transaction():
        await VoucherMiss.insert(VoucherMiss(source=source[:64], address=address[:64], missed_at=now))
        await VoucherMiss.delete().where(  # only the window counts
            VoucherMiss.missed_at < now - dt.timedelta(minutes=settings.voucher_miss_window_minutes))
    return NotFound("No voucher has this code.", code="voucher_not_found")


async def _voucher_by_code(code: str, secret: bytes) -> dict | None:
    """The voucher a code names, or None; a code whose check character is wrong is never looked up."""
    normalised = model.normalise_code(code)
    if normalised is None:
        return None
    rows = await db.fetch(_VOUCHERS + " WHERE v.code_hash = {}", model.lookup_hash(secret, normalised))
    return rows[0] if rows else None


async def _spendable_voucher(code: str, source: str, address: str) -> dict:
    """The unexpired voucher a code names. Unknown and mistyped codes are the same 404 and count as misses;
    an expired voucher is 422 `voucher_expired` and says nothing more (it is a real code, not a guess)."""
    settings = get_settings()
    await _refuse_guessers(source, address, settings)
    row = await _voucher_by_code(code, settings.secret_key)
    if row is None:
        raise await _miss(source, address, settings)
    if model.is_expired(row["expires_at"], clock.now()):
        raise InvalidInput("This voucher has expired.", code="voucher_expired")
    return row


@dataclass(frozen=True)
class _Channel:
    """A channel key spending vouchers: its channel, and the name its holds, misses and entries go under."""

    name: str
    key: str


def _channel(principal: Principal) -> _Channel:
    """The channel a caller spends through: a channel key's, or for store staff at the till, their store's."""
    if principal.kind == "system" and principal.channel in model.CHANNELS:
        channel = principal.channel
    elif principal.kind == "person" and principal.role == accounts_model.STORE_STAFF and principal.store_code:
        channel = model.STORE
    else:
        raise NotFound("Nothing here.")
    if not model.channel_allowed(channel, principal.store_kind):
        raise NotAllowed("Vouchers cannot be used in department-store corners.", code="channel_not_allowed")
    return _Channel(channel, actor_of(principal))


def check_spending_channel(principal: Principal) -> None:
    """Raise as look-up and redemption would when this caller may not spend vouchers (e.g. a corner's till)."""
    _channel(principal)


# --- channels: look-up, redemption, holds ---------------------------------------------------------------------


async def look_up(principal: Principal, code: str, address: str) -> VoucherLookup:
    """What a till or a shop may know of a voucher: the end of its code, what can be spent, until when."""
    channel = _channel(principal)
    row = await _spendable_voucher(code, channel.key, address)
    status = model.voucher_status(row["balance"], row["held"], row["expires_at"], clock.now())
    return VoucherLookup(code_last4=row["last4"], balance=_eur(row["balance"]), expires_at=row["expires_at"],
                         status=status)


def _insufficient_balance() -> InvalidInput:
    return InvalidInput("The voucher's available balance is lower than the amount.", code="insufficient_balance")


async def _lock_covering(account: str, cents: int) -> ledger.Balances:
    """Lock a voucher's account and make sure it covers `cents` (inside the caller's write transaction)."""
    balances = await ledger.lock(account)
    if balances[account] < cents:
        raise _insufficient_balance()
    return balances


async def redeem(principal: Principal, data: RedemptionCreate, address: str, *,
                 claim: Claim | None = None) -> Redemption:
    """Spend part or all of a voucher at once (a till, or a shop that captures immediately)."""
    channel = _channel(principal)
    cents = _cents(data.amount)
    voucher = await _spendable_voucher(data.code, channel.key, address)
    account = model.voucher_account(str(voucher["id"]))
    async with db.write_transaction():
        balances = await _lock_covering(account, cents)
        posted = await ledger.post_redemption(balances, voucher["id"], channel.name, cents, actor=channel.key,
                                              order_ref=data.order_ref)
        redemption = Redemption(redemption_id=str(posted.txn_id), amount=_eur(cents),
                                balance_after=_eur(balances[account]))
        await idempotency.record(claim, redemption)
    log.info("voucher ending %s: %d redeemed on %s for %s", voucher["last4"], cents, channel.name,
             data.order_ref)
    return redemption


_INSERT_HOLD = """
    INSERT INTO voucher_hold (id, voucher, holder, channel, order_ref, amount, captured, status, created_at,
                              expires_at)
    VALUES ({}, {}, {}, {}, {}, {}, 0, {}, {}, {})
"""


async def _open_hold(balances: ledger.Balances, voucher_id: uuid.UUID, channel: str, holder: str, cents: int,
                     order_ref: str) -> HoldPlaced:
    """Set `cents` of a locked voucher aside for an order, for 7 days."""
    hold_id, now = uuid.uuid4(), clock.now()
    expires_at = now + model.HOLD_VALIDITY
    await db.fetch(_INSERT_HOLD, hold_id, voucher_id, holder, channel, order_ref, cents, OPEN, now, expires_at)
    await ledger.post_hold(balances, voucher_id, hold_id, channel, cents, actor=holder, order_ref=order_ref)
    return HoldPlaced(hold_id=str(hold_id), amount=_eur(cents), expires_at=expires_at)


async def place_hold(principal: Principal, data: HoldCreate, address: str, *,
                     claim: Claim | None = None) -> HoldPlaced:
    """Authorise an amount on a voucher for an order: it is no longer available until captured or released."""
    channel = _channel(principal)
    cents = _cents(data.amount)
    voucher = await _spendable_voucher(data.code, channel.key, address)
    account = model.voucher_account(str(voucher["id"]))
    async with db.write_transaction():
        balances = await _lock_covering(account, cents)
        placed = await _open_hold(balances, voucher["id"], channel.name, channel.key, cents, data.order_ref)
        await idempotency.record(claim, placed)
    log.info("voucher ending %s: %d held on %s for %s", voucher["last4"], cents, channel.name, data.order_ref)
    return placed


async def authorise_payment(amount: Money, order_ref: str, *, codes: Sequence[str] = (),
                            account_id: str | None = None, holder: str = model.RESALE_CHECKOUT,
                            channel: str = model.RESALE, address: str = "internal",
                            require_full: bool = False) -> list[HoldPlaced]:
    """Hold what an order needs from several vouchers: soonest-expiring first, and only what it needs.

    The vouchers are the `codes` the buyer typed (misses count against `account_id` and `address`, as at a
    channel), or, without codes, every unexpired voucher `account_id` owns. All the holds are placed in one
    transaction or none is. They may cover less than `amount` (the rest is paid otherwise) unless
    `require_full`, which makes that 422 `insufficient_balance`. Capture or void them with `capture_hold` /
    `void_hold` and the same `holder`.
    """
    cents = _cents(amount)
    if codes:
        source = f"account:{account_id}" if account_id else holder
        rows = {}
        for code in codes:
            row = await _spendable_voucher(code, source, address)
            rows[row["id"]] = row
        vouchers = list(rows.values())
    elif account_id is not None:
        now = clock.now()
        vouchers = [row for row in await db.fetch(_VOUCHERS + " WHERE v.owner = {}", _account_uuid(account_id))
                    if not model.is_expired(row["expires_at"], now)]
    else:
        raise ValueError("authorise_payment needs codes or an account")
    accounts_of = {row["id"]: model.voucher_account(str(row["id"])) for row in vouchers}
    async with db.write_transaction():
        balances = await ledger.lock(*accounts_of.values())
        plan = model.allocate(cents, [
            model.Spendable(voucher_id=str(row["id"]), available=balances[accounts_of[row["id"]]],
                            expires_at=row["expires_at"], issued_at=row["issued_at"])
            for row in vouchers])
        if require_full and sum(part for _, part in plan) < cents:
            raise _insufficient_balance()
        holds = [await _open_hold(balances, uuid.UUID(voucher_id), channel, holder, part, order_ref)
                 for voucher_id, part in plan]
    return holds


def _hold_uuid(hold_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(hold_id)
    except ValueError:
        raise NotFound("No such hold.", code="hold_not_found") from None


async def _locked_hold(holder: str, hold_id: str) -> tuple[dict, ledger.Balances]:
    """A hold of `holder` (anyone else's is not found), read again once its voucher is locked: every change
    to a hold happens under that lock."""
    key = _hold_uuid(hold_id)
    found = await VoucherHold.select(VoucherHold.voucher).where(VoucherHold.id == key,
                                                                 VoucherHold.holder == holder).first()
    if found is None:
        raise NotFound("No such hold.", code="hold_not_found")
    balances = await ledger.lock(model.voucher_account(str(found["voucher"])))
    hold = await VoucherHold.select().where(VoucherHold.id == key).first()
    return hold, balances


def _hold(row: dict) -> Hold:
    released = row["amount"] - row["captured"] if row["status"] != OPEN else 0
    return Hold(hold_id=str(row["id"]), status=row["status"], amount=_eur(row["amount"]),
                captured=_eur(row["captured"]), released=_eur(released), order_ref=row["order_ref"],
                expires_at=row["expires_at"])


async def _close_hold(hold: dict, balances: ledger.Balances, status: str, captured: int, actor: str) -> Hold:
    """Capture `captured` of an open hold and give the rest back to its voucher."""
    if captured:
        await ledger.post_hold_capture(balances, hold["voucher"], hold["id"], hold["channel"], captured,
                                       actor=actor, order_ref=hold["order_ref"])
    if hold["amount"] > captured:
        await ledger.post_hold_release(balances, hold["voucher"], hold["id"], hold["channel"],
                                       hold["amount"] - captured, actor=actor, order_ref=hold["order_ref"],
                                       reason=status)
    now = clock.now()
    await VoucherHold.update({VoucherHold.status: status, VoucherHold.captured: captured,
                              VoucherHold.closed_at: now}).where(VoucherHold.id == hold["id"])
    return _hold({**hold, "status": status, "captured": captured})


async def capture_hold(holder: str, hold_id: str, amount: Money | None = None, *,
                       claim: Claim | None = None) -> Hold:
    """Take the held amount, or part of it (the rest goes back to the voucher). After 7 days the hold has
    lapsed: 409 `hold_expired`."""
    cents = None if amount is None else _cents(amount)
    async with db.write_transaction():
        hold, balances = await _locked_hold(holder, hold_id)
        if hold["status"] == LAPSED or (hold["status"] == OPEN and clock.now() >= hold["expires_at"]):
            raise Conflict("This hold has expired; its amount is back on the voucher.", code="hold_expired")
        if hold["status"] != OPEN:
            raise Conflict(f"This hold is already {hold['status']}.", code="hold_closed")
        if cents is not None and cents > hold["amount"]:
            raise InvalidInput("The capture is above the held amount.", code="capture_exceeds_hold",
                               errors=[{"field": "amount", "message": "at most the held amount"}])
        closed = await _close_hold(hold, balances, CAPTURED, hold["amount"] if cents is None else cents, holder)
        await idempotency.record(claim, closed)
    return closed


async def void_hold(holder: str, hold_id: str, *, claim: Claim | None = None) -> Hold:
    """Give a hold's whole amount back to its voucher (an order cancelled). Voiding it again, or after it
    lapsed, changes nothing; after a capture it is 409 `hold_closed`."""
    async with db.write_transaction():
        hold, balances = await _locked_hold(holder, hold_id)
        if hold["status"] == CAPTURED:
            raise Conflict("This hold was captured; it can no longer be voided.", code="hold_closed")
        voided = await _close_hold(hold, balances, VOIDED, 0, holder) if hold["status"] == OPEN else _hold(hold)
        await idempotency.record(claim, voided)
    return voided


async def capture(principal: Principal, hold_id: str, data: CaptureCreate | None, *,
                  claim: Claim | None = None) -> Hold:
    """A channel captures one of its own holds."""
    return await capture_hold(_channel(principal).key, hold_id, data.amount if data else None, claim=claim)


async def void(principal: Principal, hold_id: str, *, claim: Claim | None = None) -> Hold:
    """A channel voids one of its own holds."""
    return await void_hold(_channel(principal).key, hold_id, claim=claim)


# --- customer service -----------------------------------------------------------------------------------------

_SPENT_AND_RECREDITED = """
    SELECT kind, SUM(amount) AS total FROM ledger_transaction
    WHERE voucher = {} AND kind IN ({}, {}, {}) GROUP BY kind
"""


async def recredit(principal: Principal, code: str, data: RecreditCreate, *,
                   claim: Claim | None = None) -> RecreditEntry:
    """Give back what a voucher paid for, after a return (002_: never automatic).

    The money goes back onto the voucher; onto the seller's credit when the voucher has expired, so that it
    is not lost (the seller turns it into a new voucher). Never more than was spent from the voucher and not
    yet given back: 422 `recredit_exceeds_spent`.
    """
    cents = _cents(data.amount)
    voucher = await _voucher_by_code(code, get_settings().secret_key)
    if voucher is None:
        raise NotFound("No voucher has this code.", code="voucher_not_found")
    voucher_account = model.voucher_account(str(voucher["id"]))
    credit = model.credit_account(str(voucher["owner"]))
    expired = model.is_expired(voucher["expires_at"], clock.now())
    destination = credit if expired else voucher_account
    async with db.write_transaction():
        # The voucher's lock also serialises re-credits of it, so two cannot both pass the allowance.
        balances = await ledger.lock(voucher_account, credit)
        totals = {row["kind"]: row["total"] for row in await db.fetch(
            _SPENT_AND_RECREDITED, voucher["id"], model.REDEMPTION, model.HOLD_CAPTURE, model.RECREDIT)}
        allowance = model.recredit_allowance(
            totals.get(model.REDEMPTION, 0) + totals.get(model.HOLD_CAPTURE, 0), totals.get(model.RECREDIT, 0))
        if cents > allowance:
            raise InvalidInput(f"At most {_eur(allowance).format()} can be re-credited: what the voucher paid "
                               "for and was not given back yet.", code="recredit_exceeds_spent",
                               errors=[{"field": "amount", "message": f"at most {allowance}"}])
        posted = await ledger.post_recredit(balances, destination, voucher["id"], cents,
                                            actor=actor_of(principal), reason=data.reason,
                                            reference=_voucher_reference(voucher["last4"]))
        entry_id, balance_after = posted.entries[destination]
        entry = RecreditEntry(id=entry_id, amount=_eur(cents), balance_after=_eur(balance_after),
                              created_at=posted.created_at, reference=_voucher_reference(voucher["last4"]),
                              reason=data.reason, code_last4=voucher["last4"],
                              credited=model.account_kind(destination))
        await idempotency.record(claim, entry)
    log.info("voucher ending %s: %d re-credited to its %s by %s", voucher["last4"], cents, entry.credited,
             actor_of(principal))
    return entry


# --- jobs -----------------------------------------------------------------------------------------------------

BATCH = 200


async def lapse_holds() -> int:
    """Release every open hold older than 7 days back to its voucher; returns how many."""
    lapsed = 0
    while True:
        due = await VoucherHold.select(VoucherHold.id, VoucherHold.holder).where(
            VoucherHold.status == OPEN, VoucherHold.expires_at <= clock.now()).limit(BATCH)
        for row in due:
            async with db.write_transaction():
                hold, balances = await _locked_hold(row["holder"], str(row["id"]))
                if hold["status"] == OPEN:
                    await _close_hold(hold, balances, LAPSED, 0, SYSTEM_ACTOR)
                    lapsed += 1
        if len(due) < BATCH:
            return lapsed


async def expire_vouchers() -> int:
    """Move what expired vouchers still hold to the `expired` account; returns how many vouchers.

    Runs after `lapse_holds`, so that an expired voucher's released holds expire with it; a hold released
    later is picked up by the next run.
    """
    expired = 0
    while True:
        due = await ledger.scan(_VOUCHERS + " WHERE v.expires_at <= {} AND a.balance > 0 LIMIT {}", clock.now(),
                               BATCH)
        for row in due:
            account = model.voucher_account(str(row["id"]))
            async with db.write_transaction():
                balances = await ledger.lock(account)
                if balances[account] > 0:
                    await ledger.post_expiry(balances, row["id"], balances[account], actor=SYSTEM_ACTOR,
                                             reference=_voucher_reference(row["last4"]))
                    expired += 1
        if len(due) < BATCH:
            return expired


_REMINDER_CANDIDATES = _VOUCHERS + """
    WHERE v.expires_at > {} AND v.expires_at <= {}
      AND (v.last_reminder_days IS NULL OR v.last_reminder_days > {})
"""


async def send_expiry_reminders() -> int:
    """E-mail each owner 30 and 7 days before a voucher with money on it expires, each reminder once.

    The message is sent before the reminder is marked, so a crash in between sends it twice rather than never.
    """
    now = clock.now()
    rows = await ledger.scan(_REMINDER_CANDIDATES, now, now + dt.timedelta(days=max(model.REMINDER_DAYS)),
                             min(model.REMINDER_DAYS))
    sent = 0
    for row in rows:
        days = model.due_reminder(row["expires_at"], now, row["last_reminder_days"])
        if days is None or row["balance"] + row["held"] <= 0:
            continue
        try:
            owner = await accounts.get_account(str(row["owner"]))
        except NotFound:
            continue
        expires_on = row["expires_at"].astimezone(clock.PARIS)
        await notify.send(owner.email, f"Your AMI For Ever voucher expires in {days} days",
                          f"Hello {owner.first_name},\n\n"
                          f"Your voucher ending {row['last4']} still holds {_eur(row['balance']).format()} "
                          f"and can be used until {expires_on:%d/%m/%Y %H:%M} (Paris time) on amiparis.com, "
                          "forever.amiparis.com and in AMI boutiques.\n\nAMI For Ever")
        async with db.write_transaction():
            await db.fetch("UPDATE voucher SET last_reminder_days = {} WHERE id = {}", days, row["id"])
        sent += 1
    return sent


async def prune_misses() -> int:
    """Forget missed look-ups older than the window; returns how many."""
    window = dt.timedelta(minutes=get_settings().voucher_miss_window_minutes)
    async with db.write_transaction():
        gone = await VoucherMiss.delete().where(VoucherMiss.missed_at < clock.now() - window).returning(
            VoucherMiss.id)
    return len(gone)
