"""Analyse one photo: intake, decode, propose at the working scale (and pilling on full-resolution tiles),
score, grade.

`analyse(data)` answers the contract's analysis; `examine(data)` adds what the grading station needs beside
it (the suggestion with its confidence and reasons, and why to retake the photo). Nothing is stored.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import cv2
import numpy as np

from forever.grading import intake
from forever.grading.classifier import REGION_CLASSES, TAG, GradingModel, default_model, image_features
from forever.grading.features import (
    FINE_PX_PER_MM,
    WORK_PX_PER_MM,
    Candidate,
    FineSource,
    PhotoMeasures,
    box_intersection,
    propose,
    to_working_scale,
)
from forever.grading.model import (
    BLURRED,
    DARK,
    DEFECT_KINDS,
    FRAME_MM,
    GRADES,
    HINT_SCORE,
    OVEREXPOSED,
    REFUSED,
    SHOWN_SCORE,
    Analysis,
    Examination,
    Finding,
    Quality,
    Suggestion,
    severity_for,
)

# One request gets both cores: the station analyses one photo at a time, and a decode plus a few filters
# finish sooner split in two than queued behind another request's.
cv2.setNumThreads(2)

MAX_FINDINGS = 20
# Retake limits (see evaluation: the synthetic blurred and dark photos fall beyond them, normal ones within).
BLUR_LIMIT = 0.4  # edges blurred beyond ~0.8 mm (sigma)
DARK_LIMIT = 0.1  # mean luminance: a well-lit black garment is ~0.14
CLIPPED_LIMIT = 0.25
_AREA_KINDS = frozenset({"pilling", "fading"})  # defects over an area: nearby regions are one finding
_CUT_KINDS = frozenset({"stain", "hole", "tear"})
_REFUSAL_ORDER = ("hole", "tear", "stain")


@dataclass(frozen=True)
class Survey:
    """A photo brought to the working scale, with its candidate regions and measures."""

    header: intake.PhotoHeader
    work_size: tuple[int, int]  # (width, height) of the working image
    candidates: list[Candidate]
    measures: PhotoMeasures

    @property
    def to_upload(self) -> tuple[float, float]:
        """Uploaded-image pixels per working pixel, along x and y."""
        return self.header.width / self.work_size[0], self.header.height / self.work_size[1]


@dataclass(frozen=True)
class _Scored:
    kind: str
    score: float
    bbox: tuple[int, int, int, int]  # working pixels
    index: int  # into the survey's candidates


def survey(data: bytes, *, frame_mm: float = FRAME_MM) -> Survey:
    """Check, decode and propose: everything before the trained model (training uses it too)."""
    header = intake.read_header(data)
    photo_px_per_mm = max(header.width, header.height) / frame_mm
    # Decode as small as the pilling tiles allow (JPEG: inside the decoder): a 12 MP photo at full resolution.
    reduction = next((r for r in (8, 4, 2) if photo_px_per_mm / r >= FINE_PX_PER_MM * 0.999), 1)
    decoded = intake.decode(data, header, reduction=reduction)
    decoded_px_per_mm = max(decoded.shape[:2]) / frame_mm
    image = to_working_scale(decoded, decoded_px_per_mm)
    finer = decoded_px_per_mm > WORK_PX_PER_MM * 1.05
    candidates, measures = propose(image, FineSource(decoded, decoded_px_per_mm) if finer else None)
    del decoded  # the survey keeps only what it found: the full-resolution pixels are freed here
    return Survey(
        header=header, work_size=(image.shape[1], image.shape[0]), candidates=candidates, measures=measures
    )


def examine(
    data: bytes, *, frame_mm: float = FRAME_MM, model: GradingModel | None = None, floor: float = HINT_SCORE
) -> Examination:
    """The analysis of one photo, the suggested grade with its confidence and reasons, and retake flags.

    `floor` is the lowest score reported as a finding (the evaluation lowers it to trace whole curves)."""
    started = time.perf_counter()
    model = model or default_model()
    found = survey(data, frame_mm=frame_mm)
    return judge(found, model, started, floor=floor)


def analyse(data: bytes, *, frame_mm: float = FRAME_MM, model: GradingModel | None = None) -> Analysis:
    """The contract's analysis of one photo (CONTRACT.md, "Grading")."""
    return examine(data, frame_mm=frame_mm, model=model).analysis


def judge(
    found: Survey, model: GradingModel, started: float | None = None, *, floor: float = HINT_SCORE
) -> Examination:
    """Score a survey's candidates with the model and turn them into findings, a suggestion and flags."""
    started = time.perf_counter() if started is None else started
    features = np.stack([c.features for c in found.candidates]) if found.candidates else np.zeros((0, 1))
    probabilities = model.region_probabilities(features)
    scores = {kind: model.score(kind, probabilities[:, REGION_CLASSES.index(kind)]) for kind in DEFECT_KINDS}
    tag_score = float(model.score(TAG, probabilities[:, REGION_CLASSES.index(TAG)]).max(initial=0.0))
    kept = _select(found.candidates, scores, floor)
    measured, findings_measures = _measures(model, scores, kept, features)
    sx, sy = found.to_upload
    width, height = found.header.width, found.header.height
    findings = [
        Finding(
            kind=f.kind,
            bbox=_to_upload(f.bbox, sx, sy, width, height),
            score=round(f.score, 3),
            severity=severity_for(f.kind, value, value),
        )
        for f, value in zip(kept, findings_measures, strict=True)
    ]
    m = found.measures
    row = image_features(scores, measured, tag_score)
    grade_probabilities = model.grade_probabilities(row)
    grade = model.suggest(grade_probabilities)
    shown = [
        (f, value) for f, value in zip(findings, findings_measures, strict=True) if f.score >= SHOWN_SCORE
    ]
    suggestion = Suggestion(
        grade=grade,
        confidence=round(grade_probabilities[grade], 3),
        reasons=_reasons(shown, tag_score, grade),
        refusal_reason=_refusal_reason(shown) if grade == REFUSED else None,
    )
    retake = [
        flag
        for flag, raised in (
            (BLURRED, m.sharpness < BLUR_LIMIT),
            (DARK, m.exposure < DARK_LIMIT),
            (OVEREXPOSED, m.clipped > CLIPPED_LIMIT),
        )
        if raised
    ]
    analysis = Analysis(
        width=width,
        height=height,
        findings=findings,
        quality=Quality(sharpness=round(m.sharpness, 3), exposure=round(m.exposure, 3)),
        suggested_grade=grade,
        elapsed_ms=round((time.perf_counter() - started) * 1000, 1),
    )
    return Examination(
        analysis=analysis,
        suggestion=suggestion,
        retake=retake,
        tag_score=round(tag_score, 3),
        model_version=model.version,
    )


def _select(candidates: list[Candidate], scores: dict[str, np.ndarray], floor: float) -> list[_Scored]:
    """Each candidate as its best kind, then one finding per defect: overlapping regions of a kind merge."""
    if not candidates:
        return []
    table = np.stack([scores[kind] for kind in DEFECT_KINDS], axis=1)
    best = table.argmax(axis=1)
    scored = [
        _Scored(DEFECT_KINDS[k], float(table[i, k]), candidates[i].bbox, i)
        for i, k in enumerate(best)
        if table[i, k] >= floor
    ]
    scored.sort(key=lambda s: -s.score)
    kept: list[_Scored] = []
    for item in scored:
        merged = False
        for j, other in enumerate(kept):
            if item.kind == other.kind and item.kind in _AREA_KINDS and _near(item.bbox, other.bbox, 5):
                kept[j] = _Scored(other.kind, other.score, _union(other.bbox, item.bbox), other.index)
                merged = True
                break
            same_family = item.kind == other.kind or (item.kind in _CUT_KINDS and other.kind in _CUT_KINDS)
            if same_family and _containment(item.bbox, other.bbox) > 0.5:
                merged = True
                break
        if not merged:
            kept.append(item)
    return kept[:MAX_FINDINGS] if floor >= HINT_SCORE else kept


def _measures(
    model: GradingModel, scores: dict[str, np.ndarray], kept: list[_Scored], features: np.ndarray
) -> tuple[dict[str, np.ndarray], list[float]]:
    """Measures (size or strength), one model call per kind: of each kind's best candidate, laid out like its
    scores (the grade model's input: the others are not needed), and of each finding. A kind with no finding
    and no candidate reaching a hint is not measured: the grade model ignores its measure."""
    best: dict[str, np.ndarray] = {}
    of_findings = np.zeros(len(kept))
    for kind in DEFECT_KINDS:
        best[kind] = np.zeros(len(scores[kind]))
        if not len(scores[kind]):
            continue
        top = int(np.argmax(scores[kind]))
        mine = [i for i, f in enumerate(kept) if f.kind == kind]
        if not mine and scores[kind][top] < HINT_SCORE:
            continue
        values = model.measure(kind, features[[top, *(kept[i].index for i in mine)]])
        best[kind][top] = values[0]
        of_findings[mine] = values[1:]
    return best, of_findings.tolist()


def _to_upload(
    bbox: tuple[int, int, int, int], sx: float, sy: float, width: int, height: int
) -> tuple[int, int, int, int]:
    x, y, w, h = bbox
    x0, y0 = max(int(math.floor(x * sx)), 0), max(int(math.floor(y * sy)), 0)
    x1, y1 = min(int(math.ceil((x + w) * sx)), width), min(int(math.ceil((y + h) * sy)), height)
    return x0, y0, max(x1 - x0, 1), max(y1 - y0, 1)


def _near(a: tuple[int, int, int, int], b: tuple[int, int, int, int], mm: float) -> bool:
    gap = mm * WORK_PX_PER_MM
    return (
        a[0] - gap < b[0] + b[2]
        and b[0] - gap < a[0] + a[2]
        and a[1] - gap < b[1] + b[3]
        and b[1] - gap < a[1] + a[3]
    )


def _union(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    x0, y0 = min(a[0], b[0]), min(a[1], b[1])
    x1, y1 = max(a[0] + a[2], b[0] + b[2]), max(a[1] + a[3], b[1] + b[3])
    return x0, y0, x1 - x0, y1 - y0


def _containment(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """The share of the smaller box that lies inside the other."""
    return box_intersection(a, b) / max(min(a[2] * a[3], b[2] * b[3]), 1)


def _reasons(shown: list[tuple[Finding, float]], tag_score: float, grade: str) -> list[str]:
    reasons = []
    for finding, value in shown[:5]:
        if finding.kind in ("hole", "tear", "stain"):
            reasons.append(
                f"{finding.severity} {finding.kind}, about {value:.0f} mm (score {finding.score:.2f})"
            )
        else:
            reasons.append(f"{finding.severity} {finding.kind} (score {finding.score:.2f})")
    if tag_score >= SHOWN_SCORE:
        reasons.append(f"hang tag visible (score {tag_score:.2f})")
    if not reasons:
        reasons.append("no defect found")
    if grade not in GRADES:
        reasons.append(f"unexpected grade {grade}")
    return reasons


def _refusal_reason(shown: list[tuple[Finding, float]]) -> str:
    """The contract's refusal reason for the worst shown defect: hole, tear or stain, else `other` (wear)."""
    for kind in _REFUSAL_ORDER:
        if any(f.kind == kind for f, _ in shown):
            return kind
    return "other"
