"""Contact rules: a weekly send budget and a per-customer frequency cap (docs/architecture.md, "Contact rules").

The one implementation of both rules.  The population env applies it to every
step (so evaluation, the logged-data simulator and training, which all step
that env, obey the same rules); the single-customer env applies the cap.

Each week, before the dynamics:

1. requests to unsubscribed customers are void (the kernel turns them into
   "no action");
2. the **frequency cap** (at most k e-mails in any w consecutive weeks) blocks
   every request to a customer who already had k e-mails in the last w - 1
   weeks, whatever the policy asks;
3. the **budget** keeps at most ``floor(share * subscribed)`` (or
   ``floor(count * N / 1000)``) of the remaining requests: the highest
   priorities when the policy gave them, a uniformly random subset otherwise.
   The selection is a partial sort (``numpy.argpartition``), linear in the
   number of requests; ties at the cut are broken at random.

E-mail history is kept in :attr:`~journeygym.envs.kernel.PopulationState.recent_emails`,
a bit mask whose bit j says an e-mail was delivered j + 1 weeks ago.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from journeygym.envs.actions import NO_ACTION, ActionTable
from journeygym.envs.parameters import ScenarioAssumptions

__all__ = [
    "ContactRules",
    "EnforcedActions",
    "PriorityError",
    "check_priorities",
]

#: Tolerance of ``floor(share * count)``: 0.29 * 100 is 28.999999999999996 in floating point.
_FLOOR_TOLERANCE = 1e-9


class PriorityError(ValueError):
    """A priority array is malformed; the message says what was received and what was expected."""


def check_priorities(priorities: Any, n_customers: int, source: str = "priorities") -> np.ndarray:
    """Validate per-customer priorities: ``(n_customers,)`` finite real numbers (larger = keep first).

    Raises
    ------
    PriorityError
        For a wrong shape, a non-numeric dtype or a NaN/infinite value, naming the first bad position.
    """
    array = np.asarray(priorities)
    if array.shape != (n_customers,):
        raise PriorityError(
            f"{source}: received shape {array.shape}, expected ({n_customers},), one priority per customer; "
            "return one number per row of the observations."
        )
    if array.dtype.kind not in "iuf":
        raise PriorityError(f"{source}: received dtype {array.dtype}, expected real numbers (larger = e-mailed first).")
    array = array.astype(np.float64, copy=False)
    finite = np.isfinite(array)
    if not finite.all():
        bad = int(np.flatnonzero(~finite)[0])
        raise PriorityError(
            f"{source}: received the non-finite value {float(array[bad])!r} for customer {bad}, expected finite numbers; "
            "replace NaN and infinities (e.g. with a very large or very small finite score)."
        )
    return array


@dataclass(frozen=True)
class EnforcedActions:
    """The actions that reach the kernel and what the rules did to the requests (arrays of length N)."""

    actions: np.ndarray
    #: An e-mail was requested for a subscribed customer.
    requested: np.ndarray
    #: The request was blocked by the frequency cap.
    capped: np.ndarray
    #: The request was dropped by the budget.
    thinned: np.ndarray
    #: The week's budget (e-mails), or -1 without a budget.
    budget: int


class ContactRules:
    """The contact rules of a scenario, compiled for fast weekly enforcement.

    Parameters
    ----------
    assumptions
        The scenario; its ``contact_budget``/``contact_budget_per_1000`` and
        ``cap_emails``/``cap_weeks`` are read.
    """

    def __init__(self, assumptions: ScenarioAssumptions, actions: ActionTable | None = None) -> None:
        # Which actions are e-mails (requests the rules act on); without a table, every action but 0.
        self.is_email = None if actions is None else actions.is_email
        self.budget_share = assumptions.contact_budget
        self.budget_per_1000 = assumptions.contact_budget_per_1000
        self.cap_emails = assumptions.cap_emails
        self.cap_weeks = assumptions.cap_weeks
        if self.cap_emails is not None:
            # The rule looks at the last w - 1 weeks (the current week makes w).
            window = self.cap_weeks - 1
            self.window_mask = (1 << window) - 1
            self.wait_table = weeks_until_allowed_table(self.cap_emails, self.cap_weeks)
            self.wait_scale = 1.0 / window if window > 0 else 0.0
        else:
            self.window_mask = 0
            self.wait_table = np.zeros(1, dtype=np.int64)
            self.wait_scale = 0.0
        self._wait_list: list[int] = self.wait_table.tolist()

    @property
    def has_budget(self) -> bool:
        """A weekly budget is set."""
        return self.budget_share is not None or self.budget_per_1000 is not None

    @property
    def has_cap(self) -> bool:
        """A frequency cap is set."""
        return self.cap_emails is not None

    @property
    def active(self) -> bool:
        """Any rule is set."""
        return self.has_budget or self.has_cap

    def budget_count(self, n_subscribed: int, n_customers: int) -> int:
        """The week's budget in e-mails (rounded down, so it is never exceeded)."""
        if self.budget_share is not None:
            return int(math.floor(self.budget_share * n_subscribed + _FLOOR_TOLERANCE))
        if self.budget_per_1000 is not None:
            return int(math.floor(self.budget_per_1000 * n_customers / 1000.0 + _FLOOR_TOLERANCE))
        return n_customers

    def weeks_until_allowed(self, recent_emails: np.ndarray) -> np.ndarray:
        """``(N,)`` weeks until an e-mail is allowed under the cap (0: allowed now)."""
        return self.wait_table[recent_emails & self.window_mask]

    def customer_wait(self, recent_emails: int) -> int:
        """:meth:`weeks_until_allowed` of one customer (Python scalars)."""
        return self._wait_list[recent_emails & self.window_mask]

    def customer_capped(self, action: int, subscribed: bool, recent_emails: int) -> bool:
        """The cap of :meth:`enforce` for one customer (Python scalars): an e-mail requested and refused."""
        return bool(action and subscribed and self.has_cap and self._wait_list[recent_emails & self.window_mask])

    def enforce(
        self,
        actions: np.ndarray,
        subscribed: np.ndarray,
        recent_emails: np.ndarray,
        priorities: np.ndarray | None,
        uniforms: np.ndarray | None,
    ) -> EnforcedActions:
        """Apply the cap, then the budget, to one week's requested actions.

        Parameters
        ----------
        actions
            ``(N,)`` validated requested actions.
        subscribed, recent_emails
            The customers' subscription and e-mail history.
        priorities
            ``(N,)`` validated priorities, or None (random thinning).
        uniforms
            ``(N,)`` uniforms for random thinning and ties; required with a budget.
        """
        requested = (actions != NO_ACTION if self.is_email is None else self.is_email[actions]) & subscribed
        capped = np.zeros_like(requested)
        thinned = np.zeros_like(requested)
        if self.has_cap:
            capped = requested & (self.weeks_until_allowed(recent_emails) > 0)
        budget = -1
        if self.has_budget:
            budget = self.budget_count(int(np.count_nonzero(subscribed)), actions.size)
            wanting = np.flatnonzero(requested & ~capped)
            if wanting.size > budget:
                kept = _top(wanting, priorities, uniforms, budget)
                thinned[wanting] = True
                thinned[kept] = False
        blocked = capped | thinned
        if blocked.any():
            actions = np.where(blocked, 0, actions)
        return EnforcedActions(actions=actions, requested=requested, capped=capped, thinned=thinned, budget=budget)


def _top(candidates: np.ndarray, priorities: np.ndarray | None, uniforms: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` candidates of highest priority (uniformly random ones without priorities; random among ties)."""
    if k <= 0:
        return candidates[:0]
    noise = uniforms[candidates]
    if priorities is None:
        return candidates[np.argpartition(noise, k - 1)[:k]]
    score = priorities[candidates]
    cut = np.partition(score, score.size - k)[score.size - k]  # the k-th largest priority
    above = candidates[score > cut]
    tied = candidates[score == cut]
    missing = k - above.size
    if missing < tied.size:
        tied = tied[np.argpartition(uniforms[tied], missing - 1)[:missing]]
    return np.concatenate([above, tied])


def weeks_until_allowed_table(cap_emails: int, cap_weeks: int) -> np.ndarray:
    """Weeks until an e-mail is allowed, for every history of the last ``cap_weeks - 1`` weeks.

    Entry ``m`` is for the bit mask ``m`` (bit j: an e-mail j + 1 weeks ago).  After d
    more weeks without e-mail, the window holds the bits below ``cap_weeks - 1 - d``;
    an e-mail is allowed once fewer than ``cap_emails`` of them are set.
    """
    window = cap_weeks - 1
    masks = np.arange(1 << window, dtype=np.int64)
    wait = np.full(masks.size, window, dtype=np.int64)
    for d in range(window, -1, -1):
        kept = masks & ((1 << (window - d)) - 1)
        allowed = np.bitwise_count(kept) < cap_emails
        wait[allowed] = d
    return wait
