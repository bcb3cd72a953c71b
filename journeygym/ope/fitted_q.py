"""Backward fitted-Q on finite-horizon logs: evaluation of a policy (FQE) and an offline-trained agent (FQI).

One regression per week, from the last week back to the first.  For week
``t = H-1, ..., 0`` the target ``y = r_t + gamma * V_{t+1}(s_{t+1})`` is
regressed on ``(s_t, a_t)`` over the customers logged in week ``t``, where

* fitted-Q evaluation (:func:`fit_q_evaluation`, the direct method of
  off-policy evaluation) takes ``V_{t+1}(s') = sum_a pi(a | s') Q_{t+1}(s', a)``
  for a target policy ``pi``;
* fitted-Q iteration (:func:`fit_q_iteration`, the tree-ensemble method of
  Theocharous, Thomas & Ghavamzadeh 2015) takes ``V_{t+1}(s') = max_a Q_{t+1}(s', a)``
  over the actions the customer can receive;

``V_H = 0`` and ``V = 0`` past a customer's last logged week.  The next
state of week ``t`` is the logged observation of week ``t + 1``, so each week's
regressor is evaluated once, on that week's logged observations, for every
action; those predictions are both :attr:`FittedQ.q_values` and the next
week's backup.

An unsubscribed customer (observation ``subscribed = 0``) receives nothing
whatever the action, so ``Q_t(s, a) = Q_t(s, 0)`` there for every ``a``: the
predictions are set so, which makes the maximum of fitted-Q iteration a
maximum over the allowed actions (action 0) and keeps the regressor, which
never saw an unsubscribed customer e-mailed, from inventing a value for it.

The default regressor (gradient boosting, 40 trees of 15 leaves) was chosen by
measuring the direct method's bias against the true value of four policies on
uniform logs of the default artifact; the measurement and the candidates are in
``docs/results/fitted_q_model.md``.

``model`` names a built-in regressor (:data:`BUILTIN_MODELS`) or is any
scikit-learn regressor, cloned for every week with its ``random_state`` (if
it has one) derived from ``seed``.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import Ridge
from threadpoolctl import threadpool_limits

from journeygym.baselines.tree_kernel import TreeEnsembleKernel
from journeygym.envs.observation import column_positions
from journeygym.ope.episodes import CHUNK_ROWS, LoggedEpisodes, OPEInputError
from journeygym.ope.target import checked_target_array

__all__ = [
    "BUILTIN_MODELS",
    "DEFAULT_MODEL",
    "FEATURE_ENCODINGS",
    "FittedQ",
    "MAX_FIT_ROWS",
    "PerActionRegressor",
    "encode",
    "fit_q_evaluation",
    "fit_q_iteration",
]

#: Rows each week's regressor is fitted on, at most (a uniform random subset when a week has more); the
#: Q-values are then predicted on every row.  On a log of 1,000,000 customers (``benchmarks/bench_ope_scale.py``)
#: the direct-method value of never was 3.673 fitted on every row (759 s), 3.683 on 250,000 rows a week (369 s
#: with the compiled predictions, 270 s since they read each observation once for every action) and 4.136 on
#: 100,000 (306 s, before that change): the backups through 52 weeks amplify a smaller fit's error, so the cap
#: stays where it changed the value by 0.3%.  None fits on every row.
MAX_FIT_ROWS = 250_000

Encoding = Literal["one_hot", "interactions"]
#: How ``(observation, action)`` becomes a feature row: the observation with the
#: action one-hot appended, or the product of the action's one-hot with
#: ``(1, observation)`` (a separate linear model per action).
FEATURE_ENCODINGS: tuple[str, ...] = ("one_hot", "interactions")


class PerActionRegressor(RegressorMixin, BaseEstimator):
    """One clone of ``estimator`` per action, on the rows of the ``"one_hot"`` encoding whose action it is.

    A single regressor on the observation and the action's one-hot needs
    splits on the action to tell actions apart; with rare rewards it makes few,
    and ``Q(s, a)`` comes out nearly the same for every action.  Separate
    regressors never share a leaf between actions.

    Parameters
    ----------
    estimator
        The scikit-learn regressor cloned for every action.
    n_actions
        A: the last A feature columns are the action's one-hot.
    """

    def __init__(self, estimator: Any = None, n_actions: int = 3) -> None:
        self.estimator = estimator
        self.n_actions = n_actions

    def _split(self, features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        features = np.asarray(features)
        return features[:, : -self.n_actions], np.argmax(features[:, -self.n_actions :], axis=1)

    def fit(self, features: np.ndarray, target: np.ndarray) -> PerActionRegressor:
        """Fit one regressor per action (an action absent from the rows predicts the mean target)."""
        inputs, actions = self._split(features)
        target = np.asarray(target, dtype=np.float64)
        prototype = self.estimator if self.estimator is not None else HistGradientBoostingRegressor()
        self.models_: list[Any] = []
        self.fallback_ = float(target.mean()) if target.size else 0.0
        for action in range(self.n_actions):
            rows = actions == action
            self.models_.append(clone(prototype).fit(inputs[rows], target[rows]) if rows.any() else None)
        return self

    def predict(self, features: np.ndarray) -> np.ndarray:
        """The prediction of each row's action's regressor."""
        inputs, actions = self._split(features)
        out = np.full(inputs.shape[0], self.fallback_)
        for action, model in enumerate(self.models_):
            rows = actions == action
            if model is not None and rows.any():
                out[rows] = model.predict(inputs[rows])
        return out


#: Built-in regressors: name -> (factory of an unfitted regressor, feature encoding).
BUILTIN_MODELS: dict[str, tuple[Callable[[], Any], Encoding]] = {
    "hgb": (
        lambda: HistGradientBoostingRegressor(
            max_iter=40, max_leaf_nodes=15, learning_rate=0.15, min_samples_leaf=100, early_stopping=False
        ),
        "one_hot",
    ),
    "hgb_per_action": (
        lambda: PerActionRegressor(
            HistGradientBoostingRegressor(
                max_iter=40, max_leaf_nodes=15, learning_rate=0.15, min_samples_leaf=100, early_stopping=False
            )
        ),
        "one_hot",
    ),
    "ridge": (lambda: Ridge(alpha=1.0), "interactions"),
}
DEFAULT_MODEL = "hgb"



def _thread_limit(n_threads: int | None) -> AbstractContextManager[Any]:
    """Cap the OpenMP and BLAS pools at ``n_threads`` while regressors fit and predict (None: leave them)."""
    return nullcontext() if n_threads is None else threadpool_limits(limits=n_threads)


def encode(observations: np.ndarray, actions: np.ndarray, n_actions: int, encoding: str) -> np.ndarray:
    """Feature rows ``(n, F)`` of observation-action pairs (see :data:`FEATURE_ENCODINGS`)."""
    one_hot = np.zeros((actions.size, n_actions))
    one_hot[np.arange(actions.size), actions] = 1.0
    if encoding == "one_hot":
        return np.hstack([observations.astype(np.float64), one_hot])
    with_constant = np.hstack([np.ones((actions.size, 1)), observations.astype(np.float64)])
    return (one_hot[:, :, None] * with_constant[:, None, :]).reshape(actions.size, -1)


def _all_action_values(
    regressor: Any, observations: np.ndarray, n_actions: int, encoding: str, subscribed_column: int
) -> np.ndarray:
    """``(n, A)`` predictions for every action; unsubscribed rows get action 0's value.

    A gradient-boosting regressor predicts through the compiled kernel (scikit-learn's numbers, bit for
    bit), on the ``"one_hot"`` encoding every action straight from the observation.  Other regressors
    predict stacked encoded rows, one call per block of at most :data:`~journeygym.ope.episodes.CHUNK_ROWS`
    rows, so a week of a million customers is not encoded for every action at once.
    """
    kernel = TreeEnsembleKernel([regressor]) if isinstance(regressor, HistGradientBoostingRegressor) else None
    if kernel is not None and kernel.compiled and encoding == "one_hot":
        values = kernel.predict_per_action(observations, n_actions)
    else:
        predict = regressor.predict if kernel is None or not kernel.compiled else (lambda rows: kernel.predict(rows)[:, 0])
        n = observations.shape[0]
        values = np.empty((n, n_actions))
        step = max(1, CHUNK_ROWS // n_actions)
        for start in range(0, n, step):
            part = observations[start : start + step]
            m = part.shape[0]
            stacked = encode(np.tile(part, (n_actions, 1)), np.repeat(np.arange(n_actions), m), n_actions, encoding)
            values[start : start + m] = np.asarray(predict(stacked), dtype=np.float64).reshape(n_actions, m).T
    unsubscribed = observations[:, subscribed_column] <= 0.5
    values[unsubscribed] = values[unsubscribed, :1]
    return values


@dataclass(frozen=True, eq=False)
class FittedQ:
    """Per-week fitted Q-functions and their values on the log.

    Attributes
    ----------
    regressors
        The fitted regressor of each week ``0 .. H-1``.
    q_values
        ``(N, H, A)`` ``Q-hat_t(s_t, a)`` at every logged observation for every
        action; 0 in padding.
    state_values
        ``(N, H)`` ``V-hat_t(s_t)``: under the target policy (evaluation) or
        the greedy one (iteration); 0 in padding.  The direct-method estimate of
        the target's value is the mean of ``state_values[:, 0]``.
    action_names
        The log's actions.
    gamma
        The discount factor.
    method
        ``"evaluation"`` (FQE) or ``"iteration"`` (FQI).
    encoding
        The feature encoding of :data:`FEATURE_ENCODINGS` the regressors were fitted on.
    n_threads
        The threads the regressors predict with (None: the libraries' default).
    n_state_features
        Columns appended to the observation in every regression (the filter's
        belief, :mod:`journeygym.ope.belief`); 0 for the observation alone.
    """

    regressors: tuple[Any, ...]
    q_values: np.ndarray
    state_values: np.ndarray
    action_names: tuple[str, ...]
    observation_names: tuple[str, ...]
    gamma: float
    method: Literal["evaluation", "iteration"]
    encoding: str
    n_threads: int | None = 1
    n_state_features: int = 0

    @property
    def horizon(self) -> int:
        """Number of weeks H."""
        return len(self.regressors)

    @property
    def n_actions(self) -> int:
        """Number of actions A."""
        return len(self.action_names)

    def predict(self, week: int, observations: np.ndarray) -> np.ndarray:
        """``(n, A)`` ``Q-hat_week(s, a)`` for observations ``(n, D)`` of that week.

        With :attr:`n_state_features` the rows are the observation with those
        features appended, as the regressors were fitted: ``(n, D + n_state_features)``.

        Raises
        ------
        ValueError
            For a week outside ``[0, H-1]`` or observations of the wrong shape.
        """
        if isinstance(week, bool) or not isinstance(week, (int, np.integer)) or not 0 <= week < self.horizon:
            raise ValueError(
                f"FittedQ.predict: received week {week!r}, expected an integer in [0, {self.horizon - 1}]."
            )
        columns = column_positions(self.observation_names)
        array = np.asarray(observations)
        width = len(columns) + self.n_state_features
        if array.ndim != 2 or array.shape[1] != width or array.dtype.kind not in "fiu":
            extra = f" followed by the {self.n_state_features} state features it was fitted with" if self.n_state_features else ""
            raise ValueError(
                f"FittedQ.predict: received observations of dtype {array.dtype} and shape {array.shape}, expected a "
                f"numeric array (n, {width}) of the env's observation columns for the actions "
                f"{list(self.action_names)}{extra}."
            )
        with _thread_limit(self.n_threads):
            regressor = self.regressors[week]
            return _all_action_values(regressor, array, self.n_actions, self.encoding, columns["subscribed"])


def _regressor(model: Any, features: str | None) -> tuple[Any, str]:
    """An unfitted prototype regressor and its encoding, from a built-in name or a scikit-learn regressor."""
    if isinstance(model, str):
        if model not in BUILTIN_MODELS:
            raise ValueError(
                f"fitted-Q: unknown model {model!r}; expected one of {sorted(BUILTIN_MODELS)} or a scikit-learn "
                "regressor instance (e.g. sklearn.tree.DecisionTreeRegressor())."
            )
        factory, encoding = BUILTIN_MODELS[model]
        prototype = factory()
    elif all(callable(getattr(model, name, None)) for name in ("fit", "predict", "get_params")):
        prototype, encoding = clone(model), "one_hot"
    else:
        raise ValueError(
            f"fitted-Q: received model {model!r} ({type(model).__name__}); expected a built-in name "
            f"{sorted(BUILTIN_MODELS)} or a scikit-learn regressor with fit, predict and get_params."
        )
    if features is not None:
        if features not in FEATURE_ENCODINGS:
            raise ValueError(f"fitted-Q: received features={features!r}, expected one of {list(FEATURE_ENCODINGS)}.")
        encoding = features
    return prototype, encoding


def _week_seed(seed: int, week: int) -> int:
    return int(np.random.SeedSequence([int(seed), int(week)]).generate_state(1)[0])


def _fit_subset(n_rows: int, max_fit_rows: int | None, seed: int) -> slice | np.ndarray:
    """The rows a week's regressor is fitted on: all of them, or ``max_fit_rows`` drawn without replacement (sorted)."""
    if max_fit_rows is None or n_rows <= max_fit_rows:
        return slice(None)
    return np.sort(np.random.default_rng(seed).choice(n_rows, size=max_fit_rows, replace=False))


def _with_state_features(episodes: LoggedEpisodes, state_features: Any) -> np.ndarray:
    """``(N, H, D + K)`` the observations with the state features appended (the observations when None)."""
    if state_features is None:
        return episodes.observations
    extra = np.asarray(state_features)
    expected = (episodes.n_customers, episodes.horizon)
    if extra.ndim != 3 or extra.shape[:2] != expected or extra.dtype.kind not in "fiu" or not np.isfinite(extra).all():
        raise OPEInputError(
            f"fitted-Q: received state_features of dtype {extra.dtype} and shape {extra.shape}, expected finite numbers "
            f"of shape ({expected[0]}, {expected[1]}, K) (customers, weeks, features), e.g. journeygym.ope.belief_features(episodes)."
        )
    # np.asarray: the observations may be a compact WeeklyObservations; the concatenation is a full array anyway.
    observations = np.asarray(episodes.observations)
    return np.concatenate([observations, extra.astype(observations.dtype)], axis=2)


def _check_common(episodes: Any, gamma: Any, seed: Any, n_threads: Any, max_fit_rows: Any = None) -> None:
    if not isinstance(episodes, LoggedEpisodes):
        raise OPEInputError(
            f"fitted-Q: received {type(episodes).__name__}, expected LoggedEpisodes (read a log with "
            "journeygym.ope.episodes_from_frame)."
        )
    if isinstance(gamma, bool) or not isinstance(gamma, (int, float, np.number)) or not 0.0 <= gamma <= 1.0:
        raise ValueError(f"fitted-Q: received gamma={gamma!r}, expected a discount factor in [0, 1].")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"fitted-Q: received seed={seed!r}, expected a non-negative integer.")
    integer = isinstance(n_threads, (int, np.integer)) and not isinstance(n_threads, bool)
    if n_threads is not None and (not integer or n_threads < 1):
        raise ValueError(f"fitted-Q: received n_threads={n_threads!r}, expected a positive integer or None.")
    whole = isinstance(max_fit_rows, (int, np.integer)) and not isinstance(max_fit_rows, bool)
    if max_fit_rows is not None and (not whole or max_fit_rows < 1):
        raise ValueError(
            f"fitted-Q: received max_fit_rows={max_fit_rows!r}, expected a positive integer (rows per week) or None (all rows)."
        )


def _fit_backward(
    episodes: LoggedEpisodes,
    state_value: Callable[[np.ndarray, slice | np.ndarray, int], np.ndarray],
    method: Literal["evaluation", "iteration"],
    gamma: float,
    model: Any,
    features: str | None,
    seed: int,
    n_threads: int | None,
    state_features: Any = None,
    max_fit_rows: int | None = MAX_FIT_ROWS,
) -> FittedQ:
    """The backward recursion shared by FQE and FQI; ``state_value(q, rows, week)`` turns ``(n, A)`` Q into V."""
    prototype, encoding = _regressor(model, features)
    if isinstance(prototype, PerActionRegressor):
        if encoding != "one_hot":
            raise ValueError(f"fitted-Q: PerActionRegressor reads the 'one_hot' encoding; received features={encoding!r}.")
        prototype.set_params(n_actions=episodes.n_actions)
    inputs = _with_state_features(episodes, state_features)
    n, horizon, n_actions = episodes.n_customers, episodes.horizon, episodes.n_actions
    subscribed_column = episodes.observation_names.index("subscribed")
    q_values = np.zeros((n, horizon, n_actions))
    state_values = np.zeros((n, horizon))
    regressors: list[Any] = [None] * horizon
    with _thread_limit(n_threads):
        for week in reversed(range(horizon)):
            logged = np.flatnonzero(episodes.mask[:, week])
            # Every customer logged this week (the usual case): views, not gathered copies of a million rows.
            rows: slice | np.ndarray = slice(None) if logged.size == n else logged
            following = state_values[rows, week + 1] if week + 1 < horizon else 0.0  # 0 in padding: past the last week
            target = episodes.rewards[rows, week] + gamma * following
            observations = inputs[rows, week]
            regressor = clone(prototype)
            if "random_state" in regressor.get_params():
                regressor.set_params(random_state=_week_seed(seed, week))
            fit = _fit_subset(logged.size, max_fit_rows, _week_seed(seed, week))
            regressor.fit(encode(observations[fit], episodes.actions[rows, week][fit], n_actions, encoding), target[fit])
            q = _all_action_values(regressor, observations, n_actions, encoding, subscribed_column)
            q_values[rows, week] = q
            state_values[rows, week] = state_value(q, rows, week)
            regressors[week] = regressor
    return FittedQ(
        regressors=tuple(regressors),
        q_values=q_values,
        state_values=state_values,
        action_names=episodes.action_names,
        observation_names=episodes.observation_names,
        gamma=float(gamma),
        method=method,
        encoding=encoding,
        n_threads=n_threads,
        n_state_features=inputs.shape[2] - episodes.observations.shape[2],
    )


def fit_q_evaluation(
    episodes: LoggedEpisodes,
    target: np.ndarray,
    *,
    gamma: float = 1.0,
    model: Any = DEFAULT_MODEL,
    seed: int = 0,
    features: str | None = None,
    n_threads: int | None = 1,
    state_features: np.ndarray | None = None,
    max_fit_rows: int | None = MAX_FIT_ROWS,
) -> FittedQ:
    """Fitted-Q evaluation of a target policy: ``Q-hat_t`` of ``pi`` for every week, backward.

    Parameters
    ----------
    episodes
        The log.
    target
        ``(N, H, A)`` the target policy's action probabilities on the logged
        observations (:func:`journeygym.ope.target_probabilities`).
    gamma
        Discount factor in [0, 1].
    model
        A name of :data:`BUILTIN_MODELS` or a scikit-learn regressor (cloned for every week).
    seed
        Seeds each week's ``random_state`` (same seed, same numbers).
    features
        One of :data:`FEATURE_ENCODINGS`; default the built-in model's own,
        ``"one_hot"`` for a regressor of one's own.
    n_threads
        Threads of the OpenMP and BLAS pools while the regressors fit and
        predict (also for :meth:`FittedQ.predict`); None leaves the libraries'
        default.  One by default: on a machine shared with other work, OpenMP
        threads waiting at barriers made the same fit 13x slower (234 s against
        17 s for 20,000 x 52 on 2 busy cores), and on a quiet one a second
        thread saved little.
    state_features
        ``(N, H, K)`` columns appended to the observation in every regression (e.g. the filter's belief).
    max_fit_rows
        Rows each week's regressor is fitted on, at most (:data:`MAX_FIT_ROWS`): a week with more
        is fitted on a random subset (seeded by ``seed`` and the week), and the Q-values are
        predicted on every row.  None fits on every row.

    Returns
    -------
    FittedQ
        With ``state_values[:, 0]`` the per-customer direct-method values.

    Raises
    ------
    OPEInputError
        If ``episodes`` is not :class:`LoggedEpisodes` or ``target`` has the
        wrong shape or is not a probability per action on the logged rows.
    ValueError
        For an unknown model or encoding, gamma outside [0, 1], a negative seed, n_threads < 1.
    """
    _check_common(episodes, gamma, seed, n_threads, max_fit_rows)
    probabilities = checked_target_array(target, episodes, "fitted-Q evaluation: target probabilities")

    def expected_under_target(q: np.ndarray, rows: slice | np.ndarray, week: int) -> np.ndarray:
        return np.sum(probabilities[rows, week] * q, axis=1)

    return _fit_backward(
        episodes, expected_under_target, "evaluation", float(gamma), model, features, seed, n_threads, state_features,
        max_fit_rows,
    )


def fit_q_iteration(
    episodes: LoggedEpisodes,
    *,
    gamma: float = 1.0,
    model: Any = DEFAULT_MODEL,
    seed: int = 0,
    features: str | None = None,
    n_threads: int | None = 1,
    max_fit_rows: int | None = MAX_FIT_ROWS,
) -> FittedQ:
    """Fitted-Q iteration: ``Q-hat_t`` of the greedy policy for every week, backward.

    Parameters are those of :func:`fit_q_evaluation` without a target; the
    backup is the maximum over the actions a customer can receive (only action
    0 once unsubscribed).

    Returns
    -------
    FittedQ
        Its greedy policy is ``argmax_a`` of :meth:`FittedQ.predict`.

    Raises
    ------
    OPEInputError, ValueError
        As :func:`fit_q_evaluation`.
    """
    _check_common(episodes, gamma, seed, n_threads, max_fit_rows)

    def greedy(q: np.ndarray, rows: slice | np.ndarray, week: int) -> np.ndarray:
        return q.max(axis=1)  # unsubscribed rows hold action 0's value in every column

    return _fit_backward(episodes, greedy, "iteration", float(gamma), model, features, seed, n_threads, None, max_fit_rows)
