"""Ground truth a simulated log can carry: the exact effect of each action on a two-week purchase.

It is never available in a real log and never a feature; it exists to score
uplift models against the true treatment effect (the ``true_*`` columns of
:mod:`journeygym.baselines.logged_data.schema`).
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from journeygym.envs.kernel import PopulationState
from journeygym.envs.parameters import DynamicsParameters, ScenarioAssumptions
from journeygym.envs.response import compile_response

__all__ = ["two_week_purchase_effects"]


def two_week_purchase_effects(
    state: PopulationState,
    parameters: DynamicsParameters,
    assumptions: ScenarioAssumptions,
    next_week_probabilities: np.ndarray | None = None,
) -> np.ndarray:
    """Exact effect of each action now on P(purchase in this week or the next), per customer.

    Week t: the customer in state (z, f, s) receives action a (a no-op when
    unsubscribed) and the week unfolds as the response model says
    (:mod:`journeygym.envs.response`, docs/architecture.md, "The week of a customer").  Week t+1: no action if
    ``next_week_probabilities`` is None, otherwise an action drawn with those
    probabilities if the customer is still subscribed.  Exact expectations
    over the two-week Markov chain; no Monte Carlo.

    With ``next_week_probabilities=None`` this equals
    :func:`~journeygym.calibration.two_week.two_week_event_probability` with a
    one-hot belief, ``tilt = eta m(f)`` and ``effect = beta m(f)``, minus the
    same with no e-mail.

    Parameters
    ----------
    state
        The customers' full state before week t's action.
    parameters, assumptions
        The dynamics and scenario of the episode.
    next_week_probabilities
        ``(A,)`` action probabilities in week t+1 for a subscribed customer, or None.

    Returns
    -------
    numpy.ndarray
        ``(N, A)`` effects; column 0 (no action) is 0.
    """
    response = compile_response(parameters, assumptions)
    n_actions = parameters.n_actions
    segment, covariate_logit = state.segment, state.purchase_covariate_logit[:, None]

    def no_purchase_next_week(fatigue: np.ndarray, action: int) -> np.ndarray:
        # (n, K): P(no purchase in week t+1 | state after week t, action delivered in week t+1).
        matrices = response.transition[segment, action, fatigue]  # (n, K, K)
        no_purchase = 1.0 - expit(response.purchase_logit[segment, action, fatigue] + covariate_logit)
        return np.einsum("nkl,nl->nk", matrices, no_purchase)

    no_event = np.empty((state.n_customers, n_actions))
    for a in range(n_actions):
        delivered = np.where(state.subscribed, a, 0)
        week0 = response.transition[segment, delivered, state.fatigue, state.hidden_state]  # (n, K)
        no_purchase_week0 = 1.0 - expit(response.purchase_logit[segment, delivered, state.fatigue] + covariate_logit)
        fatigue_after = response.next_fatigue[delivered, state.fatigue]
        continuation = no_purchase_next_week(fatigue_after, 0)
        if next_week_probabilities is not None:
            probabilities = np.asarray(next_week_probabilities, dtype=np.float64)
            unsubscribe = response.unsubscribe[delivered, state.fatigue]
            still_subscribed = (state.subscribed * (1.0 - unsubscribe))[:, None]
            mixture = sum(probabilities[b] * no_purchase_next_week(fatigue_after, b) for b in range(n_actions))
            continuation = still_subscribed * mixture + (1.0 - still_subscribed) * continuation
        no_event[:, a] = np.sum(week0 * no_purchase_week0 * continuation, axis=1)
    return no_event[:, :1] - no_event
