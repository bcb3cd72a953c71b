"""Operating points of the score policies, tuned on validation rollouts (common random numbers)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from journeygym.baselines.rollout import rollout
from journeygym.baselines.targeting import ScorePolicy, operating_point_grid
from journeygym.envs.parameters import ScenarioAssumptions
from journeygym.envs.simulation import ArtifactSource

__all__ = ["customers_per_part", "tune_operating_point"]


def customers_per_part(total: int, parts: int) -> int:
    """``total`` customers split over ``parts`` (draws), rounded up, at least one each."""
    return max(1, -(-total // parts))


def _evaluate_candidates(
    policy: ScorePolicy,
    grid: Sequence[Mapping[str, Any]],
    rollout_settings: Mapping[str, Any],
) -> list[dict[str, Any]]:
    candidates = []
    for point in grid:
        policy.set_operating_point(point["threshold"], point["budget"])
        runs = [
            rollout(
                policy,
                n_customers=rollout_settings["n_customers"],
                seed=s,
                params=d,
                artifact=rollout_settings["artifact"],
                scenario=rollout_settings["scenario"],
            )
            for s, d in zip(rollout_settings["seeds"], rollout_settings["draws"])
        ]
        candidates.append(
            {
                **point,
                "mean_return": float(np.mean([r.returns.mean() for r in runs])),
                "contacts_per_customer_week": float(np.mean([r.contacts.mean() / r.horizon for r in runs])),
            }
        )
    return candidates


def tune_operating_point(
    policy: ScorePolicy,
    logged_data: pd.DataFrame,
    *,
    n_customers: int,
    seeds: Sequence[int],
    draws: Sequence[int | str],
    artifact: ArtifactSource = None,
    scenario: ScenarioAssumptions | Mapping[str, Any] | None = None,
    grid: Sequence[Mapping[str, Any]] | None = None,
    refine: bool = True,
) -> dict[str, Any]:
    """Set ``policy`` to the operating point with the best mean return on validation rollouts.

    Every candidate is rolled out on the same customers (draw ``draws[i]``,
    seed ``seeds[i]``, ``n_customers`` each), so candidates are compared on
    common random numbers.  The default grid is
    :func:`~journeygym.baselines.targeting.operating_point_grid` (default rule,
    thresholds at logged contact shares 9/10, 1/2, 1/4, 1/16, the same contact
    budgets); with ``refine``, the best point's neighbours at twice and half its
    share (same kind) are tried too.  The policy keeps the winner; all
    candidates are stored in ``policy.tuning_`` (and so in ``get_params()``).

    Returns
    -------
    dict
        ``threshold``, ``budget``, ``mean_return`` of the winner and ``candidates``.
    """
    if len(seeds) != len(draws) or not seeds:
        raise ValueError(
            f"tune_operating_point: received {len(seeds)} seeds and {len(draws)} draws, expected equal, >= 1."
        )
    grid = list(grid) if grid is not None else operating_point_grid(policy, logged_data)
    if not grid:
        raise ValueError("tune_operating_point: received an empty grid; expected at least one operating point.")
    settings = {
        "n_customers": n_customers,
        "seeds": list(seeds),
        "draws": list(draws),
        "artifact": artifact,
        "scenario": scenario,
    }
    candidates = _evaluate_candidates(policy, grid, settings)
    if refine:
        best = max(candidates, key=lambda c: c["mean_return"])
        share, budget = best.get("contact_share"), best.get("budget")
        neighbours: list[dict[str, Any]] = []
        if share is not None:
            shares = [s for s in (2 * share, share / 2) if 0.0 < s < 1.0]
            neighbours = operating_point_grid(policy, logged_data, shares, (), include_default=False)
        elif budget is not None:
            neighbours = operating_point_grid(
                policy, logged_data, (), [b for b in (2 * budget, budget / 2) if 0.0 < b <= 1.0], include_default=False
            )
        tried = {(c["threshold"], c["budget"]) for c in candidates}
        candidates += _evaluate_candidates(
            policy, [p for p in neighbours if (p["threshold"], p["budget"]) not in tried], settings
        )
    best = max(candidates, key=lambda c: c["mean_return"])
    policy.set_operating_point(best["threshold"], best["budget"])
    policy.tuning_ = candidates
    return {**{k: best[k] for k in ("threshold", "budget", "mean_return")}, "candidates": candidates}
