"""The offline benchmark of a cell: off-policy estimates of its policy on simulated logs, with the truth.

For each logging policy of the config's ``offline:`` section (``offline.behavior``
and ``offline.epsilon``, or each entry of ``offline.logging``; :func:`logging_policies`)
and each logging seed ``i``, a log of that behavior policy (uniform, or a policy
run epsilon-greedy) is simulated on its customers over the cell's training
draws with seed ``(seed, OFFLINE, i)`` (:mod:`journeygym.experiments.cell_spec`)
and cached on disk for the other cells (:mod:`journeygym.experiments.campaign_logs`).
Every logging policy's log ``i`` has the same seed, so logs of the same size
hold the same customers: the logging policies are compared on common customers.
An epsilon-greedy behavior's policy is trained as the runner trains the seed
baselines, on the uniform campaign log of the cell (seed ``(seed, LOGGED)``), a
log separate from the offline ones.  The cell's policy is then estimated from
each log by every estimator (:func:`journeygym.ope.evaluate.evaluate_policies`)
and rolled out in the simulator on the log's own customers for its true value
(:func:`journeygym.ope.truth.true_values_of_log`).  A policy that needs the
hidden state (the oracle) gets its true value only: it is the reference of the
regret.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from journeygym.baselines.base import Policy
from journeygym.experiments.campaign_logs import campaign_settings, fit_on_logged_data, read_cached_log
from journeygym.experiments.cell_spec import OFFLINE, CellSpec, derived_seed
from journeygym.records import config_hash

if TYPE_CHECKING:
    from journeygym.ope.episodes import LoggedEpisodes

__all__ = ["LoggingPolicy", "logging_label", "logging_policies", "offline_episodes", "offline_records"]


@dataclass(frozen=True)
class LoggingPolicy:
    """One logging policy of the offline benchmark.

    Attributes
    ----------
    behavior
        ``"uniform"``, or the name of the policy run epsilon-greedy.
    epsilon
        The exploration probability of an epsilon-greedy behavior (None for uniform).
    customers
        Customers of each of its logs.
    cache_epsilon
        The epsilon its cached logs are named by (the section's ``epsilon`` in the one-policy form, so the
        cache of a config written before ``offline.logging`` existed is found again).
    """

    behavior: str
    epsilon: float | None
    customers: int
    cache_epsilon: float | None = None

    @property
    def label(self) -> str:
        """E.g. ``"uniform, 20,000 customers"`` or ``"ltv_uplift epsilon-greedy (epsilon 0.05), 20,000 customers"``."""
        return logging_label(self.behavior, self.epsilon, self.customers)


def logging_label(behavior: str, epsilon: float | None, customers: int) -> str:
    """How a logging policy is named in the report (see :attr:`LoggingPolicy.label`)."""
    kind = behavior if epsilon is None else f"{behavior} epsilon-greedy (epsilon {float(epsilon):g})"
    return f"{kind}, {int(customers):,} customers"


def logging_policies(offline: Mapping[str, Any]) -> list[LoggingPolicy]:
    """The logging policies of an offline section: each entry of ``logging``, or ``behavior`` and ``epsilon``."""
    if offline.get("logging") is None:
        uniform = offline["behavior"] == "uniform"
        return [LoggingPolicy(offline["behavior"], None if uniform else float(offline["epsilon"]), int(offline["customers"]),
                              cache_epsilon=offline["epsilon"])]
    policies = []
    for entry in offline["logging"]:
        customers = int(entry.get("customers") or offline["customers"])
        if entry["kind"] == "uniform":
            policies.append(LoggingPolicy("uniform", None, customers))
        else:
            policies.append(LoggingPolicy(str(entry["policy"]), float(entry["epsilon"]), customers, float(entry["epsilon"])))
    return policies


def _behavior(spec: CellSpec, logging: LoggingPolicy, trained: dict[str, Any]) -> Any:
    """The behavior policy of ``logging``; a policy it follows is trained once per cell and kept in ``trained``."""
    from journeygym.agents.registry import resolve, training_mode
    from journeygym.baselines.agent_protocol import as_policy
    from journeygym.baselines.logged_data import EpsilonGreedyBehavior, RandomizedBehavior

    if logging.behavior == "uniform":
        from journeygym.envs.artifact import load_parameters

        n_actions = load_parameters(spec.artifact).mean.n_actions
        return RandomizedBehavior(email_probability=(n_actions - 1) / n_actions)
    if logging.behavior not in trained:
        policy = resolve(logging.behavior).create()
        policy.name = logging.behavior
        if training_mode(policy) == "logged_data":
            fit_on_logged_data(policy, spec)
        trained[logging.behavior] = as_policy(policy)
    return EpsilonGreedyBehavior(trained[logging.behavior], float(logging.epsilon))


def offline_episodes(
    spec: CellSpec, index: int, logging: LoggingPolicy | None = None, trained: dict[str, Any] | None = None
) -> LoggedEpisodes:
    """The ``index``-th offline log of a logging policy (default the section's first) of this (setting, seed), as episodes.

    Simulated once and cached on disk as Parquet for the other cells, which read the cache a column at a
    time (:func:`~journeygym.ope.parquet_log.episodes_from_parquet`): at a million customers the table is
    about 7 GiB and its episodes 2.7 GiB, so only the cell that simulates the log ever holds the table.
    ``trained`` keeps the policies the behaviors follow, trained once for all the logs a cell simulates.
    A cached file that does not read back is named in a :class:`ResultsWarning` and simulated again.
    """
    from journeygym.baselines.logged_data import simulate_logged_data, write_logged_data
    from journeygym.ope.episodes import episodes_from_frame
    from journeygym.ope.parquet_log import episodes_from_parquet

    logging = logging_policies(spec.offline)[0] if logging is None else logging
    identity = [
        spec.setting_index, spec.seed, index, logging.behavior, logging.cache_epsilon, logging.customers,
        [str(d) for d in spec.training_draws], spec.logged_customers, spec.email_probability,
    ]
    path = Path(spec.log_cache_dir) / f"offline-setting{spec.setting_index}-seed{spec.seed}-log{index}-{config_hash({'offline': identity})[:10]}.parquet"
    if path.is_file():
        cached = read_cached_log(path, episodes_from_parquet, kind="offline")
        if cached is not None:
            return cached
    settings = {**campaign_settings(spec), "behavior": _behavior(spec, logging, {} if trained is None else trained)}
    frame = simulate_logged_data(logging.customers, derived_seed(spec.seed, OFFLINE, index), **settings)
    write_logged_data(frame, path)
    return episodes_from_frame(frame)


def _ratio_options(offline: Mapping[str, Any]) -> dict[str, Any]:
    """The state-ratio learner and clip level of the section (the package's defaults where it leaves them out)."""
    return {key: offline[key] for key in ("ratio_learner", "ratio_clip") if offline.get(key) is not None}


def offline_records(policy: Policy, spec: CellSpec) -> list[dict[str, Any]]:
    """One record per (logging policy, logging seed, estimator) with the estimate and the true value on the log's customers.

    Each record names its logging policy (``behavior``, ``epsilon``, None for
    uniform, and ``log_customers``) and carries the policy's overlap
    diagnostics on the log (``diagnostics``).
    """
    from journeygym.ope.evaluate import evaluate_policies
    from journeygym.ope.truth import true_values_of_log

    offline = dict(spec.offline)
    records: list[dict[str, Any]] = []
    truths: dict[tuple[int, int], Any] = {}  # logs of the same seed and size hold the same customers
    trained: dict[str, Any] = {}
    for logging in logging_policies(offline):
        for index in range(int(offline["logging_seeds"])):
            episodes = offline_episodes(spec, index, logging, trained)
            key = (index, logging.customers)
            if key not in truths:
                truths[key] = true_values_of_log(
                    {policy.name: policy}, episodes, artifact=spec.artifact, scenario=spec.assumptions
                )[policy.name]
            truth = truths[key]
            base = {
                "logging_seed": index,
                "behavior": logging.behavior,
                "epsilon": logging.epsilon,
                "log_customers": logging.customers,
                "true_value": float(truth.mean),
                "true_standard_error": float(truth.standard_error),
            }
            if policy.uses_hidden_state:
                records.append({**base, "estimator": None})
                continue
            result = evaluate_policies(
                {policy.name: policy},
                episodes,
                estimators=offline.get("estimators"),
                fqe_model=offline.get("fqe_model"),
                fqe_features=offline.get("fqe_features", "observation"),
                artifact=spec.artifact,
                **_ratio_options(offline),
                n_bootstrap=int(offline["bootstrap"]),
                confidence=float(offline["confidence"]),
                seed=spec.seed,
            )
            evaluation = result.evaluations[0]
            diagnostics = evaluation.diagnostics.as_dict()
            for name, estimate in evaluation.estimates.items():
                records.append({**base, **estimate.as_dict(), "estimator": name, "diagnostics": diagnostics})
    return records
