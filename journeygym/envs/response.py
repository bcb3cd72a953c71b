"""How an action changes a customer's week: the one definition of the response model (docs/architecture.md, "The week of a customer").

An e-mail delivered at fatigue stock ``F`` acts with the multiplier
``m(F) = ((1 + kappa F) / (1 + kappa F0))^-p`` (:mod:`journeygym.envs.fatigue`;
``F0`` is the trial's starting fatigue, so ``m(F0) = 1``) through two channels:

* a **direct response** in the week of delivery: ``+ alpha[a, g] * m(f)`` on
  the visit logit and ``+ beta[a, g] * m(f)`` on the purchase logit (the
  click-through and the order it brings);
* a **carryover**: the transition out of the current hidden state is tilted
  towards more engaged states, ``P_a(z'|z) ~ A[z, z'] exp(eta[a, g] m(f) [z' > z])``.

It also adds to the fatigue stock (``F' = lambda F + 1``; a quiet week leaves
``lambda F``) and may unsubscribe the customer with probability
``sigmoid(u0 + u1 F)``.  Fatigue is an integer level on the stock's exact grid,
so every table below is indexed by it.

Everything that needs the dynamics reads this module: the kernel's vector and
scalar forms (through :func:`compile_response`), the oracle, the logged-data
simulator, the belief features, the exact expectations of
:mod:`journeygym.envs.expectations` and the calibration's two-week experiment
(through :func:`tilted_transition` and :func:`effect_multiplier`).  A change to
the response model touches this module alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from journeygym.envs.actions import action_table
from journeygym.envs.fatigue import fatigue_multiplier, next_fatigue_level
from journeygym.envs.parameters import DynamicsParameters, ParameterError, ScenarioAssumptions

__all__ = [
    "ResponseTables",
    "compile_response",
    "effect_multiplier",
    "logit",
    "mean_spend",
    "next_fatigue",
    "tilted_transition",
    "unsubscribe_probability",
]


def logit(p: np.ndarray) -> np.ndarray:
    """``log(p / (1 - p))`` as the simulator computes it (every table uses this one)."""
    return np.log(p) - np.log1p(-p)


def effect_multiplier(assumptions: ScenarioAssumptions, fatigue: np.ndarray) -> np.ndarray:
    """``m(F)``: the share of the trial's e-mail effect left at fatigue level ``fatigue`` (an integer level)."""
    stock = assumptions.fatigue_stocks[np.asarray(fatigue, dtype=np.int64)]
    return fatigue_multiplier(stock, assumptions.kappa, assumptions.fatigue_power, assumptions.trial_fatigue)


def tilted_transition(transition: np.ndarray, tilt: np.ndarray | float) -> np.ndarray:
    """Transition rows tilted towards more engaged states: ``A[z,z'] exp(tilt [z' > z])``, renormalized.

    Parameters
    ----------
    transition
        ``(..., K, K)`` transition matrices.
    tilt
        Scalar or array broadcasting against the leading axes of ``transition``
        (``eta * m(f)``; zero leaves the rows unchanged).
    """
    n_states = transition.shape[-1]
    upward = np.triu(np.ones((n_states, n_states)), k=1)  # [z' > z]
    weights = transition * np.exp(np.asarray(tilt, dtype=np.float64)[..., None, None] * upward)
    return weights / weights.sum(axis=-1, keepdims=True)


def next_fatigue(emailed: np.ndarray, fatigue: np.ndarray, assumptions: ScenarioAssumptions) -> np.ndarray:
    """Fatigue level after the week: the stock's ``lambda F + d`` on its grid (:mod:`journeygym.envs.fatigue`)."""
    return next_fatigue_level(
        emailed, fatigue, assumptions.fatigue_memory, assumptions.fatigue_tail_weeks, assumptions.fatigue_resolution
    )


def unsubscribe_probability(assumptions: ScenarioAssumptions, fatigue: np.ndarray) -> np.ndarray:
    """Probability that a delivered e-mail unsubscribes a customer at fatigue level ``f``: ``sigmoid(u0 + u1 F)``."""
    return expit(assumptions.u0 + assumptions.u1 * assumptions.fatigue_stocks[np.asarray(fatigue, dtype=np.int64)])


def mean_spend(parameters: DynamicsParameters) -> np.ndarray:
    """``(G,)`` expected spend of a purchase per history segment (the log-normal's mean)."""
    return np.exp(parameters.spend_log_mean + 0.5 * parameters.spend_log_sd**2)


@dataclass(frozen=True, eq=False)
class ResponseTables:
    """The week's dynamics for every (segment g, action a, fatigue f), compiled once per parameter set.

    Axes: G history segments, A actions, F+1 fatigue levels, K hidden states;
    segment before action, as in every internal table (the parameters'
    response arrays are ``(R, A, G)``, the artifact's layout, and
    :func:`compile_response` transposes them).
    The logits exclude the customer's covariate logit (``gamma . x~`` plus the
    segment offset), which each consumer adds per customer.

    Attributes
    ----------
    transition
        ``(G, A, F+1, K, K)`` ``P(z' | z)`` after action ``a`` is delivered at fatigue ``f``.
    visit_logit, purchase_logit
        ``(G, A, F+1, K)`` logit of a visit and of a purchase in the week, by the next state ``z'``.
    unsubscribe
        ``(A, F+1)`` probability that the delivered action unsubscribes the customer (0 for any action
        that is not an e-mail).
    next_fatigue
        ``(A, F+1)`` fatigue after the week.
    action_cost
        ``(A,)`` cost of each action when delivered.
    mean_spend
        ``(G,)`` expected spend of a purchase.
    margin
        Profit share of spend.
    is_contact, is_email
        ``(A,)`` the action table's masks (:class:`~journeygym.envs.actions.ActionTable`): the
        action delivers something, and the action is an e-mail (fatigue, unsubscribes).
    """

    transition: np.ndarray
    visit_logit: np.ndarray
    purchase_logit: np.ndarray
    unsubscribe: np.ndarray
    next_fatigue: np.ndarray
    action_cost: np.ndarray
    mean_spend: np.ndarray
    margin: float
    is_contact: np.ndarray
    is_email: np.ndarray

    @property
    def n_actions(self) -> int:
        """Number of actions A."""
        return self.transition.shape[1]

    def expected_reward(self, purchase_probability: np.ndarray, segment: np.ndarray | int, action: np.ndarray | int) -> np.ndarray:
        """``margin * P(purchase) * E[spend | g] - cost[a]``: the week's expected reward of a delivered action."""
        return self.margin * purchase_probability * self.mean_spend[segment] - self.action_cost[action]


def compile_response(parameters: DynamicsParameters, assumptions: ScenarioAssumptions) -> ResponseTables:
    """The :class:`ResponseTables` of one parameter set in one scenario.

    The scenario picks the fatigue stock and multiplier, the unsubscribe curve, the
    costs, and the carryover ``rho`` whose calibrated ``(eta, alpha, beta)``
    are used (:meth:`DynamicsParameters.response_at`).

    Raises
    ------
    ParameterError
        When the scenario's carryover is not one the parameters were calibrated
        at, or its action costs do not match the actions.
    """
    n_actions = parameters.n_actions
    if len(assumptions.action_costs) != n_actions:
        raise ParameterError(
            f"ScenarioAssumptions.action_costs: received {len(assumptions.action_costs)} costs, expected one per "
            f"action ({n_actions}: {parameters.action_names})."
        )
    tilt, visit_effect, purchase_effect = parameters.response_at(assumptions.carryover)
    fatigue = np.arange(assumptions.max_fatigue + 1)
    multiplier = effect_multiplier(assumptions, fatigue)  # m(F) at each level
    actions = action_table(parameters.action_names, assumptions.action_costs)
    emails = actions.is_email

    def by_key(effect: np.ndarray) -> np.ndarray:
        # (A, G) effects -> (G, A, F+1) effects at each fatigue level.
        return effect.T[:, :, None] * multiplier

    visit_level = logit(parameters.visit_prob)
    purchase_level = parameters.purchase_offset + logit(parameters.purchase_prob)
    purchase_logit = purchase_level + by_key(purchase_effect)[..., None]
    # Without a calibrated visit channel a visit happens exactly with a purchase (the kernel ties the draws).
    visit_logit = purchase_logit if parameters.visits_follow_purchases else visit_level + by_key(visit_effect)[..., None]
    return ResponseTables(
        transition=tilted_transition(parameters.transition, by_key(tilt)),
        visit_logit=visit_logit,
        purchase_logit=purchase_logit,
        unsubscribe=np.where(emails[:, None], unsubscribe_probability(assumptions, fatigue)[None, :], 0.0),
        next_fatigue=next_fatigue(emails[:, None], fatigue[None, :], assumptions).astype(np.int64),
        action_cost=np.asarray(assumptions.action_costs, dtype=np.float64),
        mean_spend=mean_spend(parameters),
        margin=assumptions.margin,
        is_contact=actions.is_contact,
        is_email=emails,
    )

