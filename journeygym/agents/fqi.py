"""An agent trained offline on a campaign log by fitted-Q iteration (Theocharous, Thomas & Ghavamzadeh 2015).

:class:`FittedQIterationPolicy` reads a log in the logged-data schema, fits one
Q-function per week backward (:func:`journeygym.ope.fitted_q.fit_q_iteration`)
and then e-mails each customer the action of highest ``Q-hat_t(s, a)``, with
``t`` read from the observation's ``week_fraction`` and the log's horizon.  It
never touches the simulator while learning: the runner gives it the cell's
log (``trains_on = "logged_data"``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.exceptions import NotFittedError

from journeygym.baselines.base import Policy, check_observations
from journeygym.ope.episodes import episodes_from_frame
from journeygym.ope.fitted_q import DEFAULT_MODEL, FittedQ, fit_q_iteration

__all__ = ["FittedQIterationPolicy"]


class FittedQIterationPolicy(Policy):
    """Greedy policy of fitted-Q iteration on a logged campaign.

    Parameters
    ----------
    gamma
        Discount factor of the backups; default 1 (the runner reports undiscounted returns).
    model
        A built-in regressor name of :data:`journeygym.ope.fitted_q.BUILTIN_MODELS`
        or a scikit-learn regressor (cloned for every week).
    seed
        Seeds the regressors' ``random_state``.
    features
        The feature encoding (:data:`journeygym.ope.fitted_q.FEATURE_ENCODINGS`); default the model's own.
    n_threads
        Threads of the regressors while fitting and acting (None: the libraries' default).

    Attributes
    ----------
    fitted_q_
        The :class:`~journeygym.ope.fitted_q.FittedQ` after :meth:`fit`.
    """

    name = "fqi"
    trains_on = "logged_data"

    def __init__(
        self,
        gamma: float = 1.0,
        model: Any = DEFAULT_MODEL,
        seed: int = 0,
        features: str | None = None,
        n_threads: int | None = 1,
    ) -> None:
        self.gamma = gamma
        self.model = model
        self.seed = seed
        self.features = features
        self.n_threads = n_threads
        self.fitted_q_: FittedQ | None = None

    def fit(self, logged_data: Any) -> FittedQIterationPolicy:
        """Fit the weekly Q-functions on a logged-data table (the horizon is the log's).

        Raises
        ------
        OPEInputError
            If the table is not a readable log (see :func:`journeygym.ope.episodes_from_frame`).
        ValueError
            For an unknown model, gamma outside [0, 1] or a negative seed.
        """
        episodes = episodes_from_frame(logged_data)
        self.fitted_q_ = fit_q_iteration(
            episodes,
            gamma=self.gamma,
            model=self.model,
            seed=self.seed,
            features=self.features,
            n_threads=self.n_threads,
        )
        return self

    def q_values(self, observations: np.ndarray) -> np.ndarray:
        """``(n, A)`` ``Q-hat_t(s, a)``, each row at its own week ``t = round(week_fraction * H)`` in ``[0, H-1]``.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Before :meth:`fit`.
        """
        if self.fitted_q_ is None:
            raise NotFittedError(
                "This FittedQIterationPolicy is not fitted; call fit(logged_data) with a log in the logged-data "
                "schema (e.g. journeygym.baselines.logged_data.simulate_logged_data) before act."
            )
        fitted = self.fitted_q_
        array = check_observations(observations)
        week_fraction = array[:, fitted.observation_names.index("week_fraction")]
        weeks = np.clip(np.rint(week_fraction * fitted.horizon), 0, fitted.horizon - 1).astype(np.int64)
        values = np.empty((array.shape[0], fitted.n_actions))
        for week in np.unique(weeks):  # one week per batch in a rollout; a mixed batch is split by week
            rows = weeks == week
            values[rows] = fitted.predict(int(week), array[rows])
        return values

    def act(self, observations: np.ndarray) -> np.ndarray:
        """The action of highest fitted Q-value; 0 for unsubscribed customers.

        Their Q-values are action 0's in every column (:meth:`q_values`), so the
        argmax, which keeps the first of equal values, is 0.
        """
        return self.q_values(observations).argmax(axis=1).astype(np.int64)

    def get_params(self) -> dict[str, Any]:
        return {
            "gamma": self.gamma,
            "model": self.model if isinstance(self.model, str) else repr(self.model),
            "seed": self.seed,
            "features": self.features,
            "n_threads": self.n_threads,
        }
