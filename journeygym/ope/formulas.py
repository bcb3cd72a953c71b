"""The off-policy estimators' formulas, each written once as sums over customers.

Every estimator of :mod:`journeygym.ope.estimators` has the form

.. math::

    \\hat V = \\sum_k \\frac{\\sum_i X_{ik}}{\\sum_i Z_{ik}}

over customers ``i`` and columns ``k`` (weeks, or one column for a whole
trajectory): :class:`EstimatorTerms` holds the numerators ``X`` and the
normalizers ``Z``.  A plain estimator is a mean over customers (``Z = 1``, so
the denominator is N and the per-customer terms ``sum_k X_ik`` are i.i.d.); a
self-normalized (weighted) one divides by the sum of the importance weights.
Writing both the same way lets the bootstrap (:mod:`journeygym.ope.bootstrap`)
recompute every estimator from resampling counts with one matrix product.

Notation (all arrays ``(N, H)``, padding weeks contribute nothing):

* ``rho_t = pi(a_t | s_t) / mu(a_t | s_t)``, 1 in padding;
* ``w_{0:t} = prod_{u <= t} rho_u`` (:func:`cumulative_ratios`), ``w_{0:-1} = 1``;
* ``gamma^t r_t``, 0 in padding;
* ``Q-hat_t(s_t, a_t)`` and ``V-hat_t(s_t) = sum_a pi(a | s_t) Q-hat_t(s_t, a)``, 0 in padding;
* ``u_t = w_t(s_t) rho_t``, the marginal state-action ratio: the week's state-distribution ratio
  ``w_t(s) = d_t^pi(s) / d_t^mu(s)`` (learned by :mod:`journeygym.ope.ratios`) times the week's
  single-step ratio; ``u_{-1} = 1``.

The marginal estimators are the per-decision ones with ``u_t`` in place of the
cumulative product ``w_{0:t}``: both have the expectation of ``w_{0:t}`` given
``(s_t, a_t)``, so ``mis`` is ``pdis`` and ``mdr`` is ``dr`` with the product's
variance over the whole history replaced by a ratio of one week's states.

References
----------
Precup, Sutton & Singh (2000), *Eligibility traces for off-policy policy
evaluation*, ICML (trajectory-wise and per-decision importance sampling).
Jiang & Li (2016), *Doubly robust off-policy value evaluation for
reinforcement learning*, ICML (per-decision doubly robust).
Thomas & Brunskill (2016), *Data-efficient off-policy policy evaluation for
reinforcement learning*, ICML (weighted doubly robust; MAGIC, the blend of
truncated doubly robust estimators).
Xie, Ma & Wang (2019), *Towards optimal off-policy evaluation for reinforcement
learning with marginalized importance sampling*, NeurIPS (``mis``).
Kallus & Uehara (2020), *Double reinforcement learning for efficient
off-policy evaluation in Markov decision processes*, JMLR (``mdr``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from journeygym.ope.episodes import LoggedEpisodes, OPEInputError
from journeygym.ope.weights import cumulative_weights, importance_ratios, ratios_of_checked_target

__all__ = [
    "ESTIMATORS",
    "IMPORTANCE_ESTIMATORS",
    "MARGINAL_ESTIMATORS",
    "MEAN_ESTIMATORS",
    "MODEL_ESTIMATORS",
    "ColumnMoments",
    "EstimatorTerms",
    "ReweightedLog",
    "cumulative_ratios",
    "discount_factors",
    "distinct_truncations",
    "estimator_terms",
    "magic_blend",
    "magic_weights",
    "truncated_doubly_robust",
    "ratio_of_sums",
    "reweighted_log",
]

#: Every estimator, by name: direct method, importance sampling (trajectory-wise, self-normalized, per-decision,
#: weighted per-decision), doubly robust (per-decision, weighted, and MAGIC's blend of truncations), and the
#: marginal ones on per-week state-distribution ratios (importance sampling and doubly robust).
ESTIMATORS: tuple[str, ...] = ("dm", "is", "wis", "pdis", "wpdis", "dr", "wdr", "magic", "mis", "mdr")
#: The estimators that need only the propensities (no value model, no state ratios).
IMPORTANCE_ESTIMATORS: tuple[str, ...] = ("is", "wis", "pdis", "wpdis")
#: The estimators that need a fitted Q-hat (``q_values``).
MODEL_ESTIMATORS: tuple[str, ...] = ("dm", "dr", "wdr", "magic", "mdr")
#: The estimators that need the per-week state-distribution ratios (``state_ratios``).
MARGINAL_ESTIMATORS: tuple[str, ...] = ("mis", "mdr")
#: The estimators that are means of per-customer terms (the others are ratios of sums).  MAGIC's
#: terms are a mean for its blending weights, which are chosen on the same log; the marginal ones
#: for their state ratios, which are learned on the same log.
MEAN_ESTIMATORS: tuple[str, ...] = ("dm", "is", "pdis", "dr", "magic", "mis", "mdr")
#: MAGIC's bias estimate of a truncation is its distance to this central interval of the full ``dr``.  Thomas &
#: Brunskill take a bootstrap interval; a normal one from the per-customer terms needs no resampling, and the
#: ``dr`` terms are a mean over customers.
MAGIC_INTERVAL = 0.9


@dataclass(frozen=True)
class EstimatorTerms:
    """An estimator as ``sum_k (sum_i numerators[i, k]) / (sum_i normalizers[i, k])``.

    Attributes
    ----------
    numerators
        ``(N, K)`` each customer's contribution to each column's numerator.
    normalizers
        ``(N, K)`` each customer's contribution to each column's denominator,
        or None for a mean over customers (every denominator is N); then
        ``K == 1`` and :attr:`per_customer` are the i.i.d. terms averaged.
    """

    numerators: np.ndarray
    normalizers: np.ndarray | None

    @property
    def per_customer(self) -> np.ndarray:
        """``(N,)`` the terms whose mean is the estimate (mean estimators only)."""
        if self.normalizers is not None:
            raise ValueError("a self-normalized estimator is a ratio of sums, not a mean of per-customer terms.")
        return self.numerators[:, 0]

    def value(self) -> float:
        """The estimate on the log itself (every customer counted once)."""
        normalizer_sums = None if self.normalizers is None else self.normalizers.sum(axis=0)
        return float(ratio_of_sums(self.numerators.sum(axis=0), normalizer_sums, self.numerators.shape[0]))

    def block(self, customers: slice) -> EstimatorTerms:
        """The terms of a block of customers (views)."""
        return EstimatorTerms(self.numerators[customers], None if self.normalizers is None else self.normalizers[customers])


def ratio_of_sums(numerator_sums: np.ndarray, normalizer_sums: np.ndarray | None, n_customers: int) -> np.ndarray:
    """``sum_k numerator_sums[..., k] / normalizer_sums[..., k]`` (None: ``/ n_customers``).

    A column whose normalizers sum to 0 (no customer followed the target that
    far) contributes 0: its numerators, weighted by the same zero weights, are 0 too.
    """
    if normalizer_sums is None:
        return numerator_sums.sum(axis=-1) / n_customers
    safe = np.where(normalizer_sums > 0, normalizer_sums, 1.0)
    return np.where(normalizer_sums > 0, numerator_sums / safe, 0.0).sum(axis=-1)


def cumulative_ratios(episodes: LoggedEpisodes, target: np.ndarray) -> np.ndarray:
    """``(N, H)`` cumulative importance weights ``w_{0:t} = prod_{u <= t} pi(a_u | s_u) / mu(a_u | s_u)``.

    Padding weeks have ratio 1, so a customer's weight stays that of their last week.

    Raises
    ------
    OPEInputError
        If a product overflows (propensities so small that the weights are not finite).
    """
    return _finite_cumulative(episodes, importance_ratios(episodes, target))


def _finite_cumulative(episodes: LoggedEpisodes, ratios: np.ndarray) -> np.ndarray:
    """:func:`cumulative_ratios` from the per-decision ratios (computed once per target by :func:`reweighted_log`)."""
    with np.errstate(over="ignore"):
        cumulative = cumulative_weights(ratios)
    if not np.isfinite(cumulative).all():
        customer = int(np.flatnonzero(~np.isfinite(cumulative).all(axis=1))[0])
        raise OPEInputError(
            f"importance weights overflow for customer {int(episodes.customer_ids[customer])} (smallest logged "
            f"propensity {episodes.logged_propensities[customer][episodes.mask[customer]].min():.3g}); the target "
            "policy is too far from the behavior for importance sampling. Use the direct method or a shorter horizon."
        )
    return cumulative


@dataclass(frozen=True)
class ReweightedLog:
    """What every estimator reads, computed once per target policy (all ``(N, H)``, 0 in padding).

    Attributes
    ----------
    cumulative
        ``w_{0:t}`` (:func:`cumulative_ratios`).
    discount
        ``(H,)`` ``gamma^t``.
    discounted_rewards
        ``gamma^t r_t``.
    logged_q
        ``Q-hat_t(s_t, a_t)``, or None without a value model.
    state_values
        ``V-hat_t(s_t) = sum_a pi(a | s_t) Q-hat_t(s_t, a)``, or None without a value model.
    marginal
        ``u_t = w_t(s_t) rho_t``, the state ratio times the week's ratio, or None without state ratios.
    """

    cumulative: np.ndarray
    discount: np.ndarray
    discounted_rewards: np.ndarray
    logged_q: np.ndarray | None
    state_values: np.ndarray | None
    marginal: np.ndarray | None = None

    def shifted(self, reward_lower_bound: float) -> ReweightedLog:
        """The same log with every week's reward (padding included) shifted by ``-reward_lower_bound``.

        The importance-sampling terms of the shifted log are non-negative when
        every reward is at least ``reward_lower_bound``; their expectation is
        the value minus ``reward_lower_bound * sum_t gamma^t``.
        """
        return replace(self, discounted_rewards=self.discounted_rewards - reward_lower_bound * self.discount)


def discount_factors(gamma: float, horizon: int) -> np.ndarray:
    """``(H,)`` ``gamma^t`` for ``t = 0 .. H-1``."""
    return gamma ** np.arange(horizon, dtype=np.float64)


def reweighted_log(
    episodes: LoggedEpisodes,
    target: np.ndarray,
    q_values: np.ndarray | None,
    gamma: float,
    state_ratios: np.ndarray | None = None,
) -> ReweightedLog:
    """Weights, discounted rewards and model values of a log for one target (inputs already checked).

    ``state_ratios`` are the ``(N, H)`` per-week state-distribution ratios ``w_t(s_t)``
    (:mod:`journeygym.ope.ratios`), needed by :data:`MARGINAL_ESTIMATORS` only.
    """
    discount = discount_factors(gamma, episodes.horizon)
    logged_q = state_values = marginal = None
    if q_values is not None:
        # Masked after the reduction over actions: no (N, H, A) copy of Q-hat.
        logged_q = np.take_along_axis(q_values, episodes.actions[:, :, None], axis=2)[:, :, 0]
        logged_q[~episodes.mask] = 0.0
        state_values = np.einsum("nha,nha->nh", target, q_values)
        state_values[~episodes.mask] = 0.0
    ratios = ratios_of_checked_target(episodes, target)
    if state_ratios is not None:
        marginal = state_ratios * ratios
        marginal[~episodes.mask] = 0.0
    discounted_rewards = np.where(episodes.mask, episodes.rewards, 0.0)
    discounted_rewards *= discount
    return ReweightedLog(
        cumulative=_finite_cumulative(episodes, ratios),
        discount=discount,
        discounted_rewards=discounted_rewards,
        logged_q=logged_q,
        state_values=state_values,
        marginal=marginal,
    )


def _previous(weights: np.ndarray) -> np.ndarray:
    """``(N, H)`` the weights of the week before (1 before week 0)."""
    return np.concatenate([np.ones_like(weights[:, :1]), weights[:, :-1]], axis=1)


def _doubly_robust_parts(weights: np.ndarray, log: ReweightedLog) -> tuple[np.ndarray, np.ndarray]:
    """``(N, H)`` corrections ``gamma^t u_t (r_t - Q-hat_t)`` and baselines ``gamma^t u_{t-1} V-hat_t``.

    ``u`` is ``weights``: the cumulative ``w_{0:t}`` for ``dr``, the marginal
    ``w_t(s_t) rho_t`` for ``mdr``.  Their sum over weeks telescopes to
    ``V-hat_0(s_0) + sum_t gamma^t u_t (r_t + gamma V-hat_{t+1}(s_{t+1}) - Q-hat_t(s_t, a_t))``.
    """
    corrections = weights * (log.discounted_rewards - log.discount * log.logged_q)
    baselines = _previous(weights) * (log.discount * log.state_values)
    return corrections, baselines


def truncated_doubly_robust(log: ReweightedLog) -> np.ndarray:
    """``(N, H + 1)`` per-customer doubly robust terms truncated after ``j`` weeks of correction, ``j = 0..H``.

    ``g_j = sum_{t < j} gamma^t [w_{0:t} (r_t - Q-hat_t) + w_{0:t-1} V-hat_t] + gamma^j w_{0:j-1} V-hat_j``:
    the importance-weighted corrections of the first ``j`` weeks and the model's
    value from week ``j`` on.  Column 0 is ``dm``'s terms, column H ``dr``'s.
    """
    corrections, baselines = _doubly_robust_parts(log.cumulative, log)
    truncated = np.zeros((corrections.shape[0], corrections.shape[1] + 1))
    np.cumsum(corrections, axis=1, out=truncated[:, 1:])  # in place: a year of weeks for a million customers
    del corrections
    np.cumsum(baselines, axis=1, out=baselines)
    truncated[:, :-1] += baselines
    truncated[:, -1] += baselines[:, -1]
    return truncated


@dataclass(frozen=True)
class ColumnMoments:
    """The means and sample covariance of the columns of an ``(n, K)`` array, mergeable over blocks of rows.

    Attributes
    ----------
    count
        The rows n.
    means
        ``(K,)`` the columns' means.
    covariance
        ``(K, K)`` their sample covariance (``numpy.cov``, divisor ``n - 1``; zeros for one row).
    """

    count: int
    means: np.ndarray
    covariance: np.ndarray

    @classmethod
    def of(cls, columns: np.ndarray) -> ColumnMoments:
        """The moments of the rows of ``columns``."""
        n, k = columns.shape
        covariance = np.atleast_2d(np.cov(columns, rowvar=False)) if n > 1 else np.zeros((k, k))
        return cls(n, columns.mean(axis=0), covariance)

    def merged(self, other: ColumnMoments) -> ColumnMoments:
        """The moments of both blocks' rows together (the pairwise update of Chan, Golub & LeVeque 1979)."""
        count = self.count + other.count
        delta = other.means - self.means
        comoments = (
            self.covariance * (self.count - 1)
            + other.covariance * (other.count - 1)
            + np.outer(delta, delta) * (self.count * other.count / count)
        )
        return ColumnMoments(count, self.means + delta * (other.count / count), comoments / (count - 1))

    def columns(self, keep: np.ndarray) -> ColumnMoments:
        """The moments of the columns ``keep`` (a boolean mask or an index)."""
        return ColumnMoments(self.count, self.means[keep], self.covariance[np.ix_(keep, keep)])


def distinct_truncations(truncated: np.ndarray) -> np.ndarray:
    """``(H + 1,)`` bool: the truncations that differ from the one before for some customer (the first always).

    A truncation equal to the one before adds nothing to MAGIC's blend (no weight, or padding, that far).
    """
    return np.concatenate([[True], np.any(truncated[:, 1:] != truncated[:, :-1], axis=0)])


def magic_weights(truncated: np.ndarray) -> np.ndarray:
    """MAGIC's blend of the columns of ``truncated``: :func:`magic_blend` of their :class:`ColumnMoments`."""
    return magic_blend(ColumnMoments.of(truncated))


def magic_blend(moments: ColumnMoments) -> np.ndarray:
    """MAGIC's blend (Thomas & Brunskill 2016) of the truncated estimators: weights on the simplex.

    With ``g`` the means of the truncations' per-customer terms (:func:`truncated_doubly_robust`),
    ``Omega`` their covariance (the columns' sample covariance over customers,
    divided by N) and ``b_j`` the distance of ``g_j`` to the central
    :data:`MAGIC_INTERVAL` normal interval of the full estimate ``g_H`` (an
    estimate of each truncation's bias), the weights minimize the estimated
    mean squared error ``x' (Omega + b b') x`` over ``x >= 0``, ``sum x = 1``.
    Under little overlap the weights fall on short truncations (close to
    ``dm``); where the weights are well behaved, on long ones (close to ``dr``).
    """
    from scipy.optimize import minimize
    from scipy.stats import norm

    n, k = moments.count, moments.means.size
    means = moments.means
    covariance = moments.covariance / n
    half_width = float(norm.ppf(0.5 + MAGIC_INTERVAL / 2.0)) * float(np.sqrt(max(covariance[-1, -1], 0.0)))
    bias = np.maximum(means[-1] - half_width - means, 0.0) + np.maximum(means - means[-1] - half_width, 0.0)
    objective = covariance + np.outer(bias, bias)
    scale = float(np.max(np.diag(objective)))
    if not np.isfinite(scale) or scale <= 0.0:
        return np.full(k, 1.0 / k)
    objective = objective / scale
    start = np.zeros(k)
    start[int(np.argmin(np.diag(objective)))] = 1.0
    solution = minimize(
        lambda x: float(x @ objective @ x),
        start,
        jac=lambda x: 2.0 * objective @ x,
        bounds=[(0.0, 1.0)] * k,
        constraints=({"type": "eq", "fun": lambda x: float(x.sum() - 1.0), "jac": lambda x: np.ones_like(x)},),
        method="SLSQP",
        options={"ftol": 1e-12, "maxiter": 500},
    )
    weights = np.clip(solution.x, 0.0, None)
    return weights / weights.sum()


def _mean(numerators: np.ndarray) -> EstimatorTerms:
    return EstimatorTerms(numerators.sum(axis=1, keepdims=True), None)


def estimator_terms(name: str, log: ReweightedLog) -> EstimatorTerms:
    """The numerators and normalizers of estimator ``name`` (one of :data:`ESTIMATORS`).

    * ``dm``: ``mean_i V-hat_0(s_0)``.
    * ``is`` / ``wis``: ``w_{0:H-1} G`` with ``G = sum_t gamma^t r_t``; divided by N or by ``sum_i w_{0:H-1}``.
    * ``pdis`` / ``wpdis``: ``sum_t gamma^t w_{0:t} r_t``; per week divided by N or by ``sum_i w_{0:t}``.
    * ``dr`` / ``wdr``: ``sum_t gamma^t [w_{0:t} (r_t - Q-hat_t(s_t, a_t)) + w_{0:t-1} V-hat_t(s_t)]``;
      each of the two parts per week divided by N, or by ``sum_i w_{0:t}`` and ``sum_i w_{0:t-1}``.
    * ``magic``: ``sum_j x_j g_j`` over the truncations of :func:`truncated_doubly_robust`, with
      :func:`magic_weights` ``x`` chosen on the log.
    * ``mis``: ``sum_t gamma^t u_t r_t`` with ``u_t = w_t(s_t) rho_t`` (``pdis`` with ``u_t`` for
      ``w_{0:t}``; Xie, Ma & Wang 2019), divided by N.
    * ``mdr``: ``sum_t gamma^t [u_t (r_t - Q-hat_t(s_t, a_t)) + u_{t-1} V-hat_t(s_t)]`` (``dr`` with
      ``u_t`` for ``w_{0:t}``), divided by N: Kallus & Uehara's (2020) double reinforcement learning
      form ``V-hat_0(s_0) + sum_t gamma^t u_t (r_t + gamma V-hat_{t+1}(s_{t+1}) - Q-hat_t(s_t, a_t))``.
      Unbiased when the ratios are the true ones (whatever Q-hat), or when Q-hat is the target's true
      Q in a Markov state (whatever the ratios: each week's temporal-difference error then has mean 0
      given ``(s_t, a_t)``).  The state-ratio form ``w_t(s_t) [rho_t (r_t - Q-hat_t) + V-hat_t]``
      would also need the ratios to satisfy the recursion ``w_{t+1}(s') = E[w_t rho_t | s_{t+1} = s']``
      for its model terms to cancel, so it is not doubly robust in the ratios; this one is.
    """
    if name in MODEL_ESTIMATORS and (log.logged_q is None or log.state_values is None):
        raise OPEInputError(f"estimator {name!r} needs q_values (a fitted Q-hat); none were given.")
    if name in MARGINAL_ESTIMATORS and log.marginal is None:
        raise OPEInputError(f"estimator {name!r} needs state_ratios (per-week state-distribution ratios); none were given.")
    if name == "dm":
        return EstimatorTerms(log.state_values[:, :1].copy(), None)
    if name in ("is", "wis"):
        final = log.cumulative[:, -1:]
        numerators = final * log.discounted_rewards.sum(axis=1, keepdims=True)
        return _mean(numerators) if name == "is" else EstimatorTerms(numerators, final)
    if name in ("pdis", "wpdis", "mis"):
        weights = log.marginal if name == "mis" else log.cumulative
        numerators = weights * log.discounted_rewards
        return EstimatorTerms(numerators, log.cumulative) if name == "wpdis" else _mean(numerators)
    if name in ("dr", "wdr", "mdr"):
        weights = log.marginal if name == "mdr" else log.cumulative
        numerators = np.concatenate(_doubly_robust_parts(weights, log), axis=1)
        if name != "wdr":
            return _mean(numerators)
        return EstimatorTerms(numerators, np.concatenate([log.cumulative, _previous(log.cumulative)], axis=1))
    if name == "magic":
        truncated = truncated_doubly_robust(log)
        distinct = distinct_truncations(truncated)
        if not distinct.all():
            truncated = truncated[:, distinct]
        return EstimatorTerms((truncated @ magic_weights(truncated))[:, None], None)
    raise ValueError(f"unknown estimator {name!r}; expected one of {list(ESTIMATORS)}.")
