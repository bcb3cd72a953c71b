"""The full-information oracle: exact backward induction per customer (docs/architecture.md, "The oracle").

With the hidden state z, the parameters and the customer's covariates known,
each customer's problem is a finite MDP over (week t, state z, fatigue f,
subscribed s).  It is solved exactly, customer by customer in a compiled loop
(:mod:`journeygym.baselines.oracle_loop`), for the
undiscounted return that reports use, so its value bounds every policy that
sees less.  The scenario's ``discount`` is deliberately not applied: it only
shapes what agents train for (see :class:`~journeygym.envs.parameters.ScenarioAssumptions`),
and an oracle of the discounted return would no longer bound the reported one.

Only the fatigue levels some e-mail history reaches by week t are solved at
week t (:func:`~journeygym.envs.fatigue.reachable_levels`); the actions at the
others are left at 0 and never looked up.

The same recursion can price every e-mail (``email_price``) and evaluate the
expected e-mails of the policy it computes; the budgeted oracle
(:mod:`journeygym.baselines.budgeted_oracle`) uses both to bound every policy
that keeps a weekly contact budget, and
:class:`~journeygym.baselines.oracle_policy.OraclePolicy` acts on it when the
scenario sets one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from journeygym.baselines.oracle_loop import action_bits, backward_induction, customer_blocks, packed_width, unpack_actions
from journeygym.envs.parameters import DynamicsParameters, ScenarioAssumptions
from journeygym.envs.fatigue import reachable_levels
from journeygym.envs.response import compile_response


@dataclass(frozen=True, eq=False)
class OracleSolution:
    """Optimal values and actions of N customers.

    Attributes
    ----------
    state_values
        ``(N, K)`` optimal expected return from week 0 given the week-0 hidden
        state (at the scenario's starting fatigue, subscribed).  With an e-mail price ``lambda`` it is the
        priced return, ``return - lambda * e-mails``.
    packed_actions, action_bits, n_fatigue
        The optimal action of a subscribed customer at week t in state z with
        fatigue f (unsubscribed customers cannot be e-mailed), ``action_bits``
        bits each, packed along the fatigue axis: read it with :meth:`actions_at`
        or, whole, :attr:`actions`.  At fatigue levels no history reaches by week
        t it is 0.
    expected_contacts
        ``(N, K)`` expected number of e-mails the policy delivers over the
        horizon from week 0 given the week-0 hidden state, or None when not
        asked for.
    advantages
        ``(H, N, K, F+1)`` float32 ``Q(best e-mail) - Q(no action)`` of a
        subscribed customer (at the price), or None when not asked for.
    email_price
        The price ``lambda`` added to the cost of every e-mail.
    never_values
        ``(N, K)`` expected return from week 0 without any e-mail (the value of
        an unsubscribed customer), or None when not asked for.
    """

    state_values: np.ndarray
    packed_actions: np.ndarray
    action_bits: int
    n_fatigue: int
    expected_contacts: np.ndarray | None = None
    advantages: np.ndarray | None = None
    email_price: float = 0.0
    never_values: np.ndarray | None = None

    def expected_values(self, initial_belief: np.ndarray) -> np.ndarray:
        """Expected optimal return per customer given its ``(N, K)`` week-0 state distribution."""
        return np.sum(self.state_values * initial_belief, axis=1)

    def actions_at(self, week: np.ndarray | int, customers: np.ndarray, hidden_state: np.ndarray, fatigue: np.ndarray) -> np.ndarray:
        """The optimal action of each subscribed customer at its week, hidden state and fatigue level."""
        codes = 8 // self.action_bits
        fatigue = np.asarray(fatigue, dtype=np.int64)
        packed = self.packed_actions[week, customers, hidden_state, fatigue // codes]
        return unpack_actions(packed, fatigue, self.action_bits)

    @property
    def actions(self) -> np.ndarray:
        """``(H, N, K, F+1)`` optimal action of a subscribed customer at week t in state z with fatigue f.

        Unpacked on every access (the solution keeps ``action_bits`` bits per action, a quarter of the
        memory with up to four actions); look single actions up with :meth:`actions_at`.
        """
        fatigue = np.arange(self.n_fatigue)
        codes = 8 // self.action_bits
        return unpack_actions(self.packed_actions[..., fatigue // codes], fatigue, self.action_bits).astype(np.int8)


def solve_oracle(
    parameters: DynamicsParameters,
    assumptions: ScenarioAssumptions,
    segment: np.ndarray,
    purchase_covariate_logit: np.ndarray,
    *,
    fixed_action: int | None = None,
    email_price: float = 0.0,
    contacts: bool = False,
    advantages: bool = False,
) -> OracleSolution:
    """Backward induction for every customer.

    Parameters
    ----------
    parameters, assumptions
        The dynamics and the scenario.
    segment, purchase_covariate_logit
        ``(N,)`` history segment and covariate purchase logit of each customer
        (as in :class:`~journeygym.envs.kernel.PopulationState`).
    fixed_action
        Evaluate the policy that always takes this action instead of optimizing
        (exact policy evaluation, used to check the simulator).
    email_price
        ``lambda >= 0`` added to the cost of every e-mail (the Lagrangian
        relaxation of a contact budget, :mod:`journeygym.baselines.budgeted_oracle`);
        0 solves the problem as stated.
    contacts
        Also evaluate the expected number of e-mails the policy delivers
        (:attr:`OracleSolution.expected_contacts`): a policy-evaluation
        recursion run alongside the value recursion; the expected return
        without e-mails (:attr:`OracleSolution.never_values`) comes with them.
    advantages
        Also keep ``Q(best e-mail) - Q(no action)`` of every week, state and
        fatigue (:attr:`OracleSolution.advantages`, ``4 H N K (F+1)`` bytes).
    """
    if not (np.isfinite(email_price) and email_price >= 0.0):
        raise ValueError(f"email_price: received {email_price!r}, expected a finite number >= 0 (a price per e-mail).")
    if advantages and fixed_action is not None:
        raise ValueError(
            f"advantages: received advantages=True with fixed_action={fixed_action!r}; the advantages compare "
            "actions, so ask for them only when the actions are optimized."
        )
    segment = np.asarray(segment)
    n_customers = segment.size
    n_states = parameters.n_states
    horizon, n_fatigue = assumptions.horizon, assumptions.max_fatigue + 1
    response = compile_response(parameters, assumptions)
    start = assumptions.initial_fatigue_level
    reachable = np.zeros((horizon, n_fatigue), dtype=np.bool_)
    for t, rows in enumerate(reachable_levels(response.next_fatigue, start, horizon)):
        reachable[t, rows] = True
    candidates = np.arange(response.n_actions) if fixed_action is None else np.array([fixed_action])
    state_values = np.zeros((n_customers, n_states))
    never_values = np.zeros((n_customers, n_states))
    bits = action_bits(response.n_actions)
    packed_actions = np.empty((horizon, n_customers, n_states, packed_width(n_fatigue, bits)), dtype=np.uint8)
    expected_contacts = np.zeros((n_customers if contacts else 0, n_states))
    gaps = np.zeros((horizon, n_customers, n_states, n_fatigue) if advantages else (0, 0, 0, 0), dtype=np.float32)
    order, block_starts = customer_blocks(segment)
    arguments = (
        order,
        block_starts,
        segment.astype(np.int64),
        np.asarray(purchase_covariate_logit, dtype=np.float64),
        np.ascontiguousarray(response.transition),
        np.ascontiguousarray(response.purchase_logit),
        response.margin * response.mean_spend,
        float(response.action_cost[0]),
        response.action_cost,
        response.is_contact,
        float(email_price),
        np.ascontiguousarray(response.unsubscribe),
        np.ascontiguousarray(response.next_fatigue),
        reachable,
        candidates.astype(np.int64),
        start,
        contacts,
        advantages,
        state_values,
        packed_actions,
        bits,
        expected_contacts,
        never_values,
        gaps,
    )
    backward_induction(numba.get_num_threads(), block_starts, arguments)
    return OracleSolution(
        state_values=state_values,
        packed_actions=packed_actions,
        action_bits=bits,
        n_fatigue=n_fatigue,
        expected_contacts=expected_contacts if contacts else None,
        advantages=gaps if advantages else None,
        email_price=float(email_price),
        never_values=never_values if contacts else None,
    )
