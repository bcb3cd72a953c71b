"""Run a policy for one episode on the simulator, with common random numbers.

Every policy rolled out with the same seed and draw meets the same customers
and the same weekly noise: the kernel draws a fixed block of uniforms per week
whatever the actions are, so differences between policies are paired.

:func:`rollout` is the one evaluation loop of a :class:`~journeygym.baselines.base.Policy`
(or an agent wrapped by :func:`~journeygym.baselines.agent_protocol.as_policy`):
the experiments evaluate and tune with it, and off-policy evaluation takes its
ground truth from it.  It also counts the weeks between consecutive e-mails to
the same customer (:func:`count_gaps`), which reports show per policy
(:func:`journeygym.experiments.cadence.cadence_rows`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from journeygym.baselines.base import Policy
from journeygym.envs.kernel import PopulationState
from journeygym.envs.parameters import ScenarioAssumptions
from journeygym.envs.population_env import CustomerPopulationVectorEnv
from journeygym.envs.simulation import ArtifactSource

__all__ = ["GAP_BIN_LABELS", "GAP_BIN_STARTS", "Rollout", "WeekObserver", "count_gaps", "rollout", "rollout_on"]

#: Gaps between two e-mails to the same customer, in weeks, are counted in bins starting at these.
GAP_BIN_STARTS: tuple[int, ...] = (1, 2, 3, 5, 9)
#: The bins' labels.
GAP_BIN_LABELS: tuple[str, ...] = ("1 wk", "2 wks", "3-4 wks", "5-8 wks", "9+ wks")


def count_gaps(gaps: np.ndarray) -> np.ndarray:
    """``(len(GAP_BIN_STARTS),)`` counts of the gaps (in weeks, >= 1) per bin."""
    bins = np.searchsorted(np.asarray(GAP_BIN_STARTS), np.asarray(gaps, dtype=np.int64), side="right") - 1
    return np.bincount(bins, minlength=len(GAP_BIN_STARTS)).astype(np.int64)


@dataclass(frozen=True, eq=False)
class Rollout:
    """Per-customer outcomes of one policy over one episode (arrays of length N).

    ``requested`` counts the e-mails the policy asked for subscribed customers;
    ``contacts`` those delivered.  With contact rules, ``weekly_contacts``,
    ``weekly_subscribed`` and ``weekly_budget`` (-1 without a budget) are per
    week, ``capped``/``thinned`` count the requests each rule blocked, and
    ``enforcement`` says how the budget chose: ``"priority"`` (the policy's
    priorities), ``"random"`` (thinned at random) or ``"none"`` (no budget).
    ``email_gaps`` counts the weeks between consecutive e-mails to the same
    customer in the bins of :data:`GAP_BIN_STARTS`.
    """

    policy: str
    draw: int
    seed: int
    returns: np.ndarray
    contacts: np.ndarray
    purchases: np.ndarray
    unsubscribed: np.ndarray
    horizon: int
    state_names: tuple[str, ...] = ()
    segment_names: tuple[str, ...] = ()
    requested: np.ndarray | None = None
    weekly_contacts: np.ndarray | None = None
    weekly_subscribed: np.ndarray | None = None
    weekly_budget: np.ndarray | None = None
    capped: int = 0
    thinned: int = 0
    enforcement: str = "none"
    email_gaps: np.ndarray | None = None

    @property
    def mean_return(self) -> float:
        """Mean return per customer over the episode."""
        return float(self.returns.mean())

    @property
    def contact_rate(self) -> float:
        """E-mails delivered per customer-week."""
        return float(self.contacts.mean() / self.horizon)


#: Called every week with a copy of the customers' state at the time of the
#: decision and the step's ``info``; for diagnostics such as who gets contacted.
WeekObserver = Callable[[PopulationState, Mapping[str, np.ndarray]], None]


def rollout(
    policy: Policy,
    *,
    n_customers: int,
    seed: int,
    params: str | int = "mean",
    artifact: ArtifactSource = None,
    scenario: ScenarioAssumptions | Mapping[str, Any] | None = None,
    horizon: int | None = None,
    observer: WeekObserver | None = None,
) -> Rollout:
    """Run ``policy`` for one episode on ``n_customers`` customers (undiscounted returns)."""
    env = CustomerPopulationVectorEnv(
        num_envs=n_customers, params=params, artifact=artifact, scenario=scenario, horizon=horizon, copy=False
    )
    return rollout_on(env, policy, seed=seed, observer=observer)


def rollout_on(
    env: CustomerPopulationVectorEnv, policy: Policy, *, seed: int, observer: WeekObserver | None = None
) -> Rollout:
    """Run ``policy`` for one episode on an existing population env, reset with ``seed``.

    The loop of :func:`rollout`, for callers that keep an env across episodes (the
    learning curves of :mod:`journeygym.agents.learning_curves` evaluate on the same
    validation env at every checkpoint).  The env's contact rules apply as it holds them.
    """
    n_customers = env.num_envs
    observations, _ = env.reset(seed=seed)
    policy.bind_actions(env.action_names, env.observation_names)
    horizon = env.assumptions.horizon
    returns = np.zeros(n_customers)
    contacts = np.zeros(n_customers, dtype=np.int64)
    requested = np.zeros(n_customers, dtype=np.int64)
    purchases = np.zeros(n_customers, dtype=np.int64)
    weekly = {name: np.zeros(horizon, dtype=np.int64) for name in ("contacts", "subscribed", "budget")}
    blocked = {"capped": 0, "thinned": 0}
    last_email_week = np.full(n_customers, -1, dtype=np.int64)
    email_gaps = np.zeros(len(GAP_BIN_STARTS), dtype=np.int64)
    enforcement = "priority" if env.contact_rules.has_budget else "none"
    for week in range(horizon):
        before = env.state.copy() if observer is not None else None
        weekly["subscribed"][week] = np.count_nonzero(env.state.subscribed)
        if policy.uses_hidden_state:
            actions = policy.act_on_state(env.state, env.parameters, env.assumptions)
        else:
            actions = policy.act(observations)
        if env.contact_rules.has_budget:
            priorities = (
                policy.priority_on_state(env.state, env.parameters, env.assumptions)
                if policy.uses_hidden_state
                else policy.priority(observations)
            )
            if priorities is None:
                enforcement = "random"
            env.prioritize(priorities, source=f"policy {policy.name!r}: priority")
        observations, reward, _, _, info = env.step(actions)
        if before is not None:
            observer(before, info)
        returns += reward
        contacts += info["delivered"]
        purchases += info["purchased"]
        if "requested" in info:
            requested += info["requested"]
            blocked["capped"] += int(np.count_nonzero(info["capped"]))
            blocked["thinned"] += int(np.count_nonzero(info["thinned"]))
        else:
            requested += info["delivered"]
        weekly["contacts"][week] = np.count_nonzero(info["delivered"])
        emailed = np.flatnonzero(info["delivered"])
        earlier = last_email_week[emailed]
        email_gaps += count_gaps(week - earlier[earlier >= 0])
        last_email_week[emailed] = week
        weekly["budget"][week] = env.last_budget
    return Rollout(
        policy=policy.name,
        draw=env.draw_index,
        seed=seed,
        returns=returns,
        contacts=contacts,
        purchases=purchases,
        unsubscribed=~env.state.subscribed,
        horizon=horizon,
        state_names=tuple(env.parameters.state_names),
        segment_names=tuple(env.parameters.population.segment_labels),
        requested=requested,
        weekly_contacts=weekly["contacts"],
        weekly_subscribed=weekly["subscribed"],
        weekly_budget=weekly["budget"],
        capped=blocked["capped"],
        thinned=blocked["thinned"],
        enforcement=enforcement,
        email_gaps=email_gaps,
    )
