"""Logged campaign data: run a behavior policy in the simulator and keep what a practitioner would.

The seed baselines are trained the way a practitioner trains on past
campaigns (DESIGN 3): on a log of who was e-mailed, with which probability,
and what they did afterwards.  :func:`simulate_logged_data` produces that log
from the simulator, :func:`write_logged_data` / :func:`read_logged_data` store
it as Parquet, and :func:`validate_logged_data` checks any such table.

Schema (version :data:`LOGGED_DATA_SCHEMA_VERSION` = 1)
--------------------------------------------------------
One row per customer and week, sorted by ``customer_id`` then ``week``:

=========================  ========  ==================================================
column                     dtype     meaning
=========================  ========  ==================================================
``customer_id``            int64     customer identifier, unique within the table
``week``                   int64     week t, 0 .. H-1
*observation columns*      float32   the observation before the week's action, one
                                     column per :func:`observation_columns` name, in
                                     that order (23 columns for the three default actions)
``action``                 int64     the action delivered in week t (0 = no action)
``propensity_<action>``    float64   probability that the behavior policy delivers
                                     ``<action>`` given the observation; one column per
                                     action name, each row sums to 1
``visit``                  int8      1 if the customer visited in week t
``purchase``               int8      1 if the customer bought in week t
``spend``                  float64   dollars spent in week t (0 without a purchase)
``reward``                 float64   margin x spend - cost of the delivered action
``unsubscribed``           int8      1 if the customer unsubscribed in week t
``draw``                   int64     posterior draw of the parameters (-1 = the mean)
=========================  ========  ==================================================

With ``include_truth=True`` the simulator's ground truth is appended.  It is
never available in a real log and never a feature; it exists to score uplift
models against the true treatment effect:

* ``true_hidden_state`` (int64): the hidden engagement state z before the week's action.
* ``true_effect_<arm>`` (float64), one per e-mail arm: the exact increase of
  P(purchase in week t or t+1) from delivering ``<arm>`` in week t instead of
  nothing, with nothing in week t+1 -- the simulator's version of the
  Hillstrom two-week experiment (DESIGN 2.5).
* ``true_logged_effect_<arm>`` (float64): the same difference with week t+1's
  action drawn from the behavior policy, which is what a model trained on
  the log estimates (an e-mail in week t raises fatigue, which weakens the
  behavior's e-mail in week t+1, so the two differ).

Both are 0 for unsubscribed customers (an e-mail cannot reach them).

The behavior policy never e-mails unsubscribed customers, so the logged action
is the delivered action and its propensity is the true probability of what
happened: ``(1, 0, ..., 0)`` for unsubscribed customers.

Parquet files carry, under the metadata key ``journeygym.logged_data``, a JSON
record with the schema version, package version, config hash, seed, horizon,
action names and the behavior policy.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
from scipy.special import expit

import journeygym
from journeygym.envs.kernel import PopulationState
from journeygym.envs.observation import observation_columns
from journeygym.envs.parameters import DynamicsParameters, ScenarioAssumptions
from journeygym.envs.response import compile_response
from journeygym.envs.population_env import CustomerPopulationVectorEnv
from journeygym.envs.simulation import ArtifactSource
from journeygym.files import atomic_write_bytes
from journeygym.records import config_hash

__all__ = [
    "LOGGED_DATA_SCHEMA_VERSION",
    "METADATA_KEY",
    "BehaviorPolicy",
    "LoggedDataError",
    "RandomizedBehavior",
    "logged_data_columns",
    "propensity_columns",
    "read_logged_data",
    "simulate_logged_data",
    "two_week_purchase_effects",
    "validate_logged_data",
    "write_logged_data",
]

LOGGED_DATA_SCHEMA_VERSION = 1
METADATA_KEY = b"journeygym.logged_data"
_OUTCOME_COLUMNS: tuple[str, ...] = ("visit", "purchase", "spend", "reward", "unsubscribed")
_PROPENSITY_TOLERANCE = 1e-6


class LoggedDataError(ValueError):
    """A logged-data table does not follow the schema; the message says what to fix."""


class BehaviorPolicy(Protocol):
    """What :func:`simulate_logged_data` needs from the policy that generated the log."""

    def propensities(self, observations: np.ndarray, subscribed: np.ndarray, n_actions: int) -> np.ndarray:
        """``(n, A)`` probability of delivering each action given the observations; rows sum to 1.

        ``subscribed`` is the (n,) bool mask of reachable customers; an
        unsubscribed customer can only get action 0.
        """

    def describe(self) -> dict[str, Any]:
        """A JSON-able description stored with the log."""


@dataclass(frozen=True)
class RandomizedBehavior:
    """Each week, e-mail a subscribed customer with ``email_probability``, split over the arms.

    The default is the Hillstrom trial's randomization repeated weekly: no
    e-mail 1/3, each of the two arms 1/3.  Unsubscribed customers get no action.

    Parameters
    ----------
    email_probability
        Probability of an e-mail to a subscribed customer, in [0, 1].
    arm_weights
        Relative weight of each e-mail arm (actions 1..A-1); ``None`` splits evenly.
    """

    email_probability: float = 2.0 / 3.0
    arm_weights: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= float(self.email_probability) <= 1.0:
            raise ValueError(
                f"RandomizedBehavior.email_probability: received {self.email_probability!r}, expected a number in [0, 1]."
            )
        if self.arm_weights is not None:
            weights = tuple(float(w) for w in self.arm_weights)
            if not weights or any(w < 0 for w in weights) or sum(weights) <= 0:
                raise ValueError(
                    f"RandomizedBehavior.arm_weights: received {self.arm_weights!r}, expected non-negative weights "
                    "with a positive sum, one per e-mail arm."
                )
            object.__setattr__(self, "arm_weights", weights)

    def subscribed_probabilities(self, n_actions: int) -> np.ndarray:
        """``(A,)`` action probabilities of a subscribed customer."""
        weights = np.ones(n_actions - 1) if self.arm_weights is None else np.asarray(self.arm_weights, dtype=np.float64)
        if weights.size != n_actions - 1:
            raise ValueError(
                f"RandomizedBehavior.arm_weights: received {weights.size} weights, expected {n_actions - 1} "
                f"(one per e-mail arm of the {n_actions} actions)."
            )
        probabilities = np.empty(n_actions)
        probabilities[0] = 1.0 - self.email_probability
        probabilities[1:] = self.email_probability * weights / weights.sum()
        return probabilities

    def propensities(self, observations: np.ndarray, subscribed: np.ndarray, n_actions: int) -> np.ndarray:
        """``(n, A)`` propensities: the randomization for subscribed rows, no action otherwise."""
        out = np.zeros((observations.shape[0], n_actions))
        out[:, 0] = 1.0
        out[subscribed] = self.subscribed_probabilities(n_actions)
        return out

    def describe(self) -> dict[str, Any]:
        """JSON-able description of the behavior policy."""
        return {"kind": "randomized", "email_probability": self.email_probability, "arm_weights": self.arm_weights}


def propensity_columns(action_names: Sequence[str]) -> list[str]:
    """Names of the propensity columns, one per action."""
    return [f"propensity_{name}" for name in action_names]


def logged_data_columns(action_names: Sequence[str]) -> list[str]:
    """The required columns of a logged-data table, in order."""
    return [
        "customer_id",
        "week",
        *(c.name for c in observation_columns(tuple(action_names))),
        "action",
        *propensity_columns(action_names),
        *_OUTCOME_COLUMNS,
        "draw",
    ]


def _sample_actions(propensities: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    cumulative = np.cumsum(propensities, axis=1)[:, :-1]
    return (rng.random(propensities.shape[0])[:, None] >= cumulative).sum(axis=1).astype(np.int64)


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
        Append the ground-truth columns (see the module docstring).

    Returns
    -------
    pandas.DataFrame
        The log in the schema of the module docstring (N x H rows), with a
        description of how it was made in ``attrs["journeygym"]``.
    """
    if isinstance(n_customers, bool) or not isinstance(n_customers, (int, np.integer)) or n_customers < 1:
        raise ValueError(f"simulate_logged_data: received n_customers={n_customers!r}, expected an integer >= 1.")
    behavior = RandomizedBehavior() if behavior is None else behavior
    if isinstance(params, (str, int, np.integer)):
        episodes = [(params, int(n_customers))]
    else:
        draws = list(params)
        if not draws or len(draws) > n_customers:
            raise ValueError(
                f"simulate_logged_data: received params={params!r} for {n_customers} customers; expected a non-empty "
                "sequence of draw indices, at most one per customer."
            )
        sizes = np.diff(np.linspace(0, n_customers, len(draws) + 1).round().astype(int))
        episodes = list(zip(draws, sizes.tolist()))
    frames, first_id = [], 0
    for i, (draw, size) in enumerate(episodes):
        frames.append(
            _simulate_episode(size, seed + i, behavior, draw, artifact, scenario, horizon, include_truth, first_id)
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
    n_weeks = env.assumptions.horizon
    subscribed_column = [c.name for c in observation_columns(action_names)].index("subscribed")
    behavior_rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x6C6F67]))

    obs = np.empty((n_weeks, n_customers, observations.shape[1]), dtype=np.float32)
    actions = np.empty((n_weeks, n_customers), dtype=np.int64)
    propensities = np.empty((n_weeks, n_customers, n_actions))
    outcomes = {name: np.empty((n_weeks, n_customers)) for name in _OUTCOME_COLUMNS}
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
        week_actions = _sample_actions(week_propensities, behavior_rng)
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
        actions[t] = week_actions
        propensities[t] = week_propensities
        observations, reward, _, _, info = env.step(week_actions)
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
    for j, column in enumerate(observation_columns(action_names)):
        columns[column.name] = flat_obs[:, j]
    columns["action"] = customer_major(actions)
    flat_propensities = customer_major(propensities)
    for a, name in enumerate(propensity_columns(action_names)):
        columns[name] = flat_propensities[:, a]
    for name in _OUTCOME_COLUMNS:
        values = customer_major(outcomes[name])
        columns[name] = values if name in ("spend", "reward") else values.astype(np.int8)
    columns["draw"] = np.full(n_customers * n_weeks, env.draw_index, dtype=np.int64)
    for name, values in truth.items():
        columns[name] = customer_major(values)
    frame = pd.DataFrame(columns)
    frame.attrs["journeygym"] = {
        "schema_version": LOGGED_DATA_SCHEMA_VERSION,
        "horizon": n_weeks,
        "action_names": list(action_names),
        "behavior": behavior.describe(),
        "seed": int(seed),
    }
    return frame


def two_week_purchase_effects(
    state: PopulationState,
    parameters: DynamicsParameters,
    assumptions: ScenarioAssumptions,
    next_week_probabilities: np.ndarray | None = None,
) -> np.ndarray:
    """Exact effect of each action now on P(purchase in this week or the next), per customer.

    Week t: the customer in state (z, f, s) receives action a (a no-op when
    unsubscribed) and the week unfolds as the response model says
    (:mod:`journeygym.envs.response`, DESIGN 2.4).  Week t+1: no action if
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


# --------------------------------------------------------------------------
# validation and storage
# --------------------------------------------------------------------------


def _action_names_of(frame: pd.DataFrame) -> list[str]:
    names = [c[len("propensity_") :] for c in frame.columns if isinstance(c, str) and c.startswith("propensity_")]
    if not names:
        meta = frame.attrs.get("journeygym", {})
        names = list(meta.get("action_names", []))
    return names


def validate_logged_data(frame: Any, action_names: Sequence[str] | None = None) -> pd.DataFrame:
    """Check that ``frame`` follows the logged-data schema; return it unchanged.

    Parameters
    ----------
    frame
        The table to check.
    action_names
        Expected action names; default: read from the ``propensity_*`` columns.

    Raises
    ------
    LoggedDataError
        If the table is not a DataFrame, is empty, misses columns (the message
        lists the expected ones), holds NaNs, has propensities that do not sum
        to 1 or lie outside [0, 1], actions out of range, or actions the
        behavior policy could not have taken (propensity 0).
    """
    if not isinstance(frame, pd.DataFrame):
        raise LoggedDataError(
            f"logged data: received {type(frame).__name__}, expected a pandas DataFrame "
            "(from simulate_logged_data or read_logged_data)."
        )
    if frame.empty:
        raise LoggedDataError(
            f"logged data: received an empty table (shape {frame.shape}); expected one row per customer and week. "
            "Simulate with n_customers >= 1."
        )
    names = list(action_names) if action_names is not None else _action_names_of(frame)
    if len(names) < 2:
        raise LoggedDataError(
            "logged data: found no propensity_<action> columns for at least two actions; expected one per action, "
            "e.g. propensity_no_action, propensity_mens_email, propensity_womens_email."
        )
    expected = logged_data_columns(names)
    missing = [c for c in expected if c not in frame.columns]
    if missing:
        raise LoggedDataError(
            f"logged data: missing columns {missing}; expected columns (schema version "
            f"{LOGGED_DATA_SCHEMA_VERSION}): {expected}."
        )
    values = frame[expected]
    numeric = values.select_dtypes(include="number").columns
    not_numeric = [c for c in expected if c not in numeric]
    if not_numeric:
        raise LoggedDataError(
            f"logged data: columns {not_numeric} are not numeric (dtypes "
            f"{[str(frame[c].dtype) for c in not_numeric]}); expected numbers in every schema column."
        )
    nan_counts = values.isna().sum()
    if nan_counts.any():
        bad = nan_counts[nan_counts > 0]
        raise LoggedDataError(
            f"logged data: missing values (NaN) in {dict(bad.astype(int))}; expected none. "
            "Drop or repair those rows before fitting."
        )
    duplicated = frame.duplicated(["customer_id", "week"])
    if duplicated.any():
        first = frame.loc[duplicated, ["customer_id", "week"]].iloc[0].tolist()
        raise LoggedDataError(
            f"logged data: {int(duplicated.sum())} rows repeat a (customer_id, week) pair, e.g. {first}; expected one "
            "row per customer and week. Give concatenated logs distinct customer ids."
        )
    action = values["action"].to_numpy()
    if np.any(action != np.round(action)) or action.min() < 0 or action.max() >= len(names):
        bad = action[(action != np.round(action)) | (action < 0) | (action >= len(names))][:5]
        raise LoggedDataError(
            f"logged data: actions out of range, e.g. {bad.tolist()}; expected integers in [0, {len(names) - 1}] "
            f"for the actions {names}."
        )
    propensities = values[propensity_columns(names)].to_numpy(dtype=np.float64)
    if np.any(propensities < 0) or np.any(propensities > 1):
        raise LoggedDataError("logged data: propensities outside [0, 1]; expected probabilities.")
    sums = propensities.sum(axis=1)
    off = np.flatnonzero(np.abs(sums - 1.0) > _PROPENSITY_TOLERANCE)
    if off.size:
        raise LoggedDataError(
            f"logged data: propensities of {off.size} rows do not sum to 1 (first at row {int(off[0])}: "
            f"{sums[off[0]]:.6f}); expected each row of {propensity_columns(names)} to sum to 1."
        )
    taken = propensities[np.arange(len(action)), action.astype(np.int64)]
    impossible = np.flatnonzero(taken <= 0)
    if impossible.size:
        raise LoggedDataError(
            f"logged data: {impossible.size} rows log an action whose propensity is 0 (first at row "
            f"{int(impossible[0])}); the propensities must be those of the policy that chose the actions."
        )
    return frame


def write_logged_data(
    frame: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    config: Mapping[str, Any] | None = None,
    seed: int | None = None,
) -> Path:
    """Validate ``frame`` and write it to Parquet atomically (temporary file, then rename).

    Parameters
    ----------
    frame
        A logged-data table.
    path
        Destination ``.parquet`` file; its folder is created if needed.
    config
        The settings that produced the log; its hash is recorded.  Default: the
        table's own ``attrs`` record.
    seed
        The seed recorded; default the one in the table's ``attrs``.

    Returns
    -------
    pathlib.Path
        The written path.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    validate_logged_data(frame)
    path = Path(path)
    attrs = dict(frame.attrs.get("journeygym", {}))
    settings = dict(config) if config is not None else attrs
    chosen_seed = seed if seed is not None else attrs.get("seed")
    record = {
        **attrs,
        "version": journeygym.__version__,
        "config_hash": config_hash(settings),
        "seed": chosen_seed,
        "schema_version": LOGGED_DATA_SCHEMA_VERSION,
        "action_names": _action_names_of(frame),
    }
    table = pa.Table.from_pandas(frame.reset_index(drop=True), preserve_index=False)
    metadata = dict(table.schema.metadata or {})
    metadata[METADATA_KEY] = json.dumps(record, sort_keys=True, default=str).encode()
    table = table.replace_schema_metadata(metadata)
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return atomic_write_bytes(path, buffer.getvalue())



def read_logged_data(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read and validate a log written by :func:`write_logged_data`.

    The metadata record is returned in ``frame.attrs["journeygym"]``.

    Raises
    ------
    LoggedDataError
        If the file is missing, has no journeygym metadata, or has another schema version.
    """
    import pyarrow.parquet as pq

    path = Path(path)
    if not path.is_file():
        raise LoggedDataError(f"logged data: no file at {str(path)!r}; expected a Parquet file from write_logged_data.")
    table = pq.read_table(path)
    raw = (table.schema.metadata or {}).get(METADATA_KEY)
    if raw is None:
        raise LoggedDataError(
            f"logged data: {str(path)!r} has no {METADATA_KEY.decode()!r} metadata; expected a file written by "
            "write_logged_data."
        )
    record = json.loads(raw)
    if record.get("schema_version") != LOGGED_DATA_SCHEMA_VERSION:
        raise LoggedDataError(
            f"logged data: {str(path)!r} has schema version {record.get('schema_version')!r}, expected "
            f"{LOGGED_DATA_SCHEMA_VERSION}; re-create it with this version of journeygym."
        )
    frame = table.to_pandas()
    frame.attrs["journeygym"] = record
    return validate_logged_data(frame, record.get("action_names"))
