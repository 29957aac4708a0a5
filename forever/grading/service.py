"""Use cases of the grading station: the queue, photos analysed on arrival, decisions and what they do to a
piece (credit, counter-offer, refusal), the seller's answer to a counter-offer and the job that accepts silent
ones, and what other parts read: the seller's graded trade-in, photos, piece passports, experts' labels and
the dashboard.

A piece's status, grade and credit belong to forever.tradein (read and settled through its service); credit
moves through forever.vouchers, once per piece. Every decision and answer runs in one write transaction that
first locks the piece's trade-in and the piece, so two requests never both act on one piece; e-mails go out,
and credited pieces enter the resale shop's stock, once it has committed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import errno
import hashlib
import logging
import os
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from forever import clock, db
from forever.accounts import model as accounts_rules
from forever.accounts import service as accounts
from forever.accounts.schemas import Principal
from forever.catalog import service as catalog
from forever.catalog.model import Product
from forever.errors import Conflict, InvalidInput, NotFound, StorageFull
from forever.grading import analysis, decisions, intake
from forever.grading.decisions import (
    ACCEPT,
    ACCEPTED,
    AWAITING_GRADING,
    COUNTER_OFFER,
    CREDITED,
    DONATE,
    DONATED,
    LAPSED,
    OPEN,
    RETURN,
    RETURNED,
    DecisionRecord,
    PhotoVerdict,
    PieceSuggestion,
)
from forever.grading.model import REFUSED, Analysis, Examination
from forever.grading.schemas import (
    CatalogData,
    CounterOffer,
    CounterOfferAnswer,
    Dashboard,
    Decision,
    DecisionCreate,
    GradedTradeIn,
    GradedTradeInItem,
    GraderPace,
    Holder,
    ModelSuggestion,
    Passport,
    PassportPhoto,
    PhotoAdded,
    PieceInHand,
    QueueItem,
    SellerPhoto,
    StationPiece,
    StoredPhoto,
)
from forever.grading.tables import CounterOffer as CounterOfferRow
from forever.grading.tables import GradingDecision as DecisionRow
from forever.grading.tables import GradingHold as HoldRow
from forever.grading.tables import GradingPhoto as PhotoRow
from forever.grading.tables import ReturnParcel as ReturnRow
from forever.grading.tables import StationVisit as VisitRow
from forever.idempotency import service as idempotency
from forever.idempotency.service import Claim
from forever.money import Money
from forever.pagination import encode_cursor
from forever.settings import get_settings
from forever.tradein import service as tradein
from forever.tradein.schemas import GradingPiece, ReturnShipment, TradeInItem
from forever.vouchers import service as vouchers

if TYPE_CHECKING:
    from forever.grading.training import LabelledPhoto

log = logging.getLogger("forever.grading")

PHOTO_FOLDER = "photos"  # under the data directory
PART_SUFFIX = ".part"  # a photo being written
# A photo's file is written moments before its row: a file without a row younger than this may be an upload
# still under way, one older was left by a crash.
ORPHAN_AFTER = dt.timedelta(hours=1)
_EXTENSIONS = {"jpeg": "jpg", "png": "png", "webp": "webp"}
_MEDIA_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
SYSTEM_ACTOR = "system"

# E-mail kinds on the trade-in's timeline.
PIECE_CREDITED_MAIL, COUNTER_OFFER_MAIL = "piece_credited", "counter_offer"
PIECE_REFUSED_MAIL = "piece_refused"
PIECE_RETURNED_MAIL, PIECE_DONATED_MAIL = "piece_returned", "piece_donated"


def photo_url(photo_id: str) -> str:
    """Where staff and the piece's seller download a photo."""
    return f"/api/v1/grading/photos/{photo_id}"


# --- analysis -----------------------------------------------------------------------------------------------

_analysis_slots: dict[int, asyncio.Semaphore] = {}


def _analysis_slot() -> asyncio.Semaphore:
    """One analysis at a time per process (per event loop): a 50 MP photo decodes to 150 MB, and one analysis
    already keeps both cores busy, so a second would only wait inside and double the memory."""
    loop_id = id(asyncio.get_running_loop())
    slot = _analysis_slots.get(loop_id)
    if slot is None:
        slot = _analysis_slots[loop_id] = asyncio.Semaphore(1)
    return slot


async def _examine(data: bytes) -> tuple[intake.PhotoHeader, Examination]:
    """Check the photo from its header (a hostile file is refused at once, without queueing), then analyse it
    in a worker thread so the event loop keeps serving."""
    header = intake.read_header(data)
    async with _analysis_slot():
        return header, await asyncio.to_thread(analysis.examine, data)


async def analyze(data: bytes) -> Analysis:
    """The analysis of a photo, storing nothing (CONTRACT.md: 413 `photo_too_large`, 415 `unsupported_image`,
    422 `unreadable_image`)."""
    _, examination = await _examine(data)
    return examination.analysis


# --- the queue ----------------------------------------------------------------------------------------------


async def queue(limit: int = 20, cursor: str | None = None) -> tuple[list[QueueItem], str | None]:
    """Pieces awaiting grading, earliest SLA date first, with how many photos each has so far and who has it
    in hand."""
    items, next_cursor = await tradein.pieces_awaiting_grading(limit, cursor)
    item_ids = [item.item_id for item in items]
    counts = await _photo_counts(item_ids)
    holders = await _holders([uuid.UUID(item_id) for item_id in item_ids], clock.now())
    return [QueueItem(**msgspec.structs.asdict(item), photo_count=counts.get(item.item_id, 0),
                      taken_by=holders.get(item.item_id))
            for item in items], next_cursor


NEXT_LOOKAHEAD = 50  # pieces looked at for one that no other grader has in hand


async def next_in_queue(after: str, grader_id: str | None = None) -> str | None:
    """The piece to grade after `after` (decided or skipped): the next one in SLA order that no other grader
    has in hand, else the queue's first such again (pieces skipped earlier come back); None when no other
    piece is free."""
    piece = await tradein.grading_piece(after)
    starts: list[str | None] = [None]
    if piece.sla_due_date is not None:  # its place in the queue, as the queue's own cursor writes it
        starts.insert(0, encode_cursor(piece.sla_due_date.isoformat(), piece.id))
    for start in starts:
        following, _ = await queue(NEXT_LOOKAHEAD, start)
        for item in following:
            if item.item_id != after and (item.taken_by is None or item.taken_by.grader_id == grader_id):
                return item.item_id
    return None


async def _photo_counts(item_ids: Sequence[str]) -> dict[str, int]:
    if not item_ids:
        return {}
    marks = ", ".join(["{}"] * len(item_ids))
    rows = await db.fetch(
        f"SELECT item, COUNT(*) AS photos FROM grading_photo WHERE item IN ({marks}) GROUP BY item",
        *[uuid.UUID(item_id) for item_id in item_ids])
    return {str(row["item"]): row["photos"] for row in rows}


# --- photos -------------------------------------------------------------------------------------------------


def _check_view(view: str) -> None:
    if view not in decisions.VIEWS:
        raise InvalidInput(f"A photo's view is one of {', '.join(decisions.VIEWS)}.", code="invalid_view",
                           errors=[{"field": "view", "message": f"one of {', '.join(decisions.VIEWS)}"}])


def _check_awaiting(piece: GradingPiece) -> None:
    if piece.status != AWAITING_GRADING:
        raise Conflict(f"This piece is not awaiting grading (it is {piece.status.replace('_', ' ')}).",
                       code="not_awaiting_grading")


def write_photo(path: Path, data: bytes) -> None:
    """Write a photo whole or not at all, durably (file and folder synced before the row is written): a crash
    leaves at most a `.part` file, or a photo without its row, both swept by `sweep_photo_files`; never a cut
    photo. A full disk leaves nothing and is 507 `storage_full`. (The stock's listing photos are written so
    too.)"""
    part = path.with_name(path.name + PART_SUFFIX)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(part, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(part, path)
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
    except OSError as exc:
        part.unlink(missing_ok=True)
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            log.warning("the photo store is full: a photo of %d bytes was refused", len(data))
            raise StorageFull("There is no room left to store photos: nothing was kept. Try again later.",
                              code="storage_full") from exc
        raise


async def add_photo(grader: Principal, item_id: str, view: str, data: bytes, *,
                    claim: Claim | None = None) -> PhotoAdded:
    """Store a photo of a piece awaiting grading, analysed on arrival, and keep the piece in the grader's hand
    (409 `piece_taken` if another grader has it). A photo the intake refuses (413, 415, 422) leaves nothing
    behind: no row, no file. The answer is recorded for the claim with the row, so an answer that cannot be
    kept takes the row and the file with it."""
    _check_view(view)
    piece = await tradein.grading_piece(item_id)
    _check_awaiting(piece)
    await _check_free_for(grader, piece)
    header, examination = await _examine(data)
    photo_id = db.time_ordered_uuid()  # photos taken within one clock tick still list in order
    piece_key = uuid.UUID(item_id)
    relative = f"{PHOTO_FOLDER}/{piece_key}/{photo_id}.{_EXTENSIONS[header.format]}"
    path = get_settings().data_dir / relative
    await asyncio.to_thread(write_photo, path, data)
    try:
        async with db.write_transaction():
            piece = await tradein.grading_piece(item_id, lock=True)
            _check_awaiting(piece)  # not decided meanwhile
            await _take(grader, piece, clock.now())  # nor taken by another grader; it stays in hand
            await PhotoRow.insert(PhotoRow(
                id=photo_id, item=piece_key, view=view, path=relative, media_type=_MEDIA_TYPES[header.format],
                width=header.width, height=header.height, size_bytes=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                examination=msgspec.json.encode(examination).decode(),
                model_version=examination.model_version, uploaded_by=uuid.UUID(grader.account_id),
                uploaded_at=clock.now()))
            added = PhotoAdded(photo_id=str(photo_id), view=view, analysis=examination.analysis,
                               suggestion=examination.suggestion, retake=examination.retake,
                               model_version=examination.model_version)
            await idempotency.record(claim, added)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    log.info("piece %s: %s photo %s stored (%d x %d, suggests %s)", item_id, view, photo_id, header.width,
             header.height, examination.suggestion.grade)
    return added


def _photo_files_written_before(folder: Path, moment: float) -> list[tuple[Path, uuid.UUID]]:
    """The files of the photo store's own naming (`<piece>/<photo>.<ext>`, `.part` while written) last written
    before `moment` (POSIX time), each with the id of the photo it is or was to be. Anything else is left
    alone: this folder is no place for other files, but a sweep deletes only what it knows."""
    found = []
    for path in folder.glob("*/*.*"):
        name = path.name.removesuffix(PART_SUFFIX)
        try:
            uuid.UUID(path.parent.name)
            photo_id = uuid.UUID(name.partition(".")[0])
            written = path.stat().st_mtime
        except (ValueError, FileNotFoundError):  # not ours, or gone meanwhile
            continue
        if written < moment and name.partition(".")[2] in _EXTENSIONS.values():
            found.append((path, photo_id))
    return found


async def sweep_photo_files(now: dt.datetime | None = None) -> int:
    """Delete what uploads cut short by a crash left in the photo store: `.part` files, and photos whose row
    was never written (the process died between the two). Only files older than ORPHAN_AFTER: a younger one
    may belong to an upload under way. Safe to run at any time; returns how many files went."""
    moment = ((now or clock.now()) - ORPHAN_AFTER).timestamp()
    candidates = await asyncio.to_thread(_photo_files_written_before, get_settings().data_dir / PHOTO_FOLDER,
                                         moment)
    kept: set[str] = set()
    for start in range(0, len(candidates), 500):
        ids = [photo_id for _, photo_id in candidates[start:start + 500]]
        kept.update(str(row["id"]) for row in await PhotoRow.select(PhotoRow.id).where(PhotoRow.id.is_in(ids)))
    left = [path for path, photo_id in candidates
            if path.name.endswith(PART_SUFFIX) or str(photo_id) not in kept]
    for path in left:
        await asyncio.to_thread(path.unlink, missing_ok=True)
    if left:
        log.warning("%d photo files left by interrupted uploads removed", len(left))
    return len(left)


# --- photos of pieces that left without being credited -----------------------------------------------------

# Pieces refused, or counter-offered and then asked back or donated, with when that happened and how. A
# credited piece (counter-offer accepted or lapsed included) is not here: its photos are its passport in the
# resale shop.
_UNSOLD_PIECES = """
    SELECT d.item, d.decided_at AS ended_at, 'refused' AS how FROM grading_decision d
    WHERE d.grade = {} AND d.decided_at < {} {}
    UNION ALL
    SELECT c.item, c.answered_at AS ended_at, c.status AS how FROM counter_offer c
    WHERE c.status IN ({}, {}) AND c.answered_at < {} {}
"""
_WITH_PHOTOS = "AND EXISTS (SELECT 1 FROM grading_photo p WHERE p.item = {}.item)"


async def _unsold_pieces(before: dt.datetime, item_key: uuid.UUID | None = None) -> list[dict]:
    if item_key is None:
        filters, args = (_WITH_PHOTOS.format("d"), _WITH_PHOTOS.format("c")), []
    else:
        filters, args = ("AND d.item = {}", "AND c.item = {}"), [item_key]
    sql = _UNSOLD_PIECES.format("{}", "{}", filters[0], "{}", "{}", "{}", filters[1])
    return await db.fetch(sql + " ORDER BY ended_at", REFUSED, before, *args, RETURNED, DONATED, before,
                          *args)


async def unsold_pieces_with_photos(now: dt.datetime) -> list[tuple[str, dt.datetime, str]]:
    """Pieces whose station photos are due for deletion (the privacy retention job): those that left us
    without being credited (refused; counter-offered, then asked back or donated) longer than
    UNSOLD_PHOTO_RETENTION ago, and still have photos. Each as (piece id, when it left, how: refused,
    returned, donated), oldest first."""
    rows = await _unsold_pieces(now - decisions.UNSOLD_PHOTO_RETENTION)
    return [(str(row["item"]), row["ended_at"], row["how"]) for row in rows]


def _delete_photo_files(paths: Sequence[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)
    for folder in {path.parent for path in paths}:
        try:
            folder.rmdir()
        except OSError:  # not empty (a file that is not ours), or gone already
            pass


async def forget_photos(item_id: str, now: dt.datetime) -> int:
    """Delete the station's photos of a piece that left without being credited more than
    UNSOLD_PHOTO_RETENTION ago: rows, then files. The piece is re-checked under its lock, so nothing is
    deleted that does not qualify; a crash between the two leaves files without rows, which
    `sweep_photo_files` removes. The decision keeps the ids of the photos it rested on. Returns how many
    photos went (0 when done already)."""
    async with db.write_transaction():
        piece = await tradein.grading_piece(item_id, lock=True)
        key = uuid.UUID(piece.id)
        if not await _unsold_pieces(now - decisions.UNSOLD_PHOTO_RETENTION, key):
            return 0
        rows = await PhotoRow.select(PhotoRow.id, PhotoRow.path).where(PhotoRow.item == key)
        await PhotoRow.delete().where(PhotoRow.item == key)
    data_dir = get_settings().data_dir
    await asyncio.to_thread(_delete_photo_files, [data_dir / row["path"] for row in rows])
    if rows:
        log.info("piece %s: %d station photos deleted (retention)", piece.id, len(rows))
    return len(rows)


def _photo_key(photo_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(photo_id)
    except ValueError:
        raise NotFound("No such photo.", code="photo_not_found") from None


async def _photo_row(photo_id: str) -> dict:
    row = await PhotoRow.select().where(PhotoRow.id == _photo_key(photo_id)).first()
    if row is None:
        raise NotFound("No such photo.", code="photo_not_found")
    return row


async def photo_file(photo_id: str) -> tuple[Path, str]:
    """A stored photo's file and media type (for whoever already checked the reader may see it); 404 if
    unknown."""
    row = await _photo_row(photo_id)
    return get_settings().data_dir / row["path"], row["media_type"]


async def photo_for(reader: Principal, photo_id: str) -> tuple[Path, str]:
    """A photo's file and media type, for staff and for the seller of the piece; anyone else: not found."""
    row = await _photo_row(photo_id)
    if reader.kind != "person" or reader.role not in tradein.TRADEIN_STAFF_ROLES:
        piece = await tradein.grading_piece(str(row["item"]))
        if reader.kind != "person" or piece.account_id != reader.account_id:
            raise NotFound("No such photo.", code="photo_not_found")
    return get_settings().data_dir / row["path"], row["media_type"]


async def _photos_of(item_keys: Sequence[uuid.UUID]) -> dict[str, list[dict]]:
    """The photos of some pieces, oldest first, by piece id."""
    found: dict[str, list[dict]] = {}
    if item_keys:
        rows = await PhotoRow.select().where(PhotoRow.item.is_in(list(item_keys))).order_by(
            PhotoRow.uploaded_at, PhotoRow.id)
        for row in rows:
            found.setdefault(str(row["item"]), []).append(row)
    return found


def _examination(row: dict) -> Examination:
    return msgspec.json.decode(row["examination"], type=Examination)


def _stored_photo(row: dict) -> StoredPhoto:
    examination = _examination(row)
    return StoredPhoto(
        photo_id=str(row["id"]), view=row["view"], url=photo_url(str(row["id"])),
        media_type=row["media_type"],
        width=row["width"], height=row["height"], size_bytes=row["size_bytes"], sha256=row["sha256"],
        uploaded_at=row["uploaded_at"], uploaded_by=str(row["uploaded_by"]) if row["uploaded_by"] else None,
        analysis=examination.analysis, suggestion=examination.suggestion, retake=examination.retake,
        model_version=examination.model_version)


def _suggestion_of(photos: Sequence[dict]) -> PieceSuggestion:
    verdicts = []
    for row in photos:
        examination = _examination(row)
        verdicts.append(PhotoVerdict(view=row["view"], suggestion=examination.suggestion,
                                     retake=examination.retake, model_version=examination.model_version))
    return decisions.piece_suggestion(verdicts)


# --- a piece at the station ---------------------------------------------------------------------------------


async def open_piece(grader: Principal, item_id: str) -> StationPiece:
    """A piece as the station shows it, taken in hand by the grader when it awaits grading (409 `piece_taken`
    while another grader has it); the first time a grader opens it starts the clock of the time they spend on
    it."""
    piece = await tradein.grading_piece(item_id)
    if piece.status == AWAITING_GRADING:
        now = clock.now()
        async with db.write_transaction():
            piece = await tradein.grading_piece(item_id, lock=True)
            if piece.status == AWAITING_GRADING:
                await _take(grader, piece, now)
                await db.fetch(
                    "INSERT INTO grading_visit (item, grader, opened_at, once_key) VALUES ({}, {}, {}, {}) "
                    "ON CONFLICT (once_key) DO NOTHING",
                    uuid.UUID(piece.id), uuid.UUID(grader.account_id), now, f"{piece.id}:{grader.account_id}")
    return await _station_piece(piece)


# --- who has a piece in hand --------------------------------------------------------------------------------


async def _grader_name(account_id: str) -> str:
    """How the station names a grader to the others: their name if staff records one, else their e-mail."""
    if not account_id:
        return "a former grader"
    try:
        account = await accounts.get_account(account_id)
    except NotFound:
        return "a former grader"
    return f"{account.first_name} {account.last_name}".strip() or account.email


async def _holders(item_keys: Sequence[uuid.UUID], now: dt.datetime) -> dict[str, Holder]:
    """Who has each of these pieces in hand, by piece id (pieces left idle too long are free: not listed)."""
    if not item_keys:
        return {}
    rows = await HoldRow.select().where(HoldRow.item.is_in(list(item_keys)),
                                        HoldRow.touched_at > now - decisions.HOLD_IDLE)
    names: dict[str, str] = {}
    holders = {}
    for row in rows:
        if row["grader"] is None:
            continue  # the grader's account is gone: nobody holds it
        grader_id = str(row["grader"])
        if grader_id not in names:
            names[grader_id] = await _grader_name(grader_id)
        holders[str(row["item"])] = Holder(grader_id=grader_id, name=names[grader_id],
                                           taken_at=row["taken_at"],
                                           free_at=row["touched_at"] + decisions.HOLD_IDLE)
    return holders


def _paris_time(moment: dt.datetime) -> str:
    return f"{moment.astimezone(clock.PARIS):%H:%M}"


def _taken(holder: Holder) -> Conflict:
    return Conflict(f"This piece is with {holder.name} since {_paris_time(holder.taken_at)}: it is free "
                    "again once they decide or release it, or if left idle, at "
                    f"{_paris_time(holder.free_at)}.",
                    code="piece_taken")


async def _held_by_another(grader_id: str, item_key: uuid.UUID, now: dt.datetime) -> Holder | None:
    holder = (await _holders([item_key], now)).get(str(item_key))
    return holder if holder is not None and holder.grader_id != grader_id else None


async def _check_free_for(grader: Principal, piece: GradingPiece) -> None:
    """409 `piece_taken` when another grader has the piece in hand (a quick look, before slow work; the
    write that follows checks again under the piece's lock)."""
    holder = await _held_by_another(grader.account_id, uuid.UUID(piece.id), clock.now())
    if holder is not None:
        raise _taken(holder)


async def _take(grader: Principal, piece: GradingPiece, now: dt.datetime) -> None:
    """Take the piece in hand for the grader, or keep it there (idle time starts again); 409 `piece_taken` if
    another grader has it. Inside the caller's write transaction, after `grading_piece(lock=True)`: two
    graders opening one piece at once are served one after the other, and the second is refused."""
    key = uuid.UUID(piece.id)
    holder = await _held_by_another(grader.account_id, key, now)
    if holder is not None:
        raise _taken(holder)
    mine = uuid.UUID(grader.account_id)
    row = await HoldRow.select().where(HoldRow.item == key).first()
    if row is None:
        await HoldRow.insert(HoldRow(item=key, grader=mine, taken_at=now, touched_at=now))
        return
    kept = row["grader"] == mine and decisions.hold_is_live(row["touched_at"], now)
    await HoldRow.update({HoldRow.grader: mine, HoldRow.taken_at: row["taken_at"] if kept else now,
                          HoldRow.touched_at: now}).where(HoldRow.item == key)


async def pieces_in_hand() -> list[PieceInHand]:
    """The pieces awaiting grading that graders have in hand now, longest held first."""
    now = clock.now()
    rows = await HoldRow.select(HoldRow.item).where(HoldRow.touched_at > now - decisions.HOLD_IDLE).order_by(
        HoldRow.taken_at)
    holders = await _holders([row["item"] for row in rows], now)
    found = []
    for row in rows:
        holder = holders.get(str(row["item"]))
        piece = await tradein.grading_piece(str(row["item"]))
        if holder is not None and piece.status == AWAITING_GRADING:
            found.append(PieceInHand(item_id=piece.id, reference=piece.reference,
                                     product_ref=piece.product_ref, name=piece.name, taken_by=holder))
    return found


async def release(principal: Principal, item_id: str) -> StationPiece:
    """Put a piece back in the queue for any grader: by the grader who has it (or anyone, once it is idle too
    long) or by an admin; 409 `piece_taken` for another grader. Releasing a piece nobody holds changes
    nothing."""
    async with db.write_transaction():
        piece = await tradein.grading_piece(item_id, lock=True)
        key = uuid.UUID(piece.id)
        holder = await _held_by_another(principal.account_id, key, clock.now())
        if holder is not None and principal.role != accounts_rules.ADMIN:
            raise _taken(holder)
        await HoldRow.delete().where(HoldRow.item == key)
    if holder is not None:
        log.info("piece %s released by admin %s (it was with %s)", piece.id, principal.account_id,
                 holder.grader_id)
    return await _station_piece(piece)


async def station_piece(item_id: str) -> StationPiece:
    """A piece as the station shows it: declared condition, offer, catalog data, photos with their analyses,
    the suggestion for the whole piece and, once decided, the decision and what followed."""
    return await _station_piece(await tradein.grading_piece(item_id))


async def _station_piece(piece: GradingPiece) -> StationPiece:
    key = uuid.UUID(piece.id)
    photos = (await _photos_of([key])).get(piece.id, [])
    product = (await catalog.get_products([piece.product_ref])).get(piece.product_ref)
    decision = await DecisionRow.select().where(DecisionRow.item == key).output(load_json=True).first()
    offer = await CounterOfferRow.select().where(CounterOfferRow.item == key).first()
    shipment = await ReturnRow.select().where(ReturnRow.item == key).first()
    holder = (await _holders([key], clock.now())).get(piece.id) if piece.status == AWAITING_GRADING else None
    return StationPiece(
        id=piece.id, tradein_id=piece.tradein_id, reference=piece.reference, line=piece.line,
        product_ref=piece.product_ref, name=piece.name, category=piece.category, season=piece.season,
        size=piece.size, declared_condition=piece.declared_condition, offer=piece.offer, status=piece.status,
        grade=piece.grade, credited=piece.credited, refused_items=piece.refused_items,
        received_at=piece.received_at, sla_due_date=piece.sla_due_date,
        business_days_left=piece.business_days_left,
        catalog=_catalog_data(product) if product else None,
        photos=[_stored_photo(row) for row in photos], suggestion=_suggestion_of(photos),
        decision=_decision(decision) if decision else None,
        counter_offer=_counter_offer(offer) if offer else None,
        return_shipment=_return_shipment(shipment) if shipment else None, taken_by=holder)


def _catalog_data(product: Product) -> CatalogData:
    return CatalogData(ref=product.ref, name=product.name, category=product.category, season=product.season,
                       retail_price=Money(product.retail_price), color=product.color,
                       materials=list(product.materials), sizes=list(product.sizes))


def _decision(row: dict) -> Decision:
    suggestion = None
    if row["suggested_grade"] is not None:
        suggestion = ModelSuggestion(grade=row["suggested_grade"], confidence=row["suggested_confidence"],
                                     model_version=row["model_version"],
                                     reasons=list(row["suggestion_reasons"]))
    return Decision(
        outcome=row["outcome"], grade=row["grade"], refused=row["grade"] == REFUSED,
        reason=row["refusal_reason"],
        note=row["note"], refused_items=row["refused_items"], decided_at=row["decided_at"],
        grader_id=str(row["grader"]) if row["grader"] else None, suggestion=suggestion,
        photo_ids=list(row["photo_ids"]), seconds_spent=row["seconds_spent"])


def _counter_offer(row: dict) -> CounterOffer:
    return CounterOffer(grade=row["grade"], amount=Money(row["amount"], row["currency"]),
                        grid_version=row["grid_version"], status=row["status"], offered_at=row["offered_at"],
                        deadline=row["deadline"], answered_at=row["answered_at"])


def _return_shipment(row: dict) -> ReturnShipment:
    return ReturnShipment(carrier=row["carrier"], tracking_number=row["tracking_number"])


# --- decisions ----------------------------------------------------------------------------------------------


def _check_decision(data: DecisionCreate) -> None:
    """`{grade}` or `{refused: true, reason}`: exactly one of them."""
    problems = []
    if data.refused:
        if data.grade is not None:
            problems.append({"field": "grade", "message": "a refused piece has no grade"})
        if data.reason is None:
            problems.append({"field": "reason", "message": "required when refusing"})
    else:
        if data.grade is None:
            problems.append({"field": "grade", "message": "required unless refusing"})
        if data.reason is not None:
            problems.append({"field": "reason", "message": "only when refusing"})
    if problems:
        raise InvalidInput("Give a grade, or refuse the piece with a reason.", code="invalid_decision",
                           errors=problems)


async def _seconds_spent(item_key: uuid.UUID, grader_key: uuid.UUID, now: dt.datetime) -> int | None:
    """From the grader's first look at the piece (opening it, or their first photo of it) to now."""
    opened = await VisitRow.select(VisitRow.opened_at).where(VisitRow.item == item_key,
                                                              VisitRow.grader == grader_key)
    photographed = await PhotoRow.select(PhotoRow.uploaded_at).where(PhotoRow.item == item_key,
                                                                      PhotoRow.uploaded_by == grader_key)
    starts = [row["opened_at"] for row in opened] + [row["uploaded_at"] for row in photographed]
    return max(int((now - min(starts)).total_seconds()), 0) if starts else None


class _Aftermath(msgspec.Struct):
    """What to do once a decision or an answer has committed: tell the seller, put a credited piece on
    sale."""

    tradein_id: str
    item_id: str
    mail_kind: str
    subject: str
    body: str
    enter_stock: bool = False


async def decide(grader: Principal, item_id: str, data: DecisionCreate, *,
                 claim: Claim | None = None) -> StationPiece:
    """An expert's decision on a piece awaiting grading (DESIGN.md, "Grading and credit"): at or above the
    declared condition it is credited at the quoted offer; below it, counter-offered at the quote's grid price
    for the lower grade; refused, it is sent back (a return parcel is booked) or donated, as the seller chose.

    Kept with it: the grader, the time, the photos, the model's suggestion and the seconds spent. A piece is
    decided once: a second decision is 409 `not_awaiting_grading`; one by a grader other than the one who has
    it in hand, 409 `piece_taken`.
    """
    _check_decision(data)
    now = clock.now()
    grader_key = uuid.UUID(grader.account_id)
    async with db.write_transaction():
        piece = await tradein.grading_piece(item_id, lock=True)
        _check_awaiting(piece)
        key = uuid.UUID(piece.id)
        holder = await _held_by_another(grader.account_id, key, now)
        if holder is not None:
            raise _taken(holder)
        await HoldRow.delete().where(HoldRow.item == key)  # decided: out of everyone's hands
        photos = (await _photos_of([key])).get(piece.id, [])
        suggestion = _suggestion_of(photos)
        grade = REFUSED if data.refused else data.grade
        assert grade is not None
        outcome, counter = REFUSED, None
        if grade != REFUSED:
            outcome = decisions.outcome_of(piece.declared_condition, grade)
        if outcome == COUNTER_OFFER:
            counter = await tradein.lower_grade_offer(piece, grade)
            if counter >= piece.offer:  # the lower grade earns as much (the minimum offer): nothing to ask
                outcome, counter = CREDITED, None
        await DecisionRow.insert(DecisionRow(
            id=uuid.uuid4(), item=key, tradein=uuid.UUID(piece.tradein_id), grader=grader_key, decided_at=now,
            declared_condition=piece.declared_condition, grade=grade, outcome=outcome,
            refusal_reason=data.reason if data.refused else None, note=data.note,
            refused_items=piece.refused_items if outcome == REFUSED else None,
            suggested_grade=suggestion.grade, suggested_confidence=suggestion.confidence,
            suggestion_reasons=suggestion.reasons, model_version=suggestion.model_version,
            photo_ids=[str(row["id"]) for row in photos],
            seconds_spent=await _seconds_spent(key, grader_key, now)))
        if outcome == CREDITED:
            aftermath = await _credit(piece, piece.offer, f"account:{grader.account_id}")
            await tradein.settle_piece(piece, CREDITED, grade=grade, credited=piece.offer)
        elif outcome == COUNTER_OFFER:
            assert counter is not None
            deadline = decisions.counter_offer_deadline(now)
            await CounterOfferRow.insert(CounterOfferRow(
                id=uuid.uuid4(), item=key, tradein=uuid.UUID(piece.tradein_id), grade=grade,
                amount=counter.amount, currency=counter.currency, grid_version=piece.grid_version,
                status=OPEN, offered_at=now, deadline=deadline))
            await tradein.settle_piece(piece, COUNTER_OFFER, grade=grade)
            aftermath = _counter_offer_mail(piece, grade, counter, deadline)
        else:
            assert data.reason is not None
            shipment = await _book_return(piece, now) if piece.refused_items == RETURN else None
            await tradein.settle_piece(piece, REFUSED, grade=REFUSED)
            aftermath = _refusal_mail(piece, data.reason, shipment)
        answer = await station_piece(piece.id)
        await idempotency.record(claim, answer)
    log.info("piece %s decided by %s: %s (%s; the model suggested %s)", piece.id, grader.account_id, grade,
             outcome, suggestion.grade)
    await _follow_up(aftermath)
    return answer


async def _credit(piece: GradingPiece, amount: Money, actor: str) -> _Aftermath:
    """Credit the seller for the piece (once per piece, forever.vouchers) inside the caller's transaction."""
    await vouchers.credit_tradein_item(
        piece.account_id, piece.id, amount, actor=actor,
        reference=f"trade-in {piece.reference}, piece {piece.line}: {piece.name or piece.product_ref}")
    return _Aftermath(
        tradein_id=piece.tradein_id, item_id=piece.id, mail_kind=PIECE_CREDITED_MAIL,
        subject=f"{amount.format()} credited for your {_piece_name(piece)}",
        body=(f"Our quality experts checked your {_piece_name(piece)} ({piece.product_ref}): "
              f"{amount.format()} of store credit is now in your AMI For Ever account. Turn it into vouchers "
              "whenever you like, for amiparis.com, the resale shop and AMI boutiques."),
        enter_stock=True)


async def _book_return(piece: GradingPiece, now: dt.datetime) -> ReturnShipment:
    shipment = await tradein.book_return(piece)
    await ReturnRow.insert(ReturnRow(
        id=uuid.uuid4(), item=uuid.UUID(piece.id), tradein=uuid.UUID(piece.tradein_id),
        carrier=shipment.carrier, tracking_number=shipment.tracking_number, booked_at=now))
    return shipment


def _piece_name(piece: GradingPiece) -> str:
    return piece.name or piece.product_ref


def _words(grade: str) -> str:
    return grade.replace("_", " ")


def _paris_day(moment: dt.datetime) -> str:
    return f"{moment.astimezone(clock.PARIS):%d/%m/%Y}"


def _counter_offer_mail(piece: GradingPiece, grade: str, amount: Money, deadline: dt.datetime) -> _Aftermath:
    return _Aftermath(
        tradein_id=piece.tradein_id, item_id=piece.id, mail_kind=COUNTER_OFFER_MAIL,
        subject=f"A new offer for your {_piece_name(piece)}",
        body=(f"Our quality experts graded your {_piece_name(piece)} ({piece.product_ref}) "
              f"\"{_words(grade)}\" rather than \"{_words(piece.declared_condition)}\" as declared. In that "
              f"condition it is worth {amount.format()} instead of {piece.offer.format()}.\n\n"
              "On your trade-in page you can accept this offer, ask for the piece back free of charge, or "
              f"donate it, until {_paris_day(deadline)}. Without an answer by then, we credit "
              f"{amount.format()}."))


def _refusal_mail(piece: GradingPiece, reason: str, shipment: ReturnShipment | None) -> _Aftermath:
    if shipment is not None:
        what_next = ("As you chose, we are sending it back to you free of charge: its tracking number is "
                     f"{shipment.tracking_number}.")
    else:
        what_next = "As you chose, it will be donated."
    return _Aftermath(
        tradein_id=piece.tradein_id, item_id=piece.id, mail_kind=PIECE_REFUSED_MAIL,
        subject=f"We could not accept your {_piece_name(piece)}",
        body=(f"Our quality experts could not accept your {_piece_name(piece)} ({piece.product_ref}): "
              f"{decisions.REFUSAL_TEXTS[reason]}. {what_next} The photos our experts took are on your "
              "trade-in page."))


async def _follow_up(aftermath: _Aftermath) -> None:
    """After the commit: tell the seller, and put a credited piece into the resale shop's stock. Neither
    undoes what was decided if it fails: it is logged."""
    await tradein.write_to_seller(aftermath.tradein_id, aftermath.mail_kind, aftermath.subject,
                                  aftermath.body)
    if aftermath.enter_stock:
        try:
            # Imported here: forever.listings imports this module (passports, photos). `enter_stock` is
            # idempotent, and the listings' own job stocks any credited piece missed here.
            from forever.listings import service as listings

            await listings.enter_stock(aftermath.item_id)
        except Exception:
            log.exception("piece %s was credited but could not enter stock", aftermath.item_id)


# --- counter-offers -----------------------------------------------------------------------------------------


async def _open_counter_offer(piece: GradingPiece) -> dict:
    row = await CounterOfferRow.select().where(CounterOfferRow.item == uuid.UUID(piece.id)).first()
    if row is None:
        raise NotFound("This piece has no counter-offer.", code="counter_offer_not_found")
    return row


async def _settle_counter_offer(piece: GradingPiece, offer: dict, answer: str, now: dt.datetime,
                                actor: str) -> _Aftermath:
    """Carry out an answer to a counter-offer (accept, return, donate, or silence: lapsed) under the piece's
    lock."""
    status = {ACCEPT: ACCEPTED, RETURN: RETURNED, DONATE: DONATED, LAPSED: LAPSED}[answer]
    await CounterOfferRow.update({CounterOfferRow.status: status, CounterOfferRow.answered_at: now}).where(
        CounterOfferRow.id == offer["id"])
    if status in (ACCEPTED, LAPSED):
        amount = Money(offer["amount"], offer["currency"])
        aftermath = await _credit(piece, amount, actor)
        await tradein.settle_piece(piece, CREDITED, credited=amount)
        return aftermath
    if status == RETURNED:
        shipment = await _book_return(piece, now)
        await tradein.settle_piece(piece, RETURNED)
        return _Aftermath(
            tradein_id=piece.tradein_id, item_id=piece.id, mail_kind=PIECE_RETURNED_MAIL,
            subject=f"Your {_piece_name(piece)} is coming back to you",
            body=(f"As you asked, we are sending your {_piece_name(piece)} ({piece.product_ref}) back to you "
                  f"free of charge. Its tracking number is {shipment.tracking_number}."))
    await tradein.settle_piece(piece, DONATED)
    return _Aftermath(
        tradein_id=piece.tradein_id, item_id=piece.id, mail_kind=PIECE_DONATED_MAIL,
        subject=f"Thank you for donating your {_piece_name(piece)}",
        body=f"As you asked, your {_piece_name(piece)} ({piece.product_ref}) will be donated. Thank you.")


async def answer_counter_offer(seller: Principal, tradein_id: str, item_id: str, data: CounterOfferAnswer, *,
                               claim: Claim | None = None) -> GradedTradeInItem:
    """The seller accepts a counter-offer (credited at its amount), asks for the piece back (a return parcel
    is booked) or donates it, within 14 days; 409 `counter_offer_closed` once answered or lapsed."""
    now = clock.now()
    async with db.write_transaction():
        piece = await tradein.grading_piece(item_id, lock=True)
        if piece.account_id != seller.account_id or piece.tradein_id != tradein_id:
            raise NotFound("No such piece.", code="item_not_found")
        offer = await _open_counter_offer(piece)
        if offer["status"] != OPEN:
            raise Conflict(f"This counter-offer was already settled ({offer['status']}).",
                           code="counter_offer_closed")
        if now >= offer["deadline"]:
            raise Conflict(f"This counter-offer's answer was due by {_paris_day(offer['deadline'])}: "
                           "without an answer it is accepted.", code="counter_offer_closed")
        actor = f"account:{seller.account_id}"
        aftermath = await _settle_counter_offer(piece, offer, data.decision, now, actor)
        answer = await _seller_item(seller, piece)
        await idempotency.record(claim, answer)
    log.info("piece %s: the seller answered the counter-offer: %s", piece.id, data.decision)
    await _follow_up(aftermath)
    return answer


async def lapse_counter_offers() -> int:
    """Accept every counter-offer left unanswered for 14 days (silence is acceptance): credit it at its
    amount. Safe to run again and from several processes: each is re-checked under its piece's lock. Returns
    how many."""
    now = clock.now()
    due = await CounterOfferRow.select(CounterOfferRow.item).where(
        CounterOfferRow.status == OPEN, CounterOfferRow.deadline <= now).order_by(CounterOfferRow.deadline)
    lapsed = 0
    for row in due:
        async with db.write_transaction():
            piece = await tradein.grading_piece(str(row["item"]), lock=True)
            offer = await _open_counter_offer(piece)
            if offer["status"] != OPEN or offer["deadline"] > now:
                continue  # answered, or lapsed by another run, meanwhile
            aftermath = await _settle_counter_offer(piece, offer, LAPSED, now, SYSTEM_ACTOR)
        lapsed += 1
        log.info("piece %s: counter-offer lapsed, credited", piece.id)
        await _follow_up(aftermath)
    return lapsed


# --- the seller's view --------------------------------------------------------------------------------------


async def seller_tradein(reader: Principal, tradein_id: str) -> GradedTradeIn:
    """A trade-in for its seller (or staff) with each piece's grading: refusal reason, counter-offer, return
    parcel and photos."""
    found = await tradein.get_tradein(reader, tradein_id)
    items = await _graded_items(found.items)
    return GradedTradeIn(**{**msgspec.structs.asdict(found), "items": items})


async def _seller_item(seller: Principal, piece: GradingPiece) -> GradedTradeInItem:
    found = await tradein.get_tradein(seller, piece.tradein_id)
    item = next(item for item in found.items if item.id == piece.id)
    return (await _graded_items([item]))[0]


async def _graded_items(items: Sequence[TradeInItem]) -> list[GradedTradeInItem]:
    keys = [uuid.UUID(item.id) for item in items]
    if not keys:
        return []
    decided = {str(row["item"]): row for row in await DecisionRow.select(
        DecisionRow.item, DecisionRow.decided_at, DecisionRow.refusal_reason,
    ).where(DecisionRow.item.is_in(keys))}
    offers = {str(row["item"]): row for row in await CounterOfferRow.select().where(
        CounterOfferRow.item.is_in(keys))}
    returns = {str(row["item"]): row for row in await ReturnRow.select().where(ReturnRow.item.is_in(keys))}
    photos = await _photos_of(keys)
    graded = []
    for item in items:
        decision = decided.get(item.id)
        graded.append(GradedTradeInItem(
            **msgspec.structs.asdict(item),
            decided_at=decision["decided_at"] if decision else None,
            refusal_reason=decision["refusal_reason"] if decision else None,
            counter_offer=_counter_offer(offers[item.id]) if item.id in offers else None,
            return_shipment=_return_shipment(returns[item.id]) if item.id in returns else None,
            photos=[SellerPhoto(photo_id=str(row["id"]), view=row["view"], url=photo_url(str(row["id"])),
                                width=row["width"], height=row["height"],
                                findings=_examination(row).analysis.findings)
                    for row in photos.get(item.id, [])] if decision else []))
    return graded


# --- for the resale shop, the model's training, and the dashboard -------------------------------------------


async def passport(tradein_item_id: str) -> Passport | None:
    """A credited piece's grading record (grade, when, the station's photos and their findings) for the resale
    shop's piece passport; None for a piece not (or not yet) credited."""
    try:
        key = uuid.UUID(tradein_item_id)
    except ValueError:
        return None
    decision = await DecisionRow.select(DecisionRow.grade, DecisionRow.decided_at).where(
        DecisionRow.item == key).first()
    if decision is None or decision["grade"] == REFUSED:
        return None
    offer = await CounterOfferRow.select(CounterOfferRow.status).where(CounterOfferRow.item == key).first()
    if offer is not None and offer["status"] not in (ACCEPTED, LAPSED):
        return None
    photos = (await _photos_of([key])).get(str(key), [])
    return Passport(grade=decision["grade"], graded_at=decision["decided_at"], photos=[
        PassportPhoto(photo_id=str(row["id"]), view=row["view"], width=row["width"], height=row["height"],
                      findings=_examination(row).analysis.findings)
        for row in photos])


_EXPERT_PHOTOS = """
    SELECT p.path, d.grade, d.refusal_reason
    FROM grading_photo p JOIN grading_decision d ON d.item = p.item
    ORDER BY d.decided_at, p.uploaded_at, p.id
"""


async def expert_photos() -> list[LabelledPhoto]:
    """Every stored photo of a decided piece, labelled with the expert's final grade (or `refused` and the
    refusal reason): the experts' decisions as training data (`forever grading train`)."""
    from forever.grading.training import LabelledPhoto  # training pulls in the trainers: only when asked

    labelled = []
    data_dir = get_settings().data_dir
    for row in await db.fetch(_EXPERT_PHOTOS):
        try:
            image = await asyncio.to_thread((data_dir / row["path"]).read_bytes)
        except FileNotFoundError:
            log.warning("photo file %s is missing: left out of the experts' labels", row["path"])
            continue
        refused = row["grade"] == REFUSED
        labelled.append(LabelledPhoto(image=image, grade=row["grade"],
                                      refusal_reason=row["refusal_reason"] if refused else None))
    return labelled


async def dashboard(since: dt.datetime | None = None) -> Dashboard:
    """How often the experts' final grades agree with the model's suggestions (exactly, and within one grade),
    and each grader's pace: pieces decided, median seconds per piece, agreement."""
    query = DecisionRow.select(DecisionRow.grader, DecisionRow.grade, DecisionRow.suggested_grade,
                               DecisionRow.seconds_spent)
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=clock.PARIS)  # a moment without an offset is Paris time, as everywhere
    if since is not None:
        query = query.where(DecisionRow.decided_at >= since)
    records = [DecisionRecord(grader_id=str(row["grader"]) if row["grader"] else "", grade=row["grade"],
                              suggested_grade=row["suggested_grade"], seconds=row["seconds_spent"])
               for row in await query]
    overall = decisions.agreement(records)
    by_grader: dict[str, list[DecisionRecord]] = {}
    for record in records:
        by_grader.setdefault(record.grader_id, []).append(record)
    graders = []
    for grader_id, own in sorted(by_grader.items()):
        pace = decisions.agreement(own)
        graders.append(GraderPace(
            grader_id=grader_id, email=await _email_of(grader_id), pieces_decided=pace.pieces_decided,
            median_seconds=pace.median_seconds, agreement_exact=pace.exact,
            agreement_within_one=pace.within_one))
    return Dashboard(since=since, pieces_decided=overall.pieces_decided,
                     with_suggestion=overall.with_suggestion,
                     agreement_exact=overall.exact, agreement_within_one=overall.within_one,
                     median_seconds=overall.median_seconds, graders=graders)


async def _email_of(account_id: str) -> str:
    if not account_id:
        return ""  # the grader's account was closed
    try:
        return (await accounts.get_account(account_id)).email
    except NotFound:
        return ""


# --- privacy: a seller's export (forever.accounts.privacy) -------------------------------------------------


async def decisions_of(item_ids: Sequence[str]) -> dict[str, Decision]:
    """The experts' decisions on some pieces, by piece id, for their seller's data export: the grade, the reason,
    the note and the model's suggestion, without the grader's identity or pace (staff data, not the seller's)."""
    keys = [uuid.UUID(item_id) for item_id in item_ids]
    if not keys:
        return {}
    rows = await DecisionRow.select().where(DecisionRow.item.is_in(keys)).output(load_json=True)
    return {str(row["item"]): msgspec.structs.replace(_decision(row), grader_id=None, seconds_spent=None)
            for row in rows}


async def photos_of(item_ids: Sequence[str]) -> dict[str, list[StoredPhoto]]:
    """The station's photos of some pieces with their analyses, by piece id, oldest first, without who took
    them (files through `photo_file`)."""
    found = await _photos_of([uuid.UUID(item_id) for item_id in item_ids])
    return {item: [msgspec.structs.replace(_stored_photo(row), uploaded_by=None) for row in rows]
            for item, rows in found.items()}
