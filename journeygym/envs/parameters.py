"""Parameters of the customer-journey model: calibrated dynamics and scenario assumptions.

Two kinds of parameters drive the simulator (docs/calibration.md):

* :class:`DynamicsParameters` -- what the calibration fits from data (HMM,
  Bayesian uplift, spend and population models).  An artifact holds many of
  them, one per posterior draw, in a :class:`ParameterDraws`.
* :class:`ScenarioAssumptions` -- what no data set here calibrates (fatigue,
  unsubscribes, margin, costs).  These are assumptions, reported as such.

Both are frozen and validated on construction; a violation raises
:class:`ParameterError` naming the field, the value received and the rule.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from journeygym.envs.fatigue import fatigue_levels, nearest_level, tail_weeks
from journeygym.envs.population import PopulationModel
from journeygym.messages import did_you_mean

DEFAULT_STATE_NAMES: tuple[str, ...] = ("Dormant", "Exploring", "Engaged", "HighlyEngaged", "Buyer")
DEFAULT_ACTION_NAMES: tuple[str, ...] = ("no_action", "mens_email", "womens_email")
_ROW_SUM_TOLERANCE = 1e-6


class ParameterError(ValueError):
    """A parameter failed validation; the message names field, value and rule."""


def _describe(value: Any) -> str:
    array = np.asarray(value)
    if array.ndim == 0:
        return repr(value)
    return f"array of shape {array.shape}"


def _as_float_array(owner: str, name: str, value: Any, shape: tuple[int, ...]) -> np.ndarray:
    try:
        array = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ParameterError(
            f"{owner}.{name}: received {_describe(value)} of type {type(value).__name__}, "
            f"expected numbers of shape {shape}; pass a numeric array."
        ) from exc
    if array.shape != shape:
        raise ParameterError(
            f"{owner}.{name}: received shape {array.shape}, expected shape {shape}; "
            "check the number of states, actions or segments."
        )
    if not np.all(np.isfinite(array)):
        bad = np.argwhere(~np.isfinite(array))[0]
        raise ParameterError(
            f"{owner}.{name}: received a non-finite value {array[tuple(bad)]!r} at index {tuple(int(i) for i in bad)}, "
            "expected finite numbers; fix the value or re-run the calibration."
        )
    array.setflags(write=False)
    return array


def _check_probabilities(owner: str, name: str, array: np.ndarray) -> None:
    if np.any(array < 0.0) or np.any(array > 1.0):
        bad = np.argwhere((array < 0.0) | (array > 1.0))[0]
        raise ParameterError(
            f"{owner}.{name}: received {array[tuple(bad)]!r} at index {tuple(int(i) for i in bad)}, "
            "expected probabilities in [0, 1]."
        )


def _check_open_probabilities(owner: str, name: str, array: np.ndarray) -> None:
    """Probabilities that enter a logit must lie strictly inside (0, 1)."""
    if np.any(array <= 0.0) or np.any(array >= 1.0):
        bad = np.argwhere((array <= 0.0) | (array >= 1.0))[0]
        raise ParameterError(
            f"{owner}.{name}: received {array[tuple(bad)]!r} at index {tuple(int(i) for i in bad)}, "
            "expected probabilities strictly between 0 and 1 (they enter a logit)."
        )


def _check_rows_sum_to_one(owner: str, name: str, array: np.ndarray) -> None:
    _check_probabilities(owner, name, array)
    sums = array.reshape(-1, array.shape[-1]).sum(axis=1) if array.ndim > 1 else np.array([array.sum()])
    bad = np.flatnonzero(np.abs(sums - 1.0) > _ROW_SUM_TOLERANCE)
    if bad.size:
        raise ParameterError(
            f"{owner}.{name}: row {int(bad[0])} sums to {sums[bad[0]]:.8f}, expected every row to sum to 1 "
            f"(tolerance {_ROW_SUM_TOLERANCE}); normalize the rows."
        )


def _check_names(owner: str, name: str, names: Sequence[str], expected_length: int) -> tuple[str, ...]:
    names = tuple(names)
    if len(names) != expected_length or not all(isinstance(n, str) and n for n in names):
        raise ParameterError(
            f"{owner}.{name}: received {names!r}, expected {expected_length} non-empty strings."
        )
    if len(set(names)) != len(names):
        raise ParameterError(f"{owner}.{name}: received duplicate names in {names!r}, expected unique names.")
    return names


@dataclass(frozen=True, eq=False)
class DynamicsParameters:
    """One calibrated parameter set of the weekly dynamics (docs/architecture.md, "The week of a customer").

    K hidden states, A actions (action 0 is "no action"), and from the
    population model: G segments, C covariates and S start profiles (recency
    levels); R carryover levels.

    Axis order: the three response arrays are ``(R, A, G)``, action before
    segment, because that is how the artifact stores them (``draws/<name>`` is
    ``(S, R, A, G)``).  Every internal table puts the segment first (the
    uplift posterior, the matched effects, the compiled
    :class:`~journeygym.envs.response.ResponseTables`); the transposes happen
    where the calibration builds these parameters and in
    :func:`~journeygym.envs.response.compile_response`.

    Parameters
    ----------
    transition
        ``A`` (the HMM's): (K, K) weekly transition matrix without e-mail; rows sum to 1.
    initial_state_by_recency
        (S, K) distribution of the hidden state at week 0 by start profile (recency level).
    purchase_prob
        ``pi``: (K,) weekly purchase probability per state, strictly in (0, 1).
    visit_prob
        ``nu``: (K,) weekly visit probability per state, strictly in (0, 1).
    purchase_offset
        ``delta_0``: logit offset of the purchase level (Hillstrom list vs. HMM source).
    purchase_covariate_effects, visit_covariate_effects
        ``gamma_c``, ``gamma_v``: (C,) logit effects of the centred covariates.
    covariate_means
        (C,) population mean of the covariate design, used for centring.
    purchase_response
        ``beta``: (R, A, G) direct response of the purchase logit in the week of delivery, per
        carryover level, action and segment; action 0 is zero.
    visit_response
        ``alpha``: (R, A, G) direct response of the visit logit in the week of delivery.
    engagement_tilt
        ``eta``: (R, A, G) carryover: tilt of the transition towards more engaged states.
    spend_log_mean
        (G,) log-normal spend location per segment.
    spend_log_sd
        Log-normal spend scale, > 0.
    population
        The :class:`PopulationModel` new customers are drawn from.
    state_names, action_names
        Names of the K states and A actions.
    purchase_segment_offset, visit_segment_offset
        (G,) logit offsets of each segment's level (default zeros).
    purchase_recency_offset, visit_recency_offset
        (S,) logit offsets of the level by start profile (recency level) at week 0, so the
        simulated control rates by recency equal the trial's (default zeros).
    carryover_levels
        The R carryover ratios ``rho`` the three response arrays were solved for, increasing
        (docs/calibration.md); a scenario's ``carryover`` picks one (:meth:`response_at`).
    visits_follow_purchases
        True when the trial had no visit column: the visit channel is not calibrated, and a
        customer visits exactly in the weeks they purchase (the visit tables are ignored).
    """

    transition: np.ndarray
    initial_state_by_recency: np.ndarray
    purchase_prob: np.ndarray
    visit_prob: np.ndarray
    purchase_offset: float
    purchase_covariate_effects: np.ndarray
    visit_covariate_effects: np.ndarray
    covariate_means: np.ndarray
    purchase_response: np.ndarray
    visit_response: np.ndarray
    engagement_tilt: np.ndarray
    spend_log_mean: np.ndarray
    spend_log_sd: float
    population: PopulationModel
    state_names: tuple[str, ...] = DEFAULT_STATE_NAMES
    action_names: tuple[str, ...] = DEFAULT_ACTION_NAMES
    purchase_segment_offset: np.ndarray | None = None
    visit_segment_offset: np.ndarray | None = None
    purchase_recency_offset: np.ndarray | None = None
    visit_recency_offset: np.ndarray | None = None
    carryover_levels: tuple[float, ...] = (1.5,)
    visits_follow_purchases: bool = False

    def __post_init__(self) -> None:
        owner = "DynamicsParameters"
        transition = np.asarray(self.transition)
        if transition.ndim != 2 or transition.shape[0] != transition.shape[1] or transition.shape[0] < 1:
            raise ParameterError(f"{owner}.transition: received shape {transition.shape}, expected (K, K).")
        n_states = transition.shape[0]
        n_actions = len(tuple(self.action_names))
        if not isinstance(self.population, PopulationModel):
            raise ParameterError(
                f"{owner}.population: received {type(self.population).__name__}, expected a PopulationModel."
            )
        n_segments = self.population.n_segments
        n_cov = self.population.n_covariates
        n_starts = self.population.n_starts

        def arr(name: str, shape: tuple[int, ...]) -> np.ndarray:
            value = _as_float_array(owner, name, getattr(self, name), shape)
            object.__setattr__(self, name, value)
            return value

        _check_rows_sum_to_one(owner, "transition", arr("transition", (n_states, n_states)))
        _check_rows_sum_to_one(
            owner, "initial_state_by_recency", arr("initial_state_by_recency", (n_starts, n_states))
        )
        _check_open_probabilities(owner, "purchase_prob", arr("purchase_prob", (n_states,)))
        _check_open_probabilities(owner, "visit_prob", arr("visit_prob", (n_states,)))
        arr("purchase_covariate_effects", (n_cov,))
        arr("visit_covariate_effects", (n_cov,))
        arr("covariate_means", (n_cov,))
        arr("spend_log_mean", (n_segments,))
        for name, size in (
            ("purchase_segment_offset", n_segments),
            ("visit_segment_offset", n_segments),
            ("purchase_recency_offset", n_starts),
            ("visit_recency_offset", n_starts),
        ):
            if getattr(self, name) is None:
                object.__setattr__(self, name, np.zeros(size))
            arr(name, (size,))
        levels = _check_carryover_levels(owner, self.carryover_levels)
        object.__setattr__(self, "carryover_levels", levels)
        for name in ("purchase_response", "visit_response", "engagement_tilt"):
            effects = arr(name, (len(levels), n_actions, n_segments))
            if np.any(effects[:, 0] != 0.0):
                raise ParameterError(
                    f"{owner}.{name}: received {effects[:, 0].tolist()} for action 0 ({self.action_names[0]!r}), "
                    "expected zeros: action 0 is 'no action' and has no effect."
                )
        for name in ("purchase_offset", "spend_log_sd"):
            value = getattr(self, name)
            if not isinstance(value, (int, float, np.floating, np.integer)) or not math.isfinite(value):
                raise ParameterError(f"{owner}.{name}: received {value!r}, expected a finite number.")
            object.__setattr__(self, name, float(value))
        if self.spend_log_sd <= 0:
            raise ParameterError(f"{owner}.spend_log_sd: received {self.spend_log_sd!r}, expected a value > 0.")
        object.__setattr__(self, "state_names", _check_names(owner, "state_names", self.state_names, n_states))
        object.__setattr__(self, "action_names", _check_names(owner, "action_names", self.action_names, n_actions))

    @property
    def n_states(self) -> int:
        """Number of hidden engagement states K."""
        return self.transition.shape[0]

    @property
    def n_actions(self) -> int:
        """Number of actions A (action 0 is no action)."""
        return len(self.action_names)

    def response_at(self, carryover: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(eta, alpha, beta)``, each (A, G) as stored, solved for the carryover ratio ``carryover``.

        Raises
        ------
        ParameterError
            When the parameters were not calibrated at that carryover.
        """
        matches = [i for i, level in enumerate(self.carryover_levels) if abs(level - carryover) <= 1e-9]
        if not matches:
            raise ParameterError(
                f"ScenarioAssumptions.carryover: received {carryover!r}, but these parameters were calibrated at "
                f"carryover {list(self.carryover_levels)} only; pick one of them, or re-calibrate with that level "
                f"(`journeygym calibrate --carryover {','.join(f'{v:g}' for v in sorted({*self.carryover_levels, carryover}))}`)."
            )
        i = matches[0]
        return self.engagement_tilt[i], self.visit_response[i], self.purchase_response[i]

    def replace(self, **changes: Any) -> DynamicsParameters:
        """Return a validated copy with some fields changed."""
        return dataclasses.replace(self, **changes)


def _check_carryover_levels(owner: str, levels: Any) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in levels)
    except (TypeError, ValueError):
        raise ParameterError(
            f"{owner}.carryover_levels: received {levels!r}, expected a sequence of numbers >= 1."
        ) from None
    if not values or any(not math.isfinite(v) or v < 1.0 for v in values) or list(values) != sorted(set(values)):
        raise ParameterError(
            f"{owner}.carryover_levels: received {values!r}, expected distinct, increasing, finite numbers >= 1 "
            "(carryover ratios rho)."
        )
    return values


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))


#: ASSUMPTION (anchored): carryover ratio rho of a single e-mail (docs/calibration.md).
DEFAULT_CARRYOVER = 1.5
#: Carryover levels an artifact is calibrated at by default: the sensitivity sweep {1, 1.5, 2.5} and 2.0 between.
DEFAULT_CARRYOVER_LEVELS: tuple[float, ...] = (1.0, 1.5, 2.0, 2.5)
#: ASSUMPTION (anchored): weekly memory ``lambda`` of the fatigue stock ``F' = lambda F + d``
#: (:mod:`journeygym.envs.fatigue`); with kappa and the power, fitted by the calibration
#: (:mod:`journeygym.calibration.frequency`) to the frequency response: e-mailing everyone every
#: k weeks lifts annual revenue by about k^-0.41 of the weekly lift (MineThatData 2018).
DEFAULT_FATIGUE_MEMORY = 0.8
#: ASSUMPTION (anchored, fitted with the memory): scale of the fatigue multiplier
#: ``m(F) = ((1 + kappa F) / (1 + kappa F0))^-p``; weekly e-mail to everyone about +30% annual revenue.
DEFAULT_KAPPA = 670.0
#: ASSUMPTION (anchored, fitted with kappa): power ``p`` of the fatigue multiplier.
DEFAULT_FATIGUE_POWER = 0.25
#: ASSUMPTION: fatigue stock ``F0`` of the trial's customers when the trial measured the e-mail effect
#: (0: rested, the only starting point the frequency anchors leave room for; swept in sensitivity).
DEFAULT_TRIAL_FATIGUE = 0.0
#: ASSUMPTION (anchored): unsubscribes per delivered e-mail, 0.1% at zero fatigue ...
DEFAULT_UNSUBSCRIBE_AT_ZERO_FATIGUE = 0.001
#: ... rising to 0.3% at the stock a customer e-mailed every week settles at with the default fatigue.
DEFAULT_UNSUBSCRIBE_AT_WEEKLY_FATIGUE = 0.003
DEFAULT_U0 = _logit(DEFAULT_UNSUBSCRIBE_AT_ZERO_FATIGUE)


def _default_weekly_stock() -> float:
    # The grid's top: where weekly e-mail settles with the default fatigue.
    return float(fatigue_levels(DEFAULT_FATIGUE_MEMORY, tail_weeks(DEFAULT_FATIGUE_MEMORY, DEFAULT_KAPPA, DEFAULT_FATIGUE_POWER))[-1])


DEFAULT_U1 = (_logit(DEFAULT_UNSUBSCRIBE_AT_WEEKLY_FATIGUE) - DEFAULT_U0) / _default_weekly_stock()

#: Longest window of a frequency cap, in weeks (the kernel keeps this many weeks of e-mail history).
MAX_CAP_WEEKS = 16

_ASSUMPTION_RULES: dict[str, str] = {
    "horizon": "an integer >= 1 (weeks)",
    "discount": "a number in (0, 1]",
    "carryover": "a finite number >= 1 (rho: a single e-mail's incremental visits over 52 weeks divided by those "
    "within its two-week window; 1 = no persistence)",
    "fatigue_memory": "a number in (0, 1) (lambda: share of the fatigue stock left after a quiet week)",
    "fatigue_resolution": "an integer in [1, 8] (fatigue levels per factor lambda of the stock; 1 = one level per week)",
    "kappa": "a number >= 0 (scale of the fatigue multiplier ((1 + kappa F) / (1 + kappa F0))^-p)",
    "fatigue_power": "a number >= 0 (power p of the fatigue multiplier; 0 = no fatigue)",
    "trial_fatigue": "a number >= 0 (fatigue stock F0 of the trial's customers; 0 = rested)",
    "u0": "a finite number (logit of the unsubscribe probability at zero fatigue)",
    "u1": "a finite number (logit increase of unsubscribing per unit of fatigue stock)",
    "margin": "a number in [0, 1] (share of spend kept as profit)",
    "action_costs": "a sequence of finite numbers >= 0, one per action, the first (no action) 0",
    "contact_budget": "null or a share in (0, 1] (e-mails per week as a share of subscribed customers)",
    "contact_budget_per_1000": "null or a number in (0, 1000] (e-mails per week per 1,000 customers)",
    "cap_emails": "null or an integer k >= 1 (at most k e-mails in any cap_weeks consecutive weeks); "
    "set together with cap_weeks",
    "cap_weeks": f"null or an integer w with cap_emails <= w <= {MAX_CAP_WEEKS} (the window of the frequency cap); "
    "set together with cap_emails",
}
#: Contact rules are business rules a user sets, not assumptions: they are left out of
#: ``to_dict`` when unset, so scenarios without them keep their config hashes.
CONTACT_RULE_FIELDS: tuple[str, ...] = ("contact_budget", "contact_budget_per_1000", "cap_emails", "cap_weeks")


@dataclass(frozen=True)
class ScenarioAssumptions:
    """Scenario parameters that no data set here calibrates (docs/calibration.md).

    These are ASSUMPTIONS: defaults with stated reasons, always reported as
    such and swept in comparison reports.

    Parameters
    ----------
    horizon
        Episode length H in weeks (default 52).
    discount
        Weekly discount gamma (default 0.995) of the agents' training objective: the
        Stable-Baselines3 agents use it as their ``gamma`` (and for their reward
        normalization) unless their hyperparameters set ``gamma``.  It changes what
        agents aim for, never how policies are scored: evaluation returns are
        undiscounted sums over the horizon, and the oracle maximizes that undiscounted
        return, so it bounds every policy's reported return whatever the discount.
        ``discount: 1`` makes the training objective the reported one.
    carryover
        ``rho``: a single e-mail's expected incremental visits over 52 weeks divided by its
        incremental visits within the two-week window (default 1.5, the low end of the
        long-run/short-run advertising multipliers, 1.5-2.5 in most studies, because e-mail
        fades faster than other media; 1 = no persistence).  The parameters hold the
        e-mail effects solved for a few levels; the scenario picks one.
    fatigue_memory
        The fatigue stock ``F' = lambda F + d`` (``d = 1`` with a delivered e-mail) keeps
        ``lambda`` of itself each week (default :data:`DEFAULT_FATIGUE_MEMORY`).  It lives on
        the exact grid of :mod:`journeygym.envs.fatigue`; :attr:`max_fatigue` is its highest level.
    fatigue_resolution
        Levels of that grid per factor ``lambda`` (default 1: a quiet week moves one level down and
        an e-mail's stock is rounded to within a factor ``lambda^(1/2)``; 2 halves the rounding and
        doubles the levels).  A numerical choice, not an assumption about customers.
    kappa, fatigue_power, trial_fatigue
        An e-mail's effect is multiplied by ``((1 + kappa F) / (1 + kappa F0))^-p``; ``F0`` is the
        stock of the trial's customers (default 0, rested), so the calibrated effects are the
        trial's at ``F0``, and simulated customers start at the level nearest ``F0``
        (:attr:`initial_fatigue_level`), as the trial's customers were.  ``kappa`` and ``p``
        (with ``lambda``) are anchored by the calibration on the frequency response: weekly
        e-mail to everyone about +30% annual revenue over never, every k weeks about
        ``k^-0.41`` of that (docs/fatigue.md); ``trial_fatigue`` is swept in sensitivity.
    u0, u1
        Unsubscribe probability per delivered e-mail is ``sigmoid(u0 + u1 * F)``; default
        0.1% when rested rising to 0.3% at the stock of weekly e-mail (industry reports:
        0.1%-0.25% per delivered e-mail).
    margin
        Profit share of spend (default 0.30).
    action_costs
        Cost of each action when delivered (default: no action $0, each e-mail $0.05).
    contact_budget, contact_budget_per_1000
        Contact rules, not assumptions (docs/architecture.md, "Contact rules"): a weekly send budget, either as a share of the
        subscribed customers (in (0, 1]) or as a count per 1,000 customers of the population (in
        (0, 1000]); at most one of the two.  Default None: no budget.  Each week at most
        ``floor(share * subscribed)`` (or ``floor(count * N / 1000)``) e-mails are delivered; when
        more are requested the highest priorities are kept (:mod:`journeygym.envs.contact_rules`).
    cap_emails, cap_weeks
        Contact rule, not an assumption: a frequency cap of at most ``cap_emails`` (k) e-mails in
        any ``cap_weeks`` (w) consecutive weeks, ``1 <= k <= w <= 16``; set both or neither.
        A capped customer is never e-mailed, and the observation gains the column
        ``weeks_until_email_allowed``.
    """

    horizon: int = 52
    discount: float = 0.995
    carryover: float = DEFAULT_CARRYOVER
    fatigue_memory: float = DEFAULT_FATIGUE_MEMORY
    fatigue_resolution: int = 1
    kappa: float = DEFAULT_KAPPA
    fatigue_power: float = DEFAULT_FATIGUE_POWER
    trial_fatigue: float = DEFAULT_TRIAL_FATIGUE
    u0: float = DEFAULT_U0
    u1: float = DEFAULT_U1
    margin: float = 0.30
    action_costs: tuple[float, ...] = (0.0, 0.05, 0.05)
    contact_budget: float | None = None
    contact_budget_per_1000: float | None = None
    cap_emails: int | None = None
    cap_weeks: int | None = None

    def __post_init__(self) -> None:
        owner = "ScenarioAssumptions"

        def fail(name: str) -> ParameterError:
            return ParameterError(
                f"{owner}.{name}: received {getattr(self, name)!r}, expected {_ASSUMPTION_RULES[name]}."
            )

        for name in ("horizon", "fatigue_resolution"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise fail(name)
            object.__setattr__(self, name, int(value))
        if self.horizon < 1:
            raise fail("horizon")
        if not 1 <= self.fatigue_resolution <= 8:
            raise fail("fatigue_resolution")
        for name in (
            "discount", "carryover", "fatigue_memory", "kappa", "fatigue_power", "trial_fatigue", "u0", "u1", "margin"
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
                raise fail(name)
            if not math.isfinite(value):
                raise fail(name)
            object.__setattr__(self, name, float(value))
        if not 0.0 < self.discount <= 1.0:
            raise fail("discount")
        for name in ("kappa", "fatigue_power", "trial_fatigue"):
            if getattr(self, name) < 0.0:
                raise fail(name)
        if not 0.0 < self.fatigue_memory < 1.0:
            raise fail("fatigue_memory")
        if self.carryover < 1.0:
            raise fail("carryover")
        if not 0.0 <= self.margin <= 1.0:
            raise fail("margin")
        try:
            costs = tuple(float(c) for c in self.action_costs)
        except (TypeError, ValueError):
            raise fail("action_costs") from None
        if not costs or any(not math.isfinite(c) or c < 0 for c in costs) or costs[0] != 0.0:
            raise fail("action_costs")
        object.__setattr__(self, "action_costs", costs)
        self._check_contact_rules(fail)

    def _check_contact_rules(self, fail: Any) -> None:
        for name, upper in (("contact_budget", 1.0), ("contact_budget_per_1000", 1000.0)):
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
                raise fail(name)
            if not math.isfinite(value) or not 0.0 < value <= upper:
                raise fail(name)
            object.__setattr__(self, name, float(value))
        if self.contact_budget is not None and self.contact_budget_per_1000 is not None:
            raise ParameterError(
                f"ScenarioAssumptions: received contact_budget={self.contact_budget!r} and contact_budget_per_1000="
                f"{self.contact_budget_per_1000!r}, expected at most one weekly budget; remove one of them."
            )
        for name in ("cap_emails", "cap_weeks"):
            value = getattr(self, name)
            if value is not None:
                if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                    raise fail(name)
                object.__setattr__(self, name, int(value))
        if (self.cap_emails is None) != (self.cap_weeks is None):
            missing = "cap_weeks" if self.cap_weeks is None else "cap_emails"
            raise ParameterError(
                f"ScenarioAssumptions.{missing}: received null while "
                f"{'cap_emails' if missing == 'cap_weeks' else 'cap_weeks'} is set; a frequency cap needs both "
                "(at most cap_emails e-mails in any cap_weeks consecutive weeks)."
            )
        if self.cap_emails is not None:
            if self.cap_emails < 1:
                raise fail("cap_emails")
            if not self.cap_emails <= self.cap_weeks <= MAX_CAP_WEEKS:
                raise fail("cap_weeks")

    @property
    def fatigue_tail_weeks(self) -> int:
        """Quiet weeks after which a single e-mail is forgotten (:func:`journeygym.envs.fatigue.tail_weeks`)."""
        return tail_weeks(self.fatigue_memory, self.kappa, self.fatigue_power)

    @cached_property
    def fatigue_stocks(self) -> np.ndarray:
        """The fatigue stock at each level ``0..max_fatigue`` (:func:`journeygym.envs.fatigue.fatigue_levels`; read-only)."""
        stocks = fatigue_levels(self.fatigue_memory, self.fatigue_tail_weeks, self.fatigue_resolution)
        stocks.setflags(write=False)
        return stocks

    @property
    def initial_fatigue_level(self) -> int:
        """The level customers start at: the one nearest the trial's fatigue ``F0`` (0 when rested)."""
        return nearest_level(self.fatigue_stocks, self.trial_fatigue)

    @property
    def max_fatigue(self) -> int:
        """The highest fatigue level: the kernel's tables have ``max_fatigue + 1`` fatigue levels."""
        return int(self.fatigue_stocks.size - 1)

    @property
    def has_budget(self) -> bool:
        """True when a weekly contact budget is set."""
        return self.contact_budget is not None or self.contact_budget_per_1000 is not None

    @property
    def has_frequency_cap(self) -> bool:
        """True when a frequency cap is set."""
        return self.cap_emails is not None

    @property
    def unsubscribe_base_probability(self) -> float:
        """Unsubscribe probability of an e-mail at zero fatigue, ``sigmoid(u0)``."""
        return 1.0 / (1.0 + math.exp(-self.u0))

    def replace(self, **changes: Any) -> ScenarioAssumptions:
        """Return a validated copy with some fields changed; unknown names raise a clear error."""
        return assumptions_with_overrides(self, changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python dictionary of the assumptions (for records and configs); unset contact rules are left out."""
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if not (f.name in CONTACT_RULE_FIELDS and getattr(self, f.name) is None)
        }


def assumptions_with_overrides(base: ScenarioAssumptions, overrides: Mapping[str, Any] | None) -> ScenarioAssumptions:
    """Apply a mapping of overrides to scenario assumptions, rejecting unknown names.

    Raises
    ------
    ParameterError
        For a name that is not an assumption (with the closest valid name) or
        a value that breaks a rule.
    """
    if not overrides:
        return base
    if not isinstance(overrides, Mapping):
        raise ParameterError(
            f"scenario overrides: received {type(overrides).__name__}, expected a mapping such as {{'kappa': 0.5}}."
        )
    valid = [f.name for f in dataclasses.fields(ScenarioAssumptions)]
    for key in overrides:
        if key not in valid:
            raise ParameterError(f"scenario overrides: unknown assumption {key!r}{did_you_mean(key, valid)}; valid names: {valid}.")
    return dataclasses.replace(base, **dict(overrides))


@dataclass(frozen=True, eq=False)
class ParameterDraws:
    """A collection of S parameter sets, one per posterior draw, plus their mean.

    Parameters
    ----------
    draws
        The S :class:`DynamicsParameters` (S >= 1), all with the same shapes.
    mean
        The parameter set used for ``params="mean"``.
    assumptions
        Default :class:`ScenarioAssumptions` of this parameter set.
    metadata
        Provenance: version, config hash, seed, data checksums, labels.
    """

    draws: tuple[DynamicsParameters, ...]
    mean: DynamicsParameters
    assumptions: ScenarioAssumptions = field(default_factory=ScenarioAssumptions)
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        draws = tuple(self.draws)
        if not draws or not all(isinstance(d, DynamicsParameters) for d in draws):
            raise ParameterError("ParameterDraws.draws: expected a non-empty sequence of DynamicsParameters.")
        reference = self.mean
        for index, draw in enumerate(draws):
            if draw.n_states != reference.n_states or draw.action_names != reference.action_names:
                raise ParameterError(
                    f"ParameterDraws.draws[{index}]: has {draw.n_states} states and actions {draw.action_names}, "
                    f"expected {reference.n_states} states and actions {reference.action_names} like the mean."
                )
        if len(self.assumptions.action_costs) != reference.n_actions:
            raise ParameterError(
                f"ScenarioAssumptions.action_costs: received {len(self.assumptions.action_costs)} costs, "
                f"expected one per action ({reference.n_actions}: {reference.action_names})."
            )
        object.__setattr__(self, "draws", draws)

    def __len__(self) -> int:
        return len(self.draws)

    def select(self, which: str | int, rng: np.random.Generator) -> tuple[int, DynamicsParameters]:
        """Resolve ``"mean"``, ``"sample"`` or a draw index to ``(index, parameters)``.

        The index is -1 for the mean.  ``"sample"`` draws an index uniformly with ``rng``.
        """
        if isinstance(which, str):
            if which == "mean":
                return -1, self.mean
            if which == "sample":
                index = int(rng.integers(len(self.draws)))
                return index, self.draws[index]
        elif isinstance(which, (int, np.integer)) and not isinstance(which, bool):
            if 0 <= which < len(self.draws):
                return int(which), self.draws[int(which)]
            raise ParameterError(
                f"params: received draw index {which}, expected an integer in [0, {len(self.draws) - 1}] "
                f"(this artifact holds {len(self.draws)} draws)."
            )
        raise ParameterError(
            f"params: received {which!r}, expected 'mean', 'sample' or a draw index in [0, {len(self.draws) - 1}]."
        )
