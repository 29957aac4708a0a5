"""Use cases of the catalog: import, search, look-up."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence

import msgspec

from forever import clock, db
from forever.catalog import model
from forever.catalog.model import Product
from forever.catalog.tables import Product as ProductRow
from forever.errors import InvalidInput
from forever.pagination import check_limit, decode_cursor, encode_cursor

IMPORT_CHUNK = 500


def _json_list(value: object) -> tuple[str, ...]:
    """A JSON column's list, whether the driver gives it decoded or as text."""
    if isinstance(value, str):
        value = msgspec.json.decode(value)
    return tuple(value or ())


def _to_product(row: dict) -> Product:
    return Product(
        ref=row["ref"], name=row["name"], category=row["category"], season=row["season"],
        retail_price=row["retail_price"], color=row["color"] or "",
        materials=_json_list(row["materials"]), sizes=_json_list(row["sizes"]),
    )


def _row_values(product: Product) -> dict:
    return {
        "ref": product.ref, "name": product.name, "name_key": model.fold(product.name),
        "category": product.category, "season": product.season,
        "season_ordinal": model.Season(product.season).ordinal, "retail_price": product.retail_price,
        "color": product.color, "materials": list(product.materials), "sizes": list(product.sizes),
        "updated_at": clock.now(),
    }


async def import_products(products: Sequence[Product]) -> int:
    """Insert or update every product in one transaction: all of them, or none."""
    _forget_cached()
    async with db.write_transaction():
        for start in range(0, len(products), IMPORT_CHUNK):
            chunk = [ProductRow(**_row_values(p)) for p in products[start:start + IMPORT_CHUNK]]
            await ProductRow.insert(*chunk).on_conflict(
                target=ProductRow.ref,
                action="DO UPDATE",
                values=[ProductRow.name, ProductRow.name_key, ProductRow.category, ProductRow.season,
                        ProductRow.season_ordinal, ProductRow.retail_price, ProductRow.color,
                        ProductRow.materials, ProductRow.sizes, ProductRow.updated_at],
            )
    _forget_cached()
    return len(products)


# Quotes read products by ref on every request; the catalog changes only by import. Each process keeps
# what it read for CACHE_SECONDS (per database), so an import made by another process (the CLI) is seen
# within that time; an import in this process is seen at once.
CACHE_SECONDS = 30.0
CACHE_MAX_ENTRIES = 200_000
_cache: dict[str, tuple[float, Product | None]] = {}
_cache_engine: list[object] = [None]  # the engine whose rows `_cache` holds
_sizes_cache: list[tuple[object, float, frozenset[str]] | None] = [None]  # (engine, when read, sizes)


def _forget_cached() -> None:
    _cache.clear()
    _sizes_cache[0] = None


def _product_cache() -> dict[str, tuple[float, Product | None]]:
    if _cache_engine[0] is not db.engine():
        _cache.clear()
        _cache_engine[0] = db.engine()
    return _cache


async def get_products(refs: Iterable[str]) -> dict[str, Product]:
    """The products with these refs, by ref (unknown refs are simply absent)."""
    cache = _product_cache()
    now = time.monotonic()
    found: dict[str, Product] = {}
    missing: list[str] = []
    for ref in set(refs):
        entry = cache.get(ref)
        if entry is not None and now - entry[0] < CACHE_SECONDS:
            if entry[1] is not None:
                found[ref] = entry[1]
        else:
            missing.append(ref)
    if missing:
        placeholders = ", ".join(["{}"] * len(missing))
        rows = await db.fetch(f"SELECT * FROM product WHERE ref IN ({placeholders})", *missing)
        fetched = {row["ref"]: _to_product(row) for row in rows}
        if len(cache) > CACHE_MAX_ENTRIES:
            cache.clear()
        for ref in missing:
            cache[ref] = (now, fetched.get(ref))
        found.update(fetched)
    return found


async def sizes() -> frozenset[str]:
    """Every size some product comes in: what the shop's size filter may ask for. Read at most CACHE_SECONDS
    ago, like the products (a catalog holds few distinct size lists, so they are compared as text)."""
    cached = _sizes_cache[0]
    now = time.monotonic()
    if cached is not None and cached[0] is db.engine() and now - cached[1] < CACHE_SECONDS:
        return cached[2]
    rows = await db.fetch("SELECT DISTINCT CAST(sizes AS TEXT) AS sizes FROM product")
    found = frozenset(size for row in rows for size in _json_list(row["sizes"]))
    _sizes_cache[0] = (db.engine(), now, found)
    return found


async def search(q: str | None = None, category: str | None = None, season: str | None = None,
                 limit: int = 20, cursor: str | None = None) -> tuple[list[Product], str | None]:
    """Products whose name holds every word of `q` (case and accents ignored), by name; keyset pages."""
    check_limit(limit)
    query = ProductRow.select()
    if category is not None:
        if category not in model.CATEGORIES:
            raise InvalidInput(f"Unknown category {category!r}.", code="invalid_category",
                               errors=[{"field": "category", "message": "unknown category"}])
        query = query.where(ProductRow.category == category)
    if season is not None:
        if not model.is_season(season):
            raise InvalidInput("Seasons look like SS16 or FW24.", code="invalid_season",
                               errors=[{"field": "season", "message": "expected SS<yy> or FW<yy>"}])
        query = query.where(ProductRow.season == season)
    for word in model.fold(q or "").replace("%", " ").replace("_", " ").split():
        query = query.where(ProductRow.name_key.like(f"%{word}%"))
    if cursor is not None:
        name_key, row_id = decode_cursor(cursor, (str, int))
        query = query.where(
            (ProductRow.name_key > name_key) | ((ProductRow.name_key == name_key) & (ProductRow.id > row_id))
        )
    rows = await query.order_by(ProductRow.name_key, ProductRow.id).limit(limit + 1).output(load_json=True)
    next_cursor = encode_cursor(rows[limit - 1]["name_key"], rows[limit - 1]["id"]) if len(rows) > limit else None
    return [_to_product(row) for row in rows[:limit]], next_cursor


async def count() -> int:
    return await ProductRow.count()
