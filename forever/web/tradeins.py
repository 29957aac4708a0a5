"""How pages show a trade-in: statuses in words, the parcel's timeline, each piece's progress and its grading
(outcome, refusal reason, counter-offer). Pure."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from forever.grading import decisions
from forever.grading.schemas import GradedTradeIn, GradedTradeInItem
from forever.money import Money
from forever.tradein import model, s10
from forever.tradein.carrier import display_name
from forever.tradein.schemas import TradeIn
from forever.web import grading
from forever.web.formatting import day

TRADEIN_STATUS_LABELS: dict[str, str] = {
    "awaiting_shipment": "To send", "in_transit": "On its way", "received": "Received", "graded": "Graded",
    "closed": "Closed",
}
PARCEL_EVENT_LABELS: dict[str, str] = {
    "label_created": "Label created", "dropped_off": "Dropped off", "in_transit": "In transit",
    "delivered": "Delivered by the carrier", "received": "Received at the warehouse",
}
ITEM_STATUS_LABELS: dict[str, str] = {
    "awaiting_shipment": "To send", "in_transit": "On its way", "awaiting_grading": "Awaiting grading",
    "credited": "Credited", "counter_offer": "Counter-offer", "refused": "Refused", "returned": "Sent back to you",
    "donated": "Donated",
}
REFUSED_ITEMS_TEXTS: dict[str, str] = {
    "return": "sent back to you free of charge", "donate": "donated",
}
SOURCE_LABELS: dict[str, str] = {"system": "AMI For Ever", "carrier": "the carrier", "warehouse": "our warehouse"}
# The steps every piece goes through, in order; the last one is its own outcome.
PIECE_STEPS: tuple[tuple[str, str], ...] = (
    ("label_created", "Label created"), ("dropped_off", "Dropped off"), ("in_transit", "In transit"),
    ("received", "Received"),
)


@dataclass(frozen=True)
class TimelineEntry:
    """One line of a parcel's timeline: a step that happened (or is still to come), or an e-mail sent."""

    kind: str  # "event", "email" or "pending"
    title: str
    when: dt.datetime | None = None
    detail: str = ""


@dataclass(frozen=True)
class PieceStep:
    title: str
    state: str  # "done", "current" or "todo"
    detail: str = ""


def label(labels: dict[str, str], code: str) -> str:
    return labels.get(code, code.replace("_", " ").capitalize())


def parcel_timeline(tradein: TradeIn) -> list[TimelineEntry]:
    """What happened to the parcel and which e-mails went out, oldest first, then the steps still to come."""
    entries = [(event.occurred_at, 0, TimelineEntry(
        "event", label(PARCEL_EVENT_LABELS, event.event), event.occurred_at,
        f"Reported by {SOURCE_LABELS.get(event.source, event.source)}")) for event in tradein.parcel.events]
    entries += [(note.sent_at, 1, TimelineEntry("email", f"E-mail sent: {note.subject}", note.sent_at))
                for note in tradein.notifications]
    timeline = [entry for _, _, entry in sorted(entries, key=lambda item: (item[0], item[1]))]
    reached = model.PARCEL_PROGRESS.index(tradein.parcel.status)
    for step in (model.DROPPED_OFF, model.IN_TRANSIT, model.RECEIVED):
        if model.PARCEL_PROGRESS.index(step) > reached:
            detail = f"Drop it off by {day(tradein.parcel.ship_by)}" if step == model.DROPPED_OFF else ""
            timeline.append(TimelineEntry("pending", label(PARCEL_EVENT_LABELS, step), None, detail))
    return timeline


def piece_steps(tradein: TradeIn, item: GradedTradeInItem) -> list[PieceStep]:
    """A piece's way so far: the parcel's steps, then its own outcome (awaiting grading, credited, a
    counter-offer waiting for the seller's answer, ...)."""
    reached = model.PARCEL_PROGRESS.index(tradein.parcel.status)
    steps = []
    for code, title in PIECE_STEPS:
        done = reached >= model.PARCEL_PROGRESS.index(code)
        steps.append(PieceStep(title, "done" if done else "todo"))
    if item.status in (model.AWAITING_SHIPMENT, model.IN_TRANSIT):
        outcome = PieceStep("Graded", "todo")
    elif item.status == model.AWAITING_GRADING:
        due = f"Our experts answer by {day(tradein.sla_due_date)}" if tradein.sla_due_date else ""
        outcome = PieceStep("Awaiting grading", "current", due)
    elif item.counter_offer is not None and item.counter_offer.status == decisions.OPEN:
        outcome = PieceStep("Counter-offer", "current", f"Answer by {day(item.counter_offer.deadline)}")
    else:
        outcome = PieceStep(label(ITEM_STATUS_LABELS, item.status), "done")
    return [*steps, outcome]


@dataclass(frozen=True)
class CreditOutlook:
    """What a seller gets for a trade-in as grading stands: credited so far, counter-offers awaiting their
    answer (at the new amount), and pieces not graded yet (at their offer); refused, returned and donated
    pieces get nothing. `expected` is their sum, the trade-in's headline once it differs from the quote's
    total."""

    quoted: Money
    credited: Money
    awaiting_answer: Money
    to_grade: Money

    @property
    def expected(self) -> Money:
        return self.credited + self.awaiting_answer + self.to_grade

    @property
    def changed(self) -> bool:
        return self.expected != self.quoted


def credit_outlook(tradein: GradedTradeIn) -> CreditOutlook:
    zero = Money.zero(tradein.items[0].offer.currency if tradein.items else "EUR")
    quoted = credited = awaiting_answer = to_grade = zero
    for item in tradein.items:
        quoted += item.offer
        if item.credited is not None:
            credited += item.credited
        elif item.counter_offer is not None and item.counter_offer.status == decisions.OPEN:
            awaiting_answer += item.counter_offer.amount
        elif item.status in (model.AWAITING_SHIPMENT, model.IN_TRANSIT, model.AWAITING_GRADING):
            to_grade += item.offer
    return CreditOutlook(quoted=quoted, credited=credited, awaiting_answer=awaiting_answer, to_grade=to_grade)


VIEW_HELPERS = {
    "tradein_status": lambda code: label(TRADEIN_STATUS_LABELS, code),
    "item_status": lambda code: label(ITEM_STATUS_LABELS, code),
    "parcel_status": lambda code: label(PARCEL_EVENT_LABELS, code),
    "carrier_name": display_name,
    "spaced": s10.spaced,
    "refused_items_text": lambda code: REFUSED_ITEMS_TEXTS.get(code, code),
}


COUNTER_OFFER_STATUS_LABELS: dict[str, str] = {
    "accepted": "You accepted it", "returned": "You asked for it back", "donated": "You donated it",
    "lapsed": "Accepted without an answer within 14 days",
}


def refusal_sentence(code: str | None) -> str:
    """Why a piece was refused, as a sentence: "It has a hole."."""
    text = decisions.REFUSAL_TEXTS.get(code or "", decisions.REFUSAL_TEXTS["other"])
    return text[0].upper() + text[1:] + "."


GRADING_HELPERS = {
    **grading.PHOTO_HELPERS,
    "grade_title": grading.grade_title,
    "view_title": lambda view: grading.VIEW_KEYS[view][1] if view in grading.VIEW_KEYS else view,
    "refusal_sentence": refusal_sentence,
    "counter_offer_status": lambda code: label(COUNTER_OFFER_STATUS_LABELS, code),
}
