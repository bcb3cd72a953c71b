"""Plausibility beyond the data: what the calibrated e-mail does over a year (docs/calibration.md).

The two-week trial identifies an e-mail's two-week effect and nothing about its
persistence, so every artifact is held against evidence from elsewhere:

* the single-e-mail carryover ratio (52-week over two-week incremental visits)
  equals the assumed ``rho`` within 2% on every posterior draw;
* one e-mail's 52-week incremental margin is at most 3x its two-week
  incremental margin (long-run to short-run advertising effects: about 2x,
  Sethuraman, Tellis & Briesch 2011; multipliers of 1.2-3.5);
* the frequency response (e-mailing everyone every 1, 2, 4, 8 weeks) is
  checked, and the fatigue anchored, in :mod:`journeygym.calibration.frequency`.

Two ways to measure: exact expectations over the response model
(:func:`~journeygym.envs.expectations.expected_schedule_outcome`, per draw) and
a Monte Carlo through the public env API on common random numbers
(:func:`measure_with_env`), as a new user would.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from journeygym.calibration.frequency import reference_population
from journeygym.envs.expectations import expected_schedule_outcome
from journeygym.envs.kernel import PopulationState
from journeygym.envs.parameters import DynamicsParameters, ParameterDraws, ScenarioAssumptions
from journeygym.envs.population_env import CustomerPopulationVectorEnv

#: A year: the window of the carryover ratio and of "annual" revenue.
YEAR = 52
#: Two-week window of the trial.
TWO_WEEKS = 2
#: The arm e-mailed in the checks (the first arm; on the shipped artifact the trial's stronger one).
CHECK_ARM = 1
#: Largest plausible ratio of one e-mail's 52-week to two-week incremental margin.
MAX_MARGIN_RATIO = 3.0
#: Largest relative error of the realized visit carryover ratio.
CARRYOVER_TOLERANCE = 0.02
#: Customers of the reference population of the exact checks.
REFERENCE_CUSTOMERS = 1000


@dataclass(frozen=True)
class EmailYear:
    """Exact per-customer means of one draw: a single e-mail at week 0 against never."""

    visit_ratio: float
    purchase_ratio: float
    two_week_margin: float
    year_margin: float
    #: Incremental visits of the single e-mail within the trial's window (the ratio is undefined unless > 0).
    window_visits: float = 1.0

    @property
    def margin_ratio(self) -> float:
        """52-week over two-week incremental margin of the single e-mail."""
        return self.year_margin / self.two_week_margin if self.two_week_margin != 0 else float("nan")


def email_year(
    parameters: DynamicsParameters,
    assumptions: ScenarioAssumptions,
    customers: PopulationState,
    arm: int = CHECK_ARM,
    window: int = TWO_WEEKS,
) -> EmailYear:
    """Exact year of one draw: the single-e-mail ratios, over the year and over the trial's ``window`` weeks."""
    year = assumptions.replace(horizon=YEAR)
    never = expected_schedule_outcome(parameters, year, customers, np.zeros(YEAR, dtype=np.int64))
    single = expected_schedule_outcome(parameters, year, customers, np.r_[arm, np.zeros(YEAR - 1, dtype=np.int64)])

    def incremental(name: str) -> np.ndarray:
        return (getattr(single, name) - getattr(never, name)).mean(axis=1)

    visits, purchases, margin = incremental("visits"), incremental("purchases"), incremental("reward")
    return EmailYear(
        visit_ratio=float(visits.sum() / visits[:window].sum()),
        purchase_ratio=float(purchases.sum() / purchases[:window].sum()),
        two_week_margin=float(margin[:window].sum()),
        year_margin=float(margin.sum()),
        window_visits=float(visits[:window].sum()),
    )


@dataclass(frozen=True)
class PlausibilityReport:
    """Exact per-draw checks of one artifact in one scenario (the default one unless told)."""

    carryover: float
    years: tuple[EmailYear, ...]

    def _values(self, name: str) -> np.ndarray:
        return np.array([getattr(year, name) for year in self.years])

    @property
    def _defined(self) -> np.ndarray:
        """Draws whose single e-mail adds visits within the window: the carryover ratio is defined (and was matched) there."""
        return self._values("window_visits") > 0

    @property
    def worst_carryover_error(self) -> float:
        """Largest relative error of the realized visit carryover ratio over the draws where it is defined (0 if none)."""
        errors = np.abs(self._values("visit_ratio")[self._defined] / self.carryover - 1.0)
        return float(errors.max()) if errors.size else 0.0

    def checks(self) -> list[tuple[str, str, bool]]:
        """``(check, measured, passed)`` rows."""
        defined = self._defined
        undefined = int((~defined).sum())
        visit, purchase = self._values("visit_ratio")[defined], self._values("purchase_ratio")
        margin_ratio = self._values("margin_ratio")
        two_week, year = self._values("two_week_margin"), self._values("year_margin")
        median_ratio = float(np.median(margin_ratio))

        def span(values: np.ndarray, fmt: str) -> str:
            return f"median {format(float(np.median(values)), fmt)} [{format(float(np.quantile(values, 0.05)), fmt)}, {format(float(np.quantile(values, 0.95)), fmt)}]"

        return [
            (
                f"single-e-mail visit carryover ratio within {CARRYOVER_TOLERANCE:.0%} of rho = {self.carryover:g}, every draw "
                "with an effect",
                (f"{visit.min():.4f} to {visit.max():.4f} (worst error {self.worst_carryover_error:.3%})" if visit.size else "no draw")
                + (f"; {undefined} of {defined.size} draws add no visits within the window (ratio undefined, not checked)" if undefined else "")
                + f"; purchase ratio {span(purchase, '.3f')}",
                self.worst_carryover_error <= CARRYOVER_TOLERANCE,
            ),
            (
                f"one e-mail's 52-week incremental margin at most {MAX_MARGIN_RATIO:g}x its two-week one",
                f"{span(margin_ratio, '.2f')}x (two weeks ${np.median(two_week):.3f}, 52 weeks ${np.median(year):.3f} per customer)",
                median_ratio <= MAX_MARGIN_RATIO,
            ),
        ]

    def passed(self) -> bool:
        """Whether every check passes."""
        return all(ok for _, _, ok in self.checks())

    def lines(self) -> list[str]:
        """Printable lines: one per check, PASS or FAIL first."""
        return [f"{'PASS' if ok else 'FAIL'}: {name}: {measured}" for name, measured, ok in self.checks()]


def plausibility_report(
    draws: ParameterDraws,
    assumptions: ScenarioAssumptions | None = None,
    n_customers: int = REFERENCE_CUSTOMERS,
    seed: int = 0,
    window: int | None = None,
) -> PlausibilityReport:
    """Exact single-e-mail year for every posterior draw (the first arm).

    ``window``: the trial's outcome window in weeks (default: the artifact's record, else 2).
    """
    scenario = assumptions or draws.assumptions
    weeks = int(window if window is not None else draws.metadata.get("window_weeks", TWO_WEEKS))
    years = tuple(
        email_year(parameters, scenario, reference_population(parameters, scenario, n_customers, seed), window=weeks)
        for parameters in draws.draws
    )
    return PlausibilityReport(carryover=scenario.carryover, years=years)


@dataclass(frozen=True)
class EnvMeasurement:
    """Per-draw means per customer measured through the env API (Monte Carlo, common random numbers)."""

    draw_indices: tuple[int, ...]
    two_week_margin: np.ndarray
    year_margin: np.ndarray

    def lines(self) -> list[str]:
        """Printable summary."""
        ratio = self.year_margin.sum() / self.two_week_margin.sum()
        return [
            f"through the env API, {len(self.draw_indices)} draws: one e-mail earns ${self.two_week_margin.mean():.3f} in two weeks and "
            f"${self.year_margin.mean():.3f} in 52 weeks per customer (ratio of the means {ratio:.2f}x; per draw "
            f"{np.min(self.year_margin / self.two_week_margin):.2f}x to {np.max(self.year_margin / self.two_week_margin):.2f}x)",
        ]


def measure_with_env(
    draws: ParameterDraws,
    assumptions: ScenarioAssumptions | None = None,
    n_customers: int = 40_000,
    draw_indices: tuple[int, ...] = tuple(range(10)),
    seed: int = 0,
) -> EnvMeasurement:
    """One e-mail at week 0 against never, through ``CustomerPopulationVectorEnv``.

    Each policy runs on the same customers and noise (same seed), for 52 weeks.
    """
    scenario = (assumptions or draws.assumptions).replace(horizon=YEAR)
    margin = {(policy, weeks): np.zeros(len(draw_indices)) for policy in ("never", "single") for weeks in (TWO_WEEKS, YEAR)}
    for i, index in enumerate(draw_indices):
        env = CustomerPopulationVectorEnv(num_envs=n_customers, params=int(index), artifact=draws, scenario=scenario)
        for policy in ("never", "single"):
            env.reset(seed=seed)
            reward_sum = np.zeros(n_customers)
            for week in range(YEAR):
                action = CHECK_ARM if policy == "single" and week == 0 else 0
                _, reward, _, _, _ = env.step(np.full(n_customers, action))
                reward_sum += reward
                if (policy, week + 1) in margin:
                    margin[policy, week + 1][i] = reward_sum.mean()
        env.close()
    return EnvMeasurement(
        draw_indices=tuple(int(i) for i in draw_indices),
        two_week_margin=margin["single", TWO_WEEKS] - margin["never", TWO_WEEKS],
        year_margin=margin["single", YEAR] - margin["never", YEAR],
    )
