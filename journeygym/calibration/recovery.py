"""Parameter recovery: the calibration's data simulated from known parameters.

The check PyMC and pymc-marketing run on their models: simulate the data the
calibration reads from known parameters, fit the calibration's own models on
it and see whether they find the truth again.
:func:`simulate_trial` plays a randomized e-mail trial like Hillstrom's with
the simulator, in the table :func:`~journeygym.datasets.hillstrom.load_hillstrom`
returns (:func:`true_two_week_uplift`: the exact uplift of its arms);
:func:`simulate_transaction_log` writes the purchases of customers left without
e-mail for many weeks, the log :func:`~journeygym.datasets.transactions.load_transactions`
reads (:func:`true_state_purchase_probabilities`: what the purchase HMM's
emissions should recover).

The simulated log
-----------------
The simulator's step is a week, so a purchase is dated on the first day of its
week (``start + 7 w``): :func:`~journeygym.calibration.weekly.weekly_observations`
with ``start="after_first_purchase"`` (the pipeline's path) then starts each
customer's sequence on the first day of the simulated week after the first
purchase, and its weeks are the simulator's weeks.  Every customer starts at
week 0 (the simulator's customers are existing customers, drawn with their
recency); no staggered entry as in CDNOW's cohort is needed, since the first
purchase is a stopping time: the weeks after it follow the same Markov chain,
whose start the HMM's ``startprob_`` absorbs.  As in CDNOW, customers who
never buy are not in the log; the last simulated week (its purchases dated on
its first day) is not complete, and the weekly builder leaves it out.

``level="simulator"``: in state ``z`` a customer buys with ``sigmoid(logit
pi_z + delta_0 + c)``, the purchase offset ``delta_0`` (Hillstrom's level
against the HMM's source) plus the customer's covariate, segment and recency
offsets ``c``.  ``level="hmm"`` drops ``delta_0`` and ``c``: every customer
buys with ``pi_z``, as the customers of the log the pipeline's HMM is fitted
on, so the truth of its ``purchase_prob_`` is the parameters' ``purchase_prob``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy.special import expit

from journeygym.datasets.hillstrom import ARMS, coded_table
from journeygym.datasets.transactions import load_transactions
from journeygym.calibration.weekly import weekly_observations
from journeygym.datasets.hillstrom_columns import table_design
from journeygym.envs.kernel import PopulationState
from journeygym.envs.parameters import CONTACT_RULE_FIELDS, DynamicsParameters, ParameterDraws, ScenarioAssumptions
from journeygym.envs.population_env import CustomerPopulationVectorEnv
from journeygym.envs.response import compile_response

__all__ = ["LEVELS", "simulate_trial", "simulate_transaction_log", "true_state_purchase_probabilities", "true_two_week_uplift"]

Level = Literal["simulator", "hmm"]
#: Purchase levels of a simulated log (module docstring).
LEVELS: tuple[str, ...] = ("simulator", "hmm")
_DAYS_PER_WEEK = 7


def _population_env(
    parameters: DynamicsParameters, assumptions: ScenarioAssumptions, n_customers: int, weeks: int, seed: int
) -> CustomerPopulationVectorEnv:
    """The population env on ``parameters``, ``weeks`` long, without contact rules, reset with ``seed``."""
    if len(parameters.action_names) != len(ARMS):
        raise ValueError(f"parameters: received actions {parameters.action_names}, expected one per trial arm {ARMS}.")
    scenario = assumptions.replace(horizon=int(weeks), **{name: None for name in CONTACT_RULE_FIELDS})
    draws = ParameterDraws(draws=(parameters,), mean=parameters, assumptions=scenario)
    env = CustomerPopulationVectorEnv(num_envs=int(n_customers), params="mean", artifact=draws, scenario=scenario)
    env.reset(seed=seed)
    return env


def simulate_trial(
    parameters: DynamicsParameters, assumptions: ScenarioAssumptions, n_customers: int = 60_000, seed: int = 0, window_weeks: int = 2
) -> pd.DataFrame:
    """A randomized e-mail trial like Hillstrom's, played by the simulator.

    Customers are drawn from the population model and randomized with equal
    probability to no e-mail or one of the e-mail arms; the treated get their
    arm's e-mail at week 0 through the env's ``step``, nobody gets one later.
    ``visit`` and ``conversion`` are at least one visit or purchase within the
    window, ``spend`` the window's total.

    Parameters
    ----------
    parameters, assumptions
        The known dynamics and scenario (contact rules are ignored).
    n_customers, seed
        Customers in the trial; seed of the env (population, arms and outcomes).
    window_weeks
        Weeks over which the outcomes are recorded (Hillstrom: 2).

    Returns
    -------
    pandas.DataFrame
        The columns, codings and dtypes of
        :func:`~journeygym.datasets.hillstrom.load_hillstrom`: the twelve
        published columns, then ``segment_idx``, ``zip_idx``, ``channel_idx``
        and ``arm``.
    """
    env = _population_env(parameters, assumptions, n_customers, window_weeks, seed)
    customers = env.state.copy()
    arm = env.np_random.integers(len(ARMS), size=env.num_envs)
    visit, conversion, spend = np.zeros(env.num_envs, dtype=bool), np.zeros(env.num_envs, dtype=bool), np.zeros(env.num_envs)
    for week in range(window_weeks):
        _, _, _, _, info = env.step(arm if week == 0 else np.zeros_like(arm))
        visit |= info["visited"]
        conversion |= info["purchased"]
        spend += info["spend"]
    table = coded_table(customers.profile, customers.segment, customers.continuous, arm, visit, conversion, spend)
    return table


def true_two_week_uplift(
    parameters: DynamicsParameters, assumptions: ScenarioAssumptions, trial: pd.DataFrame, window_weeks: int = 2,
    outcome: Literal["conversion", "visit"] = "conversion",
) -> dict[str, float]:
    """Exact uplift of each arm's outcome rate over no e-mail, for the trial's own customers.

    For every customer of ``trial`` (from its covariate columns) and every
    arm, the probability of at least one event within the window is
    propagated exactly over the hidden state with the response model's tables
    (:func:`~journeygym.envs.response.compile_response`, as
    :mod:`journeygym.envs.expectations` does; that module gives expected
    counts, while a conversion needs the probability of at least one purchase,
    so the "no event yet" mass is carried).  An arm's uplift is the mean over
    all the trial's customers of that probability minus the one without
    e-mail: the average treatment effect the uplift model's ``uplift_draws_``
    estimate (averaged over the segments by their sizes).

    Parameters
    ----------
    parameters, assumptions
        The dynamics and scenario the trial was simulated with.
    trial, window_weeks
        A table like :func:`simulate_trial`'s, and its window.
    outcome
        ``"conversion"`` (a purchase) or ``"visit"``.

    Returns
    -------
    dict[str, float]
        Arm label (``"Mens E-Mail"``, ``"Womens E-Mail"``) to uplift.
    """
    if outcome not in ("conversion", "visit"):
        raise ValueError(f"outcome: received {outcome!r}, expected 'conversion' or 'visit'.")
    kind = "purchase" if outcome == "conversion" else "visit"
    response = compile_response(parameters, assumptions)
    recency, segment = (trial[column].to_numpy(dtype=np.int64) for column in ("recency", "segment_idx"))
    design = table_design(trial)
    static_logit = (
        (design - parameters.covariate_means) @ getattr(parameters, f"{kind}_covariate_effects")
        + getattr(parameters, f"{kind}_segment_offset")[segment]
        + getattr(parameters, f"{kind}_recency_offset")[recency - 1]
    )
    event_logit = getattr(response, f"{kind}_logit")
    belief = parameters.initial_state_by_recency[recency - 1]

    def probability(action: int) -> np.ndarray:
        silent, fatigue = belief, assumptions.initial_fatigue_level
        for week in range(window_weeks):
            delivered = action if week == 0 else 0
            moved = np.einsum("nk,nkj->nj", silent, response.transition[segment, delivered, fatigue])
            silent = moved * (1.0 - expit(event_logit[segment, delivered, fatigue] + static_logit[:, None]))
            fatigue = int(response.next_fatigue[delivered, fatigue])
        return 1.0 - silent.sum(axis=1)

    control = probability(0)
    return {ARMS[a]: float(np.mean(probability(a) - control)) for a in range(1, len(ARMS))}


@dataclass(frozen=True)
class _SimulatedLog:
    """A simulated log with the paths behind it: ``(N, W)`` hidden states and purchase probabilities."""

    log: pd.DataFrame
    states: np.ndarray
    purchase_prob: np.ndarray
    customers: PopulationState
    parameters: DynamicsParameters


def _simulate_log(
    parameters: DynamicsParameters, assumptions: ScenarioAssumptions, n_customers: int, weeks: int, seed: int, start: str, level: str
) -> _SimulatedLog:
    if level not in LEVELS:
        raise ValueError(f"level: received {level!r}, expected one of {LEVELS}.")
    if level == "hmm":
        zeros = {f"purchase_{name}": np.zeros_like(getattr(parameters, f"purchase_{name}"))
                 for name in ("covariate_effects", "segment_offset", "recency_offset")}
        parameters = parameters.replace(purchase_offset=0.0, **zeros)
    env = _population_env(parameters, assumptions, n_customers, weeks, seed)
    customers, quiet = env.state.copy(), np.zeros(env.num_envs, dtype=np.int64)
    states, purchase_prob = np.empty((env.num_envs, weeks), dtype=np.int8), np.empty((env.num_envs, weeks))
    rows: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for week in range(weeks):
        _, _, _, _, info = env.step(quiet)
        states[:, week], purchase_prob[:, week] = info["hidden_state"], info["purchase_prob"]
        buyers = np.flatnonzero(info["purchased"])
        rows.append((buyers, np.full(buyers.size, week), info["spend"][buyers]))
    buyer, week_of, amount = (np.concatenate(part) for part in zip(*rows, strict=True))
    order = np.lexsort((week_of, buyer))
    dates = pd.Timestamp(start).normalize() + pd.to_timedelta(week_of[order] * _DAYS_PER_WEEK, unit="D")
    log = pd.DataFrame({"customer_id": buyer[order] + 1, "date": dates, "amount": amount[order]})
    return _SimulatedLog(log, states, purchase_prob, customers, parameters)


def simulate_transaction_log(
    parameters: DynamicsParameters, assumptions: ScenarioAssumptions, n_customers: int = 20_000, weeks: int = 78,
    seed: int = 0, start: str = "1997-01-01", level: Level = "simulator",
) -> pd.DataFrame:
    """A transaction log of customers who get no e-mail for ``weeks`` weeks.

    Parameters
    ----------
    parameters, assumptions
        The known dynamics and scenario (contact rules are ignored).
    n_customers, weeks, seed
        Customers simulated (only those who buy appear in the log), weeks, seed of the env.
    start
        Date of the first day of week 0.
    level
        ``"simulator"`` or ``"hmm"``: whose purchase probabilities (module docstring).

    Returns
    -------
    pandas.DataFrame
        One row per purchase: ``customer_id`` (int64, 1..N), ``date``
        (datetime64, the first day of the purchase's week) and ``amount``
        (the spend, > 0), sorted by customer and date; the input of
        :func:`~journeygym.datasets.transactions.load_transactions`.
    """
    return _simulate_log(parameters, assumptions, n_customers, weeks, seed, start, level).log


def true_state_purchase_probabilities(
    parameters: DynamicsParameters, assumptions: ScenarioAssumptions, n_customers: int = 20_000, weeks: int = 78,
    seed: int = 0, start: str = "1997-01-01", level: Level = "simulator",
) -> pd.DataFrame:
    """The weekly purchase probability per hidden state that the purchase HMM should recover.

    A simulated customer in state ``z`` buys with ``sigmoid(logit pi_z +
    delta_0 + c)`` (module docstring), so at ``level="simulator"`` a state has
    no single purchase probability: ``c`` differs between customers.  The HMM
    fitted on the log sees the weeks from the week after each customer's first
    purchase on; if it knew the states, its estimate of state ``z``'s emission
    ``P(obs != 0 | z)`` (``PurchaseHMM.purchase_prob_``) would be the
    purchases over the weeks spent in ``z``, whose expectation given the
    simulated paths is ``observed``: the mean of the customers' purchase
    probability over the customer-weeks the HMM sees in state ``z``.
    ``population`` is the mean over all simulated customers (buyers or not) of
    their probability in ``z``; it differs where the log's buyers, or the
    customers who spend more weeks in ``z``, have another ``c`` than the
    average.  At ``level="hmm"`` both equal ``pi_z``.

    The log is simulated again with the arguments of
    :func:`simulate_transaction_log` (the same seed gives the same paths).

    Returns
    -------
    pandas.DataFrame
        One row per state in the parameters' order (``pi`` ascending), index
        ``state``; columns ``observed``, ``population``, ``share`` (the
        state's share of the customer-weeks the HMM sees) and ``purchases``
        (expected purchases in those weeks).
    """
    simulated = _simulate_log(parameters, assumptions, n_customers, weeks, seed, start, level)
    sequences = weekly_observations(load_transactions(simulated.log), start="after_first_purchase")
    first_week = (sequences.week0 - np.datetime64(pd.Timestamp(start).normalize(), "D")).astype(np.int64) // _DAYS_PER_WEEK
    rows = np.asarray(sequences.customer_ids, dtype=np.int64) - 1
    week = np.arange(weeks)
    seen = (week >= first_week[:, None]) & (week < (first_week + sequences.lengths)[:, None])
    states, probability = simulated.states[rows][seen], simulated.purchase_prob[rows][seen]
    weeks_in = np.bincount(states, minlength=parameters.n_states).astype(np.float64)
    purchases = np.bincount(states, weights=probability, minlength=parameters.n_states)
    customers = simulated.customers
    quiet = compile_response(simulated.parameters, assumptions).purchase_logit[customers.segment, 0, 0]
    population = expit(quiet + customers.purchase_covariate_logit[:, None]).mean(axis=0)
    return pd.DataFrame(
        {"observed": purchases / np.maximum(weeks_in, 1.0), "population": population,
         "share": weeks_in / weeks_in.sum(), "purchases": purchases},
        index=pd.Index(parameters.state_names, name="state"),
    )
