"""The behavior policy of a log without propensities, estimated; and how well a target overlaps it.

A real log often records who got which e-mail but not with which probability.
:func:`estimate_behavior_policy` then estimates ``mu(a | s)`` the way the
inverse-probability-weighting notebook (seed document 000) estimates its
treatment propensity: a logistic regression of the treatment received on the
pre-treatment covariates (scikit-learn's ``LogisticRegression`` with its
default ``C = 1``), whose predicted probability of the treatment actually
received is what the weight divides by (``1 / p`` for the treated,
``1 / (1 - p)`` for the others; here ``pi(a | s) / mu(a | s)``, see
:mod:`journeygym.ope.weights`).  The action has A > 2 values, so the
regression is multinomial (scikit-learn's ``lbfgs`` fits the multinomial model
for more than two classes), and the covariates are the log's observation
columns, standardized (the notebook fits raw counts; standardizing makes the
L2 penalty treat every column alike and the solver converge on columns of very
different scales).  It is fitted on the logged weeks of subscribed customers
only: an unsubscribed customer can only receive action 0, so there the
behavior is one-hot on action 0 by construction, not estimated.

Unlike the notebook, whose propensities stay near 0.065, a weekly campaign log
can have actions the model finds nearly impossible, and 52 weekly ratios
multiply.  Estimated propensities are therefore clipped below at
``min_propensity`` (default :data:`DEFAULT_MIN_PROPENSITY` = 0.001) and
renormalized, so no action the log took has propensity 0 and no single
decision's ratio exceeds about 1 / 0.001; an action the log never took keeps
propensity 0 (no data speaks for it).

:func:`overlap_diagnostics` says how far a target policy strays from the
behavior: effective sample sizes, largest weights, small propensities and
support violations.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from journeygym.envs.actions import NO_ACTION
from journeygym.ope.episodes import CHUNK_ROWS, LoggedEpisodes, OPEInputError
from journeygym.ope.target import checked_target_array, target_probabilities
from journeygym.ope.weights import cumulative_weights, effective_sample_size, ratios_of_checked_target

__all__ = [
    "DEFAULT_MIN_PROPENSITY",
    "LOW_PROPENSITY",
    "BehaviorModel",
    "OverlapDiagnostics",
    "behavior_probabilities",
    "estimate_behavior_policy",
    "fit_behavior_model",
    "overlap_diagnostics",
]

#: Floor of an estimated propensity (before renormalization): caps one decision's ratio at about 1000.
DEFAULT_MIN_PROPENSITY = 1e-3
#: A logged propensity below this is counted as small by :func:`overlap_diagnostics`.
LOW_PROPENSITY = 0.01
DEFAULT_MAX_ITER = 1000


class BehaviorModel(BaseEstimator):
    """Multinomial logistic regression of the logged action on standardized observations.

    Follows scikit-learn's conventions: parameters set in ``__init__``, learned
    attributes end in ``_``, ``fit`` returns ``self``.

    Parameters
    ----------
    n_actions
        Number of actions A; :meth:`predict_proba` returns A columns even when
        the log never took some action (those get probability 0).
    C
        Inverse L2 regularization strength of ``LogisticRegression``.
    max_iter
        Iterations of the ``lbfgs`` solver.
    min_propensity
        Floor applied to the probability of every action seen in training,
        before renormalizing; in ``[0, 1 / A)``.
    random_state
        Passed to ``LogisticRegression`` (``lbfgs`` itself is deterministic).

    Attributes
    ----------
    classes_
        The actions seen in training, sorted.
    pipeline_
        The fitted ``StandardScaler`` + ``LogisticRegression`` pipeline, or
        None when training saw a single action (then that action has probability 1).
    n_features_in_
        Number of observation columns D.
    n_iter_
        Solver iterations used (0 without a pipeline).
    """

    def __init__(
        self,
        n_actions: int,
        *,
        C: float = 1.0,
        max_iter: int = DEFAULT_MAX_ITER,
        min_propensity: float = DEFAULT_MIN_PROPENSITY,
        random_state: int | None = 0,
    ) -> None:
        self.n_actions = n_actions
        self.C = C
        self.max_iter = max_iter
        self.min_propensity = min_propensity
        self.random_state = random_state

    def _check_hyperparameters(self) -> None:
        if isinstance(self.n_actions, bool) or not isinstance(self.n_actions, (int, np.integer)) or self.n_actions < 2:
            raise ValueError(f"BehaviorModel.n_actions: received {self.n_actions!r}, expected an integer >= 2.")
        if not 0.0 <= float(self.min_propensity) < 1.0 / self.n_actions:
            raise ValueError(
                f"BehaviorModel.min_propensity: received {self.min_propensity!r}, expected a number in "
                f"[0, {1.0 / self.n_actions:.4g}) (below 1 / A, so the floored probabilities can sum to 1)."
            )

    def fit(self, X: np.ndarray, y: np.ndarray) -> BehaviorModel:
        """Fit on ``(n, D)`` observations ``X`` and ``(n,)`` integer actions ``y``."""
        self._check_hyperparameters()
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y)
        if X.ndim != 2 or y.shape != (X.shape[0],) or X.shape[0] == 0:
            raise OPEInputError(
                f"BehaviorModel.fit: received X of shape {X.shape} and y of shape {y.shape}; expected (n, D) "
                "observations and (n,) actions with n >= 1."
            )
        if y.dtype.kind not in "iu" or y.min() < 0 or y.max() >= self.n_actions:
            raise OPEInputError(
                f"BehaviorModel.fit: received actions {np.unique(y)[:5].tolist()} (dtype {y.dtype}); expected "
                f"integers in [0, {self.n_actions - 1}]."
            )
        self.classes_ = np.unique(y)
        self.n_features_in_ = X.shape[1]
        if self.classes_.size == 1:
            self.pipeline_: Pipeline | None = None
            self.n_iter_ = 0
            return self
        regression = LogisticRegression(C=self.C, max_iter=self.max_iter, random_state=self.random_state)
        self.pipeline_ = make_pipeline(StandardScaler(), regression).fit(X, y)
        self.n_iter_ = int(np.max(regression.n_iter_))
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """``(n, A)`` estimated behavior probabilities, floored and renormalized."""
        check_is_fitted(self, "classes_")
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_features_in_:
            raise OPEInputError(
                f"BehaviorModel.predict_proba: received X of shape {X.shape}, expected (n, {self.n_features_in_}) "
                "like the observations it was fitted on."
            )
        seen = np.zeros((X.shape[0], self.n_actions))
        if self.pipeline_ is None:
            seen[:, self.classes_[0]] = 1.0
        else:
            seen[:, self.classes_] = np.maximum(self.pipeline_.predict_proba(X), self.min_propensity)
        return seen / seen.sum(axis=1, keepdims=True)

    def describe(self) -> dict[str, Any]:
        """JSON-able record of the model (kept in the episodes' metadata)."""
        check_is_fitted(self, "classes_")
        return {
            "model": "multinomial logistic regression on standardized observations",
            "C": float(self.C),
            "max_iter": int(self.max_iter),
            "min_propensity": float(self.min_propensity),
            "random_state": self.random_state,
            "actions_seen": self.classes_.tolist(),
            "n_iter": self.n_iter_,
        }


def _decision_rows(episodes: LoggedEpisodes) -> np.ndarray:
    """``(N, H)`` True where a decision was logged: a logged week of a subscribed customer."""
    return episodes.mask & episodes.subscribed


def fit_behavior_model(
    episodes: LoggedEpisodes,
    *,
    C: float = 1.0,
    max_iter: int = DEFAULT_MAX_ITER,
    seed: int | None = 0,
    min_propensity: float = DEFAULT_MIN_PROPENSITY,
) -> BehaviorModel:
    """Fit a :class:`BehaviorModel` on the logged weeks of subscribed customers.

    Raises
    ------
    OPEInputError
        If the log has no such week (every customer unsubscribed throughout).
    """
    rows = _decision_rows(episodes)
    if not rows.any():
        raise OPEInputError(
            f"log: none of its {int(episodes.mask.sum())} logged weeks has a subscribed customer, so no decision "
            "was logged and the behavior policy cannot be estimated (it is one-hot on action 0 everywhere)."
        )
    model = BehaviorModel(episodes.n_actions, C=C, max_iter=max_iter, min_propensity=min_propensity, random_state=seed)
    return model.fit(episodes.observations[rows], episodes.actions[rows])


def behavior_probabilities(model: BehaviorModel, episodes: LoggedEpisodes) -> np.ndarray:
    """``(N, H, A)`` behavior probabilities: the model's where a decision was logged, one-hot on action 0 elsewhere.

    Raises
    ------
    OPEInputError
        If the log delivers an e-mail to an unsubscribed customer (then no
        behavior policy of this simulator's kind produced it).
    """
    rows = _decision_rows(episodes)
    emailed_unsubscribed = episodes.mask & ~episodes.subscribed & (episodes.actions != NO_ACTION)
    if emailed_unsubscribed.any():
        i, t = np.argwhere(emailed_unsubscribed)[0]
        raise OPEInputError(
            f"log: {int(emailed_unsubscribed.sum())} logged weeks give an unsubscribed customer action "
            f"{int(episodes.actions[i, t])} (first: customer_id {int(episodes.customer_ids[i])}, week {int(t)}); "
            "expected action 0 (no e-mail) whenever the subscribed column is 0. Log the delivered action."
        )
    probabilities = np.zeros((episodes.n_customers, episodes.horizon, episodes.n_actions))
    probabilities[:, :, 0] = 1.0
    # A block of customers at a time: the decisions' observations of a large log are not copied at once.
    step = max(1, CHUNK_ROWS // max(episodes.horizon, 1))
    for start in range(0, episodes.n_customers, step):
        block, decided = slice(start, start + step), rows[start : start + step]
        if decided.any():
            probabilities[block][decided] = model.predict_proba(episodes.observations[block][decided])
    return probabilities


def estimate_behavior_policy(
    episodes: LoggedEpisodes,
    *,
    C: float = 1.0,
    max_iter: int = DEFAULT_MAX_ITER,
    seed: int | None = 0,
    min_propensity: float = DEFAULT_MIN_PROPENSITY,
) -> LoggedEpisodes:
    """The episodes with behavior probabilities estimated from the log (see the module docstring).

    Parameters
    ----------
    episodes
        The log (any logged propensities are replaced).
    C, max_iter, seed, min_propensity
        As for :class:`BehaviorModel` (``seed`` is its ``random_state``).

    Returns
    -------
    LoggedEpisodes
        With :attr:`~LoggedEpisodes.propensities_estimated` True and the
        model's description under ``metadata["behavior_model"]``.  For the
        fitted model itself, call :func:`fit_behavior_model`.
    """
    model = fit_behavior_model(episodes, C=C, max_iter=max_iter, seed=seed, min_propensity=min_propensity)
    estimated = episodes.with_behavior(behavior_probabilities(model, episodes), estimated=True)
    return replace(estimated, metadata={**episodes.metadata, "behavior_model": model.describe()})


@dataclass(frozen=True)
class OverlapDiagnostics:
    """How well a target policy is supported by the log's behavior policy.

    Attributes
    ----------
    n_customers, n_decisions
        Episodes N and logged decisions (logged weeks of subscribed customers).
    ess_trajectory, ess_trajectory_share
        Effective sample size ``(sum w)^2 / sum w^2`` of the trajectory weights, and divided by N.
    ess_per_decision, ess_per_decision_share
        The effective sample size of the cumulative weights ``w_t`` among the
        customers logged in week ``t``, averaged over the weeks; the share
        divides each week's by its number of customers before averaging.
    ess_per_decision_min_share
        The smallest weekly share (the week the per-decision estimators see least data).
    mean_trajectory_weight
        Close to 1 when the propensities are right (the weights' expectation is 1).
    max_trajectory_weight, max_ratio
        The largest trajectory weight and the largest single-week ratio.
    low_propensity_share
        Share of decisions whose logged action had behavior probability below :attr:`low_propensity`.
    support_violation_share
        Share of decisions where the target gives probability to an action the behavior gives probability 0.
    propensities_estimated
        True when the behavior probabilities were estimated, not logged.
    low_propensity
        The threshold of :attr:`low_propensity_share`.
    exploration
        The logging policy's exploration: the smallest behavior probability among the actions,
        averaged over the decisions (1/A under uniform logging, epsilon/A under an epsilon-greedy
        targeting policy); NaN without decisions.  It belongs to the log, not to the target.
    """

    n_customers: int
    n_decisions: int
    ess_trajectory: float
    ess_trajectory_share: float
    ess_per_decision: float
    ess_per_decision_share: float
    ess_per_decision_min_share: float
    mean_trajectory_weight: float
    max_trajectory_weight: float
    max_ratio: float
    low_propensity_share: float
    support_violation_share: float
    propensities_estimated: bool
    low_propensity: float = LOW_PROPENSITY
    exploration: float = float("nan")

    def as_dict(self) -> dict[str, Any]:
        """The diagnostics as a plain dictionary (for tables and JSON)."""
        return asdict(self)


def overlap_diagnostics(
    episodes: LoggedEpisodes, target: Any, *, low_propensity: float = LOW_PROPENSITY
) -> OverlapDiagnostics:
    """Overlap of ``target`` with the log's behavior policy.

    Parameters
    ----------
    episodes
        The log, with behavior probabilities (logged or estimated).
    target
        ``(N, H, A)`` target probabilities, or a policy (then
        :func:`~journeygym.ope.target.target_probabilities` computes them).
    low_propensity
        Threshold of a small logged propensity.

    Raises
    ------
    OPEInputError
        If the episodes have no behavior probabilities or the target's are invalid.
    """
    if not isinstance(target, np.ndarray):
        target = target_probabilities(target, episodes)
    target = checked_target_array(target, episodes, "target probabilities")
    n, horizon = episodes.n_customers, episodes.horizon
    # A block of customers at a time: a large log's diagnostics hold its (N, H) weights and one block's temporaries.
    step = max(1, CHUNK_ROWS // max(horizon, 1))
    weights = np.empty((n, horizon))
    max_ratio, exploration = -np.inf, 0.0
    n_decisions = n_low = n_violations = 0
    for block in (slice(start, min(start + step, n)) for start in range(0, n, step)):
        part, part_target = episodes.subset(block), target[block]
        ratios = ratios_of_checked_target(part, part_target)
        max_ratio = max(max_ratio, float(np.max(ratios, where=part.mask, initial=-np.inf)))
        with np.errstate(over="ignore"):  # overflowing weights are reported as such; the estimators refuse them
            weights[block] = cumulative_weights(ratios)
        decisions = _decision_rows(part)
        behavior = part.behavior_probabilities
        violation = np.zeros(decisions.shape, dtype=bool)
        for action in range(behavior.shape[2]):  # an action at a time: no (N, H, A) temporaries
            violation |= (part_target[:, :, action] > 0) & (behavior[:, :, action] == 0)
        n_violations += int(np.count_nonzero(violation & decisions))
        n_low += int(np.count_nonzero((part.logged_propensities < low_propensity) & decisions))
        exploration += float(behavior.min(axis=2)[decisions].sum())
        n_decisions += int(np.count_nonzero(decisions))
    trajectory = weights[:, -1].copy()
    ess_trajectory = effective_sample_size(trajectory)
    logged_per_week = episodes.mask.sum(axis=0)
    ess_per_week = effective_sample_size(weights, episodes.mask)
    del weights
    share_per_week = ess_per_week / np.maximum(logged_per_week, 1)

    def share(count: int) -> float:
        return count / n_decisions if n_decisions else float("nan")

    return OverlapDiagnostics(
        n_customers=n,
        n_decisions=n_decisions,
        ess_trajectory=ess_trajectory,
        ess_trajectory_share=ess_trajectory / n,
        ess_per_decision=float(ess_per_week.mean()),
        ess_per_decision_share=float(share_per_week.mean()),
        ess_per_decision_min_share=float(share_per_week.min()),
        mean_trajectory_weight=float(trajectory.mean()),
        max_trajectory_weight=float(trajectory.max()),
        max_ratio=max_ratio,
        low_propensity_share=share(n_low),
        support_violation_share=share(n_violations),
        propensities_estimated=episodes.propensities_estimated,
        low_propensity=float(low_propensity),
        exploration=share(exploration),
    )
