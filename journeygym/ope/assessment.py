"""Off-policy estimators scored against the ground truth of a simulated log.

The metrics follow the conventions of the OPE benchmarks (Open Bandit
Pipeline, SCOPE-RL), computed per estimator over the policies it evaluated:

* ``relative_error``: mean over policies of ``|estimate - true| / |true|``
  (policies whose true value is 0 are left out);
* ``mse``: mean squared error of the estimates;
* ``spearman``: rank correlation of estimated and true values (undefined,
  NaN, for fewer than 3 policies or constant values; ``note`` says why);
* ``spearman_if_unbiased``: the mean Spearman correlation an unbiased
  estimator with the same standard errors would reach (true values plus
  normal noise of each estimate's bootstrap standard error, over
  :data:`UNBIASED_DRAWS` fixed draws): below the target, no removal of bias
  can meet it, only more customers or lower variance;
* ``regret_at_k`` (k = 1, 3): the best true value minus the best true value
  among the k policies the estimator ranks highest (ties in the estimates are
  broken pessimistically, worst true value first, so an estimator that cannot
  tell policies apart gets no credit); ``regret_at_k_normalized`` divides it by
  ``reference_value`` (e.g. the oracle's true value) when one is given;
* ``coverage``: share of policies whose true value lies in ``[low, high]``;
* ``lower_bound_t_below_truth``, ``lower_bound_concentration_below_truth``:
  share of policies whose lower bound is at most the true value (a valid 95%
  bound should be so at least 95% of the time).

:func:`assess` scores one log; :func:`assess_over_seeds` averages the scores of
many logs (seeds) with t-intervals over seeds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from journeygym.intervals import t_interval
from journeygym.ope.episodes import OPEInputError

__all__ = ["ESTIMATE_FIELDS", "REGRET_AT", "UNBIASED_DRAWS", "assess", "assess_over_seeds", "estimates_frame", "spearman_if_unbiased"]

#: The fields of an estimate (``journeygym.ope.estimators.Estimate``); the last five are optional.
ESTIMATE_FIELDS = (
    "estimator", "policy", "value", "low", "high", "lower_bound_t", "lower_bound_concentration", "standard_error"
)
#: Simulated estimates behind ``spearman_if_unbiased`` (a fixed seed: the same inputs give the same number).
UNBIASED_DRAWS = 2_000
_REQUIRED = ESTIMATE_FIELDS[:3]
_BOUNDS = ("lower_bound_t", "lower_bound_concentration")
#: The k of the regret@k columns.
REGRET_AT = (1, 3)
_MIN_POLICIES_FOR_SPEARMAN = 3


def estimates_frame(estimates: Iterable[Any] | pd.DataFrame) -> pd.DataFrame:
    """Estimates (objects with the :data:`ESTIMATE_FIELDS` attributes, dicts, or a DataFrame) as a table.

    Missing or None optional fields become NaN.

    Raises
    ------
    OPEInputError
        If an estimate lacks ``estimator``, ``policy`` or ``value``.
    """
    if isinstance(estimates, pd.DataFrame):
        records = estimates.to_dict("records")
    else:
        records = [
            e if isinstance(e, Mapping) else {f: getattr(e, f, None) for f in ESTIMATE_FIELDS} for e in estimates
        ]
    rows = []
    for i, record in enumerate(records):
        missing = [f for f in _REQUIRED if record.get(f) is None]
        if missing:
            raise OPEInputError(
                f"estimate {i}: missing {missing} (received {record!r}); expected fields {list(ESTIMATE_FIELDS)}, "
                "the last five optional."
            )
        row = {f: record.get(f) for f in ESTIMATE_FIELDS}
        for f in ESTIMATE_FIELDS[2:]:
            row[f] = np.nan if row[f] is None else float(row[f])
        rows.append(row)
    frame = pd.DataFrame(rows, columns=list(ESTIMATE_FIELDS))
    duplicated = frame.duplicated(["estimator", "policy"])
    if duplicated.any():
        first = frame[duplicated].iloc[0]
        raise OPEInputError(
            f"estimates: estimator {first['estimator']!r} has more than one estimate of policy {first['policy']!r}; "
            "expected one per (estimator, policy)."
        )
    return frame


def _true_value(value: Any) -> float:
    """A true value given as a number or as a :class:`~journeygym.ope.truth.TrueValue` (its ``mean``)."""
    return float(getattr(value, "mean", value))


def _share(flags: np.ndarray, present: np.ndarray) -> float:
    return float(flags[present].mean()) if present.any() else float("nan")


def spearman_if_unbiased(truths: np.ndarray, standard_errors: np.ndarray, draws: int = UNBIASED_DRAWS) -> float:
    """Mean Spearman correlation with ``truths`` of ``truths + N(0, standard_errors^2)`` over ``draws`` fixed draws.

    What an unbiased estimator with these standard errors would score: the
    ranking quality variance alone allows.  NaN for fewer than 3 policies,
    constant truths or a standard error that is not finite.
    """
    truths = np.asarray(truths, dtype=np.float64)
    errors = np.asarray(standard_errors, dtype=np.float64)
    if truths.size < _MIN_POLICIES_FOR_SPEARMAN or np.ptp(truths) == 0 or not np.isfinite(errors).all():
        return float("nan")
    noisy = truths + np.random.default_rng(0).standard_normal((draws, truths.size)) * errors
    ranks = np.argsort(np.argsort(noisy, axis=1), axis=1).astype(np.float64)
    true_ranks = stats.rankdata(truths) - 1.0
    ranks -= ranks.mean(axis=1, keepdims=True)
    true_ranks -= true_ranks.mean()
    correlation = ranks @ true_ranks / (np.linalg.norm(ranks, axis=1) * np.linalg.norm(true_ranks))
    return float(correlation.mean())


def _regret(values: np.ndarray, truths: np.ndarray, k: int) -> float:
    # Order by estimate (high first), ties by true value (low first): pessimistic tie-breaking.
    order = np.lexsort((truths, -values))
    return float(truths.max() - truths[order[:k]].max())


def _score_policies(
    values: np.ndarray,
    truths: np.ndarray,
    lows: np.ndarray,
    highs: np.ndarray,
    bounds: Mapping[str, np.ndarray],
    reference_value: float | None = None,
    standard_errors: np.ndarray | None = None,
) -> dict[str, Any]:
    """The metrics of one estimator on one log from aligned per-policy arrays (NaN = not given)."""
    n = values.size
    notes = []
    finite = np.isfinite(values).all()
    if not finite:
        notes.append(f"{int((~np.isfinite(values)).sum())} of {n} estimates are not finite")
    nonzero = truths != 0
    if not nonzero.all():
        notes.append("relative error leaves out policies whose true value is 0")
    relative = np.abs(values[nonzero] - truths[nonzero]) / np.abs(truths[nonzero])
    scores: dict[str, Any] = {
        "n_policies": n,
        "relative_error": float(relative.mean()) if relative.size and finite else float("nan"),
        "mse": float(np.mean(np.square(values - truths))) if finite else float("nan"),
    }
    if n < _MIN_POLICIES_FOR_SPEARMAN:
        notes.append(f"spearman needs at least {_MIN_POLICIES_FOR_SPEARMAN} policies, got {n}")
        scores["spearman"] = float("nan")
    elif not finite or np.ptp(values) == 0 or np.ptp(truths) == 0:
        notes.append("spearman undefined: constant or non-finite values")
        scores["spearman"] = float("nan")
    else:
        scores["spearman"] = float(stats.spearmanr(values, truths).statistic)
    scores["spearman_if_unbiased"] = (
        float("nan") if standard_errors is None else spearman_if_unbiased(truths, standard_errors)
    )
    for k in REGRET_AT:
        regret = _regret(values, truths, k) if finite else float("nan")
        scores[f"regret_at_{k}"] = regret
        scores[f"regret_at_{k}_normalized"] = regret / reference_value if reference_value is not None else float("nan")
    interval = np.isfinite(lows) & np.isfinite(highs)
    scores["coverage"] = _share((lows <= truths) & (truths <= highs), interval)
    for name, bound in bounds.items():
        scores[f"{name}_below_truth"] = _share(bound <= truths, np.isfinite(bound))
    scores["note"] = "; ".join(notes)
    return scores


def _check_reference(reference_value: float | None) -> float | None:
    if reference_value is None:
        return None
    value = float(reference_value)
    if not np.isfinite(value) or value == 0:
        raise OPEInputError(
            f"reference_value: received {reference_value!r}, expected a finite non-zero number (e.g. the oracle's "
            "true value) to divide the regret by."
        )
    return value


def assess(
    estimates: Iterable[Any] | pd.DataFrame,
    truth: Mapping[str, Any],
    *,
    reference_value: float | None = None,
) -> pd.DataFrame:
    """Score each estimator's estimates against the true values.

    Parameters
    ----------
    estimates
        Estimates with the fields :data:`ESTIMATE_FIELDS` (``Estimate``
        objects, dicts, or a DataFrame), one per (estimator, policy).
    truth
        Policy name -> true value (a number or a :class:`~journeygym.ope.truth.TrueValue`).
    reference_value
        Divides the regrets (``regret_at_k_normalized``); e.g. the oracle's true value.

    Returns
    -------
    pandas.DataFrame
        One row per estimator (in order of first appearance) with the metrics
        of the module docstring and a ``note`` on undefined ones.

    Raises
    ------
    OPEInputError
        If an estimate names a policy without a true value, a true value is
        not finite, or an estimator estimates a policy twice.
    """
    frame = estimates_frame(estimates)
    if frame.empty:
        raise OPEInputError("assess: received no estimates; expected at least one (estimator, policy) estimate.")
    truths = {str(name): _true_value(value) for name, value in truth.items()}
    bad = {name: value for name, value in truths.items() if not np.isfinite(value)}
    if bad:
        raise OPEInputError(f"assess: true values {bad} are not finite; expected finite numbers.")
    unknown = sorted(set(frame["policy"].astype(str)) - set(truths))
    if unknown:
        raise OPEInputError(
            f"assess: no true value for the policies {unknown} (true values given for {sorted(truths)}); compute "
            "them with journeygym.ope.true_values_of_log."
        )
    reference = _check_reference(reference_value)
    rows = []
    for estimator, group in frame.groupby("estimator", sort=False):
        true = group["policy"].astype(str).map(truths).to_numpy(dtype=np.float64)
        scores = _score_policies(
            group["value"].to_numpy(dtype=np.float64),
            true,
            group["low"].to_numpy(dtype=np.float64),
            group["high"].to_numpy(dtype=np.float64),
            {name: group[name].to_numpy(dtype=np.float64) for name in _BOUNDS},
            reference,
            group["standard_error"].to_numpy(dtype=np.float64),
        )
        rows.append({"estimator": estimator, **scores})
    return pd.DataFrame(rows)


def _t_interval(values: np.ndarray, confidence: float) -> tuple[float, float, float]:
    """Mean and two-sided t-interval of the finite ``values`` (NaN bounds for fewer than two)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return float("nan"), float("nan"), float("nan")
    estimate = t_interval(float(finite.mean()), finite, confidence)
    return estimate.mean, float(estimate.low), float(estimate.high)


def _per_seed(rows: pd.DataFrame) -> pd.DataFrame:
    """:func:`assess` of every seed's estimates against its own true values."""
    tables = []
    for seed, group in rows.groupby("seed", sort=True):
        truth = group.drop_duplicates(["policy", "true_value"])
        if truth["policy"].duplicated().any():
            policy = truth.loc[truth["policy"].duplicated(), "policy"].iloc[0]
            raise OPEInputError(
                f"assess_over_seeds: seed {seed!r} gives policy {policy!r} more than one true_value; expected one "
                "true value per (seed, policy)."
            )
        reference = None
        if "reference_value" in group.columns:
            references = group["reference_value"].unique()
            if references.size != 1:
                raise OPEInputError(
                    f"assess_over_seeds: seed {seed!r} has reference values {references.tolist()}; expected one "
                    "per seed."
                )
            reference = float(references[0])
        scores = assess(group, dict(zip(truth["policy"], truth["true_value"])), reference_value=reference)
        tables.append(scores.assign(seed=seed))
    return pd.concat(tables, ignore_index=True)


def assess_over_seeds(rows: pd.DataFrame, *, confidence: float = 0.95) -> pd.DataFrame:
    """Scores of the estimators averaged over seeds (independent logs), with t-intervals over seeds.

    Parameters
    ----------
    rows
        A long table, one row per (seed, estimator, policy), with columns
        ``seed``, ``estimator``, ``policy``, ``value``, ``true_value`` and
        optionally ``low``, ``high``, ``lower_bound_t``,
        ``lower_bound_concentration`` and ``reference_value`` (one per seed).
    confidence
        Level of the t-intervals over seeds.

    Returns
    -------
    pandas.DataFrame
        One row per estimator: ``n_seeds``; for every metric of :func:`assess`,
        ``<metric>_mean``, ``<metric>_low``, ``<metric>_high`` over the seeds
        where it is defined; and ``<bound>_below_truth_pooled``, the share of
        all (policy, seed) pairs whose lower bound is at most the true value.

    Raises
    ------
    OPEInputError
        If required columns are missing or a seed's true values are inconsistent.
    """
    if not isinstance(rows, pd.DataFrame):
        raise OPEInputError(f"assess_over_seeds: received {type(rows).__name__}, expected a pandas DataFrame.")
    missing = [c for c in ("seed", *_REQUIRED, "true_value") if c not in rows.columns]
    if missing:
        raise OPEInputError(
            f"assess_over_seeds: missing columns {missing} (received {list(rows.columns)}); expected seed, estimator, "
            "policy, value, true_value and optionally low, high, lower_bound_t, lower_bound_concentration, "
            "reference_value."
        )
    if not 0.0 < confidence < 1.0:
        raise OPEInputError(f"assess_over_seeds: received confidence={confidence!r}, expected a number in (0, 1).")
    per_seed = _per_seed(rows)
    metrics = [c for c in per_seed.columns if c not in ("estimator", "seed", "note", "n_policies")]
    full = rows.reindex(columns=[*rows.columns, *[b for b in _BOUNDS if b not in rows.columns]])
    summary = []
    for estimator, group in per_seed.groupby("estimator", sort=False):
        row: dict[str, Any] = {"estimator": estimator, "n_seeds": int(group["seed"].nunique())}
        for metric in metrics:
            mean, low, high = _t_interval(group[metric].to_numpy(dtype=np.float64), confidence)
            row.update({f"{metric}_mean": mean, f"{metric}_low": low, f"{metric}_high": high})
        own = full[full["estimator"] == estimator]
        truths = own["true_value"].to_numpy(dtype=np.float64)
        for bound in _BOUNDS:
            values = own[bound].to_numpy(dtype=np.float64)
            row[f"{bound}_below_truth_pooled"] = _share(values <= truths, np.isfinite(values))
        summary.append(row)
    return pd.DataFrame(summary)
