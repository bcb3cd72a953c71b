"""Per-week state-distribution ratios ``w_t(s) = d_t^pi(s) / d_t^mu(s)``, learned from a log.

The marginal estimators (``mis``, ``mdr`` of :mod:`journeygym.ope.formulas`)
reweight week ``t``'s logged rows by how much more often the target policy
``pi`` than the logging policy ``mu`` reaches their state in week ``t``.  Both
policies start from the same customers, so ``w_0 = 1``; after that the ratio
follows the recursion of Xie, Ma & Wang (2019),

.. math::

    w_{t+1}(s') = E_\\mu[\\, w_t(s_t) \\rho_t \\mid s_{t+1} = s' \\,], \\qquad
    \\rho_t = \\pi(a_t \\mid s_t) / \\mu(a_t \\mid s_t),

exact when ``s`` is a Markov state (then ``d_{t+1}^pi(s') = sum_{s, a}
d_t^mu(s) mu(a | s) w_t(s) rho_t(a | s) P(s' | s, a)``).  Each week the
product ``w_t(s_t) rho_t`` of the customers logged in weeks ``t`` and
``t + 1`` is regressed on their week-``t + 1`` state; the fitted values are the
next week's ratios.  Only the log and the two policies' action probabilities
enter (``mu`` as logged, or as estimated from the log): never the simulator.

Two learners (:data:`RATIO_LEARNERS`):

* ``"regression"``: a gradient-boosting regressor with the Poisson loss (a
  log link, so ratios stay positive and multiplicative effects are
  additive) on the observation, one per week;
* ``"binned"``: the tabular recursion on a compressed state: each of its
  columns cut at its week's quantiles into ``n_bins`` bins, the ratio of a
  cell the mean of ``w_t rho_t`` over the cell's rows.  Its default state
  (:func:`compressed_state`) is the calibrated model's belief over the hidden
  engagement state (:mod:`journeygym.ope.belief`), summarized as its expected
  state, and the observation's e-mail fatigue: the engagement and the fatigue
  a campaign policy moves.  A reference for the regression: coarse, but
  without a regressor's choices.

A customer's observation is not a Markov state (the engagement is hidden), so
on this simulator the recursion is an approximation either way.  And a
deterministic target pins parts of the observation (the last action, the
fatigue) to values a uniform log seldom reaches after a few weeks: there the
ratios extrapolate from neighbouring states, and the clip bounds how far.

Every week's ratios are clipped at ``clip`` and then self-normalized to mean 1
over the week's logged rows (their expectation under ``mu`` is 1), before they
enter the next week's recursion; :class:`StateRatios` records the clip level
and how many rows it cut.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from journeygym.messages import did_you_mean
from journeygym.ope.episodes import LoggedEpisodes, OPEInputError
from journeygym.ope.target import checked_target_array
from journeygym.ope.weights import effective_sample_size, ratios_of_checked_target

__all__ = [
    "DEFAULT_BINS",
    "DEFAULT_RATIO_CLIP",
    "DEFAULT_RATIO_LEARNER",
    "RATIO_LEARNERS",
    "REGRESSOR_OPTIONS",
    "StateRatios",
    "belief_state",
    "check_ratio_clip",
    "check_ratio_learner",
    "clip_and_normalize",
    "compressed_state",
    "fit_state_ratios",
]

#: The ratio learners, by name.
RATIO_LEARNERS: tuple[str, ...] = ("regression", "binned")
DEFAULT_RATIO_LEARNER = "regression"
#: The largest state ratio kept, before each week's normalization to mean 1.  On four uniform logs of 2,000
#: customers (``benchmarks/bench_ope_marginal.py``, the offline preset's candidates) the regression
#: learner's ratios almost never reached it (under 0.005% of the rows); on two of them a clip of 10 cut 0.3%
#: of the rows and ranked the candidates worse by ``mdr`` (Spearman 0.66 against 0.73).
DEFAULT_RATIO_CLIP = 50.0
#: Quantile bins per column of the binned learner's state.
DEFAULT_BINS = 8
#: The regression learner's regressor: boosted trees with the Poisson loss, leaves of at least 200 rows, as
#: many trees (up to 100) as improve the loss on a held-out fifth of the week's rows.  Each week's fit feeds
#: the next, so its errors compound over the weeks; early stopping lets a weak signal (a real log) stop
#: near the week's mean while a strong one (the tests' exact MDP) is fitted to the end.  A fixed 20 trees
#: stayed 4% short of the true ratios' spread at 30,000 customers of the exact MDP.
REGRESSOR_OPTIONS: dict[str, Any] = {
    "loss": "poisson",
    "max_iter": 100,
    "max_leaf_nodes": 15,
    "learning_rate": 0.15,
    "min_samples_leaf": 200,
    "early_stopping": True,
    "validation_fraction": 0.2,
    "n_iter_no_change": 5,
}


@dataclass(frozen=True, eq=False)
class StateRatios:
    """A target policy's per-week state-distribution ratios on a log's rows.

    Attributes
    ----------
    ratios
        ``(N, H)`` ``w_t(s_t)`` at every logged week, clipped and normalized to
        mean 1 over each week's logged rows; 1 in padding (unused there).
    learner
        The learner's name (:data:`RATIO_LEARNERS`).
    clip
        The clip level (``inf``: none).
    clipped_share
        Share of the logged rows of weeks 1..H-1 whose learned ratio exceeded ``clip``.
    ess_share
        Kish's effective sample size of each week's ratios divided by the
        week's rows, averaged over the weeks (1: no reweighting).
    max_ratio
        The largest ratio after normalization.
    """

    ratios: np.ndarray
    learner: str
    clip: float
    clipped_share: float
    ess_share: float
    max_ratio: float

    def summary(self) -> dict[str, Any]:
        """Everything but the array, JSON-ready."""
        return {
            "learner": self.learner,
            "clip": self.clip,
            "clipped_share": self.clipped_share,
            "ess_share": self.ess_share,
            "max_ratio": self.max_ratio,
        }


def check_ratio_learner(learner: Any) -> str:
    """``learner`` if it names one of :data:`RATIO_LEARNERS`; else an :class:`OPEInputError` saying which exist."""
    if learner not in RATIO_LEARNERS:
        hint = did_you_mean(str(learner), RATIO_LEARNERS) if isinstance(learner, str) else ""
        raise OPEInputError(f"ratio_learner: received {learner!r}{hint}; expected one of {list(RATIO_LEARNERS)}.")
    return str(learner)


def check_ratio_clip(clip: Any) -> float:
    """``clip`` as a float if it is a number > 1 (``inf``: no clipping); else an :class:`OPEInputError`."""
    number = isinstance(clip, (int, float, np.integer, np.floating)) and not isinstance(clip, bool)
    if not number or math.isnan(clip) or clip <= 1.0:
        raise OPEInputError(
            f"ratio_clip: received {clip!r}, expected a number > 1 (the largest state ratio kept before each week's "
            f"normalization to mean 1, e.g. {DEFAULT_RATIO_CLIP:g}; inf keeps every ratio)."
        )
    return float(clip)


def clip_and_normalize(raw: np.ndarray, clip: float) -> tuple[np.ndarray, int]:
    """One week's ratios clipped at ``clip`` and divided by their mean; and how many were clipped.

    Raises
    ------
    OPEInputError
        If every ratio is 0 (no logged customer reaches a state the target reaches).
    """
    clipped = np.minimum(raw, clip)
    mean = float(clipped.mean()) if clipped.size else 0.0
    if not mean > 0.0:
        raise OPEInputError(
            "state ratios: every learned ratio of a week is 0, so no logged customer is where the target policy "
            "would be; the log cannot evaluate this policy with the marginal estimators. Use a log whose behavior "
            "explores the target's actions."
        )
    return clipped / mean, int(np.count_nonzero(raw > clip))


def _check_inputs(episodes: Any, target: Any, learner: str, action_names: Sequence[str] | None) -> np.ndarray:
    """The target checked against the log's action set and the log's weeks checked for gaps."""
    if not isinstance(episodes, LoggedEpisodes):
        raise OPEInputError(
            f"ratio learner {learner!r}: received {type(episodes).__name__}, expected LoggedEpisodes (read a log with "
            "journeygym.ope.episodes_from_frame)."
        )
    log_actions = list(episodes.action_names)
    if action_names is not None and tuple(action_names) != tuple(episodes.action_names):
        raise OPEInputError(
            f"ratio learner {learner!r}: the target policy acts on {list(action_names)}, but the log's actions are "
            f"{log_actions}; a log of another action set says nothing about this policy. Evaluate it on a log of its "
            "own actions, or a policy built for the log's."
        )
    shape = np.shape(target)
    if len(shape) == 3 and shape[:2] == (episodes.n_customers, episodes.horizon) and shape[2] != episodes.n_actions:
        raise OPEInputError(
            f"ratio learner {learner!r}: the target gives probabilities over {shape[2]} actions, but the log has "
            f"{episodes.n_actions} ({log_actions}); the target was computed for another action set. Compute it on "
            "this log with journeygym.ope.target_probabilities(policy, episodes) for a policy of the log's actions."
        )
    target = checked_target_array(target, episodes, f"ratio learner {learner!r}: target")
    gaps = episodes.mask[:, 1:] & ~episodes.mask[:, :-1]
    if gaps.any():
        customer, before = (int(v) for v in np.argwhere(gaps)[0])
        week = before + 1
        logged = np.flatnonzero(episodes.mask[customer]).tolist()
        where = (
            f"week {before} has no logged row at all, but week {week} has {int(episodes.mask[:, week].sum())}"
            if not episodes.mask[:, before].any()
            else f"customer_id {int(episodes.customer_ids[customer])} has no row in week {before} but one in week "
            f"{week} (its logged weeks: {logged[:12]}{' ...' if len(logged) > 12 else ''})"
        )
        raise OPEInputError(
            f"ratio learner {learner!r}: {where}; expected every customer's weeks 0, 1, ..., L-1 without gaps: the "
            f"ratio of week {week} is learned from week {before}'s rows. Drop the customers with a missing week, or "
            "their weeks after the gap."
        )
    if episodes.behavior_probabilities is None:
        raise OPEInputError(
            f"ratio learner {learner!r}: the log has no behavior propensities; read a log with propensity columns or "
            "estimate them with journeygym.ope.estimate_behavior_policy(episodes) first."
        )
    return target


def compressed_state(episodes: LoggedEpisodes, beliefs: np.ndarray) -> np.ndarray:
    """``(N, H, 2)`` the binned learner's default state: the belief's expected hidden state and the fatigue.

    Parameters
    ----------
    episodes
        The log (its observations must have the env's ``fatigue`` column).
    beliefs
        ``(N, H, K)`` the filter's belief over the K hidden states
        (:func:`journeygym.ope.belief.belief_features`); the expected state is
        ``sum_k k b_k / (K - 1)``, in [0, 1].
    """
    beliefs = np.asarray(beliefs, dtype=np.float64)
    expected = beliefs @ np.arange(beliefs.shape[2], dtype=np.float64) / max(beliefs.shape[2] - 1, 1)
    fatigue = episodes.observations[:, :, episodes.observation_names.index("fatigue")]
    return np.stack([expected, fatigue.astype(np.float64)], axis=2)


def belief_state(episodes: LoggedEpisodes, artifact: Any = None, scenario: Any = None) -> np.ndarray:
    """:func:`compressed_state` of the belief under ``artifact`` and ``scenario`` (the binned learner's default).

    Raises
    ------
    OPEInputError
        If the belief cannot be filtered (a log of another action set than the artifact's, or of other columns).
    """
    from journeygym.ope.belief import belief_features

    try:
        beliefs = belief_features(episodes, artifact, scenario)
    except OPEInputError as exc:
        raise OPEInputError(
            f"ratio learner 'binned': its default state is the calibrated model's belief, which failed: {exc} Pass "
            "state_features of your own (N, H, K), or use ratio_learner='regression'."
        ) from exc
    return compressed_state(episodes, beliefs)


def _checked_state(state: Any, episodes: LoggedEpisodes, learner: str) -> np.ndarray:
    array = np.asarray(state)
    expected = (episodes.n_customers, episodes.horizon)
    if array.ndim != 3 or array.shape[:2] != expected or array.dtype.kind not in "fiub" or not np.isfinite(array).all():
        raise OPEInputError(
            f"ratio learner {learner!r}: received state_features of dtype {array.dtype} and shape {array.shape}, "
            f"expected finite numbers of shape ({expected[0]}, {expected[1]}, K) (customers, weeks, features)."
        )
    return array.astype(np.float64)


def _week_seed(seed: int, week: int) -> int:
    return int(np.random.SeedSequence([int(seed), int(week), 23]).generate_state(1)[0])


Predictor = Callable[[int, np.ndarray, np.ndarray], np.ndarray]


def _regression(observations: np.ndarray, state: np.ndarray | None, seed: int, n_threads: int | None) -> Predictor:
    """Week ``t``'s fitted values of ``targets`` regressed on the rows' observations (and state), boosted trees."""
    from contextlib import nullcontext

    from sklearn.ensemble import HistGradientBoostingRegressor
    from threadpoolctl import threadpool_limits

    def predict(week: int, rows: np.ndarray, targets: np.ndarray) -> np.ndarray:
        inputs = observations[rows, week].astype(np.float64)
        if state is not None:
            inputs = np.hstack([inputs, state[rows, week]])
        regressor = HistGradientBoostingRegressor(**REGRESSOR_OPTIONS, random_state=_week_seed(seed, week))
        with nullcontext() if n_threads is None else threadpool_limits(limits=n_threads):
            return regressor.fit(inputs, targets).predict(inputs)

    return predict


def _cells(columns: np.ndarray, n_bins: int) -> np.ndarray:
    """``(n,)`` the cell of each row: every column cut at its own quantiles into at most ``n_bins`` bins."""
    levels = np.linspace(0.0, 1.0, n_bins + 1)[1:-1]
    bins = np.empty(columns.shape, dtype=np.int64)
    sizes = []
    for k in range(columns.shape[1]):  # a handful of state columns
        edges = np.unique(np.quantile(columns[:, k], levels))
        bins[:, k] = np.searchsorted(edges, columns[:, k], side="right")
        sizes.append(edges.size + 1)
    return np.ravel_multi_index(tuple(bins.T), tuple(sizes))


def _binned(state: np.ndarray, n_bins: int) -> Predictor:
    """Week ``t``'s mean of ``targets`` over the rows of each cell of the binned ``state[rows, t]``."""

    def predict(week: int, rows: np.ndarray, targets: np.ndarray) -> np.ndarray:
        _, cell = np.unique(_cells(state[rows, week], n_bins), return_inverse=True)
        sums = np.bincount(cell, weights=targets)
        counts = np.bincount(cell)
        return (sums / counts)[cell]

    return predict


def _recursion(episodes: LoggedEpisodes, rho: np.ndarray, clip: float, predict: Predictor) -> tuple[np.ndarray, int]:
    """``(N, H)`` ratios by the forward recursion from ``w_0 = 1``, and the number of rows clipped."""
    ratios = np.ones((episodes.n_customers, episodes.horizon))
    clipped = 0
    for week in range(1, episodes.horizon):
        rows = np.flatnonzero(episodes.mask[:, week])  # logged in the week before too: no gaps
        if rows.size == 0:
            break  # trailing weeks without rows: nothing to learn or to weigh
        targets = ratios[rows, week - 1] * rho[rows, week - 1]
        if not np.any(targets > 0.0):
            raise OPEInputError(
                f"state ratios: in week {week - 1} none of the {rows.size} customers logged in week {week} took an "
                "action the target policy would take where it would be (every w_t rho_t is 0), so every ratio of "
                f"week {week} is 0 and the log cannot evaluate this policy with the marginal estimators. Use a log "
                "whose behavior explores the target's actions."
            )
        if np.ptp(targets) == 0.0:  # constant (e.g. the target is the behavior): so is its regression
            raw = np.full(rows.size, targets[0])
        else:
            raw = np.maximum(predict(week, rows, targets), 0.0)
        ratios[rows, week], count = clip_and_normalize(raw, clip)
        clipped += count
    return ratios, clipped


def fit_state_ratios(
    episodes: LoggedEpisodes,
    target: np.ndarray,
    *,
    learner: str = DEFAULT_RATIO_LEARNER,
    clip: float = DEFAULT_RATIO_CLIP,
    state_features: np.ndarray | None = None,
    n_bins: int = DEFAULT_BINS,
    action_names: Sequence[str] | None = None,
    artifact: Any = None,
    scenario: Any = None,
    seed: int = 0,
    n_threads: int | None = 1,
) -> StateRatios:
    """Learn a target policy's per-week state-distribution ratios from the log (see the module docstring).

    Parameters
    ----------
    episodes
        The log, with behavior propensities (logged or estimated), every
        customer's weeks without gaps.
    target
        ``(N, H, A)`` the target policy's action probabilities on the logged
        observations (:func:`journeygym.ope.target_probabilities`).
    learner
        ``"regression"`` or ``"binned"`` (:data:`RATIO_LEARNERS`).
    clip
        The largest ratio kept before each week's normalization, > 1 (``inf``: none).
    state_features
        ``(N, H, K)`` the state the ``"binned"`` learner bins (default
        :func:`compressed_state` of the belief under ``artifact`` and
        ``scenario``); the ``"regression"`` learner appends them to the
        observation (default: the observation alone).
    n_bins
        Quantile bins per state column of the ``"binned"`` learner, >= 2.
    action_names
        The actions the target policy was built for, checked against the log's (default: not checked).
    artifact, scenario
        The model of the belief filter (default the shipped artifact and the
        scenario the log records); only for the ``"binned"`` learner's default state.
    seed
        Seeds the regressors.
    n_threads
        Threads of the regressors' OpenMP pool (None: the library's default).

    Returns
    -------
    StateRatios

    Raises
    ------
    OPEInputError
        For an unknown learner, a clip level <= 1, bad n_bins, seed or n_threads, a target of another action
        set or of the wrong shape, a log with a missing week (a customer's gap,
        or a week without rows followed by one with rows) or without
        propensities, state features of the wrong shape, or a week where no
        logged customer is where the target would be.
    """
    learner = check_ratio_learner(learner)
    clip = check_ratio_clip(clip)
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 2:
        raise OPEInputError(f"n_bins: received {n_bins!r}, expected an integer >= 2 (quantile bins per state column).")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise OPEInputError(f"seed: received {seed!r}, expected a non-negative integer.")
    integer = isinstance(n_threads, (int, np.integer)) and not isinstance(n_threads, bool)
    if n_threads is not None and (not integer or n_threads < 1):
        raise OPEInputError(f"n_threads: received {n_threads!r}, expected a positive integer or None.")
    target = _check_inputs(episodes, target, learner, action_names)
    state = None if state_features is None else _checked_state(state_features, episodes, learner)
    if learner == "binned":
        predict = _binned(belief_state(episodes, artifact, scenario) if state is None else state, int(n_bins))
    else:
        predict = _regression(episodes.observations, state, seed, n_threads)
    ratios, clipped = _recursion(episodes, ratios_of_checked_target(episodes, target), clip, predict)
    later = episodes.mask[:, 1:]
    ess = effective_sample_size(ratios, episodes.mask) / np.maximum(episodes.mask.sum(axis=0), 1)
    logged = episodes.mask.any(axis=0)
    return StateRatios(
        ratios=ratios,
        learner=learner,
        clip=clip,
        clipped_share=float(clipped / later.sum()) if later.any() else 0.0,
        ess_share=float(ess[logged].mean()),
        max_ratio=float(ratios[episodes.mask].max()),
    )
