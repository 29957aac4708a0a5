"""Use cases of the resale shop's checkout, orders and returns: reserving pieces, placing an order paid with
vouchers (forever.vouchers holds) and a card (forever.listings.payments), cancelling it within 30 minutes,
shipping and delivering it, returning pieces within 14 days of delivery on a prepaid label, and receiving a
return at the warehouse (refund of the card part; the voucher part is never re-credited automatically).

A piece is unique, so every change of a piece's status happens with its row locked: on SQLite the one writer
(BEGIN IMMEDIATE and the process's writer lock), on PostgreSQL `SELECT ... FOR UPDATE` in id order. Writers
that hold an order and its pieces take the order first, then the pieces, then (through forever.vouchers) the
ledger.

Placing an order is three steps, so that no database lock is held while a card is authorised: (1) the pieces
are reserved for the order (15 minutes) and the order is `pending`; (2) the vouchers are held and the card
authorised, each recorded on the order as soon as it is done; (3) the order is confirmed and its pieces sold.
A failure in (2) gives everything back; a process dying in (2) leaves a pending order whose reservation
lapses, and the `release_lapsed_reservations` job gives back what it recorded."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Sequence

import msgspec

from forever import clock, db, rules
from forever.accounts import model as accounts_model
from forever.accounts import service as accounts
from forever.accounts.schemas import Principal
from forever.errors import Conflict, DomainError, InvalidInput, NotFound
from forever.grading import service as grading
from forever.idempotency import service as idempotency
from forever.idempotency.service import Claim
from forever.listings import model, payments
from forever.listings.schemas import (
    BasketCreate,
    BasketPrice,
    DeliveryCreate,
    Order,
    OrderCreate,
    OrderLine,
    OrderPage,
    OrderSummary,
    Reservation,
    ReservationCreate,
    ReturnCreate,
    ReturnLine,
    ReturnOut,
    ReturnPage,
    ReturnReception,
    Shipping,
    ShippingOut,
    VoucherApplied,
)
from forever.listings.service import SYSTEM_ACTOR, actor_of, current_grid, record_event
from forever.listings.tables import Listing as ListingRow
from forever.listings.tables import OrderHold, OrderItem, ReturnItem, ShopOrder, ShopReturn
from forever.money import Money
from forever.notify import service as notify
from forever.pagination import check_limit, decode_cursor, encode_cursor
from forever.tradein import carrier as carriers
from forever.tradein import documents
from forever.vouchers import model as vouchers_model
from forever.vouchers import service as vouchers

log = logging.getLogger("forever.listings.orders")

HOLDER = vouchers_model.RESALE_CHECKOUT
OPEN, CAPTURED, VOIDED = "open", "captured", "voided"
# Who may see any order and return besides its buyer: the resale warehouse and customer service.
ORDER_STAFF_ROLES = (accounts_model.GRADER, accounts_model.STORE_STAFF, accounts_model.ADMIN,
                     accounts_model.CUSTOMER_SERVICE)


def _eur(cents: int) -> Money:
    return Money(cents, model.CURRENCY)


def _paris_day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(clock.PARIS).date()


def _buyer(principal: Principal) -> uuid.UUID:
    if principal.kind != "person" or principal.account_id is None:
        raise NotFound("Nothing here.")
    return uuid.UUID(principal.account_id)


def _order_key(order_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(order_id)
    except (TypeError, ValueError):
        raise NotFound("No such order.", code="order_not_found") from None


def _listing_keys(listing_ids: Sequence[str]) -> list[uuid.UUID]:
    """The distinct pieces asked for, in id order (the order rows are locked in); 422 for a malformed id."""
    keys = set()
    for listing_id in listing_ids:
        try:
            keys.add(uuid.UUID(listing_id))
        except ValueError:
            raise InvalidInput(f"{listing_id!r} is not a piece of the shop.", code="unknown_listing",
                               errors=[{"field": "listing_ids", "message": listing_id}]) from None
    return sorted(keys)


async def _lock_listings(keys: Sequence[uuid.UUID]) -> list[dict]:
    """The pieces, locked for the rest of the transaction in id order; 422 `unknown_listing` if one is
    missing."""
    placeholders = ", ".join(["{}"] * len(keys))
    if not db.is_sqlite():  # SQLite's writer lock already serialises the transaction
        await db.fetch(f"SELECT id FROM listing WHERE id IN ({placeholders}) ORDER BY id FOR UPDATE", *keys)
    rows = await db.fetch(f"SELECT * FROM listing WHERE id IN ({placeholders}) ORDER BY id", *keys)
    missing = set(keys) - {_uuid(row["id"]) for row in rows}
    if missing:
        raise InvalidInput("Some pieces are not in the shop.", code="unknown_listing",
                           errors=[{"field": "listing_ids", "message": str(key)} for key in sorted(missing)])
    return rows


def _uuid(value: object) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


async def _lock_order(key: uuid.UUID, buyer: uuid.UUID | None = None) -> dict:
    """An order, locked for the rest of the transaction; with `buyer`, only theirs (else 404)."""
    if not db.is_sqlite():
        await db.fetch("SELECT id FROM shop_order WHERE id = {} FOR UPDATE", key)
    query = ShopOrder.select().where(ShopOrder.id == key)
    if buyer is not None:
        query = query.where(ShopOrder.buyer == buyer)
    row = await query.output(load_json=True).first()
    if row is None:
        raise NotFound("No such order.", code="order_not_found")
    return row


def _taken(rows: Sequence[dict], buyer: uuid.UUID, now: dt.datetime) -> list[dict]:
    """The pieces `buyer` may not take now."""
    return [row for row in rows if not model.is_available(
        row["status"], _str(row["reserved_by"]), row["reserved_until"], row["reserved_order"] is not None,
        str(buyer), now)]


def _unavailable(rows: Sequence[dict]) -> Conflict:
    return Conflict("Sorry: some of these pieces were just bought or are in another buyer's checkout.",
                    code="listing_unavailable",
                    errors=[{"field": "listing_ids", "message": str(row["id"])} for row in rows])


def _check_address(shipping: Shipping) -> None:
    """PO boxes are refused (002_); 422 `po_box`."""
    problems = rules.delivery_address_problems(msgspec.structs.asdict(shipping.address),
                                               country=shipping.country)
    if rules.PO_BOX in problems:
        raise InvalidInput("We do not deliver to PO boxes: give a street address.", code="po_box",
                           errors=[{"field": "shipping.address", "message": "a PO box"}])
    if problems:
        raise InvalidInput("The delivery address is incomplete.", code=problems[0],
                           errors=[{"field": "shipping.address", "message": problems[0]}])


# --- checkout: pieces set aside while the buyer pays ----------------------------------------------------------


async def _checkout_of(buyer: uuid.UUID) -> list[uuid.UUID]:
    """The pieces in the buyer's checkout (reserved for them, in no order), read without a lock."""
    rows = await db.fetch("SELECT id FROM listing WHERE status = {} AND reserved_by = {} "
                          "AND reserved_order IS NULL", model.RESERVED, buyer)
    return [_uuid(row["id"]) for row in rows]


def _in_checkout_of(row: dict, buyer: uuid.UUID) -> bool:
    return row["status"] == model.RESERVED and _str(row["reserved_by"]) == str(buyer) \
        and row["reserved_order"] is None


async def _release_checkout(buyer: uuid.UUID) -> int:
    """Put the buyer's checkout pieces back on sale."""
    earlier = await _checkout_of(buyer)
    if not earlier:
        return 0
    gone = [_uuid(row["id"]) for row in await _lock_listings(sorted(earlier)) if _in_checkout_of(row, buyer)]
    if gone:
        await _back_on_sale(gone)
    return len(gone)


async def _back_on_sale(keys: Sequence[uuid.UUID]) -> None:
    await ListingRow.update({ListingRow.status: model.LIVE, ListingRow.reserved_by: None,
                             ListingRow.reserved_until: None, ListingRow.reserved_order: None}).where(
        ListingRow.id.is_in(list(keys)))


async def start_checkout(buyer: Principal, data: ReservationCreate) -> Reservation:
    """Set pieces aside for the buyer for 15 minutes while they check out (replacing any earlier checkout of
    theirs); 409 `listing_unavailable` when another buyer has one of them."""
    buyer_key = _buyer(buyer)
    keys = _listing_keys(data.listing_ids)
    now = clock.now()
    until = now + model.RESERVATION_TIME
    async with db.write_transaction():
        # The earlier checkout's pieces are locked with the new ones, all in id order (not in two rounds).
        locked = {_uuid(row["id"]): row
                  for row in await _lock_listings(sorted(set(keys) | set(await _checkout_of(buyer_key))))}
        rows = [locked[key] for key in keys]
        taken = _taken(rows, buyer_key, now)
        if taken:
            raise _unavailable(taken)
        gone = [key for key, row in locked.items() if key not in keys and _in_checkout_of(row, buyer_key)]
        if gone:
            await _back_on_sale(gone)
        await ListingRow.update({ListingRow.status: model.RESERVED, ListingRow.reserved_by: buyer_key,
                                 ListingRow.reserved_until: until, ListingRow.reserved_order: None}).where(
            ListingRow.id.is_in(keys))
    return Reservation(listing_ids=[str(key) for key in keys], expires_at=until,
                       subtotal=_eur(sum(row["price"] for row in rows)))


def _str(value: object) -> str | None:
    return None if value is None else str(value)


async def current_checkout(buyer: Principal) -> Reservation:
    """The pieces the buyer has set aside now; 404 `no_checkout` when none (or it lapsed)."""
    rows = await db.fetch("SELECT id, price, reserved_until FROM listing WHERE status = {} "
                          "AND reserved_by = {} AND reserved_order IS NULL AND reserved_until > {} ORDER BY id",
                          model.RESERVED, _buyer(buyer), clock.now())
    if not rows:
        raise NotFound("Nothing is set aside for you.", code="no_checkout")
    return Reservation(listing_ids=[str(row["id"]) for row in rows],
                       expires_at=min(row["reserved_until"] for row in rows),
                       subtotal=_eur(sum(row["price"] for row in rows)))


async def abandon_checkout(buyer: Principal) -> int:
    """Put the buyer's checkout pieces back on sale now; returns how many."""
    async with db.write_transaction():
        return await _release_checkout(_buyer(buyer))


async def price_basket(buyer: Principal, data: BasketCreate) -> BasketPrice:
    """What an order of these pieces would cost before vouchers (pieces, delivery by the shared rules), and
    which pieces cannot be bought now."""
    buyer_key = _buyer(buyer)
    keys = _listing_keys(data.listing_ids)
    placeholders = ", ".join(["{}"] * len(keys))
    rows = await db.fetch(f"SELECT * FROM listing WHERE id IN ({placeholders})", *keys)
    if len(rows) != len(keys):
        raise InvalidInput("Some pieces are not in the shop.", code="unknown_listing",
                           errors=[{"field": "listing_ids", "message": "unknown"}])
    _check_address(data.shipping)
    unavailable = [str(row["id"]) for row in _taken(rows, buyer_key, clock.now())]
    subtotal = _eur(sum(row["price"] for row in rows))
    fee = rules.delivery_fee(data.shipping.country, data.shipping.method, subtotal)
    return BasketPrice(subtotal=subtotal, delivery_fee=fee.fee, free_threshold=fee.free_threshold,
                       total=subtotal + fee.fee, available=not unavailable,
                       unavailable_ids=sorted(unavailable))


# --- placing an order -----------------------------------------------------------------------------------------


def _order_ref(order_key: uuid.UUID) -> str:
    return f"resale-order:{order_key}"


async def place_order(buyer: Principal, data: OrderCreate, address: str, *,
                      claim: Claim | None = None) -> Order:
    """Buy pieces: 409 `listing_unavailable` when one is reserved by another buyer or sold; PO boxes refused;
    delivery fee from the shared rules; the vouchers given pay first (soonest-expiring first, only what the
    order needs, through holds), the card the rest. Cancellable for 30 minutes."""
    buyer_key = _buyer(buyer)
    keys = _listing_keys(data.listing_ids)
    _check_address(data.shipping)
    order_key = uuid.uuid4()
    total = await _reserve_for_order(order_key, buyer_key, keys, data.shipping)
    try:
        paid_by_vouchers = await _hold_vouchers(order_key, buyer, data.voucher_codes, total, address)
        card_part = total - paid_by_vouchers
        if card_part > 0:
            if data.card is None:
                raise InvalidInput(f"{_eur(card_part).format()} is left to pay: give a card.",
                                   code="card_required",
                                   errors=[{"field": "card", "message": "required"}])
            await _authorise_card(order_key, data, card_part)
        order = await _confirm(order_key, keys, claim)
    except DomainError as error:
        await _give_back(order_key, error.code)
        raise
    except BaseException:
        await _give_back(order_key, "internal_error")
        raise
    await _tell_buyer(buyer_key, f"Your AMI For Ever order {order_reference(order_key)} is confirmed",
                      _confirmation_text(order))
    return order


async def _reserve_for_order(order_key: uuid.UUID, buyer_key: uuid.UUID, keys: list[uuid.UUID],
                             shipping: Shipping) -> int:
    """Step 1: lock the pieces, check each is the buyer's to take, price the order, and reserve them for it.
    Returns the order's total in cents."""
    now = clock.now()
    async with db.write_transaction():
        rows = await _lock_listings(keys)
        taken = _taken(rows, buyer_key, now)
        if taken:
            raise _unavailable(taken)
        subtotal = _eur(sum(row["price"] for row in rows))
        fee = rules.delivery_fee(shipping.country, shipping.method, subtotal)
        await ShopOrder.insert(ShopOrder(
            id=order_key, buyer=buyer_key, status=model.PENDING, currency=model.CURRENCY,
            subtotal=subtotal.amount, delivery_fee=fee.fee.amount,
            free_threshold=fee.free_threshold.amount if fee.free_threshold else None,
            ship_country=shipping.country, ship_method=shipping.method,
            ship_address=msgspec.structs.asdict(shipping.address),
            created_at=now))
        await OrderItem.insert(*[
            OrderItem(order=order_key, listing=row["id"], name=row["name"], category=row["category"],
                      size=row["size"], condition=row["condition"], price=row["price"]) for row in rows])
        await ListingRow.update({ListingRow.status: model.RESERVED, ListingRow.reserved_by: buyer_key,
                                 ListingRow.reserved_until: now + model.RESERVATION_TIME,
                                 ListingRow.reserved_order: order_key}).where(ListingRow.id.is_in(keys))
    return subtotal.amount + fee.fee.amount


async def _still_pending(order_key: uuid.UUID) -> dict:
    """Inside a transaction: the order, locked, while it is still being placed; else 409 `checkout_expired`
    (the lapsed-reservation job gave it up)."""
    order = await _lock_order(order_key)
    if order["status"] != model.PENDING:
        raise Conflict("This checkout took too long and lapsed: place the order again.",
                       code="checkout_expired")
    return order


async def _hold_vouchers(order_key: uuid.UUID, buyer: Principal, codes: Sequence[str], total: int,
                         address: str) -> int:
    """Step 2a: hold what the vouchers can pay of the order (at most its total); returns how much."""
    if not codes:
        return 0
    try:
        holds = await vouchers.authorise_payment(_eur(total), _order_ref(order_key), codes=codes,
                                                 account_id=buyer.account_id, holder=HOLDER,
                                                 channel=vouchers_model.RESALE, address=address)
    except NotFound as error:  # a code in the body that finds nothing is bad input, not a missing resource
        raise InvalidInput(error.detail, code=error.code,
                           errors=[{"field": "voucher_codes", "message": "unknown code"}]) from None
    async with db.write_transaction():
        await _still_pending_or_void(order_key, [hold.hold_id for hold in holds])
        if holds:
            await OrderHold.insert(*[OrderHold(order=order_key, hold_id=hold.hold_id,
                                               amount=hold.amount.amount,
                                               status=OPEN) for hold in holds])
            paid = sum(hold.amount.amount for hold in holds)
            await ShopOrder.update({ShopOrder.vouchers_applied: paid}).where(ShopOrder.id == order_key)
    return sum(hold.amount.amount for hold in holds)


async def _still_pending_or_void(order_key: uuid.UUID, hold_ids: Sequence[str]) -> None:
    try:
        await _still_pending(order_key)
    except Conflict:
        for hold_id in hold_ids:
            await vouchers.void_hold(HOLDER, hold_id)
        raise


async def _authorise_card(order_key: uuid.UUID, data: OrderCreate, amount: int) -> None:
    """Step 2b: authorise the card for the rest, and note the authorisation on the order."""
    assert data.card is not None
    provider = payments.current()
    authorisation = await provider.authorise(_eur(amount), data.card, _order_ref(order_key))
    async with db.write_transaction():
        try:
            await _still_pending(order_key)
        except Conflict:
            await provider.release(authorisation.reference)
            raise
        await ShopOrder.update({ShopOrder.card_amount: amount, ShopOrder.payment_provider: provider.name,
                                ShopOrder.payment_authorisation: authorisation.reference,
                                ShopOrder.card_last4: authorisation.card_last4}).where(
            ShopOrder.id == order_key)


async def _confirm(order_key: uuid.UUID, keys: list[uuid.UUID], claim: Claim | None) -> Order:
    """Step 3: the order is confirmed, its pieces sold."""
    now = clock.now()
    async with db.write_transaction():
        await _still_pending(order_key)
        rows = await _lock_listings(keys)
        lost = [row for row in rows
                if row["status"] != model.RESERVED or _str(row["reserved_order"]) != str(order_key)]
        if lost:
            raise _unavailable(lost)
        await ListingRow.update({ListingRow.status: model.SOLD, ListingRow.sold_order: order_key,
                                 ListingRow.reserved_by: None, ListingRow.reserved_until: None,
                                 ListingRow.reserved_order: None}).where(ListingRow.id.is_in(keys))
        for key in keys:
            await record_event(key, "sold", SYSTEM_ACTOR, f"order {order_key}")
        await ShopOrder.update({ShopOrder.status: model.CONFIRMED, ShopOrder.confirmed_at: now,
                                ShopOrder.cancel_until: rules.cancellation_deadline(now)}).where(
            ShopOrder.id == order_key)
        order = await _load_order(order_key)
        await idempotency.record(claim, order)
    log.info("order %s confirmed: %d pieces, %d cents", order_key, len(keys), order.subtotal.amount)
    return order


async def _give_back(order_key: uuid.UUID, reason: str) -> None:
    """Undo a pending order: void its holds, release its card authorisation, put its pieces back on sale, and
    mark it failed. A no-op once the order is no longer pending (or was never written)."""
    async with db.write_transaction():
        try:
            order = await _lock_order(order_key)
        except NotFound:
            return
        if order["status"] != model.PENDING:
            return
        await _release_payment(order)
        reserved = await db.fetch("SELECT id FROM listing WHERE reserved_order = {}", order_key)
        if reserved:
            await _lock_listings(sorted(_uuid(row["id"]) for row in reserved))
            await _back_on_sale([_uuid(row["id"]) for row in reserved])
        await ShopOrder.update({ShopOrder.status: model.FAILED, ShopOrder.failure_code: reason[:64]}).where(
            ShopOrder.id == order_key)
    log.info("order %s given up: %s", order_key, reason)


async def _release_payment(order: dict) -> None:
    """Void the order's open holds and release its card authorisation (inside the caller's transaction)."""
    for hold in await OrderHold.select().where(OrderHold.order == order["id"], OrderHold.status == OPEN):
        await vouchers.void_hold(HOLDER, hold["hold_id"])
        await OrderHold.update({OrderHold.status: VOIDED}).where(OrderHold.id == hold["id"])
    if order["payment_authorisation"]:
        await payments.current().release(order["payment_authorisation"])


# --- reading orders -------------------------------------------------------------------------------------------


def _return_deadline(order: dict, items: Sequence[dict]) -> dt.date | None:
    if order["delivered_at"] is None or not items:
        return None
    delivered_on = _paris_day(order["delivered_at"])
    decision = rules.return_eligibility(rules.ONLINE, items[0]["category"], delivered_on=delivered_on,
                                        today=max(clock.today(), delivered_on))
    return decision.deadline


def _label_url(order_key: object, return_key: object) -> str:
    return f"/api/v1/orders/{order_key}/returns/{return_key}/label.pdf"


_RETURN_LINES = """
    SELECT r.shop_return, r.price, r.condition_matches, r.observed_condition, r.note, i.listing, i.name
    FROM return_item r JOIN order_item i ON i.id = r.order_item
    WHERE r.shop_return IN ({}) ORDER BY i.id
"""


async def _returns_of(order_key: uuid.UUID) -> list[ReturnOut]:
    returns = await ShopReturn.select().where(ShopReturn.order == order_key).order_by(ShopReturn.requested_at,
                                                                                       ShopReturn.id)
    if not returns:
        return []
    lines = await db.fetch(_RETURN_LINES.format(", ".join(["{}"] * len(returns))),
                           *[row["id"] for row in returns])
    return [_return_out(row, [line for line in lines if _str(line["shop_return"]) == str(row["id"])])
            for row in returns]


def _return_out(row: dict, lines: Sequence[dict], grades: dict[str, str] | None = None) -> ReturnOut:
    return ReturnOut(
        id=str(row["id"]), order_id=str(row["order"]), status=row["status"], reason=row["reason"],
        items=[ReturnLine(listing_id=str(line["listing"]), name=line["name"], price=_eur(line["price"]),
                          condition_matches=line["condition_matches"],
                          passport_grade=(grades or {}).get(str(line["listing"])),
                          observed_condition=line["observed_condition"],
                          note=line["note"]) for line in lines],
        requested_at=row["requested_at"], ship_by=row["ship_by"], tracking_number=row["tracking_number"],
        label_url=_label_url(row["order"], row["id"]), received_at=row["received_at"],
        refund_due_by=row["refund_due_by"], card_refund=_eur(row["card_refund"]),
        voucher_part=_eur(row["voucher_part"]), withheld=_eur(row["withheld"]),
        refunded_at=row["refunded_at"])


async def _load_order(order_key: uuid.UUID) -> Order:
    order = await ShopOrder.select().where(ShopOrder.id == order_key).output(load_json=True).first()
    items = await OrderItem.select().where(OrderItem.order == order_key).order_by(OrderItem.id)
    holds = await OrderHold.select().where(OrderHold.order == order_key).order_by(OrderHold.id)
    returned = {_str(row["order_item"]) for row in await ReturnItem.select(ReturnItem.order_item).where(
        ReturnItem.order_item.is_in([item["id"] for item in items]))} if items else set()
    return Order(
        id=str(order["id"]), status=order["status"],
        items=[OrderLine(listing_id=str(item["listing"]), name=item["name"], category=item["category"],
                         size=item["size"], condition=item["condition"], price=_eur(item["price"]),
                         returned=str(item["id"]) in returned) for item in items],
        subtotal=_eur(order["subtotal"]), delivery_fee=_eur(order["delivery_fee"]),
        vouchers_applied=[VoucherApplied(hold_id=hold["hold_id"], amount=_eur(hold["amount"]),
                                         status=hold["status"])
                          for hold in holds],
        total_due=_eur(order["subtotal"] + order["delivery_fee"] - order["vouchers_applied"]),
        card_last4=order["card_last4"],
        shipping=ShippingOut(country=order["ship_country"], method=order["ship_method"],
                             address=dict(order["ship_address"])),
        created_at=order["created_at"], confirmed_at=order["confirmed_at"],
        cancel_until=order["cancel_until"],
        cancelled_at=order["cancelled_at"], shipped_at=order["shipped_at"],
        tracking_number=order["tracking_number"],
        delivered_at=order["delivered_at"], return_deadline=_return_deadline(order, items),
        returns=await _returns_of(order_key))


def _reader_filter(reader: Principal) -> uuid.UUID | None:
    """None when `reader` may see every order, else the only buyer whose orders they may see."""
    if reader.kind == "person" and reader.role in ORDER_STAFF_ROLES:
        return None
    return _buyer(reader)


async def get_order(reader: Principal, order_id: str) -> Order:
    """An order, for its buyer or for staff (the resale warehouse, customer service); anyone else: not
    found."""
    key = _order_key(order_id)
    query = ShopOrder.select(ShopOrder.id).where(ShopOrder.id == key)
    buyer = _reader_filter(reader)
    if buyer is not None:
        query = query.where(ShopOrder.buyer == buyer)
    if await query.first() is None:
        raise NotFound("No such order.", code="order_not_found")
    return await _load_order(key)


async def _order_page(where: str, args: list[object], limit: int, cursor: str | None) -> OrderPage:
    check_limit(limit)
    if cursor is not None:
        created_at, row_id = decode_cursor(cursor, (str, str))
        try:
            after, after_id = dt.datetime.fromisoformat(created_at), uuid.UUID(row_id)
        except ValueError:
            raise InvalidInput("That cursor is not one this list gave out.", code="invalid_cursor") from None
        where += " AND (created_at < {} OR (created_at = {} AND id < {}))"
        args = [*args, after, after, after_id]
    rows = await db.fetch(f"SELECT * FROM shop_order WHERE {where} ORDER BY created_at DESC, id DESC "
                          "LIMIT {}", *args, limit + 1)
    page = rows[:limit]
    counts: dict[str, int] = {}
    if page:
        keys = [row["id"] for row in page]
        for item in await OrderItem.select(OrderItem.order).where(OrderItem.order.is_in(keys)):
            counts[str(item["order"])] = counts.get(str(item["order"]), 0) + 1
    items = [OrderSummary(id=str(row["id"]), status=row["status"], created_at=row["created_at"],
                          piece_count=counts.get(str(row["id"]), 0), subtotal=_eur(row["subtotal"]),
                          delivery_fee=_eur(row["delivery_fee"]),
                          total_due=_eur(row["subtotal"] + row["delivery_fee"] - row["vouchers_applied"]))
             for row in page]
    next_cursor = None
    if len(rows) > limit:
        next_cursor = encode_cursor(page[-1]["created_at"].isoformat(), str(page[-1]["id"]))
    return OrderPage(items=items, next_cursor=next_cursor)


async def list_orders(buyer: Principal, limit: int = 20, cursor: str | None = None) -> OrderPage:
    """The buyer's orders, newest first (those whose payment failed included)."""
    return await _order_page("buyer = {}", [_buyer(buyer)], limit, cursor)


async def staff_orders(status: str | None = model.CONFIRMED, limit: int = 20,
                       cursor: str | None = None) -> OrderPage:
    """Orders by status, newest first: what the warehouse has to ship (`confirmed`), to watch
    (`shipped`)..."""
    if status not in model.ORDER_STATUSES:
        raise InvalidInput(f"Unknown status {status!r}.", code="invalid_status",
                           errors=[{"field": "status",
                                    "message": f"one of {', '.join(model.ORDER_STATUSES)}"}])
    return await _order_page("status = {}", [status], limit, cursor)


# --- cancelling, shipping, delivering -------------------------------------------------------------------------


async def cancel_order(buyer: Principal, order_id: str, *, claim: Claim | None = None) -> Order:
    """Cancel within 30 minutes of confirmation (002_): the vouchers' holds voided, the card released, the
    pieces back on sale. 409 `cancellation_window_closed` after."""
    key = _order_key(order_id)
    buyer_key = _buyer(buyer)
    now = clock.now()
    async with db.write_transaction():
        order = await _lock_order(key, buyer_key)
        if order["status"] != model.CONFIRMED:
            raise Conflict(f"This order is {order['status']}: it can no longer be cancelled.",
                           code="order_not_cancellable")
        if not rules.can_cancel(order["confirmed_at"], now):
            raise Conflict("Orders can be cancelled within 30 minutes of confirmation; this one can no "
                           "longer be.", code="cancellation_window_closed")
        await _release_payment(order)
        sold = sorted(_uuid(row["listing"]) for row in await OrderItem.select(OrderItem.listing).where(
            OrderItem.order == key))
        await _lock_listings(sold)
        await ListingRow.update({ListingRow.status: model.LIVE, ListingRow.sold_order: None}).where(
            ListingRow.id.is_in(sold), ListingRow.sold_order == key)
        for listing in sold:
            await record_event(listing, "order_cancelled", actor_of(buyer), f"order {key}")
        await ShopOrder.update({ShopOrder.status: model.CANCELLED, ShopOrder.cancelled_at: now}).where(
            ShopOrder.id == key)
        cancelled = await _load_order(key)
        await idempotency.record(claim, cancelled)
    log.info("order %s cancelled by its buyer", key)
    return cancelled


async def ship_order(staff: Principal, order_id: str, *, claim: Claim | None = None) -> Order:
    """The warehouse ships a confirmed order once its cancellation window has closed: the vouchers' holds and
    the card are captured, and the parcel gets its tracking number. 409 `cancellation_window_open` before."""
    key = _order_key(order_id)
    now = clock.now()
    async with db.write_transaction():
        order = await _lock_order(key)
        if order["status"] != model.CONFIRMED:
            raise Conflict(f"This order is {order['status']}: only confirmed orders are shipped.",
                           code="order_not_shippable")
        if rules.can_cancel(order["confirmed_at"], now):
            raise Conflict(f"The buyer may still cancel until {order['cancel_until'].isoformat()}: ship "
                           "after.", code="cancellation_window_open")
        for hold in await OrderHold.select().where(OrderHold.order == key, OrderHold.status == OPEN):
            await vouchers.capture_hold(HOLDER, hold["hold_id"])
            await OrderHold.update({OrderHold.status: CAPTURED}).where(OrderHold.id == hold["id"])
        if order["payment_authorisation"]:
            await payments.current().capture(order["payment_authorisation"], _eur(order["card_amount"]))
        tracking_number = await carriers.current().book(carriers.Shipment(
            reference=f"resale order {key}",
            piece_count=await OrderItem.count().where(OrderItem.order == key),
            sender_name="AMI For Ever warehouse", sender_country="FR"))
        await ShopOrder.update({ShopOrder.status: model.SHIPPED, ShopOrder.shipped_at: now,
                                ShopOrder.tracking_number: tracking_number}).where(ShopOrder.id == key)
        shipped = await _load_order(key)
        await idempotency.record(claim, shipped)
    log.info("order %s shipped: %s", key, tracking_number)
    await _tell_buyer(order["buyer"], f"Your AMI For Ever order {order_reference(key)} is on its way",
                      f"Your order {order_reference(key)} has left our warehouse: tracking number "
                      f"{tracking_number}. You may return pieces within 14 days of delivery.")
    return shipped


async def mark_delivered(order_id: str, data: DeliveryCreate, *, claim: Claim | None = None) -> Order:
    """The carrier (or staff) reports a shipped order delivered; the 14 days to ask for a return start
    then."""
    key = _order_key(order_id)
    now = clock.now()
    delivered_at = data.delivered_at or now
    if delivered_at.tzinfo is None or delivered_at > now:
        raise InvalidInput("delivered_at must carry its UTC offset and not be in the future.",
                           code="invalid_delivered_at",
                           errors=[{"field": "delivered_at", "message": "invalid"}])
    async with db.write_transaction():
        order = await _lock_order(key)
        if order["status"] != model.SHIPPED:
            raise Conflict(f"This order is {order['status']}: only shipped orders are delivered.",
                           code="order_not_shipped")
        if delivered_at < order["shipped_at"]:
            raise InvalidInput("An order is delivered after it is shipped.", code="invalid_delivered_at",
                               errors=[{"field": "delivered_at", "message": "before shipment"}])
        await ShopOrder.update({ShopOrder.status: model.DELIVERED,
                                ShopOrder.delivered_at: delivered_at}).where(
            ShopOrder.id == key)
        delivered = await _load_order(key)
        await idempotency.record(claim, delivered)
    return delivered


# --- returns --------------------------------------------------------------------------------------------------


def _return_key(return_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(return_id)
    except (TypeError, ValueError):
        raise NotFound("No such return.", code="return_not_found") from None


def return_reference(return_key: uuid.UUID) -> str:
    """The short reference printed on a return label, e.g. "AFR-3F9A2C1B"."""
    return "AFR-" + str(return_key).replace("-", "")[:8].upper()


async def request_return(buyer: Principal, order_id: str, data: ReturnCreate, *,
                         claim: Claim | None = None) -> ReturnOut:
    """Return pieces of a delivered order within 14 days of delivery (the shared rules): a prepaid return
    label, e-mailed too. 409 `return_window_closed` after; `already_returned` for a piece returned before."""
    order_key = _order_key(order_id)
    buyer_key = _buyer(buyer)
    keys = _listing_keys(data.listing_ids)
    account = await accounts.get_account(str(buyer_key))
    return_key = uuid.uuid4()
    now = clock.now()
    async with db.write_transaction():
        order = await _lock_order(order_key, buyer_key)
        if order["status"] != model.DELIVERED:
            raise Conflict(f"This order is {order['status']}: pieces are returned once delivered.",
                           code="order_not_delivered")
        items = {_uuid(item["listing"]): item
                 for item in await OrderItem.select().where(OrderItem.order == order_key)}
        strangers = [key for key in keys if key not in items]
        if strangers:
            raise InvalidInput("Some pieces are not in this order.", code="not_in_order",
                               errors=[{"field": "listing_ids", "message": str(key)} for key in strangers])
        chosen = [items[key] for key in keys]
        if await ReturnItem.exists().where(ReturnItem.order_item.is_in([item["id"] for item in chosen])):
            raise Conflict("Some of these pieces were already returned.", code="already_returned")
        _check_returnable(order, chosen)
        shipment = await carriers.current().book(carriers.Shipment(
            reference=return_reference(return_key), piece_count=len(chosen),
            sender_name=f"{account.first_name} {account.last_name}", sender_country=order["ship_country"]))
        await ShopReturn.insert(ShopReturn(
            id=return_key, order=order_key, status=model.REQUESTED, reason=data.reason, requested_at=now,
            ship_by=_paris_day(now) + model.RETURN_SHIP_WITHIN, carrier=carriers.current().name,
            tracking_number=shipment))
        await ReturnItem.insert(*[ReturnItem(shop_return=return_key, order_item=item["id"],
                                             price=item["price"])
                                  for item in chosen])
        answer = next(row for row in await _returns_of(order_key) if row.id == str(return_key))
        await idempotency.record(claim, answer)
    await _mail_return_label(account, answer)
    log.info("order %s: return %s of %d pieces, parcel %s", order_key, return_key, len(chosen), shipment)
    return answer


def _check_returnable(order: dict, items: Sequence[dict]) -> None:
    today = clock.today()
    delivered_on = _paris_day(order["delivered_at"])
    for item in items:
        decision = rules.return_eligibility(rules.ONLINE, item["category"], delivered_on=delivered_on,
                                            today=today)
        if decision.eligible:
            continue
        if rules.RETURN_WINDOW_CLOSED in decision.reasons:
            raise Conflict(f"Returns are asked for within 14 days of delivery: the last day was "
                           f"{decision.deadline:%d/%m/%Y}.", code="return_window_closed")
        raise Conflict(f"{item['name']} cannot be returned ({', '.join(decision.reasons)}).",
                       code="not_returnable",
                       errors=[{"field": "listing_ids", "message": str(item["listing"])}])


def _label(account, row: ReturnOut) -> documents.Label:
    return documents.Label(
        tracking_number=row.tracking_number, carrier=carriers.display_name(carriers.current().name),
        reference=return_reference(uuid.UUID(row.id)), piece_count=len(row.items),
        sender_name=f"{account.first_name} {account.last_name}", sender_email=account.email,
        sender_country=account.country, ship_by=row.ship_by, purpose=documents.RETURN_LABEL)


def order_reference(order_key: uuid.UUID) -> str:
    """The short reference of an order in e-mails and pages, e.g. "AFO-3F9A2C1B"."""
    return "AFO-" + str(order_key).replace("-", "")[:8].upper()


def _confirmation_text(order: Order) -> str:
    """The summary e-mail by which an order is concluded (001_: "the buyer receives a summary e-mail")."""
    pieces = "\n".join(f"- {item.name}{f' ({item.size})' if item.size else ''}, "
                       f"{item.condition.replace('_', ' ')}: {item.price.format()}" for item in order.items)
    vouchers = sum(voucher.amount.amount for voucher in order.vouchers_applied)
    assert order.cancel_until is not None
    cancel_until = order.cancel_until.astimezone(clock.PARIS)
    return (f"Thank you for your order {order_reference(uuid.UUID(order.id))}.\n\n{pieces}\n"
            f"Delivery: {order.delivery_fee.format()}\n"
            + (f"Paid by vouchers: {_eur(vouchers).format()}\n" if vouchers else "")
            + f"Paid by card: {order.total_due.format()}\n\n"
            f"You may cancel it until {cancel_until:%H:%M} (Paris time) on {cancel_until:%d/%m/%Y}.")


async def _tell_buyer(buyer: object, subject: str, text: str) -> None:
    """E-mail the buyer; a mail that cannot go out does not undo the step it reports (it is logged)."""
    try:
        account = await accounts.get_account(str(buyer))
        await notify.send(account.email, subject, f"Hello {account.first_name},\n\n{text}\n\nAMI For Ever")
    except Exception:
        log.exception("the e-mail %r could not be sent", subject)


async def _mail_return_label(account, row: ReturnOut) -> None:
    """E-mail the label; a mail that cannot go out does not undo the return (the label is on the order)."""
    try:
        await notify.send(account.email,
                          f"Your AMI For Ever return {return_reference(uuid.UUID(row.id))}: label",
                          f"Hello {account.first_name},\n\nYour return is registered. Print the "
                          "prepaid label (attached), stick it on the parcel and drop it off by "
                          f"{row.ship_by:%d/%m/%Y}: tracking number {row.tracking_number}.\n\nThe pieces "
                          "must be in their original condition, labels attached. We refund what your card "
                          "paid within 14 days of receiving them; what vouchers paid is not re-credited "
                          "automatically: our customer service can re-credit it on request.\n\nAMI For Ever",
                          (notify.Attachment(f"return-label-{row.tracking_number}.pdf",
                                             documents.label_pdf(_label(account, row)), "application/pdf"),))
    except Exception:
        log.exception("return %s: the label e-mail could not be sent", row.id)


async def return_label(reader: Principal, order_id: str, return_id: str) -> bytes:
    """The prepaid return label (PDF A6), for the order's buyer or staff."""
    order = await get_order(reader, order_id)
    row = next((row for row in order.returns if row.id == return_id), None)
    if row is None:
        raise NotFound("No such return.", code="return_not_found")
    order_row = await ShopOrder.select(ShopOrder.buyer).where(ShopOrder.id == _order_key(order_id)).first()
    return documents.label_pdf(_label(await accounts.get_account(str(order_row["buyer"])), row))


async def receive_return(staff: Principal, return_id: str, data: ReturnReception, *,
                         claim: Claim | None = None) -> ReturnOut:
    """The warehouse receives a return and checks each piece against its passport: pieces as graded are
    refunded on the card (what the card paid first) within the rules' refund deadline; the voucher part is not
    re-credited (customer service may do it by hand); a piece not as graded is withheld for customer service.
    Every piece goes back to stock, to be refurbished again (a piece found worse keeps the grade it was found
    in)."""
    return_key = _return_key(return_id)
    now = clock.now()
    found = await ShopReturn.select(ShopReturn.order).where(ShopReturn.id == return_key).first()
    if found is None:
        raise NotFound("No such return.", code="return_not_found")
    async with db.write_transaction():
        order = await _lock_order(found["order"])
        shop_return = await ShopReturn.select().where(ShopReturn.id == return_key).first()
        if shop_return["status"] != model.REQUESTED:
            raise Conflict("This return was already received.", code="already_received")
        lines = await db.fetch("SELECT r.id, r.price, i.listing, i.name FROM return_item r "
                               "JOIN order_item i ON i.id = r.order_item WHERE r.shop_return = {} "
                               "ORDER BY i.id", return_key)
        checks = _checks_for(lines, data)
        locked = await _lock_listings(sorted(_uuid(line["listing"]) for line in lines))
        pieces = {_uuid(row["id"]): row for row in locked}
        grades = {}
        for line in lines:
            listing = _uuid(line["listing"])
            passport = await grading.passport(pieces[listing]["tradein_item"])
            grades[str(listing)] = passport.grade if passport else pieces[listing]["condition"]
        refundable = sum(line["price"] for line in lines if checks[str(line["listing"])].condition_matches)
        split = model.refund_split(refundable, order["card_amount"], order["card_refunded"])
        reference = None
        if split.card:
            reference = await payments.current().refund(order["payment_authorisation"], _eur(split.card))
        for line in lines:
            check = checks[str(line["listing"])]
            await ReturnItem.update({ReturnItem.condition_matches: check.condition_matches,
                                     ReturnItem.observed_condition: check.observed_condition,
                                     ReturnItem.note: check.note}).where(ReturnItem.id == line["id"])
            await _back_to_stock(staff, pieces[_uuid(line["listing"])], check.observed_condition, return_key)
        await ShopOrder.update({ShopOrder.card_refunded: order["card_refunded"] + split.card}).where(
            ShopOrder.id == order["id"])
        await ShopReturn.update({
            ShopReturn.status: model.RECEIVED, ShopReturn.received_at: now,
            ShopReturn.received_by: uuid.UUID(staff.account_id),
            ShopReturn.refund_due_by: rules.refund_deadline(_paris_day(now)),
            ShopReturn.card_refund: split.card,
            ShopReturn.voucher_part: split.vouchers,
            ShopReturn.withheld: sum(line["price"] for line in lines) - refundable,
            ShopReturn.refund_reference: reference, ShopReturn.refunded_at: now if split.card else None,
        }).where(ShopReturn.id == return_key)
        row = await ShopReturn.select().where(ShopReturn.id == return_key).first()
        found = [{**line, "condition_matches": check.condition_matches,
                  "observed_condition": check.observed_condition, "note": check.note}
                 for line in lines for check in (checks[str(line["listing"])],)]
        answer = _return_out(row, found, grades)
        await idempotency.record(claim, answer)
    log.info("return %s received: %d cents to the card, %d paid by vouchers, %d withheld", return_key,
             split.card, split.vouchers, answer.withheld.amount)
    return answer


def _checks_for(lines: Sequence[dict], data: ReturnReception) -> dict:
    """The warehouse's check of each returned piece, by listing id: exactly the return's pieces, once each."""
    checks = {check.listing_id: check for check in data.items}
    expected = {str(line["listing"]) for line in lines}
    if len(checks) != len(data.items) or set(checks) != expected:
        raise InvalidInput("Check each piece of the return once, and only those.",
                           code="return_items_mismatch",
                           errors=[{"field": "items", "message": f"expected {', '.join(sorted(expected))}"}])
    for check in data.items:
        if not check.condition_matches and check.observed_condition is None:
            raise InvalidInput("Say which condition a piece not as graded was found in.",
                               code="observed_condition_required",
                               errors=[{"field": "items.observed_condition", "message": "required"}])
    return checks


async def _back_to_stock(staff: Principal, piece: dict, observed: str | None, return_key: uuid.UUID) -> None:
    """A returned piece goes back to stock to be refurbished again; found in a worse condition, it is listed
    in that condition, at the grid's price for it unless staff had set their own."""
    values: dict = {ListingRow.status: model.STOCK, ListingRow.sold_order: None, ListingRow.shelf_seq: None,
                    ListingRow.published_at: None, ListingRow.cleaned_at: None, ListingRow.pressed_at: None,
                    ListingRow.retagged_at: None, ListingRow.photographed_at: None}
    if observed is not None and observed != piece["condition"]:
        grid = current_grid()
        grid_price = grid.price(piece["retail_price"], piece["category"], observed, piece["season"],
                                clock.today())
        values.update({ListingRow.condition: observed, ListingRow.grid_price: grid_price,
                       ListingRow.grid_version: grid.version})
        if not piece["price_overridden"]:
            values[ListingRow.price] = grid_price
    await ListingRow.update(values).where(ListingRow.id == piece["id"])
    await record_event(_uuid(piece["id"]), "returned", actor_of(staff),
                       f"return {return_key}" + (f", found {observed}" if observed else ""))


async def list_returns(status: str | None = model.REQUESTED, limit: int = 20,
                       cursor: str | None = None) -> ReturnPage:
    """Returns by status, oldest request first: what the warehouse is waiting for (`requested`)."""
    check_limit(limit)
    if status not in (model.REQUESTED, model.RECEIVED):
        raise InvalidInput(f"Unknown status {status!r}.", code="invalid_status",
                           errors=[{"field": "status", "message": "requested or received"}])
    sql, args = "SELECT id, requested_at FROM shop_return WHERE status = {}", [status]
    if cursor is not None:
        requested_at, row_id = decode_cursor(cursor, (str, str))
        try:
            after, after_id = dt.datetime.fromisoformat(requested_at), uuid.UUID(row_id)
        except ValueError:
            raise InvalidInput("That cursor is not one this list gave out.", code="invalid_cursor") from None
        sql += " AND (requested_at > {} OR (requested_at = {} AND id > {}))"
        args += [after, after, after_id]
    rows = await db.fetch(sql + " ORDER BY requested_at, id LIMIT {}", *args, limit + 1)
    items = [await get_return(str(row["id"])) for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor(last["requested_at"].isoformat(), str(last["id"]))
    return ReturnPage(items=items, next_cursor=next_cursor)


async def get_return(return_id: str) -> ReturnOut:
    """A return, for staff (its buyer sees it on the order)."""
    key = _return_key(return_id)
    row = await ShopReturn.select(ShopReturn.order).where(ShopReturn.id == key).first()
    if row is None:
        raise NotFound("No such return.", code="return_not_found")
    return next(item for item in await _returns_of(row["order"]) if item.id == str(key))


# --- jobs -----------------------------------------------------------------------------------------------------


async def release_lapsed_reservations() -> int:
    """Put back on sale the pieces of checkouts abandoned for 15 minutes, and give up the orders whose payment
    never finished (their holds voided, card released); returns how many pieces went back on sale."""
    now = clock.now()
    released = 0
    for row in await db.fetch("SELECT id FROM shop_order WHERE status = {} AND created_at <= {}",
                              model.PENDING, now - model.RESERVATION_TIME):
        pieces = await db.fetch("SELECT COUNT(*) AS n FROM listing WHERE reserved_order = {}", row["id"])
        await _give_back(_uuid(row["id"]), "checkout_expired")
        released += pieces[0]["n"]
    lapsed = await db.fetch("SELECT id FROM listing WHERE status = 'reserved' AND reserved_until <= {} "
                            "AND reserved_order IS NULL", now)
    if lapsed:
        async with db.write_transaction():
            rows = await _lock_listings(sorted(_uuid(row["id"]) for row in lapsed))
            still = [_uuid(row["id"]) for row in rows if row["status"] == model.RESERVED
                     and row["reserved_order"] is None and row["reserved_until"] <= now]
            if still:
                await _back_on_sale(still)
            released += len(still)
    return released


# --- privacy: a buyer's export and erasure, the orders' retention (forever.accounts.privacy) ---------------

# What a delivery address becomes once its buyer's data is erased or the order archived: the same fields, empty.
FORGOTTEN_ADDRESS = {"name": "", "line1": "", "line2": "", "postal_code": "", "city": "", "phone": ""}
ENDED = (model.DELIVERED, model.CANCELLED, model.FAILED)
UNDER_WAY = (model.PENDING, model.CONFIRMED, model.SHIPPED)
RETENTION_BATCH = 500


def _ended_at(row: dict) -> dt.datetime:
    return row["delivered_at"] or row["cancelled_at"] or row["created_at"]


async def orders_of(account_id: str) -> list[Order]:
    """Every order of a buyer with its pieces, payments and returns, oldest first (their data export)."""
    rows = await db.fetch("SELECT id FROM shop_order WHERE buyer = {} ORDER BY created_at, id", uuid.UUID(account_id))
    return [await _load_order(_uuid(row["id"])) for row in rows]


_UNFINISHED = f"""
    SELECT id FROM shop_order o
    WHERE buyer = {{}} AND (status IN ({", ".join("{}" for _ in UNDER_WAY)})
                           OR EXISTS (SELECT 1 FROM shop_return r WHERE r."order" = o.id AND r.status = {{}}))
    ORDER BY created_at, id
"""


async def unfinished_orders(account_id: str) -> list[Order]:
    """A buyer's orders still under way: being paid, paid but not delivered yet, or with a return the warehouse
    has not received (a refund may be due). While one is, the buyer's data cannot be erased."""
    rows = await db.fetch(_UNFINISHED, uuid.UUID(account_id), *UNDER_WAY, model.REQUESTED)
    return [await _load_order(_uuid(row["id"])) for row in rows]


async def returnable_orders(account_id: str) -> list[Order]:
    """A buyer's delivered orders whose pieces may still be returned online (within 14 days of delivery):
    a right their data's erasure gives up, since returns are asked for from their account."""
    since = clock.now() - dt.timedelta(days=rules.rules_in_force(clock.today()).online_return_days + 2)
    rows = await db.fetch("SELECT id FROM shop_order WHERE buyer = {} AND status = {} AND delivered_at >= {} "
                          "ORDER BY created_at, id", uuid.UUID(account_id), model.DELIVERED, since)
    today = clock.today()
    orders = [await _load_order(_uuid(row["id"])) for row in rows]
    return [order for order in orders if order.return_deadline is not None and order.return_deadline >= today
            and not all(item.returned for item in order.items)]


async def forget_buyer(account_id: str) -> int:
    """Erase a buyer's personal data from their orders: delivery addresses and return reasons are blanked; the
    orders, their amounts and payments stay for the accounting period (000_). Returns how many orders."""
    async with db.write_transaction():
        orders = await ShopOrder.update({ShopOrder.ship_address: FORGOTTEN_ADDRESS}).where(
            ShopOrder.buyer == uuid.UUID(account_id)).returning(ShopOrder.id)
        if orders:
            await ShopReturn.update({ShopReturn.reason: ""}).where(
                ShopReturn.order.is_in([row["id"] for row in orders]))
    return len(orders)


async def last_activity(account_id: str) -> dt.datetime | None:
    """When the buyer last ordered or asked for a return (None if never)."""
    key = uuid.UUID(account_id)
    order = await ShopOrder.select(ShopOrder.created_at).where(ShopOrder.buyer == key).order_by(
        ShopOrder.created_at, ascending=False).first()
    returned = await ShopReturn.select(ShopReturn.requested_at).where(ShopReturn.order.buyer == key).order_by(
        ShopReturn.requested_at, ascending=False).first()
    moments = [row[field] for row, field in ((order, "created_at"), (returned, "requested_at")) if row is not None]
    return max(moments, default=None)


_ENDED_BEFORE = f"""
    SELECT o.id, o.created_at, o.delivered_at, o.cancelled_at FROM shop_order o
    WHERE o.status IN ({", ".join("{}" for _ in ENDED)}) AND COALESCE(o.delivered_at, o.cancelled_at, o.created_at) < {{}}
      AND NOT EXISTS (SELECT 1 FROM shop_return r WHERE r."order" = o.id
                      AND (r.status = {{}} OR COALESCE(r.refunded_at, r.received_at) >= {{}}))
"""


async def orders_ended_before(moment: dt.datetime, *, archived: bool) -> list[tuple[str, dt.datetime]]:
    """Orders (id, when it ended) that ended before `moment`, every return of theirs settled before it too,
    archived or not yet; the oldest first, at most a batch."""
    rows = await db.fetch(_ENDED_BEFORE + f" AND o.archived_at IS {'NOT ' if archived else ''}NULL "
                          "ORDER BY o.created_at, o.id LIMIT {}", *ENDED, moment, model.REQUESTED, moment,
                          RETENTION_BATCH)
    return [(str(row["id"]), _ended_at(row)) for row in rows]


async def archive_order(order_id: str) -> bool:
    """Archive an order three years after it ended (000_: kept up to 10 years for accounting): its delivery
    address and return reasons are forgotten, its amounts kept. False if it was already archived."""
    key = _order_key(order_id)
    async with db.write_transaction():
        archived = await ShopOrder.update({ShopOrder.archived_at: clock.now(),
                                           ShopOrder.ship_address: FORGOTTEN_ADDRESS}).where(
            ShopOrder.id == key, ShopOrder.archived_at.is_null()).returning(ShopOrder.id)
        if archived:
            await ShopReturn.update({ShopReturn.reason: ""}).where(ShopReturn.order == key)
    return bool(archived)


async def delete_order(order_id: str) -> bool:
    """Delete an archived order at the end of its accounting period, with its pieces' lines, voucher holds and
    returns (the pieces themselves and the voucher ledger stay). False if it was not archived or is gone."""
    key = _order_key(order_id)
    async with db.write_transaction():
        if not await ShopOrder.exists().where(ShopOrder.id == key, ShopOrder.archived_at.is_not_null()):
            return False
        returns = [row["id"] for row in await ShopReturn.select(ShopReturn.id).where(ShopReturn.order == key)]
        if returns:
            await ReturnItem.delete().where(ReturnItem.shop_return.is_in(returns))
            await ShopReturn.delete().where(ShopReturn.id.is_in(returns))
        await OrderHold.delete().where(OrderHold.order == key)
        await OrderItem.delete().where(OrderItem.order == key)
        await ShopOrder.delete().where(ShopOrder.id == key)
    return True
