"""``journeygym evaluate``: train the seed baselines on logged data, tune them, compare every policy.

The pipeline a practitioner would follow, on the simulator:

1. **Log** -- run the behavior policy (Hillstrom-like randomization) on
   ``--train-customers`` customers, split over the evaluated posterior draws.
2. **Fit** -- the scoring models (:class:`~journeygym.baselines.scoring.ScoringModels`).
3. **Tune** -- each score policy's operating point (threshold or contact
   budget) on validation rollouts: every candidate of
   :func:`~journeygym.baselines.targeting.operating_point_grid` is rolled out on
   the same validation customers (common random numbers) and the best mean
   return wins.
4. **Evaluate** -- every policy on ``--customers`` customers for each of the
   draws 0 .. D-1, on common random numbers, paired against ``never``.

Seeds never overlap: with ``--seed S``, draw ``i`` is evaluated with seed
``S + i`` (as :func:`~journeygym.experiments.compare.compare_policies` does),
logged with ``S + 1,000,000 + i``, validated with ``S + 2,000,000 + i``, and the
metrics' held-out log uses ``S + 3,000,000 + i``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from journeygym.arguments import positive_int
from journeygym.baselines.base import Policy
from journeygym.baselines.logged_data import simulate_logged_data
from journeygym.baselines.metrics import (
    auuc,
    classification_metrics,
    cross_validated_roc_auc,
    effect_errors,
    permutation_importances,
    qini_coefficient,
    regression_metrics,
    uplift_at_k,
)
from journeygym.baselines.registry import POLICY_NAMES, UnknownPolicyError, make_policy
from journeygym.baselines.scoring import CHURN_WINDOW, ScoringModels, churn_labels, ltv_labels, response_labels
from journeygym.baselines.targeting import ScorePolicy, operating_point_grid
from journeygym.calibration.artifact import load_parameters
from journeygym.envs.observation import observation_columns
from journeygym.envs.parameters import ParameterDraws, ScenarioAssumptions, assumptions_with_overrides
from journeygym.envs.simulation import ArtifactSource
from journeygym.experiments.compare import PolicySummary, compare_policies, format_table
from journeygym.experiments.evaluation import rollout
from journeygym.records import to_jsonable

__all__ = [
    "EvaluateError",
    "EvaluationResult",
    "EvaluationSettings",
    "add_arguments",
    "evaluate_command",
    "run_evaluation",
    "run_from_args",
    "scoring_metrics",
    "tune_operating_point",
]

TRAIN_SEED_OFFSET = 1_000_000
VALIDATION_SEED_OFFSET = 2_000_000
HOLDOUT_SEED_OFFSET = 3_000_000
_UPLIFT_K = (0.1, 0.3)


class EvaluateError(ValueError):
    """An input of ``journeygym evaluate`` is invalid; the message says how to fix it."""


@dataclass(frozen=True)
class EvaluationSettings:
    """Everything that determines an evaluation (recorded, hashed, reproducible).

    Attributes
    ----------
    policies
        Policy names (see :data:`~journeygym.baselines.registry.POLICY_NAMES`).
    customers
        Customers per posterior draw in the evaluation.
    draws
        Number of posterior draws D (draws 0 .. D-1 of the artifact).
    seed
        Base seed S.
    train_customers
        Customers in the training log (split over the draws).
    tune_customers
        Validation customers per operating-point candidate (split over the draws).
    artifact
        Artifact path (None = the shipped default).
    scenario
        Overrides of the scenario assumptions.
    metrics
        Also compute the scoring models' metrics on a held-out log.
    holdout_customers
        Customers in that held-out log.
    reference
        The policy every other is paired against (added when not listed).
    """

    policies: tuple[str, ...] = POLICY_NAMES
    customers: int = 20_000
    draws: int = 5
    seed: int = 0
    train_customers: int = 5_000
    tune_customers: int = 5_000
    artifact: str | None = None
    scenario: Mapping[str, Any] | None = None
    metrics: bool = False
    holdout_customers: int = 5_000
    reference: str = "never"


@dataclass
class EvaluationResult:
    """Rows of the comparison plus what was tuned and measured."""

    rows: list[PolicySummary]
    record: dict[str, Any]
    tuning: dict[str, dict[str, Any]] = field(default_factory=dict)
    metrics: dict[str, Any] | None = None
    timings: dict[str, float] = field(default_factory=dict)


# --------------------------------------------------------------------------
# tuning
# --------------------------------------------------------------------------


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


# --------------------------------------------------------------------------
# scoring-model metrics
# --------------------------------------------------------------------------


def scoring_metrics(
    models: ScoringModels,
    train_log: pd.DataFrame,
    holdout_log: pd.DataFrame,
    *,
    cv_folds: int = 5,
    importance_rows: int = 20_000,
    random_state: int = 0,
) -> dict[str, Any]:
    """The seed documents' metrics of every fitted scoring model on a held-out log.

    Classification metrics are reported at the seed's 0.5 threshold and at
    the threshold that flags as many rows as there are positives (the
    informative one for rare outcomes).  Cross-validated ROC-AUC refits the
    model on the training log, 5 folds grouped by customer.  Uplift metrics
    use the held-out rows of subscribed customers that received the arm or
    no action; errors against the true effect need the log's truth columns.
    """
    columns = [c.name for c in observation_columns(models.action_names_)]
    out: dict[str, Any] = {}
    rng = np.random.default_rng(random_state)

    def importance(model: Any, X: pd.DataFrame, y: np.ndarray, scoring: str) -> list[dict[str, Any]]:
        rows = rng.choice(len(X), size=min(importance_rows, len(X)), replace=False)
        table = permutation_importances(
            model, X.iloc[rows], y[rows], scoring=scoring, n_repeats=3, random_state=random_state
        )
        return table.head(5).to_dict("records")

    def classifier_report(name: str, labels_of: Any, model: Any) -> None:
        y_train = labels_of(train_log).to_numpy()
        y = labels_of(holdout_log).to_numpy()
        keep, keep_train = ~np.isnan(y), ~np.isnan(y_train)
        X = holdout_log.loc[keep, columns]
        p = model.predict_proba(X)[:, 1]
        y = y[keep].astype(np.int64)
        prevalence_threshold = float(np.quantile(p, 1.0 - y.mean()))
        cv = cross_validated_roc_auc(
            model,
            train_log.loc[keep_train, columns],
            y_train[keep_train].astype(np.int64),
            n_splits=cv_folds,
            groups=train_log.loc[keep_train, "customer_id"].to_numpy(),
            random_state=random_state,
        )
        out[name] = {
            "rows": int(keep.sum()),
            "at_0.5": classification_metrics(y, p, 0.5),
            "at_prevalence": classification_metrics(y, p, prevalence_threshold),
            "cv_roc_auc_mean": cv["mean"],
            "cv_roc_auc_std": cv["std"],
            "permutation_importance_roc_auc": importance(model, X, y, "roc_auc"),
        }

    if hasattr(models, "response_"):
        classifier_report("response", lambda f: response_labels(f, models.response_window), models.response_)
    if hasattr(models, "churn_"):
        classifier_report("churn", lambda f: churn_labels(f, models.churn_window), models.churn_)
    if hasattr(models, "ltv_"):
        y = ltv_labels(holdout_log, models.horizon_).to_numpy()
        keep = ~np.isnan(y)
        X = holdout_log.loc[keep, columns]
        out["ltv"] = {
            "rows": int(keep.sum()),
            **regression_metrics(y[keep], models.predict_ltv(X)),
            "permutation_importance_r2": importance(models.ltv_, X, y[keep], "r2"),
        }
    learners = [name for name in ("t_learner", "class_transformation") if hasattr(models, f"{name}_")]
    if learners:
        y_all = response_labels(holdout_log, models.response_window).to_numpy()
        action = holdout_log["action"].to_numpy()
        subscribed = holdout_log["subscribed"].to_numpy() > 0.5
        uplift_report: dict[str, Any] = {}
        for learner in learners:
            uplift_all = models.predict_uplift(holdout_log[columns], learner)
            for arm in range(1, len(models.action_names_)):
                arm_name = models.action_names_[arm]
                rows = ~np.isnan(y_all) & subscribed & ((action == arm) | (action == 0))
                y, w, u = y_all[rows], (action[rows] == arm).astype(np.float64), uplift_all[rows, arm]
                report: dict[str, Any] = {
                    "rows": int(rows.sum()),
                    "qini": qini_coefficient(y, u, w),
                    "auuc": auuc(y, u, w),
                    **{f"uplift_at_{int(k * 100)}": uplift_at_k(y, u, w, k) for k in _UPLIFT_K},
                    "observed_uplift": float(y[w == 1].mean() - y[w == 0].mean()),
                }
                truth_rows = ~np.isnan(y_all) & subscribed
                for truth in ("true_effect", "true_logged_effect"):
                    column = f"{truth}_{arm_name}"
                    if column in holdout_log.columns:
                        report[f"vs_{truth}"] = effect_errors(
                            uplift_all[truth_rows, arm], holdout_log[column].to_numpy()[truth_rows]
                        )
                uplift_report[f"{learner}/{arm_name}"] = report
        out["uplift"] = uplift_report
    return out


# --------------------------------------------------------------------------
# the pipeline
# --------------------------------------------------------------------------


def customers_per_part(total: int, parts: int) -> int:
    """``total`` customers split over ``parts`` (draws), rounded up, at least one each."""
    return max(1, -(-total // parts))


def _components_for(names: Sequence[str], with_metrics: bool, horizon: int) -> tuple[str, ...]:
    needed: set[str] = set()
    for name in names:
        if name == "lookalike":
            needed |= {"response"}
        elif name == "expected_ltv":
            needed |= {"response", "ltv"}
        elif name == "ltv_uplift":
            needed |= {"ltv", "t_learner"}
    if with_metrics:
        needed |= {"response", "ltv", "t_learner", "class_transformation"}
        if horizon >= CHURN_WINDOW:  # the churn label needs a full window inside the horizon
            needed.add("churn")
    order = ("response", "ltv", "t_learner", "class_transformation", "churn")
    return tuple(c for c in order if c in needed)


def run_evaluation(settings: EvaluationSettings, progress: Any = None) -> EvaluationResult:
    """Log, fit, tune and evaluate as described in the module docstring.

    Parameters
    ----------
    settings
        The evaluation settings.
    progress
        Optional callable receiving one-line progress messages.

    Raises
    ------
    EvaluateError
        For unknown policy names (with suggestions), too few draws in the
        artifact, or non-positive sizes.
    """
    say = progress or (lambda message: None)
    timings: dict[str, float] = {}
    start = time.perf_counter()
    for label in ("customers", "draws", "train_customers", "tune_customers", "holdout_customers"):
        if getattr(settings, label) < 1:
            raise EvaluateError(
                f"--{label.replace('_', '-')}: received {getattr(settings, label)}, expected an integer >= 1."
            )
    names = list(dict.fromkeys(settings.policies))
    if not names:
        raise EvaluateError("--policies: received no policy names; expected e.g. never,random,lookalike.")
    for name in names:
        if name not in POLICY_NAMES:
            try:
                make_policy(name)
            except UnknownPolicyError as exc:
                raise EvaluateError(f"--policies: {exc}") from None
    if settings.reference not in POLICY_NAMES:
        try:
            make_policy(settings.reference)
        except UnknownPolicyError as exc:
            raise EvaluateError(f"--reference: {exc}") from None
    if settings.reference not in names:
        names.insert(0, settings.reference)  # the reference of the paired differences
    try:
        parameter_draws: ParameterDraws = load_parameters(settings.artifact)
    except ValueError as exc:
        raise EvaluateError(f"--artifact: {exc}") from None
    if settings.draws > len(parameter_draws):
        raise EvaluateError(
            f"--draws: received {settings.draws}, but the artifact "
            f"{parameter_draws.metadata.get('path', '(in memory)')} holds {len(parameter_draws)} posterior draw(s); "
            f"pass --draws {len(parameter_draws)} or less, or an artifact with more draws (--artifact)."
        )
    assumptions = assumptions_with_overrides(parameter_draws.assumptions, settings.scenario)
    draws = list(range(settings.draws))

    score_names = [n for n in names if n in ("lookalike", "expected_ltv", "ltv_uplift")]
    models: ScoringModels | None = None
    train_log: pd.DataFrame | None = None
    if score_names or settings.metrics:
        t0 = time.perf_counter()
        train_log = simulate_logged_data(
            settings.train_customers,
            settings.seed + TRAIN_SEED_OFFSET,
            params=draws,
            artifact=parameter_draws,
            scenario=assumptions,
        )
        timings["log"] = time.perf_counter() - t0
        say(f"logged {len(train_log):,} customer-weeks in {timings['log']:.1f} s")
        t0 = time.perf_counter()
        models = ScoringModels(
            components=_components_for(names, settings.metrics, assumptions.horizon), random_state=settings.seed
        )
        models.fit(train_log)
        timings["fit"] = time.perf_counter() - t0
        say(f"fitted {', '.join(models.components)} in {timings['fit']:.1f} s")

    policies: list[Policy] = []
    for name in names:
        if name in score_names:
            policies.append(make_policy(name, models=models, assumptions=assumptions))
        elif name == "random":
            policies.append(make_policy(name, seed=settings.seed))
        else:
            policies.append(make_policy(name))

    tuning: dict[str, dict[str, Any]] = {}
    t0 = time.perf_counter()
    per_draw = customers_per_part(settings.tune_customers, len(draws))
    validation_seeds = [settings.seed + VALIDATION_SEED_OFFSET + i for i in range(len(draws))]
    for policy in policies:
        if isinstance(policy, ScorePolicy):
            tuning[policy.name] = tune_operating_point(
                policy,
                train_log,
                n_customers=per_draw,
                seeds=validation_seeds,
                draws=draws,
                artifact=parameter_draws,
                scenario=assumptions,
            )
            chosen = tuning[policy.name]
            say(f"tuned {policy.name}: threshold {chosen['threshold']:.4g}, budget {chosen['budget']}")
    timings["tune"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    rows, record = compare_policies(
        policies,
        n_customers=settings.customers,
        draws=draws,
        seed=settings.seed,
        artifact=parameter_draws,
        scenario=assumptions,
        reference=settings.reference,
    )
    timings["evaluate"] = time.perf_counter() - t0
    record["settings"].update(
        {
            "train_customers": settings.train_customers,
            "tune_customers": settings.tune_customers,
            "seeds": {
                "evaluation": [settings.seed + i for i in draws],
                "training": [settings.seed + TRAIN_SEED_OFFSET + i for i in draws],
                "validation": validation_seeds,
            },
        }
    )

    metrics = None
    if settings.metrics and models is not None and train_log is not None:
        t0 = time.perf_counter()
        holdout = simulate_logged_data(
            settings.holdout_customers,
            settings.seed + HOLDOUT_SEED_OFFSET,
            params=draws,
            artifact=parameter_draws,
            scenario=assumptions,
            include_truth=True,
        )
        metrics = scoring_metrics(models, train_log, holdout, random_state=settings.seed)
        metrics["training_rows"] = models.n_rows_
        metrics["arm_response_rates"] = dict(zip(models.action_names_, models.arm_response_rates_.tolist()))
        timings["metrics"] = time.perf_counter() - t0
    timings["total"] = time.perf_counter() - start
    return EvaluationResult(rows=rows, record=record, tuning=tuning, metrics=metrics, timings=timings)


# --------------------------------------------------------------------------
# the command
# --------------------------------------------------------------------------



def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the ``evaluate`` options to ``parser`` (for the ``journeygym`` command's subparser)."""
    parser.add_argument(
        "--policies",
        default=",".join(POLICY_NAMES),
        help=f"comma-separated policy names (default: all: {','.join(POLICY_NAMES)}); the reference is always added",
    )
    parser.add_argument(
        "--reference",
        default="never",
        help="the policy the paired differences are taken against (default never), e.g. random",
    )
    parser.add_argument(
        "--customers", type=positive_int, default=20_000, help="customers per draw in the evaluation (default 20000)"
    )
    parser.add_argument("--draws", type=positive_int, default=None, help="posterior draws 0..D-1 (default: up to 5)")
    parser.add_argument("--seed", type=int, default=0, help="base seed S (default 0)")
    parser.add_argument("--artifact", default=None, help="parameter artifact (default: the shipped one)")
    parser.add_argument(
        "--train-customers", type=positive_int, default=5_000, help="customers in the training log (default 5000)"
    )
    parser.add_argument(
        "--tune-customers",
        type=positive_int,
        default=5_000,
        help="validation customers per tuning candidate (default 5000)",
    )
    parser.add_argument(
        "--metrics", action="store_true", help="also report the scoring models' metrics on a held-out log"
    )
    parser.add_argument(
        "--threads",
        type=positive_int,
        default=1,
        help="threads for the gradient-boosting models (default 1: on a busy 2-core machine, 2 OpenMP threads ran 5-10x slower)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON (with provenance) instead of tables")
    return parser



def _describe_point(threshold: float, budget: float | None) -> str:
    parts = []
    if math.isfinite(threshold):
        parts.append(f"net gain > ${threshold:.4g}")
    if budget is not None:
        parts.append(f"top {budget:.2%} per week")
    return " and ".join(parts) or "everyone"


def _format_tuning(result: EvaluationResult) -> str:
    lines = ["tuned operating points (best mean return on validation customers; default rule = net gain > $0):"]
    for name, tuned in result.tuning.items():
        lines.append(
            f"  {name:<14} {_describe_point(tuned['threshold'], tuned['budget']):<34} "
            f"validation return {tuned['mean_return']:.3f}  ({len(tuned['candidates'])} candidates)"
        )
    return "\n".join(lines)


def _format_metrics(metrics: Mapping[str, Any]) -> str:
    lines = ["scoring-model metrics on a held-out log:"]
    for name in ("response", "churn"):
        if name in metrics:
            m = metrics[name]
            p = m["at_prevalence"]
            lines.append(
                f"  {name:<9} ROC-AUC {p['roc_auc']:.3f}  CV ROC-AUC {m['cv_roc_auc_mean']:.3f} +- {m['cv_roc_auc_std']:.3f}  "
                f"at prevalence-matched threshold: accuracy {p['accuracy']:.3f} precision {p['precision']:.3f} "
                f"recall {p['recall']:.3f} F1 {p['f1']:.3f}  (at 0.5: F1 {m['at_0.5']['f1']:.3f}, flagged {m['at_0.5']['flagged_rate']:.2%})"
            )
    if "ltv" in metrics:
        m = metrics["ltv"]
        lines.append(
            f"  ltv       RMSE {m['rmse']:.2f}  MAE {m['mae']:.2f}  R2 {m['r2']:.4f}  MAPE(non-zero) {m['mape']:.1%} "
            f"({m['mape_excluded_share']:.1%} zero rows excluded)  sMAPE {m['smape']:.3f}  WAPE {m['wape']:.3f}"
        )
    for key, m in metrics.get("uplift", {}).items():
        line = (
            f"  {key:<33} Qini {m['qini']:+.3f}  AUUC {m['auuc']:+.3f}  uplift@10% {m['uplift_at_10']:+.4f}  "
            f"uplift@30% {m['uplift_at_30']:+.4f}"
        )
        for truth in ("true_effect", "true_logged_effect"):
            if f"vs_{truth}" in m:
                e = m[f"vs_{truth}"]
                line += f"  vs {truth}: RMSE {e['rmse']:.4f} r {e['pearson']:.3f}"
        lines.append(line)
    return "\n".join(lines)


def run_from_args(args: argparse.Namespace) -> int:
    """Run ``evaluate`` for parsed arguments (from :func:`add_arguments`) and print the result.

    Raises
    ------
    EvaluateError
        For invalid input (unknown policies, too few draws, a bad artifact).
    """
    try:
        parameter_count = len(load_parameters(args.artifact))
    except ValueError as exc:
        raise EvaluateError(f"--artifact: {exc}") from None
    settings = EvaluationSettings(
        policies=tuple(n.strip() for n in args.policies.split(",") if n.strip()),
        customers=args.customers,
        draws=min(5, parameter_count) if args.draws is None else args.draws,
        seed=args.seed,
        train_customers=args.train_customers,
        tune_customers=args.tune_customers,
        artifact=args.artifact,
        metrics=args.metrics,
        reference=args.reference.strip(),
    )
    progress = None if args.json else (lambda message: print(f"  .. {message}", file=sys.stderr))
    with threadpool_limits(limits=args.threads):
        result = run_evaluation(settings, progress)
    if args.json:
        payload = {
            "record": result.record,
            "rows": [asdict(r) for r in result.rows],
            "tuning": result.tuning,
            "metrics": result.metrics,
            "timings_s": result.timings,
        }
        print(json.dumps(to_jsonable(payload, nonfinite_as_none=True), indent=2, default=str))
        return 0
    record = result.record
    print(f"journeygym {record['version']}  config {record['config_hash']}  seed {record['seed']}")
    if record.get("parameters_label"):
        print(f"parameters: {record['parameters_label']}")
    print(
        f"{settings.customers} customers x {settings.draws} posterior draw(s) x {record['settings']['horizon']} weeks; "
        "undiscounted dollars per customer; 95% intervals over customers (one draw) or over draws (several); "
        f"paired differences vs {settings.reference} on common random numbers"
    )
    print(format_table(result.rows, settings.reference))
    if result.tuning:
        print()
        print(_format_tuning(result))
    if result.metrics:
        print()
        print(_format_metrics(result.metrics))
    print()
    print("wall time: " + ", ".join(f"{k} {v:.1f} s" for k, v in result.timings.items()))
    return 0


def evaluate_command(argv: Sequence[str] | None = None) -> int:
    """``journeygym evaluate ...``: parse ``argv``, run, print; returns the exit status (2 on input errors)."""
    parser = add_arguments(argparse.ArgumentParser(prog="journeygym evaluate", description=__doc__.splitlines()[0]))
    args = parser.parse_args(argv)
    try:
        return run_from_args(args)
    except EvaluateError as exc:
        print(f"journeygym evaluate: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(evaluate_command())
