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
from forever.money import Money
from forever.settings import Settings
from forever.tradein import model as tradein_rules
from forever.tradein import service as tradein
from forever.tradein.schemas import QuoteCreate, QuoteItemCreate, TradeInCreate
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
        f"  {DEMO_SELLER.email} has {DEMO_CREDIT.format()} of store credit (see /credit)"
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
