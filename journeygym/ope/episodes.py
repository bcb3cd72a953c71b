"""A campaign log read as episodes: arrays over (customer, week) for the off-policy estimators.

:func:`episodes_from_frame` reads a table in the logged-data schema
(:mod:`journeygym.baselines.logged_data.schema`: one row per customer and
week) into :class:`LoggedEpisodes`.  Only ``customer_id``, ``week``, the
observation columns, ``action`` and ``reward`` are required; the
``propensity_<action>`` columns are optional.  Without them the behavior
policy is estimated from the log
(:func:`journeygym.ope.behavior.estimate_behavior_policy`) and every estimate
made from these episodes says so (:attr:`LoggedEpisodes.propensities_estimated`).

Episodes may have different lengths (a customer who joined late, a log cut
short): a customer's weeks must be ``0 .. L-1`` without gaps, and the weeks past
``L`` are padding (:attr:`LoggedEpisodes.mask` is False there, reward 0).

A real list is large (a million customers x 52 weeks is 52 million rows), so
the table is read into the arrays without a sorted copy of it: rows already in
(customer, week) order, as journeygym writes them, are copied as they are, others
through a sorting index, in blocks of :data:`CHUNK_ROWS` rows; observations stay
float32 and actions take the smallest integer type (:func:`action_dtype`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import numpy as np
import pandas as pd

from journeygym.baselines.logged_data.schema import (
    LoggedDataError,
    check_propensities,
    log_observation_names,
    propensity_columns,
)
from journeygym.envs.parameters import DEFAULT_ACTION_NAMES
from journeygym.ope.coded_probabilities import CodedProbabilities, encode_probabilities
from journeygym.ope.observation_store import WeeklyObservations

__all__ = [
    "CHUNK_ROWS",
    "FrameColumns",
    "LogColumns",
    "LoggedEpisodes",
    "OPEInputError",
    "action_dtype",
    "episodes_from_columns",
    "episodes_from_frame",
]


class OPEInputError(LoggedDataError):
    """A log or a target policy cannot be used for off-policy evaluation; the message says what to fix."""


@dataclass(frozen=True, eq=False)
class LoggedEpisodes:
    """A log as ``(N, H)`` arrays: N customers (episodes), H weeks.

    Attributes
    ----------
    observations
        ``(N, H, D)`` float32 observations before each week's action (padding
        repeats the customer's last observation): an array, or, read from a
        log, a :class:`~journeygym.ope.observation_store.WeeklyObservations`
        that stores the columns constant over each customer's weeks once per
        customer and indexes like the array.
    actions
        ``(N, H)`` logged (delivered) actions, of the smallest signed integer type that holds the action
        indices (int8 up to 128 actions: a log of 52 million customer-weeks holds them in 52 MB); 0 in padding.
    rewards
        ``(N, H)`` float64 rewards; 0 in padding.
    behavior_probabilities
        ``(N, H, A)`` probability of each action under the behavior policy
        (logged or estimated); one-hot on action 0 in padding.  Read from a log
        whose propensities take few distinct rows (a deployed policy's), a
        :class:`~journeygym.ope.coded_probabilities.CodedProbabilities`, which
        indexes like the array.
    mask
        ``(N, H)`` bool, True where a week was logged.
    action_names
        The log's action set, action 0 first.
    observation_names
        The D observation columns, in order (the env's ``observation_names`` without a frequency cap's column).
    customer_ids
        ``(N,)`` the customers' ids, in the arrays' order.
    propensities_estimated
        True when :attr:`behavior_probabilities` were estimated from the log
        rather than logged with it.
    metadata
        What the log says of itself (``attrs["journeygym"]`` of the table): seed,
        draws, behavior policy, horizon...
    """

    observations: np.ndarray | WeeklyObservations
    actions: np.ndarray
    rewards: np.ndarray
    behavior_probabilities: np.ndarray | CodedProbabilities | None
    mask: np.ndarray
    action_names: tuple[str, ...]
    observation_names: tuple[str, ...]
    customer_ids: np.ndarray
    propensities_estimated: bool = False
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def n_customers(self) -> int:
        """Number of episodes N."""
        return int(self.actions.shape[0])

    @property
    def horizon(self) -> int:
        """Number of weeks H of the longest episode."""
        return int(self.actions.shape[1])

    @property
    def n_actions(self) -> int:
        """Number of actions A."""
        return len(self.action_names)

    @property
    def subscribed(self) -> np.ndarray:
        """``(N, H)`` bool: the customer could be e-mailed that week (unsubscribed customers only get action 0)."""
        column = self.observation_names.index("subscribed")
        return self.observations[:, :, column] > 0.5

    @property
    def logged_propensities(self) -> np.ndarray:
        """``(N, H)`` the behavior policy's probability of the logged action."""
        if self.behavior_probabilities is None:
            raise OPEInputError(
                "these episodes carry no behavior propensities; estimate them with "
                "journeygym.ope.estimate_behavior_policy(episodes) first."
            )
        if isinstance(self.behavior_probabilities, CodedProbabilities):
            return self.behavior_probabilities.chosen(self.actions)
        return np.take_along_axis(self.behavior_probabilities, self.actions[:, :, None], axis=2)[:, :, 0]

    def with_behavior(self, probabilities: np.ndarray | CodedProbabilities, *, estimated: bool) -> LoggedEpisodes:
        """The same episodes with ``(N, H, A)`` behavior probabilities (checked against the logged actions)."""
        if not isinstance(probabilities, CodedProbabilities):
            probabilities = np.asarray(probabilities, dtype=np.float64)
        expected = (self.n_customers, self.horizon, self.n_actions)
        if probabilities.shape != expected:
            raise OPEInputError(f"behavior probabilities: received shape {probabilities.shape}, expected {expected} (N, H, A).")
        # Checked a block of customers at a time: the logged rows of a large log are not copied at once.
        step, checked = max(1, CHUNK_ROWS // max(self.horizon, 1)), 0
        for start in range(0, self.n_customers, step):
            block = slice(start, start + step)
            logged = self.mask[block]
            check_propensities(probabilities[block][logged], self.actions[block][logged], self.action_names, first_row=checked)
            checked += int(logged.sum())
        return replace(self, behavior_probabilities=probabilities, propensities_estimated=bool(estimated))

    def subset(self, customers: np.ndarray | slice) -> LoggedEpisodes:
        """The episodes of the customers at positions ``customers`` (an index or bool mask over N, or a slice: views)."""
        take = customers if isinstance(customers, slice) else np.asarray(customers)
        return replace(
            self,
            observations=self.observations[take],
            actions=self.actions[take],
            rewards=self.rewards[take],
            behavior_probabilities=None if self.behavior_probabilities is None else self.behavior_probabilities[take],
            mask=self.mask[take],
            customer_ids=self.customer_ids[take],
        )


class LogColumns(Protocol):
    """A log's columns, read one at a time: a DataFrame's (:class:`FrameColumns`) or a Parquet file's.

    ``columns`` are the column names in order and ``attrs`` the log's metadata (``attrs["journeygym"]``).
    """

    columns: list[str]
    attrs: dict[str, Any]

    @property
    def n_rows(self) -> int: ...

    def dtype(self, name: str) -> Any:
        """The column's dtype (numpy or pandas)."""

    def values(self, name: str) -> np.ndarray:
        """The column as a 1-D numpy array."""


class FrameColumns:
    """:class:`LogColumns` of a pandas DataFrame."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self.columns = list(frame.columns)
        self.attrs = frame.attrs

    @property
    def n_rows(self) -> int:
        return len(self.frame)

    def dtype(self, name: str) -> Any:
        return self.frame[name].dtype

    def values(self, name: str) -> np.ndarray:
        return self.frame[name].to_numpy()


def _action_names(frame: LogColumns, action_names: Sequence[str] | None) -> tuple[tuple[str, ...], bool]:
    """The log's action names and whether it has propensity columns; checks them against ``action_names``."""
    logged = [c[len("propensity_") :] for c in frame.columns if isinstance(c, str) and c.startswith("propensity_")]
    recorded = list(frame.attrs.get("journeygym", {}).get("action_names", []))
    found = logged or recorded
    expected = tuple(action_names) if action_names is not None else None
    if found and expected is not None and tuple(found) != expected:
        source = "its propensity_<action> columns" if logged else "its metadata"
        raise OPEInputError(
            f"log: {source} name the actions {found}, expected {list(expected)}; the log comes from another action "
            "set than the policies evaluated on it. Evaluate policies built for the log's actions."
        )
    names = tuple(found) if found else (expected or DEFAULT_ACTION_NAMES)
    return names, bool(logged)


def _require_columns(frame: LogColumns, names: tuple[str, ...]) -> list[str]:
    if missing := [c for c in ("customer_id", "week", "action", "reward") if c not in frame.columns]:
        raise OPEInputError(
            f"log: missing columns {missing}; expected at least customer_id, week, the observation columns, action and "
            "reward (the logged-data schema; propensity_<action> columns are optional)."
        )
    obs_names = log_observation_names(frame)
    if any(f"last_action_{name}" not in obs_names for name in names) or "subscribed" not in obs_names:
        raise OPEInputError(
            f"log: its observation columns {obs_names[:6]}{' ...' if len(obs_names) > 6 else ''} lack "
            f"{[f'last_action_{n}' for n in names if f'last_action_{n}' not in obs_names] + (['subscribed'] if 'subscribed' not in obs_names else [])}; "
            f"expected a journeygym observation for the actions {list(names)} between 'week' and 'action'."
        )
    required = ["customer_id", "week", *obs_names, "action", "reward"]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        last_action = [c for c in frame.columns if isinstance(c, str) and c.startswith("last_action_")]
        hint = (
            f" The log's last_action_* columns {last_action} suggest another action set."
            if last_action and any(c not in frame.columns for c in obs_names if c.startswith("last_action_"))
            else ""
        )
        raise OPEInputError(
            f"log: missing columns {missing}; expected at least {required} (the logged-data schema; "
            f"propensity_<action> columns are optional).{hint}"
        )
    not_numeric = [c for c in required if not pd.api.types.is_numeric_dtype(frame.dtype(c))]
    if not_numeric:
        raise OPEInputError(
            f"log: columns {not_numeric} are not numeric (dtypes {[str(frame.dtype(c)) for c in not_numeric]}); "
            "expected numbers."
        )
    return obs_names


def _checked_finite(frame: LogColumns, column: str, values: np.ndarray | None = None) -> np.ndarray:
    """The column's values (read unless given), checked finite."""
    values = frame.values(column) if values is None else values
    if values.dtype.kind in "iub":
        return values  # integers and booleans are finite
    finite = np.isfinite(values if values.dtype.kind == "f" else values.astype(np.float64))
    if not finite.all():
        bad = np.flatnonzero(~finite)
        row = int(bad[0])
        raise OPEInputError(
            f"log: column {column!r} has {bad.size} non-finite values (first {values[row]!r} at customer_id "
            f"{int(frame.values('customer_id')[row])}, week {int(frame.values('week')[row])}); expected finite numbers. "
            "Repair or drop those rows."
        )
    return values


#: Rows of a log copied at once into the episode arrays: the temporaries of a large log stay this size.
CHUNK_ROWS = 1 << 20


def action_dtype(n_actions: int) -> type[np.signedinteger]:
    """The smallest signed integer type that holds every action index."""
    return next(kind for kind in (np.int8, np.int16, np.int32) if n_actions - 1 <= np.iinfo(kind).max)


@dataclass(frozen=True)
class _Layout:
    """Where each row of a log goes in the ``(N, H)`` arrays.

    ``order`` sorts the rows by (customer, week), None when they already are.  ``episode`` and ``position``
    are the sorted rows' customer and week positions, None when every customer has the same weeks
    ``0 .. H-1`` (then sorted row ``r`` is ``(r // H, r % H)`` and each array is a column reshaped).
    """

    order: np.ndarray | None
    starts: np.ndarray
    lengths: np.ndarray
    episode: np.ndarray | None
    position: np.ndarray | None

    @property
    def n_customers(self) -> int:
        return int(self.starts.size)

    @property
    def horizon(self) -> int:
        return int(self.lengths.max())

    def fill(self, out: np.ndarray, values: np.ndarray) -> None:
        """``out[episode, position] =`` the rows of a column's ``values``, by chunks.

        ``out`` may be a strided view (one action's probabilities of an ``(N, H, A)`` array).
        """
        rows = values.shape[0]
        # Every customer has H rows when episode is None: chunks of whole customers then fill out[customers].
        step = CHUNK_ROWS if self.episode is not None else max(1, CHUNK_ROWS // self.horizon) * self.horizon
        for start in range(0, rows, step):
            stop = min(start + step, rows)
            take = slice(start, stop) if self.order is None else self.order[start:stop]
            block = values[take]
            if self.episode is None:
                out[start // self.horizon : stop // self.horizon] = block.reshape(-1, self.horizon, *block.shape[1:])
            else:
                out[self.episode[start:stop], self.position[start:stop]] = block


def _layout(customer: np.ndarray, week: np.ndarray) -> _Layout:
    """The :class:`_Layout` of a log's rows; checks every customer's weeks are 0..L-1 without gaps, one row each."""
    same = customer[1:] == customer[:-1]
    order = None
    if not np.all((customer[1:] > customer[:-1]) | (same & (week[1:] >= week[:-1]))):
        order = np.lexsort((week, customer))  # stable: rows repeating a week keep their order
        customer, week = customer[order], week[order]
        same = customer[1:] == customer[:-1]
    new = np.concatenate([[True], ~same])
    starts = np.flatnonzero(new)
    lengths = np.diff(np.r_[starts, customer.size])
    horizon = int(lengths.max())
    if np.all(lengths == horizon) and np.all(week.reshape(-1, horizon) == np.arange(horizon)):
        return _Layout(order, starts, lengths, None, None)
    episode = np.cumsum(new) - 1
    position = np.arange(customer.size) - starts[episode]
    wrong = np.flatnonzero(week != position)
    if wrong.size:
        i = int(wrong[0])
        weeks = week[starts[episode[i]] : (starts[episode[i] + 1] if episode[i] + 1 < starts.size else None)]
        what = "repeats" if position[i] > 0 and week[i] == week[i - 1] else "skips or starts late at"
        raise OPEInputError(
            f"log: customer_id {int(customer[i])} {what} week {int(week[i])} (its weeks: {weeks[:12].tolist()}"
            f"{' ...' if weeks.size > 12 else ''}); expected weeks 0, 1, ..., L-1 without gaps, one row each. "
            "Missing weeks inside an episode cannot be evaluated: drop the customer or the weeks after the gap."
        )
    return _Layout(order, starts, lengths, episode, position)


def episodes_from_frame(frame: Any, action_names: Sequence[str] | None = None) -> LoggedEpisodes:
    """Read a logged-data table as episodes.

    Parameters
    ----------
    frame
        A pandas DataFrame in the logged-data schema (``simulate_logged_data``,
        ``read_logged_data`` or a user's own log); the ``propensity_<action>``
        columns and the outcome columns other than ``reward`` are optional.
    action_names
        The action set the log must have (the target policies'); default: the
        log's own (its propensity columns or metadata), else the package's
        default actions.

    Returns
    -------
    LoggedEpisodes
        With :attr:`~LoggedEpisodes.behavior_probabilities` None when the log
        has no propensities (estimate them with
        :func:`journeygym.ope.behavior.estimate_behavior_policy`).

    Raises
    ------
    OPEInputError
        Naming the column or value: not a DataFrame, empty, missing or
        non-numeric columns, non-finite observations or rewards, missing weeks
        inside an episode, actions outside the action set, a log from another
        action set, propensities that do not sum to one or that give the logged
        action probability 0.
    """
    if not isinstance(frame, pd.DataFrame):
        raise OPEInputError(
            f"log: received {type(frame).__name__}, expected a pandas DataFrame in the logged-data schema "
            "(read one with journeygym.baselines.logged_data.read_logged_data)."
        )
    if frame.empty:
        raise OPEInputError(f"log: received an empty table (shape {frame.shape}); expected one row per customer and week.")
    return episodes_from_columns(FrameColumns(frame), action_names)


def episodes_from_columns(frame: LogColumns, action_names: Sequence[str] | None = None) -> LoggedEpisodes:
    """:func:`episodes_from_frame` of a log's :class:`LogColumns`, read a column at a time.

    Only a few columns of the log are in memory at once beside the episodes, so a log read from a Parquet
    file (:func:`journeygym.ope.parquet_log.episodes_from_parquet`) is never held whole.  Parameters,
    result and errors as :func:`episodes_from_frame`.
    """
    names, has_propensities = _action_names(frame, action_names)
    obs_names = _require_columns(frame, names)
    action = _checked_finite(frame, "action")
    integral = action.dtype.kind in "iub" or bool(np.all(action == np.round(action)))
    if not integral or action.min() < 0 or action.max() >= len(names):
        bad = np.unique(action[(action != np.round(action)) | (action < 0) | (action >= len(names))])[:5]
        raise OPEInputError(
            f"log: column 'action' holds {bad.tolist()}; expected integers in [0, {len(names) - 1}] for the actions "
            f"{list(names)}. A log from another action set cannot be evaluated with these policies."
        )
    customer = frame.values("customer_id")
    layout = _layout(customer, frame.values("week"))
    n, horizon = layout.n_customers, layout.horizon
    if layout.episode is None:
        mask = np.ones((n, horizon), dtype=bool)
    else:
        mask = np.zeros((n, horizon), dtype=bool)
        mask[layout.episode, layout.position] = True
    actions = np.zeros((n, horizon), dtype=action_dtype(len(names)))
    layout.fill(actions, action)
    del action
    rewards = np.zeros((n, horizon))
    layout.fill(rewards, _checked_finite(frame, "reward"))
    first_rows = layout.starts if layout.order is None else layout.order[layout.starts]

    episodes = LoggedEpisodes(
        observations=_observations(frame, obs_names, layout),
        actions=actions,
        rewards=rewards,
        behavior_probabilities=None,
        mask=mask,
        action_names=names,
        observation_names=tuple(obs_names),
        customer_ids=customer[first_rows].astype(np.int64),
        metadata=dict(frame.attrs.get("journeygym", {})),
    )
    del customer
    if not has_propensities:
        return episodes
    probabilities = np.zeros((n, horizon, len(names)))
    probabilities[:, :, 0] = 1.0
    for index, column in enumerate(propensity_columns(names)):
        layout.fill(probabilities[:, :, index], _checked_finite(frame, column))
    return episodes.with_behavior(encode_probabilities(probabilities), estimated=False)


def _observation_column(layout: _Layout, values: np.ndarray) -> np.ndarray:
    """``(N, H)`` float32 values of one observation column; padding repeats the customer's last logged week."""
    column = np.empty((layout.n_customers, layout.horizon), dtype=np.float32)
    layout.fill(column, values)
    short = np.flatnonzero(layout.lengths < layout.horizon)
    if short.size:  # a stateful policy then sees a plausible row
        fill = np.minimum(np.arange(layout.horizon)[None, :], layout.lengths[short, None] - 1)
        column[short] = np.take_along_axis(column[short], fill, axis=1)
    return column


def _observations(frame: LogColumns, obs_names: Sequence[str], layout: _Layout) -> WeeklyObservations:
    """The log's observations, its columns constant over each customer's weeks stored once per customer.

    Read in two passes of one column at a time: the first keeps the constant columns' values and finds the
    others, the second fills those in.  A million customers' 23 float32 columns are then 2.0 GiB, not 4.5, and
    no more than two columns are held beside them.
    """
    per_customer: list[np.ndarray] = []
    customer_columns: list[int] = []
    for index, name in enumerate(obs_names):
        column = _observation_column(layout, _checked_finite(frame, name))
        bits = column.view(np.uint32)  # bit for bit: -0.0 is not 0.0
        if bool(np.all(bits == bits[:, :1])):
            per_customer.append(column[:, 0].copy())
            customer_columns.append(index)
        del column, bits
    week_columns = [index for index in range(len(obs_names)) if index not in customer_columns]
    per_week = np.empty((layout.n_customers, layout.horizon, len(week_columns)), dtype=np.float32)
    for position, index in enumerate(week_columns):
        per_week[:, :, position] = _observation_column(layout, frame.values(obs_names[index]))
    stacked = np.stack(per_customer, axis=1) if per_customer else np.empty((layout.n_customers, 0), dtype=np.float32)
    return WeeklyObservations(stacked, per_week, customer_columns)
