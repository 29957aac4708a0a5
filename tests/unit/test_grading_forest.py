"""The packed trees answer exactly what scikit-learn answers, on the committed model and on fitted ones."""

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

from forever.grading import forest
from forever.grading.classifier import default_model
from forever.grading.features import FEATURE_NAMES


def _rows(count: int, width: int, seed: int, missing: float = 0.3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rows = rng.normal(size=(count, width)).astype(np.float32)
    rows[rng.random(rows.shape) < missing] = np.nan
    rows[:, 0] = np.round(rows[:, 0], 1)  # repeated values: rows landing on a threshold's boundary
    return rows


def test_the_committed_models_give_scikit_learns_answers_to_the_bit():
    model = default_model()
    rows = _rows(64, len(FEATURE_NAMES), 1)
    rows[:, -7:] = np.where(np.arange(64)[:, None] % 3 == 0, rows[:, -7:], np.nan)  # fine_* mostly missing
    for count in (1, 3, 64):
        assert np.array_equal(
            forest.predict_proba(model.region, rows[:count]), model.region.predict_proba(rows[:count])
        )
    for kind, regressor in model.measures.items():
        assert np.array_equal(forest.predict(regressor, rows), regressor.predict(rows)), kind
    grade_rows = _rows(16, model.grade.steps[0].n_features_in_, 2, missing=0.0)
    for step in model.grade.steps:
        assert np.array_equal(forest.predict_proba(step, grade_rows), step.predict_proba(grade_rows))


@pytest.mark.parametrize("classes", [2, 4])
def test_fitted_classifiers_with_missing_values_match_scikit_learn(classes):
    rows = _rows(600, 6, 3)
    labels = (np.nan_to_num(rows[:, 0], nan=2.0) + np.isnan(rows[:, 1]) * 1.5 > 0.3).astype(int)
    labels += (classes > 2) * (np.nan_to_num(rows[:, 2], nan=-1.0) > 0).astype(int) * 2
    model = HistGradientBoostingClassifier(max_iter=40, max_leaf_nodes=15, random_state=0).fit(rows, labels)
    held_out = _rows(200, 6, 4, missing=0.5)
    assert np.array_equal(forest.predict_proba(model, held_out), model.predict_proba(held_out))


def test_a_fitted_regressor_and_anything_else_match_their_own_predictions():
    rows = _rows(500, 5, 5)
    target = np.nan_to_num(rows[:, 1], nan=3.0) * 2 + np.isnan(rows[:, 2])
    model = HistGradientBoostingRegressor(max_iter=30, random_state=0).fit(rows, target)
    held_out = _rows(50, 5, 6, missing=0.6)
    assert np.array_equal(forest.predict(model, held_out), model.predict(held_out))

    class Constant:
        def predict(self, rows):
            return np.full(len(rows), 7.0)

    assert forest.predict(Constant(), held_out).tolist() == [7.0] * 50


def test_rows_of_the_wrong_width_are_refused():
    model = default_model()
    with pytest.raises(ValueError, match="features"):
        forest.predict_proba(model.region, np.zeros((2, 3)))
