"""A myopic full-information policy: the best action for *this* week's reward, knowing the hidden state.

It is the oracle of :mod:`journeygym.baselines.oracle` with a one-week horizon,
re-solved every week: it sees z, the parameters and the covariates like the
oracle, but ignores every consequence beyond the current week (fatigue,
unsubscribes, engagement that lasts).  Comparing it with the oracle measures
how much of the value of full information is long-term (without
fatigue and fatigue-driven unsubscribes, the myopic policy is close to optimal).
Like the oracle it is a reference, not a deployable policy.
"""

from __future__ import annotations

from journeygym.baselines.oracle_policy import OraclePolicy
from journeygym.envs.parameters import ScenarioAssumptions

__all__ = ["MyopicOraclePolicy"]


class MyopicOraclePolicy(OraclePolicy):
    """Maximizes the expected reward of the current week given the true hidden state.

    The one-week problem does not depend on the week, so it is solved once per
    population and looked up every week.  Its value bounds nothing, so it records
    none and is never priced: under a contact budget it asks for the e-mails that
    pay this week and its priority is their gain this week.
    """

    name = "myopic_oracle"
    records_bound = False

    def decision_problem(self, assumptions: ScenarioAssumptions) -> ScenarioAssumptions:
        return assumptions.replace(horizon=1)
