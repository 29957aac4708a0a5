"""Demo data: the catalog, the Paris boutiques and a corner, staff, a seller and channel keys (idempotent)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

from forever import clock
from forever.accounts import service as accounts
from forever.accounts.schemas import Account, AccountCreate, Principal
from forever.catalog import service as catalog
from forever.catalog.demo_data import demo_products
from forever.catalog.model import Product
from forever.errors import Conflict
from forever.grading import service as grading
from forever.grading.schemas import DecisionCreate
from forever.listings import service as listings
from forever.listings.schemas import StepUpdate
from forever.money import Money
from forever.settings import Settings
from forever.tradein import model as tradein_rules
from forever.tradein import service as tradein
from forever.tradein.schemas import QuoteCreate, QuoteItemCreate, ReceptionCreate, TradeInCreate
from forever.vouchers import service as vouchers

DEMO_PASSWORD = "Forever-2026!"

DEMO_STORES = (
    ("saint-honore", "AMI Saint-Honoré, 354 rue Saint-Honoré, Paris", "FR", "boutique"),
    ("beaumarchais", "AMI Beaumarchais, 109 boulevard Beaumarchais, Paris", "FR", "boutique"),
    ("galeries-haussmann", "AMI corner, Galeries Lafayette Haussmann, Paris", "FR", "department_store_corner"),
)

DEMO_STAFF = (
    ("grader@forever.demo", "grader", None),
    ("saint-honore@forever.demo", "store_staff", "saint-honore"),
    ("beaumarchais@forever.demo", "store_staff", "beaumarchais"),
    ("service@forever.demo", "customer_service", None),
    ("admin@forever.demo", "admin", None),
)

DEMO_SELLER = AccountCreate(
    email="camille@forever.demo", password=DEMO_PASSWORD, first_name="Camille", last_name="Martin",
    country="FR", birth_date=dt.date(1991, 4, 12),
)

# A seller whose trade-in was graded and refurbished: its pieces are for sale in the resale shop (all but the
# last, still in stock for the staff to finish).
DEMO_CONSIGNOR = AccountCreate(
    email="noe@forever.demo", password=DEMO_PASSWORD, first_name="Noé", last_name="Laurent",
    country="FR", birth_date=dt.date(1988, 9, 3),
)
DEMO_SHOP_PIECES = 7

# Store credit from a piece of an earlier, completed trade-in (not the accepted one, which grading will credit).
DEMO_CREDIT = Money(25_000, "EUR")

DEMO_KEYS = (("eshop", None), ("resale", None), ("store", "saint-honore"), ("store", "beaumarchais"),
             ("store", "galeries-haussmann"), ("carrier", None))


def demo_key(settings: Settings, channel: str, store_code: str | None) -> str:
    """A demo channel key derived from the instance secret, so reloading the demo prints the same keys."""
    label = f"demo:{channel}:{store_code or ''}".encode()
    return f"fek_{channel}_demo_{hmac.new(settings.secret_key, label, hashlib.sha256).hexdigest()[:32]}"


async def load_demo(settings: Settings) -> str:
    """Load everything (again) and return what to print: counts, logins and keys."""
    count = await catalog.import_products(demo_products())
    for code, name, country, kind in DEMO_STORES:
        try:
            await accounts.add_store(code, name, country, kind)
        except Conflict:
            pass
    for email, role, store in DEMO_STAFF:
        if not await accounts.account_exists(email):
            await accounts.create_staff(email, DEMO_PASSWORD, role, store)
    if not await accounts.account_exists(DEMO_SELLER.email):
        seller = await accounts.register(DEMO_SELLER)
        await _demo_tradein(seller)
        await vouchers.credit_tradein_item(seller.id, f"demo-earlier-{seller.id}", DEMO_CREDIT,
                                           reference="a piece of an earlier trade-in (demo)")
    if not await accounts.account_exists(DEMO_CONSIGNOR.email):
        await _demo_shop(await accounts.register(DEMO_CONSIGNOR))
    keys = []
    for channel, store in DEMO_KEYS:
        key = demo_key(settings, channel, store)
        await accounts.ensure_api_key(key, channel, store)
        keys.append(f"  {channel:8} {store or '':20} {key}")
    logins = "\n".join(f"  {role:16} {email:28} {DEMO_PASSWORD}" for email, role, _ in DEMO_STAFF)
    return (
        f"demo catalog: {count} products; stores: {', '.join(code for code, *_ in DEMO_STORES)}\n"
        f"demo logins (e-mail / password):\n  {'seller':16} {DEMO_SELLER.email:28} {DEMO_PASSWORD}\n{logins}\n"
        f"demo channel keys (Authorization: Bearer <key>):\n" + "\n".join(keys) + "\n"
        f"demo trade-in: {DEMO_SELLER.email} has accepted an offer (see /tradeins); receive its parcel at "
        "/warehouse/reception as the grader;\n"
        f"  {DEMO_SELLER.email} has {DEMO_CREDIT.format()} of store credit (see /credit)\n"
        f"demo resale shop: {DEMO_CONSIGNOR.email}'s graded pieces are for sale (GET /api/v1/listings), the last "
        "still in stock (GET /api/v1/stock as store staff)"
    )


async def _demo_tradein(seller: Account) -> None:
    """An accepted trade-in of two pieces for the demo seller, its parcel ready to scan at the warehouse."""
    today = clock.today()
    pieces: dict[str, Product] = {}
    for product in demo_products():
        if not tradein_rules.product_refusal_reasons(product, today) and product.category not in pieces:
            pieces[product.category] = product
        if len(pieces) == 2:
            break
    principal = Principal(kind="person", role=seller.role, account_id=seller.id, country=seller.country,
                          birth_date=seller.birth_date)
    offer = await tradein.create_quote(principal, QuoteCreate(items=[
        QuoteItemCreate(product_ref=product.ref, condition=condition)
        for product, condition in zip(pieces.values(), ("excellent", "very_good"), strict=False)]))
    await tradein.accept_quote(principal, offer.id, TradeInCreate(refused_items="return"))


async def _demo_shop(consignor: Account) -> None:
    """A trade-in taken all the way through the warehouse, as its people would: received, graded (each piece
    credited and stocked), refurbished, photographed and put on sale, but for its last piece."""
    today = clock.today()
    pieces: dict[str, Product] = {}
    for product in demo_products():
        if not tradein_rules.product_refusal_reasons(product, today) and product.category not in pieces:
            pieces[product.category] = product
        if len(pieces) == DEMO_SHOP_PIECES:
            break
    seller = Principal(kind="person", role=consignor.role, account_id=consignor.id, country=consignor.country,
                       birth_date=consignor.birth_date)
    conditions = ("new_with_tags", "excellent", "very_good")
    offer = await tradein.create_quote(seller, QuoteCreate(items=[
        QuoteItemCreate(product_ref=product.ref, condition=conditions[number % 3],
                        size=product.sizes[len(product.sizes) // 2] if product.sizes else None)
        for number, product in enumerate(pieces.values())]))
    accepted = await tradein.accept_quote(seller, offer.id, TradeInCreate(refused_items="return"))
    # The demo's grader signs in, as at the station, and grades each piece as declared.
    session = await accounts.login("grader@forever.demo", DEMO_PASSWORD, "demo")
    grader = Principal(kind="person", role=session.role, account_id=session.account_id)
    await tradein.receive_parcel(grader, ReceptionCreate(tracking_number=accepted.parcel.tracking_number))
    for item in accepted.items:
        await grading.decide(grader, item.id, DecisionCreate(grade=item.declared_condition))
    stocked = {piece.id: await listings.get_stock_piece(piece.id) for piece in (await listings.list_stock(
        limit=100)).items}
    by_item = {piece.tradein_item_id: piece for piece in stocked.values()}
    for item in accepted.items[:-1]:
        piece = by_item[item.id]
        await listings.add_photo(grader, piece.id, _demo_photo(piece.name, piece.colour))
        for step in ("cleaned", "pressed", "retagged", "photographed"):
            await listings.tick_step(grader, piece.id, StepUpdate(step=step))
        await listings.publish(grader, piece.id)


def _demo_photo(name: str, colour: str) -> bytes:
    """A plain studio shot for the demo: a garment's outline in a shade of its colour, its name under it."""
    import cv2
    import numpy as np

    shade = int(hashlib.sha256(colour.encode()).hexdigest()[:6], 16)
    bgr = (shade & 0xFF, (shade >> 8) & 0xFF, (shade >> 16) & 0xFF)
    image = np.full((900, 720, 3), 244, dtype=np.uint8)
    body = np.array([[200, 180], [520, 180], [640, 330], [560, 380], [520, 330], [520, 760], [200, 760],
                     [200, 330], [160, 380], [80, 330]], dtype=np.int32)
    cv2.fillPoly(image, [body], bgr)
    cv2.putText(image, name[:34], (40, 840), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (40, 40, 40), 2, cv2.LINE_AA)
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 85])
    assert ok
    return data.tobytes()
