"""Prediction with the fitted gradient-boosted trees, every tree of a model walked at once.

scikit-learn's HistGradientBoosting predicts one tree at a time, and each tree costs ~13 µs of Python and
OpenMP set-up whatever the rows: the region model's 1050 trees take 14 ms for a single candidate, the grade
model's 450 trees 6 ms for its one row. Here a model's trees are packed once into flat node arrays, and every
(row, tree) pair steps down one level per numpy operation; the leaves are then added up in scikit-learn's own
order (its baseline, then tree after tree), so the raw predictions are scikit-learn's to the bit (tested), and
scikit-learn's own loss turns them into probabilities or values.

Estimators that are not HistGradientBoosting (a constant stand-in, say) are asked directly.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

from forever.grading.helper import beside

SPLIT_ROWS = 16  # from this many rows on, the two halves are walked on two threads


@dataclass(frozen=True)
class PackedTrees:
    """All trees of one fitted model as flat arrays: node i tests `feature[i] <= threshold[i]` and goes on to
    `children[2 i]` (true) or `children[2 i + 1]`; a leaf is its own two children. `feature` indexes a row
    of 2 x n_features values: the row as it is, then the row with missing values as -inf, for the nodes that
    send missing values left (NaN never compares true, so the others send them right, as scikit-learn
    does)."""

    n_features: int
    n_iterations: int
    per_iteration: int  # trees per iteration: 1, or the classes of a multi-class classifier
    roots: np.ndarray  # (trees,) in scikit-learn's order: iteration after iteration, class within it
    feature: np.ndarray
    threshold: np.ndarray
    children: np.ndarray
    value: np.ndarray
    baseline: np.ndarray  # (per_iteration,)
    depth: int  # the deepest leaf's depth: the steps every pair is walked

    @classmethod
    def of(cls, model: Any) -> PackedTrees:
        n_features = int(model.n_features_in_)
        roots, features, thresholds, children, values = [], [], [], [], []
        offset, depth = 0, 0
        for iteration in model._predictors:
            for predictor in iteration:
                nodes = predictor.nodes
                if nodes["is_categorical"].any():
                    raise ValueError("categorical splits are not supported")
                leaf = nodes["is_leaf"].astype(bool)
                here = np.arange(len(nodes), dtype=np.intp) + offset
                roots.append(offset)
                missing_left = nodes["missing_go_to_left"].astype(np.intp)
                features.append(np.where(leaf, 0, nodes["feature_idx"] + n_features * missing_left))
                thresholds.append(np.where(leaf, 0.0, nodes["num_threshold"]))
                left = np.where(leaf, here, nodes["left"].astype(np.intp) + offset)
                right = np.where(leaf, here, nodes["right"].astype(np.intp) + offset)
                children.append(np.stack([left, right], axis=1).ravel())
                values.append(nodes["value"])
                depth = max(depth, int(nodes["depth"].max()))
                offset += len(nodes)
        return cls(
            n_features=n_features,
            n_iterations=len(model._predictors),
            per_iteration=len(model._predictors[0]) if model._predictors else 1,
            roots=np.array(roots, np.intp),
            feature=np.concatenate(features).astype(np.intp),
            threshold=np.concatenate(thresholds).astype(np.float64),
            children=np.concatenate(children).astype(np.intp),
            value=np.concatenate(values).astype(np.float64),
            baseline=np.asarray(model._baseline_prediction, np.float64).ravel(),
            depth=depth,
        )

    def raw_predict(self, rows: np.ndarray) -> np.ndarray:
        """scikit-learn's `_raw_predict`: (rows, per_iteration), float64. Many rows are split between this
        thread and the helper (each row's walk is its own: the answer is the same)."""
        rows = np.asarray(rows, np.float64)
        if rows.ndim != 2 or rows.shape[1] != self.n_features:
            raise ValueError(f"expected rows of {self.n_features} features, got shape {rows.shape}")
        if len(rows) < SPLIT_ROWS:
            return self._walk(rows)
        middle = len(rows) // 2
        first = beside(self._walk, rows[:middle])
        second = self._walk(rows[middle:])
        return np.concatenate([first.result(), second])

    def _walk(self, rows: np.ndarray) -> np.ndarray:
        count, trees = len(rows), len(self.roots)
        values = np.concatenate([rows, np.where(np.isnan(rows), -np.inf, rows)], axis=1).ravel()
        row_start = np.repeat(np.arange(count, dtype=np.intp) * (2 * self.n_features), trees)
        node = np.tile(self.roots, count)
        reached = np.empty(count * trees, np.intp)
        pair = np.arange(count * trees, dtype=np.intp)
        for step in range(self.depth):
            value = values.take(row_start + self.feature.take(node))
            goes_right = ~(value <= self.threshold.take(node))
            following = self.children.take(node * 2 + goes_right)
            if step % 3 == 2:  # set the pairs at a leaf aside: the rest walk on with fewer of them
                walking = following != node
                resting = ~walking
                reached[pair[resting]] = following[resting]
                pair, row_start, following = pair[walking], row_start[walking], following[walking]
            node = following
        reached[pair] = node
        leaves = self.value.take(reached).reshape(count, self.n_iterations, self.per_iteration)
        start = np.broadcast_to(self.baseline, (count, 1, self.per_iteration))
        # Added in sequence (accumulate, not a pairwise sum): the baseline, then each iteration's tree.
        return np.add.accumulate(np.concatenate([start, leaves], axis=1), axis=1)[:, -1, :]


_PACKED: weakref.WeakKeyDictionary[Any, PackedTrees] = weakref.WeakKeyDictionary()


def packed(model: Any) -> PackedTrees:
    """The model's trees packed (once per fitted model)."""
    trees = _PACKED.get(model)
    if trees is None:
        trees = _PACKED[model] = PackedTrees.of(model)
    return trees


def pack(*models: Any) -> None:
    """Pack the trees of each HistGradientBoosting model given now (others need nothing), rather than in the
    first prediction."""
    for model in models:
        if isinstance(model, (HistGradientBoostingClassifier, HistGradientBoostingRegressor)):
            packed(model)


def predict_proba(model: Any, rows: np.ndarray) -> np.ndarray:
    """`model.predict_proba(rows)`, with a HistGradientBoosting classifier's trees walked here."""
    if not isinstance(model, HistGradientBoostingClassifier):
        return model.predict_proba(rows)
    return model._loss.predict_proba(packed(model).raw_predict(rows))


def predict(model: Any, rows: np.ndarray) -> np.ndarray:
    """`model.predict(rows)` for a regressor, with a HistGradientBoosting regressor's trees walked here."""
    if not isinstance(model, HistGradientBoostingRegressor):
        return model.predict(rows)
    return model._loss.link.inverse(packed(model).raw_predict(rows).ravel())
