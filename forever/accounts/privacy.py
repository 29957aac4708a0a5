"""Privacy (000_, the privacy policy): a person's data export, erasure on request, marketing consent and
rectification; the request log customer service works from; the policy's retention periods, applied by a job.

Erasure pseudonymises rather than deletes. The account row stays, because trade-ins, orders and the ledger refer to
it, but nothing in it names the person any more: the e-mail becomes a placeholder (the address is free again), the
names, birth date and password go, every session and reset link is revoked. Orders keep their amounts and payments
for the accounting period and lose their delivery addresses; the ledger is never touched; photos of the pieces stay
(they show clothes, not people). It is refused while something is under way: a trade-in whose pieces may still
reach the warehouse or be credited, an order not delivered, a return not received.

Retention (`retention()`): an account inactive for 3 years (no sign-in, quote, trade-in, order or movement of its
credit or vouchers) is erased; if it still holds credit or a voucher with money on it, it is first told by e-mail and
erased 30 days later unless it signs in again (our decision: money is never taken away silently). Its marketing
consent lapses with the inactivity. Orders are archived 3 years after they ended (delivery address forgotten) and
deleted after 10; privacy requests are deleted 2 years after they were done. The grading station's photos of a
piece that left without being credited (refused, or counter-offered then asked back or donated) are deleted 90
days after that (forever.grading: files and rows); a credited piece keeps them, for its passport in the shop.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import tempfile
import uuid
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import msgspec

from forever import clock, db
from forever.accounts import model
from forever.accounts import service as accounts
from forever.accounts.schemas import (
    Account,
    ConsentChange,
    Consents,
    ErasureBlocker,
    ErasurePreview,
    Principal,
    PrivacyRequest,
    PrivacyRequestCreate,
    PrivacyRequestPage,
    ProfileUpdate,
    RetentionAction,
    RetentionRun,
    ReturnAtStake,
    VoucherAtStake,
)
from forever.accounts.tables import Account as AccountRow
from forever.accounts.tables import ConsentEvent
from forever.accounts.tables import PrivacyRequest as RequestRow
from forever.errors import Conflict, InvalidInput, NotFound
from forever.grading import service as grading
from forever.grading.schemas import Decision, GradedTradeIn, StoredPhoto
from forever.listings import orders
from forever.listings.schemas import Order
from forever.money import Money
from forever.notify import service as notify
from forever.pagination import check_limit, decode_cursor, encode_cursor
from forever.schema import Output
from forever.settings import get_settings
from forever.tradein import model as tradein_rules
from forever.tradein import service as tradein
from forever.tradein.schemas import Quote
from forever.vouchers import model as vouchers_rules
from forever.vouchers import service as vouchers
from forever.vouchers.schemas import StatementLine, Voucher

log = logging.getLogger("forever.privacy")

RETENTION_ACTOR = "system:retention"
EXPORT_FORMAT = "ami-for-ever-export/1"
VOUCHER_PAGE = 100
ACCOUNT_BATCH = 500

KEPT = [
    "Your orders, their amounts and payments: kept for accounting, archived 3 years after they ended and deleted "
    "after 10 years. Their delivery addresses are erased now.",
    "The store-credit ledger's entries (amounts and dates, under an account number that no longer leads to you): "
    "kept for accounting.",
    "Your traded-in pieces, their grading and photos: they show clothes, not you, and go on to be sold again.",
    "A record that you asked for this erasure and when it was done: kept 2 years.",
]


def _key(account_id: str | None) -> uuid.UUID:
    try:
        return uuid.UUID(str(account_id))
    except ValueError:
        raise NotFound("No such account.") from None


async def _customer(key: uuid.UUID) -> dict:
    """A customer's account row (not erased); staff accounts are not handled here."""
    row = await AccountRow.select().where(AccountRow.id == key).first()
    if row is None or row["erased_at"] is not None or row["role"] != model.CUSTOMER:
        raise NotFound("No such account.", code="account_not_found")
    return row


# --- the request log -----------------------------------------------------------------------------------------


async def _log(key: uuid.UUID, kind: str, *, channel: str, by: str, detail: dict, note: str = "",
               done: bool) -> uuid.UUID:
    """Record a request (inside the caller's transaction, if any): done at once when the person did it themselves."""
    now = clock.now()
    request_id = db.time_ordered_uuid()  # requests logged within the same clock tick stay in order
    async with db.write_transaction():
        await RequestRow.insert(RequestRow(
            id=request_id, account=key, kind=kind, status=model.DONE if done else model.REQUESTED, channel=channel,
            requested_at=now, requested_by=by, detail=detail, note=note, done_at=now if done else None,
            done_by=by if done else None))
    return request_id


async def _close(request_id: uuid.UUID, by: str, detail: dict) -> None:
    await RequestRow.update({RequestRow.status: model.DONE, RequestRow.done_at: clock.now(), RequestRow.done_by: by,
                             RequestRow.detail: detail}).where(RequestRow.id == request_id)


async def _close_for_erasure(key: uuid.UUID, by: str) -> None:
    """Inside the erasure's transaction: the person's requests still open are closed with it (nothing is left to
    do for them), and customer service's free-text notes, which may name them, are blanked."""
    await RequestRow.update({RequestRow.status: model.DONE, RequestRow.done_at: clock.now(), RequestRow.done_by: by,
                             RequestRow.detail: {}}).where(RequestRow.account == key,
                                                           RequestRow.status == model.REQUESTED)
    await RequestRow.update({RequestRow.note: ""}).where(RequestRow.account == key)


def _request(row: dict) -> PrivacyRequest:
    return PrivacyRequest(
        id=str(row["id"]), account_id=str(row["account"]), account_email=row["account.email"], kind=row["kind"],
        status=row["status"], channel=row["channel"], requested_at=row["requested_at"],
        requested_by=row["requested_by"], detail=row["detail"], note=row["note"], done_at=row["done_at"],
        done_by=row["done_by"])


def _requests_query():
    return RequestRow.select(*RequestRow.all_columns(), RequestRow.account.email).output(load_json=True)


async def _requests_of(key: uuid.UUID) -> list[PrivacyRequest]:
    rows = await _requests_query().where(RequestRow.account == key).order_by(RequestRow.requested_at)
    return [_request(row) for row in rows]


def _request_key(request_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(request_id)
    except ValueError:
        raise NotFound("No such privacy request.", code="privacy_request_not_found") from None


async def get_request(request_id: str) -> PrivacyRequest:
    row = await _requests_query().where(RequestRow.id == _request_key(request_id)).first()
    if row is None:
        raise NotFound("No such privacy request.", code="privacy_request_not_found")
    return _request(row)


async def list_requests(*, status: str | None = None, kind: str | None = None, email: str | None = None,
                        limit: int = 20, cursor: str | None = None) -> PrivacyRequestPage:
    """The request log for customer service, newest first; by status, kind or the person's e-mail."""
    check_limit(limit)
    query = _requests_query()
    if status is not None:
        if status not in model.REQUEST_STATUSES:
            raise InvalidInput(f"status is one of {', '.join(model.REQUEST_STATUSES)}.", code="invalid_status",
                               errors=[{"field": "status", "message": "unknown status"}])
        query = query.where(RequestRow.status == status)
    if kind is not None:
        if kind not in model.REQUEST_KINDS:
            raise InvalidInput(f"kind is one of {', '.join(model.REQUEST_KINDS)}.", code="invalid_kind",
                               errors=[{"field": "kind", "message": "unknown kind"}])
        query = query.where(RequestRow.kind == kind)
    if email is not None:
        query = query.where(RequestRow.account.email == model.normalise_email(email))
    if cursor is not None:
        requested_at, request_id = decode_cursor(cursor, (str, str))
        try:
            after, after_id = dt.datetime.fromisoformat(requested_at), uuid.UUID(request_id)
        except ValueError:
            raise InvalidInput("That cursor is not one this list gave out.", code="invalid_cursor") from None
        query = query.where((RequestRow.requested_at < after)
                            | ((RequestRow.requested_at == after) & (RequestRow.id < after_id)))
    rows = await query.order_by(RequestRow.requested_at, RequestRow.id, ascending=False).limit(limit + 1)
    page = [_request(row) for row in rows[:limit]]
    next_cursor = encode_cursor(page[-1].requested_at.isoformat(), page[-1].id) if len(rows) > limit else None
    return PrivacyRequestPage(items=page, next_cursor=next_cursor)


async def file_request(staff: Principal, data: PrivacyRequestCreate) -> PrivacyRequest:
    """Customer service files a request received by e-mail, post or phone, to run once the person's identity is
    checked. A consent request says the choice, a rectification the corrections."""
    row = await AccountRow.select(AccountRow.id, AccountRow.role).where(
        AccountRow.email == model.normalise_email(data.email), AccountRow.erased_at.is_null()).first()
    if row is None or row["role"] != model.CUSTOMER:
        raise NotFound("No customer account uses this e-mail address.", code="account_not_found")
    detail: dict = {}
    if data.kind == model.CONSENT:
        if data.marketing_email is None:
            raise InvalidInput("A consent request says the choice: marketing_email true or false.",
                               code="consent_choice_required",
                               errors=[{"field": "marketing_email", "message": "required for a consent request"}])
        detail = {model.MARKETING_EMAIL: data.marketing_email}
    elif data.kind == model.RECTIFICATION:
        detail = _corrections(data.changes)
    request_id = await _log(row["id"], data.kind, channel=data.channel, by=vouchers.actor_of(staff),
                            detail=detail, note=data.note, done=False)
    return await get_request(str(request_id))


async def _open_request(request_id: str) -> dict:
    row = await RequestRow.select().where(RequestRow.id == _request_key(request_id)).output(load_json=True).first()
    if row is None:
        raise NotFound("No such privacy request.", code="privacy_request_not_found")
    if row["status"] != model.REQUESTED:
        raise Conflict("This request was done already.", code="request_already_done")
    return row


async def run_request(staff: Principal, request_id: str) -> PrivacyRequest:
    """Customer service does what a filed request asks (an export is a download: `export_for_request`)."""
    row = await _open_request(request_id)
    by, key = vouchers.actor_of(staff), row["account"]
    match row["kind"]:
        case model.ERASURE:
            await _erase(key, by, request_id=row["id"])
        case model.CONSENT:
            async with db.write_transaction():
                await _customer(key)
                await _record_consent(key, model.MARKETING_EMAIL, row["detail"][model.MARKETING_EMAIL],
                                      source="customer_service", actor=by)
                await _close(row["id"], by, row["detail"])
        case model.RECTIFICATION:
            async with db.write_transaction():
                await _customer(key)
                await _apply_corrections(key, row["detail"])
                # The log keeps which fields were corrected, not their values.
                await _close(row["id"], by, {"fields": sorted(row["detail"])})
        case _:
            raise Conflict("An export request is run by downloading its archive.", code="export_is_a_download")
    return await get_request(request_id)


# --- consents ------------------------------------------------------------------------------------------------


async def _history(key: uuid.UUID) -> list[dict]:
    return await ConsentEvent.select().where(ConsentEvent.account == key).order_by(
        ConsentEvent.recorded_at, ConsentEvent.id, ascending=False)


def _granted(history: list[dict], purpose: str) -> bool:
    """A purpose's current choice: its latest event; never asked means no."""
    return next((row["granted"] for row in history if row["purpose"] == purpose), False)


async def _record_consent(key: uuid.UUID, purpose: str, granted: bool, *, source: str, actor: str) -> bool:
    """Inside the caller's transaction: record a change of choice; the same choice again records nothing.
    Returns whether it changed."""
    if _granted(await _history(key), purpose) == granted:
        return False
    await ConsentEvent.insert(ConsentEvent(account=key, purpose=purpose, granted=granted, recorded_at=clock.now(),
                                           source=source, actor=actor))
    return True


async def consents(account_id: str) -> Consents:
    """A person's consents now, and every change of them with its time and source, newest first."""
    history = await _history(_key(account_id))
    return Consents(marketing_email=_granted(history, model.MARKETING_EMAIL), history=[
        ConsentChange(purpose=row["purpose"], granted=row["granted"], recorded_at=row["recorded_at"],
                      source=row["source"]) for row in history])


async def set_consents(principal: Principal, marketing_email: bool) -> Consents:
    """A person gives or withdraws their consent to marketing e-mails, at any time and without a reason (000_);
    a change is logged as a consent request done."""
    key, by = _key(principal.account_id), vouchers.actor_of(principal)
    async with db.write_transaction():
        await _customer(key)
        if await _record_consent(key, model.MARKETING_EMAIL, marketing_email, source=model.SELF_SERVICE, actor=by):
            await _log(key, model.CONSENT, channel=model.SELF_SERVICE, by=by,
                       detail={model.MARKETING_EMAIL: marketing_email}, done=True)
    return await consents(principal.account_id)


# --- rectification -------------------------------------------------------------------------------------------


def _corrections(changes: ProfileUpdate | None) -> dict:
    """The corrections asked for, checked, as the account's new values."""
    found = {name: value for name, value in msgspec.structs.asdict(changes).items() if value is not None} \
        if changes is not None else {}
    for name in ("first_name", "last_name"):
        if name in found:
            found[name] = found[name].strip()
            if not found[name]:
                raise InvalidInput("A name cannot be blank.", code="invalid_name",
                                   errors=[{"field": name, "message": "blank"}])
    if "birth_date" in found:
        born, today = found["birth_date"], clock.today()
        if born > today or born.year < 1900:
            raise InvalidInput("That birth date is not possible.", code="invalid_birth_date",
                               errors=[{"field": "birth_date", "message": "not a possible birth date"}])
        if clock.age_on(born, today) < model.MINIMUM_AGE:
            raise InvalidInput("AMI For Ever is open to people aged 18 and over: ask for the account's erasure "
                               "instead.", code="minor")
        found["birth_date"] = born.isoformat()
    if not found:
        raise InvalidInput("Say what to correct: first_name, last_name or birth_date.", code="nothing_to_change")
    return found


async def _apply_corrections(key: uuid.UUID, corrections: dict) -> None:
    values = {getattr(AccountRow, name): dt.date.fromisoformat(value) if name == "birth_date" else value
              for name, value in corrections.items()}
    await AccountRow.update(values).where(AccountRow.id == key)


async def rectify(principal: Principal, changes: ProfileUpdate) -> Account:
    """A person corrects their name or birth date (000_: right of rectification); logged as a request done."""
    key, by = _key(principal.account_id), vouchers.actor_of(principal)
    corrections = _corrections(changes)
    async with db.write_transaction():
        await _customer(key)
        await _apply_corrections(key, corrections)
        await _log(key, model.RECTIFICATION, channel=model.SELF_SERVICE, by=by,
                   detail={"fields": sorted(corrections)}, done=True)
    return await accounts.get_account(principal.account_id)


# --- erasure -------------------------------------------------------------------------------------------------


async def _blockers(account_id: str) -> list[ErasureBlocker]:
    blockers = []
    for summary in await tradein.unfinished_tradeins(account_id):
        if summary.status == tradein_rules.AWAITING_SHIPMENT:
            detail = (f"Trade-in {summary.reference}: its prepaid label is valid until {summary.ship_by:%d/%m/%Y}. "
                      "Send the parcel, or wait until the label has lapsed.")
        else:
            detail = f"Trade-in {summary.reference}: pieces on their way to us or being graded."
        blockers.append(ErasureBlocker(code="tradein_under_way", reference=summary.reference, detail=detail))
    for order in await orders.unfinished_orders(account_id):
        blockers.append(ErasureBlocker(code="order_under_way", reference=order.id,
                                       detail=f"Order {order.id}: {order.status}, or a return not received yet."))
    return blockers


async def _all_vouchers(account_id: str) -> list[Voucher]:
    found, cursor = [], None
    while True:
        page, cursor = await vouchers.list_vouchers(account_id, VOUCHER_PAGE, cursor)
        found += page
        if cursor is None:
            return found


def _live(voucher: Voucher) -> bool:
    return voucher.status == vouchers_rules.ACTIVE and (voucher.balance.amount + voucher.held.amount) > 0


async def _credit_balance(account_id: str) -> Money:
    return (await vouchers.credit_history(account_id, 1)).balance


async def erasure_preview(account_id: str) -> ErasurePreview:
    """What erasing a person's data would do: what stops it now, what they would lose, what is kept."""
    await _customer(_key(account_id))
    blockers = await _blockers(account_id)
    live = [voucher for voucher in await _all_vouchers(account_id) if _live(voucher)]
    returnable = await orders.returnable_orders(account_id)
    return ErasurePreview(
        can_erase=not blockers, blockers=blockers, credit=await _credit_balance(account_id),
        vouchers=[VoucherAtStake(voucher_id=voucher.id, code_last4=voucher.code_last4, balance=voucher.balance,
                                 expires_at=voucher.expires_at) for voucher in live],
        returnable_orders=[ReturnAtStake(order_id=order.id, return_deadline=order.return_deadline)
                           for order in returnable if order.return_deadline is not None],
        kept=KEPT)


async def _erase(key: uuid.UUID, by: str, *, request_id: uuid.UUID | None = None,
                 channel: str = model.SELF_SERVICE) -> uuid.UUID:
    """Pseudonymise a customer's data everywhere it is held, in one transaction, and log it (or close the request
    asking for it); 409 `erasure_blocked` while something is under way (nothing changes). Returns the request."""
    account_id = str(key)
    async with db.write_transaction():
        if not db.is_sqlite():  # an erasure and a sign-in, order or second erasure of the same person: one at a time
            await db.fetch("SELECT id FROM account WHERE id = {} FOR UPDATE", key)
        await _customer(key)
        blockers = await _blockers(account_id)
        if blockers:
            raise Conflict("Something is still under way: " + " ".join(blocker.detail for blocker in blockers),
                           code="erasure_blocked",
                           errors=[{"field": blocker.code, "message": blocker.detail} for blocker in blockers])
        await orders.forget_buyer(account_id)
        await _record_consent(key, model.MARKETING_EMAIL, False, source="erasure", actor=by)
        email = await accounts.pseudonymise(account_id, clock.now())
        if request_id is None:
            request_id = await _log(key, model.ERASURE, channel=channel, by=by, detail={}, done=True)
        await _close_for_erasure(key, by)
    removed = await notify.forget_recipient(email)
    log.info("account %s erased by %s (%d outbox messages removed)", account_id, by, removed)
    return request_id


async def erase_me(principal: Principal, confirm: bool, password: str, address: str) -> PrivacyRequest:
    """A person erases their own data: they confirm, and prove it is them with their password."""
    if not confirm:
        raise InvalidInput("Confirm the erasure: it cannot be undone.", code="confirmation_required",
                           errors=[{"field": "confirm", "message": "must be true"}])
    await accounts.verify_password(principal.account_id, password, address)
    request_id = await _erase(_key(principal.account_id), vouchers.actor_of(principal))
    return await get_request(str(request_id))


# --- the export ----------------------------------------------------------------------------------------------


class ExportedDecision(Output):
    tradein_item_id: str
    decision: Decision


class ExportedPhoto(Output):
    tradein_item_id: str
    file: str | None  # the image's path inside the archive; None if the file is missing
    photo: StoredPhoto


class DataExport(Output):
    """Everything held about a person, as `data.json` of their export (000_: right of access, portability)."""

    format: str
    generated_at: dt.datetime
    account: Account
    last_sign_in_at: dt.datetime | None
    consents: Consents
    quotes: list[Quote]
    tradeins: list[GradedTradeIn]
    grading_decisions: list[ExportedDecision]
    photos: list[ExportedPhoto]
    credit_balance: Money
    ledger: list[StatementLine]
    # Full codes: they are the person's own, shown to them on their credit page as well.
    vouchers: list[Voucher]
    orders: list[Order]
    privacy_requests: list[PrivacyRequest]


_README = """This archive holds the data AMI For Ever keeps about you.

data.json   everything, in JSON: your account, consents, quotes, trade-ins with their pieces, parcel events and
            grading, the experts' decisions, your credit's ledger, your vouchers (with their codes), your orders
            and returns, and your privacy requests. Money is in minor units (cents) with its currency.
photos/     the photos our quality experts took of your pieces, by piece, as listed under "photos" in data.json.
"""


_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


async def _document(key: uuid.UUID) -> tuple[DataExport, list[tuple[Path, str]]]:
    account_id = str(key)
    row = await _customer(key)
    reader = Principal(kind="person", role=model.CUSTOMER, account_id=account_id)
    graded = [await grading.seller_tradein(reader, tradein_id)
              for tradein_id in await tradein.tradein_ids_of(account_id)]
    item_ids = [item.id for found in graded for item in found.items]
    decisions = await grading.decisions_of(item_ids)
    photos, files = [], []
    for item_id, stored in (await grading.photos_of(item_ids)).items():
        for photo in stored:
            path, media_type = await grading.photo_file(photo.photo_id)
            name = f"photos/{item_id}/{photo.photo_id}.{_EXTENSIONS.get(media_type, 'bin')}"
            present = path.is_file()
            photos.append(ExportedPhoto(tradein_item_id=item_id, file=name if present else None, photo=photo))
            if present:
                files.append((path, name))
    document = DataExport(
        format=EXPORT_FORMAT, generated_at=clock.now(), account=await accounts.get_account(account_id),
        last_sign_in_at=row["last_sign_in_at"], consents=await consents(account_id),
        quotes=await tradein.quotes_of(account_id), tradeins=graded,
        grading_decisions=[ExportedDecision(tradein_item_id=item_id, decision=decision)
                           for item_id, decision in decisions.items()],
        photos=photos, credit_balance=await _credit_balance(account_id), ledger=await vouchers.statement(account_id),
        vouchers=await _all_vouchers(account_id), orders=await orders.orders_of(account_id),
        privacy_requests=await _requests_of(key))
    return document, files


def _write_archive(document: bytes, files: list[tuple[Path, str]], directory: Path) -> tuple[IO[bytes], int]:
    """The zip, in a temporary file without a name (gone once closed, whatever happens): the photos are copied
    from disk a block at a time, so memory stays bounded whatever their number."""
    handle = tempfile.TemporaryFile(dir=directory)
    try:
        with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("README.txt", _README)
            archive.writestr("data.json", document)
            for path, name in files:
                archive.write(path, name, compress_type=zipfile.ZIP_STORED)  # images are compressed already
        size = handle.tell()
        handle.seek(0)
    except BaseException:
        handle.close()
        raise
    return handle, size


@dataclass
class ExportArchive:
    """A person's export, ready to stream; `chunks()` closes (and so deletes) it when done."""

    handle: IO[bytes]
    size: int
    filename: str

    async def chunks(self, size: int = 1 << 16) -> AsyncIterator[bytes]:
        try:
            while chunk := await asyncio.to_thread(self.handle.read, size):
                yield chunk
        finally:
            self.handle.close()


async def _archive(key: uuid.UUID) -> ExportArchive:
    document, files = await _document(key)
    directory = get_settings().data_dir
    directory.mkdir(parents=True, exist_ok=True)
    handle, size = await asyncio.to_thread(_write_archive, msgspec.json.format(msgspec.json.encode(document)),
                                           files, directory)
    return ExportArchive(handle=handle, size=size, filename=f"ami-for-ever-data-{clock.today().isoformat()}.zip")


async def export_my_data(principal: Principal) -> ExportArchive:
    """A person's own export, one download (000_: right of access and portability); logged as a request done."""
    key = _key(principal.account_id)
    archive = await _archive(key)
    try:
        await _log(key, model.EXPORT, channel=model.SELF_SERVICE, by=vouchers.actor_of(principal), detail={},
                   done=True)
    except BaseException:
        archive.handle.close()
        raise
    return archive


async def export_for_request(staff: Principal, request_id: str) -> ExportArchive:
    """Customer service downloads the export a filed request asks for, to send it on; the request is done."""
    row = await _open_request(request_id)
    if row["kind"] != model.EXPORT:
        raise Conflict("This request is not an export: run it instead.", code="not_an_export")
    archive = await _archive(row["account"])
    try:
        async with db.write_transaction():
            await _close(row["id"], vouchers.actor_of(staff), {})
    except BaseException:
        archive.handle.close()
        raise
    return archive


# --- retention -----------------------------------------------------------------------------------------------


@dataclass
class _Plan:
    actions: list[RetentionAction]

    def add(self, action: str, subject: object, reason: str) -> None:
        self.actions.append(RetentionAction(action=action, subject=str(subject), reason=reason))


_DORMANT = """
    SELECT id, created_at, last_sign_in_at, retention_notice_at FROM account
    WHERE role = {} AND erased_at IS NULL AND COALESCE(last_sign_in_at, created_at) < {}
"""


async def _last_activity(row: dict) -> dt.datetime:
    account_id = str(row["id"])
    moments = [row["last_sign_in_at"] or row["created_at"], await tradein.last_activity(account_id),
               await vouchers.last_activity(account_id), await orders.last_activity(account_id)]
    return max(moment for moment in moments if moment is not None)


async def _holds_money(account_id: str) -> bool:
    return (await _credit_balance(account_id)).amount > 0 or any(map(_live, await _all_vouchers(account_id)))


def _day(moment: dt.datetime) -> str:
    return moment.astimezone(clock.PARIS).date().isoformat()


async def _plan_accounts(plan: _Plan, now: dt.datetime) -> None:
    """Accounts inactive for 3 years: erased, or told first when they hold money; their marketing consent
    lapses (000_)."""
    cutoff = model.years_before(now, model.INACTIVE_ACCOUNT_YEARS)
    after = None
    while True:
        sql, args = _DORMANT, [model.CUSTOMER, cutoff]
        if after is not None:
            sql, args = sql + " AND id > {}", [*args, after]
        rows = await db.fetch(sql + " ORDER BY id LIMIT {}", *args, ACCOUNT_BATCH)
        for row in rows:
            await _plan_account(plan, row, cutoff, now)
        if len(rows) < ACCOUNT_BATCH:
            return
        after = rows[-1]["id"]


async def _plan_account(plan: _Plan, row: dict, cutoff: dt.datetime, now: dt.datetime) -> None:
    account_id = str(row["id"])
    last = await _last_activity(row)
    if last >= cutoff or await _blockers(account_id):
        return
    inactive = f"inactive since {_day(last)}"
    notice = row["retention_notice_at"]
    if notice is not None and notice < last:
        notice = None  # there was activity after the notice: it no longer counts
    if not await _holds_money(account_id) or (notice is not None and notice <= now - model.RETENTION_NOTICE):
        told = f", told on {_day(notice)}" if notice is not None else ""
        plan.add("erase_account", account_id, inactive + told)
        return
    if _granted(await _history(row["id"]), model.MARKETING_EMAIL):
        plan.add("withdraw_marketing", account_id, inactive)
    if notice is None:
        plan.add("notify_account", account_id, inactive + "; holds credit or vouchers")


async def _plan_orders(plan: _Plan, now: dt.datetime) -> None:
    for order_id, ended in await orders.orders_ended_before(model.years_before(now, model.ORDER_DELETE_YEARS),
                                                            archived=True):
        plan.add("delete_order", order_id, f"ended on {_day(ended)}, archived 10 years")
    for order_id, ended in await orders.orders_ended_before(model.years_before(now, model.ORDER_ARCHIVE_YEARS),
                                                            archived=False):
        plan.add("archive_order", order_id, f"ended on {_day(ended)}")


async def _plan_requests(plan: _Plan, now: dt.datetime) -> None:
    rows = await RequestRow.select(RequestRow.id, RequestRow.kind, RequestRow.done_at).where(
        RequestRow.status == model.DONE, RequestRow.done_at < model.years_before(now, model.REQUEST_YEARS)
    ).order_by(RequestRow.done_at)
    for row in rows:
        plan.add("delete_request", row["id"], f"{row['kind']} done on {_day(row['done_at'])}")


async def _plan_photos(plan: _Plan, now: dt.datetime) -> None:
    for item_id, ended, how in await grading.unsold_pieces_with_photos(now):
        plan.add("delete_grading_photos", item_id, f"{how} on {_day(ended)}, photos kept 90 days")


def _notice_text(first_name: str, closing_on: dt.date) -> str:
    return (f"Hello {first_name},\n\nYou have not used your AMI For Ever account for three years. As our privacy "
            f"policy says, we will close it and erase your personal data on {closing_on:%d/%m/%Y}.\n\n"
            "It still holds store credit or vouchers. To keep the account, simply sign in before that day; or turn "
            "your credit into a voucher and note its code, which stays valid until it expires.\n\nAMI For Ever")


async def _notify(account_id: str, now: dt.datetime) -> None:
    account = await accounts.get_account(account_id)
    closing_on = (now + model.RETENTION_NOTICE).astimezone(clock.PARIS).date()
    await notify.send(account.email, "Your AMI For Ever account will be closed", _notice_text(
        account.first_name, closing_on))
    async with db.write_transaction():
        await AccountRow.update({AccountRow.retention_notice_at: now}).where(AccountRow.id == _key(account_id))


async def _carry_out(action: RetentionAction, now: dt.datetime) -> None:
    match action.action:
        case "erase_account":
            await _erase(_key(action.subject), RETENTION_ACTOR, channel=model.RETENTION)
        case "notify_account":
            await _notify(action.subject, now)
        case "withdraw_marketing":
            async with db.write_transaction():
                await _record_consent(_key(action.subject), model.MARKETING_EMAIL, False, source="retention",
                                      actor=RETENTION_ACTOR)
        case "archive_order":
            await orders.archive_order(action.subject)
        case "delete_order":
            await orders.delete_order(action.subject)
        case "delete_grading_photos":
            await grading.forget_photos(action.subject, now)
        case "delete_request":
            async with db.write_transaction():
                await RequestRow.delete().where(RequestRow.id == uuid.UUID(action.subject))


async def retention(*, dry_run: bool = False) -> RetentionRun:
    """Apply the policy's retention periods (see the module's docstring); with `dry_run`, only list what would
    be done. Safe to run again: what is done no longer matches."""
    now = clock.now()
    plan = _Plan(actions=[])
    await _plan_accounts(plan, now)
    await _plan_orders(plan, now)
    await _plan_requests(plan, now)
    await _plan_photos(plan, now)
    done = []
    for action in plan.actions:
        if not dry_run:
            try:
                await _carry_out(action, now)
            except (Conflict, NotFound):  # something started since the plan, or another run did it: next run
                continue
        done.append(action)
    return RetentionRun(dry_run=dry_run, ran_at=now, actions=done)
