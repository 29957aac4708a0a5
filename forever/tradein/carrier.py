"""Carriers behind one small interface, and the built-in one that issues real UPU S10 tracking numbers.

A carrier books a prepaid parcel (it hands out the tracking number printed on the label) and later reports
what happened to it through `POST /carrier/events`. The built-in carrier needs no outside service, so
development, the demo and the tests run the whole trip: it numbers parcels from a database sequence (each
serial handed out once, whatever the concurrency) and forms S10 numbers from them (forever.tradein.s10).
A contract carrier (La Poste, Chronopost, ...) would implement the same `Carrier` over its booking API.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from forever import clock
from forever.tradein import s10
from forever.tradein.tables import TrackingSerial


@dataclass(frozen=True)
class Shipment:
    """What a carrier is told when a prepaid parcel is booked."""

    reference: str
    piece_count: int
    sender_name: str
    sender_country: str


class Carrier(Protocol):
    """A carrier of prepaid parcels to the warehouse."""

    name: str
    display_name: str

    async def book(self, shipment: Shipment) -> str:
        """Book a prepaid parcel and return its tracking number (inside the caller's transaction)."""
        ...


class BuiltinCarrier:
    """Issues S10 numbers such as CB000000116FR from the database's own sequence."""

    name = "builtin"
    display_name = "Built-in carrier (UPU S10)"
    # UPU S10: "C" marks a parcel; the second letter is the issuer's choice.
    service_indicator = "CB"
    country = "FR"

    async def book(self, shipment: Shipment) -> str:
        rows = await TrackingSerial.insert(TrackingSerial(issued_at=clock.now())).returning(TrackingSerial.id)
        serial = rows[0]["id"]
        if serial > s10.MAX_SERIAL:
            raise RuntimeError(f"the {self.service_indicator} series is used up: move to another service indicator")
        return s10.make(self.service_indicator, serial, self.country)


BUILTIN = BuiltinCarrier()
CARRIERS: dict[str, Carrier] = {BUILTIN.name: BUILTIN}


def current() -> Carrier:
    """The carrier new parcels are booked with."""
    return BUILTIN


def display_name(name: str) -> str:
    """How pages and documents name a carrier."""
    carrier = CARRIERS.get(name)
    return carrier.display_name if carrier else name
