"""The report's "Offline benchmark" section: estimates against the truth, and the assessment of each estimator.

Reads the ``offline`` column of the result rows (written by
:func:`journeygym.experiments.offline.offline_records`) into a long table,
one row per (setting, seed, policy, logging policy, logging seed, estimator),
and turns it into, for each logging policy (uniform, or a policy run
epsilon-greedy; one heading each when there are several):

* a table estimator x policy: mean estimate over logs, the interval of the first
  log, the true value on the log's customers;
* the assessment table (:func:`journeygym.ope.assessment.assess_over_seeds`):
  relative and squared error, Spearman rank correlation, regret@1 and @3 as a
  share of the oracle's value, interval coverage, and how often each lower
  bound is below the truth, over (policy, log) pairs;
* the overlap of each candidate with those logs, and its level under the rule
  table of :mod:`journeygym.ope.advice`;

then a table of which estimators still work under each logging policy (rank:
mean Spearman of at least :data:`~journeygym.ope.advice.RANKS_WELL_SPEARMAN`;
safe lower bound: below the truth in at least
:data:`~journeygym.ope.advice.SAFE_BOUND_SHARE` of the pairs), and
``offline.png``: estimated against true value per estimator, one colour per
logging policy.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["offline_blocks", "offline_frame", "offline_text"]

Block = tuple[Any, ...]
_ASSESSMENT_NOTE = (
    "Each estimator against the truth: means over (seed, log) units with 95% t-intervals over those units; the "
    "candidate policies are ranked within each log; regret@k is the best true value minus the best true value among "
    "the k policies estimated best, as a share of the oracle's value; Spearman if unbiased is what an unbiased estimator "
    "with the same bootstrap standard errors would reach (its shortfall is variance, not bias); coverage is the share of policies whose true "
    "value lies in the 95% bootstrap interval; the lower-bound columns pool every (policy, log) pair (a bound is "
    "safe at the 95% level when at least 95% lie below the truth). The oracle is the reference, not a candidate."
)
_KEYS = ("setting", "seed", "policy")


def offline_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The offline records of the result rows as one long table (empty when the run had no offline section).

    The column ``logging`` names each record's logging policy
    (:func:`journeygym.experiments.offline.logging_label`).
    """
    from journeygym.experiments.offline import logging_label

    if "offline" not in frame.columns:
        return pd.DataFrame()
    rows = []
    for _, row in frame.dropna(subset=["offline"]).iterrows():
        for record in json.loads(row["offline"])["records"]:
            epsilon = record.get("epsilon")
            rows.append({**{k: row[k] for k in _KEYS}, **{k: v for k, v in record.items() if k != "diagnostics"},
                         "logging": logging_label(record["behavior"], epsilon, record["log_customers"]),
                         **{f"overlap_{k}": v for k, v in (record.get("diagnostics") or {}).items()}})
    return pd.DataFrame(rows)


#: One log: the candidates are ranked within it, and the oracle's value on its customers scales the regret.
_LOG = ["setting", "seed", "logging", "logging_seed"]


def _reference(long: pd.DataFrame) -> pd.DataFrame:
    """The oracle's true value per log: the scale of the regret."""
    oracle = long[long["estimator"].isna()]
    return oracle.groupby(_LOG)["true_value"].mean().rename("reference_value").reset_index()


def _assessment(long: pd.DataFrame) -> pd.DataFrame:
    """The assessment of the estimators over the logs of ``long`` (one logging policy's)."""
    from journeygym.ope.assessment import assess_over_seeds

    estimated = long[long["estimator"].notna()]
    if estimated.empty:
        return pd.DataFrame()
    estimated = estimated.merge(_reference(long), on=_LOG, how="left")
    # One assessment unit per log: the candidate policies are ranked within each log.
    estimated = estimated.assign(seed=estimated.groupby(_LOG).ngroup())
    return assess_over_seeds(estimated)


def _estimate_rows(long: pd.DataFrame, setting: int) -> tuple[list[str], list[list[str]]]:
    data = long[(long["setting"] == setting) & long["estimator"].notna()]
    first_log = data["logging_seed"].min()
    rows = []
    for (policy, estimator), group in data.groupby(["policy", "estimator"], sort=False):
        one = group[group["logging_seed"] == first_log].iloc[0]
        rows.append(
            [
                policy,
                estimator,
                f"{one['value']:.3f}",
                f"[{one['low']:.3f}, {one['high']:.3f}]",
                "-" if pd.isna(one.get("lower_bound_t")) else f"{one['lower_bound_t']:.3f}",
                f"{one['true_value']:.3f}",
                f"{group['value'].mean():.3f}",
                f"{group['true_value'].mean():.3f}",
            ]
        )
    headers = [
        "policy", "estimator", "estimate (log 0)", "95% interval (log 0)", "lower bound t (log 0)", "true value (log 0)",
        "mean estimate (all logs)", "mean true value (all logs)",
    ]
    return headers, rows


#: The assessment columns shown, with their labels: mean over (seed, log) units and its 95% interval.
_SHOWN = {
    "relative_error": "relative error",
    "spearman": "Spearman",
    "spearman_if_unbiased": "Spearman if unbiased",
    "regret_at_1_normalized": "regret@1 / oracle",
    "regret_at_3_normalized": "regret@3 / oracle",
    "coverage": "interval coverage",
}
_POOLED = {
    "lower_bound_t_below_truth_pooled": "LB t below truth",
    "lower_bound_concentration_below_truth_pooled": "LB conc. below truth",
}


def _assessment_table(assessment: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    """The assessment as ``mean [low, high]`` cells over (seed, log) units, and the pooled lower-bound rates."""
    headers = ["estimator", "logs", *_SHOWN.values(), *_POOLED.values()]
    rows = []
    for _, row in assessment.iterrows():
        cells = [str(row["estimator"]), str(int(row["n_seeds"]))]
        for key in _SHOWN:
            mean, low, high = row.get(f"{key}_mean"), row.get(f"{key}_low"), row.get(f"{key}_high")
            cells.append(
                "-" if mean is None or pd.isna(mean) else (f"{mean:.3f}" if pd.isna(low) else f"{mean:.3f} [{low:.3f}, {high:.3f}]")
            )
        cells += ["-" if pd.isna(row.get(key)) else f"{row[key]:.1%}" for key in _POOLED]
        rows.append(cells)
    return headers, rows


def _figure(long: pd.DataFrame, path: Path) -> Path | None:
    data = long[long["estimator"].notna()]
    if data.empty:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    estimators = list(dict.fromkeys(data["estimator"]))
    columns = min(4, len(estimators))
    rows = int(np.ceil(len(estimators) / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 3.0 * rows), squeeze=False)
    low = float(min(data["true_value"].min(), data["value"].min()))
    high = float(max(data["true_value"].max(), data["value"].max()))
    pad = 0.05 * (high - low or 1.0)
    loggings = list(dict.fromkeys(data["logging"]))
    for ax, estimator in zip(axes.flat, estimators):
        for logging in loggings:
            part = data[(data["estimator"] == estimator) & (data["logging"] == logging)]
            ax.errorbar(
                part["true_value"], part["value"], yerr=[part["value"] - part["low"], part["high"] - part["value"]],
                fmt="o", ms=3, alpha=0.7, elinewidth=0.8, label=logging,
            )
        ax.plot([low - pad, high + pad], [low - pad, high + pad], color="gray", lw=0.8)
        ax.set_ylim(low - 4 * pad, high + 4 * pad)
        ax.set_title(estimator)
        ax.set_xlabel("true value ($/customer)")
        ax.set_ylabel("estimate")
    for ax in list(axes.flat)[len(estimators):]:
        ax.axis("off")
    if len(loggings) > 1:
        fig.legend(*axes.flat[0].get_legend_handles_labels(), loc="lower center", ncol=len(loggings), fontsize="small")
        fig.tight_layout(rect=(0.0, 0.06, 1.0, 1.0))
    else:
        fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _ratios_sentence(long: pd.DataFrame) -> str:
    """How the marginal estimators' state ratios were learned and clipped ("" when no record has them)."""
    if "ratio_learner" not in long.columns:
        return ""
    marginal = long.dropna(subset=["ratio_learner"])
    if marginal.empty:
        return ""
    clips = marginal["ratio_clip"] if "ratio_clip" in marginal.columns else pd.Series([None] * len(marginal))
    shown = sorted({"none" if pd.isna(c) else f"{float(c):g}" for c in clips})
    return (
        f"mis and mdr: per-week state ratios learned by {', '.join(sorted(set(marginal['ratio_learner'])))}, clipped at "
        f"{', '.join(shown)} and normalized to mean 1 each week (not refit in the bootstrap). "
    )


def _settings_line(long: pd.DataFrame) -> str:
    loggings = list(dict.fromkeys(long["logging"]))
    logs = long.groupby("logging")["logging_seed"].nunique().max()
    return (
        f"Logs of {len(loggings)} logging polic{'ies' if len(loggings) > 1 else 'y'} over the horizon: "
        f"{'; '.join(loggings)}; {logs} log(s) per seed{' and logging policy' if len(loggings) > 1 else ''}. "
        "True values: each policy rolled out in the simulator on the log's own customers. "
        + _ratios_sentence(long)
        + ("Propensities ESTIMATED from the log. " if bool(long.get("propensities_estimated", pd.Series([False])).any()) else "")
    )


#: The overlap columns shown (means over the logs), with their labels.
_OVERLAP = {
    "overlap_ess_per_decision_share": "ESS share per decision",
    "overlap_ess_per_decision": "effective customers per week",
    "overlap_ess_per_decision_min_share": "smallest weekly ESS share",
    "overlap_low_propensity_share": "low-propensity share",
    "overlap_support_violation_share": "support violations",
}


def _overlap_rows(long: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    """Each candidate's overlap with the logs (means over logs) and its most frequent level under the advice rules."""
    from journeygym.ope.advice import overlap_level

    per_log = long[long["estimator"].notna()].drop_duplicates(["setting", "seed", "policy", "logging_seed"])
    if per_log.empty or not set(_OVERLAP) <= set(per_log.columns):
        return [], []
    fields = [c for c in per_log.columns if c.startswith("overlap_")]
    rows = []
    for policy, group in per_log.groupby("policy", sort=False):
        levels = [overlap_level({c[len("overlap_"):]: r[c] for c in fields})[0] for _, r in group.iterrows()]
        cells = [f"{group[c].mean():.4g}" for c in _OVERLAP]
        rows.append([str(policy), *cells, max(dict.fromkeys(levels), key=levels.count)])
    return ["policy", *_OVERLAP.values(), "level (advice rules)"], rows


def _bound_kinds(row: pd.Series) -> list[str]:
    """The lower bounds of an assessment row that were safe (below the truth in enough pairs)."""
    from journeygym.ope.advice import SAFE_BOUND_SHARE

    kinds = {"lower_bound_t_below_truth_pooled": "t", "lower_bound_concentration_below_truth_pooled": "conc."}
    return [label for key, label in kinds.items() if not pd.isna(row.get(key)) and row[key] >= SAFE_BOUND_SHARE]


def _works_rows(assessments: dict[str, pd.DataFrame]) -> tuple[list[str], list[list[str]]]:
    """Per logging policy: the estimators that rank, those with a safe lower bound, and those that do neither."""
    from journeygym.ope.advice import RANKS_WELL_SPEARMAN

    rows = []
    for logging, assessment in assessments.items():
        ranks, bounds, neither = [], [], []
        for _, row in assessment.iterrows():
            spearman = row.get("spearman_mean")
            ranked = not pd.isna(spearman) and spearman >= RANKS_WELL_SPEARMAN
            safe = _bound_kinds(row)
            if ranked:
                ranks.append(f"{row['estimator']} ({spearman:.2f})")
            if safe:
                bounds.append(f"{row['estimator']} ({', '.join(safe)})")
            if not ranked and not safe:
                neither.append(str(row["estimator"]))
        rows.append([logging, ", ".join(ranks) or "none", ", ".join(bounds) or "none", ", ".join(neither) or "none"])
    return ["logging policy", "ranks (mean Spearman)", "safe lower bound", "neither"], rows


def _works_note() -> str:
    from journeygym.ope.advice import RANKS_WELL_SPEARMAN, SAFE_BOUND_SHARE

    return (
        f"Which estimators still work under each logging policy: an estimator ranks when its mean Spearman "
        f"correlation over the logs is at least {RANKS_WELL_SPEARMAN:g}; its lower bound (Student-t, or concentration) "
        f"is safe when at least {SAFE_BOUND_SHARE:.0%} of the (policy, log) pairs lie below the truth. These are the "
        "measurements behind journeygym ope's recommendation (journeygym/ope/advice.py)."
    )


def _learned_offline_rows(frame: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    """Policies trained on logs against the logging policy and the agents trained online (paired, first setting).

    The logging policy is ``random`` (the uniform behavior); the comparison is
    made only when the run has it and its offline logs are uniform.
    """
    from journeygym.experiments.summary import summarize

    if "random" not in set(frame["policy"]):
        return [], []
    first = frame[frame["setting"] == frame["setting"].min()]
    online = list(dict.fromkeys(first.loc[first["training"] == "simulator", "policy"]))
    learners = list(dict.fromkeys(first.loc[first["training"] == "logged_data", "policy"]))
    if not learners:
        return [], []
    against = {reference: {r.policy: r for r in summarize(first, reference=reference)[0].rows} for reference in ["random", *online]}
    rows = []
    for policy in learners:
        row = [policy, str(against["random"][policy].mean_return)]
        row += [str(against[reference][policy].difference) for reference in against]
        rows.append(row)
    headers = ["policy (trained on the campaign log)", "return", "minus the logging policy (random)"]
    headers += [f"minus {name} (trained online)" for name in online]
    return headers, rows


def offline_blocks(frame: pd.DataFrame, report_dir: Path | None) -> list[Block]:
    """The report blocks of the offline benchmark (none when the run had no offline section).

    ``report_dir`` receives ``offline.png`` (None: no figure).
    """
    long = offline_frame(frame)
    if long.empty:
        return []
    blocks: list[Block] = [("h2", "Offline benchmark"), ("p", _settings_line(long)), ("p", _ASSESSMENT_NOTE)]
    loggings = list(dict.fromkeys(long["logging"]))
    settings = sorted(long["setting"].unique())
    assessments: dict[str, pd.DataFrame] = {}
    for logging in loggings:
        part = long[long["logging"] == logging]
        if len(loggings) > 1:
            blocks.append(("h3", f"Logging: {logging}"))
        for setting in settings:
            headers, rows = _estimate_rows(part, setting)
            if len(settings) > 1:
                blocks.append(("h3", f"Setting {setting}"))
            blocks.append(("table", headers, rows))
        assessment = _assessment(part)
        if not assessment.empty:
            assessments[logging] = assessment
            blocks.append(("p", f"The estimators on these logs ({logging}):"))
            blocks.append(("table", *_assessment_table(assessment)))
        headers, rows = _overlap_rows(part)
        if rows:
            blocks.append(("p", "Overlap of each candidate with these logs (means over the logs), and its most frequent "
                           "level under the rule table of journeygym ope's recommendation:"))
            blocks.append(("table", headers, rows))
    if assessments:
        blocks.append(("p", _works_note()))
        blocks.append(("table", *_works_rows(assessments)))
    if (long["behavior"] == "uniform").any():
        headers, rows = _learned_offline_rows(frame)
        if rows:
            blocks.append(("p", "The policies trained on the uniform campaign log against that logging policy and against the "
                           "agents trained in the simulator: paired differences of the return per customer with 95% intervals."))
            blocks.append(("table", headers, rows))
    path = None if report_dir is None else _figure(long, report_dir / "offline.png")
    if path is not None:
        blocks.append(("img", "offline.png", "Off-policy estimates (first-log intervals) against the true value on the log's customers."))
    return blocks


def offline_text(frame: pd.DataFrame) -> str:
    """The offline section as plain text ("" when the run had no offline section)."""
    lines: list[str] = []
    for block in offline_blocks(frame, None):
        kind = block[0]
        if kind == "table":
            lines.append(pd.DataFrame(block[2], columns=block[1]).to_string(index=False))
        elif kind in ("h2", "h3", "p"):
            lines += ["", block[1]] if kind != "h2" else [block[1]]
    return "\n".join(lines)
