"""Ground truth for a simulated log: what each policy really earns on the log's own customers.

A log simulated by :func:`~journeygym.baselines.logged_data.simulate_logged_data`
is a set of episodes (:func:`~journeygym.baselines.logged_data.episode_plan`:
one per parameter draw, each with its own seed).  :func:`true_values` rolls
each policy out on the same plan, so it meets the same customers with the same
weekly noise (the simulator draws a fixed block of random numbers per week
whatever the actions), and averages the undiscounted returns.  That is the
value every off-policy estimate from the log is scored against
(:mod:`journeygym.ope.assessment`); the oracle, which acts on the hidden state
and cannot be evaluated from a log, gets a true value too, the reference for
regret.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from journeygym.baselines.logged_data import episode_plan
from journeygym.baselines.rollout import rollout
from journeygym.envs.parameters import ScenarioAssumptions
from journeygym.envs.simulation import ArtifactSource
from journeygym.ope.episodes import LoggedEpisodes, OPEInputError
from journeygym.ope.target import named_policies

__all__ = ["TrueValue", "true_values", "true_values_of_log"]

#: What a log's metadata must record for its ground truth to be recomputed.
_RECORDED = ("seed", "params", "n_customers", "horizon")


@dataclass(frozen=True, eq=False)
class TrueValue:
    """A policy's true value on a log's customers.

    Attributes
    ----------
    policy
        The policy's name.
    mean
        Mean undiscounted return per customer over the horizon.
    standard_error
        Standard error of :attr:`mean` over customers (sample standard deviation / sqrt(N)).
    returns
        ``(N,)`` each customer's return, in the log's customer order.
    """

    policy: str
    mean: float
    standard_error: float
    returns: np.ndarray

    def as_dict(self) -> dict[str, Any]:
        """Name, mean, standard error and number of customers (without the returns)."""
        return {
            "policy": self.policy,
            "mean": self.mean,
            "standard_error": self.standard_error,
            "n_customers": int(self.returns.size),
        }


def true_values(
    policies: Mapping[str, Any] | Sequence[Any],
    *,
    n_customers: int,
    seed: int,
    params: str | int | Sequence[int],
    artifact: ArtifactSource = None,
    scenario: ScenarioAssumptions | Mapping[str, Any] | None = None,
    horizon: int | None = None,
) -> dict[str, TrueValue]:
    """Each policy's true value on the customers of the log simulated with these arguments.

    Parameters
    ----------
    policies
        Policies or agents (a sequence, named by their ``name``; or a mapping
        name -> policy).  The oracle (``uses_hidden_state``) acts on the
        simulator state.  A policy keeps its own state between calls (a
        :class:`~journeygym.baselines.simple.RandomPolicy`'s generator): build
        a fresh one for numbers that repeat bit for bit.
    n_customers, seed, params, artifact, scenario, horizon
        Those of :func:`~journeygym.baselines.logged_data.simulate_logged_data`.

    Returns
    -------
    dict
        Policy name -> :class:`TrueValue`, customers in the log's order.
    """
    named = named_policies(policies, "true_values")
    plan = episode_plan(n_customers, seed, params)
    values = {}
    for name, policy in named.items():
        returns = np.concatenate(
            [
                rollout(
                    policy, n_customers=size, seed=ep_seed, params=draw, artifact=artifact, scenario=scenario,
                    horizon=horizon,
                ).returns
                for draw, size, ep_seed in plan
            ]
        )
        error = float(returns.std(ddof=1) / np.sqrt(returns.size)) if returns.size > 1 else float("nan")
        values[name] = TrueValue(policy=name, mean=float(returns.mean()), standard_error=error, returns=returns)
    return values


def _log_metadata(log: pd.DataFrame | LoggedEpisodes | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(log, pd.DataFrame):
        metadata = dict(log.attrs.get("journeygym", {}))
        n_in_log = int(log["customer_id"].nunique()) if "customer_id" in log.columns else None
    elif isinstance(log, LoggedEpisodes):
        metadata, n_in_log = dict(log.metadata), log.n_customers
    elif isinstance(log, Mapping):
        metadata, n_in_log = dict(log), None
    else:
        raise OPEInputError(
            f"true_values_of_log: received {type(log).__name__}, expected a simulated log (DataFrame), its "
            "LoggedEpisodes, or its metadata dict (frame.attrs['journeygym'])."
        )
    missing = [key for key in _RECORDED if key not in metadata]
    if missing:
        raise OPEInputError(
            f"true_values_of_log: the log's metadata lacks {missing} (it has {sorted(metadata)}); only a log made by "
            "journeygym.baselines.logged_data.simulate_logged_data records how to replay its customers. For another "
            "log, call true_values with its n_customers, seed and params."
        )
    if n_in_log is not None and n_in_log != int(metadata["n_customers"]):
        raise OPEInputError(
            f"true_values_of_log: the log holds {n_in_log} customers but was simulated with "
            f"{metadata['n_customers']}; a subset of a log has no ground truth of its own. Compute the truth of the "
            "whole log and select the same customers from TrueValue.returns."
        )
    return metadata


def _scenario(recorded: Mapping[str, Any] | None, given: ScenarioAssumptions | Mapping[str, Any] | None) -> Any:
    """The log's scenario; the caller's must agree with it when both exist."""
    if recorded is None:
        if given is None:
            raise OPEInputError(
                "true_values_of_log: the log does not record its scenario; pass the one it was simulated with "
                "(scenario=ScenarioAssumptions(...) or a mapping of overrides; {} for the artifact's default)."
            )
        return given
    logged = ScenarioAssumptions(**recorded)
    if given is not None:
        wanted = given if isinstance(given, ScenarioAssumptions) else logged.replace(**dict(given))
        if wanted != logged:
            differ = {k: (v, logged.to_dict()[k]) for k, v in wanted.to_dict().items() if v != logged.to_dict()[k]}
            raise OPEInputError(
                f"true_values_of_log: scenario differs from the one the log records in {differ} (given, logged); "
                "the truth must be computed in the log's scenario. Drop the scenario argument."
            )
    return logged


def true_values_of_log(
    policies: Mapping[str, Any] | Sequence[Any],
    log: pd.DataFrame | LoggedEpisodes | Mapping[str, Any],
    *,
    artifact: ArtifactSource = None,
    scenario: ScenarioAssumptions | Mapping[str, Any] | None = None,
) -> dict[str, TrueValue]:
    """:func:`true_values` with the seed, draws, size, horizon and scenario the log records.

    Parameters
    ----------
    policies
        As for :func:`true_values`.
    log
        A log from :func:`~journeygym.baselines.logged_data.simulate_logged_data`
        (or read back by ``read_logged_data``), its episodes, or its metadata.
    artifact
        The artifact the log was simulated with (a log does not record it;
        default the shipped one, as for the simulator).
    scenario
        Needed only when the log does not record its scenario; otherwise it
        must agree with the recorded one.

    Raises
    ------
    OPEInputError
        If the metadata lacks what the replay needs, the log is a subset of
        the simulated customers, or ``scenario`` contradicts the log's.
    """
    metadata = _log_metadata(log)
    chosen = _scenario(metadata.get("scenario"), scenario)
    return true_values(
        policies,
        n_customers=int(metadata["n_customers"]),
        seed=int(metadata["seed"]),
        params=metadata["params"],
        artifact=artifact,
        scenario=chosen,
        horizon=int(metadata["horizon"]),
    )
