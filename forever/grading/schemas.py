"""Wire schemas of the grading station: the queue, pieces with their photos and suggestion, decisions,
counter-offers, the seller's view of their graded pieces, the piece passport and the dashboard."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec

from forever.grading.decisions import PieceSuggestion
from forever.grading.model import Analysis, Finding, Suggestion
from forever.money import Money
from forever.schema import Input, Output
from forever.tradein.schemas import ReturnShipment, SlaItem, TradeIn, TradeInItem

View = Literal["front", "back", "brand_label", "care_label", "detail"]
Grade = Literal["new_with_tags", "excellent", "very_good"]
RefusalReason = Literal["stain", "hole", "tear", "odor", "missing_label", "missing_part", "altered",
                        "not_ami", "counterfeit", "excluded_category", "other"]
CounterOfferDecision = Literal["accept", "return", "donate"]


class Holder(Output):
    """The grader who has a piece in hand at the station, and when it is free again if they leave it idle."""

    grader_id: str
    name: str
    taken_at: dt.datetime
    free_at: dt.datetime


class QueueItem(SlaItem):
    """A piece awaiting grading, with how many photos the station has of it so far and who has it in hand."""

    photo_count: int = 0
    taken_by: Holder | None = None


class PieceInHand(Output):
    """A piece awaiting grading that a grader has in hand (the dashboard's list; an admin releases it)."""

    item_id: str
    reference: str
    product_ref: str
    name: str
    taken_by: Holder


class QueuePage(Output):
    items: list[QueueItem]
    next_cursor: str | None


class PhotoAdded(Output):
    """The answer to a photo taken at the station: its id and view, what the analysis found, and whether to
    take it again (blurred, dark, overexposed)."""

    photo_id: str
    view: str
    analysis: Analysis
    suggestion: Suggestion
    retake: list[str]
    model_version: str


class StoredPhoto(Output):
    """A photo of a piece with its analysis; `url` serves the image to staff and to the piece's seller."""

    photo_id: str
    view: str
    url: str
    media_type: str
    width: int
    height: int
    size_bytes: int
    sha256: str
    uploaded_at: dt.datetime
    uploaded_by: str | None
    analysis: Analysis
    suggestion: Suggestion
    retake: list[str]
    model_version: str


class CatalogData(Output):
    """The piece's product as the catalog knows it today."""

    ref: str
    name: str
    category: str
    season: str
    retail_price: Money
    color: str
    materials: list[str]
    sizes: list[str]


class ModelSuggestion(Output):
    """What the model suggested when the expert decided."""

    grade: str
    confidence: float | None
    model_version: str | None
    reasons: list[str]


class Decision(Output):
    """An expert's decision, with the model's suggestion beside the final grade and the photos it rested
    on."""

    outcome: str  # credited, counter_offer, refused
    grade: str  # the final grade: a condition, or "refused"
    refused: bool
    reason: str | None
    note: str | None
    refused_items: str | None  # what becomes of a refused piece: return, donate
    decided_at: dt.datetime
    grader_id: str | None
    suggestion: ModelSuggestion | None
    photo_ids: list[str]
    seconds_spent: int | None


class CounterOffer(Output):
    """A lower offer for a piece graded below its declared condition; silence until `deadline` accepts it."""

    grade: str
    amount: Money
    grid_version: str
    status: str  # open, accepted, returned, donated, lapsed
    offered_at: dt.datetime
    deadline: dt.datetime
    answered_at: dt.datetime | None


class StationPiece(Output):
    """A piece at the grading station: what the seller declared and was offered, the catalog's data, the
    photos with their analyses, the suggestion for the whole piece and, once decided, the decision and what
    followed."""

    id: str
    tradein_id: str
    reference: str
    line: int
    product_ref: str
    name: str
    category: str
    season: str
    size: str | None
    declared_condition: str
    offer: Money
    status: str
    grade: str | None
    credited: Money | None
    refused_items: str
    received_at: dt.datetime | None
    sla_due_date: dt.date | None
    business_days_left: int | None
    catalog: CatalogData | None
    photos: list[StoredPhoto]
    suggestion: PieceSuggestion
    decision: Decision | None = None
    counter_offer: CounterOffer | None = None
    return_shipment: ReturnShipment | None = None
    taken_by: Holder | None = None


class DecisionCreate(Input):
    """`{grade}`, or `{refused: true, reason, note?}`."""

    grade: Grade | None = None
    refused: bool = False
    reason: RefusalReason | None = None
    note: Annotated[str, msgspec.Meta(max_length=2000)] | None = None


class CounterOfferAnswer(Input):
    decision: CounterOfferDecision


# --- the seller's view --------------------------------------------------------------------------------------


class SellerPhoto(Output):
    """A photo of the seller's piece and what the analysis pointed at in it."""

    photo_id: str
    view: str
    url: str
    width: int
    height: int
    findings: list[Finding]


class GradedTradeInItem(TradeInItem, omit_defaults=True):
    """A trade-in piece with its grading as its seller sees it: the refusal reason, the counter-offer to
    answer, the return parcel's tracking number, and the photos.

    The grading fields appear once the piece is decided, so a piece not yet graded reads exactly as in every
    other trade-in answer (the piece's own optional fields, required here, are always written).
    """

    name: str
    season: str
    size: str | None
    decided_at: dt.datetime | None = None
    refusal_reason: str | None = None
    counter_offer: CounterOffer | None = None
    return_shipment: ReturnShipment | None = None
    photos: list[SellerPhoto] = msgspec.field(default_factory=list)


class GradedTradeIn(TradeIn):
    """A trade-in whose pieces carry their grading."""

    items: list[GradedTradeInItem]


# --- for the resale shop and the dashboard ------------------------------------------------------------------


class PassportPhoto(Output):
    photo_id: str
    view: str
    width: int
    height: int
    findings: list[Finding]


class Passport(Output):
    """A credited piece's grading record for the resale shop: its grade, when, and the station's photos."""

    grade: str
    graded_at: dt.datetime
    photos: list[PassportPhoto]


class GraderPace(Output):
    """One grader's decisions: how many, how fast, and how often they agreed with the model."""

    grader_id: str
    email: str
    pieces_decided: int
    median_seconds: float | None
    agreement_exact: float | None
    agreement_within_one: float | None


class Dashboard(Output):
    """Agreement between the model's suggestions and the experts' final grades, and each grader's pace."""

    since: dt.datetime | None
    pieces_decided: int
    with_suggestion: int
    agreement_exact: float | None
    agreement_within_one: float | None
    median_seconds: float | None
    graders: list[GraderPace]
