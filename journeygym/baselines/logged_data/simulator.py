"""Simulated campaign logs: a behavior policy run on simulated customers, logged as a practitioner would.

:func:`simulate_logged_data` runs one episode of
:class:`~journeygym.envs.population_env.CustomerPopulationVectorEnv` per
parameter draw, lets the behavior policy choose each week's action, and keeps
the observation, action, propensities and outcomes of every customer and week
(the schema of :mod:`journeygym.baselines.logged_data.schema`), optionally with
the simulator's ground truth
(:mod:`journeygym.baselines.logged_data.ground_truth`).

Under a scenario's contact rules (docs/architecture.md, "Contact rules") the env delivers only part of what
the behavior asks.  The log then records what a practitioner's send log holds:
the *delivered* action in ``action`` (the request in ``requested_action``) and
the probability of each delivered action after the rules
(:func:`delivered_propensities`); with a frequency cap, the observation's
``weeks_until_email_allowed`` column too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from journeygym.baselines.logged_data.behavior import BehaviorPolicy, RandomizedBehavior, sample_actions
from journeygym.baselines.logged_data.ground_truth import two_week_purchase_effects
from journeygym.baselines.logged_data.schema import LOGGED_DATA_SCHEMA_VERSION, OUTCOME_COLUMNS, propensity_columns
from journeygym.envs.parameters import ScenarioAssumptions
from journeygym.envs.population_env import CustomerPopulationVectorEnv
from journeygym.envs.simulation import ArtifactSource
from journeygym.records import to_jsonable

__all__ = ["delivered_propensities", "episode_plan", "simulate_logged_data"]


def episode_plan(n_customers: int, seed: int, params: str | int | Sequence[int]) -> list[tuple[str | int, int, int]]:
    """How a log of ``n_customers`` is simulated: ``(draw, customers, seed)`` per episode.

    One episode for ``"mean"``, ``"sample"`` or one draw index; for a sequence
    of draws the customers are split as evenly as possible, episode ``i`` on
    ``params[i]`` with seed ``seed + i``.  The customers of a log are those of
    these episodes, so a policy rolled out with the same plan meets them again
    (the ground truth of off-policy evaluation).
    """
    if isinstance(params, (str, int, np.integer)):
        return [(params if isinstance(params, str) else int(params), int(n_customers), int(seed))]
    draws = list(params)
    if not draws or len(draws) > n_customers:
        raise ValueError(
            f"simulate_logged_data: received params={params!r} for {n_customers} customers; expected a non-empty "
            "sequence of draw indices, at most one per customer."
        )
    sizes = np.diff(np.linspace(0, n_customers, len(draws) + 1).round().astype(int))
    return [(d if isinstance(d, str) else int(d), int(size), int(seed) + i) for i, (d, size) in enumerate(zip(draws, sizes))]


def delivered_propensities(propensities: np.ndarray, blocked: np.ndarray, keep_probability: float) -> np.ndarray:
    """Probabilities of the delivered actions, from the behavior's requests and the week's contact rules.

    A behavior gives no priorities, so a binding budget keeps a uniformly random
    subset of the ``m`` requests that passed the cap, of size ``k`` (the budget):
    each such request is kept with probability ``k / m``, the exact marginal of
    that draw given ``m``.

    Parameters
    ----------
    propensities
        ``(n, A)`` probabilities of the behavior's requests; rows sum to 1.
    blocked
        ``(n,)`` customers whom the frequency cap bars from e-mail this week
        (they get "no action" whatever is requested).
    keep_probability
        ``min(1, k / m)``, the share of uncapped requests the budget keeps (1 without a budget).

    Returns
    -------
    numpy.ndarray
        ``(n, A)``: e-mail arms scaled by ``keep_probability``, the rest on action 0; one-hot
        action 0 for blocked customers.
    """
    delivered = propensities.copy()
    if keep_probability < 1.0:
        delivered[:, 0] += (1.0 - keep_probability) * delivered[:, 1:].sum(axis=1)
        delivered[:, 1:] *= keep_probability
    delivered[blocked] = 0.0
    delivered[blocked, 0] = 1.0
    return delivered


def simulate_logged_data(
    n_customers: int,
    seed: int,
    *,
    behavior: BehaviorPolicy | None = None,
    params: str | int | Sequence[int] = "mean",
    artifact: ArtifactSource = None,
    scenario: ScenarioAssumptions | Mapping[str, Any] | None = None,
    horizon: int | None = None,
    include_truth: bool = False,
) -> pd.DataFrame:
    """Run ``behavior`` on ``n_customers`` simulated customers for one episode and log it.

    Parameters
    ----------
    n_customers
        Number of customers N.
    seed
        Seed of the simulator (customers and weekly noise) and, through a
        separate stream, of the behavior policy's randomization.
    behavior
        The behavior policy; default :class:`RandomizedBehavior` (Hillstrom-like).
    params
        ``"mean"``, ``"sample"``, a draw index, or a sequence of draw indices:
        then the customers are split as evenly as possible over those draws,
        episode ``i`` on ``params[i]`` with seed ``seed + i``, and the logs are
        concatenated (customer ids stay unique).
    artifact, scenario, horizon
        As for :class:`~journeygym.envs.population_env.CustomerPopulationVectorEnv`.
    include_truth
        Append the ground-truth columns (see :mod:`journeygym.baselines.logged_data.schema`).

    Returns
    -------
    pandas.DataFrame
        The log in the schema of :mod:`journeygym.baselines.logged_data.schema` (N x H rows), with a
        description of how it was made in ``attrs["journeygym"]``.  When the scenario sets contact
        rules, ``action`` is the delivered action, the propensities are those of the delivered
        action (:func:`delivered_propensities`) and the behavior's request is in
        ``requested_action``; with a frequency cap the observation's ``weeks_until_email_allowed``
        column is logged too.
    """
    if isinstance(n_customers, bool) or not isinstance(n_customers, (int, np.integer)) or n_customers < 1:
        raise ValueError(f"simulate_logged_data: received n_customers={n_customers!r}, expected an integer >= 1.")
    behavior = RandomizedBehavior() if behavior is None else behavior
    episodes = episode_plan(n_customers, seed, params)
    frames, first_id = [], 0
    for draw, size, episode_seed in episodes:
        frames.append(
            _simulate_episode(size, episode_seed, behavior, draw, artifact, scenario, horizon, include_truth, first_id)
        )
        first_id += size
    frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    frame.attrs["journeygym"] = {
        **frames[0].attrs["journeygym"],
        "seed": int(seed),
        "params": params if isinstance(params, (str, int)) else [d if isinstance(d, str) else int(d) for d in params],
        "n_customers": int(n_customers),
    }
    return frame


def _simulate_episode(
    n_customers: int,
    seed: int,
    behavior: BehaviorPolicy,
    params: str | int,
    artifact: ArtifactSource,
    scenario: ScenarioAssumptions | Mapping[str, Any] | None,
    horizon: int | None,
    include_truth: bool,
    first_customer_id: int,
) -> pd.DataFrame:
    env = CustomerPopulationVectorEnv(
        num_envs=n_customers, params=params, artifact=artifact, scenario=scenario, horizon=horizon, copy=True
    )
    observations, _ = env.reset(seed=seed)
    action_names = env.parameters.action_names
    n_actions = len(action_names)
    bind = getattr(behavior, "bind_actions", None)
    if callable(bind):
        bind(action_names, env.observation_names)
    n_weeks = env.assumptions.horizon
    rules = env.contact_rules
    logged_columns = env.observation_names
    subscribed_column = logged_columns.index("subscribed")
    behavior_rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x6C6F67]))

    obs = np.empty((n_weeks, n_customers, observations.shape[1]), dtype=np.float32)
    actions = np.empty((n_weeks, n_customers), dtype=np.int64)
    propensities = np.empty((n_weeks, n_customers, n_actions))
    requested = np.empty((n_weeks, n_customers), dtype=np.int64) if rules.active else None
    no_one = np.zeros(n_customers, dtype=bool)
    outcomes = {name: np.empty((n_weeks, n_customers)) for name in OUTCOME_COLUMNS}
    truth: dict[str, np.ndarray] = {}
    if include_truth:
        truth["true_hidden_state"] = np.empty((n_weeks, n_customers), dtype=np.int64)
        for name in action_names[1:]:
            truth[f"true_effect_{name}"] = np.empty((n_weeks, n_customers))
            truth[f"true_logged_effect_{name}"] = np.empty((n_weeks, n_customers))
    next_week = getattr(behavior, "subscribed_probabilities", None)

    for t in range(n_weeks):
        subscribed = observations[:, subscribed_column] > 0.5
        week_propensities = behavior.propensities(observations, subscribed, n_actions)
        week_actions = sample_actions(week_propensities, behavior_rng)
        if include_truth:
            state, parameters, assumptions = env.state, env.parameters, env.assumptions
            truth["true_hidden_state"][t] = state.hidden_state
            plain = two_week_purchase_effects(state, parameters, assumptions)
            logged = (
                two_week_purchase_effects(state, parameters, assumptions, next_week(n_actions))
                if next_week is not None
                else np.full_like(plain, np.nan)
            )
            for a, name in enumerate(action_names[1:], start=1):
                truth[f"true_effect_{name}"][t] = plain[:, a]
                truth[f"true_logged_effect_{name}"][t] = logged[:, a]
        obs[t] = observations
        # Whom the cap bars from e-mail this week, read before the step changes the history.
        blocked = rules.weeks_until_allowed(env.state.recent_emails) > 0 if rules.has_cap else no_one
        observations, reward, _, _, info = env.step(week_actions)
        if requested is not None:
            requested[t] = week_actions
            week_actions = week_actions * info["delivered"]
            passed = np.count_nonzero(info["requested"] & ~info["capped"])
            keep = env.last_budget / passed if rules.has_budget and passed > env.last_budget else 1.0
            week_propensities = delivered_propensities(week_propensities, blocked, keep)
        actions[t] = week_actions
        propensities[t] = week_propensities
        outcomes["visit"][t] = info["visited"]
        outcomes["purchase"][t] = info["purchased"]
        outcomes["spend"][t] = info["spend"]
        outcomes["reward"][t] = reward
        outcomes["unsubscribed"][t] = info["unsubscribed"]

    def customer_major(array: np.ndarray) -> np.ndarray:
        # (H, N, ...) -> (N * H, ...), customer by customer, week by week.
        return np.swapaxes(array, 0, 1).reshape(n_customers * n_weeks, *array.shape[2:])

    columns: dict[str, np.ndarray] = {
        "customer_id": np.repeat(
            np.arange(first_customer_id, first_customer_id + n_customers, dtype=np.int64), n_weeks
        ),
        "week": np.tile(np.arange(n_weeks, dtype=np.int64), n_customers),
    }
    flat_obs = customer_major(obs)
    for j, column in enumerate(logged_columns):
        columns[column] = flat_obs[:, j]
    columns["action"] = customer_major(actions)
    flat_propensities = customer_major(propensities)
    for a, name in enumerate(propensity_columns(action_names)):
        columns[name] = flat_propensities[:, a]
    for name in OUTCOME_COLUMNS:
        values = customer_major(outcomes[name])
        columns[name] = values if name in ("spend", "reward") else values.astype(np.int8)
    columns["draw"] = np.full(n_customers * n_weeks, env.draw_index, dtype=np.int64)
    if requested is not None:
        columns["requested_action"] = customer_major(requested)
    for name, values in truth.items():
        columns[name] = customer_major(values)
    frame = pd.DataFrame(columns)
    frame.attrs["journeygym"] = {
        "schema_version": LOGGED_DATA_SCHEMA_VERSION,
        "horizon": n_weeks,
        "action_names": list(action_names),
        "observation_names": list(logged_columns),
        "behavior": behavior.describe(),
        "seed": int(seed),
        "scenario": to_jsonable(env.assumptions.to_dict()),
    }
    return frame
