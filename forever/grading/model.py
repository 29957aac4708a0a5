"""Grading vocabulary, the analysis wire shapes and the grading rubric. Pure: no database, no web, no pixels."""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from forever.catalog.model import ACCEPTED_CONDITIONS

# CONTRACT.md, "Grading": finding kinds, severities, and what an analysis may suggest.
DEFECT_KINDS: tuple[str, ...] = ("stain", "hole", "tear", "pilling", "fading")
SEVERITIES: tuple[str, ...] = ("minor", "moderate", "severe")
REFUSED = "refused"
GRADES: tuple[str, ...] = (*ACCEPTED_CONDITIONS, REFUSED)
SHOWN_SCORE = 0.5  # a finding scored this or more is shown as a defect; lower scores are hints
HINT_SCORE = 0.2  # below this a region is not reported at all

# Physical scale: the photo station frames about 60 cm of garment across the photo's long side, so a photo's
# pixels per millimetre are its long side over this. Callers with another framing pass their own.
FRAME_MM = 600.0

# Retake flags (the station asks for another photo).
BLURRED = "blurred"
DARK = "dark"
OVEREXPOSED = "overexposed"

# Severity bounds: (upper bound of minor, upper bound of moderate), in the unit each kind is measured in:
# millimetres for holes (diameter), tears (length) and stains (longest extent); intensity 0..1 for pilling;
# colour difference (CIE76 delta E) for fading.
SEVERITY_BOUNDS: dict[str, tuple[float, float]] = {
    "hole": (5.0, 12.0),
    "tear": (15.0, 40.0),
    "stain": (15.0, 40.0),
    "pilling": (0.35, 0.7),
    "fading": (7.0, 11.0),
}
SIZE_MEASURED = frozenset({"hole", "tear", "stain"})

# Refusal reasons an analysis can give (CONTRACT.md); pilling and fading beyond "slight" are plain wear.
_REFUSAL_REASON = {"hole": "hole", "tear": "tear", "stain": "stain", "pilling": "other", "fading": "other"}
# DESIGN.md: stained, torn or holed pieces earn no credit; very_good allows minor wear such as slight pilling.
_ALWAYS_REFUSED = frozenset({"hole", "tear", "stain"})


class Finding(msgspec.Struct, frozen=True, kw_only=True):
    """One region the analysis found: kind, bbox [x, y, w, h] in the uploaded image's pixels, score, severity."""

    kind: str
    bbox: tuple[int, int, int, int]
    score: float
    severity: str


class Quality(msgspec.Struct, frozen=True, kw_only=True):
    """How usable the photo is: sharpness and exposure, each in [0, 1]."""

    sharpness: float
    exposure: float


class Analysis(msgspec.Struct, frozen=True, kw_only=True):
    """What `POST /grading/analyze` answers (CONTRACT.md, "Grading")."""

    width: int
    height: int
    findings: list[Finding]
    quality: Quality
    suggested_grade: str
    elapsed_ms: float


class Suggestion(msgspec.Struct, frozen=True, kw_only=True):
    """The grade the analysis suggests, how sure it is, and why."""

    grade: str
    confidence: float
    reasons: list[str]
    refusal_reason: str | None = None


class Examination(msgspec.Struct, frozen=True, kw_only=True):
    """An analysis with what the station needs beside it: the suggestion and any reason to retake the photo."""

    analysis: Analysis
    suggestion: Suggestion
    retake: list[str]
    tag_score: float
    model_version: str


def severity_for(kind: str, size_mm: float, strength: float) -> str:
    """Severity of a defect from its size (holes, tears, stains) or its strength (pilling, fading)."""
    measure = size_mm if kind in SIZE_MEASURED else strength
    minor, moderate = SEVERITY_BOUNDS[kind]
    if measure < minor:
        return "minor"
    return "moderate" if measure < moderate else "severe"


def grade_for(defects: Iterable[tuple[str, str]], *, tag: bool) -> tuple[str, str | None]:
    """The rubric: the grade deserved by these (kind, severity) defects, and the refusal reason if refused.

    Holes, tears and stains refuse a piece whatever their size; pilling and fading leave it `very_good` unless
    severe (then refused as `other`); a clean piece is `excellent`, or `new_with_tags` when its tag shows.
    """
    defects = list(defects)
    rank = {severity: i for i, severity in enumerate(SEVERITIES)}
    refusing = [
        (kind, severity) for kind, severity in defects if kind in _ALWAYS_REFUSED or severity == "severe"
    ]
    if refusing:
        kind, _ = max(refusing, key=lambda d: (rank[d[1]], -DEFECT_KINDS.index(d[0])))
        return REFUSED, _REFUSAL_REASON[kind]
    if defects:
        return "very_good", None
    return ("new_with_tags" if tag else "excellent"), None


def grade_distance(a: str, b: str) -> int:
    """How many steps apart two grades are on new_with_tags > excellent > very_good > refused."""
    return abs(GRADES.index(a) - GRADES.index(b))
