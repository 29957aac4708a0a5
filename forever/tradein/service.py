"""Use cases of trade-in: browsing what can be sold, and locked quotes."""

from __future__ import annotations

import datetime as dt
import functools
import time
import uuid
from pathlib import Path

import msgspec

from forever import clock, db
from forever.accounts.schemas import Principal
from forever.catalog import service as catalog
from forever.catalog.model import Product
from forever.errors import InvalidInput, NotFound
from forever.money import Money
from forever.pagination import check_limit, decode_cursor, encode_cursor
from forever.settings import get_settings
from forever.tradein import model
from forever.tradein.schemas import CatalogProduct, Quote, QuoteCreate, QuoteLine, QuoteSummary
from forever.tradein.tables import Quote as QuoteRow
from forever.tradein.tables import QuoteLine as QuoteLineRow

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
    quote_id = uuid.uuid4()
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
        (_INSERT_QUOTE, (quote_id, uuid.UUID(seller.account_id), "open", now, expires_at, grid.version,
                         total.amount, total.currency)),
        (_insert_quote_lines(len(items)), line_values),
    )
    return Quote(id=str(quote_id), status="open", created_at=now, expires_at=expires_at,
                 grid_version=grid.version, items=items, total_offer=total)


async def get_quote(account_id: str, quote_id: str) -> Quote:
    """One of the seller's quotes; anyone else's is not found."""
    try:
        key = uuid.UUID(quote_id)
    except ValueError:
        raise NotFound("No such quote.", code="quote_not_found") from None
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
        created_at, quote_id = decode_cursor(cursor, (str, str))
        try:
            after = dt.datetime.fromisoformat(created_at)
            after_id = uuid.UUID(quote_id)
        except (TypeError, ValueError):
            raise InvalidInput("That cursor is not one this list gave out.", code="invalid_cursor") from None
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
