"""Use cases of the resale shop's stock and listings: credited pieces entering stock, refurbishment, photos,
prices and publication (staff); search, facets and a piece's page (anyone). Orders and returns are in
forever.listings.orders.

Search reads one denormalised table through partial composite indexes (see tables.py and the app's second
migration): the SQL is written out so that each filter and sort lands on its index, with the live status as a
literal (a partial index is only used when the query itself names its condition).
"""

from __future__ import annotations

import logging
import time
import uuid
from pathlib import Path

from forever import clock, db
from forever.accounts.schemas import Principal
from forever.catalog import service as catalog
from forever.catalog.model import fold
from forever.errors import Conflict, NotFound
from forever.listings import model
from forever.listings.tables import Listing as ListingRow
from forever.listings.tables import ListingEvent
from forever.money import Money
from forever.tradein import service as tradein

log = logging.getLogger("forever.listings")

SYSTEM_ACTOR = "system"
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
    return f"apikey:{principal.api_key_id}" if principal.kind == "system" else f"account:{principal.account_id}"


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
    """Put a credited piece in stock, its listing filled in from the catalog and its grading: the seller writes
    nothing. Idempotent: a piece already in stock is left as it is. Grading calls it once a piece is credited;
    the `stock_credited_pieces` job catches any piece it missed.
    """
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
    grid_price = grid.price(product.retail_price, product.category, piece.grade, product.season, clock.today())
    size = piece.size or (product.sizes[0] if len(product.sizes) == 1 else None)
    listing_id = uuid.uuid4()
    async with db.write_transaction():
        inserted = await ListingRow.insert(ListingRow(
            id=listing_id, tradein_item=tradein_item_id, seller=uuid.UUID(piece.seller_id),
            product_ref=product.ref, name=product.name, name_key=fold(product.name), category=product.category,
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
