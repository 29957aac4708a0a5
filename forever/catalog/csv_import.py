"""Catalog CSV: parse an import file into Products and render Products back. Pure: no database, no web."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator
from typing import Any

from forever.catalog.model import CATEGORIES, Product, is_season
from forever.errors import InvalidInput
from forever.money import Money

REQUIRED_COLUMNS: tuple[str, ...] = ("ref", "name", "category", "season", "retail_price_eur")
OPTIONAL_COLUMNS: tuple[str, ...] = ("color", "materials", "sizes")
ALL_COLUMNS: tuple[str, ...] = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
LIST_SEPARATOR = "|"

REF_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
# Digits with an optional 1-2 digit decimal part: rejects "1e3", "-5", "1,50" and "290.000" up front.
PRICE_PATTERN = re.compile(r"[0-9]+(\.[0-9]{1,2})?")
MAX_NAME_LENGTH = 200
MAX_COLOR_LENGTH = 100
MAX_LIST_ITEM_LENGTH = 100
# Far above any AMI retail price; catches a misplaced decimal point before it reaches the offer grid.
MAX_RETAIL_PRICE_EUR = 100_000


def parse_catalog_csv(text: str) -> list[Product]:
    """Parse a catalog CSV (header on line 1) into Products; the first bad row raises InvalidInput."""
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise InvalidInput("the catalog file is empty", code="empty_catalog")

    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows = _rows_with_line_numbers(reader)
    first_row = next(rows, None)
    if first_row is None:
        raise InvalidInput("the catalog file is empty", code="empty_catalog")
    header_line, header = first_row
    columns = _read_header(header, header_line)

    products: list[Product] = []
    line_of_ref: dict[str, int] = {}
    for line, cells in rows:
        if len(cells) != len(columns):
            raise _bad_row(line, f"expected {len(columns)} fields, found {len(cells)}")
        product = _product_from_row(dict(zip(columns, cells, strict=True)), line)
        if product.ref in line_of_ref:
            raise _bad_row(line, f"ref {product.ref!r} already appears on line {line_of_ref[product.ref]}")
        line_of_ref[product.ref] = line
        products.append(product)

    if not products:
        raise InvalidInput("the catalog file has a header but no products", code="empty_catalog")
    return products


def render_catalog_csv(products: Iterable[Product]) -> str:
    """Write Products in the import format, every column present, so parse_catalog_csv reads them back."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(ALL_COLUMNS)
    for product in products:
        writer.writerow(
            (
                product.ref,
                product.name,
                product.category,
                product.season,
                f"{product.retail_price // 100}.{product.retail_price % 100:02d}",
                product.color,
                _join_list(product.materials, product.ref),
                _join_list(product.sizes, product.ref),
            )
        )
    return buffer.getvalue()


def _rows_with_line_numbers(reader: Any) -> Iterator[tuple[int, list[str]]]:
    """Yield (first file line of the row, cells), skipping blank rows; a CSV syntax error names its line."""
    while True:
        # line_num counts physical lines read so far, so the next row starts one line after it,
        # even when the previous row held a quoted field spanning several lines.
        start_line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise _bad_row(start_line, f"unreadable CSV ({exc})") from exc
        if all(not cell.strip() for cell in cells):
            continue
        yield start_line, cells


def _read_header(header: list[str], line: int) -> list[str]:
    columns = [name.strip().lower() for name in header]
    if len(columns) == 1 and ";" in columns[0]:
        raise _bad_row(line, "columns must be separated by commas, not semicolons")
    if "" in columns:
        raise _bad_row(line, f"column {columns.index('') + 1} has no name")
    unknown = [name for name in columns if name not in ALL_COLUMNS]
    if unknown:
        raise _bad_row(line, f"unknown column {unknown[0]!r} (allowed: {', '.join(ALL_COLUMNS)})")
    repeated = sorted({name for name in columns if columns.count(name) > 1})
    if repeated:
        raise _bad_row(line, f"column {repeated[0]!r} appears more than once")
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        raise _bad_row(line, f"missing column {missing[0]!r} (required: {', '.join(REQUIRED_COLUMNS)})")
    return columns


def _product_from_row(row: dict[str, str], line: int) -> Product:
    ref = row["ref"].strip()
    if not ref:
        raise _bad_row(line, "ref is empty")
    if not REF_PATTERN.fullmatch(ref):
        raise _bad_row(
            line, f"ref {ref!r} must be at most 64 letters, digits, dots, dashes or underscores"
        )

    name = _clean_text(row["name"], "name", MAX_NAME_LENGTH, line)
    if not name:
        raise _bad_row(line, "name is empty")

    category = row["category"].strip().lower()
    if category not in CATEGORIES:
        allowed = ", ".join(CATEGORIES)
        raise _bad_row(line, f"unknown category {row['category'].strip()!r} (allowed: {allowed})")

    season = row["season"].strip().upper()
    # isascii: the season pattern's \d would also accept non-ASCII digits.
    if not (season.isascii() and is_season(season)):
        raise _bad_row(line, f"season {row['season'].strip()!r} is not SS<yy> or FW<yy>")

    retail_price = _parse_price(row["retail_price_eur"], line)

    color = _clean_text(row.get("color", ""), "color", MAX_COLOR_LENGTH, line)

    return Product(
        ref=ref,
        name=name,
        category=category,
        season=season,
        retail_price=retail_price,
        color=color,
        materials=_split_list(row.get("materials", ""), "materials", line),
        sizes=_split_list(row.get("sizes", ""), "sizes", line),
    )


def _parse_price(raw: str, line: int) -> int:
    """Retail price in EUR cents from a decimal number of euros."""
    text = raw.strip()
    if not PRICE_PATTERN.fullmatch(text):
        raise _bad_row(
            line, f"retail_price_eur {text!r} must be a number of euros with at most 2 decimals, e.g. 290.00"
        )
    price = Money.from_major(text, "EUR")
    if price.amount <= 0:
        raise _bad_row(line, "retail_price_eur must be above zero")
    if price.amount > MAX_RETAIL_PRICE_EUR * 100:
        raise _bad_row(line, f"retail_price_eur {text} is above {MAX_RETAIL_PRICE_EUR} euros")
    return price.amount


def _split_list(raw: str, column: str, line: int) -> tuple[str, ...]:
    values = (_clean_text(part, column, MAX_LIST_ITEM_LENGTH, line) for part in raw.split(LIST_SEPARATOR))
    return tuple(value for value in values if value)


def _clean_text(raw: str, column: str, max_length: int, line: int) -> str:
    """Trimmed text with inner whitespace runs collapsed to one space."""
    # Collapsing also flattens a value a spreadsheet wrapped onto several lines inside quotes.
    text = " ".join(raw.split())
    if any(unicodedata.category(char) == "Cc" for char in text):
        raise _bad_row(line, f"{column} contains a control character")
    if len(text) > max_length:
        raise _bad_row(line, f"{column} is longer than {max_length} characters")
    return text


def _join_list(values: tuple[str, ...], ref: str) -> str:
    if any(LIST_SEPARATOR in value for value in values):
        raise ValueError(f"product {ref}: a list value contains {LIST_SEPARATOR!r} and would not read back")
    return LIST_SEPARATOR.join(values)


def _bad_row(line: int, problem: str) -> InvalidInput:
    return InvalidInput(f"line {line}: {problem}", code="bad_catalog_row")
