"""The one dynamics kernel: a week of the customer journey for N customers at once.

Everything here works on all customers at once (docs/architecture.md, "The week of a customer"): numpy for
the reset, and for the step one compiled pass over the customers
(:func:`journeygym.envs.compiled.step_loop`, whose docstring gives the
measured reason) plus numpy for the spend of the week's buyers.  The kernel is
split so that randomness and dynamics are separate:

* :func:`draw_reset_noise` / :func:`draw_step_noise` draw every uniform a
  reset or a step needs from one ``np.random.Generator``, one column per
  customer;
* :func:`initial_population` and :func:`step_population` are deterministic
  functions of the state, the actions and that noise.

So the same noise columns give the same customer whatever N is, which is how
the single-customer env and the population env are tested to agree.

:func:`step_customer` is the same week for one customer, on Python scalars and
the same compiled tables.  At N = 1 the array allocations and the compiled
call's argument handling would cost more than the week itself; the scalar form
takes a few microseconds.  It performs the same operations in the same order
(table lookups, float64 additions, ``expit`` and ``exp`` of the same C
library, numpy's ``ndtri``/``exp`` for the spend), so it returns bit-identical
results, which the tests check against :func:`step_population` over random
states, actions and noise.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, fields
from functools import cached_property
from typing import NamedTuple

import numpy as np
from scipy.special import expit, ndtri

from journeygym.envs.parameters import (
    MAX_CAP_WEEKS,
    DynamicsParameters,
    ParameterError,
    ScenarioAssumptions,
)
from journeygym.envs.population import PopulationModel
from journeygym.envs.response import compile_response

#: Rows of the step noise block.
STEP_NOISE_ROWS: tuple[str, ...] = ("unsubscribe", "transition", "visit", "purchase", "spend")
#: Rows of the reset noise block.
RESET_NOISE_ROWS: tuple[str, ...] = ("profile", "continuous_covariate", "initial_state")
#: Cap of the "weeks since" counters.
WEEKS_SINCE_CAP = 52
#: Purchases and visits are counted over the last 4 weeks (a 4-bit mask).
_RECENT_WEEKS_MASK = 0b1111
#: Weeks of e-mail history kept for the frequency cap (bit j of ``recent_emails``: an e-mail j + 1 weeks ago).
_EMAIL_HISTORY_MASK = (1 << MAX_CAP_WEEKS) - 1
#: Most hidden states the simulator supports (per-state counters, e.g. in tracing, have this size).
MAX_STATES = 9


@dataclass(frozen=True, eq=False)
class KernelTables:
    """Lookup tables compiled from one parameter set and one scenario.

    Every per-week quantity that depends only on (action, segment, fatigue,
    state) is precomputed, so a step is a handful of gathers and compares.
    """

    n_states: int
    n_actions: int
    n_segments: int
    max_fatigue: int
    #: Fatigue level of a customer at week 0 (the trial's starting fatigue).
    initial_fatigue: int
    horizon: int
    #: Stride of the action in the flat (segment, action, fatigue, state) key.
    action_stride: int
    #: Stride of the segment in the flat key.
    segment_stride: int
    #: (G * A * (F+1) * K, K - 1) cumulative transition probabilities by key without the last column.
    transition_cdf: np.ndarray
    #: (G * A * (F+1) * K,) purchase logit without covariates, by key of the *next* state.
    purchase_logit: np.ndarray
    #: (G * A * (F+1) * K,) visit logit without covariates, by key of the *next* state.
    visit_logit: np.ndarray
    #: (G * A * (F+1) * K,) unsubscribe probability by key (zero without an e-mail).
    unsubscribe_prob: np.ndarray
    #: (G * A * (F+1) * K,) fatigue after the week by key.
    next_fatigue: np.ndarray
    #: (WEEKS_SINCE_CAP + 1,) the "weeks since" counter one week later, capped.
    next_weeks_since: np.ndarray
    #: (16,) a 4-week event bit mask shifted by one week.
    shifted_recent: np.ndarray
    #: (A,) cost of each action when delivered.
    action_cost: np.ndarray
    #: (A,) the action delivers something / is an e-mail (the action table's masks).
    is_contact: np.ndarray
    is_email: np.ndarray
    margin: float
    spend_log_mean: np.ndarray
    spend_log_sd: float
    purchase_covariate_effects: np.ndarray
    visit_covariate_effects: np.ndarray
    covariate_means: np.ndarray
    purchase_segment_offset: np.ndarray
    visit_segment_offset: np.ndarray
    purchase_recency_offset: np.ndarray
    visit_recency_offset: np.ndarray
    #: A visit happens exactly with a purchase (a trial without a visit column: the visit tables equal the purchase tables).
    visits_follow_purchases: bool
    #: (R, K - 1) cumulative initial-state distribution by start profile.
    initial_state_cdf: np.ndarray
    #: (P,) cumulative weights of the population's profiles.
    population_cdf: np.ndarray
    population: PopulationModel
    #: (R,) weeks since the last purchase at week 0 by start profile, capped.
    start_weeks_since_purchase: np.ndarray

    @cached_property
    def scalar(self) -> ScalarTables:
        """The tables :func:`step_customer` reads, as Python lists (built once, on first use)."""
        return ScalarTables(
            transition_cdf=self.transition_cdf.tolist(),
            purchase_logit=self.purchase_logit.tolist(),
            visit_logit=self.visit_logit.tolist(),
            unsubscribe_prob=self.unsubscribe_prob.tolist(),
            next_fatigue=self.next_fatigue.tolist(),
            next_weeks_since=self.next_weeks_since.tolist(),
            shifted_recent=self.shifted_recent.tolist(),
            action_cost=self.action_cost.tolist(),
            is_contact=self.is_contact.tolist(),
            is_email=self.is_email.tolist(),
            spend_log_mean=self.spend_log_mean.tolist(),
        )


@dataclass(frozen=True, eq=False)
class ScalarTables:
    """Python-list copies of the :class:`KernelTables` a one-customer step reads.

    Indexing a list costs tens of nanoseconds where indexing an array and
    converting the element costs hundreds.
    """

    transition_cdf: list[list[float]]
    purchase_logit: list[float]
    visit_logit: list[float]
    unsubscribe_prob: list[float]
    next_fatigue: list[int]
    next_weeks_since: list[int]
    shifted_recent: list[int]
    action_cost: list[float]
    is_contact: list[bool]
    is_email: list[bool]
    spend_log_mean: list[float]


def compile_tables(params: DynamicsParameters, assumptions: ScenarioAssumptions) -> KernelTables:
    """Precompute the kernel's lookup tables for one parameter set and scenario.

    The week's dynamics come from :func:`journeygym.envs.response.compile_response`
    (the one definition of the response model); this function only lays them
    out as flat tables keyed by (segment, action, fatigue, state) and turns the
    transition rows into cumulative distributions for sampling.
    """
    n_states, n_actions = params.n_states, params.n_actions
    if n_states > MAX_STATES:
        raise ParameterError(
            f"DynamicsParameters.transition: received {n_states} states, expected at most {MAX_STATES} "
            "(the simulator's per-state counters); fit the HMM with fewer states."
        )
    response = compile_response(params, assumptions)
    n_segments = params.population.n_segments
    n_fatigue = assumptions.max_fatigue + 1
    key_shape = (n_segments, n_actions, n_fatigue, n_states)  # every per-key table has these axes
    cdf = np.cumsum(response.transition, axis=-1)[..., :-1]
    n_keys = int(np.prod(key_shape))

    def per_key(table: np.ndarray) -> np.ndarray:
        # (A, F+1) -> flat (G, A, F+1, K)
        return np.ascontiguousarray(np.broadcast_to(table[None, :, :, None], key_shape).reshape(-1))

    initial_cdf = np.cumsum(params.initial_state_by_recency, axis=1)[:, :-1]
    population_cdf = np.cumsum(params.population.weights)
    population_cdf /= population_cdf[-1]
    weeks_since = np.arange(WEEKS_SINCE_CAP + 1)

    return KernelTables(
        n_states=n_states,
        n_actions=n_actions,
        n_segments=n_segments,
        max_fatigue=assumptions.max_fatigue,
        initial_fatigue=assumptions.initial_fatigue_level,
        horizon=assumptions.horizon,
        action_stride=n_fatigue * n_states,
        segment_stride=n_actions * n_fatigue * n_states,
        transition_cdf=np.ascontiguousarray(cdf.reshape(n_keys, n_states - 1)),
        purchase_logit=np.ascontiguousarray(response.purchase_logit.reshape(-1)),
        visit_logit=np.ascontiguousarray(response.visit_logit.reshape(-1)),
        unsubscribe_prob=per_key(response.unsubscribe),
        next_fatigue=per_key(response.next_fatigue).astype(np.int64),
        next_weeks_since=np.minimum(weeks_since + 1, WEEKS_SINCE_CAP),
        shifted_recent=(np.arange(16) << 1) & _RECENT_WEEKS_MASK,
        action_cost=response.action_cost,
        is_contact=response.is_contact,
        is_email=response.is_email,
        margin=assumptions.margin,
        spend_log_mean=params.spend_log_mean,
        spend_log_sd=params.spend_log_sd,
        purchase_covariate_effects=params.purchase_covariate_effects,
        visit_covariate_effects=params.visit_covariate_effects,
        covariate_means=params.covariate_means,
        purchase_segment_offset=params.purchase_segment_offset,
        visit_segment_offset=params.visit_segment_offset,
        purchase_recency_offset=params.purchase_recency_offset,
        visit_recency_offset=params.visit_recency_offset,
        initial_state_cdf=np.ascontiguousarray(initial_cdf),
        visits_follow_purchases=params.visits_follow_purchases,
        population_cdf=population_cdf,
        population=params.population,
        start_weeks_since_purchase=np.minimum(params.population.start_weeks_since_purchase, WEEKS_SINCE_CAP),
    )


@dataclass(eq=False)
class PopulationState:
    """State of N customers, one array entry per customer.

    Static covariates (drawn at reset) and the dynamic state (z, f, s, t) of
    docs/architecture.md, "The week of a customer", plus the short behavioural history the observation reports.
    """

    profile: np.ndarray  # int64, the population profile drawn at reset
    continuous: np.ndarray  # float64, the continuous covariate's amount (dollars; 0 without one)
    segment: np.ndarray  # int64, 0..G-1
    start: np.ndarray  # int64, start profile 0..R-1
    segment_key: np.ndarray  # int64, segment * tables.segment_stride (cached part of the table key)
    purchase_covariate_logit: np.ndarray  # float64, gamma_c . x~ + segment offset (static per customer)
    visit_covariate_logit: np.ndarray  # float64, gamma_v . x~ + segment offset
    hidden_state: np.ndarray  # int64, z
    fatigue: np.ndarray  # int64, f
    subscribed: np.ndarray  # bool, s
    week: np.ndarray  # int64, t
    weeks_since_purchase: np.ndarray  # int64, capped at WEEKS_SINCE_CAP
    weeks_since_visit: np.ndarray
    recent_purchases: np.ndarray  # int64 bit mask of the last 4 weeks
    recent_visits: np.ndarray
    last_action: np.ndarray  # int64, the action delivered last week
    cumulative_spend: np.ndarray  # float64
    recent_emails: np.ndarray  # int64 bit mask of e-mails delivered in the last 16 weeks (bit 0: last week)

    @property
    def n_customers(self) -> int:
        """Number of customers N."""
        return self.hidden_state.shape[0]

    def assign(self, rows: np.ndarray, other: PopulationState) -> None:
        """Overwrite the customers at ``rows`` with all customers of ``other`` (same count)."""
        for name in self.__dataclass_fields__:
            getattr(self, name)[rows] = getattr(other, name)

    def copy(self) -> PopulationState:
        """Deep copy of every array."""
        return PopulationState(**{name: getattr(self, name).copy() for name in self.__dataclass_fields__})


class StepOutcome(NamedTuple):
    """What happened to each customer in one week (arrays of length N)."""

    reward: np.ndarray
    delivered: np.ndarray  # bool, an e-mail reached a subscribed customer
    unsubscribed: np.ndarray  # bool, unsubscribed this week
    visited: np.ndarray
    purchased: np.ndarray
    spend: np.ndarray
    visit_prob: np.ndarray
    purchase_prob: np.ndarray


def draw_reset_noise(rng: np.random.Generator, n_customers: int) -> np.ndarray:
    """Uniforms for :func:`initial_population`, shape ``(3, N)``: rows as :data:`RESET_NOISE_ROWS`."""
    return rng.random((len(RESET_NOISE_ROWS), n_customers))


def draw_step_noise(rng: np.random.Generator, n_customers: int) -> np.ndarray:
    """Uniforms for :func:`step_population`, shape ``(5, N)``: rows as :data:`STEP_NOISE_ROWS`."""
    return rng.random((len(STEP_NOISE_ROWS), n_customers))


def _linear_predictor(covariates: np.ndarray, effects: np.ndarray) -> np.ndarray:
    """``covariates @ effects`` summed in a fixed order.

    A BLAS product may sum in a different order for different N, which would
    break "same customer whatever N is" in the last bit.
    """
    total = np.zeros(covariates.shape[0])
    for column, effect in zip(covariates.T, effects):
        total += column * effect
    return total


def initial_population(tables: KernelTables, noise: np.ndarray) -> PopulationState:
    """Draw N new customers at week 0 from the population model.

    Parameters
    ----------
    tables
        Compiled parameters (:func:`compile_tables`).
    noise
        ``(3, N)`` uniforms from :func:`draw_reset_noise`.
    """
    n = noise.shape[1]
    population = tables.population
    profile = np.minimum(np.searchsorted(tables.population_cdf, noise[0], side="right"), tables.population_cdf.size - 1)
    segment = population.segment[profile]
    start = population.start[profile]
    continuous = population.draw_continuous(segment, noise[1])
    hidden_state = (noise[2][:, None] >= tables.initial_state_cdf[start]).sum(axis=1)
    centred = population.design_of(profile, continuous) - tables.covariate_means
    weeks_since_purchase = tables.start_weeks_since_purchase[start]
    purchase_logit = (
        _linear_predictor(centred, tables.purchase_covariate_effects)
        + tables.purchase_segment_offset[segment]
        + tables.purchase_recency_offset[start]
    )
    if tables.visits_follow_purchases:
        visit_logit = purchase_logit.copy()
    else:
        visit_logit = (
            _linear_predictor(centred, tables.visit_covariate_effects)
            + tables.visit_segment_offset[segment]
            + tables.visit_recency_offset[start]
        )
    zeros = np.zeros(n, dtype=np.int64)
    return PopulationState(
        profile=profile.astype(np.int64),
        continuous=continuous,
        segment=segment,
        start=start,
        segment_key=segment * tables.segment_stride,
        purchase_covariate_logit=purchase_logit,
        visit_covariate_logit=visit_logit,
        hidden_state=hidden_state.astype(np.int64),
        fatigue=np.full(n, tables.initial_fatigue, dtype=np.int64),
        subscribed=np.ones(n, dtype=bool),
        week=zeros.copy(),
        weeks_since_purchase=weeks_since_purchase,
        weeks_since_visit=weeks_since_purchase.copy(),
        recent_purchases=zeros.copy(),
        recent_visits=zeros.copy(),
        last_action=zeros.copy(),
        cumulative_spend=np.zeros(n),
        recent_emails=zeros.copy(),
    )


def step_population(
    state: PopulationState, actions: np.ndarray, tables: KernelTables, noise: np.ndarray
) -> StepOutcome:
    """Advance every customer by one week, in place (docs/architecture.md, "The week of a customer").

    Parameters
    ----------
    state
        The customers; updated in place.
    actions
        ``(N,)`` integer actions in ``[0, A)``; validated by the caller.
    tables
        Compiled parameters.
    noise
        ``(5, N)`` uniforms from :func:`draw_step_noise`.

    Returns
    -------
    StepOutcome
        Rewards and events of the week.
    """
    from journeygym.envs.compiled import step_loop  # numba loads on the first step, not on import

    n = state.n_customers
    noise = np.ascontiguousarray(noise, dtype=np.float64)
    if tables.visits_follow_purchases:
        noise = noise.copy()
        noise[2] = noise[3]  # the visit draw is the purchase draw: a visit exactly with a purchase
    # Unsubscribed customers get no e-mail: their delivered action (state.last_action after the step) is "no action".
    reward = np.empty(n)
    delivered = np.empty(n, dtype=bool)
    unsubscribed = np.empty(n, dtype=bool)
    visited = np.empty(n, dtype=bool)
    purchased = np.empty(n, dtype=bool)
    visit_prob = np.empty(n)
    purchase_prob = np.empty(n)
    step_loop(
        np.ascontiguousarray(actions, dtype=np.int64),
        noise,
        state.subscribed,
        state.segment_key,
        state.fatigue,
        state.hidden_state,
        state.visit_covariate_logit,
        state.purchase_covariate_logit,
        state.week,
        state.weeks_since_purchase,
        state.weeks_since_visit,
        state.recent_purchases,
        state.recent_visits,
        state.last_action,
        state.recent_emails,
        tables.unsubscribe_prob,
        tables.transition_cdf,
        tables.visit_logit,
        tables.purchase_logit,
        tables.next_fatigue,
        tables.next_weeks_since,
        tables.shifted_recent,
        tables.action_stride,
        tables.n_states,
        _EMAIL_HISTORY_MASK,
        tables.action_cost,
        tables.is_contact,
        tables.is_email,
        tables.margin,
        reward,
        delivered,
        unsubscribed,
        visited,
        purchased,
        visit_prob,
        purchase_prob,
    )

    spend = np.zeros(n)
    if np.count_nonzero(purchased):
        buyers = np.flatnonzero(purchased)
        log_spend = tables.spend_log_mean[state.segment[buyers]] + tables.spend_log_sd * ndtri(noise[4, buyers])
        spend[buyers] = np.exp(log_spend)
        reward[buyers] = spend[buyers] * tables.margin - tables.action_cost[state.last_action[buyers]]
        state.cumulative_spend[buyers] += spend[buyers]
    return StepOutcome(
        reward=reward,
        delivered=delivered,
        unsubscribed=unsubscribed,
        visited=visited,
        purchased=purchased,
        spend=spend,
        visit_prob=visit_prob,
        purchase_prob=purchase_prob,
    )


@dataclass(slots=True)
class CustomerState:
    """The state of one customer as Python scalars: the fields of :class:`PopulationState`."""

    profile: int
    continuous: float
    segment: int
    start: int
    segment_key: int
    purchase_covariate_logit: float
    visit_covariate_logit: float
    hidden_state: int
    fatigue: int
    subscribed: bool
    week: int
    weeks_since_purchase: int
    weeks_since_visit: int
    recent_purchases: int
    recent_visits: int
    last_action: int
    cumulative_spend: float
    recent_emails: int

    @classmethod
    def from_population(cls, state: PopulationState, index: int = 0) -> CustomerState:
        """Customer ``index`` of ``state``, copied out."""
        return cls(**{field.name: getattr(state, field.name)[index].item() for field in fields(PopulationState)})

    def to_population(self) -> PopulationState:
        """A :class:`PopulationState` of N = 1 holding a copy of this customer."""
        values = {}
        for field in fields(PopulationState):
            value = getattr(self, field.name)
            dtype = bool if isinstance(value, bool) else np.int64 if isinstance(value, int) else np.float64
            values[field.name] = np.array([value], dtype=dtype)
        return PopulationState(**values)


class CustomerOutcome(NamedTuple):
    """:class:`StepOutcome` of one customer, as Python scalars."""

    reward: float
    delivered: bool
    unsubscribed: bool
    visited: bool
    purchased: bool
    spend: float
    visit_prob: float
    purchase_prob: float


def step_customer(state: CustomerState, action: int, tables: KernelTables, noise: Sequence[float]) -> CustomerOutcome:
    """:func:`step_population` for one customer, in place, bit for bit (see the module docstring).

    Parameters
    ----------
    state
        The customer; updated in place.
    action
        An integer action in ``[0, A)``; validated by the caller.
    tables
        Compiled parameters.
    noise
        The five uniforms of one column of :func:`draw_step_noise`.
    """
    lists = tables.scalar
    u_unsubscribe, u_transition, u_visit, u_purchase, u_spend = noise
    if tables.visits_follow_purchases:
        u_visit = u_purchase
    delivered_action = action if state.subscribed else 0
    cell = delivered_action * tables.action_stride + state.segment_key + state.fatigue * tables.n_states
    row = cell + state.hidden_state

    unsubscribed = u_unsubscribe < lists.unsubscribe_prob[row]
    if unsubscribed:
        state.subscribed = False
    # The cumulative row is non-decreasing, so the count of entries <= u is a bisection.
    next_state = bisect_right(lists.transition_cdf[row], u_transition)

    cell += next_state
    visit_prob = float(expit(lists.visit_logit[cell] + state.visit_covariate_logit))
    purchase_prob = float(expit(lists.purchase_logit[cell] + state.purchase_covariate_logit))
    visited = u_visit < visit_prob
    purchased = u_purchase < purchase_prob

    spend = 0.0
    if purchased:
        log_spend = lists.spend_log_mean[state.segment] + tables.spend_log_sd * float(ndtri(u_spend))
        spend = float(np.exp(log_spend))
    reward = spend * tables.margin - lists.action_cost[delivered_action]

    state.fatigue = lists.next_fatigue[row]
    state.hidden_state = next_state
    state.week += 1
    state.weeks_since_purchase = 0 if purchased else lists.next_weeks_since[state.weeks_since_purchase]
    state.weeks_since_visit = 0 if visited else lists.next_weeks_since[state.weeks_since_visit]
    state.recent_purchases = lists.shifted_recent[state.recent_purchases] | purchased
    state.recent_visits = lists.shifted_recent[state.recent_visits] | visited
    state.last_action = delivered_action
    state.cumulative_spend += spend
    state.recent_emails = ((state.recent_emails << 1) & _EMAIL_HISTORY_MASK) | lists.is_email[delivered_action]
    delivered = lists.is_contact[delivered_action]
    return CustomerOutcome(reward, delivered, unsubscribed, visited, purchased, spend, visit_prob, purchase_prob)


__all__ = [
    "CustomerOutcome",
    "CustomerState",
    "KernelTables",
    "PopulationState",
    "RESET_NOISE_ROWS",
    "STEP_NOISE_ROWS",
    "ScalarTables",
    "StepOutcome",
    "WEEKS_SINCE_CAP",
    "compile_tables",
    "draw_reset_noise",
    "draw_step_noise",
    "initial_population",
    "step_customer",
    "step_population",
]
