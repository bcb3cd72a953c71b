"""Off-policy estimates of a target policy's value from a log, with bootstrap intervals and lower bounds.

:func:`estimate_all` computes, for one target policy, any of the estimators of
:data:`ESTIMATORS` (formulas in :mod:`journeygym.ope.formulas`):

* ``dm``, the direct method: ``mean_i V-hat_0(s_0)`` from a fitted Q-hat;
* ``is`` and ``wis``, trajectory-wise importance sampling and its
  self-normalized form (Precup, Sutton & Singh 2000);
* ``pdis`` and ``wpdis``, per-decision importance sampling and its weighted
  form (Precup, Sutton & Singh 2000);
* ``dr``, per-decision doubly robust (Jiang & Li 2016), and ``wdr``, weighted
  doubly robust (Thomas & Brunskill 2016);
* ``magic``, MAGIC (Thomas & Brunskill 2016): the blend of the doubly robust
  estimators truncated after 0..H weeks of importance-weighted correction
  that minimizes their estimated mean squared error; under little overlap it
  stays close to ``dm``, under much it moves to ``dr``;
* ``mis``, marginalized importance sampling (Xie, Ma & Wang 2019), and
  ``mdr``, the doubly robust estimator on the same ratios (Kallus & Uehara
  2020): ``pdis`` and ``dr`` with each week's state-distribution ratio
  ``w_t(s_t)`` (:mod:`journeygym.ope.ratios`) times the week's single-step
  ratio in place of the product of every ratio so far.

The terms are computed a block of customers at a time
(:mod:`journeygym.ope.estimator_sums`), so a log of a million customers needs
no ``(N, H)`` array per estimator.  Each :class:`Estimate` carries a bootstrap interval over customers
(:mod:`journeygym.ope.bootstrap`; the Q-hat and the state ratios are not refit
and MAGIC's weights are not chosen again per replicate), a
one-sided Student-t lower bound for the estimators that are means of
per-customer terms, and for ``is`` and ``pdis`` the high-confidence bound of
Thomas, Theocharous & Ghavamzadeh (2015) (:mod:`journeygym.ope.bounds`), valid
when every reward is at least ``reward_lower_bound`` and the logged
propensities are the true ones.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from journeygym.messages import did_you_mean
from journeygym.ope.bootstrap import percentile_interval
from journeygym.ope.bounds import concentration_lower_bound
from journeygym.ope.episodes import LoggedEpisodes, OPEInputError
from journeygym.ope.estimator_sums import CONCENTRATION_ESTIMATORS, blocked_sums, t_bound
from journeygym.ope.formulas import (
    ESTIMATORS,
    IMPORTANCE_ESTIMATORS,
    MARGINAL_ESTIMATORS,
    MEAN_ESTIMATORS,
    MODEL_ESTIMATORS,
    discount_factors,
)
from journeygym.ope.ratios import StateRatios
from journeygym.ope.target import checked_target_array

__all__ = [
    "CONCENTRATION_ESTIMATORS",
    "ESTIMATORS",
    "IMPORTANCE_ESTIMATORS",
    "MARGINAL_ESTIMATORS",
    "MEAN_ESTIMATORS",
    "MODEL_ESTIMATORS",
    "Estimate",
    "check_estimators",
    "estimate",
    "estimate_all",
    "reward_floor",
]



@dataclass(frozen=True)
class Estimate:
    """One estimator's estimate of one policy's value.

    Attributes
    ----------
    estimator, policy
        The estimator's name (:data:`ESTIMATORS`) and the target policy's.
    value
        The point estimate (expected discounted return per customer).
    low, high
        The central ``confidence`` bootstrap percentile interval, resampling customers.
    standard_error
        The standard deviation of the bootstrap replicates.
    lower_bound_t
        One-sided Student-t lower bound at ``confidence`` on the per-customer
        terms (``dm``, ``is``, ``pdis``, ``dr``, ``magic`` with its blending
        weights held fixed, ``mis`` and ``mdr`` with their state ratios held
        fixed); None for the self-normalized estimators.
    lower_bound_concentration
        High-confidence lower bound (Thomas et al. 2015) for ``is`` and
        ``pdis`` when ``reward_lower_bound`` was given; None otherwise.
    n_customers, n_bootstrap, confidence, gamma, reward_lower_bound, seed
        How it was computed.
    propensities_estimated
        True when the log's propensities were estimated, not logged: the
        importance weights, intervals and bounds are then approximate.
    ratio_learner, ratio_clip
        For ``mis`` and ``mdr``: the learner of the state ratios
        (:data:`~journeygym.ope.ratios.RATIO_LEARNERS`, or ``"given"`` for
        ratios passed as an array) and their clip level (None when given as
        an array); None for the other estimators.
    """

    estimator: str
    policy: str
    value: float
    low: float
    high: float
    standard_error: float
    lower_bound_t: float | None
    lower_bound_concentration: float | None
    n_customers: int
    n_bootstrap: int
    confidence: float
    gamma: float
    reward_lower_bound: float | None
    seed: int
    propensities_estimated: bool
    ratio_learner: str | None = None
    ratio_clip: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """The fields as JSON-ready Python values."""
        return asdict(self)


def _is_number(value: Any) -> bool:
    numeric = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    return numeric and math.isfinite(value)


def _check_array(label: str, array: Any, episodes: LoggedEpisodes) -> np.ndarray:
    expected = (episodes.n_customers, episodes.horizon, episodes.n_actions)
    array = np.asarray(array, dtype=np.float64)
    if array.shape != expected:
        raise OPEInputError(f"{label}: received shape {array.shape}, expected {expected} (customers, weeks, actions).")
    if not np.isfinite(array).all():
        bad = int((~np.isfinite(array)).sum())
        raise OPEInputError(f"{label}: has {bad} non-finite values; expected finite numbers.")
    return array


def reward_floor(episodes: Any) -> float:
    """The smallest logged weekly reward: the default lower bound of a week's reward for the concentration bounds.

    An assumption, not a known bound, for a real log; for a simulated log it
    is minus the cost of an e-mail, which is the true floor once any e-mail
    went without a purchase.
    """
    return float(np.min(episodes.rewards, where=episodes.mask, initial=np.inf))  # no copy of the logged rewards


def check_estimators(names: Sequence[str] | None) -> tuple[str, ...]:
    """The estimator names, checked (``None``: all of them, in :data:`ESTIMATORS` order)."""
    if names is None:
        return ESTIMATORS
    chosen = tuple(dict.fromkeys(str(n) for n in names))
    unknown = [n for n in chosen if n not in ESTIMATORS]
    if unknown or not chosen:
        hints = "".join(did_you_mean(n, ESTIMATORS) for n in unknown)
        raise OPEInputError(
            f"estimators: received {list(names)!r}; unknown {unknown}{hints}. Expected a non-empty list from "
            f"{list(ESTIMATORS)}."
        )
    return chosen


def _check_options(
    names: tuple[str, ...],
    episodes: Any,
    q_values: Any,
    state_ratios: Any,
    gamma: float,
    n_bootstrap: int,
    confidence: float,
    seed: int,
) -> None:
    check_estimators(names)
    needs_model = [name for name in names if name in MODEL_ESTIMATORS]
    if needs_model and q_values is None:
        raise OPEInputError(
            f"estimators {needs_model} need q_values, the (N, H, A) fitted Q-hat at every logged observation "
            f"(fitted-Q evaluation); pass q_values or use only {list(IMPORTANCE_ESTIMATORS)}."
        )
    needs_ratios = [name for name in names if name in MARGINAL_ESTIMATORS]
    if needs_ratios and state_ratios is None:
        raise OPEInputError(
            f"estimators {needs_ratios} need state_ratios, the per-week state-distribution ratios w_t(s_t) at every "
            "logged week; learn them with journeygym.ope.fit_state_ratios(episodes, target) and pass them, or drop "
            f"{needs_ratios}."
        )
    if not isinstance(episodes, LoggedEpisodes):
        raise OPEInputError(
            f"episodes: received {type(episodes).__name__}, expected LoggedEpisodes (from episodes_from_frame)."
        )
    if episodes.behavior_probabilities is None:
        raise OPEInputError(
            "episodes: no behavior propensities; read a log with propensity columns or estimate them with "
            "journeygym.ope.estimate_behavior_policy(episodes) first."
        )
    if episodes.n_customers < 2:
        raise OPEInputError(
            f"episodes: received {episodes.n_customers} customer; at least 2 are needed for an interval."
        )
    if not _is_number(gamma) or not 0.0 < gamma <= 1.0:
        raise OPEInputError(f"gamma: received {gamma!r}, expected a discount in (0, 1] (1.0: undiscounted return).")
    if isinstance(n_bootstrap, bool) or not isinstance(n_bootstrap, (int, np.integer)) or n_bootstrap < 2:
        raise OPEInputError(f"n_bootstrap: received {n_bootstrap!r}, expected an integer >= 2 (e.g. 200).")
    if not _is_number(confidence) or not 0.0 < confidence < 1.0:
        raise OPEInputError(f"confidence: received {confidence!r}, expected a level in (0, 1), e.g. 0.95.")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise OPEInputError(f"seed: received {seed!r}, expected a non-negative integer.")


def _check_state_ratios(state_ratios: Any, episodes: LoggedEpisodes) -> tuple[np.ndarray, str, float | None]:
    """The ``(N, H)`` ratios, the learner's name and the clip level, from a :class:`StateRatios` or an array."""
    if isinstance(state_ratios, StateRatios):
        array, learner, clip = state_ratios.ratios, state_ratios.learner, state_ratios.clip
    else:
        array, learner, clip = state_ratios, "given", None
    expected = (episodes.n_customers, episodes.horizon)
    array = np.asarray(array, dtype=np.float64)
    if array.shape != expected:
        raise OPEInputError(
            f"state_ratios: received shape {array.shape}, expected {expected} (customers, weeks): the ratio "
            "w_t(s_t) at every logged week, from journeygym.ope.fit_state_ratios on the same log."
        )
    if not np.all((np.isfinite(array) & (array >= 0)) | ~episodes.mask):
        raise OPEInputError("state_ratios: received non-finite or negative ratios on logged weeks; expected ratios >= 0.")
    return array, learner, clip  # padding weeks are zeroed where the ratios are used (reweighted_log)


def _check_reward_lower_bound(reward_lower_bound: Any, episodes: LoggedEpisodes) -> float | None:
    if reward_lower_bound is None:
        return None
    if not _is_number(reward_lower_bound):
        raise OPEInputError(
            f"reward_lower_bound: received {reward_lower_bound!r}, expected a finite number (the smallest possible "
            "weekly reward, e.g. minus the largest action cost) or None."
        )
    smallest = reward_floor(episodes)
    if smallest < reward_lower_bound:
        raise OPEInputError(
            f"reward_lower_bound: received {reward_lower_bound!r}, but the log has a reward of {smallest:.6g}; the "
            "concentration bound holds only when every reward is at least the bound. Pass the smallest possible "
            "weekly reward (e.g. minus the largest action cost)."
        )
    if reward_lower_bound > 0 and not episodes.mask.all():
        raise OPEInputError(
            f"reward_lower_bound: received {reward_lower_bound!r} > 0, but the log has padding weeks, which count as "
            "reward 0; pass a bound <= 0."
        )
    return float(reward_lower_bound)


def estimate_all(
    episodes: LoggedEpisodes,
    target: np.ndarray,
    q_values: np.ndarray | None = None,
    *,
    policy_name: str,
    estimators: Sequence[str] | None = None,
    state_ratios: StateRatios | np.ndarray | None = None,
    gamma: float = 1.0,
    n_bootstrap: int = 200,
    confidence: float = 0.95,
    reward_lower_bound: float | None = None,
    seed: int = 0,
) -> dict[str, Estimate]:
    """Estimate one target policy's value with several estimators, sharing weights and bootstrap draws.

    Parameters
    ----------
    episodes
        The log, with behavior propensities.
    target
        ``(N, H, A)`` the target policy's action probabilities on the logged
        observations (:func:`journeygym.ope.target_probabilities`).
    q_values
        ``(N, H, A)`` a fitted ``Q-hat_t(s_t, a)`` at every logged observation
        (needed by :data:`MODEL_ESTIMATORS`); padding weeks are ignored.
    policy_name
        The target policy's name, copied into each :class:`Estimate`.
    estimators
        Names from :data:`ESTIMATORS`; default every one whose inputs are
        given (:data:`IMPORTANCE_ESTIMATORS`, with ``q_values`` also the
        model estimators, with ``state_ratios`` also the marginal ones).
    state_ratios
        The per-week state-distribution ratios ``w_t(s_t)`` (needed by
        :data:`MARGINAL_ESTIMATORS`): a :class:`~journeygym.ope.ratios.StateRatios`
        (:func:`~journeygym.ope.ratios.fit_state_ratios`), whose learner and clip
        level the estimates record, or an ``(N, H)`` array used as given.
    gamma
        Discount in (0, 1]; 1.0 is the undiscounted return.
    n_bootstrap
        Bootstrap replicates (resampling customers), >= 2.
    confidence
        Level of the intervals and lower bounds, in (0, 1).
    reward_lower_bound
        The smallest possible weekly reward; given, ``is`` and ``pdis`` also
        get the concentration lower bound (valid if every reward is at least
        this and the propensities are the true ones).
    seed
        Seeds the bootstrap and the bound's held-out split: the same seed gives the same numbers.

    Returns
    -------
    dict[str, Estimate]
        Estimator name -> estimate, in the order requested.

    Raises
    ------
    OPEInputError
        For an unknown estimator (with the closest name), a model estimator
        without ``q_values``, a marginal one without ``state_ratios``, episodes without propensities or with fewer than 2
        customers, arrays of the wrong shape or not finite, target
        probabilities that do not sum to 1, options out of range, or a
        ``reward_lower_bound`` above a logged reward.
    """
    if estimators is None:
        estimators = tuple(
            name
            for name in ESTIMATORS
            if (q_values is not None or name not in MODEL_ESTIMATORS)
            and (state_ratios is not None or name not in MARGINAL_ESTIMATORS)
        )
    names = (estimators,) if isinstance(estimators, str) else tuple(estimators)
    _check_options(names, episodes, q_values, state_ratios, gamma, n_bootstrap, confidence, seed)
    target = checked_target_array(target, episodes)
    if q_values is not None:
        q_values = _check_array("q_values", q_values, episodes)
    ratios, ratio_learner, ratio_clip = (None, None, None)
    if state_ratios is not None:
        ratios, ratio_learner, ratio_clip = _check_state_ratios(state_ratios, episodes)
    shift = _check_reward_lower_bound(reward_lower_bound, episodes)

    bootstrap_stream, split_stream = np.random.SeedSequence(seed).spawn(2)
    names = tuple(dict.fromkeys(names))
    sums = blocked_sums(
        names, episodes, target, q_values, float(gamma), ratios, shift, n_bootstrap, np.random.default_rng(bootstrap_stream)
    )
    replicates = sums.replicates.replicates()
    magic_value = magic_bound = None
    if "magic" in names:
        magic_value, replicates["magic"], magic_bound = sums.magic(confidence)
    concentration: dict[str, float] = {}
    if shift is not None:
        offset = shift * float(discount_factors(float(gamma), episodes.horizon).sum())
        for name in CONCENTRATION_ESTIMATORS:
            if name in names:
                split_rng = np.random.default_rng(split_stream)  # the same split for every estimator
                per_customer = sums.shifted_per_customer[name]
                concentration[name] = offset + concentration_lower_bound(per_customer, confidence, split_rng)

    results = {}
    for name in names:
        low, high = percentile_interval(replicates[name], confidence)
        results[name] = Estimate(
            estimator=name,
            policy=str(policy_name),
            value=magic_value if name == "magic" else sums.value(name),
            low=low,
            high=high,
            standard_error=float(replicates[name].std(ddof=1)),
            lower_bound_t=t_bound(name, sums, confidence, magic_bound),
            lower_bound_concentration=concentration.get(name),
            n_customers=episodes.n_customers,
            n_bootstrap=int(n_bootstrap),
            confidence=float(confidence),
            gamma=float(gamma),
            reward_lower_bound=shift,
            seed=int(seed),
            propensities_estimated=bool(episodes.propensities_estimated),
            ratio_learner=ratio_learner if name in MARGINAL_ESTIMATORS else None,
            ratio_clip=ratio_clip if name in MARGINAL_ESTIMATORS else None,
        )
    return results


def estimate(
    estimator: str,
    episodes: LoggedEpisodes,
    target: np.ndarray,
    q_values: np.ndarray | None = None,
    *,
    policy_name: str,
    state_ratios: StateRatios | np.ndarray | None = None,
    gamma: float = 1.0,
    n_bootstrap: int = 200,
    confidence: float = 0.95,
    reward_lower_bound: float | None = None,
    seed: int = 0,
) -> Estimate:
    """One estimator's :class:`Estimate`; the same numbers as ``estimate_all(...)[estimator]`` with the same seed.

    Parameters and errors as :func:`estimate_all`.
    """
    return estimate_all(
        episodes,
        target,
        q_values,
        policy_name=policy_name,
        estimators=(estimator,),
        state_ratios=state_ratios,
        gamma=gamma,
        n_bootstrap=n_bootstrap,
        confidence=confidence,
        reward_lower_bound=reward_lower_bound,
        seed=seed,
    )[estimator]
