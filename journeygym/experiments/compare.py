"""Compare policies on the simulator: paired, with intervals over customers and draws."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from journeygym.baselines.base import Policy
from journeygym.calibration.artifact import load_parameters
from journeygym.envs.parameters import ScenarioAssumptions
from journeygym.envs.simulation import ArtifactSource
from journeygym.experiments.evaluation import Rollout, rollout
from journeygym.records import provenance
from journeygym.experiments.statistics import Estimate, mean_interval, share_of_draws_better


@dataclass(frozen=True)
class PolicySummary:
    """One row of a comparison table."""

    policy: str
    mean_return: Estimate
    difference_vs_reference: Estimate
    share_of_draws_better: float
    contacts_per_customer_week: float
    unsubscribe_rate: float
    purchases_per_customer: float


def compare_policies(
    policies: Sequence[Policy],
    *,
    n_customers: int,
    draws: Sequence[int | str],
    seed: int,
    artifact: ArtifactSource = None,
    scenario: ScenarioAssumptions | Mapping[str, Any] | None = None,
    reference: str = "never",
) -> tuple[list[PolicySummary], dict[str, Any]]:
    """Evaluate every policy on the same draws and customers; summarize against ``reference``.

    Returns the rows and a record (provenance, settings) to print or store with them.
    """
    names = [p.name for p in policies]
    if reference not in names:
        raise ValueError(f"compare_policies: reference {reference!r} is not among the policies {names}.")
    parameter_draws = load_parameters(artifact)
    rollouts: dict[str, list[Rollout]] = {name: [] for name in names}
    for index, draw in enumerate(draws):
        for policy in policies:
            rollouts[policy.name].append(
                rollout(policy, n_customers=n_customers, seed=seed + index, params=draw, artifact=parameter_draws, scenario=scenario)
            )
    base = rollouts[reference]
    rows = []
    for name in names:
        runs = rollouts[name]
        differences = [run.returns - ref.returns for run, ref in zip(runs, base)]
        rows.append(
            PolicySummary(
                policy=name,
                mean_return=mean_interval([run.returns for run in runs]),
                difference_vs_reference=mean_interval(differences),
                share_of_draws_better=share_of_draws_better(differences),
                contacts_per_customer_week=float(np.mean([run.contacts.mean() / run.horizon for run in runs])),
                unsubscribe_rate=float(np.mean([run.unsubscribed.mean() for run in runs])),
                purchases_per_customer=float(np.mean([run.purchases.mean() for run in runs])),
            )
        )
    settings = {
        "policies": {p.name: p.get_params() for p in policies},
        "customers": n_customers,
        "draws": [str(d) for d in draws],
        "artifact": parameter_draws.metadata.get("path"),
        "scenario": dict(scenario) if isinstance(scenario, Mapping) else (scenario.to_dict() if scenario else None),
        "reference": reference,
        "horizon": base[0].horizon,
    }
    record = {
        **provenance(settings, seed),
        "settings": settings,
        "parameters_label": parameter_draws.metadata.get("label", ""),
    }
    return rows, record


def format_table(rows: Sequence[PolicySummary], reference: str) -> str:
    """A plain-text table of comparison rows."""
    header = (
        f"{'policy':<16}{'return per customer [95% CI]':>32}{f'vs {reference} [95% CI]':>32}"
        f"{'draws better':>14}{'contacts/wk':>13}{'unsub':>8}{'purchases':>11}"
    )
    lines = [header, "-" * len(header)]
    for row in rows:
        lines.append(
            f"{row.policy:<16}{str(row.mean_return):>32}{str(row.difference_vs_reference):>32}"
            f"{row.share_of_draws_better:>14.0%}{row.contacts_per_customer_week:>13.3f}"
            f"{row.unsubscribe_rate:>8.2%}{row.purchases_per_customer:>11.3f}"
        )
    return "\n".join(lines)
