"""Photo uploads as the fault tests drive them: a piece awaiting grading and a grader's token, made through
the services; distinct synthetic photos; and what the photo store holds afterwards, rows and files."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

import httpx

from forever import clock, db
from forever.accounts import service as accounts
from forever.accounts.schemas import AccountCreate, Principal
from forever.catalog import service as catalog
from forever.catalog.demo_data import demo_products
from forever.grading import synthetic
from forever.settings import Settings
from forever.tradein import model as tradein_rules
from forever.tradein import service as tradein
from forever.tradein.schemas import QuoteCreate, QuoteItemCreate, ReceptionCreate, TradeInCreate

PASSWORD = "Correct-horse-9"


@dataclass(frozen=True)
class Station:
    grader_token: str
    item_id: str


async def piece_awaiting_grading() -> Station:
    """A grader, and a piece of a seller's trade-in whose parcel the warehouse has received."""
    product = next(product for product in demo_products()
                   if not tradein_rules.product_refusal_reasons(product, clock.today()))
    await catalog.import_products([product])
    seller = await accounts.register(AccountCreate(
        email="tradein.seller@example.com", password=PASSWORD, first_name="Léa", last_name="Dupont",
        country="FR", birth_date=dt.date(1990, 5, 17)))
    as_seller = Principal(kind="person", role=seller.role, account_id=seller.id, country=seller.country,
                          birth_date=seller.birth_date)
    quote = await tradein.create_quote(as_seller, QuoteCreate(items=[
        QuoteItemCreate(product_ref=product.ref, condition="excellent")]))
    accepted = await tradein.accept_quote(as_seller, quote.id, TradeInCreate(refused_items="return"))
    await accounts.create_staff("grader@example.com", PASSWORD, "grader")
    token = (await accounts.login("grader@example.com", PASSWORD, "127.0.0.1")).token
    received = await tradein.receive_parcel(await accounts.authenticate(token),
                                            ReceptionCreate(tracking_number=accepted.parcel.tracking_number))
    return Station(grader_token=token, item_id=received.items[0].id)


def fabric_photo(seed: int) -> bytes:
    """A synthetic 640 x 480 JPEG of fabric, different for every seed."""
    scene = synthetic.Scene(seed=seed, family="jersey", colour="navy", width=640, height=480)
    return synthetic.render(scene).jpeg


async def upload(client: httpx.AsyncClient, station: Station, photo: bytes) -> httpx.Response:
    return await client.post(f"/api/v1/grading/items/{station.item_id}/photos", data={"view": "front"},
                             headers={"Authorization": f"Bearer {station.grader_token}"},
                             files={"photo": ("photo.jpg", photo, "image/jpeg")})


async def photo_rows() -> dict[str, dict]:
    """Every stored photo's row, by id."""
    rows = await db.fetch("SELECT id, item, path, sha256, size_bytes FROM grading_photo")
    return {str(row["id"]): row for row in rows}


def photo_files(settings: Settings) -> list[Path]:
    """Every file under the photo folder, whatever its name."""
    folder = settings.data_dir / "photos"
    return sorted(path for path in folder.rglob("*") if path.is_file()) if folder.exists() else []


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
