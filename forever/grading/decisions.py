"""The grading station's rules: photo views, refusal reasons, what a decision does to a piece, the suggestion
for a whole piece from its photos, and how often the experts agree with the model. Pure: no database, no
web."""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import msgspec

from forever.catalog.model import ACCEPTED_CONDITIONS
from forever.grading.model import GRADES, REFUSED, Suggestion, grade_distance

# CONTRACT.md, "Grading": the views a piece is photographed in, and why a piece may be refused.
VIEWS: tuple[str, ...] = ("front", "back", "brand_label", "care_label", "detail")
REFUSAL_REASONS: tuple[str, ...] = (
    "stain", "hole", "tear", "odor", "missing_label", "missing_part", "altered", "not_ami", "counterfeit",
    "excluded_category", "other",
)
# How the seller is told why a piece was refused ("We could not accept your piece: ...").
REFUSAL_TEXTS: dict[str, str] = {
    "stain": "it is stained", "hole": "it has a hole", "tear": "it is torn", "odor": "it carries an odour",
    "missing_label": "a label is missing", "missing_part": "a part, such as a button, is missing",
    "altered": "it has been altered", "not_ami": "it is not an AMI piece",
    "counterfeit": "it is not an authentic AMI piece",
    "excluded_category": "AMI For Ever does not take this kind of piece",
    "other": "it is not in a condition we can accept",
}
assert tuple(REFUSAL_TEXTS) == REFUSAL_REASONS

# What a decision makes of a piece (the contract's decision statuses), and what the seller may answer to a
# counter-offer (DESIGN.md, "Grading and credit").
AWAITING_GRADING = "awaiting_grading"
CREDITED, COUNTER_OFFER = "credited", "counter_offer"
RETURNED, DONATED = "returned", "donated"
ACCEPT, RETURN, DONATE = "accept", "return", "donate"
COUNTER_OFFER_ANSWERS: tuple[str, ...] = (ACCEPT, RETURN, DONATE)
# DESIGN.md: the seller answers a counter-offer within 14 days; silence is acceptance.
COUNTER_OFFER_DAYS = 14
# A counter-offer's life: open until the seller answers (accepted, returned, donated) or the 14 days pass
# (lapsed, which credits it as accepted).
OPEN, ACCEPTED, LAPSED = "open", "accepted", "lapsed"
COUNTER_OFFER_STATUSES: tuple[str, ...] = (OPEN, ACCEPTED, RETURNED, DONATED, LAPSED)

# A grader holds the piece they opened until they decide or release it; left idle this long, it is free again
# for the others (read as free: no background work needed).
HOLD_IDLE = dt.timedelta(minutes=30)
# Photos of a piece that left us without being credited (refused, or a counter-offer answered "return" or
# "donate") are deleted this long after that decision or answer: time enough for the seller's questions and a
# complaint, while a credited piece keeps its photos for its passport in the resale shop.
UNSOLD_PHOTO_RETENTION = dt.timedelta(days=90)

NO_PHOTO = "No photo yet: the analysis suggests a grade once the piece is photographed."


class PieceSuggestion(msgspec.Struct, frozen=True, kw_only=True):
    """The grade the analysis suggests for a whole piece from all its photos; `grade` is None without
    photos."""

    grade: str | None
    confidence: float | None
    reasons: list[str]
    refusal_reason: str | None = None
    photo_count: int = 0
    model_version: str | None = None


@dataclass(frozen=True)
class PhotoVerdict:
    """What the analysis said about one photo of a piece."""

    view: str
    suggestion: Suggestion
    retake: Sequence[str] = ()
    model_version: str | None = None


def outcome_of(declared_condition: str, grade: str) -> str:
    """A piece graded at or above its declared condition is credited; below it (still accepted),
    counter-offered."""
    rank = ACCEPTED_CONDITIONS.index
    return CREDITED if rank(grade) <= rank(declared_condition) else COUNTER_OFFER


def hold_is_live(touched_at: dt.datetime, now: dt.datetime) -> bool:
    """Whether a grader's hold on a piece, last touched at `touched_at`, still keeps the others out."""
    return now - touched_at < HOLD_IDLE


def counter_offer_deadline(offered_at: dt.datetime) -> dt.datetime:
    """The moment a counter-offer's silence becomes acceptance."""
    return offered_at + dt.timedelta(days=COUNTER_OFFER_DAYS)


# Defects drive a piece's grade down: the worst photo wins. Among clean photos, one showing the hang tag lifts
# it.
_DEFECT_GRADES = (REFUSED, "very_good")


def piece_suggestion(photos: Sequence[PhotoVerdict]) -> PieceSuggestion:
    """Combine the photos' suggestions: the worst defect across photos drives the grade, with the confidence
    of the photo that found it; a clean piece is as sure as its least sure photo, and `new_with_tags` when a
    photo shows the tag. Without photos it says so, and suggests nothing."""
    if not photos:
        return PieceSuggestion(grade=None, confidence=None, reasons=[NO_PHOTO])
    worst = max(photos, key=lambda photo: (GRADES.index(photo.suggestion.grade), photo.suggestion.confidence))
    if worst.suggestion.grade in _DEFECT_GRADES:
        grade, confidence, driver = worst.suggestion.grade, worst.suggestion.confidence, worst
    else:
        tagged = [photo for photo in photos if photo.suggestion.grade == "new_with_tags"]
        grade = "new_with_tags" if tagged else "excellent"
        confidence = min(photo.suggestion.confidence for photo in photos)
        driver = tagged[0] if tagged else worst
    return PieceSuggestion(
        grade=grade, confidence=confidence, reasons=_reasons(photos, clean=grade not in _DEFECT_GRADES),
        refusal_reason=driver.suggestion.refusal_reason if grade == REFUSED else None,
        photo_count=len(photos), model_version=driver.model_version)


def _reasons(photos: Sequence[PhotoVerdict], *, clean: bool) -> list[str]:
    """Each photo's reasons under its view, defects first; retakes asked for; `no defect found` said once."""
    reasons: list[str] = []
    for photo in sorted(photos, key=lambda p: VIEWS.index(p.view) if p.view in VIEWS else len(VIEWS)):
        view = photo.view.replace("_", " ")
        reasons += [f"{view}: {reason}" for reason in photo.suggestion.reasons if reason != "no defect found"]
        reasons += [f"{view}: photo {flag}, take it again" for flag in photo.retake]
    if clean:
        count = len(photos)
        reasons.append(f"no defect found on {count} photo{'s' if count > 1 else ''}")
    return reasons


# --- agreement between the experts and the model ------------------------------------------------------------


@dataclass(frozen=True)
class DecisionRecord:
    """One decision as the dashboard sees it: who, the final grade, the model's suggestion, the time it
    took."""

    grader_id: str
    grade: str
    suggested_grade: str | None
    seconds: float | None


class Agreement(msgspec.Struct, frozen=True, kw_only=True):
    """How often the final grade was the model's suggestion, exactly and within one grade (None: no
    suggestion)."""

    pieces_decided: int
    with_suggestion: int
    exact: float | None
    within_one: float | None
    median_seconds: float | None


def agreement(records: Iterable[DecisionRecord]) -> Agreement:
    """Agreement and pace over some decisions (grades ordered new_with_tags > excellent > very_good >
    refused)."""
    records = list(records)
    suggested = [r for r in records if r.suggested_grade is not None]
    timed = [r.seconds for r in records if r.seconds is not None]

    def share(count: int) -> float | None:
        return round(count / len(suggested), 4) if suggested else None

    return Agreement(
        pieces_decided=len(records),
        with_suggestion=len(suggested),
        exact=share(sum(r.grade == r.suggested_grade for r in suggested)),
        within_one=share(sum(grade_distance(r.grade, r.suggested_grade) <= 1 for r in suggested)),  # type: ignore[arg-type]
        median_seconds=round(statistics.median(timed), 1) if timed else None,
    )
