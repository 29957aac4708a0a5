"""Evaluation on the held-out fabric family (synthetic photos), and the report with its pictures.

Recall is image-level and localised: a defect counts as found at threshold t when a finding of its kind,
scored t or more, overlaps its box. False positives are the clean and nuisance-only photos with any finding of
that kind at t or more. "Recall at 1% / 5% false positives" uses, per kind, the lowest threshold that keeps
false positives at or under that rate; the station's own operating point is score 0.5. Intervals are 95% Wilson
score intervals. Charts are drawn with OpenCV (no plotting library).
"""

from __future__ import annotations

import itertools
import json
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from joblib import Parallel, delayed

from forever.grading.analysis import HINT_SCORE, examine
from forever.grading.classifier import GradingModel
from forever.grading.model import DEFECT_KINDS, GRADES, SHOWN_SCORE, Examination, grade_distance, grade_for
from forever.grading.synthetic import STATION_SIZE, Sample, Scene, random_scene, render

# Findings down to this score are kept (the station reports from HINT_SCORE): the thresholds for 1% and 5%
# false positives may lie below the station's.
CURVE_FLOOR = 0.01
TARGETS = {"hole": 0.95, "stain": 0.95, "pilling": 0.8, "fading": 0.8}
TARGET_MIN_SIZE_MM = {"hole": 3.0, "stain": 10.0}
TARGET_GRADE_EXACT = 0.85
TARGET_GRADE_WITHIN_ONE = 0.98
SIZE_BINS_MM = {
    "hole": (1.5, 2.0, 3.0, 4.0, 6.0, 10.0, 20.0),
    "stain": (4.0, 7.0, 10.0, 15.0, 25.0, 40.0, 70.0),
    "tear": (8.0, 15.0, 25.0, 40.0, 70.0),
    "pilling": (30.0, 60.0, 90.0, 120.0, 150.0),
    "fading": (70.0, 120.0, 180.0, 240.0, 300.0),
}
STRENGTH_BINS = {"pilling": (0.1, 0.25, 0.4, 0.55, 0.7, 1.0), "fading": (4.0, 6.0, 8.0, 10.0, 13.0, 16.0)}


@dataclass(frozen=True)
class EvaluationConfig:
    """The evaluation set: photos of the held-out family, by scenario."""

    family: str
    seed: int
    clean: int = 150
    nuisance: int = 150
    per_kind: int = 80
    retake: int = 20  # heavily blurred, and dark, photos (each) for the retake flags
    workers: int = 2
    size: tuple[int, int] = STATION_SIZE

    def scenes(self) -> list[tuple[str, Scene]]:
        plan = [
            ("clean", self.clean),
            ("nuisance", self.nuisance),
            *((k, self.per_kind) for k in DEFECT_KINDS),
        ]
        scenes = []
        offset = self.seed * 100_003 + 50_000_000
        for scenario, count in plan:
            for i in range(count):
                seed = offset + len(scenes)
                scenes.append(
                    (scenario, random_scene(seed, family=self.family, scenario=scenario, size=self.size))
                )
        for flaw in ("blurred", "dark"):
            for i in range(self.retake):
                seed = offset + len(scenes)
                # Blur shows on edges (seams, prints, lint): the blurred set has nuisances to judge it by.
                base = random_scene(
                    seed,
                    family=self.family,
                    scenario="nuisance" if flaw == "blurred" else "clean",
                    size=self.size,
                )
                if flaw == "blurred":
                    base = replace(
                        base, blur_mm=float(1.2 + (i % 5) * 0.2), nuisances=(*base.nuisances, "blur")
                    )
                else:
                    base = replace(base, exposure=float(0.004 + (i % 5) * 0.002))
                scenes.append((flaw, base))
        return scenes


@dataclass
class Outcome:
    """One evaluation photo: what was injected, what the analysis found, the grades."""

    seed: int
    family: str
    scenario: str
    true_grade: str
    grade: str
    confidence: float
    defects: list[dict[str, Any]]  # kind, size_mm, strength, severity, bbox, found (best matching score)
    max_score: dict[str, float]  # per kind, over all findings
    findings: list[dict[str, Any]]
    retake: list[str]
    sharpness: float
    exposure: float
    elapsed_ms: float
    tag: bool = False
    tag_score: float = 0.0
    rubric_grade: str = ""


def outcome_for(scenario: str, scene: Scene, model: GradingModel) -> tuple[Outcome, Sample]:
    sample = render(scene)
    return outcome_of(scenario, sample, examine(sample.jpeg, model=model, floor=CURVE_FLOOR)), sample


def outcome_of(scenario: str, sample: Sample, result: Examination) -> Outcome:
    """What the examination of a rendered photo found, against what was drawn."""
    scene = sample.scene
    analysis = result.analysis
    findings = [
        {"kind": f.kind, "bbox": list(f.bbox), "score": f.score, "severity": f.severity}
        for f in analysis.findings
    ]
    defects = []
    for d in sample.defects:
        matching = [f["score"] for f in findings if f["kind"] == d.kind and _overlaps(f["bbox"], d.bbox)]
        defects.append(
            {
                "kind": d.kind,
                "size_mm": d.size_mm,
                "strength": d.strength,
                "severity": d.severity,
                "bbox": list(d.bbox),
                "found": max(matching, default=0.0),
            }
        )
    max_score = {k: max((f["score"] for f in findings if f["kind"] == k), default=0.0) for k in DEFECT_KINDS}
    rubric, _ = grade_for(
        [(f["kind"], f["severity"]) for f in findings if f["score"] >= SHOWN_SCORE],
        tag=result.tag_score >= SHOWN_SCORE,
    )
    return Outcome(
        seed=scene.seed,
        family=scene.family,
        scenario=scenario,
        true_grade=sample.grade,
        grade=analysis.suggested_grade,
        confidence=result.suggestion.confidence,
        defects=defects,
        max_score=max_score,
        findings=findings,
        retake=list(result.retake),
        sharpness=analysis.quality.sharpness,
        exposure=analysis.quality.exposure,
        elapsed_ms=analysis.elapsed_ms,
        tag=scene.tag,
        tag_score=result.tag_score,
        rubric_grade=rubric,
    )


def _overlaps(a: Iterable[int], b: Iterable[int]) -> bool:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    return ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah


def _outcomes_for(batch: list[tuple[str, Scene]], model: GradingModel) -> list[Outcome]:
    cv2.setNumThreads(1)  # one worker per core
    return [outcome_for(scenario, scene, model)[0] for scenario, scene in batch]


def run(
    model: GradingModel, config: EvaluationConfig, progress: Callable[[int], None] | None = None
) -> list[Outcome]:
    """Render and analyse every evaluation photo (in a fixed order)."""
    scenes = config.scenes()
    batches = [scenes[i : i + 8] for i in range(0, len(scenes), 8)]
    if config.workers <= 1:
        results: Iterable[list[Outcome]] = (_outcomes_for(batch, model) for batch in batches)
    else:
        results = Parallel(n_jobs=config.workers, return_as="generator")(
            delayed(_outcomes_for)(batch, model) for batch in batches
        )
    outcomes: list[Outcome] = []
    for batch in results:
        outcomes.extend(batch)
        if progress:
            progress(len(batch))
    return outcomes


# --- statistics ---------------------------------------------------------------------------------------------


def wilson(successes: int, trials: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a proportion."""
    if trials == 0:
        return 0.0, 1.0
    p = successes / trials
    centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / (1 + z * z / trials)
    return max(centre - half, 0.0), min(centre + half, 1.0)


def threshold_for(negative_scores: np.ndarray, rate: float) -> float:
    """The lowest threshold with at most `rate` of the negatives at or above it (never 0: no finding is no
    detection)."""
    ordered = np.sort(negative_scores)[::-1]
    allowed = int(math.floor(rate * len(ordered)))
    if allowed >= len(ordered):
        return 1e-6
    return float(max(np.nextafter(ordered[allowed], 2.0), 1e-6))


def _proportion(successes: int, trials: int) -> dict[str, Any]:
    low, high = wilson(successes, trials)
    return {
        "value": successes / trials if trials else None,
        "n": trials,
        "k": successes,
        "ci95": [round(low, 4), round(high, 4)],
    }


def compute_metrics(outcomes: list[Outcome], config: EvaluationConfig | None = None) -> dict[str, Any]:
    """Every figure of the report, from the outcomes."""
    main = [o for o in outcomes if o.scenario not in ("blurred", "dark")]
    negatives = [o for o in main if o.scenario in ("clean", "nuisance")]
    metrics: dict[str, Any] = {
        "photos": len(outcomes),
        "negatives": len(negatives),
        "kinds": {},
        "synthetic": True,
    }
    if config is not None:
        metrics["family"] = config.family
        metrics["seed"] = config.seed
        metrics["photo_size"] = list(config.size)
    for kind in DEFECT_KINDS:
        negative_scores = np.array([o.max_score[kind] for o in negatives])
        instances = [d for o in main for d in o.defects if d["kind"] == kind]
        minimum = TARGET_MIN_SIZE_MM.get(kind, 0.0)
        targeted = [d for d in instances if d["size_mm"] >= minimum]
        entry: dict[str, Any] = {
            "instances": len(instances),
            "target_min_size_mm": minimum,
            "target_recall": TARGETS.get(kind),
        }
        for label, rate in (("fp1", 0.01), ("fp5", 0.05)):
            threshold = threshold_for(negative_scores, rate)
            entry[label] = {
                "threshold": threshold,
                "false_positives": _proportion(
                    int((negative_scores >= threshold).sum()), len(negative_scores)
                ),
                "recall": _proportion(sum(d["found"] >= threshold for d in targeted), len(targeted)),
                "recall_all_sizes": _proportion(
                    sum(d["found"] >= threshold for d in instances), len(instances)
                ),
            }
        entry["at_0_5"] = {
            "false_positives": _proportion(int((negative_scores >= SHOWN_SCORE).sum()), len(negative_scores)),
            "recall": _proportion(sum(d["found"] >= SHOWN_SCORE for d in targeted), len(targeted)),
            "recall_all_sizes": _proportion(
                sum(d["found"] >= SHOWN_SCORE for d in instances), len(instances)
            ),
        }
        threshold5 = entry["fp5"]["threshold"]
        entry["by_size_mm"] = _binned(instances, "size_mm", SIZE_BINS_MM[kind], threshold5)
        entry["curve"] = _curve(negative_scores, np.array([d["found"] for d in targeted]))
        if kind in STRENGTH_BINS:
            entry["by_strength"] = _binned(instances, "strength", STRENGTH_BINS[kind], threshold5)
        metrics["kinds"][kind] = entry
    any_shown = sum(any(s >= SHOWN_SCORE for s in o.max_score.values()) for o in negatives)
    metrics["false_alarms_at_0_5"] = _proportion(any_shown, len(negatives))
    exact = sum(o.grade == o.true_grade for o in main)
    within = sum(grade_distance(o.grade, o.true_grade) <= 1 for o in main)
    rubric = sum(o.rubric_grade == o.true_grade for o in main)
    # Photos whose every defect is at least as large as the detection targets (holes 3 mm, stains 10 mm).
    detectable = [
        o for o in main if all(d["size_mm"] >= TARGET_MIN_SIZE_MM.get(d["kind"], 0.0) for d in o.defects)
    ]
    metrics["grade"] = {
        "exact": _proportion(exact, len(main)),
        "within_one": _proportion(within, len(main)),
        "exact_detectable": _proportion(sum(o.grade == o.true_grade for o in detectable), len(detectable)),
        "within_one_detectable": _proportion(
            sum(grade_distance(o.grade, o.true_grade) <= 1 for o in detectable), len(detectable)
        ),
        "rubric_on_findings_exact": _proportion(rubric, len(main)),
        "confusion": {
            t: {p: sum(o.true_grade == t and o.grade == p for o in main) for p in GRADES} for t in GRADES
        },
        "targets": {"exact": TARGET_GRADE_EXACT, "within_one": TARGET_GRADE_WITHIN_ONE},
    }
    retake = {}
    for group in ("blurred", "dark"):
        flagged = [o for o in outcomes if o.scenario == group]
        retake[group] = _proportion(sum(group in o.retake for o in flagged), len(flagged))
    retake["normal_photos_flagged"] = _proportion(sum(bool(o.retake) for o in main), len(main))
    metrics["retake"] = retake
    times = np.array([o.elapsed_ms for o in main])
    metrics["elapsed_ms"] = {
        "p50": float(np.percentile(times, 50)) if len(times) else None,
        "p95": float(np.percentile(times, 95)) if len(times) else None,
        "note": "measured inside evaluation workers, one core each",
    }
    return metrics


def _curve(negative_scores: np.ndarray, found: np.ndarray) -> list[list[float]]:
    """(false positive rate, recall) at every threshold the negatives' scores offer, up to 20% false
    positives: the curve both operating points lie on."""
    points = []
    for threshold in sorted({*negative_scores.tolist(), 1.0}, reverse=True):
        threshold = max(threshold, 1e-6)
        false_positives = float((negative_scores >= threshold).mean()) if len(negative_scores) else 0.0
        if false_positives > 0.2:
            break
        recall = float((found >= threshold).mean()) if len(found) else 0.0
        points.append([round(false_positives, 4), round(recall, 4)])
    return points


def _binned(
    instances: list[dict[str, Any]], key: str, edges: tuple[float, ...], threshold: float
) -> list[dict[str, Any]]:
    rows = []
    for low, high in itertools.pairwise(edges):
        chosen = [d for d in instances if low <= d[key] < high or (high == edges[-1] and d[key] == high)]
        rows.append(
            {
                "from": low,
                "to": high,
                "recall_fp5": _proportion(sum(d["found"] >= threshold for d in chosen), len(chosen)),
                "recall_at_0_5": _proportion(sum(d["found"] >= SHOWN_SCORE for d in chosen), len(chosen)),
            }
        )
    return rows


# --- the report ---------------------------------------------------------------------------------------------


def _fmt(p: dict[str, Any]) -> str:
    if p["value"] is None:
        return "n/a"
    return f"{p['value']:.3f} [{p['ci95'][0]:.3f}, {p['ci95'][1]:.3f}] ({p['k']}/{p['n']})"


def _verdict(value: float | None, target: float | None) -> str:
    if target is None or value is None:
        return ""
    return "meets" if value >= target else "**misses**"


def metrics_markdown(metrics: dict[str, Any]) -> list[str]:
    """The metric tables, as Markdown lines (used by the report and the model card)."""
    lines = [
        f"All figures are on **synthetic** photos of the held-out family **{metrics.get('family')}** "
        f"({metrics['photos']} photos{_size(metrics)}, {metrics['negatives']} of them clean or nuisance-only); "
        "95% Wilson intervals in brackets.",
        "",
        "### Recall at 1% and 5% false positives (image-level, localised)",
        "",
        "A defect is found at a threshold when a finding of its kind scored at least that overlaps it; the "
        "thresholds are the lowest scores keeping false positives (clean and nuisance-only photos with such a "
        "finding anywhere) at 1% and 5%. The station shows findings from score 0.5.",
        "",
        "| kind | sizes | target | recall @1% FP | recall @5% FP | FP at 5% thr. | thresholds 1% / 5% | "
        "at score 0.5: recall | at score 0.5: FP |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for kind, entry in metrics["kinds"].items():
        sizes = f">= {entry['target_min_size_mm']:g} mm" if entry["target_min_size_mm"] else "all"
        target = entry["target_recall"]
        verdict = _verdict(entry["fp5"]["recall"]["value"], target)
        lines.append(
            f"| {kind} | {sizes} | {target if target else '-'} {verdict} | {_fmt(entry['fp1']['recall'])} "
            f"| {_fmt(entry['fp5']['recall'])} | {_fmt(entry['fp5']['false_positives'])} | "
            f"{entry['fp1']['threshold']:.3f} / {entry['fp5']['threshold']:.3f} | "
            f"{_fmt(entry['at_0_5']['recall'])} | {_fmt(entry['at_0_5']['false_positives'])} |"
        )
    lines += [
        "",
        f"Any finding shown (score >= 0.5) on a clean or nuisance-only photo: "
        f"{_fmt(metrics['false_alarms_at_0_5'])}.",
        "",
        "### Recall against defect size (threshold at 5% false positives)",
        "",
    ]
    for kind, entry in metrics["kinds"].items():
        cells = " | ".join(
            f"{b['from']:g}-{b['to']:g} mm: {_short(b['recall_fp5'])}" for b in entry["by_size_mm"]
        )
        lines.append(f"- **{kind}**: {cells}")
        if "by_strength" in entry:
            unit = "intensity" if kind == "pilling" else "delta E"
            cells = " | ".join(
                f"{b['from']:g}-{b['to']:g} {unit}: {_short(b['recall_fp5'])}" for b in entry["by_strength"]
            )
            lines.append(f"- **{kind}** by strength: {cells}")
    grade = metrics["grade"]
    lines += [
        "",
        "### Grade",
        "",
        f"- exact: {_fmt(grade['exact'])} (target {grade['targets']['exact']}: "
        f"{_verdict(grade['exact']['value'], grade['targets']['exact'])})",
        f"- within one grade: {_fmt(grade['within_one'])} (target {grade['targets']['within_one']}: "
        f"{_verdict(grade['within_one']['value'], grade['targets']['within_one'])})",
        f"- on the photos whose defects are all at least the detection targets' sizes (holes 3 mm, stains "
        f"10 mm): exact {_fmt(grade['exact_detectable'])}, within one {_fmt(grade['within_one_detectable'])}",
        f"- for comparison, the rubric applied to the shown findings: {_fmt(grade['rubric_on_findings_exact'])}",
        "",
        "| true \\ suggested | " + " | ".join(GRADES) + " |",
        "| --- | " + " | ".join("---" for _ in GRADES) + " |",
    ]
    for true in GRADES:
        lines.append(f"| {true} | " + " | ".join(str(grade["confusion"][true][p]) for p in GRADES) + " |")
    retake = metrics["retake"]
    lines += [
        "",
        "### Retake flags",
        "",
        f"- heavily blurred photos flagged `blurred`: {_fmt(retake['blurred'])}",
        f"- dark photos flagged `dark`: {_fmt(retake['dark'])}",
        f"- other photos flagged at all: {_fmt(retake['normal_photos_flagged'])}",
        "",
    ]
    return lines


def _size(metrics: dict[str, Any]) -> str:
    size = metrics.get("photo_size")
    return f" of {size[0]} x {size[1]} pixels" if size else ""


def _short(p: dict[str, Any]) -> str:
    return "n/a" if p["value"] is None else f"{p['value']:.2f} ({p['k']}/{p['n']})"


def write_report(
    outcomes: list[Outcome],
    metrics: dict[str, Any],
    model: GradingModel,
    config: EvaluationConfig,
    out: Path,
    samples_for_examples: int = 8,
) -> Path:
    """report.md, metrics.json, charts and example pictures with their boxes, in `out`."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    (out / "outcomes.json").write_text(json.dumps([asdict(o) for o in outcomes]) + "\n")
    _chart_recall(metrics, out / "recall_at_fp.png")
    _chart_curves(metrics, out / "recall_vs_false_positives.png")
    _chart_sizes(metrics, out / "recall_vs_size.png")
    _chart_confusion(metrics, out / "grade_confusion.png")
    examples = _examples(outcomes, config, out / "examples", samples_for_examples)
    lines = [
        "# Grading evaluation (synthetic)",
        "",
        f"Model `{model.version}`; held-out family **{config.family}**, seed {config.seed}; "
        f"written {time.strftime('%Y-%m-%d %H:%M')}.",
        "",
        "**Synthetic results.** Every photo here was generated by `forever/grading/synthetic.py`; the model "
        "never saw this fabric family in training. Real photos of AMI pieces will differ.",
        "",
    ]
    lines += metrics_markdown(metrics)
    lines += [
        "## Charts",
        "",
        "![recall at 1% and 5% false positives](recall_at_fp.png)",
        "",
        "![recall against the false positive rate](recall_vs_false_positives.png)",
        "",
        "![recall against size](recall_vs_size.png)",
        "",
        "![grade confusion matrix](grade_confusion.png)",
        "",
        "## Examples",
        "",
        "Green: injected defects (kind, size). Red: findings shown (score >= 0.5); orange: hints.",
        "",
    ]
    for caption, name in examples:
        lines += [f"**{caption}**", "", f"![{caption}](examples/{name})", ""]
    lines += [
        "## Timing",
        "",
        f"Analysis time inside the evaluation ({config.size[0]} x {config.size[1]} JPEGs, one core per "
        "worker, on a machine others share): p50 "
        f"{metrics['elapsed_ms']['p50']:.0f} ms, p95 {metrics['elapsed_ms']['p95']:.0f} ms. "
        "For 12 MP photos see `bench/grading.py`.",
        "",
    ]
    path = out / "report.md"
    path.write_text("\n".join(lines))
    return path


# --- pictures (OpenCV only) ---------------------------------------------------------------------------------

_WHITE, _BLACK, _GREY = (255, 255, 255), (30, 30, 30), (200, 200, 200)
_BLUE, _ORANGE, _GREEN, _RED = (180, 110, 40), (40, 140, 240), (60, 170, 60), (50, 50, 220)
_FONT = cv2.FONT_HERSHEY_SIMPLEX


def _canvas(width: int, height: int, title: str) -> np.ndarray:
    image = np.full((height, width, 3), 255, np.uint8)
    cv2.putText(image, title, (20, 32), _FONT, 0.7, _BLACK, 2, cv2.LINE_AA)
    return image


def _axes(image: np.ndarray, box: tuple[int, int, int, int], y_label: str) -> Callable[[float], int]:
    x0, y0, x1, y1 = box
    cv2.line(image, (x0, y1), (x1, y1), _BLACK, 1)
    cv2.line(image, (x0, y0), (x0, y1), _BLACK, 1)
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        y = int(y1 - tick * (y1 - y0))
        cv2.line(image, (x0, y), (x1, y), _GREY, 1)
        cv2.putText(image, f"{tick:.2f}", (x0 - 45, y + 5), _FONT, 0.4, _BLACK, 1, cv2.LINE_AA)
    cv2.putText(image, y_label, (x0 - 45, y0 - 12), _FONT, 0.45, _BLACK, 1, cv2.LINE_AA)
    return lambda value: int(y1 - max(min(value, 1.0), 0.0) * (y1 - y0))


def _chart_recall(metrics: dict[str, Any], path: Path) -> None:
    image = _canvas(900, 460, "Recall at 1% / 5% false positives, held-out family (synthetic)")
    box = (80, 70, 880, 400)
    to_y = _axes(image, box, "recall")
    kinds = list(metrics["kinds"])
    slot = (box[2] - box[0]) / len(kinds)
    for i, kind in enumerate(kinds):
        entry = metrics["kinds"][kind]
        for j, (label, colour) in enumerate((("fp1", _BLUE), ("fp5", _ORANGE))):
            p = entry[label]["recall"]
            if p["value"] is None:
                continue
            x = int(box[0] + slot * i + slot * (0.2 + 0.32 * j))
            cv2.rectangle(image, (x, to_y(p["value"])), (x + int(slot * 0.28), box[3]), colour, -1)
            centre = x + int(slot * 0.14)
            cv2.line(image, (centre, to_y(p["ci95"][0])), (centre, to_y(p["ci95"][1])), _BLACK, 2)
        if entry["target_recall"]:
            y = to_y(entry["target_recall"])
            cv2.line(image, (int(box[0] + slot * i + 8), y), (int(box[0] + slot * (i + 1) - 8), y), _RED, 2)
        size = f" >={entry['target_min_size_mm']:g}mm" if entry["target_min_size_mm"] else ""
        cv2.putText(
            image, kind + size, (int(box[0] + slot * i + 10), box[3] + 22), _FONT, 0.5, _BLACK, 1, cv2.LINE_AA
        )
    cv2.rectangle(image, (600, 420), (615, 435), _BLUE, -1)
    cv2.putText(image, "1% FP", (620, 433), _FONT, 0.45, _BLACK, 1, cv2.LINE_AA)
    cv2.rectangle(image, (690, 420), (705, 435), _ORANGE, -1)
    cv2.putText(image, "5% FP", (710, 433), _FONT, 0.45, _BLACK, 1, cv2.LINE_AA)
    cv2.line(image, (780, 428), (800, 428), _RED, 2)
    cv2.putText(image, "target", (805, 433), _FONT, 0.45, _BLACK, 1, cv2.LINE_AA)
    cv2.imwrite(str(path), image)


_KIND_COLOURS = {
    "stain": (40, 90, 160),
    "hole": (50, 50, 220),
    "tear": (160, 60, 160),
    "pilling": (60, 170, 60),
    "fading": (200, 140, 40),
}


def _chart_curves(metrics: dict[str, Any], path: Path) -> None:
    """Recall against the false positive rate (0 to 20%) per kind, with the 1% and 5% lines."""
    image = _canvas(900, 480, "Recall against false positives, held-out family (synthetic)")
    box = (80, 70, 760, 420)
    to_y = _axes(image, box, "recall")

    def to_x(rate: float) -> int:
        return int(box[0] + min(rate, 0.2) / 0.2 * (box[2] - box[0]))

    for rate in (0.01, 0.05, 0.1, 0.2):
        cv2.line(image, (to_x(rate), box[1]), (to_x(rate), box[3]), _GREY, 1)
        cv2.putText(image, f"{rate:.0%}", (to_x(rate) - 12, box[3] + 20), _FONT, 0.45, _BLACK, 1, cv2.LINE_AA)
    cv2.putText(image, "false positives", (box[2] - 120, box[3] + 45), _FONT, 0.45, _BLACK, 1, cv2.LINE_AA)
    for n, (kind, entry) in enumerate(metrics["kinds"].items()):
        colour = _KIND_COLOURS.get(kind, _BLACK)
        points = [(to_x(rate), to_y(recall)) for rate, recall in entry.get("curve", [])]
        # A step curve: recall holds until the next threshold lets more false positives in.
        for (x0, y0), (x1, y1) in itertools.pairwise(points):
            cv2.line(image, (x0, y0), (x1, y0), colour, 2, cv2.LINE_AA)
            cv2.line(image, (x1, y0), (x1, y1), colour, 2, cv2.LINE_AA)
        if points:
            cv2.line(image, points[-1], (box[2], points[-1][1]), colour, 2, cv2.LINE_AA)
        cv2.rectangle(image, (775, 90 + 28 * n), (790, 105 + 28 * n), colour, -1)
        cv2.putText(image, kind, (797, 103 + 28 * n), _FONT, 0.5, _BLACK, 1, cv2.LINE_AA)
    cv2.imwrite(str(path), image)


def _chart_sizes(metrics: dict[str, Any], path: Path) -> None:
    kinds = list(metrics["kinds"])
    image = _canvas(
        1200,
        330 * ((len(kinds) + 1) // 2) + 40,
        "Recall against defect size (mm), threshold at 5% false positives (synthetic)",
    )
    for n, kind in enumerate(kinds):
        left, top = 90 + (n % 2) * 600, 80 + (n // 2) * 330
        box = (left, top, left + 480, top + 220)
        to_y = _axes(image, box, f"{kind}: recall")
        bins = metrics["kinds"][kind]["by_size_mm"]
        step = (box[2] - box[0]) / len(bins)
        points = []
        for i, b in enumerate(bins):
            x = int(box[0] + step * (i + 0.5))
            cv2.putText(
                image, f"{b['from']:g}-{b['to']:g}", (x - 22, box[3] + 20), _FONT, 0.4, _BLACK, 1, cv2.LINE_AA
            )
            p = b["recall_fp5"]
            if p["value"] is None:
                continue
            cv2.line(image, (x, to_y(p["ci95"][0])), (x, to_y(p["ci95"][1])), _GREY, 3)
            points.append((x, to_y(p["value"])))
            cv2.putText(image, f"n={p['n']}", (x - 16, box[1] + 14), _FONT, 0.35, _BLACK, 1, cv2.LINE_AA)
        for a, b in itertools.pairwise(points):
            cv2.line(image, a, b, _BLUE, 2, cv2.LINE_AA)
        for point in points:
            cv2.circle(image, point, 4, _BLUE, -1, cv2.LINE_AA)
        cv2.putText(image, "mm", (box[2] + 8, box[3] + 20), _FONT, 0.4, _BLACK, 1, cv2.LINE_AA)
    cv2.imwrite(str(path), image)


def _chart_confusion(metrics: dict[str, Any], path: Path) -> None:
    confusion = metrics["grade"]["confusion"]
    cell = 120
    image = _canvas(220 + cell * len(GRADES), 140 + cell * len(GRADES), "Grade: true (rows) vs suggested")
    for i, true in enumerate(GRADES):
        cv2.putText(image, true, (10, 120 + i * cell + cell // 2), _FONT, 0.45, _BLACK, 1, cv2.LINE_AA)
        row_total = max(sum(confusion[true].values()), 1)
        for j, predicted in enumerate(GRADES):
            x, y = 200 + j * cell, 90 + i * cell
            count = confusion[true][predicted]
            shade = int(255 - 200 * count / row_total)
            cv2.rectangle(
                image, (x, y), (x + cell - 4, y + cell - 4), (shade, shade, 255 if i == j else shade), -1
            )
            cv2.putText(image, str(count), (x + cell // 3, y + cell // 2), _FONT, 0.7, _BLACK, 2, cv2.LINE_AA)
        cv2.putText(image, true, (200 + i * cell, 80), _FONT, 0.4, _BLACK, 1, cv2.LINE_AA)
    cv2.imwrite(str(path), image)


def _examples(
    outcomes: list[Outcome], config: EvaluationConfig, folder: Path, count: int
) -> list[tuple[str, str]]:
    """A few photos with their boxes: found defects, missed ones, and false alarms, if any."""
    folder.mkdir(parents=True, exist_ok=True)
    chosen: list[tuple[str, Outcome]] = []
    for kind in DEFECT_KINDS:
        hit = next(
            (o for o in outcomes if o.scenario == kind and o.defects and o.defects[0]["found"] >= 0.5), None
        )
        if hit:
            chosen.append((f"{kind} found", hit))
    missed = [o for o in outcomes if o.scenario in DEFECT_KINDS and o.defects and o.defects[0]["found"] < 0.5]
    chosen += [(f"{o.scenario} missed ({o.defects[0]['size_mm']:.1f} mm)", o) for o in missed[:2]]
    alarms = [
        o
        for o in outcomes
        if o.scenario in ("clean", "nuisance") and any(s >= SHOWN_SCORE for s in o.max_score.values())
    ]
    chosen += [(f"false alarm on a {o.scenario} photo", o) for o in alarms[:2]]
    scenes = {scene.seed: scene for _, scene in config.scenes()}
    written = []
    for n, (caption, outcome) in enumerate(chosen[: count + 4]):
        name = f"{n:02d}-{caption.split(' ')[0]}-{caption.split(' ')[1]}.jpg"
        picture = _example(render(scenes[outcome.seed]).image, outcome)
        cv2.imwrite(str(folder / name), picture, [cv2.IMWRITE_JPEG_QUALITY, 85])
        written.append((caption, name))
    return written


_EXAMPLE_WIDTH = 1000
_INSET = 280


def _example(photo: np.ndarray, outcome: Outcome) -> np.ndarray:
    """The photo at 1000 pixels across with injected defects (green), findings (red, hints orange) and a
    magnified inset of the first defect or finding, taken from the full-resolution photo."""
    scale = _EXAMPLE_WIDTH / photo.shape[1]
    picture = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)

    def box(bbox: list[int], pad: int = 0) -> tuple[tuple[int, int], tuple[int, int]]:
        x, y, w, h = (int(v * scale) for v in bbox)
        return (x - pad, y - pad), (x + w + pad, y + h + pad)

    for d in outcome.defects:
        top_left, bottom_right = box(d["bbox"], 3)
        cv2.rectangle(picture, top_left, bottom_right, _GREEN, 2)
        label = f"{d['kind']} {d['size_mm']:.0f}mm"
        cv2.putText(picture, label, (top_left[0], max(top_left[1] - 6, 12)), _FONT, 0.5, _GREEN, 2, cv2.LINE_AA)
    for f in outcome.findings:
        if f["score"] < HINT_SCORE:
            continue
        top_left, bottom_right = box(f["bbox"])
        colour = _RED if f["score"] >= SHOWN_SCORE else _ORANGE
        cv2.rectangle(picture, top_left, bottom_right, colour, 2)
        label = f"{f['kind']} {f['score']:.2f}"
        cv2.putText(picture, label, (top_left[0], bottom_right[1] + 16), _FONT, 0.5, colour, 2, cv2.LINE_AA)
    caption = f"true {outcome.true_grade} / suggested {outcome.grade}"
    cv2.putText(picture, caption, (12, 30), _FONT, 0.8, _WHITE, 3, cv2.LINE_AA)
    shown = [f for f in outcome.findings if f["score"] >= HINT_SCORE]
    focus = outcome.defects[0]["bbox"] if outcome.defects else (shown[0]["bbox"] if shown else None)
    if focus is not None:  # small defects are a few pixels in the overview: a magnified inset beside them
        x, y, w, h = focus
        half = max(w, h) // 2 + int(25 / scale)
        cx, cy = x + w // 2, y + h // 2
        crop = photo[max(cy - half, 0) : cy + half, max(cx - half, 0) : cx + half]
        picture[10 : 10 + _INSET, -_INSET - 10 : -10] = cv2.resize(
            crop, (_INSET, _INSET), interpolation=cv2.INTER_AREA
        )
        cv2.rectangle(picture, (picture.shape[1] - _INSET - 11, 9), (picture.shape[1] - 10, _INSET + 10), _WHITE, 2)
    return picture


def evaluate(
    model: GradingModel, config: EvaluationConfig, out: Path, progress: Callable[[int], None] | None = None
) -> dict[str, Any]:
    """Run the evaluation and write the report; returns the metrics."""
    outcomes = run(model, config, progress)
    metrics = compute_metrics(outcomes, config)
    metrics["model_version"] = model.version
    write_report(outcomes, metrics, model, config, out)
    return metrics


def save_card_metrics(metrics: dict[str, Any], directory: Path) -> Path:
    """Keep the committed model's evaluation beside it (the model card quotes it)."""
    path = directory / "evaluation.json"
    path.write_text(json.dumps(metrics, indent=2) + "\n")
    return path
