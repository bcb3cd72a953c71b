"""The three seed baselines (seed document 001) as policies: look-alike, expected LTV, LTV uplift.

Each policy turns its score into an expected net gain of e-mailing a
customer, in dollars, using the scenario's margin and e-mail cost:

============  ===================================================  =====================
policy        score (per e-mail arm a)                             net gain of e-mailing
============  ===================================================  =====================
look-alike    P(response | x)                                      margin * AOV * score - cost
expected LTV  P(response | x) * LTV(x)                             margin * score - cost
LTV uplift    (P(response | x, a) - P(response | x, none)) LTV(x)  margin * score - cost
============  ===================================================  =====================

AOV is the mean spend of a logged purchase.  The look-alike's economics are
the naive ones that look-alike targeting implies: it treats a likely buyer as a
sale the e-mail brings.  The LTV-uplift policy scores each arm and sends the
arm with the highest net gain.  Look-alike and expected LTV have no per-arm
model, so they send the arm with the highest response rate in the log (the
log is randomized, so that comparison is unbiased); it is stored as ``arm``.

Operating point: a customer is e-mailed when subscribed and the net gain
exceeds ``threshold`` (default 0: expected margin gain > cost) and, with a
contact ``budget`` q, only the top ``ceil(q * n)`` customers of the batch by
net gain.  :func:`operating_point_grid` proposes candidate operating points;
:func:`journeygym.experiments.tuning.tune_operating_point` picks the best on
validation rollouts and records it in :meth:`ScorePolicy.get_params`.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from journeygym.baselines.base import Policy, check_observations
from journeygym.baselines.scoring import ScoringModels
from journeygym.envs.parameters import ScenarioAssumptions

__all__ = [
    "ExpectedLTVPolicy",
    "LTVUpliftPolicy",
    "LookAlikePolicy",
    "ScorePolicy",
    "operating_point_grid",
]

#: Shares of logged customer-weeks that :func:`operating_point_grid` places thresholds at: a coarse grid
#: from nearly everyone to a few percent (when e-mails have long-lasting effects the best share is
#: large); tuning refines around the best by a factor of 2.
DEFAULT_CONTACT_SHARES: tuple[float, ...] = (9 / 10, 1 / 2, 1 / 4, 1 / 16)
#: Contact budgets (share of customers per week) that :func:`operating_point_grid` adds.
DEFAULT_BUDGETS: tuple[float, ...] = (9 / 10, 1 / 2, 1 / 4, 1 / 16)


def _log_assumptions(logged_data: pd.DataFrame, n_actions: int) -> ScenarioAssumptions:
    """The margin and costs of the scenario a log records, else the defaults with one cost (0.05) per arm."""
    recorded = logged_data.attrs.get("journeygym", {}).get("scenario") or {}
    costs = recorded.get("action_costs")
    if costs is None or len(costs) != n_actions:
        costs = (0.0,) + (0.05,) * (n_actions - 1)
    return ScenarioAssumptions(action_costs=tuple(float(c) for c in costs), margin=float(recorded.get("margin", 0.30)))


class ScorePolicy(Policy):
    """A policy that e-mails customers whose expected net gain clears an operating point.

    Parameters
    ----------
    models
        Fitted :class:`ScoringModels`, or None to fit them in :meth:`fit`.
    assumptions
        The scenario whose margin and e-mail costs the net gain uses; default
        :class:`ScenarioAssumptions` defaults.
    threshold
        E-mail when net gain > threshold (dollars); default 0, i.e. when the
        expected margin gain exceeds the e-mail's cost.  ``-inf`` disables it.
    budget
        Share of the batch that may be e-mailed per week (the highest net
        gains), in (0, 1]; None for no budget.
    """

    #: The scoring components the policy needs.
    components: tuple[str, ...] = ()

    def __init__(
        self,
        models: ScoringModels | None = None,
        *,
        assumptions: ScenarioAssumptions | None = None,
        threshold: float = 0.0,
        budget: float | None = None,
    ) -> None:
        self.models = models
        #: Whether the margin and costs were given; otherwise :meth:`fit` takes them from the log's scenario.
        self._assumptions_given = assumptions is not None
        self.assumptions = assumptions if assumptions is not None else ScenarioAssumptions()
        self.set_operating_point(threshold, budget)
        self.tuning_: list[dict[str, Any]] | None = None
        self._subscribed_column: int | None = None
        # The observations and priorities of the last act: a budgeted rollout asks for both.
        self._last_scored: tuple[np.ndarray, np.ndarray] | None = None

    def set_operating_point(self, threshold: float = 0.0, budget: float | None = None) -> ScorePolicy:
        """Set the threshold (dollars of net gain) and the contact budget (share of the batch)."""
        threshold = float(threshold)
        if math.isnan(threshold) or threshold == math.inf:
            raise ValueError(f"{type(self).__name__}: received threshold {threshold!r}, expected a number or -inf.")
        if budget is not None and not 0.0 < float(budget) <= 1.0:
            raise ValueError(f"{type(self).__name__}: received budget {budget!r}, expected a share in (0, 1] or None.")
        self.threshold = threshold
        self.budget = None if budget is None else float(budget)
        return self

    def fit(self, logged_data: pd.DataFrame, **model_options: Any) -> ScorePolicy:
        """Fit the scoring models this policy needs on a logged-data table (unless given fitted ones).

        ``model_options`` go to :class:`ScoringModels` (e.g. ``model_params``, ``random_state``).
        """
        if self.models is None or not hasattr(self.models, "action_names_"):
            self.models = ScoringModels(components=self.components, **model_options).fit(logged_data)
        if not self._assumptions_given:
            self.assumptions = _log_assumptions(logged_data, len(self.models.action_names_))
        return self

    def _fitted_models(self) -> ScoringModels:
        if self.models is None or not hasattr(self.models, "action_names_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError(
                f"This {type(self).__name__} has no fitted scoring models; call fit(logged_data) or pass fitted "
                "ScoringModels as models=."
            )
        return self.models

    @abstractmethod
    def values(self, observations: np.ndarray) -> np.ndarray:
        """``(n, A)`` expected gain in dollars of spend (before margin and cost) of each action; column 0 unused."""

    def net_gain(self, observations: np.ndarray) -> np.ndarray:
        """``(n, A)`` margin x value - cost of each e-mail arm; column 0 (no action) is -inf."""
        models = self._fitted_models()
        costs = np.asarray(self.assumptions.action_costs, dtype=np.float64)
        if costs.size != len(models.action_names_):
            raise ValueError(
                f"{type(self).__name__}: the scenario has {costs.size} action costs, the models "
                f"{len(models.action_names_)} actions {models.action_names_}; pass matching assumptions."
            )
        gain = self.assumptions.margin * self.values(observations) - costs
        gain[:, 0] = -np.inf
        return gain

    def act(self, observations: np.ndarray) -> np.ndarray:
        """E-mail (best arm) the subscribed customers whose net gain clears the operating point."""
        observations = check_observations(observations)
        models = self._fitted_models()
        if self._subscribed_column is None:
            self._subscribed_column = models.observation_names_.index("subscribed")
        actions = np.zeros(observations.shape[0], dtype=np.int64)
        # Unsubscribed customers cannot be reached, so they are not scored at all.
        rows = np.flatnonzero(observations[:, self._subscribed_column] > 0.5)
        if rows.size == 0:
            self._last_scored = (observations.copy(), np.full(observations.shape[0], -np.finfo(np.float64).max))
            return actions
        gain = self.net_gain(observations if rows.size == observations.shape[0] else observations[rows])
        arm = gain.argmax(axis=1)
        best = gain[np.arange(rows.size), arm]
        priorities = np.full(observations.shape[0], -np.finfo(np.float64).max)
        priorities[rows] = best
        self._last_scored = (observations.copy(), priorities)
        chosen = best > self.threshold
        if self.budget is not None:
            limit = math.ceil(self.budget * observations.shape[0])
            if np.count_nonzero(chosen) > limit:
                order = np.argsort(-np.where(chosen, best, -np.inf), kind="stable")
                chosen = np.zeros_like(chosen)
                chosen[order[:limit]] = True
        actions[rows[chosen]] = arm[chosen]
        return actions

    def priority(self, observations: np.ndarray) -> np.ndarray:
        """The best arm's net gain in dollars: under a binding contact budget the largest gains are kept.

        Unsubscribed customers (who cannot be e-mailed) get the lowest finite priority.
        """
        observations = check_observations(observations)
        if self._last_scored is not None and np.array_equal(self._last_scored[0], observations):
            return self._last_scored[1]
        self.act(observations)
        return self._last_scored[1]

    def get_params(self) -> dict[str, Any]:
        """Operating point, the arm rule and the tuning record."""
        params: dict[str, Any] = {
            "threshold": self.threshold,
            "budget": self.budget,
            "margin": self.assumptions.margin,
            "action_costs": list(self.assumptions.action_costs),
        }
        if self.models is not None and hasattr(self.models, "action_names_"):
            params.update(self._model_params())
        if self.tuning_ is not None:
            params["tuning"] = self.tuning_
        return params

    def _model_params(self) -> dict[str, Any]:
        return {}


class _FixedArmPolicy(ScorePolicy):
    """Look-alike and expected LTV: one score, sent with the arm that responded best in the log."""

    def _model_params(self) -> dict[str, Any]:
        models = self._fitted_models()
        return {"arm": models.action_names_[models.best_arm_], "average_order_value": models.average_order_value_}

    @abstractmethod
    def _score(self, observations: np.ndarray) -> np.ndarray:
        """``(n,)`` expected gain in dollars of spend."""

    def values(self, observations: np.ndarray) -> np.ndarray:
        models = self._fitted_models()
        out = np.full((observations.shape[0], len(models.action_names_)), -np.inf)
        out[:, models.best_arm_] = self._score(observations)
        return out


class LookAlikePolicy(_FixedArmPolicy):
    """Look-alike targeting: score = P(response | x), valued at the average order value."""

    name = "lookalike"
    components = ("response",)

    def _score(self, observations: np.ndarray) -> np.ndarray:
        models = self._fitted_models()
        return models.predict_response(observations) * models.average_order_value_


class ExpectedLTVPolicy(_FixedArmPolicy):
    """Expected-LTV targeting: score = P(response | x) * LTV(x)."""

    name = "expected_ltv"
    components = ("response", "ltv")

    def _score(self, observations: np.ndarray) -> np.ndarray:
        models = self._fitted_models()
        return models.predict_response(observations) * models.predict_ltv(observations)


class LTVUpliftPolicy(ScorePolicy):
    """LTV-uplift targeting: score_a = (P(response | x, a) - P(response | x, none)) * LTV(x), best arm.

    Parameters
    ----------
    learner
        Uplift learner: ``"t_learner"`` (default) or ``"class_transformation"``.
    **kwargs
        As :class:`ScorePolicy`.
    """

    name = "ltv_uplift"

    def __init__(self, models: ScoringModels | None = None, *, learner: str = "t_learner", **kwargs: Any) -> None:
        if learner not in ("t_learner", "class_transformation"):
            raise ValueError(
                f"LTVUpliftPolicy: received learner={learner!r}, expected 't_learner' or 'class_transformation'."
            )
        self.learner = learner
        self.components = ("ltv", learner)
        super().__init__(models, **kwargs)

    def values(self, observations: np.ndarray) -> np.ndarray:
        models = self._fitted_models()
        uplift = models.predict_uplift(observations, self.learner)
        return uplift * models.predict_ltv(observations)[:, None]

    def _model_params(self) -> dict[str, Any]:
        return {"learner": self.learner}


def operating_point_grid(
    policy: ScorePolicy,
    logged_data: pd.DataFrame,
    contact_shares: Sequence[float] = DEFAULT_CONTACT_SHARES,
    budgets: Sequence[float] = DEFAULT_BUDGETS,
    *,
    include_default: bool = True,
    max_rows: int = 50_000,
    seed: int = 0,
) -> list[dict[str, float | None]]:
    """Candidate operating points for ``policy``, placed on its own score distribution.

    The thresholds are the quantiles of the policy's best net gain on (a
    sample of) the subscribed logged customer-weeks at which ``contact_shares``
    of them would be e-mailed, plus the default rule (threshold 0); the
    budgets are contact budgets without a threshold.  Placing thresholds by
    quantile keeps the grid meaningful whatever the scale of the scores.

    Returns
    -------
    list of dict
        ``{"threshold": float, "budget": float | None, "contact_share": float | None}``
        (``contact_share``: the logged share a threshold was placed at), duplicates removed.
    """
    models = policy._fitted_models()
    grid: list[dict[str, float | None]] = []
    if include_default:
        grid.append({"threshold": 0.0, "budget": None, "contact_share": None})
    for share in contact_shares:
        if not 0.0 < share < 1.0:
            raise ValueError(f"operating_point_grid: received contact share {share!r}, expected a share in (0, 1).")
    if len(contact_shares):
        columns = list(models.observation_names_)
        rows = np.flatnonzero(logged_data["subscribed"].to_numpy() > 0.5)
        if rows.size == 0:
            raise ValueError("operating_point_grid: the log has no subscribed customer-week to place thresholds on.")
        if rows.size > max_rows:
            rows = np.sort(np.random.default_rng(seed).choice(rows, size=max_rows, replace=False))
        best = policy.net_gain(logged_data[columns].to_numpy(dtype=np.float32)[rows]).max(axis=1)
        for share in contact_shares:
            grid.append(
                {"threshold": float(np.quantile(best, 1.0 - share)), "budget": None, "contact_share": float(share)}
            )
    for budget in budgets:
        if not 0.0 < budget <= 1.0:
            raise ValueError(f"operating_point_grid: received budget {budget!r}, expected a share in (0, 1].")
        grid.append({"threshold": -math.inf, "budget": float(budget), "contact_share": None})
    unique: list[dict[str, float | None]] = []
    seen: set[tuple[float, float | None]] = set()
    for point in grid:
        key = (point["threshold"], point["budget"])
        if key not in seen:
            seen.add(key)
            unique.append(point)
    return unique
