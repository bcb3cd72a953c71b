"""A shadow price per e-mail for the learning agents: training under a contact budget.

A weekly send budget is a constraint on how many e-mails a policy asks for.
As in budget-constrained bidding (Wu et al. 2018), the learner meets it
through its Lagrangian: every e-mail it asks for costs the shadow price
``lambda`` (dollars per e-mail) in the training reward,

    r'_t = r_t - lambda * charged_t,

and ``lambda`` is tuned by dual ascent on the request rate,

    lambda <- max(0, lambda + step * (rate - target)),

after every PPO rollout (one season of the training customers) and after
every season of DQN steps.  ``rate`` is the policy's requested e-mails per
subscribed customer-week (per customer-week for a budget given per 1,000
customers), the unit of :attr:`ScenarioAssumptions.contact_budget
<journeygym.envs.parameters.ScenarioAssumptions>`; it is always the
policy's own requests (``info["requested"]``), never the deliveries, which a
budget in the training env caps whatever the policy does.

The budget in training
----------------------
With a target the agents train, by default, on the training env with its
weekly budget lifted (:func:`lift_budget`; a frequency cap stays): the price
stands in for the budget, as in the Lagrangian relaxation, and the budget
comes back for the calibration and for evaluation.  A budget enforced in
training drops excess requests at random, so while the policy over-asks a
request is delivered with a small probability and teaches little about whom
an e-mail helps.  In the quick budgets (500k PPO steps, 150k DQN steps,
budgets 5-40%) training with the budget lifted earned as much or more per
customer at every budget but PPO's at 5%, e.g. PPO at 20%: 7.7 against 4.7
(``training_budget="enforced"`` keeps the budget).

What is charged: requests the budget kept
-----------------------------------------
The price is charged on every request except those a training budget dropped
(``requested & ~thinned``): on the delivered e-mails, and on requests the
frequency cap refused.  A budget drops excess requests at random, so a
request is delivered with some probability p; its benefit is then p times
the e-mail's value and its charge p times the price, and the policy asks
exactly when the e-mail is worth more than the price, as without a budget.
Charging every request would compare p * value with the full price: while
the policy over-asks (p small) the price would count many times over and the
e-mail probability collapse for every customer (in the quick PPO budget at a
10% budget it then earned less than with no price at all).  A capped request
is refused for sure and the policy sees the cap in its observation, so it is
charged: asking what the cap refuses is discouraged rather than free.

Which rate drives the update
----------------------------
Evaluation runs the *greedy* policy (the most preferred action), while
training acts stochastically (PPO samples its actions, DQN explores
epsilon-greedily).  By default the update reads the greedy requests on the
states the training customers visited -- the rate the evaluated policy would
have there -- computed from the same network outputs as ``act``;
``rate_signal="sampled"`` uses the requests of the actions taken instead
(PPO's stochastic policy keeps a high sampled rate long after its greedy
policy stopped asking, so that price overshoots).  Both are logged
(``lagrangian/greedy_contact_rate``, ``lagrangian/sampled_contact_rate``).
The price does not settle exactly within the quick budgets (PPO updates it
about 19 times in 500k steps), and a greedy policy that asks for fewer
e-mails than the target leaves it at 0; the gap between the greedy rate and
the target is closed after training by :func:`calibrate_offset`, an offset
on the e-mail preference chosen on validation seasons of the training env
(its budget enforced, with the policy's priorities, as in evaluation).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from journeygym.baselines.budgeted_oracle import weekly_contact_share
from journeygym.envs.contact_rules import ContactRules
from journeygym.envs.parameters import ScenarioAssumptions

__all__ = [
    "CALIBRATIONS",
    "RATE_SIGNALS",
    "TRAINING_BUDGETS",
    "ContactTarget",
    "calibrate_offset",
    "check_calibration",
    "check_contact_target",
    "check_email_price",
    "email_preference",
    "greedy_actions",
    "lift_budget",
    "resolve_contact_target",
    "validation_request_rate",
]

#: How the greedy policy's request rate is brought to the target after training.
#: ``"match"``: up or down onto the target (the budget is spent, so comparisons are at equal volume);
#: ``"ceiling"``: only down (a budget the policy does not need is left unspent); None: not at all.
CALIBRATIONS: tuple[str | None, ...] = ("match", "ceiling", None)

#: What becomes of the training env's weekly budget under a contact target: lifted (the tuned price
#: stands in for it, the Lagrangian relaxation) or enforced as the scenario says (random thinning).
TRAINING_BUDGETS: tuple[str, ...] = ("lifted", "enforced")

#: Which request rate drives the update: the actions taken in training, or the greedy ones on those states.
RATE_SIGNALS: tuple[str, ...] = ("sampled", "greedy")

#: Preferences of the greedy policy for a batch of (feature-augmented) observations: ``(n, A)``.
Preferences = Callable[[np.ndarray], np.ndarray]


def check_email_price(value: Any, owner: str, name: str = "email_price") -> float:
    """Validate a price in dollars per e-mail (``email_price``, or the dual step ``price_step``): finite, >= 0."""
    try:
        price = float(value)
    except (TypeError, ValueError):
        price = math.nan
    if isinstance(value, bool) or not math.isfinite(price) or price < 0.0:
        raise ValueError(
            f"{owner}: {name} received {value!r}, expected a finite number >= 0 "
            "(dollars per requested e-mail; 0 for none)."
        )
    return price


def check_contact_target(value: Any, owner: str) -> float | str | None:
    """Validate ``contact_target``: None, ``"budget"`` or a share in (0, 1]."""
    if value is None or value == "budget":
        return value
    try:
        share = float(value)
    except (TypeError, ValueError):
        share = math.nan
    if isinstance(value, bool) or not 0.0 < share <= 1.0:
        raise ValueError(
            f"{owner}: contact_target received {value!r}, expected None (no tuning), 'budget' (the training "
            "scenario's contact budget) or a share in (0, 1] (requested e-mails per subscribed customer-week)."
        )
    return share


def check_choice(value: Any, choices: tuple[Any, ...], name: str, owner: str) -> Any:
    """Validate a setting that takes one of a few values."""
    if value not in choices:
        raise ValueError(f"{owner}: {name} received {value!r}, expected one of {choices}.")
    return value


def check_calibration(value: Any, owner: str) -> str | None:
    """Validate ``calibration``: one of :data:`CALIBRATIONS`."""
    return check_choice(value, CALIBRATIONS, "calibration", owner)


def lift_budget(population: Any) -> None:
    """Stop ``population`` (a ``CustomerPopulationVectorEnv``) from enforcing its weekly budget; a cap stays.

    Its scenario is unchanged: only the rules applied in its ``step`` drop the budget.
    """
    assumptions = population.assumptions.replace(contact_budget=None, contact_budget_per_1000=None)
    population.contact_rules = ContactRules(assumptions)


@dataclass(frozen=True)
class ContactTarget:
    """A request rate to meet: ``rate`` e-mails per subscribed customer-week, or per customer-week.

    Attributes
    ----------
    rate
        The target share.
    per_subscribed
        True: per subscribed customer-week (a ``contact_budget`` share); False: per
        customer-week (a ``contact_budget_per_1000`` count, divided by 1,000).
    """

    rate: float
    per_subscribed: bool = True

    def rate_of(self, requested: float, subscribed: float, customers: float) -> float:
        """The request rate of ``requested`` e-mails over the matching customer-weeks (0 when there are none)."""
        weeks = subscribed if self.per_subscribed else customers
        return float(requested) / float(weeks) if weeks > 0 else 0.0


def resolve_contact_target(
    target: float | str | None, assumptions: ScenarioAssumptions, owner: str
) -> ContactTarget | None:
    """The target rate of ``contact_target`` on the training scenario (``"budget"``: its weekly budget).

    Raises
    ------
    ValueError
        For ``"budget"`` on a scenario without a budget.
    """
    if target is None:
        return None
    if target != "budget":
        return ContactTarget(float(target), per_subscribed=True)
    share = weekly_contact_share(assumptions)
    if share is not None:
        return ContactTarget(share, per_subscribed=assumptions.contact_budget is not None)
    raise ValueError(
        f"{owner}: contact_target='budget' but the training scenario sets no contact budget; set "
        "contact_budget (or contact_budget_per_1000) in the scenario, or give contact_target as a share in (0, 1]."
    )


def email_preference(preferences: np.ndarray) -> np.ndarray:
    """``(n,)`` preference for e-mailing: the best e-mail arm's preference minus the no-action one's."""
    return preferences[:, 1:].max(axis=1) - preferences[:, 0]


def greedy_actions(preferences: np.ndarray, offset: float) -> np.ndarray:
    """The most preferred action per row after adding ``offset`` to every e-mail arm."""
    shifted = preferences.astype(np.float64, copy=True)
    shifted[:, 1:] += offset
    return np.argmax(shifted, axis=1).astype(np.int64)


@dataclass(frozen=True)
class Calibration:
    """The result of :func:`calibrate_offset`."""

    offset: float
    rate: float
    uncalibrated_rate: float
    evaluations: int


def calibrate_offset(
    request_rate: Callable[[float], tuple[float, np.ndarray]],
    target: float,
    mode: str,
    *,
    tolerance: float = 0.002,
    max_evaluations: int = 12,
) -> Calibration:
    """The offset on the e-mail preference that brings the greedy request rate to ``target``.

    Parameters
    ----------
    request_rate
        ``request_rate(offset)`` -> (rate, the e-mail preferences of the rows counted), from a
        validation rollout of the greedy policy with that offset (same seed every call).
    target
        The rate to meet.
    mode
        ``"match"`` (up or down) or ``"ceiling"`` (only down).
    tolerance
        Stop when the rate is within this of the target.
    max_evaluations
        Most rollouts; the offset whose rate came closest is returned.

    Notes
    -----
    The rate falls as the offset falls, so the offset is bracketed and narrowed.
    Each next guess is the offset that would give the target on the last rollout's
    states (a quantile of their preferences), kept inside the bracket, or the
    bracket's midpoint when that guess falls outside it; usually two or three
    rollouts suffice.
    """
    rate, preference = request_rate(0.0)
    uncalibrated = rate
    best = (abs(rate - target), 0.0, rate)
    evaluations = 1
    if abs(rate - target) <= tolerance or (mode == "ceiling" and rate <= target):
        return Calibration(0.0, rate, uncalibrated, evaluations)
    low, high = -math.inf, math.inf  # offsets known to give a rate below / above the target
    offset = 0.0
    while evaluations < max_evaluations:
        if rate > target:
            high = offset
        else:
            low = offset
        guess = _quantile_offset(preference, target)
        if not low < guess < high:
            if math.isinf(low) or math.isinf(high):
                spread = max(1.0, float(np.ptp(preference)) if preference.size else 1.0)
                guess = high - spread if math.isinf(low) else low + spread
            else:
                guess = 0.5 * (low + high)
        offset = guess
        rate, preference = request_rate(offset)
        evaluations += 1
        if abs(rate - target) < best[0]:
            best = (abs(rate - target), offset, rate)
        if abs(rate - target) <= tolerance:
            break
    return Calibration(best[1], best[2], uncalibrated, evaluations)


def _quantile_offset(preference: np.ndarray, target: float) -> float:
    """The offset at which a share ``target`` of these rows would request an e-mail."""
    if preference.size == 0:
        return 0.0
    return float(-np.quantile(preference, 1.0 - target))


def validation_request_rate(
    env: Any,
    preferences_of: Preferences,
    offset: float,
    target: ContactTarget,
    seed: int,
    episodes: int,
) -> tuple[float, np.ndarray]:
    """Request rate of the greedy policy with ``offset`` over ``episodes`` seasons of ``env``.

    Parameters
    ----------
    env
        A ``CustomerPopulationVectorEnv`` (the training env's); reset with ``seed + e`` for episode ``e``.
    preferences_of
        ``(n, D)`` raw observations -> ``(n, A)`` preferences, called once per week in order
        (it keeps the agent's per-customer features).
    offset, target
        The offset on the e-mail preference, and the target whose rate unit is used.
    seed, episodes
        Common random numbers: the same seeds for every offset.

    Returns
    -------
    rate, preferences
        The rate, and the e-mail preferences (without offset) of the customer-weeks it counts
        (for a per-customer target, unsubscribed rows at a very low preference).
    """
    requested = subscribed = customers = 0
    counted: list[np.ndarray] = []
    for episode in range(episodes):
        observations, _ = env.reset(seed=seed + episode)
        for _ in range(env.assumptions.horizon):
            reachable = env.state.subscribed.copy()
            preferences = preferences_of(observations)
            preference = email_preference(preferences)
            actions = greedy_actions(preferences, offset)
            if env.contact_rules.has_budget:
                env.prioritize(preference + offset)
            observations, _, _, _, info = env.step(actions)
            asked = info.get("requested")
            asked = env.actions.is_contact[actions] & reachable if asked is None else asked
            requested += int(np.count_nonzero(asked))
            subscribed += int(np.count_nonzero(reachable))
            customers += reachable.size
            counted.append(preference[reachable] if target.per_subscribed else np.where(reachable, preference, -1e9))
    return target.rate_of(requested, subscribed, customers), np.concatenate(counted)
