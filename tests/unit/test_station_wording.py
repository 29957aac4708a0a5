"""The grading station's words and keys (forever/web/grading.py): pure."""

from __future__ import annotations

from forever.grading.model import Finding
from forever.web import grading
from forever.web.tradeins import refusal_sentence


def test_every_station_key_is_its_own():
    top = [key for key, _ in grading.VIEW_KEYS.values()] + list(grading.GRADE_KEYS.values()) + ["R", "N"]
    reasons = [key for key, _ in grading.REFUSAL_KEYS.values()]
    assert len(set(top)) == len(top) and len(set(reasons)) == len(reasons)
    assert all(len(key) == 1 for key in top + reasons)


def test_days_left_in_words():
    assert grading.days_left(3) == "3 business days left"
    assert grading.days_left(1) == "1 business day left"
    assert grading.days_left(0) == "Due today"
    assert grading.days_left(-1) == "Overdue by 1 business day"
    assert grading.days_left(-4) == "Overdue by 4 business days"


def test_a_finding_scored_half_or_more_is_a_defect():
    def finding(score: float) -> Finding:
        return Finding(kind="stain", bbox=(1, 2, 3, 4), score=score, severity="minor")

    assert grading.is_defect(finding(0.5)) and not grading.is_defect(finding(0.49))


def test_refusals_read_as_sentences():
    assert refusal_sentence("hole") == "It has a hole."
    assert refusal_sentence("not_ami") == "It is not an AMI piece."
    assert refusal_sentence(None) == "It is not in a condition we can accept."
