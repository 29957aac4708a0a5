"""Training: synthetic photos (one fabric family held out) plus the experts' labelled decisions.

Every photo goes through the same path as an upload (JPEG bytes -> `analysis.survey`), its candidate regions
are labelled by overlap with the true defect masks (or an expert's boxes), and four things are fitted:

1. the region classifier (none / stain / hole / tear / pilling / fading / tag), cross-fitted in 3 folds so the
   steps below see honest, out-of-fold probabilities;
2. per-kind measure regressors (size in mm, or strength) for severities;
3. the score calibration: per kind, the out-of-fold probability that only ~1.5% of defect-free photos reach
   becomes score 0.5;
4. the grade model, from image-level summaries of the calibrated findings to the grade.

Experts' final decisions (photo, grade, refusal reason, optional boxes) are `LabelledPhoto`s: they join the
grade model always, and the region classifier when they carry boxes, or when the piece was graded clean.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from joblib import Parallel, delayed
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.model_selection import GroupKFold

from forever.grading.analysis import Survey, survey
from forever.grading.classifier import (
    FAR_COST,
    MODEL_DIR,
    REGION_CLASSES,
    TAG,
    GradingModel,
    RubricGrade,
    calibrate,
    image_features,
    measure_from_target,
    measure_target,
    single_thread,
)
from forever.grading.features import FEATURE_NAMES, WORK_PX_PER_MM
from forever.grading.model import ACCEPTED_CONDITIONS, DEFECT_KINDS, FRAME_MM, GRADES
from forever.grading.synthetic import DEFAULT_SIZE, FAMILIES, STATION_SIZE, Sample, Scene, random_scene, render

DEFAULT_IMAGES = 3000
DEFAULT_SEED = 20261122
DEFAULT_HOLDOUT = "jersey"
CALIBRATION_FALSE_POSITIVES = 0.015
EXPERT_WEIGHT = 5.0
# Training photos carry a second defect more often than evaluation ones: more examples per rendered photo.
SECOND_DEFECT_ODDS = 0.6
STATION_SHARE = 2 / 3
TAGGED_DEFECT_ODDS = 0.2
FOLDS = 3
_POSITIVE_WEIGHT = 4.0


@dataclass(frozen=True)
class LabelledBox:
    """An expert's box around a defect, [x, y, w, h] in the uploaded photo's pixels (after EXIF orientation)."""

    kind: str
    bbox: tuple[int, int, int, int]


@dataclass(frozen=True)
class LabelledPhoto:
    """An expert's final decision on one photo: the grade (or `refused` with its reason), optional boxes."""

    image: bytes
    grade: str
    refusal_reason: str | None = None
    boxes: tuple[LabelledBox, ...] = ()
    frame_mm: float = FRAME_MM

    def __post_init__(self) -> None:
        if self.grade not in GRADES:
            raise ValueError(f"unknown grade {self.grade!r}")
        for box in self.boxes:
            if box.kind not in DEFECT_KINDS and box.kind != TAG:
                raise ValueError(f"unknown defect kind {box.kind!r}")


@dataclass(frozen=True)
class TrainingConfig:
    """What `forever grading train` does; the defaults make the committed model."""

    images: int = DEFAULT_IMAGES
    seed: int = DEFAULT_SEED
    holdout: str = DEFAULT_HOLDOUT
    workers: int = 2
    region_iterations: int = 150
    station_share: float = STATION_SHARE  # photos drawn at the station's scale (the rest at the working scale)

    @property
    def families(self) -> tuple[str, ...]:
        return tuple(f for f in FAMILIES if f != self.holdout)


@dataclass
class PhotoRows:
    """What one labelled photo gives the training: candidate rows and the image-level label."""

    features: np.ndarray
    labels: np.ndarray  # index into REGION_CLASSES, -1 when unknown
    targets: np.ndarray  # measure target for positive rows, nan otherwise
    grade: str
    clean: bool  # no defect at all: the photos calibration counts false positives on
    tagged: bool | None  # None when unknown (an expert photo)
    sharpness: float
    exposure: float
    weight: float = 1.0
    source: str = "synthetic"
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Truth:
    kind: str
    mask: np.ndarray  # whole working image, bool
    target: float


# --- labelling ----------------------------------------------------------------------------------------------


def label_candidates(found: Survey, truths: Sequence[_Truth]) -> tuple[np.ndarray, np.ndarray]:
    """Each candidate's class (by overlap with a true region) and, for defects, its measure target."""
    labels = np.zeros(len(found.candidates), np.int64)
    targets = np.full(len(found.candidates), np.nan)
    for i, candidate in enumerate(found.candidates):
        x, y, w, h = candidate.bbox
        area = float(candidate.mask.sum()) or 1.0
        best, best_overlap = None, 0.0
        for truth in truths:
            window = truth.mask[y : y + h, x : x + w]
            inside = candidate.mask[: window.shape[0], : window.shape[1]] & window
            overlap = float(inside.sum())
            if overlap == 0:
                continue
            truth_area = float(truth.mask.sum()) or 1.0
            of_candidate, of_truth = overlap / area, overlap / truth_area
            covers = of_candidate >= 0.3 or (of_truth >= 0.5 and area <= 4 * truth_area)
            if covers and of_candidate + of_truth > best_overlap:
                best, best_overlap = truth, of_candidate + of_truth
        if best is not None:
            labels[i] = REGION_CLASSES.index(best.kind)
            targets[i] = best.target
    return labels, targets


def _truths_for_sample(sample: Sample, found: Survey) -> list[_Truth]:
    width, height = found.work_size
    scale_x, scale_y = width / sample.scene.width, height / sample.scene.height
    truths = []
    regions = [
        (d.kind, d.bbox, d.mask, measure_target(d.kind, d.size_mm, d.strength)) for d in sample.defects
    ]
    if sample.tag_bbox is not None and sample.tag_mask is not None:
        regions.append((TAG, sample.tag_bbox, sample.tag_mask, math.nan))
    grow = np.ones((2 * round(WORK_PX_PER_MM) + 1,) * 2, np.uint8)  # a millimetre of slack around each
    for kind, (x, y, w, h), mask, target in regions:
        full = np.zeros((height, width), np.uint8)
        x0, y0 = int(x * scale_x), int(y * scale_y)
        part = cv2.resize(
            mask.astype(np.uint8),
            (max(int(w * scale_x), 1), max(int(h * scale_y), 1)),
            interpolation=cv2.INTER_NEAREST,
        )[: height - y0, : width - x0]
        full[y0 : y0 + part.shape[0], x0 : x0 + part.shape[1]] = part
        truths.append(_Truth(kind, cv2.dilate(full, grow).astype(bool), target))
    return truths


def rows_for_sample(sample: Sample) -> PhotoRows:
    """Labelled rows for one synthetic photo, through the same path as an upload."""
    found = survey(sample.jpeg)
    labels, targets = label_candidates(found, _truths_for_sample(sample, found))
    scene = sample.scene
    return PhotoRows(
        features=_feature_matrix(found),
        labels=labels,
        targets=targets,
        grade=sample.grade,
        clean=not sample.defects,
        tagged=scene.tag,
        sharpness=found.measures.sharpness,
        exposure=found.measures.exposure,
        meta={"seed": scene.seed, "family": scene.family, "kinds": [d.kind for d in sample.defects]},
    )


def rows_for_expert(photo: LabelledPhoto) -> PhotoRows:
    """Labelled rows for one expert decision: boxes label candidates; a clean grade makes them all negative."""
    found = survey(photo.image, frame_mm=photo.frame_mm)
    sx, sy = found.to_upload
    width, height = found.work_size
    truths = []
    for box in photo.boxes:
        x, y, w, h = box.bbox
        mask = np.zeros((height, width), bool)
        mask[int(y / sy) : int(math.ceil((y + h) / sy)), int(x / sx) : int(math.ceil((x + w) / sx))] = True
        truths.append(_Truth(box.kind, mask, math.nan))
    labels, targets = label_candidates(found, truths)
    known = bool(photo.boxes) or photo.grade == "excellent"
    if not known:
        labels[:] = -1  # a defect somewhere, but not where: this photo only teaches the grade model
    return PhotoRows(
        features=_feature_matrix(found),
        labels=labels,
        targets=targets,
        grade=photo.grade,
        clean=photo.grade in ACCEPTED_CONDITIONS[:2] and not photo.boxes,
        tagged=None,
        sharpness=found.measures.sharpness,
        exposure=found.measures.exposure,
        weight=EXPERT_WEIGHT,
        source="expert",
        meta={"refusal_reason": photo.refusal_reason, "boxes": len(photo.boxes)},
    )


def _feature_matrix(found: Survey) -> np.ndarray:
    if not found.candidates:
        return np.zeros((0, len(FEATURE_NAMES)), np.float32)
    return np.stack([c.features for c in found.candidates])


# --- synthetic data -----------------------------------------------------------------------------------------


def training_seeds(config: TrainingConfig) -> list[int]:
    return [config.seed * 100_003 + i for i in range(config.images)]


def training_scene(seed: int, families: tuple[str, ...], station_share: float = STATION_SHARE) -> Scene:
    """One training photo's scene: a share of them at the working scale itself (a phone's or a file's
    upload), the rest at the station's scale, where the pilling tiles see finer detail. A share of damaged
    pieces still carry their hang tag (damaged in a shop): a tag never makes up for a defect."""
    rng = np.random.default_rng([seed, 3])
    station = rng.random() < station_share
    scene = random_scene(
        seed,
        families=families,
        second_defect=SECOND_DEFECT_ODDS,
        size=STATION_SIZE if station else DEFAULT_SIZE,
    )
    if scene.defects and rng.random() < TAGGED_DEFECT_ODDS:
        scene = replace(scene, tag=True)
    return scene


def _rows_for_seeds(seeds: Sequence[int], families: tuple[str, ...], station_share: float) -> list[PhotoRows]:
    cv2.setNumThreads(1)  # one worker per core
    return [rows_for_sample(render(training_scene(seed, families, station_share))) for seed in seeds]


def synthetic_rows(config: TrainingConfig, progress: Callable[[int], None] | None = None) -> list[PhotoRows]:
    """Render and survey the training photos on `config.workers` processes, in a fixed order."""
    seeds = training_seeds(config)
    batches = [seeds[i : i + 8] for i in range(0, len(seeds), 8)]
    rows: list[PhotoRows] = []
    if config.workers <= 1:
        results: Iterable[list[PhotoRows]] = (
            _rows_for_seeds(batch, config.families, config.station_share) for batch in batches
        )
    else:
        results = Parallel(n_jobs=config.workers, return_as="generator")(
            delayed(_rows_for_seeds)(batch, config.families, config.station_share) for batch in batches
        )
    for batch in results:
        rows.extend(batch)
        if progress:
            progress(len(batch))
    return rows


# --- fitting ------------------------------------------------------------------------------------------------


def train(
    config: TrainingConfig = TrainingConfig(),
    *,
    extra: Iterable[LabelledPhoto] = (),
    progress: Callable[[int], None] | None = None,
    log: Callable[[str], None] | None = None,
    command: str | None = None,
) -> GradingModel:
    """Train every part of the grading model from synthetic photos plus `extra` expert decisions."""
    log = log or (lambda message: None)
    started = time.perf_counter()
    rows = synthetic_rows(config, progress)
    experts = [rows_for_expert(photo) for photo in extra]
    rows += experts
    log(f"{len(rows)} photos surveyed ({len(experts)} from experts) in {time.perf_counter() - started:.0f} s")
    model = fit(rows, config, log=log)
    model.training.update(
        {
            "command": command or "forever grading train",
            "seed": config.seed,
            "images": config.images,
            "expert_photos": len(experts),
            "holdout_family": config.holdout,
            "training_families": list(config.families),
            "station_share": config.station_share,
            "seconds": round(time.perf_counter() - started, 1),
            "trained_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
    )
    return model


@dataclass
class RegionFit:
    """The region classifier and measures, with their honest (out-of-fold) outputs on the training photos."""

    region: Any
    measures: dict[str, Any]
    out_of_fold: np.ndarray  # probabilities, one row per candidate, columns in REGION_CLASSES order
    oof_measures: dict[str, np.ndarray]
    photo_of: np.ndarray  # the photo (index into the rows) of each candidate
    counts: dict[str, int]


def fit(
    rows: list[PhotoRows], config: TrainingConfig, *, log: Callable[[str], None] | None = None
) -> GradingModel:
    """Fit the region classifier, measures, calibration and grade model on surveyed photos."""
    log = log or (lambda message: None)
    return finish(rows, fit_regions(rows, config, log=log), config, log=log)


def fit_regions(
    rows: list[PhotoRows], config: TrainingConfig, *, log: Callable[[str], None] | None = None
) -> RegionFit:
    """Fit the region classifier and measures, cross-fitted so the later steps see out-of-fold outputs."""
    log = log or (lambda message: None)
    photo_of = np.concatenate([np.full(len(r.labels), i) for i, r in enumerate(rows)])
    features = np.concatenate([r.features for r in rows]).astype(np.float32)
    labels = np.concatenate([r.labels for r in rows])
    targets = np.concatenate([r.targets for r in rows])
    weights = np.concatenate([np.full(len(r.labels), r.weight) for r in rows])
    weights = weights * np.where(labels > 0, _POSITIVE_WEIGHT, 1.0)
    known = labels >= 0
    counts = {REGION_CLASSES[k]: int((labels == k).sum()) for k in range(len(REGION_CLASSES))}
    log(f"{len(labels)} candidate regions: {counts}")

    out_of_fold = np.zeros((len(labels), len(REGION_CLASSES)), np.float32)
    out_of_fold[:, 0] = 1.0
    oof_measures = {kind: np.zeros(len(labels)) for kind in DEFECT_KINDS}
    folds = min(FOLDS, len(rows))
    splits = list(GroupKFold(n_splits=folds).split(features, groups=photo_of)) if folds >= 2 else []
    # The folds and the final fit are independent: one process each, one thread each.
    jobs = [(train_idx[known[train_idx]], test_idx) for train_idx, test_idx in splits]
    jobs.append((np.nonzero(known)[0], np.zeros(0, np.int64)))
    fitted = Parallel(n_jobs=max(min(config.workers, len(jobs)), 1))(
        delayed(_fit_fold)(
            features[train_idx],
            labels[train_idx],
            weights[train_idx],
            targets[train_idx],
            features[test_idx],
            config,
        )
        for train_idx, test_idx in jobs
    )
    for (_, test_idx), (probabilities, fold_measures, _, _) in zip(jobs[:-1], fitted[:-1], strict=True):
        out_of_fold[test_idx] = probabilities
        for kind in DEFECT_KINDS:
            oof_measures[kind][test_idx] = fold_measures[kind]
    _, _, region, measures = fitted[-1]
    log(f"region classifier fitted ({folds} out-of-fold fits and the final one)")
    return RegionFit(region, measures, out_of_fold, oof_measures, photo_of, counts)


def finish(
    rows: list[PhotoRows], regions: RegionFit, config: TrainingConfig, *, log: Callable[[str], None] | None = None
) -> GradingModel:
    """Calibrate the scores and fit the grade model on the regions' out-of-fold outputs."""
    log = log or (lambda message: None)
    thresholds = _calibration(rows, regions.photo_of, regions.out_of_fold)
    log("thresholds: " + ", ".join(f"{k} {v:.3f}" for k, v in thresholds.items()))
    grade_rows = np.stack(
        [
            _image_row(rows[i], regions.photo_of == i, regions.out_of_fold, regions.oof_measures, thresholds)
            for i in range(len(rows))
        ]
    )
    grades = np.array([r.grade for r in rows])
    grade = RubricGrade(config.seed)
    with single_thread():
        grade.fit(grade_rows, grades, sample_weight=np.array([r.weight for r in rows]))
    log(f"grade model fitted on {len(rows)} photos")
    version = f"grading-{dt.date.today():%Y%m%d}-s{config.seed}-n{len(rows)}"
    return GradingModel(
        version=version,
        feature_names=FEATURE_NAMES,
        region=regions.region,
        thresholds=thresholds,
        measures=regions.measures,
        grade=grade,
        training={"candidate_regions": regions.counts},
    )


def _fit_fold(
    features: np.ndarray,
    labels: np.ndarray,
    weights: np.ndarray,
    targets: np.ndarray,
    held_out: np.ndarray,
    config: TrainingConfig,
):
    """Fit the region classifier and measures on one fold; predict the held-out rows."""
    with single_thread():
        region = _fit_region(features, labels, weights, config)
        measures = _fit_measures(features, labels, targets, config.seed)
        probabilities = _probabilities(region, held_out)
        predicted = {kind: _predict_measure(measures[kind], kind, held_out) for kind in DEFECT_KINDS}
    return probabilities, predicted, region, measures


def _fit_region(features: np.ndarray, labels: np.ndarray, weights: np.ndarray, config: TrainingConfig):
    model = HistGradientBoostingClassifier(
        max_iter=config.region_iterations,
        learning_rate=0.1,
        max_leaf_nodes=31,
        min_samples_leaf=20,
        l2_regularization=1.0,
        random_state=config.seed,
    )
    named = np.array(REGION_CLASSES)[labels]
    model.fit(features, named, sample_weight=weights)
    return model


def _probabilities(model, features: np.ndarray) -> np.ndarray:
    out = np.zeros((len(features), len(REGION_CLASSES)), np.float32)
    if len(features):
        raw = model.predict_proba(features)
        for column, label in enumerate(model.classes_):
            out[:, REGION_CLASSES.index(str(label))] = raw[:, column]
    return out


class _Constant:
    """A stand-in regressor for a kind with too few examples: predicts the typical value."""

    def __init__(self, value: float) -> None:
        self.value = value

    def predict(self, features: np.ndarray) -> np.ndarray:
        return np.full(len(features), self.value)


_TYPICAL_TARGET = {
    "hole": math.log(5.0),
    "tear": math.log(20.0),
    "stain": math.log(20.0),
    "pilling": 0.5,
    "fading": 8.0,
}


def _fit_measures(features: np.ndarray, labels: np.ndarray, targets: np.ndarray, seed: int) -> dict[str, Any]:
    measures: dict[str, Any] = {}
    for kind in DEFECT_KINDS:
        chosen = (labels == REGION_CLASSES.index(kind)) & np.isfinite(targets)
        if chosen.sum() < 20:
            measures[kind] = _Constant(_TYPICAL_TARGET[kind])
            continue
        regressor = HistGradientBoostingRegressor(
            max_iter=150, learning_rate=0.08, max_leaf_nodes=15, random_state=seed
        )
        measures[kind] = regressor.fit(features[chosen], targets[chosen])
    return measures


def _predict_measure(regressor, kind: str, features: np.ndarray) -> np.ndarray:
    if len(features) == 0:
        return np.zeros(0)
    return measure_from_target(kind, regressor.predict(features))


def _calibration(rows: list[PhotoRows], photo_of: np.ndarray, probabilities: np.ndarray) -> dict[str, float]:
    """Per kind (and tag): the out-of-fold probability reached by only the calibration share of clean photos."""
    thresholds = {}
    for kind in (*DEFECT_KINDS, TAG):
        column = REGION_CLASSES.index(kind)
        negatives = [i for i, r in enumerate(rows) if (r.clean if kind != TAG else r.tagged is False)]
        highest = np.array([probabilities[photo_of == i, column].max(initial=0.0) for i in negatives])
        if len(highest) < 10:
            thresholds[kind] = 0.5
            continue
        thresholds[kind] = float(np.clip(np.quantile(highest, 1 - CALIBRATION_FALSE_POSITIVES), 0.05, 0.95))
    return thresholds


def _image_row(
    row: PhotoRows,
    mine: np.ndarray,
    probabilities: np.ndarray,
    measures: dict[str, np.ndarray],
    thresholds: dict[str, float],
) -> np.ndarray:
    scores = {
        kind: calibrate(probabilities[mine, REGION_CLASSES.index(kind)].astype(np.float64), thresholds[kind])
        for kind in DEFECT_KINDS
    }
    kind_measures = {kind: measures[kind][mine] for kind in DEFECT_KINDS}
    tag = calibrate(probabilities[mine, REGION_CLASSES.index(TAG)].astype(np.float64), thresholds[TAG])
    return image_features(scores, kind_measures, float(tag.max(initial=0.0)))


# --- the model card -----------------------------------------------------------------------------------------


def write_model_card(
    manifest: dict[str, Any], metrics: dict[str, Any] | None = None, directory: Path = MODEL_DIR
) -> Path:
    """MODEL_CARD.md beside the model: data, features, metrics (when evaluated), versions and sha256."""
    from forever.grading.evaluation import metrics_markdown  # the report's own tables, not a second copy

    training = manifest.get("training", {})
    lines = [
        "# Grading model card",
        "",
        f"- **Version**: `{manifest['version']}`",
        f"- **File**: `ml_models/{manifest['file']}` ({manifest['bytes'] / 1e6:.2f} MB), sha256 "
        f"`{manifest['sha256']}` (checked against `ml_models/grading.json` before the file is unpickled)",
        f"- **scikit-learn**: {manifest['scikit_learn']}",
        f"- **Produced by**: `{training.get('command', 'forever grading train')}` with seed "
        f"{training.get('seed')} on {training.get('trained_at')} in {training.get('seconds')} s",
        *([f"- **How**: {training['note']}"] if training.get("note") else []),
        "",
        "## Data",
        "",
        "**Synthetic only.** No photos of real AMI pieces exist yet. Training used "
        f"{training.get('images')} procedurally generated photos (`forever/grading/synthetic.py`) of the fabric "
        f"families {', '.join(training.get('training_families', []))}; the family "
        f"**{training.get('holdout_family')}** was held out for the evaluation. Photos frame 60 x 45 cm of "
        f"cloth, {training.get('station_share', STATION_SHARE):.0%} of them as 3200 x 2400 JPEGs (the station's scale: 5.3 px/mm) and the rest "
        "as 1600 x 1200 ones (a phone's or a file's upload); each is clean (16%), nuisances only (24%: folds, "
        "wrinkles, seams, placed "
        "prints, lint, lighting gradients, blur, JPEG), or carries one defect (12% each of stain, hole, tear, "
        f"pilling, fading; {SECOND_DEFECT_ODDS:.0%} of those a second one). A third of defect-free photos show a "
        f"hang tag (the `new_with_tags` cue), and {TAGGED_DEFECT_ODDS:.0%} of damaged ones (damaged in a shop). "
        "Grades follow the rubric in `forever/grading/model.py` (`grade_for`).",
        f"Expert decisions used: {training.get('expert_photos', 0)}.",
        "",
        f"Candidate regions: {training.get('candidate_regions')}.",
        "",
        "## Model",
        "",
        "- Classic image processing proposes candidate regions at 2.7 px/mm (spots against a ~8 mm median, "
        "blotches against a ~5 cm median, departures from a quadratic surface fitted to the whole photo, and "
        "dense small-blob areas); the larger ones (pilling's) are also examined on tiles cut from the photo at "
        "its full resolution (up to 5.3 px/mm): small-blob energy and counts against the ring around them and "
        f"against reference tiles. Each gets {len(manifest['feature_names'])} hand-crafted features: "
        f"{', '.join(manifest['feature_names'])}.",
        "- A `HistGradientBoostingClassifier` scores regions as none / stain / hole / tear / pilling / fading / "
        "tag; probabilities are calibrated per kind so that score 0.5 is what ~1.5% of defect-free training "
        "photos reach (out-of-fold): thresholds "
        + ", ".join(f"{k} {v:.3f}" for k, v in manifest["thresholds"].items())
        + ".",
        "- Per-kind `HistGradientBoostingRegressor`s estimate size (mm) or strength, which set severities.",
        "- The grade follows the rubric's order from image-level summaries (per kind: the best two scores, how "
        "many regions are shown and hinted at, the top one's measure and severity; the tag score): refused or "
        "not, then worn (very_good) or not, then tagged (new_with_tags) or excellent, each step a "
        "`HistGradientBoostingClassifier` with monotonic constraints (more evidence never lowers the "
        "probability it supports). The suggestion is the grade of least expected cost, a grade two or more "
        f"steps off costing {manifest.get('far_cost', FAR_COST):g} one-step misses (so between two far-apart "
        "likely grades, the one between them is suggested).",
        "",
        "## Metrics",
        "",
    ]
    if metrics:
        lines += metrics_markdown(metrics)
    else:
        lines.append("Not evaluated yet: run `forever grading evaluate`.")
    lines += [
        "",
        "## Limits",
        "",
        "- Every figure above is on **synthetic** photos; real photos will differ (cloth, light, camera). "
        "Retrain with the experts' decisions (`training.LabelledPhoto`) as they accumulate, and re-evaluate. "
        "The retention job deletes the photos of refused pieces 90 days after the decision (or the seller's "
        "answer): a refusal teaches the model only if a retraining runs within those 90 days.",
        "- The physical scale assumes the station frames ~60 cm across the photo's long side "
        "(`FRAME_MM`); pass `frame_mm` for another framing.",
        "- Care and brand labels, odours, alterations, missing parts and counterfeits are beyond what a photo "
        "of the cloth can show, and a hang tag is only seen when it is in the frame: the grader decides.",
        "- Synthetic photos are filled with cloth: garment outlines and the backdrop around a piece are not "
        "modelled yet.",
        "- Stains, holes, tears and fading are analysed at 2.7 px/mm (1600 px across 60 cm), pilling candidates "
        "on full-resolution tiles at up to 5.3 px/mm; a photo coarser than that gives its pills fewer pixels "
        "(a third of the training photos are). Speed and memory: `bench/grading.py`.",
        "",
    ]
    path = directory / "MODEL_CARD.md"
    path.write_text("\n".join(lines))
    return path
