"""E-mail fatigue: a stock of recent e-mails that decays slowly, on an exact grid.

The stock follows ``F' = lambda F + d`` (``d = 1`` when an e-mail is delivered).
An e-mail's effect is multiplied by

    m(F) = ((1 + kappa F) / (1 + kappa F0)) ** -p,

where ``F0`` is the stock of the trial's customers when the trial measured the
effect (an assumption; 0 = rested), so ``m(F0) = 1`` and the calibrated effects
are the trial's.  A two-parameter multiplier is needed: the evidence asks a
rested customer to answer about four times as strongly as one e-mailed every
eight weeks, and a weekly one only about three times less again, which neither
``exp(-kappa F)`` nor ``1 / (1 + kappa F)`` can give on a geometric stock
(docs/fatigue.md).

The stock lives on a grid that the decay maps onto itself: level 0 is a rested
customer, and levels 1..L hold ``lambda^J, ..., lambda, 1, 1/lambda, ...,
lambda^-M`` (with ``r`` levels per factor ``lambda`` at resolution ``r``).  A
quiet week moves one factor ``lambda`` down, exactly (a single e-mail ``J``
weeks old is forgotten: level 0), and an e-mail moves to the level nearest
``lambda F + 1`` in log scale.  So a quiet stretch is exact and an e-mail's
stock is off by at most a factor of ``lambda^(1/2r)``; near the weekly fixed
point ``1 / (1 - lambda)`` the step ``1 - (1 - lambda) F`` falls below half a
grid step, so weekly e-mail settles a little lower (3.8 instead of 5 at
``lambda = 0.8``, ``r = 1``), and that level is the grid's top.  The calibration fits the multiplier on this grid,
so the model is the gridded stock.  The grid keeps the fatigue a small integer
level, which the kernel, the oracle and every table index directly.

Everything here is a pure function of the scenario's numbers; the response
model (:mod:`journeygym.envs.response`) is the only consumer that turns them
into dynamics.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "FORGOTTEN_SHARE",
    "fatigue_levels",
    "fatigue_multiplier",
    "nearest_level",
    "next_fatigue_level",
    "reachable_levels",
    "tail_weeks",
    "weekly_stock",
]

#: A single e-mail's stock is forgotten once it leaves at least this share of a rested customer's response
#: (a customer last e-mailed just before then answers within 5% of a rested one).
FORGOTTEN_SHARE = 0.95
#: Longest tail of the grid, in weeks (a bound on the table sizes).
MAX_TAIL_WEEKS = 60


def weekly_stock(memory: float) -> float:
    """``1 / (1 - lambda)``: the stock of a customer e-mailed every week, in the long run."""
    return 1.0 / (1.0 - memory)


def tail_weeks(memory: float, kappa: float, power: float) -> int:
    """``J``: the fewest quiet weeks after which a single e-mail's stock ``lambda^J`` leaves :data:`FORGOTTEN_SHARE`.

    The share is ``m(lambda^J) / m(0) = (1 + kappa lambda^J)^-p``; at most :data:`MAX_TAIL_WEEKS`.
    """
    if kappa == 0.0 or power == 0.0 or -math.log(FORGOTTEN_SHARE) / power > 700.0:
        return 0  # no fatigue, or so little that even a full stock leaves 95% of the response
    largest_stock = (FORGOTTEN_SHARE ** (-1.0 / power) - 1.0) / kappa
    if largest_stock >= 1.0:
        return 0
    return min(int(math.ceil(math.log(largest_stock) / math.log(memory) - 1e-9)), MAX_TAIL_WEEKS)


def _steps_above_one(memory: float, resolution: int) -> int:
    # The smallest M with lambda^(-M / r) >= 1 / (1 - lambda).
    return max(int(math.ceil(resolution * math.log(weekly_stock(memory)) / -math.log(memory) - 1e-9)), 0)


def _after_email(stocks: np.ndarray, level: np.ndarray, memory: float, tail_weeks: int, resolution: int) -> np.ndarray:
    # The level nearest lambda F + 1 in log scale (>= 1, so on the geometric part of the grid), capped at the top.
    after = memory * stocks[level] + 1.0
    exponent = np.floor(resolution * np.log(after) / -math.log(memory) + 0.5).astype(np.int64)  # ~ lambda^(-e/r)
    return np.minimum(tail_weeks * resolution + 1 + exponent, stocks.size - 1)


def fatigue_levels(memory: float, tail_weeks: int, resolution: int = 1) -> np.ndarray:
    """The stock at each fatigue level: ``0``, then ``lambda^(e / r)`` for ``e = J r, ..., 1, 0, -1, ...``.

    The grid ends at the level where weekly e-mail from rest settles (the rounding holds it at or
    below ``1 / (1 - lambda)``): no action history reaches a level above it.

    Parameters
    ----------
    memory
        ``lambda`` in (0, 1): the share of the stock left after a quiet week.
    tail_weeks
        ``J >= 0``: after ``J + 1`` quiet weeks a single e-mail is forgotten.
    resolution
        ``r >= 1`` levels per factor ``lambda`` (a quiet week moves ``r`` levels down); a finer grid
        shrinks the rounding of an e-mail's stock to a factor ``lambda^(1 / 2r)``.
    """
    exponents = np.arange(tail_weeks * resolution, -_steps_above_one(memory, resolution) - 1, -1, dtype=np.float64)
    stocks = np.concatenate(([0.0], memory ** (exponents / resolution)))
    level = 0
    while True:  # weekly e-mail climbs until it holds (at the latest at the cap)
        after = int(_after_email(stocks, np.array(level), memory, tail_weeks, resolution))
        if after == level:
            return stocks[: level + 1]
        level = after


def next_fatigue_level(
    emailed: np.ndarray, level: np.ndarray, memory: float, tail_weeks: int, resolution: int = 1
) -> np.ndarray:
    """The level after the week: ``r`` down without an e-mail (0 below the grid); with one, the level nearest ``lambda F + 1``.

    Nearest is measured in log scale (the grid is geometric) and capped at the top level.
    """
    stocks = fatigue_levels(memory, tail_weeks, resolution)
    level = np.asarray(level, dtype=np.int64)
    quiet_level = np.where(level - resolution >= 1, level - resolution, 0)
    return np.where(emailed, _after_email(stocks, level, memory, tail_weeks, resolution), quiet_level)


def nearest_level(stocks: np.ndarray, stock: float) -> int:
    """The level whose stock is nearest ``stock`` (where customers start: the trial's fatigue ``F0``)."""
    return int(np.argmin(np.abs(np.asarray(stocks) - stock)))


def reachable_levels(next_level: np.ndarray, start: int, weeks: int) -> list[np.ndarray]:
    """The levels some action history reaches at each week ``0..weeks-1`` from ``start``, sorted.

    ``next_level`` is the ``(A, L+1)`` table of the level after each action.  A
    customer's fatigue at week t is always in the week's set, so a solver that
    starts every customer at ``start`` needs values there only.
    """
    reached = np.array([start], dtype=np.int64)
    by_week = []
    for _ in range(weeks):
        by_week.append(reached)
        reached = np.unique(np.asarray(next_level)[:, reached])
    return by_week


def fatigue_multiplier(stock: np.ndarray, kappa: float, power: float, trial_stock: float) -> np.ndarray:
    """``m(F) = ((1 + kappa F) / (1 + kappa F0)) ** -p``: an e-mail's effect at stock F relative to the trial's."""
    stock = np.asarray(stock, dtype=np.float64)
    return ((1.0 + kappa * stock) / (1.0 + kappa * trial_stock)) ** -power
