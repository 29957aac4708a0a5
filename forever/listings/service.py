"""Use cases of the resale shop's stock and listings: credited pieces entering stock, refurbishment, photos,
prices and publication (staff); search, facets and a piece's page (anyone). Orders and returns are in
forever.listings.orders.

Search reads one denormalised table through partial composite indexes (see tables.py and the app's second
migration): the SQL is written out so that each filter and sort lands on its index, with the live status as a
literal (a partial index is only used when the query itself names its condition).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2

from forever import clock, db
from forever.accounts.schemas import Principal
from forever.catalog import service as catalog
from forever.catalog.model import ACCEPTED_CONDITIONS, CATEGORIES, Season, fold, is_season
from forever.errors import Conflict, InvalidInput, NotFound
from forever.grading import intake
from forever.grading import service as grading
from forever.idempotency import service as idempotency
from forever.idempotency.service import Claim
from forever.listings import model
from forever.listings.schemas import (
    ConditionInfo,
    FacetCount,
    Facets,
    Listing,
    ListingPage,
    ListingQuery,
    ListingSummary,
    ListingUpdate,
    Passport,
    PassportFinding,
    PassportPhoto,
    PhotoOut,
    PriceBandCount,
    StepUpdate,
    StockEvent,
    StockPage,
    StockPiece,
    StockSummary,
)
from forever.listings.tables import Listing as ListingRow
from forever.listings.tables import ListingEvent, ListingPhoto, ShelfSerial
from forever.money import Money
from forever.pagination import check_limit, decode_cursor, encode_cursor
from forever.settings import get_settings
from forever.tradein import service as tradein

log = logging.getLogger("forever.listings")

SYSTEM_ACTOR = "system"
PHOTO_MEDIA_TYPE = "image/jpeg"
PHOTO_LONG_SIDE = 2400  # listing photos are kept at most this many pixels on their long side
PHOTO_QUALITY = 88
SWEEP_BATCH = 500

GRID_RECHECK_SECONDS = 1.0
_grid_cache: dict[Path, tuple[float, float, model.ResaleGrid]] = {}


def current_grid(path: Path = model.DEFAULT_GRID_PATH) -> model.ResaleGrid:
    """The resale grid in force: the business's file, re-read within a second of a change on disk."""
    cached = _grid_cache.get(path)
    checked = time.monotonic()
    if cached is not None and checked - cached[1] < GRID_RECHECK_SECONDS:
        return cached[2]
    mtime = path.stat().st_mtime
    grid = cached[2] if cached is not None and cached[0] == mtime else model.load_grid(path)
    _grid_cache[path] = (mtime, checked, grid)
    return grid


def actor_of(principal: Principal) -> str:
    if principal.kind == "system":
        return f"apikey:{principal.api_key_id}"
    return f"account:{principal.account_id}"


def _eur(cents: int) -> Money:
    return Money(cents, model.CURRENCY)


def listing_key(listing_id: str) -> uuid.UUID:
    """The key of a listing id; anything else is 404 `listing_not_found`."""
    try:
        return uuid.UUID(listing_id)
    except (TypeError, ValueError):
        raise NotFound("No such piece.", code="listing_not_found") from None


def photo_url(listing_id: object, photo_id: object) -> str:
    return f"/api/v1/listings/{listing_id}/photos/{photo_id}"


async def record_event(listing_id: uuid.UUID, kind: str, actor: str, detail: str = "") -> None:
    await ListingEvent.insert(ListingEvent(listing=listing_id, kind=kind, actor=actor, detail=detail[:500],
                                           occurred_at=clock.now()))


# --- credited pieces enter stock ------------------------------------------------------------------------------


async def enter_stock(tradein_item_id: str) -> None:
    """Put a credited piece in stock, its listing filled in from the catalog and its grading: the seller
    writes nothing. Idempotent: a piece already in stock is left as it is. Grading calls it once a piece is
    credited; the `stock_credited_pieces` job catches any piece it missed."""
    if await ListingRow.exists().where(ListingRow.tradein_item == tradein_item_id):
        return
    piece = await tradein.credited_piece(tradein_item_id)
    if piece is None:
        raise Conflict(f"Trade-in piece {tradein_item_id} is not credited: it cannot enter stock.",
                       code="piece_not_credited")
    product = (await catalog.get_products([piece.product_ref])).get(piece.product_ref)
    if product is None:
        raise Conflict(f"Product {piece.product_ref} is not in the catalog.", code="unknown_product")
    grid = current_grid()
    grid_price = grid.price(product.retail_price, product.category, piece.grade, product.season,
                            clock.today())
    size = piece.size or (product.sizes[0] if len(product.sizes) == 1 else None)
    listing_id = uuid.uuid4()
    async with db.write_transaction():
        inserted = await ListingRow.insert(ListingRow(
            id=listing_id, tradein_item=tradein_item_id, seller=uuid.UUID(piece.seller_id),
            product_ref=product.ref, name=product.name, name_key=fold(product.name),
            category=product.category,
            season=product.season, colour=product.color, materials=list(product.materials), size=size,
            condition=piece.grade, retail_price=product.retail_price, grid_price=grid_price,
            grid_version=grid.version, price=grid_price, currency=model.CURRENCY, status=model.STOCK,
            entered_at=clock.now(),
        )).on_conflict(action="DO NOTHING").returning(ListingRow.id)
        if inserted:
            await record_event(listing_id, "entered_stock", SYSTEM_ACTOR,
                               f"trade-in piece {tradein_item_id}, graded {piece.grade}")
    if inserted:
        log.info("piece %s entered stock as listing %s", tradein_item_id, listing_id)


async def stock_credited_pieces() -> int:
    """Put in stock every credited piece that is not there yet (a crash between credit and stock); returns how
    many. Pages through the credited pieces in id order, so each run sees every one."""
    stocked, after = 0, None
    while True:
        ids = await tradein.credited_piece_ids(after=after, limit=SWEEP_BATCH)
        if not ids:
            return stocked
        placeholders = ", ".join(["{}"] * len(ids))
        known = {row["tradein_item"] for row in await db.fetch(
            f"SELECT tradein_item FROM listing WHERE tradein_item IN ({placeholders})", *ids)}
        for item_id in ids:
            if item_id not in known:
                try:
                    await enter_stock(item_id)
                except Conflict:
                    log.exception("credited piece %s could not enter stock", item_id)
                    continue
                stocked += 1
        after = ids[-1]


# --- the warehouse: refurbishment, photos, price, publication -------------------------------------------------

_STEP_COLUMNS = {model.CLEANED: ListingRow.cleaned_at, model.PRESSED: ListingRow.pressed_at,
                 model.RETAGGED: ListingRow.retagged_at, model.PHOTOGRAPHED: ListingRow.photographed_at}


def _steps(row: dict) -> dict[str, bool]:
    return {step: row[f"{step}_at"] is not None for step in model.STEPS}


def _missing(row: dict, photo_count: int, size_choices: Sequence[str]) -> list[str]:
    """What stands between a stock piece and the shop: unticked steps, photos, a size to choose."""
    missing = model.missing_steps(_steps(row))
    if photo_count == 0:
        missing.append("photos")
    if row["size"] is None and len(size_choices) > 1:
        missing.append("size")
    return missing


async def _locked_listing(key: uuid.UUID) -> dict:
    """A listing row, locked for the rest of the transaction (PostgreSQL; SQLite has one writer)."""
    if not db.is_sqlite():
        await db.fetch("SELECT id FROM listing WHERE id = {} FOR UPDATE", key)
    row = await ListingRow.select().where(ListingRow.id == key).output(load_json=True).first()
    if row is None:
        raise NotFound("No such piece.", code="listing_not_found")
    return row


async def _photos(key: uuid.UUID) -> list[dict]:
    return await ListingPhoto.select().where(ListingPhoto.listing == key).order_by(ListingPhoto.position)


def _photo_out(photo: dict) -> PhotoOut:
    return PhotoOut(id=str(photo["id"]), url=photo_url(photo["listing"], photo["id"]), width=photo["width"],
                    height=photo["height"])


async def _size_choices(product_ref: str) -> tuple[str, ...]:
    product = (await catalog.get_products([product_ref])).get(product_ref)
    return product.sizes if product else ()


async def get_stock_piece(listing_id: str) -> StockPiece:
    """A piece as the warehouse sees it, with what is missing before it can go live."""
    key = listing_key(listing_id)
    row = await ListingRow.select().where(ListingRow.id == key).output(load_json=True).first()
    if row is None:
        raise NotFound("No such piece.", code="listing_not_found")
    photos = await _photos(key)
    choices = await _size_choices(row["product_ref"])
    events = await ListingEvent.select().where(ListingEvent.listing == key).order_by(
        ListingEvent.occurred_at, ListingEvent.id)
    return StockPiece(
        id=str(row["id"]), tradein_item_id=row["tradein_item"], status=row["status"],
        product_ref=row["product_ref"], name=row["name"], category=row["category"], season=row["season"],
        size=row["size"], size_choices=list(choices), colour=row["colour"], materials=list(row["materials"]),
        condition=row["condition"], retail_price=_eur(row["retail_price"]),
        grid_price=_eur(row["grid_price"]),
        grid_version=row["grid_version"], price=_eur(row["price"]), price_overridden=row["price_overridden"],
        steps={step: row[f"{step}_at"] for step in model.STEPS}, photos=[_photo_out(p) for p in photos],
        missing=_missing(row, len(photos), choices) if row["status"] == model.STOCK else [],
        entered_at=row["entered_at"], published_at=row["published_at"],
        sold_order_id=str(row["sold_order"]) if row["sold_order"] else None,
        events=[StockEvent(kind=e["kind"], actor=e["actor"], detail=e["detail"], occurred_at=e["occurred_at"])
                for e in events])


async def list_stock(status: str | None = model.STOCK, limit: int = 20,
                     cursor: str | None = None) -> StockPage:
    """Pieces by status (default: in stock, being refurbished), newest arrivals first."""
    check_limit(limit)
    if status is not None and status not in model.LISTING_STATUSES:
        raise _unknown("status", status, model.LISTING_STATUSES)
    sql, args = "SELECT * FROM listing WHERE status = {}", [status or model.STOCK]
    if cursor is not None:
        entered_at, row_id = decode_cursor(cursor, (str, str))
        try:
            after, after_id = dt.datetime.fromisoformat(entered_at), uuid.UUID(row_id)
        except ValueError:
            raise InvalidInput("That cursor is not one this list gave out.", code="invalid_cursor") from None
        sql += " AND (entered_at < {} OR (entered_at = {} AND id < {}))"
        args += [after, after, after_id]
    rows = await db.fetch(sql + " ORDER BY entered_at DESC, id DESC LIMIT {}", *args, limit + 1)
    page = rows[:limit]
    counts: dict = {}
    if page:
        keys = [row["id"] for row in page]
        for photo in await ListingPhoto.select(ListingPhoto.listing).where(ListingPhoto.listing.is_in(keys)):
            counts[photo["listing"]] = counts.get(photo["listing"], 0) + 1
    items = [StockSummary(id=str(row["id"]), status=row["status"], name=row["name"],
                          product_ref=row["product_ref"], category=row["category"], size=row["size"],
                          condition=row["condition"], price=_eur(row["price"]),
                          missing=(_missing(row, counts.get(row["id"], 0), ())
                                   if row["status"] == model.STOCK else []),
                          entered_at=row["entered_at"])
             for row in page]
    next_cursor = None
    if len(rows) > limit:
        next_cursor = encode_cursor(page[-1]["entered_at"].isoformat(), str(page[-1]["id"]))
    return StockPage(items=items, next_cursor=next_cursor)


def _in_stock(row: dict) -> None:
    if row["status"] != model.STOCK:
        raise Conflict(f"This piece is {row['status']}: only pieces in stock are refurbished and edited.",
                       code="not_in_stock")


async def tick_step(staff: Principal, listing_id: str, data: StepUpdate) -> StockPiece:
    """Tick (or untick) a refurbishment step. `photographed` needs a listing photo first."""
    key = listing_key(listing_id)
    async with db.write_transaction():
        row = await _locked_listing(key)
        _in_stock(row)
        if data.step == model.PHOTOGRAPHED and data.done and not await _photos(key):
            raise Conflict("Add the piece's photos before ticking it photographed.", code="photos_missing")
        await ListingRow.update({_STEP_COLUMNS[data.step]: clock.now() if data.done else None}).where(
            ListingRow.id == key)
        await record_event(key, f"{data.step}" if data.done else f"{data.step}_undone", actor_of(staff))
    return await get_stock_piece(listing_id)


def _photo_dir() -> Path:
    return get_settings().data_dir / "listing-photos"


def _photo_path(listing: uuid.UUID, photo: uuid.UUID) -> Path:
    return _photo_dir() / str(listing) / f"{photo}.jpg"


def _listing_jpeg(data: bytes) -> tuple[bytes, int, int]:
    """An upload as the shop serves it: checked by the grading station's intake (caps, allow-list, structure),
    decoded upright, at most PHOTO_LONG_SIDE pixels on its long side, re-encoded as JPEG without metadata (a
    phone's EXIF may carry where the photo was taken)."""
    header = intake.read_header(data)
    long_side = max(header.width, header.height)
    reduction = next((factor for factor in (8, 4, 2) if long_side // factor >= PHOTO_LONG_SIDE), 1)
    image = intake.decode(data, header, reduction=reduction)
    height, width = image.shape[:2]
    if max(width, height) > PHOTO_LONG_SIDE:
        scale = PHOTO_LONG_SIDE / max(width, height)
        image = cv2.resize(image, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
        height, width = image.shape[:2]
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, PHOTO_QUALITY])
    if not ok:
        raise InvalidInput("The photo could not be stored.", code=intake.UNREADABLE_IMAGE)
    return encoded.tobytes(), width, height


async def add_photo(staff: Principal, listing_id: str, data: bytes, *,
                    claim: Claim | None = None) -> StockPiece:
    """Add a listing photo (JPEG, PNG or WebP; the grading station's caps). The first one is the cover."""
    key = listing_key(listing_id)
    await get_stock_piece(listing_id)  # 404 before any decoding
    jpeg, width, height = await asyncio.to_thread(_listing_jpeg, data)
    photo_id = uuid.uuid4()
    path = _photo_path(key, photo_id)
    await asyncio.to_thread(grading.write_photo, path, jpeg)  # whole or not at all: a full disk is 507
    try:
        async with db.write_transaction():
            row = await _locked_listing(key)
            _in_stock(row)
            photos = await _photos(key)
            if len(photos) >= model.MAX_LISTING_PHOTOS:
                raise Conflict(f"A listing has at most {model.MAX_LISTING_PHOTOS} photos.",
                               code="too_many_photos")
            await ListingPhoto.insert(ListingPhoto(
                id=photo_id, listing=key, position=max((p["position"] for p in photos), default=-1) + 1,
                width=width, height=height, byte_size=len(jpeg), uploaded_at=clock.now(),
                uploaded_by=uuid.UUID(staff.account_id)))
            if row["cover_photo"] is None:
                await ListingRow.update({ListingRow.cover_photo: photo_id}).where(ListingRow.id == key)
            await record_event(key, "photo_added", actor_of(staff), str(photo_id))
            piece = await get_stock_piece(listing_id)
            await idempotency.record(claim, piece)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return piece


async def remove_photo(staff: Principal, listing_id: str, photo_id: str, *,
                       claim: Claim | None = None) -> StockPiece:
    """Take a photo off a stock piece's listing; the next one becomes the cover."""
    key = listing_key(listing_id)
    photo_key = _photo_key(photo_id)
    async with db.write_transaction():
        row = await _locked_listing(key)
        _in_stock(row)
        gone = await ListingPhoto.delete().where(ListingPhoto.id == photo_key, ListingPhoto.listing == key
                                                 ).returning(ListingPhoto.id)
        if not gone:
            raise NotFound("No such photo.", code="photo_not_found")
        remaining = await _photos(key)
        values: dict = {ListingRow.cover_photo: remaining[0]["id"] if remaining else None}
        if not remaining:
            values[ListingRow.photographed_at] = None
        await ListingRow.update(values).where(ListingRow.id == key)
        await record_event(key, "photo_removed", actor_of(staff), photo_id)
        piece = await get_stock_piece(listing_id)
        await idempotency.record(claim, piece)
    _photo_path(key, photo_key).unlink(missing_ok=True)
    return piece


async def update_listing(staff: Principal, listing_id: str, data: ListingUpdate) -> StockPiece:
    """Staff's changes: a price of their own (EUR, above zero, never above retail) or back to the grid's, and
    the size when the catalog offers several."""
    key = listing_key(listing_id)
    if data.price is not None and data.reset_price:
        raise InvalidInput("Give a price or reset it to the grid's, not both.", code="conflicting_fields",
                           errors=[{"field": "reset_price", "message": "not with price"}])
    async with db.write_transaction():
        row = await _locked_listing(key)
        if row["status"] not in (model.STOCK, model.LIVE):
            raise Conflict(f"This piece is {row['status']}: its listing cannot change now.",
                           code="not_in_stock")
        values: dict = {}
        if data.price is not None:
            _check_price(data.price, row["retail_price"])
            values.update({ListingRow.price: data.price.amount, ListingRow.price_overridden: True})
            await record_event(key, "repriced", actor_of(staff), f"{_eur(row['price']).format()} -> "
                               f"{data.price.format()}")
        if data.reset_price:
            values.update({ListingRow.price: row["grid_price"], ListingRow.price_overridden: False})
            await record_event(key, "repriced", actor_of(staff),
                               f"back to the grid's {_eur(row['grid_price']).format()}")
        if data.size is not None:
            choices = await _size_choices(row["product_ref"])
            if data.size not in choices:
                raise InvalidInput(f"{row['product_ref']} comes in {', '.join(choices) or 'one size'}.",
                                   code="invalid_size",
                                   errors=[{"field": "size", "message": "not a size of it"}])
            values[ListingRow.size] = data.size
            await record_event(key, "size_set", actor_of(staff), data.size)
        if values:
            await ListingRow.update(values).where(ListingRow.id == key)
    return await get_stock_piece(listing_id)


def _check_price(price: Money, retail: int) -> None:
    if price.currency != model.CURRENCY:
        raise InvalidInput("The shop sells in EUR.", code="currency_not_supported",
                           errors=[{"field": "price.currency", "message": "EUR only"}])
    if not 0 < price.amount <= retail:
        raise InvalidInput(f"A price is above zero and at most the retail price ({_eur(retail).format()}).",
                           code="invalid_price",
                           errors=[{"field": "price.amount", "message": "out of range"}])


async def publish(staff: Principal, listing_id: str, *, claim: Claim | None = None) -> StockPiece:
    """Put a refurbished piece on sale: every step ticked, photos, a size. 409 `not_ready` lists what is
    missing."""
    key = listing_key(listing_id)
    async with db.write_transaction():
        row = await _locked_listing(key)
        _in_stock(row)
        missing = _missing(row, len(await _photos(key)), await _size_choices(row["product_ref"]))
        if missing:
            raise Conflict(f"This piece is not ready for the shop: {', '.join(missing)} missing.",
                           code="not_ready",
                           errors=[{"field": item, "message": "missing"} for item in missing])
        serial = await ShelfSerial.insert(ShelfSerial(issued_at=clock.now())).returning(ShelfSerial.id)
        await ListingRow.update({ListingRow.status: model.LIVE, ListingRow.published_at: clock.now(),
                                 ListingRow.shelf_seq: serial[0]["id"]}).where(ListingRow.id == key)
        await record_event(key, "published", actor_of(staff), _eur(row["price"]).format())
        piece = await get_stock_piece(listing_id)
        await idempotency.record(claim, piece)
    _facets_cache.clear()  # staff who just published expect the piece's category among the filters
    log.info("listing %s is live at %d", key, row["price"])
    return piece


async def unpublish(staff: Principal, listing_id: str, *, claim: Claim | None = None) -> StockPiece:
    """Take a live piece off the shop, back to stock (a defect noticed, a photo to retake)."""
    key = listing_key(listing_id)
    async with db.write_transaction():
        row = await _locked_listing(key)
        if row["status"] != model.LIVE:
            raise Conflict(f"This piece is {row['status']}, not live.", code="not_live")
        await ListingRow.update({ListingRow.status: model.STOCK, ListingRow.shelf_seq: None,
                                 ListingRow.published_at: None}).where(ListingRow.id == key)
        await record_event(key, "unpublished", actor_of(staff))
        piece = await get_stock_piece(listing_id)
        await idempotency.record(claim, piece)
    _facets_cache.clear()
    return piece


# --- the shop: search and facets ------------------------------------------------------------------------------

def _unknown(field: str, value: object, allowed: Sequence[str] | None = None) -> InvalidInput:
    hint = f"one of {', '.join(allowed)}" if allowed else "not a value this filter knows"
    return InvalidInput(f"Unknown {field} {value!r}: {hint}.", code=f"invalid_{field}",
                        errors=[{"field": field, "message": hint}])


async def _known_size(size: str) -> bool:
    """A size some product of the catalog comes in, or one a live piece carries (a seller's declared size is
    kept even where the catalog lists none: its piece is still found by it)."""
    if size in await catalog.sizes():
        return True
    return bool(await db.fetch(f"SELECT 1 FROM listing WHERE {_LIVE} AND size = {{}} LIMIT 1", size))


async def _checked(query: ListingQuery) -> ListingQuery:
    """The query, or 422 naming the first unknown filter value or sort."""
    if query.category is not None and query.category not in model.RESALE_CATEGORIES:
        raise _unknown("category", query.category, model.RESALE_CATEGORIES)
    if query.condition is not None and query.condition not in ACCEPTED_CONDITIONS:
        raise _unknown("condition", query.condition, ACCEPTED_CONDITIONS)
    if query.season is not None and not is_season(query.season):
        raise _unknown("season", query.season, ["SS<yy>", "FW<yy>"])
    if query.size is not None:
        if not (model.SIZE_PATTERN.match(query.size) and await _known_size(query.size)):
            raise _unknown("size", query.size)
    if query.sort not in model.SORTS:
        raise _unknown("sort", query.sort, model.SORTS)
    for field in ("min_price", "max_price"):
        value = getattr(query, field)
        if value is not None and value < 0:
            raise InvalidInput(f"{field} is in cents, 0 or more.", code="invalid_price",
                               errors=[{"field": field, "message": "0 or more"}])
    if query.min_price is not None and query.max_price is not None and query.min_price > query.max_price:
        raise InvalidInput("min_price is above max_price.", code="invalid_price",
                           errors=[{"field": "min_price", "message": "above max_price"}])
    check_limit(query.limit)
    return query


_LIVE = f"status = '{model.LIVE}'"  # a literal: the partial indexes are only used when the query names it


_DIMENSIONS = ("category", "size", "condition", "season")


def _filters(query: ListingQuery, *, dimensions: bool = True,
             price: bool = True) -> tuple[list[str], list[object]]:
    """WHERE clauses and their arguments for the filters of `query`: the name's words always, the dimensions
    (category, size, condition, season) and the price range unless left out (facets count across them)."""
    clauses, args = [_LIVE], []
    for field in _DIMENSIONS if dimensions else ():
        value = getattr(query, field)
        if value is not None:
            clauses.append(f"{field} = {{}}")
            args.append(value)
    if price:
        if query.min_price is not None:
            clauses.append("price >= {}")
            args.append(query.min_price)
        if query.max_price is not None:
            clauses.append("price <= {}")
            args.append(query.max_price)
    for word in model.search_words(query.q):
        clauses.append("name_key LIKE {}")
        args.append(f"%{word}%")
    return clauses, args


# sort -> (ORDER BY, keyset condition after a cursor's values, how many values the cursor carries)
_ORDER = {
    model.NEWEST: ("shelf_seq DESC", "shelf_seq < {}", 1),
    model.PRICE_ASC: ("price, shelf_seq", "price >= {} AND (price > {} OR shelf_seq > {})", 2),
    model.PRICE_DESC: ("price DESC, shelf_seq DESC", "price <= {} AND (price < {} OR shelf_seq < {})", 2),
}
_SUMMARY_COLUMNS = ("id, name, category, season, size, condition, colour, price, retail_price, cover_photo, "
                    "published_at, shelf_seq")


def search_sql(query: ListingQuery) -> tuple[str, list[object]]:
    """The one statement a page of results is (the benchmark runs it bare, beside `search_listings`)."""
    clauses, args = _filters(query)
    order, after, values = _ORDER[query.sort]
    if query.cursor is not None:
        sort, *key = decode_cursor(query.cursor, (str,) + (int,) * values)
        if sort != query.sort:
            raise InvalidInput("That cursor belongs to another sort order.", code="invalid_cursor",
                               errors=[{"field": "cursor", "message": "another sort"}])
        clauses.append(after)
        args += [key[0]] if values == 1 else [key[0], key[0], key[1]]
    sql = (f"SELECT {_SUMMARY_COLUMNS} FROM listing WHERE {' AND '.join(clauses)} "
           f"ORDER BY {order} LIMIT {query.limit + 1}")
    return sql, args


def _cursor_after(query: ListingQuery, row: dict) -> str:
    if query.sort == model.NEWEST:
        return encode_cursor(query.sort, row["shelf_seq"])
    return encode_cursor(query.sort, row["price"], row["shelf_seq"])


def _summary(row: dict) -> ListingSummary:
    cover = photo_url(row["id"], row["cover_photo"]) if row["cover_photo"] else None
    return ListingSummary(id=str(row["id"]), name=row["name"], category=row["category"], season=row["season"],
                          size=row["size"], condition=row["condition"], colour=row["colour"],
                          price=_eur(row["price"]), retail_price=_eur(row["retail_price"]),
                          cover_photo_url=cover, published_at=row["published_at"])


async def search_listings(query: ListingQuery) -> ListingPage:
    """Live pieces matching every filter (each word of `q` in the name, accents and case ignored), sorted
    newest first or by price, a keyset page at a time. 422 for an unknown filter value, sort or cursor."""
    sql, args = search_sql(await _checked(query))
    rows = await db.fetch(sql, *args)
    page = rows[:query.limit]
    next_cursor = _cursor_after(query, page[-1]) if len(rows) > query.limit else None
    return ListingPage(items=[_summary(row) for row in page], next_cursor=next_cursor)


FACETS_CACHE_SECONDS = 20.0
FACETS_CACHE_ENTRIES = 2048
# (database, what, filters) -> (when, counts). Counts are for the filter list, not for money: seconds old is
# fine, and a count over every live piece is the most expensive query the shop makes (bench/listings.py).
_facets_cache: dict[tuple, tuple[float, object]] = {}

_BAND_CASE = "CASE " + " ".join(
    f"WHEN price < {high} THEN {index}"
    for index, (_, high) in enumerate(model.PRICE_BANDS) if high is not None
) + f" ELSE {len(model.PRICE_BANDS) - 1} END"
# Grouped in the facet index's own order, the counts stream out of it without a sort (measured: a fifth of the
# time of the same grouping with the price band in it).
_CUBE = "SELECT category, size, condition, season, COUNT(*) AS n FROM listing WHERE {} " \
        "GROUP BY category, size, condition, season"
_BANDS = f"SELECT {_BAND_CASE} AS band, COUNT(*) AS n FROM listing WHERE {{}} GROUP BY 1"


async def _cached(key: tuple, compute):
    """`compute()`'s answer for `key`, at most FACETS_CACHE_SECONDS old."""
    key = (get_settings().database_url, *key)
    cached = _facets_cache.get(key)
    now = time.monotonic()
    if cached is not None and now - cached[0] < FACETS_CACHE_SECONDS:
        return cached[1]
    answer = await compute()
    if len(_facets_cache) >= FACETS_CACHE_ENTRIES:
        _facets_cache.clear()
    _facets_cache[key] = (now, answer)
    return answer


async def _cube(query: ListingQuery) -> list[dict]:
    """Live pieces counted by every combination of category, size, condition and season (the name's words and
    the price range applied): one pass over the facet index (see its migration) serves the four facets of
    every choice of those four filters, so it is kept (FACETS_CACHE_SECONDS) for all of them."""
    clauses, args = _filters(query, dimensions=False)
    return await _cached(("cube", query.q, query.min_price, query.max_price),
                         lambda: db.fetch(_CUBE.format(" AND ".join(clauses)), *args))


def _tally(cells: Sequence[dict], query: ListingQuery, dimension: str) -> dict[str, int]:
    """Counts by `dimension` of the cells that match every dimension filter but its own."""
    counts: dict[str, int] = {}
    others = [(field, getattr(query, field)) for field in _DIMENSIONS
              if field != dimension and getattr(query, field) is not None]
    for cell in cells:
        value = cell[dimension]
        if value is not None and all(cell[field] == wanted for field, wanted in others):
            counts[value] = counts.get(value, 0) + cell["n"]
    return counts


async def _bands(query: ListingQuery) -> dict[str, int]:
    """Live pieces by price band, every filter applied but the price range."""
    clauses, args = _filters(query, price=False)
    rows = await _cached(("bands", query.q, *(getattr(query, field) for field in _DIMENSIONS)),
                         lambda: db.fetch(_BANDS.format(" AND ".join(clauses)), *args))
    return {str(row["band"]): row["n"] for row in rows}


def _counts(counts: dict[str, int], order: Sequence[str] | None = None) -> list[FacetCount]:
    values = [value for value in order if value in counts] if order else sorted(counts)
    return [FacetCount(value=value, count=counts[value]) for value in values]


async def listing_facets(query: ListingQuery) -> Facets:
    """How many live pieces each filter value would show, the other filters applied: the shop's filter list.
    Counts may be up to FACETS_CACHE_SECONDS old."""
    await _checked(query)
    cells = await _cube(query)
    category, size = _tally(cells, query, "category"), _tally(cells, query, "size")
    condition, season = _tally(cells, query, "condition"), _tally(cells, query, "season")
    bands = await _bands(query)
    total = sum(cell["n"] for cell in cells if all(getattr(query, field) in (None, cell[field])
                                                    for field in _DIMENSIONS))
    seasons = sorted(season, key=lambda code: Season(code).ordinal, reverse=True)
    return Facets(
        total=total, category=_counts(category, CATEGORIES), size=_counts(size),
        condition=_counts(condition, ACCEPTED_CONDITIONS), season=_counts(season, seasons),
        price=[PriceBandCount(label=model.price_band_label(low, high), min_price=low, max_price=high,
                              count=bands.get(str(index), 0))
               for index, (low, high) in enumerate(model.PRICE_BANDS)])


# --- the shop: a piece's page and its photos ------------------------------------------------------------------


def condition_info(code: str) -> ConditionInfo:
    title, english, french = model.CONDITION_DEFINITIONS[code]
    return ConditionInfo(code=code, title=title, definition=english, definition_fr=french)


def passport_photo_url(listing_id: object, photo_id: object) -> str:
    return f"/api/v1/listings/{listing_id}/passport/photos/{photo_id}"


async def _passport(row: dict) -> Passport | None:
    found = await grading.passport(row["tradein_item"])
    if found is None:
        return None
    return Passport(grade=found.grade, graded_at=found.graded_at, photos=[
        PassportPhoto(id=photo.photo_id, view=photo.view, url=passport_photo_url(row["id"], photo.photo_id),
                      width=photo.width, height=photo.height,
                      findings=[PassportFinding(kind=f.kind, bbox=list(f.bbox), score=f.score,
                                                severity=f.severity)
                                for f in photo.findings])
        for photo in found.photos])


async def _shown_listing(key: uuid.UUID) -> dict:
    """A listing a buyer may see (live, reserved or sold); a piece still in stock is not found."""
    row = await ListingRow.select().where(ListingRow.id == key).output(load_json=True).first()
    if row is None or row["status"] not in model.SHOWN_STATUSES:
        raise NotFound("No such piece.", code="listing_not_found")
    return row


async def get_listing(listing_id: str) -> Listing:
    """A piece's page: photos, condition with its definition, and its grading passport (photos, findings)."""
    key = listing_key(listing_id)
    row = await _shown_listing(key)
    photos = await _photos(key)
    available = model.is_available(row["status"], None, row["reserved_until"], False, None, clock.now())
    return Listing(
        id=str(row["id"]), status=row["status"], available=available, name=row["name"],
        product_ref=row["product_ref"], category=row["category"], season=row["season"], size=row["size"],
        colour=row["colour"], materials=list(row["materials"]), condition=condition_info(row["condition"]),
        price=_eur(row["price"]), retail_price=_eur(row["retail_price"]),
        photos=[_photo_out(p) for p in photos],
        passport=await _passport(row), published_at=row["published_at"])


def _photo_key(photo_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(photo_id)
    except (TypeError, ValueError):
        raise NotFound("No such photo.", code="photo_not_found") from None


@dataclass(frozen=True)
class PhotoFile:
    path: Path
    media_type: str


async def listing_photo(listing_id: str, photo_id: str, *, staff: bool = False) -> PhotoFile:
    """A listing photo's file: of a piece buyers may see, or (for staff) of any piece."""
    key, photo_key = listing_key(listing_id), _photo_key(photo_id)
    if not staff:
        await _shown_listing(key)
    if not await ListingPhoto.exists().where(ListingPhoto.id == photo_key, ListingPhoto.listing == key):
        raise NotFound("No such photo.", code="photo_not_found")
    return PhotoFile(_photo_path(key, photo_key), PHOTO_MEDIA_TYPE)


async def passport_photo(listing_id: str, photo_id: str) -> PhotoFile:
    """A photo of a piece's grading passport, only through a piece buyers may see and only one of its own."""
    row = await _shown_listing(listing_key(listing_id))
    found = await grading.passport(row["tradein_item"])
    if found is None or photo_id not in {photo.photo_id for photo in found.photos}:
        raise NotFound("No such photo.", code="photo_not_found")
    path, media_type = await grading.photo_file(photo_id)
    return PhotoFile(path, media_type)
