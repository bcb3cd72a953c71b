"""Scoring models trained on logged campaign data (the seed documents' look-alike and LTV models).

Every model starts from :class:`ObservationFeatures`, which selects observation
columns by name, so the same fitted model scores a logged-data DataFrame and
the raw observation batch a policy receives.  The learners are histogram
gradient boosting (fast on a million rows, no scaling, handles the mixed
binary / ordinal / continuous columns and their interactions).

Labels (built by the ``*_labels`` functions from a log sorted by customer and week):

* response -- a purchase in week t or t+1 (``RESPONSE_WINDOW`` = 2 weeks, the
  Hillstrom outcome window);
* LTV -- the spend from week t to the end of the horizon H-1;
* churn -- no purchase in weeks t .. t+11 (``CHURN_WINDOW`` = 12 weeks).

A label that needs future weeks is built only where that window lies inside
the customer's log (for LTV: where the log reaches week H-1); elsewhere it
is NaN and the row is not used for that model.  So the last week of the
horizon has no response label and the last 11 weeks no churn label.

Models used before fitting raise :class:`sklearn.exceptions.NotFittedError`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from journeygym.baselines.logged_data import log_observation_names, propensity_columns, validate_logged_data
from journeygym.baselines.tree_kernel import TreeEnsembleKernel
from journeygym.envs.parameters import DEFAULT_ACTION_NAMES

__all__ = [
    "CHURN_WINDOW",
    "RESPONSE_WINDOW",
    "ClassTransformationLearner",
    "ObservationFeatures",
    "ScoringModels",
    "TLearner",
    "churn_labels",
    "future_window_sum",
    "logged_horizon",
    "ltv_labels",
    "make_classifier",
    "make_regressor",
    "response_labels",
]

RESPONSE_WINDOW = 2
CHURN_WINDOW = 12
_TREE_SETTINGS: dict[str, Any] = {
    "learning_rate": 0.2,
    "max_iter": 40,
    "max_depth": 3,
    "max_leaf_nodes": 8,
    "min_samples_leaf": 200,
    "l2_regularization": 1.0,
    "early_stopping": True,
    "validation_fraction": 0.1,
    "n_iter_no_change": 5,
}
SCORING_COMPONENTS: tuple[str, ...] = ("response", "ltv", "t_learner", "class_transformation", "churn")


def _not_fitted(owner: str, what: str = "fit(...)") -> NotFittedError:
    return NotFittedError(f"This {owner} instance is not fitted yet; call {what} before using it to predict.")


# --------------------------------------------------------------------------
# features
# --------------------------------------------------------------------------


class ObservationFeatures(TransformerMixin, BaseEstimator):
    """Select observation columns by name from a DataFrame or an observation array.

    Parameters
    ----------
    columns
        Observation column names to keep; ``None`` keeps all of them.
    observation_names
        All observation columns, in order (the log's or the env's ``observation_names``).

    Attributes
    ----------
    columns_ : list of str
        The selected columns, in output order.
    indices_ : numpy.ndarray
        Their positions in an observation array.
    n_features_in_ : int
        Width of an observation array.
    """

    def __init__(self, columns: Sequence[str] | None = None, observation_names: Sequence[str] = ()) -> None:
        self.columns = columns
        self.observation_names = observation_names

    def fit(self, X: Any = None, y: Any = None) -> ObservationFeatures:
        """Resolve the column names to positions; ``X`` is not needed."""
        names = list(self.observation_names)
        chosen = list(names) if self.columns is None else list(self.columns)
        unknown = [c for c in chosen if c not in names]
        if unknown or not chosen:
            raise ValueError(
                f"ObservationFeatures.columns: received unknown or no columns {unknown or chosen}; "
                f"expected a non-empty subset of {names}."
            )
        self.columns_ = chosen
        self.indices_ = np.array([names.index(c) for c in chosen])
        self.n_features_in_ = len(names)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """``(n, len(columns_))`` float32 features."""
        check_is_fitted(self, "columns_", msg=str(_not_fitted(type(self).__name__)))
        if isinstance(X, pd.DataFrame):
            missing = [c for c in self.columns_ if c not in X.columns]
            if missing:
                raise ValueError(f"ObservationFeatures: the table lacks the observation columns {missing}.")
            return X[self.columns_].to_numpy(dtype=np.float32)
        array = np.asarray(X)
        # A frequency cap appends one column (weeks_until_email_allowed); the scoring models do not use it.
        if array.ndim != 2 or array.shape[1] not in (self.n_features_in_, self.n_features_in_ + 1):
            raise ValueError(
                f"ObservationFeatures: received an array of shape {array.shape}, expected (n, {self.n_features_in_}) "
                "observations in the column order of the env's observation_names "
                f"(or (n, {self.n_features_in_ + 1}) with a frequency cap's column last)."
            )
        if array.shape[1] != self.n_features_in_:
            array = array[:, : self.n_features_in_]
        if self.indices_.size == self.n_features_in_ and np.array_equal(self.indices_, np.arange(self.n_features_in_)):
            return array
        return array[:, self.indices_]

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """The selected column names."""
        check_is_fitted(self, "columns_", msg=str(_not_fitted(type(self).__name__)))
        return np.asarray(self.columns_, dtype=object)


def make_classifier(random_state: int | None = 0, **overrides: Any) -> HistGradientBoostingClassifier:
    """The default classifier: histogram gradient boosting with early stopping.

    Shallow trees, large leaves and L2 regularization: the outcomes are rare
    (well under 1% of customer-weeks buy) and depend on a hidden state that
    the observation only hints at, so bigger trees fit noise.  On a simulated
    log of 5,000 customers, 130 trees of 15 leaves at learning rate 0.1 reached
    no better held-out ROC-AUC (0.751) than 50 depth-3 trees at 0.2 (0.757).
    Few trees matter because a policy scores every customer every week and
    prediction time grows linearly with the number of trees.
    """
    settings = {**_TREE_SETTINGS, "random_state": random_state, **overrides}
    return HistGradientBoostingClassifier(**settings)


def make_regressor(random_state: int | None = 0, **overrides: Any) -> HistGradientBoostingRegressor:
    """The default regressor for revenue: Poisson loss (log link, non-negative mean), early stopping.

    Future revenue is zero for most customers and skewed for the rest; the
    Poisson deviance models its mean without assuming a distribution and
    keeps predictions positive.  Learning rate 0.3 and at most 15 trees: on
    simulated logs of 5,000 customers (two seeds) this matched the held-out
    Poisson deviance of 40 trees at 0.2 (41.7 / 41.6 vs 41.6 / 41.5) and beat
    20 trees at 0.3, so the extra trees only cost prediction time.
    """
    settings = {
        **_TREE_SETTINGS,
        "loss": "poisson",
        "learning_rate": 0.3,
        "max_iter": 15,
        "random_state": random_state,
        **overrides,
    }
    return HistGradientBoostingRegressor(**settings)


def _pipeline(model: BaseEstimator, observation_names: Sequence[str], columns: Sequence[str] | None) -> Pipeline:
    return Pipeline([("features", ObservationFeatures(columns, tuple(observation_names))), ("model", model)])


def _fit_with_weights(
    estimator: BaseEstimator, X: Any, y: np.ndarray, sample_weight: np.ndarray | None
) -> BaseEstimator:
    if sample_weight is None:
        return estimator.fit(X, y)
    key = f"{estimator.steps[-1][0]}__sample_weight" if isinstance(estimator, Pipeline) else "sample_weight"
    return estimator.fit(X, y, **{key: sample_weight})


# --------------------------------------------------------------------------
# labels
# --------------------------------------------------------------------------


def logged_horizon(frame: pd.DataFrame) -> int:
    """Horizon H of a log: from its ``attrs`` record, else the last logged week + 1."""
    record = frame.attrs.get("journeygym", {})
    if "horizon" in record:
        return int(record["horizon"])
    return int(frame["week"].max()) + 1


def _sorted_arrays(frame: pd.DataFrame, column: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    customer = frame["customer_id"].to_numpy()
    week = frame["week"].to_numpy()
    order = np.lexsort((week, customer))
    return order, customer[order], week[order], frame[column].to_numpy(dtype=np.float64)[order]


def future_window_sum(frame: pd.DataFrame, column: str, window: int) -> pd.Series:
    """Sum of ``column`` over weeks t .. t+window-1 of the same customer; NaN where the log ends earlier."""
    if window < 1:
        raise ValueError(f"future_window_sum: received window={window}, expected >= 1 week.")
    order, customer, week, values = _sorted_arrays(frame, column)
    n = values.size
    cumulative = np.concatenate([[0.0], np.cumsum(values)])
    start = np.arange(n)
    end = start + window - 1
    inside = end < n
    end_clipped = np.minimum(end, n - 1)
    valid = inside & (customer[end_clipped] == customer) & (week[end_clipped] == week + window - 1)
    sums = np.where(valid, cumulative[np.minimum(start + window, n)] - cumulative[start], np.nan)
    out = np.empty(n)
    out[order] = sums
    return pd.Series(out, index=frame.index, name=f"{column}_next_{window}")


def response_labels(frame: pd.DataFrame, window: int = RESPONSE_WINDOW) -> pd.Series:
    """1.0 if the customer buys in weeks t .. t+window-1, 0.0 if not, NaN past the log's end."""
    purchases = future_window_sum(frame, "purchase", window)
    return (purchases > 0).astype("float64").where(purchases.notna()).rename("response")


def churn_labels(frame: pd.DataFrame, window: int = CHURN_WINDOW) -> pd.Series:
    """1.0 if the customer buys nothing in weeks t .. t+window-1, 0.0 if they buy, NaN past the log's end."""
    return (1.0 - response_labels(frame, window)).rename("churn")


def ltv_labels(frame: pd.DataFrame, horizon: int | None = None) -> pd.Series:
    """Spend from week t to the horizon's last week H-1; NaN where the customer's log does not reach H-1."""
    horizon = logged_horizon(frame) if horizon is None else horizon
    order, customer, week, spend = _sorted_arrays(frame, "spend")
    n = spend.size
    # Suffix sums within each customer: total from row i to the customer's last row.
    boundaries = np.flatnonzero(np.diff(customer)) + 1
    last_row = np.repeat(np.append(boundaries, n) - 1, np.diff(np.concatenate([[0], boundaries, [n]])))
    cumulative = np.concatenate([[0.0], np.cumsum(spend)])
    remaining = cumulative[last_row + 1] - cumulative[np.arange(n)]
    complete = (week[last_row] == horizon - 1) & (last_row - np.arange(n) == horizon - 1 - week)
    out = np.empty(n)
    out[order] = np.where(complete, remaining, np.nan)
    return pd.Series(out, index=frame.index, name="ltv")


# --------------------------------------------------------------------------
# uplift learners
# --------------------------------------------------------------------------


class _UpliftLearner(BaseEstimator):
    """What the two uplift learners share: the base classifier, the control action and row selection."""

    def __init__(
        self,
        estimator: BaseEstimator | None = None,
        control: int = 0,
        action_names: Sequence[str] = DEFAULT_ACTION_NAMES,
    ) -> None:
        self.estimator = estimator
        self.control = control
        self.action_names = action_names

    def _base(self) -> BaseEstimator:
        """The classifier to clone per action or arm."""
        return self.estimator if self.estimator is not None else make_classifier()

    @staticmethod
    def _rows(X: Any, rows: np.ndarray) -> Any:
        return X.loc[rows] if isinstance(X, pd.DataFrame) else np.asarray(X)[rows]


class TLearner(_UpliftLearner):
    """Two-model (T-)learner: one response model per action; uplift = P(y | x, a) - P(y | x, control).

    Parameters
    ----------
    estimator
        Classifier cloned for each action; default a :func:`make_classifier` pipeline.
    control
        The control action (no e-mail).
    action_names
        Action names of the observation (for the default feature builder).

    Attributes
    ----------
    actions_ : numpy.ndarray
        The actions seen in fitting, sorted.
    models_ : dict
        The fitted model of each action.
    """

    def fit(self, X: Any, y: Any, action: Any) -> TLearner:
        """Fit one model per action on the rows that received it."""
        y, action = np.asarray(y), np.asarray(action)
        if y.shape != action.shape or y.shape[0] != len(X):
            raise ValueError(
                f"TLearner.fit: received X with {len(X)} rows, y of shape {y.shape} and action of shape "
                f"{action.shape}; expected one label and one action per row."
            )
        actions = np.unique(action)
        if self.control not in actions or actions.size < 2:
            raise ValueError(
                f"TLearner.fit: received actions {actions.tolist()}, expected the control action {self.control} "
                "and at least one other action."
            )
        base = self._base()
        self.models_ = {}
        for a in actions:
            rows = action == a
            if np.unique(y[rows]).size < 2:
                raise ValueError(
                    f"TLearner.fit: the rows with action {a} have a single label value; expected both outcomes. "
                    "Log more customers."
                )
            X_a = self._rows(X, rows)
            self.models_[int(a)] = clone(base).fit(X_a, y[rows])
        self.actions_ = actions
        return self

    def predict_response(self, X: Any) -> np.ndarray:
        """``(n, A)`` P(y = 1 | x, a) for every action seen in fitting (columns in ``actions_`` order)."""
        check_is_fitted(self, "models_", msg=str(_not_fitted(type(self).__name__, "fit(X, y, action)")))
        return np.column_stack([self.models_[int(a)].predict_proba(X)[:, 1] for a in self.actions_])

    def predict_uplift(self, X: Any) -> np.ndarray:
        """``(n, A)`` P(y | x, a) - P(y | x, control); the control column is 0."""
        return self.uplift_from_response(self.predict_response(X))

    def uplift_from_response(self, response: np.ndarray) -> np.ndarray:
        """The uplift of :meth:`predict_uplift` from the ``(n, A)`` responses of :meth:`predict_response`."""
        control = int(np.flatnonzero(self.actions_ == self.control)[0])
        return response - response[:, [control]]


class ClassTransformationLearner(_UpliftLearner):
    """Class-transformation uplift learner (Jaskowski & Jaroszewicz 2012) with logged propensities.

    For each arm a, on the rows whose action is a or the control and where
    both had positive propensity: W = 1 for arm a, e = p_a / (p_a + p_0) the
    probability of W = 1 within those rows, and the new class
    ``Z = y W + (1 - y)(1 - W)``.  Rows are weighted ``1 / (2e)`` (W = 1) and
    ``1 / (2(1 - e))`` (W = 0), which balances the arms, so that
    ``P(Z = 1 | x) = (1 + uplift(x)) / 2``: uplift = ``2 P(Z = 1 | x) - 1``.

    Rows without overlap (a propensity of 0, e.g. unsubscribed customers, whom
    no e-mail reaches) carry no information about the effect and are left out.

    Parameters
    ----------
    estimator
        Classifier cloned per arm; it must accept ``sample_weight``.
    control
        The control action.
    action_names
        Action names of the observation (for the default feature builder).

    Attributes
    ----------
    arms_ : numpy.ndarray
        The arms (non-control actions) fitted.
    models_ : dict
        The fitted classifier of Z per arm.
    n_actions_ : int
        Number of actions (the width of ``propensity``).
    """

    def fit(self, X: Any, y: Any, action: Any, propensity: Any) -> ClassTransformationLearner:
        """Fit one transformed-class model per arm."""
        y, action = np.asarray(y, dtype=np.float64), np.asarray(action)
        propensity = np.asarray(propensity, dtype=np.float64)
        if propensity.ndim != 2 or propensity.shape[0] != y.shape[0] or action.shape != y.shape:
            raise ValueError(
                f"ClassTransformationLearner.fit: received y {y.shape}, action {action.shape}, propensity "
                f"{propensity.shape}; expected (n,), (n,) and (n, A)."
            )
        base = self._base()
        self.n_actions_ = propensity.shape[1]
        self.models_ = {}
        for arm in range(self.n_actions_):
            if arm == self.control:
                continue
            p_arm, p_control = propensity[:, arm], propensity[:, self.control]
            rows = ((action == arm) | (action == self.control)) & (p_arm > 0) & (p_control > 0)
            if not rows.any():
                continue
            treated = (action[rows] == arm).astype(np.float64)
            e = p_arm[rows] / (p_arm[rows] + p_control[rows])
            z = y[rows] * treated + (1.0 - y[rows]) * (1.0 - treated)
            weight = np.where(treated == 1.0, 0.5 / e, 0.5 / (1.0 - e))
            X_arm = self._rows(X, rows)
            self.models_[arm] = _fit_with_weights(clone(base), X_arm, z.astype(np.int64), weight)
        if not self.models_:
            raise ValueError(
                "ClassTransformationLearner.fit: no arm has rows with positive propensity for it and the control; "
                "check the propensity columns."
            )
        self.arms_ = np.array(sorted(self.models_))
        return self

    def predict_uplift(self, X: Any) -> np.ndarray:
        """``(n, A)`` uplift of each action over the control; the control column (and unfitted arms) 0."""
        check_is_fitted(self, "models_", msg=str(_not_fitted(type(self).__name__, "fit(X, y, action, propensity)")))
        n = len(X)
        out = np.zeros((n, self.n_actions_))
        for arm, model in self.models_.items():
            out[:, arm] = 2.0 * model.predict_proba(X)[:, 1] - 1.0
        return out


# --------------------------------------------------------------------------
# the bundle the policies use
# --------------------------------------------------------------------------


class ScoringModels(BaseEstimator):
    """The seed documents' models, fitted together on one log.

    Parameters
    ----------
    components
        Which models to fit, among ``"response"`` (look-alike P(response | x)),
        ``"ltv"`` (E[revenue to the horizon | x]), ``"t_learner"`` and
        ``"class_transformation"`` (uplift per arm) and ``"churn"``
        (P(no purchase in 12 weeks | x)).  Default: all.
    columns
        Observation columns used as features; ``None`` = all.
    response_window, churn_window
        Label windows in weeks.
    random_state
        Seed of the learners' internal validation splits.
    model_params
        Overrides of the gradient-boosting settings of every model (e.g.
        ``{"max_iter": 200, "learning_rate": 0.05}``).

    Attributes
    ----------
    response_, ltv_, t_learner_, class_transformation_, churn_
        The fitted models (those requested).
    action_names_ : tuple of str
    observation_names_ : tuple of str
        The log's observation columns, in order.
    horizon_ : int
    average_order_value_ : float
        Mean spend of a logged purchase.
    arm_response_rates_ : numpy.ndarray
        Logged response rate of each action among subscribed rows (randomized, so comparable).
    best_arm_ : int
        The e-mail arm with the highest logged response rate.
    n_rows_ : dict
        Training rows of each model.
    """

    def __init__(
        self,
        components: Sequence[str] = SCORING_COMPONENTS,
        columns: Sequence[str] | None = None,
        response_window: int = RESPONSE_WINDOW,
        churn_window: int = CHURN_WINDOW,
        random_state: int | None = 0,
        model_params: Mapping[str, Any] | None = None,
    ) -> None:
        self.components = components
        self.columns = columns
        self.response_window = response_window
        self.churn_window = churn_window
        self.random_state = random_state
        self.model_params = model_params

    def fit(self, frame: pd.DataFrame, y: Any = None) -> ScoringModels:
        """Build the labels from the log and fit the requested models."""
        validate_logged_data(frame)
        unknown = [c for c in self.components if c not in SCORING_COMPONENTS]
        if unknown or not self.components:
            raise ValueError(
                f"ScoringModels.components: received {list(self.components)}, expected a non-empty subset of "
                f"{list(SCORING_COMPONENTS)}."
            )
        names = tuple(c[len("propensity_") :] for c in frame.columns if str(c).startswith("propensity_"))
        self.action_names_ = names
        self.observation_names_ = tuple(log_observation_names(frame))
        self.horizon_ = logged_horizon(frame)
        overrides = dict(self.model_params or {})
        classifier = _pipeline(make_classifier(self.random_state, **overrides), self.observation_names_, self.columns)
        regressor = _pipeline(make_regressor(self.random_state, **overrides), self.observation_names_, self.columns)
        response = response_labels(frame, self.response_window).to_numpy()
        has_response = ~np.isnan(response)
        if not has_response.any():
            raise ValueError(
                f"ScoringModels.fit: no row has a complete {self.response_window}-week response window (the log "
                f"covers {self.horizon_} weeks); log a longer horizon."
            )
        action = frame["action"].to_numpy()
        purchases = frame["purchase"].to_numpy() > 0
        if not purchases.any():
            raise ValueError("ScoringModels.fit: the log has no purchase; expected some buyers. Log more customers.")
        self.average_order_value_ = float(frame["spend"].to_numpy()[purchases].mean())
        subscribed = frame["subscribed"].to_numpy() > 0.5
        rates = np.array(
            [
                response[has_response & subscribed & (action == a)].mean()
                if np.any(has_response & subscribed & (action == a))
                else np.nan
                for a in range(len(names))
            ]
        )
        self.arm_response_rates_ = rates
        self.best_arm_ = int(1 + np.nanargmax(rates[1:])) if np.any(np.isfinite(rates[1:])) else 1
        self.n_rows_ = {}
        self._kernels: dict[str, TreeEnsembleKernel] = {}
        rows = frame.loc[has_response]
        if "response" in self.components:
            self.response_ = clone(classifier).fit(rows, response[has_response].astype(np.int64))
            self.n_rows_["response"] = int(has_response.sum())
        if "t_learner" in self.components:
            self.t_learner_ = TLearner(classifier, 0, names).fit(
                rows, response[has_response].astype(np.int64), action[has_response]
            )
            self.n_rows_["t_learner"] = int(has_response.sum())
        if "class_transformation" in self.components:
            propensity = frame[propensity_columns(names)].to_numpy()[has_response]
            self.class_transformation_ = ClassTransformationLearner(classifier, 0, names).fit(
                rows, response[has_response], action[has_response], propensity
            )
            self.n_rows_["class_transformation"] = int(has_response.sum())
        if "ltv" in self.components:
            ltv = ltv_labels(frame, self.horizon_).to_numpy()
            has_ltv = ~np.isnan(ltv)
            self.ltv_ = clone(regressor).fit(frame.loc[has_ltv], ltv[has_ltv])
            self.n_rows_["ltv"] = int(has_ltv.sum())
        if "churn" in self.components:
            churn = churn_labels(frame, self.churn_window).to_numpy()
            has_churn = ~np.isnan(churn)
            if not has_churn.any():
                raise ValueError(
                    f"ScoringModels.fit: no row has a complete {self.churn_window}-week churn window (the log covers "
                    f"{self.horizon_} weeks); drop 'churn' from components or log a longer horizon."
                )
            self.churn_ = clone(classifier).fit(frame.loc[has_churn], churn[has_churn].astype(np.int64))
            self.n_rows_["churn"] = int(has_churn.sum())
        return self

    def _model(self, attribute: str) -> Any:
        check_is_fitted(self, "action_names_", msg=str(_not_fitted(type(self).__name__, "fit(logged_data)")))
        if not hasattr(self, attribute):
            raise NotFittedError(
                f"ScoringModels: the {attribute.rstrip('_')!r} model was not fitted (components={list(self.components)}); "
                f"include {attribute.rstrip('_')!r} in components."
            )
        return getattr(self, attribute)

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.pop("_kernels", None)  # rebuilt on first use
        return state

    def _kernel(self, attribute: str) -> TreeEnsembleKernel:
        """The compiled predictor of a fitted model (a T-learner's models together), built on first use."""
        model = self._model(attribute)
        kernels = self.__dict__.setdefault("_kernels", {})
        if attribute not in kernels:
            pipelines = [model.models_[int(a)] for a in model.actions_] if isinstance(model, TLearner) else [model]
            kernels[attribute] = TreeEnsembleKernel(pipelines)
        return kernels[attribute]

    def predict_response(self, X: Any) -> np.ndarray:
        """Look-alike score P(purchase in the response window | x) under the logging policy."""
        return self._kernel("response_").predict(X)[:, 0]

    def predict_ltv(self, X: Any) -> np.ndarray:
        """Expected revenue (dollars) from this week to the end of the horizon."""
        return self._kernel("ltv_").predict(X)[:, 0]

    def predict_churn(self, X: Any) -> np.ndarray:
        """P(no purchase in the churn window | x)."""
        return self._kernel("churn_").predict(X)[:, 0]

    def predict_uplift(self, X: Any, learner: str = "t_learner") -> np.ndarray:
        """``(n, A)`` uplift of each action on the response; column 0 is 0.

        Parameters
        ----------
        learner
            ``"t_learner"`` or ``"class_transformation"``.
        """
        if learner not in ("t_learner", "class_transformation"):
            raise ValueError(
                f"predict_uplift: received learner={learner!r}, expected 't_learner' or 'class_transformation'."
            )
        model = self._model(f"{learner}_")
        if learner == "class_transformation":
            return model.predict_uplift(X)
        out = np.zeros((len(X), len(self.action_names_)))
        out[:, model.actions_] = model.uplift_from_response(self._kernel("t_learner_").predict(X))
        return out
