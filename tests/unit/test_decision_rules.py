"""The grading station's rules (forever.grading.decisions): outcomes, deadlines, the suggestion for a whole
piece from its photos, and agreement between the experts and the model. Pure: no database."""

import datetime as dt

import pytest

from forever.grading import decisions
from forever.grading.decisions import DecisionRecord, PhotoVerdict
from forever.grading.model import Suggestion


def verdict(view: str, grade: str, confidence: float, *reasons: str, refusal_reason: str | None = None,
            retake: tuple[str, ...] = (), version: str = "m1") -> PhotoVerdict:
    return PhotoVerdict(view=view, suggestion=Suggestion(grade=grade, confidence=confidence,
                                                         reasons=list(reasons) or ["no defect found"],
                                                         refusal_reason=refusal_reason),
                        retake=retake, model_version=version)


@pytest.mark.parametrize(("declared", "grade", "outcome"), [
    ("excellent", "excellent", "credited"), ("excellent", "new_with_tags", "credited"),
    ("very_good", "excellent", "credited"), ("new_with_tags", "excellent", "counter_offer"),
    ("excellent", "very_good", "counter_offer"), ("new_with_tags", "very_good", "counter_offer"),
])
def test_at_or_above_the_declared_condition_is_credited_below_it_counter_offered(declared, grade, outcome):
    assert decisions.outcome_of(declared, grade) == outcome


def test_a_counter_offer_is_answered_within_14_days():
    offered = dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.timezone.utc)
    deadline = dt.datetime(2026, 12, 7, 9, 30, tzinfo=dt.timezone.utc)
    assert decisions.counter_offer_deadline(offered) == deadline


def test_without_photos_nothing_is_suggested_and_it_says_why():
    suggestion = decisions.piece_suggestion([])
    assert suggestion.grade is None and suggestion.confidence is None and suggestion.photo_count == 0
    assert suggestion.reasons == [decisions.NO_PHOTO]


def test_the_worst_defect_across_photos_drives_the_grade_with_its_photo_s_confidence():
    suggestion = decisions.piece_suggestion([
        verdict("front", "excellent", 0.97),
        verdict("detail", "refused", 0.81, "moderate hole, about 9 mm (score 0.99)", refusal_reason="hole",
                version="m2"),
        verdict("back", "very_good", 0.9, "minor pilling (score 0.70)"),
    ])
    assert (suggestion.grade, suggestion.confidence, suggestion.refusal_reason) == ("refused", 0.81, "hole")
    assert suggestion.model_version == "m2" and suggestion.photo_count == 3
    # Listed by view (front, back, ..., detail), each under its view.
    assert suggestion.reasons == ["back: minor pilling (score 0.70)",
                                  "detail: moderate hole, about 9 mm (score 0.99)"]


def test_a_clean_piece_is_as_sure_as_its_least_sure_photo_and_a_visible_tag_lifts_it():
    clean = decisions.piece_suggestion([verdict("front", "excellent", 0.97),
                                        verdict("back", "excellent", 0.88)])
    assert (clean.grade, clean.confidence, clean.refusal_reason) == ("excellent", 0.88, None)
    assert clean.reasons == ["no defect found on 2 photos"]
    tagged = decisions.piece_suggestion([verdict("front", "excellent", 0.97),
                                         verdict("brand_label", "new_with_tags", 0.93, "hang tag visible")])
    assert (tagged.grade, tagged.confidence) == ("new_with_tags", 0.93)
    assert tagged.reasons == ["brand label: hang tag visible", "no defect found on 2 photos"]


def test_a_photo_to_retake_is_named():
    suggestion = decisions.piece_suggestion([verdict("back", "excellent", 0.6, retake=("blurred", "dark"))])
    assert suggestion.reasons == ["back: photo blurred, take it again", "back: photo dark, take it again",
                                  "no defect found on 1 photo"]


def test_agreement_counts_exact_and_within_one_grade_over_decisions_with_a_suggestion():
    records = [
        DecisionRecord("a", "excellent", "excellent", 30),
        DecisionRecord("a", "very_good", "refused", 50),  # one grade apart
        DecisionRecord("b", "new_with_tags", "very_good", None),  # two apart
        DecisionRecord("b", "refused", None, 20),  # decided without photos
    ]
    overall = decisions.agreement(records)
    assert (overall.pieces_decided, overall.with_suggestion) == (4, 3)
    assert overall.exact == pytest.approx(1 / 3, abs=1e-4)
    assert overall.within_one == pytest.approx(2 / 3, abs=1e-4)
    assert overall.median_seconds == 30
    none = decisions.agreement([DecisionRecord("c", "refused", None, None)])
    assert none.exact is None and none.within_one is None and none.median_seconds is None
    assert decisions.agreement([]).pieces_decided == 0


def test_every_refusal_reason_has_words_for_the_seller():
    assert set(decisions.REFUSAL_TEXTS) == set(decisions.REFUSAL_REASONS)
    assert all(text and not text.endswith(".") for text in decisions.REFUSAL_TEXTS.values())
