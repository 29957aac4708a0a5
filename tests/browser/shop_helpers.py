"""Set-up of the resale shop's browser tests: pieces taken from a seller's trade-in through grading (with a
passport photo) and refurbishment to the shop over the running service's API; store credit turned into a
voucher; and, through the services on the server's own database, an order placed, shipped and delivered days
ago (the carrier's days cannot pass in a test otherwise)."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import msgspec
from live_server import Server
from station_helpers import PASSWORD, grader_headers, received_tradein

from forever import clock, db
from forever.accounts.schemas import Principal
from forever.grading import synthetic
from forever.listings import orders
from forever.listings.schemas import DeliveryCreate, OrderCreate
from forever.settings import Settings, use_settings

ADMIN = ("admin@forever.demo", "Forever-2026!")
STORE_STAFF = ("saint-honore@forever.demo", "Forever-2026!")
CARD = ("4242 4242 4242 4242", "12/34", "123")
T = TypeVar("T")


def new_account(server: Server, first_name: str = "Inès") -> tuple[str, dict[str, str], str]:
    """A fresh customer: e-mail, bearer headers, account id."""
    email = f"shop.{uuid.uuid4().hex[:10]}@example.com"
    registered = server.api.post("/api/v1/accounts", json={
        "email": email, "password": PASSWORD, "first_name": first_name, "last_name": "Moreau", "country": "FR",
        "birth_date": "1992-06-02"})
    assert registered.status_code == 201, registered.text
    headers = {"Authorization": f"Bearer {server.token(email, PASSWORD)}"}
    return email, headers, registered.json()["id"]


def staff_headers(server: Server, who: tuple[str, str] = ADMIN) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.token(*who)}"}


def photo_bytes(*defects: synthetic.DefectSpec, seed: int = 5) -> bytes:
    """A small synthetic photo of fabric (JPEG)."""
    return synthetic.render(synthetic.Scene(seed=seed, family="jersey", colour="navy", defects=defects, width=640,
                                            height=480)).jpeg


def credited_pieces(server: Server, seller: dict[str, str], category: str, *conditions: str,
                    passport_photo: bool = False) -> list[str]:
    """Pieces of `category` traded in by `seller` and graded at their declared condition (with a photo of a
    hole for their passport if asked); returns their listing ids (each entered stock once credited)."""
    tradein = received_tradein(server, seller, *conditions, category=category)
    grader = grader_headers(server)
    for item in tradein["items"]:
        if passport_photo:
            shot = server.api.post(f"/api/v1/grading/items/{item['id']}/photos", headers=grader,
                                   data={"view": "front"},
                                   files={"photo": ("front.jpg", photo_bytes(synthetic.DefectSpec("hole", 9.0)),
                                                    "image/jpeg")})
            assert shot.status_code == 201, shot.text
        decided = server.api.post(f"/api/v1/grading/items/{item['id']}/decision", headers=grader,
                                  json={"grade": item["declared_condition"]})
        assert decided.status_code == 200, decided.text
    return listings_of(server, [item["id"] for item in tradein["items"]])


def listings_of(server: Server, item_ids: list[str]) -> list[str]:
    """The stock pieces of these trade-in pieces, newest arrivals first in the warehouse's list."""
    admin, found, cursor = staff_headers(server), {}, None
    while len(found) < len(item_ids):
        page = server.api.get("/api/v1/stock", headers=admin, params={"limit": 100, **({"cursor": cursor} if cursor
                                                                                     else {})}).json()
        for summary in page["items"]:
            piece = server.api.get(f"/api/v1/stock/{summary['id']}", headers=admin).json()
            if piece["tradein_item_id"] in item_ids:
                found[piece["tradein_item_id"]] = piece["id"]
        cursor = page["next_cursor"]
        assert cursor or len(found) == len(item_ids), "credited pieces missing from stock"
    return [found[item_id] for item_id in item_ids]


def publish(server: Server, listing_id: str) -> dict[str, Any]:
    """Photograph a stock piece, choose its size, tick every step and put it on sale; returns the live piece."""
    staff = staff_headers(server, STORE_STAFF)
    added = server.api.post(f"/api/v1/stock/{listing_id}/photos", headers=staff,
                            files={"photo": ("listing.jpg", photo_bytes(seed=11), "image/jpeg")})
    assert added.status_code == 201, added.text
    if added.json()["size"] is None:
        sized = server.api.patch(f"/api/v1/stock/{listing_id}", headers=staff,
                                 json={"size": added.json()["size_choices"][3]})
        assert sized.status_code == 200, sized.text
    for step in ("cleaned", "pressed", "retagged", "photographed"):
        ticked = server.api.post(f"/api/v1/stock/{listing_id}/steps", headers=staff, json={"step": step})
        assert ticked.status_code == 200, ticked.text
    published = server.api.post(f"/api/v1/stock/{listing_id}/publish", headers=staff)
    assert published.status_code == 200, published.text
    return published.json()


def voucher(server: Server, owner: dict[str, str], euros: int) -> dict[str, Any]:
    """A voucher generated from the owner's store credit."""
    issued = server.api.post("/api/v1/me/vouchers", headers=owner,
                             json={"amount": {"amount": euros * 100, "currency": "EUR"}})
    assert issued.status_code == 201, issued.text
    return issued.json()


def with_services(server: Server, work: Callable[[], Awaitable[T]]) -> T:
    """Run `work` on the server's own database, in a thread of its own (Playwright's event loop holds this
    one), with the services of this process bound to it."""
    answer: list[T] = []

    async def bound() -> None:
        settings = Settings.from_env({"FOREVER_DATA_DIR": str(server.data_dir)})
        use_settings(settings)
        engine = db.make_engine(settings.database_url)
        db.bind(engine)
        await db.open_pool(engine)
        try:
            answer.append(await work())
        finally:
            await db.close_pool(engine)

    thread = threading.Thread(target=lambda: asyncio.run(bound()))
    thread.start()
    thread.join()
    assert answer, "the set-up through the services failed (see the thread's traceback above)"
    return answer[0]


def delivered_days_ago(server: Server, buyer_id: str, listing_ids: list[str], days: int = 2) -> str:
    """An order of live pieces placed `days` ago, shipped once it could no longer be cancelled, and delivered
    the day after: what the carrier would have done. Returns the order's id."""
    admin_id = server.api.get("/api/v1/me", headers=staff_headers(server)).json()["id"]
    buyer = Principal(kind="person", role="customer", account_id=buyer_id)
    staff = Principal(kind="person", role="admin", account_id=admin_id)
    placed_at = clock.now() - dt.timedelta(days=days)
    order = msgspec.convert({"listing_ids": listing_ids, "shipping": {
        "country": "FR", "method": "standard",
        "address": {"name": "Inès Moreau", "line1": "12 rue de Turenne", "postal_code": "75004", "city": "Paris"}},
        "card": {"number": CARD[0], "expiry": CARD[1], "cvc": CARD[2]}}, OrderCreate)

    async def work() -> str:
        with clock.frozen(placed_at):
            placed = await orders.place_order(buyer, order, "127.0.0.1")
        with clock.frozen(placed_at + dt.timedelta(minutes=31)):
            await orders.ship_order(staff, placed.id)
        with clock.frozen(placed_at + dt.timedelta(days=1)):
            await orders.mark_delivered(placed.id, DeliveryCreate())
        return placed.id

    return with_services(server, work)
