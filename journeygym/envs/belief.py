"""The forward (HMM) filter of a customer's hidden engagement state from what the env shows.

:class:`BeliefTracker` runs the filter over the hidden state z on the
observations alone -- covariates, visits, purchases, the delivered actions and
fatigue -- with given parameters (the *posterior mean*: the model a
practitioner would have fitted).  It never reads the simulator's state, so it
works the same in training, in :func:`~journeygym.baselines.rollout.rollout`
and on a logged campaign.  Its users: the agents' belief features
(:class:`~journeygym.agents.sb3_wrappers.BeliefObservation`) and the belief
features of fitted-Q evaluation (:mod:`journeygym.ope.belief`).
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from journeygym.envs.observation import fatigue_column_values, observation_columns
from journeygym.envs.parameters import DynamicsParameters, ScenarioAssumptions
from journeygym.envs.response import compile_response

__all__ = ["BeliefTracker"]


class BeliefTracker:
    """Forward filter of the hidden state for a batch of customers, one week at a time.

    Parameters
    ----------
    parameters
        The model the filter believes in (use the posterior mean: the agent does
        not know which posterior draw it faces).
    assumptions
        The scenario (fatigue decay, fatigue cap); part of the stated world.

    Notes
    -----
    Call :meth:`observe` once per week with the batch's observations, in order.
    Rows whose ``week_fraction`` column is 0 start a new customer (belief =
    the model's initial state distribution given recency); the other rows are
    updated with the transition of the action delivered last week (the
    observation's ``last_action`` one-hot: after a frequency cap or a budget
    blocked a request, the "no action" the customer received) at the fatigue observed the week
    before, and the likelihood of this week's visit and purchase.  A batch of a
    different size, or a first call mid-episode, restarts the rows from the
    week-0 prior (the history before the call is unknown).
    """

    def __init__(self, parameters: DynamicsParameters, assumptions: ScenarioAssumptions) -> None:
        self.n_states = parameters.n_states
        self.n_actions = parameters.n_actions
        # The observation's fatigue column at each level, to read the level back (nearest value).
        self._fatigue_column_values = fatigue_column_values(assumptions.fatigue_stocks)
        self._population = parameters.population
        self._n_static = len(parameters.population.static_columns)
        self._visits_follow_purchases = parameters.visits_follow_purchases
        names = [c.name for c in observation_columns(parameters.population, parameters.action_names)]
        self._column = {name: names.index(name) for name in names}
        self._n_columns = len(names)
        self._last_action = slice(self._column[f"last_action_{parameters.action_names[0]}"], self._column[f"last_action_{parameters.action_names[0]}"] + self.n_actions)
        # The week's dynamics by (segment, action, fatigue): transitions (G, A, F+1, K, K), logits (G, A, F+1, K).
        self._response = compile_response(parameters, assumptions)
        self._initial = np.asarray(parameters.initial_state_by_recency)
        self._covariate_means = np.asarray(parameters.covariate_means)
        self._purchase_effects = np.asarray(parameters.purchase_covariate_effects)
        self._purchase_offsets = (np.asarray(parameters.purchase_segment_offset), np.asarray(parameters.purchase_recency_offset))
        if parameters.visits_follow_purchases:  # as the kernel: the visit channel is the purchase channel
            self._visit_effects, self._visit_offsets = self._purchase_effects, self._purchase_offsets
        else:
            self._visit_effects = np.asarray(parameters.visit_covariate_effects)
            self._visit_offsets = (np.asarray(parameters.visit_segment_offset), np.asarray(parameters.visit_recency_offset))
        self.belief = np.zeros((0, self.n_states))
        self._fatigue = np.zeros(0, dtype=np.int64)
        self._segment = np.zeros(0, dtype=np.int64)
        self._purchase_cov = np.zeros(0)
        self._visit_cov = np.zeros(0)

    def reset(self) -> None:
        """Forget every customer (the next call starts afresh)."""
        self.belief = np.zeros((0, self.n_states))

    def observe(self, observations: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """Update the belief with this week's observations and return it.

        Parameters
        ----------
        observations
            ``(n, D)`` observations of the customers at ``rows`` (all when None).
        rows
            Indices into the tracked batch; only with a batch already tracked.

        Returns
        -------
        numpy.ndarray
            ``(n, K)`` belief over the current hidden state of those customers.
        """
        obs = np.asarray(observations, dtype=np.float64)
        # A frequency cap adds one column at the end (weeks_until_email_allowed); every column read
        # here keeps its position, and the e-mail history reaches the filter through last_action.
        if obs.ndim != 2 or obs.shape[1] not in (self._n_columns, self._n_columns + 1):
            raise ValueError(
                f"BeliefTracker.observe: received observations of shape {obs.shape}, expected (n, {self._n_columns}) "
                f"raw journeygym observations, or (n, {self._n_columns + 1}) with a frequency cap "
                "(without belief columns)."
            )
        if rows is None:
            if self.belief.shape[0] != obs.shape[0]:
                self._allocate(obs.shape[0])
                rows = np.arange(obs.shape[0])
                self._start(rows, obs)
                return self.belief.copy()
            rows = np.arange(obs.shape[0])
        rows = np.asarray(rows)
        starting = obs[:, self._column["week_fraction"]] == 0.0
        if starting.any():
            self._start(rows[starting], obs[starting])
        if (~starting).any():
            self._update(rows[~starting], obs[~starting])
        return self.belief[rows].copy()

    def _allocate(self, n: int) -> None:
        self.belief = np.zeros((n, self.n_states))
        self._fatigue = np.zeros(n, dtype=np.int64)
        self._segment = np.zeros(n, dtype=np.int64)
        self._purchase_cov = np.zeros(n)
        self._visit_cov = np.zeros(n)

    def _start(self, rows: np.ndarray, obs: np.ndarray) -> None:
        design, segment, start = self._population.from_observation(obs[:, : self._n_static])
        covariates = design - self._covariate_means
        self._segment[rows] = segment
        # The same static logits as the simulator's: covariates, then the segment's and the recency's offsets.
        for target, effects, (by_segment, by_recency) in (
            (self._purchase_cov, self._purchase_effects, self._purchase_offsets),
            (self._visit_cov, self._visit_effects, self._visit_offsets),
        ):
            target[rows] = covariates @ effects + by_segment[segment] + by_recency[start]
        # The level the next action is delivered at (read by the next update), also for a customer first seen
        # mid-episode, whose belief starts from the week-0 prior.
        self._fatigue[rows] = self._observed_fatigue(obs)
        self.belief[rows] = self._initial[start]

    def _observed_fatigue(self, obs: np.ndarray) -> np.ndarray:
        observed = obs[:, self._column["fatigue"]].astype(np.float64)
        return np.argmin(np.abs(observed[:, None] - self._fatigue_column_values[None, :]), axis=1)

    def _update(self, rows: np.ndarray, obs: np.ndarray) -> None:
        c = self._column
        action = np.argmax(obs[:, self._last_action], axis=1)
        segment, fatigue = self._segment[rows], self._fatigue[rows]
        response = self._response
        predicted = np.einsum("nk,nkj->nj", self.belief[rows], response.transition[segment, action, fatigue])
        visited = obs[:, c["weeks_since_visit"]] == 0.0
        purchased = obs[:, c["weeks_since_purchase"]] == 0.0
        p_visit = expit(response.visit_logit[segment, action, fatigue] + self._visit_cov[rows, None])
        p_purchase = expit(response.purchase_logit[segment, action, fatigue] + self._purchase_cov[rows, None])
        likelihood = np.where(purchased[:, None], p_purchase, 1.0 - p_purchase)
        if not self._visits_follow_purchases:  # else the visit repeats the purchase and carries no news
            likelihood = np.where(visited[:, None], p_visit, 1.0 - p_visit) * likelihood
        posterior = predicted * likelihood
        total = posterior.sum(axis=1, keepdims=True)
        # Underflow cannot happen with these probabilities, but keep the prediction if it ever does.
        self.belief[rows] = np.where(total > 0, posterior / np.where(total > 0, total, 1.0), predicted)
        self._fatigue[rows] = self._observed_fatigue(obs)
