"""Which fatigue multiplier can match the frequency response?  One parameter against two, on the real model.

On the geometric stock ``F' = lambda F + d`` the multiplier
``m(F) = (1 + kappa F)^-p`` is fitted to the anchors (weekly e-mail to everyone
+30% annual revenue over never with the mens arm, every k weeks k^-0.41 of
it, both arms) in three ways: ``p = 1`` (the one-parameter ``1 / (1 + kappa F)``),
``p = 50`` (within 2% of the one-parameter ``exp(-kappa' F)`` with
``kappa' = 50 kappa`` over the stocks that matter), and ``kappa`` and ``p``
together (what the calibration does).  Prints each fit's curve and its loss, on
the shipped artifact's draws, at each memory ``lambda`` given.

Usage: python docs/fatigue_forms.py [--memory 0.8] [--draws 8] [--customers 300]
"""

from __future__ import annotations

import argparse

import numpy as np
from scipy.optimize import minimize, minimize_scalar

from journeygym.calibration.frequency import (
    CADENCES,
    WEEKLY_LIFT_ANCHOR,
    anchored_ratio,
    frequency_curve,
    reference_population,
)
from journeygym.envs.artifact import load_artifact


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memory", type=float, nargs="+", default=[0.8])
    parser.add_argument("--draws", type=int, default=8)
    parser.add_argument("--customers", type=int, default=300)
    args = parser.parse_args()
    artifact = load_artifact()
    picks = np.unique(np.linspace(0, len(artifact) - 1, args.draws).round().astype(int))
    chosen = [artifact.draws[i] for i in picks]
    arms = tuple(range(1, artifact.mean.n_actions))
    targets = np.array([anchored_ratio(k) for k in CADENCES[1:]])
    print(f"anchor: weekly {WEEKLY_LIFT_ANCHOR:+.0%} (mens), ratios {np.round(targets, 2).tolist()} at k = {list(CADENCES[1:])}")
    for memory in args.memory:
        base = artifact.assumptions.replace(fatigue_memory=memory)
        customers = [reference_population(p, base, args.customers, 0) for p in chosen]

        def curve(kappa: float, power: float) -> np.ndarray:
            scenario = base.replace(kappa=kappa, fatigue_power=power)
            return np.mean([frequency_curve(p, scenario, c, arms) for p, c in zip(chosen, customers)], axis=0)

        def loss_of(values: np.ndarray) -> float:
            return float(np.sum((values[:, 1:] / values[:, :1] - targets) ** 2) + (values[0, 0] - WEEKLY_LIFT_ANCHOR) ** 2)

        fits = {}
        for label, power in (("1 / (1 + kappa F)", 1.0), ("~exp(-kappa F)", 50.0)):
            # The loss has several local minima in kappa: scan a grid, then refine around the best point.
            grid = np.linspace(-6.0, 10.0, 33)
            losses = [loss_of(curve(np.exp(x), power)) for x in grid]
            best = int(np.argmin(losses))
            low, high = grid[max(best - 1, 0)], grid[min(best + 1, grid.size - 1)]
            found = minimize_scalar(lambda x: loss_of(curve(np.exp(x), power)), bounds=(low, high), method="bounded")
            fits[label] = (float(np.exp(found.x)), power)
        two = minimize(lambda x: loss_of(curve(*np.exp(x))), np.log([base.kappa, base.fatigue_power]), method="Nelder-Mead",
                       options={"xatol": 1e-3, "fatol": 1e-7, "maxiter": 120})
        fits["(1 + kappa F)^-p"] = tuple(float(v) for v in np.exp(two.x))
        print(f"\nlambda = {memory:g}")
        for label, (kappa, power) in fits.items():
            values = curve(kappa, power)
            ratios = values[:, 1:] / values[:, :1]
            print(f"  {label:<20} kappa {kappa:9.4g} p {power:6.3g}  loss {loss_of(values):.4f}  mens weekly {values[0, 0]:+.1%} "
                  f"ratios {np.round(ratios[0], 2).tolist()}  womens weekly {values[1, 0]:+.1%} ratios {np.round(ratios[1], 2).tolist()}")


if __name__ == "__main__":
    main()
