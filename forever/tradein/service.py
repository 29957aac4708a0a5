"""Use cases of trade-in: browsing what can be sold, locked quotes, and accepted trade-ins (documents, parcels,
carrier events, reception at the warehouse, the grading SLA)."""

from __future__ import annotations

import datetime as dt
import functools
import logging
import time
import uuid
from pathlib import Path

import msgspec

from forever import clock, db
from forever.accounts import model as accounts_rules
from forever.accounts import service as accounts
from forever.accounts.schemas import Account, Principal
from forever.catalog import service as catalog
from forever.catalog.model import Product
from forever.errors import Conflict, InvalidInput, NotFound
from forever.money import Money
from forever.notify import service as notify
from forever.pagination import check_limit, decode_cursor, encode_cursor
from forever.settings import get_settings
from forever.tradein import carrier as carriers
from forever.tradein import documents, model, s10, sla
from forever.tradein.schemas import (
    CarrierEventCreate,
    CarrierEventReceipt,
    CatalogProduct,
    CreditedPiece,
    GradingPiece,
    Notification,
    Parcel,
    ParcelEvent,
    Quote,
    QuoteCreate,
    QuoteLine,
    QuoteSummary,
    ReceptionCreate,
    ReturnShipment,
    SlaItem,
    TradeIn,
    TradeInCreate,
    TradeInItem,
    TradeInSummary,
)
from forever.tradein.tables import Parcel as ParcelRow
from forever.tradein.tables import PricingGridVersion as PricingGridRow
from forever.tradein.tables import ParcelEvent as ParcelEventRow
from forever.tradein.tables import Quote as QuoteRow
from forever.tradein.tables import QuoteLine as QuoteLineRow
from forever.tradein.tables import TradeIn as TradeInRow
from forever.tradein.tables import TradeInItem as TradeInItemRow
from forever.tradein.tables import TradeInMessage as TradeInMessageRow

log = logging.getLogger("forever.tradein")

QUOTE_VALIDITY = dt.timedelta(days=30)

GRID_RECHECK_SECONDS = 1.0
# path -> (file modification time, when it was last checked, grid)
_grid_cache: dict[Path, tuple[float, float, model.PricingGrid]] = {}


def current_grid(path: Path | None = None) -> model.PricingGrid:
    """The pricing grid in force: the business's file, re-read within a second of a change on disk."""
    path = path or get_settings().pricing_grid_path
    cached = _grid_cache.get(path)
    checked = time.monotonic()
    if cached is not None and checked - cached[1] < GRID_RECHECK_SECONDS:
        return cached[2]
    mtime = path.stat().st_mtime
    grid = cached[2] if cached is not None and cached[0] == mtime else model.load_grid(path)
    _grid_cache[path] = (mtime, checked, grid)
    return grid


def _catalog_product(product: Product, today: dt.date) -> CatalogProduct:
    return CatalogProduct(
        ref=product.ref, name=product.name, category=product.category, season=product.season,
        retail_price=Money(product.retail_price), color=product.color, sizes=list(product.sizes),
        tradein_eligible=not model.product_refusal_reasons(product, today),
    )


async def browse_catalog(q: str | None, category: str | None, season: str | None, limit: int,
                         cursor: str | None) -> tuple[list[CatalogProduct], str | None]:
    """Catalog search, each product marked with whether it can be traded in today."""
    products, next_cursor = await catalog.search(q=q, category=category, season=season, limit=limit,
                                                 cursor=cursor)
    today = clock.today()
    return [_catalog_product(product, today) for product in products], next_cursor


def _newest_first_cursor(cursor: str) -> tuple[dt.datetime, uuid.UUID]:
    """The (created_at, id) a newest-first list's cursor points after."""
    created_at, row_id = decode_cursor(cursor, (str, str))
    try:
        return dt.datetime.fromisoformat(created_at), uuid.UUID(row_id)
    except (TypeError, ValueError):
        raise InvalidInput("That cursor is not one this list gave out.", code="invalid_cursor") from None


def _status(row: dict, now: dt.datetime) -> str:
    if row["status"] == "open" and row["expires_at"] <= now:
        return "expired"
    return row["status"]


def _to_quote(row: dict, lines: list[dict], now: dt.datetime) -> Quote:
    currency = row["currency"]
    return Quote(
        id=str(row["id"]), status=_status(row, now), created_at=row["created_at"],
        expires_at=row["expires_at"], grid_version=row["grid_version"],
        total_offer=Money(row["total_offer"], currency),
        items=[
            QuoteLine(
                line=line["line"], product_ref=line["product_ref"], name=line["name"] or None,
                category=line["category"] or None, season=line["season"] or None,
                condition=line["condition"], size=line["size"], eligible=line["eligible"],
                reasons=list(line["reasons"] or []),
                offer=Money(line["offer"], currency) if line["offer"] is not None else None,
            )
            for line in lines
        ],
    )


# A quote is the seller's hot path: its two inserts are written once as SQL (the query builder cost more
# than the rest of the request, bench/quotes.py) and committed together as one batch.
_INSERT_QUOTE = """
    INSERT INTO quote (id, account, status, created_at, expires_at, grid_version, total_offer, currency)
    VALUES ({}, {}, {}, {}, {}, {}, {}, {})
"""
_QUOTE_LINE_COLUMNS = ("line", "product_ref", "name", "category", "season", "condition", "size", "eligible",
                       "reasons", "offer")


@functools.cache
def _insert_quote_lines(count: int) -> str:
    row = "({})".format(", ".join(["{}"] * (len(_QUOTE_LINE_COLUMNS) + 1)))
    return (f"INSERT INTO quote_line (quote, {', '.join(_QUOTE_LINE_COLUMNS)}) VALUES "
            + ", ".join([row] * count))


_ARCHIVE_GRID = """
    INSERT INTO pricing_grid_version (version, grid, archived_at) VALUES ({}, {}, {})
    ON CONFLICT (version) DO NOTHING
"""
# (database, grid version) pairs this process knows are archived: the archive is written once per version, not
# with every quote.
_archived_grids: set[tuple[str, str]] = set()


def _grid_archive(grid: model.PricingGrid, now: dt.datetime) -> tuple[tuple[str, tuple], ...]:
    """The statement keeping `grid` by its version, unless this process already wrote it."""
    if (get_settings().database_url, grid.version) in _archived_grids:
        return ()
    return ((_ARCHIVE_GRID, (grid.version, msgspec.json.encode(grid).decode(), now)),)


async def grid_of_version(version: str) -> model.PricingGrid:
    """The pricing grid a quote was priced with, by its version (the file in force may have moved on)."""
    row = await PricingGridRow.select(PricingGridRow.grid).where(PricingGridRow.version == version).first()
    if row is not None:
        return msgspec.json.decode(row["grid"], type=model.PricingGrid)
    grid = current_grid()
    if grid.version != version:
        # Only a quote made before grids were archived can miss its own: the grid in force is the best left.
        log.warning("pricing grid %s is not archived: pricing with %s instead", version, grid.version)
    return grid


async def create_quote(seller: Principal, data: QuoteCreate) -> Quote:
    """Judge each piece on its own and lock the offers for 30 days (003_: sellers in six countries only)."""
    today = clock.today()
    if seller.account_id is None or seller.country is None:
        raise NotFound("No such account.")
    refusal = model.seller_refusal(seller.country, seller.birth_date, today) if seller.birth_date else None
    if refusal == model.COUNTRY_NOT_SERVED:
        raise InvalidInput(
            "AMI For Ever takes pieces from sellers living in France, Germany, Italy, Spain, Belgium or "
            "the Netherlands.", code="country_not_served")
    if refusal == model.MINOR:
        raise InvalidInput("AMI For Ever is open to people aged 18 and over.", code="minor")
    grid = current_grid()
    products = await catalog.get_products(item.product_ref for item in data.items)
    now = clock.now()
    # Appended to the quote and quote_line indexes, not scattered; a string once, as both databases take it
    # for a UUID (converting it again for each of six values cost a quote 10 µs).
    quote_id = db.time_ordered_id()
    items: list[QuoteLine] = []
    line_values: list[object] = []
    for number, item in enumerate(data.items, start=1):
        product = products.get(item.product_ref)
        verdict = model.judge_line(product, item.condition, grid, today)
        line = QuoteLine(
            line=number, product_ref=item.product_ref, name=product.name if product else None,
            category=product.category if product else None, season=product.season if product else None,
            condition=item.condition, size=item.size, eligible=verdict.eligible, reasons=list(verdict.reasons),
            offer=verdict.offer,
        )
        items.append(line)
        line_values += (quote_id, number, line.product_ref, line.name or "", line.category or "", line.season or "",
                        line.condition, line.size, line.eligible, msgspec.json.encode(line.reasons).decode(),
                        verdict.offer.amount if verdict.offer else None)
    total = Money(sum(line.offer.amount for line in items if line.offer), grid.currency)
    expires_at = now + QUOTE_VALIDITY
    await db.write_batch(
        *_grid_archive(grid, now),
        (_INSERT_QUOTE, (quote_id, seller.account_id, "open", now, expires_at, grid.version,
                         total.amount, total.currency)),
        (_insert_quote_lines(len(items)), line_values),
    )
    _archived_grids.add((get_settings().database_url, grid.version))
    return Quote(id=quote_id, status="open", created_at=now, expires_at=expires_at,
                 grid_version=grid.version, items=items, total_offer=total)


def _quote_key(quote_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(quote_id)
    except ValueError:
        raise NotFound("No such quote.", code="quote_not_found") from None


async def get_quote(account_id: str, quote_id: str) -> Quote:
    """One of the seller's quotes; anyone else's is not found."""
    key = _quote_key(quote_id)
    row = await QuoteRow.select().where(QuoteRow.id == key, QuoteRow.account == uuid.UUID(account_id)).first()
    if row is None:
        raise NotFound("No such quote.", code="quote_not_found")
    lines = await QuoteLineRow.select().where(QuoteLineRow.quote == key).order_by(QuoteLineRow.line).output(
        load_json=True)
    return _to_quote(row, lines, clock.now())


async def list_quotes(account_id: str, limit: int = 20, cursor: str | None = None
                      ) -> tuple[list[QuoteSummary], str | None]:
    """The seller's quotes, newest first."""
    check_limit(limit)
    query = QuoteRow.select().where(QuoteRow.account == uuid.UUID(account_id))
    if cursor is not None:
        after, after_id = _newest_first_cursor(cursor)
        query = query.where((QuoteRow.created_at < after) | ((QuoteRow.created_at == after) & (QuoteRow.id < after_id)))
    rows = await query.order_by(QuoteRow.created_at, QuoteRow.id, ascending=False).limit(limit + 1)
    page = rows[:limit]
    counts = {}
    if page:
        for line in await QuoteLineRow.select(QuoteLineRow.quote, QuoteLineRow.eligible).where(
                QuoteLineRow.quote.is_in([row["id"] for row in page])):
            total, eligible = counts.get(line["quote"], (0, 0))
            counts[line["quote"]] = (total + 1, eligible + (1 if line["eligible"] else 0))
    now = clock.now()
    summaries = [
        QuoteSummary(id=str(row["id"]), status=_status(row, now), created_at=row["created_at"],
                     expires_at=row["expires_at"], piece_count=counts.get(row["id"], (0, 0))[0],
                     eligible_count=counts.get(row["id"], (0, 0))[1],
                     total_offer=Money(row["total_offer"], row["currency"]))
        for row in page
    ]
    next_cursor = None
    if len(rows) > limit:
        last = page[-1]
        next_cursor = encode_cursor(last["created_at"].isoformat(), str(last["id"]))
    return summaries, next_cursor


# --- trade-ins: acceptance, documents, parcels, reception, SLA ------------------------------------------------

# Who may read any trade-in besides its seller (store staff only redeem vouchers).
TRADEIN_STAFF_ROLES: tuple[str, ...] = (accounts_rules.GRADER, accounts_rules.CUSTOMER_SERVICE, accounts_rules.ADMIN)
ACCEPTED_MAIL, IN_TRANSIT_MAIL, RECEIVED_MAIL = "accepted", "in_transit", "received"


def _tradein_key(tradein_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(tradein_id)
    except ValueError:
        raise NotFound("No such trade-in.", code="tradein_not_found") from None


def _tracking_number(text: str) -> str:
    """The S10 number a scan or a carrier sent, or 422 `invalid_tracking_number` saying what is wrong."""
    try:
        return s10.parse(text)
    except s10.InvalidTrackingNumber as exc:
        raise InvalidInput(str(exc), code="invalid_tracking_number",
                           errors=[{"field": "tracking_number", "message": str(exc)}]) from None


def _paris(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(clock.PARIS)


def _to_tradein(row: dict, items: list[dict], parcel: dict, events: list[dict], messages: list[dict]) -> TradeIn:
    currency = row["currency"]
    return TradeIn(
        id=str(row["id"]), status=row["status"], refused_items=row["refused_items"],
        items=[
            TradeInItem(id=str(item["id"]), line=item["line"], product_ref=item["product_ref"],
                        declared_condition=item["declared_condition"], offer=Money(item["offer"], currency),
                        status=item["status"], grade=item["grade"],
                        credited=Money(item["credited"], currency) if item["credited"] is not None else None,
                        name=item["name"], season=item["season"], size=item["size"])
            for item in items
        ],
        parcel=Parcel(tracking_number=parcel["tracking_number"], carrier=parcel["carrier"], status=parcel["status"],
                      ship_by=parcel["ship_by"], received_at=parcel["received_at"],
                      events=[ParcelEvent(event=event["event"], occurred_at=event["occurred_at"],
                                          source=event["source"]) for event in events]),
        received_at=row["received_at"], sla_due_date=row["sla_due_date"],
        reference=model.tradein_reference(str(row["id"])), quote_id=str(row["quote"]), created_at=row["created_at"],
        total_offer=Money(row["total_offer"], currency),
        notifications=[Notification(kind=message["kind"], subject=message["subject"], sent_at=message["sent_at"])
                       for message in messages],
    )


async def _load_tradein(key: uuid.UUID, account: uuid.UUID | None = None) -> TradeIn:
    """A trade-in with everything about it; with `account`, only when it is that seller's."""
    query = TradeInRow.select().where(TradeInRow.id == key)
    if account is not None:
        query = query.where(TradeInRow.account == account)
    row = await query.first()
    if row is None:
        raise NotFound("No such trade-in.", code="tradein_not_found")
    items = await TradeInItemRow.select().where(TradeInItemRow.tradein == key).order_by(TradeInItemRow.line)
    parcel = await ParcelRow.select().where(ParcelRow.tradein == key).order_by(ParcelRow.created_at).first()
    events = await ParcelEventRow.select().where(ParcelEventRow.parcel == parcel["id"]).order_by(
        ParcelEventRow.occurred_at, ParcelEventRow.id)
    messages = await TradeInMessageRow.select().where(TradeInMessageRow.tradein == key).order_by(
        TradeInMessageRow.sent_at, TradeInMessageRow.id)
    return _to_tradein(row, items, parcel, events, messages)


def _reader_filter(reader: Principal) -> uuid.UUID | None:
    """None when `reader` may see every trade-in, else the only account whose trade-ins they may see."""
    if reader.kind == "person" and reader.role in TRADEIN_STAFF_ROLES:
        return None
    if reader.kind != "person" or reader.role != accounts_rules.CUSTOMER or reader.account_id is None:
        raise NotFound("No such trade-in.", code="tradein_not_found")
    return uuid.UUID(reader.account_id)


async def get_tradein(reader: Principal, tradein_id: str) -> TradeIn:
    """A trade-in, for its seller or for staff (graders, customer service, admins); anyone else: not found."""
    return await _load_tradein(_tradein_key(tradein_id), _reader_filter(reader))


async def accept_quote(seller: Principal, quote_id: str, data: TradeInCreate) -> TradeIn:
    """Turn a quote into a trade-in: its eligible pieces, one parcel on a prepaid label, to ship within 30 days.

    Race-safe: the quote row is locked (PostgreSQL; SQLite has one writer), and a trade-in's quote is unique,
    so of two accepts at the same moment one wins and the other is `already_accepted`. The acceptance e-mail
    (label and deed attached) goes out once the trade-in is committed.
    """
    key = _quote_key(quote_id)
    if seller.account_id is None:
        raise NotFound("No such quote.", code="quote_not_found")
    account = await accounts.get_account(seller.account_id)
    now = clock.now()
    tradein_id = uuid.uuid4()
    already = Conflict("This offer was already accepted: its trade-in is under My trade-ins.", code="already_accepted")
    try:
        async with db.write_transaction():
            query = QuoteRow.select(QuoteRow.id, QuoteRow.status, QuoteRow.expires_at, QuoteRow.currency).where(
                QuoteRow.id == key, QuoteRow.account == uuid.UUID(account.id))
            if not db.is_sqlite():
                query = query.lock_rows("UPDATE")
            quote = await query.first()
            if quote is None:
                raise NotFound("No such quote.", code="quote_not_found")
            if quote["status"] == "accepted":
                raise already
            if quote["expires_at"] <= now:
                raise Conflict(f"This offer expired on {_paris(quote['expires_at']):%d/%m/%Y}: ask for a new quote.",
                               code="quote_expired")
            lines = await QuoteLineRow.select().where(QuoteLineRow.quote == key, QuoteLineRow.eligible.eq(True)
                                                      ).order_by(QuoteLineRow.line)
            if not lines:
                raise Conflict("None of the pieces of this offer can be taken back: there is nothing to send.",
                               code="nothing_to_accept")
            reference = model.tradein_reference(str(tradein_id))
            booked_with = carriers.current()
            tracking_number = await booked_with.book(carriers.Shipment(
                reference=reference, piece_count=len(lines),
                sender_name=f"{account.first_name} {account.last_name}", sender_country=account.country))
            await TradeInRow.insert(TradeInRow(
                id=tradein_id, quote=key, account=uuid.UUID(account.id), status=model.AWAITING_SHIPMENT,
                refused_items=data.refused_items, total_offer=sum(line["offer"] for line in lines),
                currency=quote["currency"], created_at=now))
            await TradeInItemRow.insert(*[
                TradeInItemRow(id=uuid.uuid4(), tradein=tradein_id, line=line["line"], product_ref=line["product_ref"],
                               name=line["name"], category=line["category"], season=line["season"], size=line["size"],
                               declared_condition=line["condition"], offer=line["offer"],
                               status=model.AWAITING_SHIPMENT)
                for line in lines])
            parcel_id = uuid.uuid4()
            await ParcelRow.insert(ParcelRow(
                id=parcel_id, tradein=tradein_id, carrier=booked_with.name, tracking_number=tracking_number,
                status=model.LABEL_CREATED, ship_by=model.ship_by(_paris(now).date()), created_at=now))
            await _record_event(parcel_id, model.LABEL_CREATED, now, "system", now)
            await QuoteRow.update({QuoteRow.status: "accepted"}).where(QuoteRow.id == key)
    except Exception as exc:
        if db.is_unique_violation(exc):  # the other accept committed first
            raise already from None
        raise
    tradein = await _load_tradein(tradein_id)
    log.info("trade-in %s accepted from quote %s: %d pieces, parcel %s", tradein_id, key, len(tradein.items),
             tracking_number)
    label, deed = _label_of(tradein, account), _deed_of(tradein, account)
    await _tell_seller(tradein, account, ACCEPTED_MAIL, _acceptance_mail(tradein, account), attachments=(
        notify.Attachment(f"label-{tracking_number}.pdf", documents.label_pdf(label), "application/pdf"),
        notify.Attachment(f"deed-{tradein.reference}.pdf", documents.deed_pdf(deed), "application/pdf"),
    ))
    return await _load_tradein(tradein_id)


async def list_tradeins(account_id: str, limit: int = 20, cursor: str | None = None
                        ) -> tuple[list[TradeInSummary], str | None]:
    """The seller's trade-ins, newest first."""
    check_limit(limit)
    query = TradeInRow.select().where(TradeInRow.account == uuid.UUID(account_id))
    if cursor is not None:
        after, after_id = _newest_first_cursor(cursor)
        query = query.where((TradeInRow.created_at < after)
                            | ((TradeInRow.created_at == after) & (TradeInRow.id < after_id)))
    rows = await query.order_by(TradeInRow.created_at, TradeInRow.id, ascending=False).limit(limit + 1)
    page = rows[:limit]
    next_cursor = None
    if len(rows) > limit:
        last = page[-1]
        next_cursor = encode_cursor(last["created_at"].isoformat(), str(last["id"]))
    return await _summaries(page), next_cursor


async def _summaries(rows: list[dict]) -> list[TradeInSummary]:
    """Trade-in rows as list entries, with their piece counts and parcels (three queries, whatever the count)."""
    counts: dict[uuid.UUID, int] = {}
    parcels: dict[uuid.UUID, dict] = {}
    if rows:
        keys = [row["id"] for row in rows]
        for item in await TradeInItemRow.select(TradeInItemRow.tradein).where(TradeInItemRow.tradein.is_in(keys)):
            counts[item["tradein"]] = counts.get(item["tradein"], 0) + 1
        for parcel in await ParcelRow.select().where(ParcelRow.tradein.is_in(keys)).order_by(ParcelRow.created_at):
            parcels.setdefault(parcel["tradein"], parcel)  # the first booked
    return [
        TradeInSummary(id=str(row["id"]), reference=model.tradein_reference(str(row["id"])), status=row["status"],
                       created_at=row["created_at"], piece_count=counts.get(row["id"], 0),
                       total_offer=Money(row["total_offer"], row["currency"]),
                       tracking_number=parcels[row["id"]]["tracking_number"],
                       parcel_status=parcels[row["id"]]["status"], ship_by=parcels[row["id"]]["ship_by"],
                       sla_due_date=row["sla_due_date"], received_at=row["received_at"])
        for row in rows
    ]


async def tradein_of_quote(account_id: str, quote_id: str) -> str | None:
    """The id of the trade-in the seller's quote became, if it was accepted."""
    try:
        key = uuid.UUID(quote_id)
    except ValueError:
        return None
    row = await TradeInRow.select(TradeInRow.id).where(
        TradeInRow.quote == key, TradeInRow.account == uuid.UUID(account_id)).first()
    return str(row["id"]) if row else None


# --- documents ----------------------------------------------------------------------------------------------

LABEL_PDF, LABEL_ZPL, DEED_PDF = "label.pdf", "label.zpl", "deed.pdf"
DOCUMENT_TYPES = {LABEL_PDF: "application/pdf", LABEL_ZPL: "text/plain; charset=utf-8", DEED_PDF: "application/pdf"}


class Document(msgspec.Struct, frozen=True):
    filename: str
    media_type: str
    content: bytes


def _label_of(tradein: TradeIn, seller: Account) -> documents.Label:
    return documents.Label(
        tracking_number=tradein.parcel.tracking_number, carrier=carriers.display_name(tradein.parcel.carrier),
        reference=tradein.reference, piece_count=len(tradein.items),
        sender_name=f"{seller.first_name} {seller.last_name}", sender_email=seller.email,
        sender_country=seller.country, ship_by=tradein.parcel.ship_by)


def _deed_of(tradein: TradeIn, seller: Account) -> documents.Deed:
    assert tradein.created_at is not None and tradein.total_offer is not None
    return documents.Deed(
        tradein_id=tradein.id, reference=tradein.reference, tracking_number=tradein.parcel.tracking_number,
        accepted_on=_paris(tradein.created_at).date(), seller_name=f"{seller.first_name} {seller.last_name}",
        seller_email=seller.email, seller_birth_date=seller.birth_date, seller_country=seller.country,
        account_id=seller.id, total=tradein.total_offer, refused_items=tradein.refused_items,
        pieces=tuple(documents.DeedPiece(line=item.line, product_ref=item.product_ref, name=item.name,
                                         season=item.season, size=item.size,
                                         declared_condition=item.declared_condition, offer=item.offer)
                     for item in tradein.items))


async def _seller_of(tradein_key: uuid.UUID) -> Account:
    row = await TradeInRow.select(TradeInRow.account).where(TradeInRow.id == tradein_key).first()
    return await accounts.get_account(str(row["account"]))


async def get_document(reader: Principal, tradein_id: str, name: str) -> Document:
    """The prepaid label (`label.pdf`, `label.zpl`) or the transfer deed (`deed.pdf`), for the seller or staff."""
    if name not in DOCUMENT_TYPES:
        raise NotFound("No such document.")
    key = _tradein_key(tradein_id)
    tradein = await _load_tradein(key, _reader_filter(reader))
    seller = await _seller_of(key)
    number = tradein.parcel.tracking_number
    if name == LABEL_PDF:
        return Document(f"label-{number}.pdf", DOCUMENT_TYPES[name], documents.label_pdf(_label_of(tradein, seller)))
    if name == LABEL_ZPL:
        zpl = documents.label_zpl(_label_of(tradein, seller)).encode()
        return Document(f"label-{number}.zpl", DOCUMENT_TYPES[name], zpl)
    deed = documents.deed_pdf(_deed_of(tradein, seller))
    return Document(f"deed-{tradein.reference}.pdf", DOCUMENT_TYPES[name], deed)


# --- parcels: carrier events and reception ------------------------------------------------------------------


async def _locked_parcel(tracking_number: str) -> dict:
    """The parcel of a tracking number, locked for the rest of the transaction; else 404 `parcel_not_found`."""
    query = ParcelRow.select().where(ParcelRow.tracking_number == tracking_number)
    if not db.is_sqlite():
        query = query.lock_rows("UPDATE")
    parcel = await query.first()
    if parcel is None:
        raise NotFound(f"No parcel has the tracking number {tracking_number}: check it against the label.",
                       code="parcel_not_found")
    return parcel


async def _record_event(parcel_id: uuid.UUID, event: str, occurred_at: dt.datetime, source: str,
                        now: dt.datetime) -> bool:
    """Store one parcel event unless the same event at the same moment is stored already; True when new."""
    occurred_at = occurred_at.astimezone(dt.timezone.utc)
    once_key = f"{parcel_id}:{event}:{occurred_at.isoformat()}"
    stored = await ParcelEventRow.insert(ParcelEventRow(
        parcel=parcel_id, event=event, occurred_at=occurred_at, recorded_at=now, source=source, once_key=once_key,
    )).on_conflict(action="DO NOTHING").returning(ParcelEventRow.id)
    return bool(stored)


async def _advance(parcel: dict, step: str) -> bool:
    """Move the parcel, its trade-in and its pieces forwards to where `step` puts them (never backwards);
    True when the trade-in itself moved."""
    status = model.furthest_parcel_status(parcel["status"], step)
    if status != parcel["status"]:
        await ParcelRow.update({ParcelRow.status: status}).where(ParcelRow.id == parcel["id"])
    target = model.tradein_status_for(status)
    moved = []
    earlier = model.statuses_before(model.TRADEIN_PROGRESS, target)
    if earlier:
        moved = await TradeInRow.update({TradeInRow.status: target}).where(
            TradeInRow.id == parcel["tradein"], TradeInRow.status.is_in(list(earlier))).returning(TradeInRow.id)
    item_target = model.item_status_for(status)
    earlier = model.statuses_before(model.ITEM_PROGRESS, item_target)
    if earlier:
        await TradeInItemRow.update({TradeInItemRow.status: item_target}).where(
            TradeInItemRow.tradein == parcel["tradein"], TradeInItemRow.status.is_in(list(earlier)))
    return bool(moved)


async def record_carrier_event(data: CarrierEventCreate) -> CarrierEventReceipt:
    """A carrier's report on a parcel. Idempotent (each event is stored once) and safe in any order: the parcel
    shows the furthest step reported. A carrier's `delivered` is not the reception: the warehouse scan is."""
    number = _tracking_number(data.tracking_number)
    now = clock.now()
    async with db.write_transaction():
        parcel = await _locked_parcel(number)
        recorded = await _record_event(parcel["id"], data.event, data.occurred_at, "carrier", now)
        moved = await _advance(parcel, data.event)
        status = model.furthest_parcel_status(parcel["status"], data.event)
    if moved:
        tradein = await _load_tradein(parcel["tradein"])
        seller = await _seller_of(parcel["tradein"])
        await _tell_seller(tradein, seller, IN_TRANSIT_MAIL, _in_transit_mail(tradein, seller))
    return CarrierEventReceipt(tracking_number=number, event=data.event, occurred_at=data.occurred_at,
                               recorded=recorded, parcel_status=status)


async def receive_parcel(grader: Principal, data: ReceptionCreate) -> TradeIn:
    """The warehouse scans a parcel in: it is received, its pieces await grading, and the SLA clock starts
    (15 French business days after the reception day, forever.tradein.sla)."""
    number = _tracking_number(data.tracking_number)
    now = clock.now()
    due = sla.sla_due_date(_paris(now).date())
    async with db.write_transaction():
        parcel = await _locked_parcel(number)
        if parcel["received_at"] is not None:
            raise Conflict(f"Parcel {number} was already received on "
                           f"{_paris(parcel['received_at']):%d/%m/%Y at %H:%M} (trade-in "
                           f"{model.tradein_reference(str(parcel['tradein']))}).", code="already_received")
        await ParcelRow.update({ParcelRow.received_at: now, ParcelRow.received_by: uuid.UUID(grader.account_id)}
                               ).where(ParcelRow.id == parcel["id"])
        await _record_event(parcel["id"], model.RECEIVED, now, "warehouse", now)
        await _advance(parcel, model.RECEIVED)
        await TradeInRow.update({TradeInRow.received_at: now, TradeInRow.sla_due_date: due}).where(
            TradeInRow.id == parcel["tradein"])
    tradein = await _load_tradein(parcel["tradein"])
    log.info("parcel %s received: trade-in %s, %d pieces due by %s", number, tradein.id, len(tradein.items), due)
    seller = await _seller_of(parcel["tradein"])
    await _tell_seller(tradein, seller, RECEIVED_MAIL, _received_mail(tradein, seller))
    return await _load_tradein(parcel["tradein"])


async def recent_receptions(limit: int = 10) -> list[TradeInSummary]:
    """The trade-ins whose parcels were received last, newest first (the reception station's log)."""
    received = await ParcelRow.select(ParcelRow.tradein).where(ParcelRow.received_at.is_not_null()).order_by(
        ParcelRow.received_at, ascending=False).limit(limit)
    order = [row["tradein"] for row in received]
    rows = await TradeInRow.select().where(TradeInRow.id.is_in(order)) if order else []
    rows.sort(key=lambda row: order.index(row["id"]))
    return await _summaries(rows)


# --- the warehouse lead's SLA board -------------------------------------------------------------------------

_SLA_ITEMS = """
    SELECT i.id, i.product_ref, i.name, i.declared_condition, i.category, i.season, i.size, i.offer,
           t.id AS tradein_id, t.received_at, t.sla_due_date, t.currency, p.tracking_number
    FROM tradein_item i
    JOIN tradein t ON t.id = i.tradein
    JOIN parcel p ON p.tradein = t.id
    WHERE i.status = {} {}
    ORDER BY t.sla_due_date, i.id
    LIMIT {}
"""


async def sla_board(limit: int = 100, cursor: str | None = None) -> tuple[list[SlaItem], str | None, int, int]:
    """Pieces awaiting grading by business days left to their SLA, the overdue first; with the total and the
    number overdue."""
    items, next_cursor = await pieces_awaiting_grading(limit, cursor)
    today = clock.today()
    total = await TradeInItemRow.count().where(TradeInItemRow.status == model.AWAITING_GRADING)
    return items, next_cursor, total, await pieces_past_sla(today)


async def pieces_past_sla(today: dt.date | None = None) -> int:
    """Pieces still awaiting grading after their trade-in's SLA due date (the board's overdue; /metrics)."""
    return await TradeInItemRow.count().where(TradeInItemRow.status == model.AWAITING_GRADING,
                                              TradeInItemRow.tradein.sla_due_date < (today or clock.today()))


async def pieces_awaiting_grading(limit: int = 20,
                                  cursor: str | None = None) -> tuple[list[SlaItem], str | None]:
    """Pieces awaiting grading, earliest SLA date first (the grading queue and the SLA board)."""
    check_limit(limit)
    after = ""
    args: list[object] = [model.AWAITING_GRADING]
    if cursor is not None:
        due, item_id = decode_cursor(cursor, (str, str))
        try:
            args += [dt.date.fromisoformat(due), dt.date.fromisoformat(due), uuid.UUID(item_id)]
        except ValueError:
            raise InvalidInput("That cursor is not one this list gave out.", code="invalid_cursor") from None
        after = "AND (t.sla_due_date > {} OR (t.sla_due_date = {} AND i.id > {}))"
    rows = await db.fetch(_SLA_ITEMS.format("{}", after, "{}"), *args, limit + 1)
    today = clock.today()
    items = [
        SlaItem(item_id=str(row["id"]), tradein_id=str(row["tradein_id"]),
                reference=model.tradein_reference(str(row["tradein_id"])), product_ref=row["product_ref"],
                name=row["name"], declared_condition=row["declared_condition"],
                tracking_number=row["tracking_number"], received_at=row["received_at"],
                sla_due_date=row["sla_due_date"], business_days_left=sla.business_days_left(today, row["sla_due_date"]),
                overdue=row["sla_due_date"] < today, category=row["category"], season=row["season"],
                size=row["size"], offer=Money(row["offer"], row["currency"]))
        for row in rows[:limit]
    ]
    next_cursor = None
    if len(rows) > limit:
        next_cursor = encode_cursor(items[-1].sla_due_date.isoformat(), items[-1].item_id)
    return items, next_cursor


# --- credited pieces, for the resale shop -------------------------------------------------------------------

_CREDITED_PIECES = """
    SELECT i.id, i.product_ref, i.name, i.category, i.season, i.size, i.grade, i.credited, t.account, t.currency
    FROM tradein_item i JOIN tradein t ON t.id = i.tradein
    WHERE i.status = {} AND i.credited IS NOT NULL
"""


def _credited_piece(row: dict) -> CreditedPiece:
    return CreditedPiece(tradein_item_id=str(row["id"]), seller_id=str(row["account"]),
                         product_ref=row["product_ref"], name=row["name"], category=row["category"],
                         season=row["season"], size=row["size"], grade=row["grade"],
                         credited=Money(row["credited"], row["currency"]))


async def credited_piece(tradein_item_id: str) -> CreditedPiece | None:
    """A credited piece with its final grade and seller; None when the piece is unknown or not credited."""
    try:
        key = uuid.UUID(tradein_item_id)
    except ValueError:
        return None
    rows = await db.fetch(_CREDITED_PIECES + " AND i.id = {}", model.CREDITED, key)
    return _credited_piece(rows[0]) if rows else None


async def credited_piece_ids(after: str | None = None, limit: int = 500) -> list[str]:
    """Ids of every credited piece, in id order after `after`: how the resale shop's sweep pages through them."""
    sql, args = "SELECT id FROM tradein_item WHERE status = {} AND credited IS NOT NULL", [model.CREDITED]
    if after is not None:
        sql, args = sql + " AND id > {}", [*args, uuid.UUID(after)]
    rows = await db.fetch(sql + " ORDER BY id LIMIT {}", *args, limit)
    return [str(row["id"]) for row in rows]


# --- grading's hooks: a piece's status, grade and credit are ours; its decisions are forever.grading's ----

_GRADING_PIECE = """
    SELECT i.id, i.tradein, i.line, i.product_ref, i.name, i.category, i.season, i.size, i.declared_condition,
           i.offer, i.status, i.grade, i.credited, t.account, t.refused_items, t.received_at, t.sla_due_date,
           t.currency, q.grid_version, q.created_at AS quoted_at
    FROM tradein_item i
    JOIN tradein t ON t.id = i.tradein
    JOIN quote q ON q.id = t.quote
    WHERE i.id = {}
"""
# PostgreSQL: the trade-in first, then the piece (parent before child, as every writer of both takes them).
_LOCK_TRADEIN_OF_ITEM = ("SELECT id FROM tradein WHERE id = (SELECT tradein FROM tradein_item WHERE id = {}) "
                         "FOR UPDATE")
_LOCK_ITEM = "SELECT id FROM tradein_item WHERE id = {} FOR UPDATE"


def _item_key(item_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(item_id)
    except ValueError:
        raise NotFound("No such piece.", code="item_not_found") from None


def _grading_piece(row: dict) -> GradingPiece:
    currency = row["currency"]
    tradein_id = str(row["tradein"])
    return GradingPiece(
        id=str(row["id"]), tradein_id=tradein_id, reference=model.tradein_reference(tradein_id),
        account_id=str(row["account"]), line=row["line"], product_ref=row["product_ref"], name=row["name"],
        category=row["category"], season=row["season"], size=row["size"],
        declared_condition=row["declared_condition"], offer=Money(row["offer"], currency),
        status=row["status"], grade=row["grade"],
        credited=Money(row["credited"], currency) if row["credited"] is not None else None,
        refused_items=row["refused_items"], grid_version=row["grid_version"], quoted_at=row["quoted_at"],
        received_at=row["received_at"], sla_due_date=row["sla_due_date"],
        business_days_left=(sla.business_days_left(clock.today(), row["sla_due_date"])
                            if row["sla_due_date"] is not None else None))


async def grading_piece(item_id: str, *, lock: bool = False) -> GradingPiece:
    """One trade-in piece with its offer, its quote's grid and its seller; 404 `item_not_found` if unknown.

    With `lock` (inside the caller's write transaction) its trade-in and the piece stay locked until the end
    of the transaction, so two decisions on one trade-in's pieces never interleave.
    """
    key = _item_key(item_id)
    if lock and not db.is_sqlite():  # SQLite's writer lock already serialises the transaction
        await db.fetch(_LOCK_TRADEIN_OF_ITEM, key)
        await db.fetch(_LOCK_ITEM, key)
    rows = await db.fetch(_GRADING_PIECE, key)
    if not rows:
        raise NotFound("No such piece.", code="item_not_found")
    return _grading_piece(rows[0])


async def lower_grade_offer(piece: GradingPiece, grade: str) -> Money:
    """What a piece earns in a lower condition than declared: priced as its quote was, with its quote's grid
    on its quote's day (a later grid edit or season rollover changes nothing), and never above its offer."""
    grid = await grid_of_version(piece.grid_version)
    product = (await catalog.get_products([piece.product_ref])).get(piece.product_ref)
    if product is None:
        raise Conflict(f"{piece.product_ref} is no longer in the catalog: it cannot be priced.",
                       code="unknown_product")
    as_quoted = Product(ref=piece.product_ref, name=piece.name, category=piece.category, season=piece.season,
                        retail_price=product.retail_price)
    return min(model.offer_for(as_quoted, grade, grid, _paris(piece.quoted_at).date()), piece.offer)


async def settle_piece(piece: GradingPiece, status: str, *, grade: str | None = None,
                       credited: Money | None = None) -> None:
    """Record where grading left a piece, inside the caller's transaction (after `grading_piece(lock=True)`),
    and move its trade-in on once every piece is decided (`graded`) or settled (`closed`)."""
    values: dict = {TradeInItemRow.status: status}
    if grade is not None:
        values[TradeInItemRow.grade] = grade
    if credited is not None:
        values[TradeInItemRow.credited] = credited.amount
    await TradeInItemRow.update(values).where(TradeInItemRow.id == uuid.UUID(piece.id))
    tradein_key = uuid.UUID(piece.tradein_id)
    statuses = await TradeInItemRow.select(TradeInItemRow.status).where(TradeInItemRow.tradein == tradein_key)
    target = model.tradein_status_after_grading([row["status"] for row in statuses])
    if target is not None:
        await TradeInRow.update({TradeInRow.status: target}).where(TradeInRow.id == tradein_key)


async def book_return(piece: GradingPiece) -> ReturnShipment:
    """Book a prepaid parcel sending a piece back to its seller (inside the caller's transaction)."""
    booked_with = carriers.current()
    number = await booked_with.book(carriers.Shipment(
        reference=f"{piece.reference}-{piece.line}", piece_count=1, sender_name="AMI For Ever warehouse",
        sender_country="FR"))
    return ReturnShipment(carrier=booked_with.name, tracking_number=number)


async def write_to_seller(tradein_id: str, kind: str, subject: str, body: str) -> None:
    """E-mail a trade-in's seller (a greeting, `body`, a link to its page) and note it on its timeline."""
    key = _tradein_key(tradein_id)
    tradein = await _load_tradein(key)
    seller = await _seller_of(key)
    text = (f"Hello {seller.first_name},\n\n{body}\n\nFollow your pieces: {_page_link(tradein)}\n\n"
            "AMI For Ever")
    await _tell_seller(tradein, seller, kind, _Mail(subject=subject, text=text))


# --- e-mails to the seller ----------------------------------------------------------------------------------


class _Mail(msgspec.Struct, frozen=True):
    subject: str
    text: str


async def _tell_seller(tradein: TradeIn, seller: Account, kind: str, mail: _Mail,
                       attachments: tuple[notify.Attachment, ...] = ()) -> None:
    """E-mail the seller and note it on the trade-in's timeline. A mail that cannot go out does not undo the
    step it reports: it is logged, and the page still shows everything."""
    try:
        await notify.send(seller.email, mail.subject, mail.text, attachments)
    except Exception:
        log.exception("trade-in %s: the %s e-mail could not be sent", tradein.id, kind)
        return
    async with db.write_transaction():
        await TradeInMessageRow.insert(TradeInMessageRow(tradein=uuid.UUID(tradein.id), kind=kind,
                                                         subject=mail.subject[:200], sent_at=clock.now()))


def _page_link(tradein: TradeIn) -> str:
    return f"{get_settings().public_url}/tradeins/{tradein.id}"


def _pieces_text(tradein: TradeIn) -> str:
    return "\n".join(f"- {item.name or item.product_ref} ({item.product_ref}), declared "
                     f"{item.declared_condition.replace('_', ' ')}: {item.offer.format()}" for item in tradein.items)


def _acceptance_mail(tradein: TradeIn, seller: Account) -> _Mail:
    count = len(tradein.items)
    refused = ("sent back to you free of charge" if tradein.refused_items == "return" else "donated")
    assert tradein.total_offer is not None
    return _Mail(
        subject=f"Your AMI For Ever trade-in {tradein.reference}: label and transfer deed",
        text=(
            f"Hello {seller.first_name},\n\n"
            f"Thank you: you accepted our offer of {tradein.total_offer.format()} in store credit for {count} "
            f"piece{'s' if count > 1 else ''}.\n\n"
            "1. Print the prepaid label (attached) and stick it on your parcel.\n"
            "2. Print the transfer deed (attached), date and sign it, and put it in the parcel with your pieces.\n"
            "3. Drop the parcel off at a post office, a Pickup relay or a Chronopost agency by "
            f"{documents.french_date(tradein.parcel.ship_by)}, and keep the stamped receipt.\n\n"
            f"Tracking number: {s10.spaced(tradein.parcel.tracking_number)}\n\n"
            f"Your pieces:\n{_pieces_text(tradein)}\n\n"
            "Our quality experts check each piece within 15 business days of its arrival; your credit lands piece "
            f"by piece. Pieces they refuse will be {refused}, as you chose.\n\n"
            f"Follow your trade-in, and download the label and the deed again: {_page_link(tradein)}\n\n"
            "AMI For Ever"
        ))


def _in_transit_mail(tradein: TradeIn, seller: Account) -> _Mail:
    number = tradein.parcel.tracking_number
    return _Mail(
        subject=f"Your parcel {number} is on its way",
        text=(
            f"Hello {seller.first_name},\n\n"
            f"The carrier has your parcel {s10.spaced(number)} (trade-in {tradein.reference}). We will write again "
            "as soon as our warehouse receives it.\n\n"
            f"Follow it: {_page_link(tradein)}\n\nAMI For Ever"
        ))


def _received_mail(tradein: TradeIn, seller: Account) -> _Mail:
    count = len(tradein.items)
    assert tradein.sla_due_date is not None
    return _Mail(
        subject=f"We received your parcel {tradein.parcel.tracking_number}",
        text=(
            f"Hello {seller.first_name},\n\n"
            f"Our warehouse received your parcel {s10.spaced(tradein.parcel.tracking_number)} (trade-in "
            f"{tradein.reference}). Our quality experts will check your {count} piece{'s' if count > 1 else ''} "
            f"and you will hear from us by {documents.french_date(tradein.sla_due_date)} at the latest "
            "(15 business days). Your credit lands piece by piece as each is validated.\n\n"
            f"Follow your pieces: {_page_link(tradein)}\n\nAMI For Ever"
        ))


# --- privacy: a seller's export, erasure and activity (forever.accounts.privacy) ---------------------------

EXPORT_BATCH = 500


async def quotes_of(account_id: str) -> list[Quote]:
    """Every quote of a seller with its lines, oldest first (their data export)."""
    rows = await QuoteRow.select().where(QuoteRow.account == uuid.UUID(account_id)).order_by(
        QuoteRow.created_at, QuoteRow.id)
    lines: dict[uuid.UUID, list[dict]] = {}
    for start in range(0, len(rows), EXPORT_BATCH):
        keys = [row["id"] for row in rows[start:start + EXPORT_BATCH]]
        for line in await QuoteLineRow.select().where(QuoteLineRow.quote.is_in(keys)).order_by(
                QuoteLineRow.line).output(load_json=True):
            lines.setdefault(line["quote"], []).append(line)
    now = clock.now()
    return [_to_quote(row, lines.get(row["id"], []), now) for row in rows]


async def tradein_ids_of(account_id: str) -> list[str]:
    """The ids of a seller's trade-ins, oldest first."""
    rows = await TradeInRow.select(TradeInRow.id).where(TradeInRow.account == uuid.UUID(account_id)).order_by(
        TradeInRow.created_at, TradeInRow.id)
    return [str(row["id"]) for row in rows]


async def unfinished_tradeins(account_id: str, today: dt.date | None = None) -> list[TradeInSummary]:
    """A seller's trade-ins whose pieces may still reach the warehouse or be credited: on their way, in
    grading, awaiting an answer or a return, or not sent yet while the label is valid (its ship-by day not past).
    While one is, the seller's data cannot be erased: credit would land on nobody's account."""
    today = today or clock.today()
    rows = await TradeInRow.select().where(TradeInRow.account == uuid.UUID(account_id),
                                           TradeInRow.status != model.CLOSED).order_by(TradeInRow.created_at)
    return [summary for summary in await _summaries(rows)
            if summary.status != model.AWAITING_SHIPMENT or summary.ship_by >= today]


async def last_activity(account_id: str) -> dt.datetime | None:
    """When the seller last asked for a quote or accepted one (None if never)."""
    key = uuid.UUID(account_id)
    quote = await QuoteRow.select(QuoteRow.created_at).where(QuoteRow.account == key).order_by(
        QuoteRow.created_at, ascending=False).first()
    tradein = await TradeInRow.select(TradeInRow.created_at).where(TradeInRow.account == key).order_by(
        TradeInRow.created_at, ascending=False).first()
    moments = [row["created_at"] for row in (quote, tradein) if row is not None]
    return max(moments, default=None)
