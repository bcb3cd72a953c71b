"""Metrics of the scoring models (seed document 002) and of uplift models.

Classification (conversion, churn, response): accuracy, precision, recall,
F1 and ROC-AUC on a held-out set, and cross-validated ROC-AUC.  The seed
thresholds probabilities at 0.5; for rare outcomes (a weekly purchase) that
flags nobody, so :func:`classification_metrics` takes the threshold as an
argument and reports the share flagged.

Regression (LTV): RMSE, MAE, R-squared, and three percentage errors, because
MAPE divides by the actual value and most customers have zero future revenue:

* ``mape``: mean of |y - yhat| / |y| over the rows with y != 0 only, reported
  with ``mape_excluded_share``, the share of rows left out;
* ``smape``: mean of 2 |y - yhat| / (|y| + |yhat|), taking 0/0 as 0 (both zero
  is a perfect prediction), bounded in [0, 2];
* ``wape``: sum |y - yhat| / sum |y| (total absolute error relative to total revenue).

Uplift (Radcliffe 2007; the conventions of scikit-uplift): customers are
ranked by predicted uplift, best first.  After the top n, with N_t, N_c the
treated and control customers and R_t, R_c their responders among them,

* the Qini curve is ``R_t(n) - R_c(n) N_t(n) / N_c(n)`` (0 while N_c(n) = 0);
* the uplift curve is ``(R_t(n) / N_t(n) - R_c(n) / N_c(n)) n``, a rate
  taken as 0 while its group is empty.

Points are taken only at the end of groups of tied scores, so the result
does not depend on the order of tied rows.  The Qini coefficient and AUUC
are the areas between each curve and the random-ranking diagonal, divided
by that area for a perfect ranking, so 0 is random and 1 perfect: for Qini,
treated responders first and control responders last; for the uplift curve,
scikit-uplift's ideal ranking (rows with y == treatment first).  These match
``sklift.metrics.qini_auc_score`` and ``uplift_auc_score``.  uplift@k is the
response rate of treated minus control among the top k share (``floor(k n)``
rows, at least one).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from sklearn import metrics as skm
from sklearn.base import clone
from sklearn.inspection import permutation_importance
from sklearn.model_selection import GroupKFold, StratifiedGroupKFold, StratifiedKFold

__all__ = [
    "auuc",
    "classification_metrics",
    "cross_validated_roc_auc",
    "effect_errors",
    "permutation_importances",
    "qini_coefficient",
    "qini_curve",
    "regression_metrics",
    "uplift_at_k",
    "uplift_curve",
]


def _as_1d(name: str, values: Any, dtype: Any = np.float64) -> np.ndarray:
    array = np.asarray(values, dtype=dtype)
    if array.ndim != 1:
        raise ValueError(f"{name}: received shape {array.shape}, expected a 1-D array.")
    return array


def _same_length(**arrays: np.ndarray) -> None:
    lengths = {name: a.shape[0] for name, a in arrays.items()}
    if len(set(lengths.values())) != 1:
        raise ValueError(f"received arrays of different lengths {lengths}; expected one value per row.")
    if next(iter(lengths.values())) == 0:
        raise ValueError(f"received empty arrays {list(lengths)}; expected at least one row.")


def _binary(name: str, values: Any) -> np.ndarray:
    array = _as_1d(name, values)
    if not np.all((array == 0) | (array == 1)):
        bad = np.unique(array[(array != 0) & (array != 1)])[:5]
        raise ValueError(f"{name}: received values {bad.tolist()}, expected 0/1.")
    return array


# --------------------------------------------------------------------------
# classification
# --------------------------------------------------------------------------


def classification_metrics(y_true: Any, y_score: Any, threshold: float = 0.5) -> dict[str, float]:
    """Accuracy, precision, recall, F1 (at ``threshold``), ROC-AUC and base rates.

    Parameters
    ----------
    y_true
        0/1 outcomes.
    y_score
        Predicted probabilities (or any score; only ROC-AUC uses its ranking).
    threshold
        Predict 1 where ``y_score >= threshold``.

    Returns
    -------
    dict
        ``accuracy``, ``precision``, ``recall``, ``f1``, ``roc_auc`` (NaN if only
        one class is present), ``average_precision``, ``positive_rate`` (share of
        actual positives), ``flagged_rate`` (share predicted positive), ``threshold``.
    """
    y_true = _binary("y_true", y_true)
    y_score = _as_1d("y_score", y_score)
    _same_length(y_true=y_true, y_score=y_score)
    predicted = (y_score >= threshold).astype(np.float64)
    two_classes = np.unique(y_true).size == 2
    return {
        "accuracy": float(skm.accuracy_score(y_true, predicted)),
        "precision": float(skm.precision_score(y_true, predicted, zero_division=0.0)),
        "recall": float(skm.recall_score(y_true, predicted, zero_division=0.0)),
        "f1": float(skm.f1_score(y_true, predicted, zero_division=0.0)),
        "roc_auc": float(skm.roc_auc_score(y_true, y_score)) if two_classes else float("nan"),
        "average_precision": float(skm.average_precision_score(y_true, y_score)) if two_classes else float("nan"),
        "positive_rate": float(y_true.mean()),
        "flagged_rate": float(predicted.mean()),
        "threshold": float(threshold),
    }


def cross_validated_roc_auc(
    estimator: Any,
    X: Any,
    y: Any,
    *,
    n_splits: int = 5,
    groups: Any = None,
    random_state: int = 0,
) -> dict[str, Any]:
    """K-fold cross-validated ROC-AUC (stratified; grouped when ``groups`` is given).

    With ``groups`` (e.g. customer ids of a log with several rows per
    customer) every customer's rows stay in one fold, so the score is not
    inflated by a customer appearing in both training and test folds.

    Returns
    -------
    dict
        ``mean``, ``std`` and ``folds`` (the per-fold AUCs).
    """
    y = _binary("y", y)
    if groups is None:
        splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
        splits = splitter.split(np.zeros(y.size), y)
    else:
        groups = np.asarray(groups)
        try:
            splits = list(
                StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=random_state).split(
                    np.zeros(y.size), y, groups
                )
            )
        except ValueError:
            splits = list(GroupKFold(n_splits=n_splits).split(np.zeros(y.size), y, groups))
    folds = []
    for train, test in splits:
        model = clone(estimator)
        X_train = X.iloc[train] if isinstance(X, pd.DataFrame) else np.asarray(X)[train]
        X_test = X.iloc[test] if isinstance(X, pd.DataFrame) else np.asarray(X)[test]
        model.fit(X_train, y[train])
        folds.append(float(skm.roc_auc_score(y[test], model.predict_proba(X_test)[:, 1])))
    folds_array = np.array(folds)
    return {
        "mean": float(folds_array.mean()),
        "std": float(folds_array.std(ddof=1)) if len(folds) > 1 else 0.0,
        "folds": folds,
    }


# --------------------------------------------------------------------------
# regression
# --------------------------------------------------------------------------


def regression_metrics(y_true: Any, y_pred: Any) -> dict[str, float]:
    """RMSE, MAE, R-squared and zero-safe percentage errors (see the module docstring).

    Returns
    -------
    dict
        ``rmse``, ``mae``, ``r2``, ``mape`` (NaN if every actual is 0),
        ``mape_excluded_share``, ``smape``, ``wape`` (NaN if every actual is 0),
        ``mean_actual``, ``mean_predicted``.
    """
    y_true = _as_1d("y_true", y_true)
    y_pred = _as_1d("y_pred", y_pred)
    _same_length(y_true=y_true, y_pred=y_pred)
    if not (np.all(np.isfinite(y_true)) and np.all(np.isfinite(y_pred))):
        raise ValueError("regression_metrics: received NaN or infinite values; expected finite numbers.")
    error = np.abs(y_true - y_pred)
    nonzero = y_true != 0
    denominator = np.abs(y_true) + np.abs(y_pred)
    smape_terms = np.divide(2.0 * error, denominator, out=np.zeros_like(error), where=denominator > 0)
    total = np.abs(y_true).sum()
    return {
        "rmse": float(np.sqrt(np.mean((y_true - y_pred) ** 2))),
        "mae": float(error.mean()),
        "r2": float(skm.r2_score(y_true, y_pred)) if y_true.size > 1 else float("nan"),
        "mape": float(np.mean(error[nonzero] / np.abs(y_true[nonzero]))) if nonzero.any() else float("nan"),
        "mape_excluded_share": float(1.0 - nonzero.mean()),
        "smape": float(smape_terms.mean()),
        "wape": float(error.sum() / total) if total > 0 else float("nan"),
        "mean_actual": float(y_true.mean()),
        "mean_predicted": float(y_pred.mean()),
    }


# --------------------------------------------------------------------------
# uplift
# --------------------------------------------------------------------------


def _uplift_inputs(y_true: Any, uplift: Any, treatment: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y = _binary("y_true", y_true)
    score = _as_1d("uplift", uplift)
    w = _binary("treatment", treatment)
    _same_length(y_true=y, uplift=score, treatment=w)
    if not np.all(np.isfinite(score)):
        raise ValueError("uplift: received NaN or infinite scores; expected finite numbers.")
    if w.min() == w.max():
        raise ValueError(
            f"treatment: received only {'treated' if w[0] else 'control'} rows; uplift metrics need both groups."
        )
    return y, score, w


def _cumulative_counts(y: np.ndarray, score: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, ...]:
    order = np.argsort(-score, kind="mergesort")
    y, score, w = y[order], score[order], w[order]
    ends = np.r_[np.flatnonzero(np.diff(score)), score.size - 1]  # last index of each tie group
    n = ends + 1.0
    n_t = np.cumsum(w)[ends]
    n_c = n - n_t
    r_t = np.cumsum(y * w)[ends]
    r_c = np.cumsum(y * (1.0 - w))[ends]
    return n, n_t, n_c, r_t, r_c


def qini_curve(y_true: Any, uplift: Any, treatment: Any) -> tuple[np.ndarray, np.ndarray]:
    """Qini curve: ``(n, Q(n))`` with a leading (0, 0) point."""
    n, n_t, n_c, r_t, r_c = _cumulative_counts(*_uplift_inputs(y_true, uplift, treatment))
    ratio = np.divide(n_t, n_c, out=np.zeros_like(n_t), where=n_c > 0)
    q = r_t - r_c * ratio
    return np.r_[0.0, n], np.r_[0.0, q]


def uplift_curve(y_true: Any, uplift: Any, treatment: Any) -> tuple[np.ndarray, np.ndarray]:
    """Uplift curve: ``(n, U(n))`` with a leading (0, 0) point."""
    n, n_t, n_c, r_t, r_c = _cumulative_counts(*_uplift_inputs(y_true, uplift, treatment))
    rate_t = np.divide(r_t, n_t, out=np.zeros_like(r_t), where=n_t > 0)
    rate_c = np.divide(r_c, n_c, out=np.zeros_like(r_c), where=n_c > 0)
    return np.r_[0.0, n], np.r_[0.0, (rate_t - rate_c) * n]


def _perfect_qini_score(y: np.ndarray, w: np.ndarray) -> np.ndarray:
    # Treated responders first, control responders last.
    return y * w - y * (1.0 - w)


def _perfect_uplift_score(y: np.ndarray, w: np.ndarray) -> np.ndarray:
    # scikit-uplift's ideal ranking for the uplift curve: rows where y == w first
    # (treated responders, control non-responders), ordered within by the larger group.
    control_responders = np.sum((y == 1) & (w == 0))
    treated_non_responders = np.sum((y == 0) & (w == 1))
    return 2.0 * (y == w) + (y if control_responders > treated_non_responders else w)


def _normalized_area(
    curve: Callable[[Any, Any, Any], tuple[np.ndarray, np.ndarray]],
    perfect_score: Callable[[np.ndarray, np.ndarray], np.ndarray],
    y: np.ndarray,
    score: np.ndarray,
    w: np.ndarray,
    normalize: bool,
) -> float:
    x, value = curve(y, score, w)
    diagonal = np.trapezoid([0.0, value[-1]], [0.0, x[-1]])
    area = np.trapezoid(value, x) - diagonal
    if not normalize:
        return float(area)
    perfect_x, perfect_value = curve(y, perfect_score(y, w), w)
    best = np.trapezoid(perfect_value, perfect_x) - diagonal
    return float(area / best) if best != 0 else float("nan")


def qini_coefficient(y_true: Any, uplift: Any, treatment: Any, normalize: bool = True) -> float:
    """Area between the Qini curve and the random diagonal (divided by the perfect ranking's, if ``normalize``)."""
    return _normalized_area(qini_curve, _perfect_qini_score, *_uplift_inputs(y_true, uplift, treatment), normalize)


def auuc(y_true: Any, uplift: Any, treatment: Any, normalize: bool = True) -> float:
    """Area between the uplift curve and the random diagonal (divided by the perfect ranking's, if ``normalize``)."""
    return _normalized_area(uplift_curve, _perfect_uplift_score, *_uplift_inputs(y_true, uplift, treatment), normalize)


def uplift_at_k(y_true: Any, uplift: Any, treatment: Any, k: float = 0.3, strategy: str = "overall") -> float:
    """Observed uplift among the top ``k`` share ranked by predicted uplift.

    Parameters
    ----------
    k
        Share of rows in (0, 1].
    strategy
        ``"overall"``: the top k share of all rows, then treated minus control
        response rate within it; ``"by_group"``: the top k share of the treated
        and of the control rows separately.
    """
    y, score, w = _uplift_inputs(y_true, uplift, treatment)
    if not 0.0 < k <= 1.0:
        raise ValueError(f"uplift_at_k: received k={k!r}, expected a share in (0, 1].")
    order = np.argsort(-score, kind="mergesort")
    if strategy == "overall":
        top = order[: max(1, int(k * y.size))]
        treated, control = top[w[top] == 1], top[w[top] == 0]
        if treated.size == 0 or control.size == 0:
            raise ValueError(
                f"uplift_at_k: the top {k:.0%} holds no {'treated' if treated.size == 0 else 'control'} rows."
            )
        return float(y[treated].mean() - y[control].mean())
    if strategy == "by_group":
        rates = []
        for group in (1, 0):
            members = order[w[order] == group]
            rates.append(y[members[: max(1, int(k * members.size))]].mean())
        return float(rates[0] - rates[1])
    raise ValueError(f"uplift_at_k: received strategy={strategy!r}, expected 'overall' or 'by_group'.")


def effect_errors(estimated: Any, true: Any) -> dict[str, float]:
    """Errors of estimated against true per-customer treatment effects.

    Returns
    -------
    dict
        ``rmse``, ``mae``, ``bias`` (mean estimated - true), ``pearson`` and
        ``spearman`` correlations (NaN when either side is constant), ``true_mean``, ``estimated_mean``.
    """
    estimated = _as_1d("estimated", estimated)
    true = _as_1d("true", true)
    _same_length(estimated=estimated, true=true)
    constant = np.ptp(estimated) == 0 or np.ptp(true) == 0
    return {
        "rmse": float(np.sqrt(np.mean((estimated - true) ** 2))),
        "mae": float(np.mean(np.abs(estimated - true))),
        "bias": float(np.mean(estimated - true)),
        "pearson": float("nan") if constant else float(stats.pearsonr(estimated, true)[0]),
        "spearman": float("nan") if constant else float(stats.spearmanr(estimated, true)[0]),
        "true_mean": float(true.mean()),
        "estimated_mean": float(estimated.mean()),
    }


# --------------------------------------------------------------------------
# feature importances
# --------------------------------------------------------------------------


def permutation_importances(
    estimator: Any,
    X: Any,
    y: Any,
    *,
    scoring: str | None = None,
    n_repeats: int = 5,
    random_state: int = 0,
    feature_names: list[str] | None = None,
) -> pd.DataFrame:
    """Permutation importance of each input column on held-out data.

    Parameters
    ----------
    estimator
        A fitted estimator (or pipeline) that accepts ``X``.
    X, y
        A held-out set (never the training rows: importances on training data
        reward overfitting).
    scoring
        A scikit-learn scorer name; default ``"roc_auc"`` for classifiers, ``"r2"`` otherwise.

    Returns
    -------
    pandas.DataFrame
        Columns ``feature``, ``importance_mean``, ``importance_std``, sorted by mean, largest first.
    """
    if scoring is None:
        scoring = "roc_auc" if hasattr(estimator, "predict_proba") else "r2"
    result = permutation_importance(estimator, X, y, scoring=scoring, n_repeats=n_repeats, random_state=random_state)
    if feature_names is None:
        feature_names = list(X.columns) if isinstance(X, pd.DataFrame) else [f"x{i}" for i in range(np.shape(X)[1])]
    table = pd.DataFrame(
        {"feature": feature_names, "importance_mean": result.importances_mean, "importance_std": result.importances_std}
    )
    return table.sort_values("importance_mean", ascending=False, ignore_index=True)
