"""The frequency response: what e-mailing everyone every k weeks earns over a year, anchored on evidence.

A two-week trial says what one e-mail does to a customer at the trial's
fatigue; it says nothing about cadence.  The fatigue parameters are therefore
assumptions anchored on outside evidence:

* incremental demand per customer-week rises with e-mail frequency and
  flattens, ``1.071 x^0.408`` at x = 1-4 e-mails a week (Hillstrom, "Email
  Frequency", MineThatData 2018), so e-mailing every k weeks keeps about
  ``k^-0.41`` of the weekly lift (0.75, 0.57, 0.43 at k = 2, 4, 8);
* year-long holdouts of whole e-mail programs: +5% to +30% annual revenue
  (a weekly holdout reported by MineThatData: +30%), so weekly e-mail to
  everyone earns about +30% with the arm of the larger effect.

:func:`anchor_frequency_response` fits the multiplier's ``kappa`` and power
``p`` at the scenario's fatigue memory ``lambda`` so the exact expected
curve matches both; :func:`frequency_report` checks every posterior draw
and arm; :func:`measure_frequency_with_env` measures the curve through the
public env API on common random numbers, as a user would.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from journeygym.envs.expectations import expected_schedule_outcome
from journeygym.envs.kernel import PopulationState, compile_tables, draw_reset_noise, initial_population
from journeygym.envs.parameters import DynamicsParameters, ParameterDraws, ScenarioAssumptions

__all__ = [
    "CADENCES",
    "FrequencyAnchor",
    "FrequencyReport",
    "anchor_frequency_response",
    "anchored_ratio",
    "cadence_schedule",
    "frequency_curve",
    "frequency_report",
    "measure_frequency_with_env",
]

#: A year: the window of "annual" revenue.
YEAR = 52
#: E-mail everyone every k weeks, for these k.
CADENCES: tuple[int, ...] = (1, 2, 4, 8)
#: Elasticity of incremental demand to e-mail frequency (1.071 x^0.408, MineThatData 2018), rounded as stated.
FREQUENCY_ELASTICITY = 0.41
#: Weekly e-mail to everyone, annual revenue over never, for the arm of the larger effect (the anchor) ...
WEEKLY_LIFT_ANCHOR = 0.30
#: ... and the band every draw must keep with that arm ...
ANCHOR_ARM_WEEKLY_BAND: tuple[float, float] = (0.20, 0.40)
#: ... and with any other arm.
OTHER_ARM_WEEKLY_BAND: tuple[float, float] = (0.05, 0.40)
#: Largest distance of lift(k) / lift(1) from k^-0.41, every draw and arm.
RATIO_TOLERANCE = 0.15
#: lift(k) may exceed the weekly lift by at most this share.
MAX_ABOVE_WEEKLY = 0.10
#: Customers of the reference population of the exact curve.
REFERENCE_CUSTOMERS = 1000


def anchored_ratio(cadence: int) -> float:
    """``k^-0.41``: the share of the weekly lift that e-mailing every k weeks keeps, by the evidence."""
    return float(cadence) ** -FREQUENCY_ELASTICITY


def cadence_schedule(cadence: int, arm: int, weeks: int = YEAR) -> np.ndarray:
    """``(weeks,)`` actions: ``arm`` in weeks 0, k, 2k, ..., no action otherwise."""
    return np.where(np.arange(weeks) % cadence == 0, arm, 0).astype(np.int64)


def reference_population(parameters: DynamicsParameters, assumptions: ScenarioAssumptions, n: int, seed: int) -> PopulationState:
    """``n`` customers of the population model; the same seed gives the same customers for every draw."""
    tables = compile_tables(parameters, assumptions)
    return initial_population(tables, draw_reset_noise(np.random.default_rng(seed), n))


def frequency_curve(
    parameters: DynamicsParameters,
    assumptions: ScenarioAssumptions,
    customers: PopulationState,
    arms: tuple[int, ...],
    cadences: tuple[int, ...] = CADENCES,
) -> np.ndarray:
    """``(len(arms), len(cadences))`` exact annual revenue lift over never of e-mailing everyone every k weeks.

    Every schedule runs on a copy of ``customers`` in one call of the exact
    expectations (never first, then each arm's cadences).
    """
    year = assumptions.replace(horizon=YEAR)
    schedules = [np.zeros(YEAR, dtype=np.int64)] + [cadence_schedule(k, arm) for arm in arms for k in cadences]
    n = customers.n_customers
    tiled = PopulationState(**{name: np.tile(getattr(customers, name), len(schedules)) for name in customers.__dataclass_fields__})
    plan = np.repeat(np.stack(schedules, axis=1), n, axis=1)  # (YEAR, n * schedules), schedule-major
    revenue = expected_schedule_outcome(parameters, year, tiled, plan).revenue.sum(axis=0).reshape(len(schedules), n).sum(axis=1)
    return (revenue[1:] / revenue[0] - 1.0).reshape(len(arms), len(cadences))


def _arms(parameters: DynamicsParameters) -> tuple[int, ...]:
    return tuple(range(1, parameters.n_actions))


#: Powers ``p`` the anchor profiles; for each, kappa is solved for the weekly anchor.
POWER_GRID: tuple[float, ...] = (0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.7, 1.0)
#: Kappa is searched in this interval (log scale).
KAPPA_BRACKET: tuple[float, float] = (1e-3, 1e6)


@dataclass(frozen=True)
class FrequencyAnchor:
    """The fitted fatigue multiplier and the curve it gives (mean over the draws used).

    ``lifts`` is ``(arms, cadences)``; ``anchor_arm`` is the action whose weekly lift was anchored;
    ``profile`` holds ``(p, kappa, loss)`` for every power tried.
    """

    kappa: float
    power: float
    memory: float
    tail_weeks: int
    anchor_arm: int
    cadences: tuple[int, ...]
    lifts: tuple[tuple[float, ...], ...]
    draws_used: int
    loss: float
    profile: tuple[tuple[float, float, float], ...]


def anchor_frequency_response(
    draws: ParameterDraws,
    assumptions: ScenarioAssumptions,
    n_draws: int = 8,
    n_customers: int = 300,
    seed: int = 0,
) -> FrequencyAnchor:
    """Fit ``kappa`` and ``p`` so the mean curve over ``n_draws`` evenly spaced draws matches the anchors.

    For each ``p`` of :data:`POWER_GRID`, ``kappa`` is solved (Brent, in log
    scale) so the anchor arm's weekly lift is +30%, then rounded to three
    significant figures (an anchored assumption is stated, not estimated); the
    ``p`` whose curve has the smallest squared distance of every arm's
    ``lift(k) / lift(1)`` from ``k^-0.41`` (plus the weekly miss) wins.  A
    profile rather than a joint search: along the valley of the joint loss the
    fit would drift, and the same artifact must give the same anchor.
    """
    picks = np.unique(np.linspace(0, len(draws) - 1, min(n_draws, len(draws))).round().astype(int))
    chosen = [draws.draws[i] for i in picks]
    arms = _arms(chosen[0])
    customers = [reference_population(p, assumptions, n_customers, seed) for p in chosen]
    targets = np.array([anchored_ratio(k) for k in CADENCES[1:]])

    def mean_curve(kappa: float, power: float) -> np.ndarray:
        scenario = assumptions.replace(kappa=kappa, fatigue_power=power)
        return np.mean([frequency_curve(p, scenario, c, arms) for p, c in zip(chosen, customers)], axis=0)

    anchor_row = int(np.argmax(mean_curve(0.0, 0.0)[:, 0]))

    def loss_of(curve: np.ndarray) -> float:
        ratios = curve[:, 1:] / curve[:, :1]
        return float(np.sum((ratios - targets) ** 2) + (curve[anchor_row, 0] - WEEKLY_LIFT_ANCHOR) ** 2)

    profile = []
    for power in POWER_GRID:
        def excess(log_kappa: float) -> float:
            return float(mean_curve(float(np.exp(log_kappa)), power)[anchor_row, 0] - WEEKLY_LIFT_ANCHOR)

        low, high = np.log(KAPPA_BRACKET)
        if excess(low) < 0 or excess(high) > 0:
            continue  # this power cannot bring the weekly lift to the anchor
        kappa = float(f"{np.exp(brentq(excess, low, high, xtol=1e-4)):.3g}")
        profile.append((power, kappa, loss_of(mean_curve(kappa, power))))
    if not profile:
        raise ValueError(
            f"fatigue anchor: no power in {POWER_GRID} with kappa in {KAPPA_BRACKET} brings weekly e-mail to "
            f"{WEEKLY_LIFT_ANCHOR:+.0%} annual revenue; check the carryover level and the matched e-mail effects."
        )
    power, kappa, loss = min(profile, key=lambda row: row[2])
    curve = mean_curve(kappa, power)
    return FrequencyAnchor(
        kappa=kappa,
        power=power,
        memory=assumptions.fatigue_memory,
        tail_weeks=assumptions.replace(kappa=kappa, fatigue_power=power).fatigue_tail_weeks,
        anchor_arm=arms[anchor_row],
        cadences=CADENCES,
        lifts=tuple(tuple(float(v) for v in row) for row in curve),
        draws_used=len(chosen),
        loss=loss,
        profile=tuple(profile),
    )


@dataclass(frozen=True)
class FrequencyReport:
    """The exact frequency curve of every draw: ``lifts`` is ``(draws, arms, cadences)``."""

    carryover: float
    action_names: tuple[str, ...]
    anchor_arm: int
    lifts: np.ndarray
    #: False for an artifact whose trial shows no effect: there is no response to anchor, and the rows
    #: report the curve without failing.
    applies: bool = True

    @property
    def ratios(self) -> np.ndarray:
        """``lift(k) / lift(1)``, ``(draws, arms, cadences)``."""
        return self.lifts / self.lifts[:, :, :1]

    def draw_passes(self, column: int) -> np.ndarray:
        """``(draws,)`` whether arm ``column + 1`` keeps its weekly band, the ratios and the cap over weekly on each draw."""
        arm = column + 1
        low, high = ANCHOR_ARM_WEEKLY_BAND if arm == self.anchor_arm else OTHER_ARM_WEEKLY_BAND
        weekly = self.lifts[:, column, 0]
        targets = np.array([anchored_ratio(k) for k in CADENCES[1:]])
        distance = np.abs(self.ratios[:, column, 1:] - targets)
        above = self.lifts[:, column, 1:] - (1.0 + MAX_ABOVE_WEEKLY) * self.lifts[:, column, :1]
        return (weekly >= low) & (weekly <= high) & np.all(distance <= RATIO_TOLERANCE, axis=1) & np.all(above <= 0.0, axis=1)

    def checks(self) -> list[tuple[str, str, bool]]:
        """``(check, measured, passed)`` rows, one per arm: each must pass on every draw."""
        rows = []
        targets = ", ".join(f"{anchored_ratio(k):.2f}" for k in CADENCES[1:])
        for column in range(self.lifts.shape[1]):
            arm = column + 1
            is_anchor = arm == self.anchor_arm
            low, high = ANCHOR_ARM_WEEKLY_BAND if is_anchor else OTHER_ARM_WEEKLY_BAND
            passes = self.draw_passes(column)
            weekly = self.lifts[:, column, 0]
            distance = np.abs(self.ratios[:, column, 1:] - np.array([anchored_ratio(k) for k in CADENCES[1:]]))
            if not self.applies:
                rows.append(
                    (
                        f"{self.action_names[arm]}: frequency response not anchored (the trial shows no effect of any arm)",
                        f"not applicable; weekly to everyone {np.median(weekly):+.1%} median annual revenue over never "
                        f"[{np.quantile(weekly, 0.05):+.1%}, {np.quantile(weekly, 0.95):+.1%}]",
                        True,
                    )
                )
                continue
            rows.append(
                (
                    f"{self.action_names[arm]} ({'anchor arm, ' if is_anchor else ''}every draw): "
                    f"weekly to everyone {low:+.0%} to {high:+.0%} annual revenue over never, every k = "
                    f"{', '.join(str(k) for k in CADENCES[1:])} weeks within {RATIO_TOLERANCE:g} of {targets} of it and "
                    f"never over {1 + MAX_ABOVE_WEEKLY:.1f}x it",
                    f"{int(passes.sum())} of {passes.size} draws pass; weekly {weekly.min():+.1%} to {weekly.max():+.1%} "
                    f"(median {np.median(weekly):+.1%}); worst ratio distance {np.median(distance.max(axis=1)):.3f} median, "
                    f"{distance.max():.3f} worst",
                    bool(passes.all()),
                )
            )
        return rows

    def passed(self) -> bool:
        """Whether every check passes."""
        return all(ok for _, _, ok in self.checks())

    def table_lines(self) -> list[str]:
        """The curve next to the anchor: per arm and cadence, the median lift [5%, 95% over draws] and ratio."""
        header = "arm            " + "".join(f"every {k} wk{'s' if k > 1 else ''}".ljust(30) for k in CADENCES)
        lines = [header]
        for column, arm in enumerate(range(1, self.lifts.shape[1] + 1)):
            cells = []
            for j, k in enumerate(CADENCES):
                lift = self.lifts[:, column, j]
                cell = f"{np.median(lift):+.1%} [{np.quantile(lift, 0.05):+.1%}, {np.quantile(lift, 0.95):+.1%}]"
                if j:
                    cell += f" {np.median(self.ratios[:, column, j]):.2f}"
                cells.append(cell.ljust(30))
            lines.append(self.action_names[arm][:14].ljust(15) + "".join(cells))
        anchor = [f"{WEEKLY_LIFT_ANCHOR:+.0%} (band {ANCHOR_ARM_WEEKLY_BAND[0]:+.0%} to {ANCHOR_ARM_WEEKLY_BAND[1]:+.0%})".ljust(30)]
        anchor += [f"x {anchored_ratio(k):.2f} of weekly".ljust(30) for k in CADENCES[1:]]
        lines.append("anchor         " + "".join(anchor))
        return lines

    def lines(self) -> list[str]:
        """Printable lines: the table, then one PASS or FAIL line per check."""
        return self.table_lines() + [f"{'PASS' if ok else 'FAIL'}: {name}: {measured}" for name, measured, ok in self.checks()]


def frequency_report(
    draws: ParameterDraws,
    assumptions: ScenarioAssumptions | None = None,
    n_customers: int = REFERENCE_CUSTOMERS,
    seed: int = 0,
    anchor_arm: int | None = None,
    applies: bool = True,
) -> FrequencyReport:
    """The exact curve of every draw and arm in ``assumptions`` (default: the artifact's).

    ``applies`` False: the trial showed no effect, so the checks report without failing.
    """
    scenario = assumptions or draws.assumptions
    arms = _arms(draws.mean)
    lifts = np.array(
        [frequency_curve(p, scenario, reference_population(p, scenario, n_customers, seed), arms) for p in draws.draws]
    )
    if anchor_arm is None:
        anchor_arm = arms[int(np.argmax(np.median(lifts[:, :, 0], axis=0)))]
    return FrequencyReport(
        carryover=scenario.carryover, action_names=draws.mean.action_names, anchor_arm=anchor_arm, lifts=lifts, applies=applies
    )


@dataclass(frozen=True)
class EnvFrequencyMeasurement:
    """The curve through ``CustomerPopulationVectorEnv``, with the exact curve of the same customers.

    ``lifts``, ``standard_errors`` and ``exact_lifts`` are ``(draws, arms, cadences)``: the measured annual
    revenue lift over never on common random numbers, its Monte Carlo standard error (over customers,
    paired with never), and the exact expectation for the env's own customers.
    """

    draw_indices: tuple[int, ...]
    action_names: tuple[str, ...]
    n_customers: int
    lifts: np.ndarray
    standard_errors: np.ndarray
    exact_lifts: np.ndarray

    @property
    def z_scores(self) -> np.ndarray:
        """``(measured - exact) / standard error`` per draw, arm and cadence."""
        return (self.lifts - self.exact_lifts) / self.standard_errors

    def lines(self) -> list[str]:
        """One line per arm: the mean lift over the draws per cadence (exact in brackets), and the largest |z|."""
        lines = [
            f"through the env API ({self.n_customers:,} customers, draws {list(self.draw_indices)}, common random numbers; "
            "measured, then exact for the same customers):"
        ]
        for column in range(self.lifts.shape[1]):
            cells = [
                f"every {k}: {self.lifts[:, column, j].mean():+.1%} ({self.exact_lifts[:, column, j].mean():+.1%})"
                for j, k in enumerate(CADENCES)
            ]
            lines.append(
                f"  {self.action_names[column + 1]}: " + "; ".join(cells)
                + f"; largest |measured - exact| {np.abs(self.z_scores[:, column]).max():.1f} standard errors"
            )
        return lines


def measure_frequency_with_env(
    draws: ParameterDraws,
    draw_indices: tuple[int, ...] = (0, 50, 100, 150, 199),
    n_customers: int = 40_000,
    seed: int = 0,
) -> EnvFrequencyMeasurement:
    """E-mail everyone every k weeks and never, through the public vector env, one draw at a time.

    Every schedule of a draw resets the env with the same seed, so the customers
    and their noise are common to all schedules (a paired comparison).
    """
    from journeygym.envs.population_env import CustomerPopulationVectorEnv

    indices = tuple(i for i in draw_indices if i < len(draws))
    arms = _arms(draws.mean)
    shape = (len(indices), len(arms), len(CADENCES))
    lifts, errors, exact = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    scenario = draws.assumptions.replace(horizon=YEAR)
    for row, draw in enumerate(indices):
        env = CustomerPopulationVectorEnv(num_envs=n_customers, params=int(draw), artifact=draws, scenario=scenario)

        def year_revenue(schedule: np.ndarray) -> np.ndarray:
            env.reset(seed=seed)
            total = np.zeros(n_customers)
            for week in range(YEAR):
                _, _, _, _, info = env.step(np.full(n_customers, schedule[week]))
                total += info["spend"]
            return total

        never = year_revenue(np.zeros(YEAR, dtype=np.int64))
        for column, arm in enumerate(arms):
            for j, k in enumerate(CADENCES):
                revenue = year_revenue(cadence_schedule(k, arm))
                ratio = revenue.mean() / never.mean()
                lifts[row, column, j] = ratio - 1.0
                # The ratio estimator's standard error (delta method), paired over customers.
                errors[row, column, j] = (revenue - ratio * never).std(ddof=1) / np.sqrt(n_customers) / never.mean()
        env.reset(seed=seed)
        exact[row] = frequency_curve(draws.draws[draw], scenario, env.state.copy(), arms)
        env.close()
    return EnvFrequencyMeasurement(
        draw_indices=indices, action_names=draws.mean.action_names, n_customers=n_customers,
        lifts=lifts, standard_errors=errors, exact_lifts=exact,
    )
