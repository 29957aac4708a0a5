"""The trained models: region classifier, per-kind measures, score calibration and the grade model.

One joblib file holds them all; a JSON manifest beside it records its sha256, which is checked before the file
is unpickled (a pickle runs code when loaded: only the file training wrote is ever opened).
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import sklearn
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import ThreadpoolController

from forever.grading import forest
from forever.grading.model import (
    DEFECT_KINDS,
    GRADES,
    HINT_SCORE,
    REFUSED,
    SEVERITIES,
    SHOWN_SCORE,
    grade_distance,
    severity_for,
)
from forever.settings import REPO_ROOT

MODEL_DIR = REPO_ROOT / "ml_models"
MODEL_FILE = "grading.joblib"
MANIFEST_FILE = "grading.json"
TAG = "tag"
NONE = "none"
REGION_CLASSES: tuple[str, ...] = (NONE, *DEFECT_KINDS, TAG)

GRADE_FEATURE_NAMES: tuple[str, ...] = (
    *(
        f"{kind}_{name}"
        for kind in DEFECT_KINDS
        for name in ("max_score", "second_score", "shown", "hints", "measure", "severity")
    ),
    "tag_score",
)
_PER_KIND = len(GRADE_FEATURE_NAMES) // len(DEFECT_KINDS)
_TAG_COLUMN = GRADE_FEATURE_NAMES.index("tag_score")


# A suggestion two or more grades from the expert's (refusing a clean piece, passing a stained one) misleads a
# grader more than a near miss: it costs this many one-grade misses. When the likeliest grade is uncertain
# between two far-apart grades, the one between them is then the better suggestion.
FAR_COST = 3.0


def suggest_grade(probabilities: dict[str, float], far_cost: float = FAR_COST) -> str:
    """The grade minimising the expected cost (0 exact, 1 one grade off, `far_cost` further); ties go to the
    likelier grade."""

    def cost(grade: str) -> tuple[float, float]:
        expected = sum(
            p * (0.0 if d == 0 else 1.0 if d == 1 else far_cost)
            for other, p in probabilities.items()
            for d in (grade_distance(grade, other),)
        )
        return expected, -probabilities.get(grade, 0.0)

    return min(GRADES, key=cost)


class ModelIntegrityError(RuntimeError):
    """The model file is missing, or is not the file its manifest describes."""


@dataclass
class GradingModel:
    """Everything `forever grading train` produces, in one object."""

    version: str
    feature_names: tuple[str, ...]
    region: Any  # HistGradientBoostingClassifier over REGION_CLASSES
    thresholds: dict[str, float]  # per kind (and tag): the raw probability scored SHOWN_SCORE
    measures: dict[str, Any]  # per kind: a regressor of size (mm) or strength from region features
    grade: Any  # RubricGrade: image features -> probabilities over GRADES
    training: dict[str, Any] = field(default_factory=dict)
    sklearn_version: str = sklearn.__version__
    far_cost: float = FAR_COST

    def region_probabilities(self, features: np.ndarray) -> np.ndarray:
        """P(class) per candidate, columns in REGION_CLASSES order."""
        if len(features) == 0:
            return np.zeros((0, len(REGION_CLASSES)), np.float32)
        raw = forest.predict_proba(self.region, features)
        out = np.zeros((len(features), len(REGION_CLASSES)), np.float32)
        for column, label in enumerate(self.region.classes_):
            out[:, REGION_CLASSES.index(str(label))] = raw[:, column]
        return out

    def score(self, kind: str, probability: np.ndarray | float) -> np.ndarray:
        """Calibrated score: the kind's threshold maps to SHOWN_SCORE, 0 and 1 stay put (piecewise linear)."""
        return calibrate(np.asarray(probability, np.float64), self.thresholds[kind])

    def measure(self, kind: str, features: np.ndarray) -> np.ndarray:
        """Size in mm (holes, tears, stains) or strength (pilling, fading) for candidates taken as `kind`."""
        if len(features) == 0:
            return np.zeros(0)
        return measure_from_target(kind, forest.predict(self.measures[kind], features))

    def grade_probabilities(self, image_features: np.ndarray) -> dict[str, float]:
        raw = self.grade.predict_proba(image_features.reshape(1, -1))[0]
        return {str(label): float(p) for label, p in zip(self.grade.classes_, raw, strict=True)}

    def suggest(self, probabilities: dict[str, float]) -> str:
        """The grade with the least expected cost, not merely the likeliest: see FAR_COST."""
        return suggest_grade(probabilities, self.far_cost)


_LOG_MEASURED = frozenset({"hole", "tear", "stain"})


@functools.cache
def _threadpools() -> ThreadpoolController:
    return ThreadpoolController()  # inspecting the loaded libraries takes a while: once per process


def single_thread():
    """Run scikit-learn's OpenMP loops on one thread: for a few dozen rows, waking a second thread costs more
    than it saves, and on a busy machine much more (measured: 7 ms against 20-240 ms)."""
    return _threadpools().limit(limits=1, user_api="openmp")


def measure_target(kind: str, size_mm: float, strength: float) -> float:
    """What a measure regressor learns for a defect of this kind (log size for sized kinds)."""
    return math.log(max(size_mm, 0.1)) if kind in _LOG_MEASURED else strength


def measure_from_target(kind: str, predicted: np.ndarray) -> np.ndarray:
    """A measure regressor's prediction back in mm or strength (the inverse of `measure_target`)."""
    return np.exp(predicted) if kind in _LOG_MEASURED else predicted


def calibrate(probability: np.ndarray, threshold: float) -> np.ndarray:
    threshold = float(np.clip(threshold, 1e-4, 1 - 1e-4))
    low = SHOWN_SCORE * probability / threshold
    high = SHOWN_SCORE + (1 - SHOWN_SCORE) * (probability - threshold) / (1 - threshold)
    return np.clip(np.where(probability < threshold, low, high), 0.0, 1.0)


def image_features(
    scores: dict[str, np.ndarray], measures: dict[str, np.ndarray], tag_score: float
) -> np.ndarray:
    """The grade model's input: per kind, the best two scores, how many regions are shown and hinted at, and
    the top one's measure (when it is at least a hint: a clean region's size means nothing) and severity (when
    shown); then the tag. (Not the photo's sharpness or exposure: in any set of photos they go with some
    grades by chance, and a blurred or dark photo is retaken anyway.)"""
    row: list[float] = []
    for kind in DEFECT_KINDS:
        kind_scores = np.sort(scores.get(kind, np.zeros(0)))[::-1]
        if len(kind_scores) == 0:
            row += [0.0, 0.0, 0.0, 0.0, -1.0, -1.0]
            continue
        top = int(np.argmax(scores[kind]))
        measure = float(measures[kind][top]) if kind_scores[0] >= HINT_SCORE else -1.0
        shown = kind_scores[0] >= SHOWN_SCORE
        severity = SEVERITIES.index(severity_for(kind, measure, measure)) if shown else -1
        row += [
            float(kind_scores[0]),
            float(kind_scores[1]) if len(kind_scores) > 1 else 0.0,
            float((kind_scores >= SHOWN_SCORE).sum()),
            float((kind_scores >= HINT_SCORE).sum()),
            measure,
            float(severity),
        ]
    return np.array([*row, tag_score], np.float32)


class RubricGrade:
    """The grade model, in the rubric's order (`model.grade_for`): is the piece refused; if not, is it worn
    (very_good); if not, does its tag show (new_with_tags, else excellent). Each step is a gradient-boosted
    classifier whose probability can only rise with the evidence for it (monotonic constraints): more or
    stronger findings never make a refusal less likely, whatever quirks a training set holds."""

    classes_ = np.array(GRADES)

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.steps: list[Any] = []

    def fit(self, rows: np.ndarray, grades: np.ndarray, sample_weight: np.ndarray) -> RubricGrade:
        refused = grades == REFUSED
        worn = grades == "very_good"
        tagged = grades == "new_with_tags"
        plan = [
            (np.ones(len(grades), bool), refused, _constraints(DEFECT_KINDS, tag=0)),
            (~refused, worn, _constraints(("pilling", "fading"), tag=0)),
            (~refused & ~worn, tagged, _constraints((), tag=1)),
        ]
        self.steps = []
        for chosen, label, constraints in plan:
            if len(np.unique(label[chosen])) < 2:  # nothing to learn: the share seen, whatever the photo
                self.steps.append(float(label[chosen].mean()) if chosen.any() else 0.0)
                continue
            step = HistGradientBoostingClassifier(
                max_iter=150,
                learning_rate=0.05,
                max_leaf_nodes=8,
                min_samples_leaf=20,
                l2_regularization=1.0,
                monotonic_cst=constraints,
                random_state=self.seed,
            )
            self.steps.append(step.fit(rows[chosen], label[chosen], sample_weight=sample_weight[chosen]))
        return self

    def predict_proba(self, rows: np.ndarray) -> np.ndarray:
        refused, worn, tagged = (
            np.full(len(rows), step) if isinstance(step, float) else forest.predict_proba(step, rows)[:, 1]
            for step in self.steps
        )
        clean = (1 - refused) * (1 - worn)
        by_grade = {
            "new_with_tags": clean * tagged,
            "excellent": clean * (1 - tagged),
            "very_good": (1 - refused) * worn,
            REFUSED: refused,
        }
        return np.stack([by_grade[grade] for grade in GRADES], axis=1)


def _constraints(rising: tuple[str, ...], *, tag: int) -> list[int]:
    """Monotonic constraints over GRADE_FEATURE_NAMES: +1 for the features of the kinds in `rising`, `tag`
    for the tag score, none for the rest."""
    constraints = [0] * len(GRADE_FEATURE_NAMES)
    for kind in rising:
        start = DEFECT_KINDS.index(kind) * _PER_KIND
        constraints[start : start + _PER_KIND] = [1] * _PER_KIND
    constraints[_TAG_COLUMN] = tag
    return constraints


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save_model(model: GradingModel, directory: Path = MODEL_DIR) -> dict[str, Any]:
    """Write the model file and its manifest (sha256, versions, training summary); returns the manifest."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / MODEL_FILE
    joblib.dump(model, path, compress=3)
    manifest = {
        "file": MODEL_FILE,
        "sha256": sha256_of(path),
        "bytes": path.stat().st_size,
        "version": model.version,
        "scikit_learn": model.sklearn_version,
        "feature_names": list(model.feature_names),
        "region_classes": list(REGION_CLASSES),
        "thresholds": model.thresholds,
        "far_cost": model.far_cost,
        "training": model.training,
    }
    (directory / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def read_manifest(directory: Path = MODEL_DIR) -> dict[str, Any]:
    try:
        return json.loads((directory / MANIFEST_FILE).read_text())
    except (OSError, ValueError) as exc:
        raise ModelIntegrityError(f"no readable model manifest in {directory}: {exc}") from exc


def load_model(directory: Path = MODEL_DIR) -> GradingModel:
    """Load the model after checking its sha256 against the manifest (and refuse on any mismatch)."""
    manifest = read_manifest(directory)
    path = directory / manifest.get("file", MODEL_FILE)
    if not path.is_file():
        raise ModelIntegrityError(f"the model file {path} is missing")
    actual = sha256_of(path)
    if actual != manifest.get("sha256"):
        raise ModelIntegrityError(
            f"{path} has sha256 {actual}, but its manifest says {manifest.get('sha256')}: refusing to load it"
        )
    model = joblib.load(path)
    if not isinstance(model, GradingModel):
        raise ModelIntegrityError(f"{path} does not hold a grading model")
    return model


@functools.cache
def default_model() -> GradingModel:
    """The committed model, loaded (and checked) once per process, its trees packed for prediction (~70 ms
    here rather than in the first photos' analyses)."""
    model = load_model(MODEL_DIR)
    forest.pack(model.region, *model.measures.values(), *model.grade.steps)
    return model
