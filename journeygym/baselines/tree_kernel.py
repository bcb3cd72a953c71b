"""One compiled pass over the fitted gradient-boosting models of a scoring policy.

Why compiled: a score policy scores every subscribed customer every week, and
``ltv_uplift`` asks four models (one response model per action and the LTV
model) each time.  scikit-learn predicts tree by tree over all rows and
validates its input on every call; on 20,000 customers x 52 weeks that was
about 75% of a ``ltv_uplift`` evaluation cell.  Here every tree of every model
is evaluated for one customer before the next, so the customer's features stay
in cache, and the input is checked once (``benchmarks/bench_scoring.py``;
figures in ``docs/benchmarks.md``).

The predictions are scikit-learn's own, bit for bit: the same comparison
(``x <= threshold`` goes left, a missing value follows ``missing_go_to_left``),
the trees summed in scikit-learn's order from the model's baseline, and the
model's own inverse link applied to the sum.  A model this kernel does not
cover (categorical splits, several trees per iteration, another estimator)
is predicted by scikit-learn itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numba
import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.pipeline import Pipeline

__all__ = ["TreeEnsembleKernel"]


@numba.njit(cache=True, nogil=True)
def _feature(X, i, f, hot):  # type: ignore[no-untyped-def]
    """Feature ``f`` of row ``i``: a column of ``X``, or past its last column a one-hot block with ``hot`` set."""
    if f < X.shape[1]:
        return np.float64(X[i, f])
    return 1.0 if f - X.shape[1] == hot else 0.0


@numba.njit(cache=True, nogil=True)
def _tree_sum(  # type: ignore[no-untyped-def]
    X, i, hot, first, last, total, has_missing, roots, depths, value, feature, threshold, children, missing_left, is_leaf
):
    """``total`` plus the leaf values of trees ``first .. last - 1`` for row ``i`` (see :func:`_feature`), in tree order.

    Without missing values the descent is branch-free: a leaf is its own child,
    so every tree takes its depth's steps and ``x > threshold`` picks the child.
    With them (``has_missing``) a missing value follows ``missing_go_to_left``.
    """
    for t in range(first, last):
        node = roots[t]
        if has_missing:
            while not is_leaf[node]:
                x = _feature(X, i, feature[node], hot)
                if np.isnan(x):
                    node = children[node, 0] if missing_left[node] else children[node, 1]
                else:
                    node = children[node, np.int64(x > threshold[node])]
        else:
            for _ in range(depths[t]):
                node = children[node, np.int64(_feature(X, i, feature[node], hot) > threshold[node])]
        total += value[node]
    return total


@numba.njit(cache=True, nogil=True)
def _sum_trees(  # type: ignore[no-untyped-def]
    X, has_missing, tree_starts, roots, depths, value, feature, threshold, children, missing_left, is_leaf, baselines, out
):
    """``out[m, i]``: model m's baseline plus the leaf values of its trees for row i, summed in tree order."""
    for i in range(X.shape[0]):
        for m in range(baselines.size):
            out[m, i] = _tree_sum(
                X, i, -1, tree_starts[m], tree_starts[m + 1], baselines[m], has_missing,
                roots, depths, value, feature, threshold, children, missing_left, is_leaf,
            )


@numba.njit(cache=True, nogil=True)
def _sum_trees_per_action(  # type: ignore[no-untyped-def]
    X, has_missing, tree_starts, roots, depths, value, feature, threshold, children, missing_left, is_leaf, baselines, out
):
    """``out[i, a]``: the one model's raw prediction for row i of ``X`` with action ``a``'s one-hot appended."""
    for i in range(X.shape[0]):
        for a in range(out.shape[1]):
            out[i, a] = _tree_sum(
                X, i, a, tree_starts[0], tree_starts[1], baselines[0], has_missing,
                roots, depths, value, feature, threshold, children, missing_left, is_leaf,
            )


def _estimator(pipeline: Any) -> Any:
    return pipeline.steps[-1][1] if isinstance(pipeline, Pipeline) else pipeline


def _compilable(pipelines: Sequence[Any]) -> bool:
    """Whether every model is a plain numeric gradient-boosting model behind the same feature step."""
    models = [_estimator(p) for p in pipelines]
    if not all(isinstance(m, (HistGradientBoostingClassifier, HistGradientBoostingRegressor)) for m in models):
        return False
    for model in models:
        if getattr(model, "_preprocessor", None) is not None or getattr(model, "n_trees_per_iteration_", 0) != 1:
            return False
        if not hasattr(model, "_predictors") or not hasattr(model, "_baseline_prediction"):
            return False
        if isinstance(model, HistGradientBoostingClassifier) and len(model.classes_) != 2:
            return False
        if any(predictor.nodes["is_categorical"].any() for (predictor,) in model._predictors):
            return False
    steps = [p.steps[:-1] if isinstance(p, Pipeline) else [] for p in pipelines]
    indices = [tuple(getattr(s[0][1], "indices_", ())) if len(s) == 1 else None for s in steps]
    return len(set(indices)) == 1 and (indices[0] is not None or not any(steps))


class TreeEnsembleKernel:
    """Predict several fitted gradient-boosting pipelines together, as scikit-learn would.

    Parameters
    ----------
    pipelines
        Fitted :class:`~sklearn.pipeline.Pipeline` objects ending in a
        :class:`~sklearn.ensemble.HistGradientBoostingClassifier` (binary) or
        :class:`~sklearn.ensemble.HistGradientBoostingRegressor`, all behind the
        same feature step (or bare models).

    Attributes
    ----------
    compiled : bool
        False when some model is outside what the kernel covers; scikit-learn then predicts.
    """

    def __init__(self, pipelines: Sequence[Any]) -> None:
        if not pipelines:
            raise ValueError("TreeEnsembleKernel: received no model; expected at least one fitted pipeline.")
        self.pipelines = list(pipelines)
        self.compiled = _compilable(self.pipelines)
        if self.compiled:
            self._build()

    def _build(self) -> None:
        models = [_estimator(p) for p in self.pipelines]
        tables, roots, depths, tree_starts, offset = [], [], [], [0], 0
        for model in models:
            for (predictor,) in model._predictors:
                nodes = predictor.nodes
                tables.append((nodes, offset))
                roots.append(offset)
                depths.append(int(nodes["depth"].max()))
                offset += nodes.shape[0]
            tree_starts.append(len(roots))

        def column(field: str, dtype: Any) -> np.ndarray:
            return np.concatenate([nodes[field].astype(dtype) for nodes, _ in tables])

        is_leaf = column("is_leaf", np.bool_)
        own_index = np.arange(is_leaf.size, dtype=np.int64)
        starts = np.concatenate([np.full(nodes.shape[0], start, np.int64) for nodes, start in tables])
        children = np.column_stack([column("left", np.int64) + starts, column("right", np.int64) + starts])
        children[is_leaf] = own_index[is_leaf, None]
        self._tables = (
            np.asarray(tree_starts, np.int64),
            np.asarray(roots, np.int64),
            np.asarray(depths, np.int64),
            column("value", np.float64),
            np.where(is_leaf, 0, column("feature_idx", np.int64)),
            column("num_threshold", np.float64),
            children,
        )
        self._missing = (column("missing_go_to_left", np.bool_), is_leaf)
        self._baselines = np.array([float(np.ravel(m._baseline_prediction)[0]) for m in models])
        self._links = [m._loss.link.inverse for m in models]
        self._feature_step = self.pipelines[0][:-1] if isinstance(self.pipelines[0], Pipeline) and len(self.pipelines[0]) > 1 else None

    def predict(self, X: Any) -> np.ndarray:
        """``(n, n_models)``: each classifier's probability of class 1, each regressor's prediction."""
        if not self.compiled:
            columns = [
                p.predict_proba(X)[:, 1] if hasattr(_estimator(p), "predict_proba") else p.predict(X)
                for p in self.pipelines
            ]
            return np.column_stack(columns)
        features = self._feature_step.transform(X) if self._feature_step is not None else np.asarray(X)
        if features.dtype not in (np.float32, np.float64):
            features = features.astype(np.float64)
        raw = np.empty((len(self._links), features.shape[0]))
        _sum_trees(features, bool(np.isnan(features).any()), *self._tables, *self._missing, self._baselines, raw)
        return np.column_stack([link(raw[m]) for m, link in enumerate(self._links)])

    def predict_per_action(self, observations: np.ndarray, n_actions: int) -> np.ndarray:
        """``(n, n_actions)``: the one bare model's prediction for every row with every action's one-hot appended.

        The same numbers as ``predict`` on ``np.hstack([observations, one_hot(a)])`` for each action
        ``a`` (the fitted-Q ``"one_hot"`` encoding), without building those rows.
        """
        if not self.compiled or len(self._links) != 1 or self._feature_step is not None:
            raise ValueError(
                "TreeEnsembleKernel.predict_per_action: expected one compiled model without a feature step; "
                f"received {len(self.pipelines)} model(s), compiled={self.compiled}."
            )
        features = np.asarray(observations)
        if features.dtype not in (np.float32, np.float64):
            features = features.astype(np.float64)
        raw = np.empty((features.shape[0], int(n_actions)))
        _sum_trees_per_action(features, bool(np.isnan(features).any()), *self._tables, *self._missing, self._baselines, raw)
        return self._links[0](raw)
