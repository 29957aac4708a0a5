"""The grading station's words and keys (forever/web/grading.py): pure."""

from __future__ import annotations

import re
from pathlib import Path

import jinja2

from forever.grading.model import Finding
from forever.web import grading
from forever.web.tradeins import refusal_sentence

TEMPLATES = Path(grading.__file__).parent / "templates"


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


def test_refusals_read_as_sentences():
    assert refusal_sentence("hole") == "It has a hole."
    assert refusal_sentence("not_ami") == "It is not an AMI piece."
    assert refusal_sentence(None) == "It is not in a condition we can accept."


def drawn(findings: list[Finding], width: int = 1000, height: int = 500) -> list[dict[str, str]]:
    """The finding groups the photo macro draws, as their attributes."""
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
    page = environment.from_string(
        '{% from "grading/_photo.html" import finding_photo with context %}'
        '{{ finding_photo("p1", width, height, findings, "Front") }}').render(
        width=width, height=height, findings=findings, **grading.PHOTO_HELPERS)
    groups = re.findall(r'<g class="finding finding--(\w+)" data-kind="(\w+)".*?<rect x="([\d.]+)" y="([\d.]+)" '
                        r'width="([\d.]+)" height="([\d.]+)".*?<text x="([\d.]+)" text-anchor="(\w+)"', page, re.S)
    keys = ("style", "kind", "x", "y", "width", "height", "text_x", "anchor")
    return [dict(zip(keys, group, strict=True)) for group in groups]


def test_findings_are_drawn_as_defects_from_half_a_score_and_small_ones_stay_visible():
    hole = Finding(kind="hole", bbox=(100, 200, 10, 10), score=0.5, severity="minor")
    pilling = Finding(kind="pilling", bbox=(0, 0, 300, 100), score=0.49, severity="minor")
    edge = Finding(kind="stain", bbox=(995, 495, 5, 5), score=0.9, severity="minor")
    first, second, third = drawn([hole, pilling, edge])
    assert (first["style"], second["style"], third["style"]) == ("defect", "hint", "defect")
    # A 10 px hole on a 1000 px photo is drawn 40 px wide (a 25th), around its own centre.
    assert [float(first[key]) for key in ("x", "y", "width", "height")] == [85.0, 185.0, 40.0, 40.0]
    assert [float(second[key]) for key in ("x", "y", "width", "height")] == [0.0, 0.0, 300.0, 100.0]
    # In a corner the box stays inside the photo and its label ends at the box's right side.
    assert [float(third[key]) for key in ("x", "y", "width", "height")] == [960.0, 460.0, 40.0, 40.0]
    assert third["anchor"] == "end" and float(third["text_x"]) == 1000.0
