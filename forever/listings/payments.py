"""Card payments behind one small interface, and the local test provider the shop runs with.

The card part of an order (what vouchers do not cover) is authorised when the order is placed, captured when
it ships, released when it is cancelled, and refunded (in part) when a return is received. A contract acquirer
would implement the same `PaymentProvider` over its API; the local test provider needs no outside service, so
development, the demo and the tests run the whole trip, and it keeps a real book of what it did (the
`payment_record` table) that the tests and `forever` itself can check.

Test cards (the usual test numbers): any number passing the Luhn check is accepted, except
4000 0000 0000 0002 (declined), 4000 0000 0000 9995 (insufficient funds) and 4000 0000 0000 0069 (expired).
A card is never stored: the provider keeps its last four digits only.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Protocol

import msgspec

from forever import clock, db
from forever.errors import Conflict, InvalidInput
from forever.listings.schemas import Card
from forever.listings.tables import PaymentRecord
from forever.money import Money

AUTHORISATION, CAPTURE, RELEASE, REFUND = "authorisation", "capture", "release", "refund"
DECLINED_CARDS = {"4000000000000002": "card_declined", "4000000000009995": "insufficient_funds",
                  "4000000000000069": "expired_card"}


class Authorisation(msgspec.Struct, frozen=True):
    """An amount set aside on a card: the provider's reference and the card's last four digits."""

    reference: str
    amount: Money
    card_last4: str


class PaymentProvider(Protocol):
    """Who takes card payments. Each call runs inside the caller's transaction when it has one."""

    name: str

    async def authorise(self, amount: Money, card: Card, order_ref: str) -> Authorisation:
        """Set `amount` aside on the card; 422 `card_declined`, `insufficient_funds`, `expired_card`,
        `invalid_card` when the card cannot pay."""
        ...

    async def capture(self, reference: str, amount: Money) -> None:
        """Take `amount` (at most what was authorised) of an authorisation."""
        ...

    async def release(self, reference: str) -> None:
        """Give an authorisation back uncaptured (a cancelled or abandoned order); again changes nothing."""
        ...

    async def refund(self, reference: str, amount: Money) -> str:
        """Pay back `amount` of what was captured; returns the refund's own reference."""
        ...


def card_number(text: str) -> str:
    """The digits of a card number (spaces and hyphens allowed), or 422 `invalid_card`."""
    digits = text.replace(" ", "").replace("-", "")
    if not digits.isdigit() or not 12 <= len(digits) <= 19 or not _luhn_ok(digits):
        raise InvalidInput("This card number is not valid.", code="invalid_card",
                           errors=[{"field": "card.number", "message": "not a card number"}])
    return digits


def _luhn_ok(digits: str) -> bool:
    total = 0
    for index, digit in enumerate(reversed(digits)):
        value = int(digit) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _expired(expiry: str, today: dt.date) -> bool:
    """A card is good until the end of its expiry month (MM/YY)."""
    month, year = int(expiry[:2]), 2000 + int(expiry[3:])
    return (year, month) < (today.year, today.month)


class LocalTestProvider:
    """Authorises test cards and keeps its book in the database, in the caller's transaction."""

    name = "local_test"

    async def authorise(self, amount: Money, card: Card, order_ref: str) -> Authorisation:
        digits = card_number(card.number)
        declined = DECLINED_CARDS.get(digits)
        if declined is None and _expired(card.expiry, clock.today()):
            declined = "expired_card"
        if declined is not None:
            raise InvalidInput(f"The card was refused ({declined.replace('_', ' ')}): try another card.",
                               code=declined, errors=[{"field": "card", "message": declined}])
        reference = f"auth_{secrets.token_hex(12)}"
        await self._record(reference, AUTHORISATION, amount, digits[-4:], order_ref)
        return Authorisation(reference=reference, amount=amount, card_last4=digits[-4:])

    async def capture(self, reference: str, amount: Money) -> None:
        book = await self._book(reference)
        if book[RELEASE]:
            raise Conflict("This card authorisation was released.", code="authorisation_released")
        if book[CAPTURE] + amount.amount > book[AUTHORISATION]:
            raise Conflict("The capture is above what the card authorised.",
                           code="capture_exceeds_authorisation")
        await self._record(reference, CAPTURE, amount)

    async def release(self, reference: str) -> None:
        book = await self._book(reference)
        if book[CAPTURE]:
            raise Conflict("This card authorisation was captured.", code="authorisation_captured")
        if not book[RELEASE]:
            await self._record(reference, RELEASE, Money(book[AUTHORISATION], book["currency"]))

    async def refund(self, reference: str, amount: Money) -> str:
        book = await self._book(reference)
        if book[REFUND] + amount.amount > book[CAPTURE]:
            raise Conflict("The refund is above what the card paid.", code="refund_exceeds_capture")
        return await self._record(reference, REFUND, amount)

    async def _book(self, reference: str) -> dict:
        """What an authorisation became: the sum of each kind of operation on it."""
        rows = await db.fetch("SELECT kind, amount, currency FROM payment_record WHERE reference = {}",
                              reference)
        if not any(row["kind"] == AUTHORISATION for row in rows):
            raise Conflict(f"No card authorisation {reference}.", code="authorisation_not_found")
        book = {kind: 0 for kind in (AUTHORISATION, CAPTURE, RELEASE, REFUND)}
        for row in rows:
            book[row["kind"]] += row["amount"]
        book["currency"] = rows[0]["currency"]
        return book

    async def _record(self, reference: str, kind: str, amount: Money, last4: str = "",
                      order_ref: str = "") -> str:
        async with db.write_transaction():
            rows = await PaymentRecord.insert(PaymentRecord(
                reference=reference, kind=kind, amount=amount.amount, currency=amount.currency,
                card_last4=last4,
                order_ref=order_ref[:255], created_at=clock.now())).returning(PaymentRecord.id)
        return f"{kind}_{rows[0]['id']}"


LOCAL_TEST = LocalTestProvider()


def current() -> PaymentProvider:
    """The provider new orders are paid with."""
    return LOCAL_TEST
