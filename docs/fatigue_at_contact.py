"""How tired are the customers each policy e-mails?

Trains and tunes the seed baselines exactly as ``journeygym evaluate --seed 0``
does (the runner's cells: the same logged campaign, the same validation
customers, the same derived seeds), runs each policy on 20,000 customers of
posterior draw 0 with a week observer, and prints the customers' fatigue stock at
the moment an e-mail reaches them (0 = rested, 1 = e-mailed the week before, 3.81 =
the stock of weekly e-mail).

Usage: python docs/fatigue_at_contact.py
"""

from __future__ import annotations

import tempfile

import numpy as np
from threadpoolctl import threadpool_limits

from journeygym.agents.registry import resolve
from journeygym.experiments import rollout
from journeygym.experiments.cells import evaluation_seed, fit_on_logged_data
from journeygym.experiments.config import load_config
from journeygym.experiments.runner import plan_cells

POLICIES = ("random", "always_mens", "biweekly_mens", "lookalike", "expected_ltv", "ltv_uplift")


def main() -> None:
    config = load_config(
        {
            "name": "fatigue-at-contact",
            "policies": list(POLICIES),
            "seeds": [0],
            "evaluation": {"customers": 20_000, "draws": {"at_most": 5}},
            "logged_data": {"customers": 5_000, "tune_customers": 5_000},
        }
    )
    print(f"{'policy':<14}{'return':>8}{'e-mails':>9}{'reached':>9}{'stock at e-mail':>17}{'share at F>=1':>15}"
          f"{'unsubscribed':>14}  operating point")
    with tempfile.TemporaryDirectory() as scratch, threadpool_limits(1):
        for spec in plan_cells(config, scratch):
            policy = resolve(spec.kind).create(**dict(spec.hyperparameters))
            tuned = fit_on_logged_data(policy, spec)
            fatigue_at_email: list[np.ndarray] = []
            run = rollout(
                policy,
                n_customers=spec.customers,
                seed=evaluation_seed(spec.seed, 0),
                params=0,
                artifact=spec.artifact,
                scenario=spec.assumptions,
                observer=lambda before, info: fatigue_at_email.append(
                    spec.assumptions.fatigue_stocks[before.fatigue[info["delivered"]]]
                ),
            )
            fatigue = np.concatenate(fatigue_at_email) if fatigue_at_email else np.zeros(0)
            point = {k: tuned[k] for k in ("threshold", "budget") if k in tuned}
            print(
                f"{spec.policy:<14}{run.returns.mean():8.2f}{run.contacts.mean():9.1f}{np.mean(run.contacts > 0):9.0%}"
                f"{fatigue.mean() if fatigue.size else float('nan'):17.2f}{np.mean(fatigue >= 1) if fatigue.size else 0:15.0%}"
                f"{run.unsubscribed.mean():14.0%}  {point or '-'}"
            )


if __name__ == "__main__":
    main()
