"""The committed model file (sha256 checked before unpickling), its calibration, and the grading rubric."""

import json
import shutil

import numpy as np
import pytest

from forever.grading import classifier
from forever.grading.classifier import MANIFEST_FILE, MODEL_DIR, MODEL_FILE, ModelIntegrityError, load_model
from forever.grading.model import SHOWN_SCORE, grade_distance, grade_for, severity_for


@pytest.fixture
def model_copy(tmp_path):
    for name in (MODEL_FILE, MANIFEST_FILE):
        shutil.copy(MODEL_DIR / name, tmp_path / name)
    return tmp_path


def test_the_committed_model_matches_its_manifest_and_is_small():
    manifest = json.loads((MODEL_DIR / MANIFEST_FILE).read_text())
    assert classifier.sha256_of(MODEL_DIR / MODEL_FILE) == manifest["sha256"]
    assert (MODEL_DIR / MODEL_FILE).stat().st_size < 5_000_000
    assert manifest["sha256"] in (MODEL_DIR / "MODEL_CARD.md").read_text()
    model = load_model(MODEL_DIR)
    assert model.version == manifest["version"]


def test_a_tampered_model_file_is_refused_before_it_is_unpickled(model_copy, monkeypatch):
    path = model_copy / MODEL_FILE
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    unpickled = []
    monkeypatch.setattr(classifier.joblib, "load", lambda *args, **kwargs: unpickled.append(args))
    with pytest.raises(ModelIntegrityError, match="sha256"):
        load_model(model_copy)
    assert unpickled == []


def test_a_missing_model_or_manifest_is_refused(model_copy):
    (model_copy / MODEL_FILE).unlink()
    with pytest.raises(ModelIntegrityError, match="missing"):
        load_model(model_copy)
    (model_copy / MANIFEST_FILE).unlink()
    with pytest.raises(ModelIntegrityError, match="manifest"):
        load_model(model_copy)


def test_a_manifest_naming_another_hash_is_refused(model_copy):
    manifest = json.loads((model_copy / MANIFEST_FILE).read_text())
    manifest["sha256"] = "0" * 64
    (model_copy / MANIFEST_FILE).write_text(json.dumps(manifest))
    with pytest.raises(ModelIntegrityError):
        load_model(model_copy)


def test_calibration_maps_each_threshold_to_the_shown_score():
    probabilities = np.array([0.0, 0.1, 0.3, 0.65, 1.0])
    scores = classifier.calibrate(probabilities, 0.3)
    assert scores[2] == pytest.approx(SHOWN_SCORE)
    assert scores[0] == 0.0 and scores[-1] == 1.0
    assert np.all(np.diff(scores) > 0)


@pytest.mark.parametrize(
    ("kind", "size_mm", "strength", "severity"),
    [
        ("hole", 2.0, 1.0, "minor"),
        ("hole", 8.0, 1.0, "moderate"),
        ("hole", 15.0, 1.0, "severe"),
        ("stain", 10.0, 9.0, "minor"),
        ("stain", 60.0, 9.0, "severe"),
        ("pilling", 100.0, 0.2, "minor"),
        ("pilling", 100.0, 0.9, "severe"),
        ("fading", 200.0, 5.0, "minor"),
        ("fading", 200.0, 9.0, "moderate"),
    ],
)
def test_severity_follows_size_or_strength(kind, size_mm, strength, severity):
    assert severity_for(kind, size_mm, strength) == severity


@pytest.mark.parametrize(
    ("defects", "tag", "grade", "reason"),
    [
        ([], True, "new_with_tags", None),
        ([], False, "excellent", None),
        ([("pilling", "minor")], False, "very_good", None),
        ([("fading", "moderate"), ("pilling", "minor")], False, "very_good", None),
        ([("pilling", "severe")], False, "refused", "other"),
        ([("hole", "minor")], True, "refused", "hole"),
        ([("stain", "severe"), ("hole", "minor")], False, "refused", "stain"),
        ([("tear", "moderate"), ("pilling", "minor")], False, "refused", "tear"),
    ],
)
def test_the_rubric(defects, tag, grade, reason):
    assert grade_for(defects, tag=tag) == (grade, reason)


def test_grade_distance_counts_steps_down_the_scale():
    assert grade_distance("new_with_tags", "excellent") == 1
    assert grade_distance("excellent", "refused") == 2
    assert grade_distance("very_good", "very_good") == 0


def test_the_suggestion_is_the_likeliest_grade_unless_it_risks_a_grade_two_steps_off():
    certain = {"new_with_tags": 0.0, "excellent": 0.8, "very_good": 0.1, "refused": 0.1}
    assert classifier.suggest_grade(certain) == "excellent"
    torn = {"new_with_tags": 0.0, "excellent": 0.5, "very_good": 0.05, "refused": 0.45}
    assert classifier.suggest_grade(torn) == "very_good"  # one step from either: never two
    assert classifier.suggest_grade(torn, far_cost=1.0) == "excellent"  # plain arg max


def test_more_evidence_of_a_stain_never_makes_the_committed_model_less_sure_of_a_refusal():
    model = load_model(MODEL_DIR)
    names = classifier.GRADE_FEATURE_NAMES
    refused = []
    for score in (0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0):
        row = np.array([-1.0 if name.endswith(("measure", "severity")) else 0.0 for name in names], np.float32)
        hinted, shown = score >= 0.2, score >= 0.5
        for name, value in (("max_score", score), ("hints", hinted), ("shown", shown),
                            ("measure", 20.0 if hinted else -1.0), ("severity", 1.0 if shown else -1.0)):
            row[names.index(f"stain_{name}")] = value
        refused.append(model.grade_probabilities(row)["refused"])
    assert refused == sorted(refused)  # monotonic constraints: evidence of a stain only ever adds to a refusal
    assert refused[0] < 0.5 < refused[-1]
