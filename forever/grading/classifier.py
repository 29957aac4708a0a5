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
from threadpoolctl import ThreadpoolController

from forever.grading.model import DEFECT_KINDS, SEVERITIES, SHOWN_SCORE, severity_for
from forever.settings import REPO_ROOT

MODEL_DIR = REPO_ROOT / "ml_models"
MODEL_FILE = "grading.joblib"
MANIFEST_FILE = "grading.json"
TAG = "tag"
NONE = "none"
REGION_CLASSES: tuple[str, ...] = (NONE, *DEFECT_KINDS, TAG)

GRADE_FEATURE_NAMES: tuple[str, ...] = (
    *(f"{kind}_{name}" for kind in DEFECT_KINDS for name in ("max_score", "shown", "measure", "severity")),
    "tag_score",
    "sharpness",
    "exposure",
)


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
    grade: Any  # HistGradientBoostingClassifier over image features -> GRADES
    training: dict[str, Any] = field(default_factory=dict)
    sklearn_version: str = sklearn.__version__

    def region_probabilities(self, features: np.ndarray) -> np.ndarray:
        """P(class) per candidate, columns in REGION_CLASSES order."""
        if len(features) == 0:
            return np.zeros((0, len(REGION_CLASSES)), np.float32)
        with single_thread():
            raw = self.region.predict_proba(features)
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
        with single_thread():
            predicted = self.measures[kind].predict(features)
        return np.exp(predicted) if kind in _LOG_MEASURED else predicted

    def grade_probabilities(self, image_features: np.ndarray) -> dict[str, float]:
        with single_thread():
            raw = self.grade.predict_proba(image_features.reshape(1, -1))[0]
        return {str(label): float(p) for label, p in zip(self.grade.classes_, raw, strict=True)}


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


def calibrate(probability: np.ndarray, threshold: float) -> np.ndarray:
    threshold = float(np.clip(threshold, 1e-4, 1 - 1e-4))
    low = SHOWN_SCORE * probability / threshold
    high = SHOWN_SCORE + (1 - SHOWN_SCORE) * (probability - threshold) / (1 - threshold)
    return np.clip(np.where(probability < threshold, low, high), 0.0, 1.0)


def image_features(
    scores: dict[str, np.ndarray],
    measures: dict[str, np.ndarray],
    tag_score: float,
    sharpness: float,
    exposure: float,
) -> np.ndarray:
    """The grade model's input: per kind, the best score, how many are shown, and the top one's measure and
    severity; then the tag and the photo's quality."""
    row: list[float] = []
    for kind in DEFECT_KINDS:
        kind_scores = scores.get(kind, np.zeros(0))
        if len(kind_scores) == 0:
            row += [0.0, 0.0, -1.0, -1.0]
            continue
        top = int(np.argmax(kind_scores))
        shown = kind_scores >= SHOWN_SCORE
        measure = float(measures[kind][top])
        severity = SEVERITIES.index(severity_for(kind, measure, measure)) if shown.any() else -1
        row += [float(kind_scores[top]), float(shown.sum()), measure, float(severity)]
    return np.array([*row, tag_score, sharpness, exposure], np.float32)


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
    """The committed model, loaded (and checked) once per process."""
    return load_model(MODEL_DIR)
