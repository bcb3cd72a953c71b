"""Evaluate several target policies on one log with every estimator: the front door of :mod:`journeygym.ope`.

:func:`evaluate_policies` does, per policy: its action probabilities on the
log, the support check, the overlap diagnostics, fitted-Q evaluation when a
model-based estimator is asked for, the state-distribution ratios when a
marginal one is (:mod:`journeygym.ope.ratios`), and every estimator with its
interval and bounds.  Every policy is bootstrapped with the same resamples of customers
(the same seed), so differences between policies are paired.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from journeygym.ope.advice import Advice, advise
from journeygym.ope.behavior import OverlapDiagnostics, estimate_behavior_policy, overlap_diagnostics
from journeygym.ope.belief import belief_features, check_fqe_features
from journeygym.ope.episodes import LoggedEpisodes, OPEInputError
from journeygym.ope.estimators import (
    MARGINAL_ESTIMATORS,
    MODEL_ESTIMATORS,
    Estimate,
    check_estimators,
    estimate_all,
    reward_floor,
)
from journeygym.ope.fitted_q import DEFAULT_MODEL, MAX_FIT_ROWS, fit_q_evaluation
from journeygym.ope.ratios import (
    DEFAULT_RATIO_CLIP,
    DEFAULT_RATIO_LEARNER,
    StateRatios,
    check_ratio_clip,
    belief_state,
    check_ratio_learner,
    compressed_state,
    fit_state_ratios,
)
from journeygym.ope.target import check_support, named_policies, target_probabilities

__all__ = ["OPEResult", "PolicyEvaluation", "evaluate_policies", "reward_floor"]


@dataclass(frozen=True)
class PolicyEvaluation:
    """Every estimate of one target policy, with its overlap diagnostics, timings (seconds) and state ratios.

    ``state_ratios`` is None unless a marginal estimator was asked for.
    """

    policy: str
    estimates: dict[str, Estimate]
    diagnostics: OverlapDiagnostics
    seconds: dict[str, float]
    state_ratios: StateRatios | None = None


@dataclass(frozen=True)
class OPEResult:
    """The estimates of several policies on one log.

    Attributes
    ----------
    evaluations
        One :class:`PolicyEvaluation` per policy, in the order given.
    settings
        How the estimates were made: estimators, discount, bootstrap size,
        confidence, reward lower bound, FQE model, the state ratios' learner
        and clip level, seed, log size, and whether the propensities were estimated.
    """

    evaluations: list[PolicyEvaluation]
    settings: dict[str, Any] = field(default_factory=dict)

    def frame(self) -> pd.DataFrame:
        """One row per (policy, estimator): estimate, interval, bounds, standard error."""
        rows = [
            {**estimate.as_dict(), "policy": evaluation.policy}
            for evaluation in self.evaluations
            for estimate in evaluation.estimates.values()
        ]
        return pd.DataFrame(rows)

    def diagnostics_frame(self) -> pd.DataFrame:
        """One row per policy: the overlap diagnostics."""
        return pd.DataFrame([{"policy": e.policy, **e.diagnostics.as_dict()} for e in self.evaluations])

    def advice(self) -> Advice:
        """Which estimator to trust on this log for ranking and for a safe lower bound (:mod:`journeygym.ope.advice`)."""
        return advise({e.policy: e.diagnostics for e in self.evaluations}, self.settings.get("estimators"))

    def as_dict(self) -> dict[str, Any]:
        """JSON-able record of everything (for ``--json`` and results files)."""
        return {
            "settings": self.settings,
            "policies": [
                {
                    "policy": e.policy,
                    "estimates": {name: estimate.as_dict() for name, estimate in e.estimates.items()},
                    "diagnostics": e.diagnostics.as_dict(),
                    "seconds": e.seconds,
                    **({"state_ratios": e.state_ratios.summary()} if e.state_ratios is not None else {}),
                }
                for e in self.evaluations
            ],
        }


def evaluate_policies(
    policies: Mapping[str, Any] | Sequence[Any],
    episodes: LoggedEpisodes,
    *,
    estimators: Sequence[str] | None = None,
    gamma: float = 1.0,
    fqe_model: Any = None,
    fqe_features: str = "observation",
    fqe_max_rows: int | None = MAX_FIT_ROWS,
    artifact: Any = None,
    scenario: Any = None,
    ratio_learner: str = DEFAULT_RATIO_LEARNER,
    ratio_clip: float = DEFAULT_RATIO_CLIP,
    n_bootstrap: int = 200,
    confidence: float = 0.95,
    reward_lower_bound: float | None = None,
    seed: int = 0,
) -> OPEResult:
    """Estimate the value of each policy from the log with each estimator.

    Parameters
    ----------
    policies
        Target policies (or agents): a mapping name -> policy, or a sequence
        (named by their ``name``).
    episodes
        The log; without behavior propensities they are estimated first
        (:func:`~journeygym.ope.behavior.estimate_behavior_policy`) and every
        estimate is marked as using estimated propensities.
    estimators
        Names from :data:`~journeygym.ope.estimators.ESTIMATORS`; default all.
    gamma
        Discount in (0, 1]; 1.0 is the undiscounted return the runner reports.
    fqe_model
        Regressor of fitted-Q evaluation (a built-in name or a scikit-learn
        regressor); default :data:`~journeygym.ope.fitted_q.DEFAULT_MODEL`.
    fqe_features
        What fitted-Q regresses on: ``"observation"`` (the default) or
        ``"belief"``, the observation and the calibrated model's filtered
        belief over the hidden state (:mod:`journeygym.ope.belief`).
    fqe_max_rows
        Rows each week's fitted-Q regressor is fitted on, at most (a seeded random subset of a
        bigger week; :data:`~journeygym.ope.fitted_q.MAX_FIT_ROWS`); None fits on every row.
    artifact, scenario
        The model of the belief filter (default the shipped artifact) and the
        scenario (default the one the log records); used by ``"belief"`` and the
        ``"binned"`` ratio learner.
    ratio_learner, ratio_clip
        How the marginal estimators' state ratios are learned
        (:data:`~journeygym.ope.ratios.RATIO_LEARNERS`; ``"binned"`` bins the
        belief's expected state and the fatigue) and where they are clipped
        before each week's normalization; unused without ``mis`` or ``mdr``.
    n_bootstrap, confidence
        Bootstrap resamples of customers and the level of intervals and bounds.
    reward_lower_bound
        Smallest possible weekly reward, for the concentration bounds; default
        the smallest logged reward (:func:`reward_floor`).
    seed
        Seeds the behavior model, fitted-Q evaluation, the ratio regressors and the
        bootstrap (the same resamples for every policy).
    """
    chosen = check_estimators(estimators)
    if not (isinstance(gamma, (int, float)) and 0.0 < float(gamma) <= 1.0):
        raise OPEInputError(f"gamma: received {gamma!r}, expected a discount in (0, 1] (1.0 = undiscounted return).")
    check_fqe_features(fqe_features)
    check_ratio_learner(ratio_learner)
    ratio_clip = check_ratio_clip(ratio_clip)
    named = named_policies(policies, "policies")
    if episodes.behavior_probabilities is None:
        episodes = estimate_behavior_policy(episodes, seed=seed)
    floor = reward_floor(episodes) if reward_lower_bound is None else float(reward_lower_bound)
    model = DEFAULT_MODEL if fqe_model is None else fqe_model
    needs_q = any(name in MODEL_ESTIMATORS for name in chosen)
    needs_ratios = any(name in MARGINAL_ESTIMATORS for name in chosen)
    started = time.perf_counter()
    extra = belief_features(episodes, artifact, scenario) if needs_q and fqe_features == "belief" else None
    ratio_state = None
    if needs_ratios and ratio_learner == "binned":
        ratio_state = belief_state(episodes, artifact, scenario) if extra is None else compressed_state(episodes, extra)
    # The filter's time, shared among the policies, counts to fitted-Q's when it uses the belief, else to the ratios'.
    filter_seconds = (time.perf_counter() - started) / len(named)
    evaluations = []
    for name, policy in named.items():
        started = time.perf_counter()
        target = target_probabilities(policy, episodes)
        check_support(name, target, episodes)
        diagnostics = overlap_diagnostics(episodes, target)
        seconds = {"target": time.perf_counter() - started}
        q_values = None
        if needs_q:
            started = time.perf_counter()
            q_values = fit_q_evaluation(
                episodes, target, gamma=float(gamma), model=model, seed=seed, state_features=extra,
                max_fit_rows=fqe_max_rows,
            ).q_values
            seconds["fqe"] = time.perf_counter() - started + (filter_seconds if extra is not None else 0.0)
        ratios = None
        if needs_ratios:
            started = time.perf_counter()
            ratios = fit_state_ratios(
                episodes, target, learner=ratio_learner, clip=ratio_clip, state_features=ratio_state, seed=seed
            )
            seconds["ratios"] = time.perf_counter() - started + (filter_seconds if extra is None else 0.0)
        started = time.perf_counter()
        estimates = estimate_all(
            episodes,
            target,
            q_values,
            estimators=chosen,
            state_ratios=ratios,
            policy_name=name,
            gamma=float(gamma),
            n_bootstrap=n_bootstrap,
            confidence=confidence,
            reward_lower_bound=floor,
            seed=seed,
        )
        seconds["estimators"] = time.perf_counter() - started
        evaluations.append(PolicyEvaluation(name, estimates, diagnostics, seconds, ratios))
        # The next policy's (N, H, A) arrays are made while these names still hold the last one's: free them first.
        del target, q_values
    settings = {
        "estimators": list(chosen),
        "gamma": float(gamma),
        "n_bootstrap": int(n_bootstrap),
        "confidence": float(confidence),
        "reward_lower_bound": floor,
        "reward_lower_bound_source": "given" if reward_lower_bound is not None else "smallest logged reward",
        "fqe_model": model if isinstance(model, str) else type(model).__name__,
        "fqe_features": fqe_features,
        **({"ratio_learner": ratio_learner, "ratio_clip": ratio_clip} if needs_ratios else {}),
        "seed": int(seed),
        "customers": episodes.n_customers,
        "horizon": episodes.horizon,
        "logged_weeks": int(np.count_nonzero(episodes.mask)),
        "propensities_estimated": bool(episodes.propensities_estimated),
    }
    return OPEResult(evaluations, settings)
