"""How tired are the customers each policy e-mails? (the README's explanation of the baselines' losses)

Trains the seed baselines as ``journeygym evaluate`` does (a logged campaign of
5,000 customers over posterior draws 0-4, seed 1000), sets them to the operating
points that ``journeygym evaluate --customers 20000 --draws 5 --seed 0`` tuned, runs
each policy on 20,000 customers of posterior draw 0 with a week observer, and
prints the customers' fatigue at the moment an e-mail reaches them.

Usage: python docs/fatigue_at_contact.py
"""

from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_limits

from journeygym.baselines.logged_data import simulate_logged_data
from journeygym.baselines.registry import make_policy
from journeygym.baselines.scoring import ScoringModels
from journeygym.envs.artifact import load_parameters
from journeygym.experiments.evaluation import rollout

#: Operating points tuned by ``journeygym evaluate --customers 20000 --draws 5 --seed 0``.
TUNED = {"lookalike": {"threshold": 0.0}, "expected_ltv": {"threshold": 0.1187}, "ltv_uplift": {"budget": 0.5}}


def main() -> None:
    draws = load_parameters(None)
    log = simulate_logged_data(5000, 1000, params=[0, 1, 2, 3, 4], artifact=draws)
    with threadpool_limits(1):
        models = ScoringModels(components=("response", "ltv", "t_learner"), random_state=0).fit(log)
    policies = {"random": make_policy("random", seed=0), "always_mens": make_policy("always_mens")}
    for name, point in TUNED.items():
        policies[name] = make_policy(name, models=models, assumptions=draws.assumptions, **point)

    print(f"{'policy':<14}{'return':>8}{'e-mails':>9}{'reached':>9}{'fatigue at e-mail':>19}{'share at f>=3':>15}{'unsubscribed':>14}")
    for name, policy in policies.items():
        fatigue_at_email: list[np.ndarray] = []
        run = rollout(
            policy,
            n_customers=20_000,
            seed=0,
            params=0,
            artifact=draws,
            observer=lambda before, info: fatigue_at_email.append(before.fatigue[info["delivered"]]),
        )
        fatigue = np.concatenate(fatigue_at_email)
        print(
            f"{name:<14}{run.returns.mean():8.2f}{run.contacts.mean():9.1f}{np.mean(run.contacts > 0):9.0%}"
            f"{fatigue.mean():19.2f}{np.mean(fatigue >= 3):15.0%}{run.unsubscribed.mean():14.0%}"
        )


if __name__ == "__main__":
    main()
