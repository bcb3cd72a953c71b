"""The observation agents see (docs/architecture.md, "The observation"): a float32 vector with a stable column order.

The hidden engagement state is never part of it.  Static covariate columns
are written once per customer at reset; the dynamic columns every week.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from gymnasium import spaces

from journeygym.envs.contact_rules import ContactRules
from journeygym.envs.kernel import WEEKS_SINCE_CAP, CustomerState, PopulationState
from journeygym.envs.population import PopulationModel

#: Dollar amount at which the log-scaled money columns reach 1 (they are clipped there).
MONEY_SCALE = 10_000.0
_LOG_MONEY_SCALE = float(np.log1p(MONEY_SCALE))
_POPCOUNT_QUARTERS = np.array([bin(i).count("1") / 4.0 for i in range(16)], dtype=np.float32)
_POPCOUNT_QUARTERS_LIST: list[float] = _POPCOUNT_QUARTERS.tolist()


@dataclass(frozen=True)
class ObservationColumn:
    """One observation column: its name, what it holds and its bounds."""

    name: str
    description: str
    low: float = 0.0
    high: float = 1.0


def static_columns(population: PopulationModel) -> tuple[ObservationColumn, ...]:
    """The covariate columns at the start of the observation, as the population model defines them."""
    return tuple(ObservationColumn(c.name, c.description) for c in population.static_columns)


#: The column a frequency cap adds at the end of the observation (what a CRM system shows).
CAP_COLUMN = ObservationColumn(
    "weeks_until_email_allowed", "weeks until the frequency cap allows an e-mail, divided by cap_weeks - 1 (0: allowed now)"
)


def observation_columns(
    population: PopulationModel, action_names: tuple[str, ...], frequency_cap: bool = False
) -> tuple[ObservationColumn, ...]:
    """All observation columns in order, for a model with this population and these actions.

    The population's static columns come first, then :func:`dynamic_columns`.
    """
    return static_columns(population) + dynamic_columns(action_names, frequency_cap)


def dynamic_columns(action_names: tuple[str, ...], frequency_cap: bool = False) -> tuple[ObservationColumn, ...]:
    """The weekly columns that follow the static ones, for a model with the given actions.

    With ``frequency_cap`` (a scenario with ``cap_emails``/``cap_weeks``) the last column is
    :data:`CAP_COLUMN`; every other column keeps its position.
    """
    dynamic = (
        ObservationColumn("week_fraction", "week t divided by the horizon H"),
        ObservationColumn("weeks_since_purchase", f"weeks since the last purchase, capped at {WEEKS_SINCE_CAP}, divided by {WEEKS_SINCE_CAP}"),
        ObservationColumn("weeks_since_visit", f"weeks since the last visit, capped at {WEEKS_SINCE_CAP}, divided by {WEEKS_SINCE_CAP}"),
        ObservationColumn("purchases_last_4_weeks", "weeks with a purchase among the last 4, divided by 4"),
        ObservationColumn("visits_last_4_weeks", "weeks with a visit among the last 4, divided by 4"),
        ObservationColumn("fatigue", "e-mail fatigue stock F divided by the stock of the top fatigue level (about weekly e-mail)"),
        ObservationColumn("subscribed", "still subscribed to e-mail (0/1)"),
        *(ObservationColumn(f"last_action_{a}", f"last week's delivered action was {a} (one-hot)") for a in action_names),
        ObservationColumn("log_cumulative_spend", f"log(1 + spend since week 0) / log(1 + {MONEY_SCALE:,.0f}), clipped to 1"),
    )
    return dynamic + ((CAP_COLUMN,) if frequency_cap else ())


def column_positions(observation_names: Sequence[str]) -> dict[str, int]:
    """Position of every observation column by name."""
    return {name: i for i, name in enumerate(observation_names)}


def observation_space(columns: Sequence[ObservationColumn]) -> spaces.Box:
    """The Box space of one customer's observation with these columns."""
    low = np.array([c.low for c in columns], dtype=np.float32)
    high = np.array([c.high for c in columns], dtype=np.float32)
    return spaces.Box(low=low, high=high, dtype=np.float32)


def fatigue_column_values(fatigue_stocks: np.ndarray) -> np.ndarray:
    """The observation's fatigue column at each level: the stock over the top level's stock, in [0, 1]."""
    stocks = np.asarray(fatigue_stocks, dtype=np.float64)
    return stocks / stocks[-1]


class DynamicColumnWriter:
    """Writes the weekly columns of an observation buffer in place.

    :meth:`write` fills every row in one compiled pass
    (:func:`journeygym.envs.compiled.write_dynamic_columns`); :meth:`write_customer`
    fills the first row from one customer's Python scalars, for the single-customer env.
    """

    def __init__(
        self,
        out: np.ndarray,
        n_static: int,
        horizon: int,
        fatigue_stocks: np.ndarray,
        n_actions: int,
        rules: ContactRules | None = None,
    ) -> None:
        c = n_static
        self._buffer = out
        self._spend = out[:, c + 7 + n_actions]
        self._rules = rules if rules is not None and rules.has_cap else None
        self._wait = out[:, c + 8 + n_actions] if self._rules is not None else None
        self._actions = np.arange(n_actions)
        self._per_week = 1.0 / horizon
        self._fatigue_column = fatigue_column_values(fatigue_stocks)
        self._fatigue_column_list = self._fatigue_column.tolist()
        self._first = c
        self._row = out[0]
        self._spend_input = np.zeros(1)
        self._written_spend: float | None = None

    def write(self, state: PopulationState) -> None:
        """Write the dynamic columns of every customer in ``state`` (one compiled row-wise pass)."""
        from journeygym.envs.compiled import write_dynamic_columns  # numba loads on first use, not on import

        write_dynamic_columns(
            self._buffer,
            self._first,
            state.week,
            state.weeks_since_purchase,
            state.weeks_since_visit,
            state.recent_purchases,
            state.recent_visits,
            state.fatigue,
            state.subscribed,
            state.last_action,
            state.cumulative_spend,
            self._per_week,
            1.0 / WEEKS_SINCE_CAP,
            self._fatigue_column,
            _POPCOUNT_QUARTERS,
            1.0 / _LOG_MONEY_SCALE,
            self._actions.size,
        )
        self._written_spend = None
        if self._rules is not None:
            np.multiply(self._rules.weeks_until_allowed(state.recent_emails), self._rules.wait_scale, out=self._wait)

    def write_customer(self, state: CustomerState) -> None:
        """Write the weekly columns of the first row from one customer's scalars.

        The same values as :meth:`write` bit for bit: each float64 product is
        rounded to float32 on assignment as the ufuncs round it, and the spend
        column goes through the same ufuncs (only when the spend changed).
        """
        row, c = self._row, self._first
        row[c] = state.week * self._per_week
        row[c + 1] = state.weeks_since_purchase * (1.0 / WEEKS_SINCE_CAP)
        row[c + 2] = state.weeks_since_visit * (1.0 / WEEKS_SINCE_CAP)
        row[c + 3] = _POPCOUNT_QUARTERS_LIST[state.recent_purchases]
        row[c + 4] = _POPCOUNT_QUARTERS_LIST[state.recent_visits]
        row[c + 5] = self._fatigue_column_list[state.fatigue]
        row[c + 6] = state.subscribed
        for action in range(self._actions.size):
            row[c + 7 + action] = action == state.last_action
        if state.cumulative_spend != self._written_spend:
            self._spend_input[0] = state.cumulative_spend
            self._write_spend(self._spend_input, self._spend[:1])
            self._written_spend = state.cumulative_spend
        if self._rules is not None:
            row[c + 8 + self._actions.size] = self._rules.customer_wait(state.recent_emails) * self._rules.wait_scale

    @staticmethod
    def _write_spend(cumulative_spend: np.ndarray, out: np.ndarray) -> None:
        np.log1p(cumulative_spend, out=out)
        np.multiply(out, 1.0 / _LOG_MONEY_SCALE, out=out)
        np.minimum(out, 1.0, out=out)


class ObservationBuffer:
    """The ``(N, D)`` float32 observation array of N customers and its writers."""

    def __init__(
        self,
        n_customers: int,
        population: PopulationModel,
        action_names: tuple[str, ...],
        horizon: int,
        fatigue_stocks: np.ndarray,
        rules: ContactRules | None = None,
    ) -> None:
        capped = rules is not None and rules.has_cap
        columns = observation_columns(population, action_names, capped)
        self.space = observation_space(columns)
        #: The columns' names, in order.
        self.names: tuple[str, ...] = tuple(column.name for column in columns)
        self.array = np.zeros((n_customers, self.space.shape[0]), dtype=np.float32)
        self._population = population
        self._dynamic = DynamicColumnWriter(self.array, len(population.static_columns), horizon, fatigue_stocks, len(action_names), rules)

    def write_static(self, state: PopulationState, rows: np.ndarray | None = None) -> None:
        """Write the covariate columns of ``state``'s customers (into ``rows`` when given)."""
        population = self._population
        design = population.design_of(state.profile, state.continuous)
        if rows is None:
            population.write_static(design, state.segment, state.start, self.array)
            return
        block = np.empty((rows.size, len(population.static_columns)), dtype=np.float32)
        population.write_static(design, state.segment, state.start, block)
        self.array[rows, : block.shape[1]] = block

    def write_dynamic(self, state: PopulationState) -> np.ndarray:
        """Write the weekly columns of every customer and return the array."""
        self._dynamic.write(state)
        return self.array

    def write_customer(self, state: CustomerState) -> np.ndarray:
        """Write the weekly columns of the first row from one customer's scalars; returns that row (a view)."""
        self._dynamic.write_customer(state)
        return self.array[0]
