"""The experiment report: summary tables, figures, Markdown and HTML next to the results.

:func:`build_report` reads a results directory (``manifest.json``, the cells)
and writes ``report/`` in it: ``report.md``, ``report.html`` (self-contained
apart from the PNG figures beside it), ``summary.csv`` and the figures:

* ``returns.png`` -- mean return per customer with 95% intervals, per setting;
* ``learning_curves_s<setting>.png`` -- per setting, each learning agent's
  greedy return on fixed validation customers against env-steps and training
  seconds, with the seed baselines and the oracle
  (:mod:`journeygym.experiments.curves_report`);
* ``training_returns.png`` -- for agents that record no such curve (an agent
  of one's own), the training episode return from its ``progress.csv``,
  against the reference and the oracle;
* ``contacts_by_segment.png`` / ``contacts_by_state.png`` -- who gets
  contacted: share of subscribed customer-weeks e-mailed per history segment
  and per hidden engagement state (the state is a diagnostic; policies never see it);
* ``sensitivity.png`` -- with several settings, every policy's return per setting;
* ``offline.png`` -- with an ``offline:`` section, off-policy estimates against
  the true values (:mod:`journeygym.experiments.offline_report`);
* ``budgets.png`` -- with settings that set a contact budget, return against
  e-mails delivered per budget, and the section "Value against volume"
  (:mod:`journeygym.experiments.budget_report`).

``journeygym report RESULTS_DIR`` is :func:`report_command`.
"""

from __future__ import annotations

import html
import json
import math
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from journeygym.experiments.cadence import cadence_rows
from journeygym.experiments.budget_report import budget_blocks, budget_text
from journeygym.experiments.curves_report import learning_curve_blocks, learning_curve_figures
from journeygym.experiments.offline_report import offline_blocks, offline_text
from journeygym.experiments.store import (
    ResultStore,
    ResultsWarning,
    atomic_write_text,
    describe_error,
)
from journeygym.experiments.summary import (
    SettingSummary,
    contact_profile,
    format_summary,
    summarize,
    summary_frame,
    table_rows,
)

__all__ = ["build_report", "report_text"]

Block = tuple[Any, ...]


def _load(results_dir: Path) -> tuple[dict[str, Any], pd.DataFrame, list[str]]:
    store = ResultStore(results_dir)
    manifest = store.read_json("manifest.json")
    finished = store.finished()
    planned = manifest["cells"]
    done = [c for c in planned if c in finished]
    if not done:
        raise FileNotFoundError(f"{str(results_dir)!r} has no finished cells yet; run the experiment first.")
    frame = store.read(done)
    missing = [c for c in planned if c not in finished]
    return manifest, frame, missing


def _complete_units(frame: pd.DataFrame) -> pd.DataFrame:
    """Keep the (setting, seed, draw) units every policy of the setting has finished (partial runs)."""
    keep = []
    for _, part in frame.groupby("setting"):
        n_policies = part["policy"].nunique()
        counts = part.groupby(["seed", "draw"])["policy"].nunique()
        full = counts[counts == n_policies].index
        indexed = part.set_index(["seed", "draw"])
        keep.append(indexed[indexed.index.isin(full)].reset_index())
    return pd.concat(keep, ignore_index=True) if keep else frame


def _policy_order(manifest: dict[str, Any], frame: pd.DataFrame) -> list[str]:
    names = [p["name"] for p in manifest.get("policies", [])]
    return [n for n in names if n in set(frame["policy"])] or list(dict.fromkeys(frame["policy"]))


# ---------------------------------------------------------------------- figures


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _returns_figure(summaries: Sequence[SettingSummary], path: Path) -> Path:
    plt = _plt()
    n = len(summaries)
    columns = min(3, n)
    rows = math.ceil(n / columns)
    n_policies = max(len(s.rows) for s in summaries)
    fig, axes = plt.subplots(rows, columns, figsize=(5.2 * columns, 0.45 * n_policies * rows + 1.2 * rows), squeeze=False)
    for ax, summary in zip(axes.ravel(), summaries):
        names = [r.policy for r in summary.rows][::-1]
        means = np.array([r.mean_return.mean for r in summary.rows][::-1])
        low = np.array([r.mean_return.low for r in summary.rows][::-1])
        high = np.array([r.mean_return.high for r in summary.rows][::-1])
        errors = np.vstack([means - low, high - means])
        errors = np.where(np.isfinite(errors), errors, 0.0)
        colors = ["tab:red" if n == summary.winner else ("tab:gray" if n == summary.oracle else "tab:blue") for n in names]
        ax.errorbar(means, range(len(names)), xerr=errors, fmt="none", ecolor="black", capsize=3)
        ax.scatter(means, range(len(names)), c=colors, zorder=3)
        ax.set_yticks(range(len(names)), names)
        ax.set_title(summary.label if len(summaries) > 1 else "mean return per customer (95% CI)", fontsize=9)
        ax.set_xlabel("$ per customer over the horizon")
        ax.grid(axis="x", alpha=0.3)
    for ax in axes.ravel()[n:]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _read_progress(path: Path, cell_id: str) -> pd.DataFrame | None:
    """An agent's training log, or None (with a :class:`ResultsWarning` naming it when it does not read back)."""
    if not path.is_file():
        return None
    try:
        return pd.read_csv(path)
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        warnings.warn(
            f"training log {str(path)!r} does not read back ({describe_error(exc)}); its learning curve is left "
            f"out of the report. To get it back, delete the cell file cells/{cell_id}.parquet of the results "
            "directory and run the experiment again with --resume (the agent is trained again).",
            ResultsWarning,
            stacklevel=2,
        )
        return None


def _training_returns_figure(frame: pd.DataFrame, summaries: Sequence[SettingSummary], path: Path) -> Path | None:
    """The training episode returns (``progress.csv``) of the agents that recorded no validation curve."""
    agents = frame[(frame["training"] == "simulator") & frame["log_dir"].notna()]
    if "learning_curve" in agents.columns:
        agents = agents[agents["learning_curve"].isna()]
    if agents.empty:
        return None
    first_setting = summaries[0]
    agents = agents[agents["setting"] == first_setting.setting]
    curves: dict[str, list[tuple[int, pd.DataFrame]]] = {}
    for (policy, seed), part in agents.groupby(["policy", "seed"]):
        progress = Path(str(part["log_dir"].iloc[0])) / "progress.csv"
        data = _read_progress(progress, str(part["cell_id"].iloc[0]))
        if data is None:
            continue
        if {"time/total_timesteps", "rollout/ep_rew_mean"} <= set(data.columns):
            data = data[["time/total_timesteps", "rollout/ep_rew_mean"]].apply(pd.to_numeric, errors="coerce").dropna()
            curves.setdefault(policy, []).append((int(seed), data))
    if not curves:
        return None
    plt = _plt()
    fig, axes = plt.subplots(1, len(curves), figsize=(5.5 * len(curves), 3.6), squeeze=False)
    for ax, (policy, runs) in zip(axes.ravel(), curves.items()):
        for seed, data in runs:
            ax.plot(data["time/total_timesteps"], data["rollout/ep_rew_mean"], label=f"seed {seed}", alpha=0.8)
        for name, style in ((first_setting.reference, "--"), (first_setting.oracle, ":"), (first_setting.never, "-.")):
            if name:
                ax.axhline(first_setting.row(name).mean_return.mean, color="gray", linestyle=style, label=f"{name} (evaluation)")
        ax.set_title(f"{policy}: return of the training customers", fontsize=9)
        ax.set_xlabel("customer-weeks of training")
        ax.set_ylabel("$ per customer per episode")
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _contacts_figure(profile: pd.DataFrame, setting: int, order: Sequence[str], title: str, path: Path) -> Path | None:
    part = profile[profile["setting"] == setting].drop(columns="setting").set_index("policy")
    part = part.reindex([p for p in order if p in part.index])
    part = part[(part.fillna(0) > 0).any(axis=1)]
    if part.empty:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(max(6.0, 1.1 * part.shape[1] + 2), 3.8))
    width = 0.8 / len(part)
    x = np.arange(part.shape[1])
    for i, (policy, values) in enumerate(part.iterrows()):
        ax.bar(x + i * width - 0.4 + width / 2, values.to_numpy(dtype=float), width, label=policy)
    ax.set_xticks(x, [str(c) for c in part.columns], rotation=20, fontsize=8)
    ax.set_ylabel("share of subscribed weeks e-mailed")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, ncol=2)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _sensitivity_figure(summaries: Sequence[SettingSummary], path: Path) -> Path:
    plt = _plt()
    policies = [r.policy for r in summaries[0].rows]
    fig, ax = plt.subplots(figsize=(max(7.0, 0.55 * len(summaries) + 3), 4.2))
    x = np.arange(len(summaries))
    for policy in policies:
        values = [s.row(policy).mean_return.mean if policy in [r.policy for r in s.rows] else np.nan for s in summaries]
        style = "k--" if policy == summaries[0].oracle else "-o"
        ax.plot(x, values, style, label=policy, markersize=3)
    ax.set_xticks(x, [s.label for s in summaries], rotation=60, ha="right", fontsize=7)
    ax.set_ylabel("mean return per customer ($)")
    ax.set_title("return of every policy across the assumption settings", fontsize=9)
    ax.legend(fontsize=7, ncol=2)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# ---------------------------------------------------------------------- content


def _sensitivity_table(summaries: Sequence[SettingSummary]) -> tuple[list[str], list[list[str]]]:
    policies = [r.policy for r in summaries[0].rows]
    headers = ["setting", "carryover", "kappa", "unsubscribe", "u1", *policies, "winner (sees no hidden state)", "winner's share of never->oracle"]
    rows = []
    for s in summaries:
        cells = [s.label, f"{s.carryover:g}", f"{s.kappa:g}", f"{s.unsubscribe_probability:.2%}", f"{s.u1:g}"]
        means = {r.policy: r.mean_return.mean for r in s.rows}
        cells += [f"{means[p]:.3f}" if p in means else "-" for p in policies]
        cells.append(s.winner)
        share = "-"
        if s.oracle and s.never:
            # The summary's share: under a contact budget its top is the budgeted oracle's bound.
            closed = s.row(s.winner).gap_closed
            top = "bound" if s.bound is not None else "oracle"
            share = f"{closed.mean:.0%} of never->{top}" if closed is not None else "no gap"
        cells.append(share)
        rows.append(cells)
    return headers, rows


def _training_rows(frame: pd.DataFrame, order: Sequence[str]) -> tuple[list[str], list[list[str]]]:
    trained = frame[frame["training"] != "none"]
    headers = ["policy", "training", "seeds", "budget (customer-weeks)", "train time per cell (s)", "operating point / notes"]
    rows = []
    for policy in [p for p in order if p in set(trained["policy"])]:
        part = trained[trained["policy"] == policy]
        per_cell = part.drop_duplicates("cell_id")
        note = ""
        tunings = [json.loads(t) for t in per_cell["tuning"] if t and t != "{}"]
        if tunings:
            points = []
            for t in tunings:
                budget = t.get("budget")
                threshold = t.get("threshold")
                parts = []
                if threshold is not None and math.isfinite(float(threshold)):
                    parts.append(f"gain > ${float(threshold):.3g}")
                if budget is not None:
                    parts.append(f"top {float(budget):.1%}/week")
                points.append(" & ".join(parts) or "everyone")
            note = "; ".join(sorted(set(points)))
        timesteps = per_cell["timesteps"].dropna()
        rows.append(
            [
                str(policy),
                str(per_cell["training"].iloc[0]).replace("_", " "),
                str(per_cell["seed"].nunique()),
                f"{int(timesteps.iloc[0]):,}" if len(timesteps) else "-",
                f"{per_cell['train_seconds'].mean():.0f}",
                note,
            ]
        )
    return headers, rows


def _first_setting_cadence(complete: pd.DataFrame, summaries: Sequence[SettingSummary]) -> tuple[list[str], list[list[str]]]:
    """The cadence table (weeks between e-mails per policy) of the first setting, policies in the report's order."""
    first = summaries[0]
    return cadence_rows(complete[complete["setting"] == first.setting], [r.policy for r in first.rows])


def _description(config_file: Path) -> str:
    """The ``description`` of the run's config.yaml ("" with a :class:`ResultsWarning` when it does not read back)."""
    import yaml

    try:
        config = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        warnings.warn(
            f"{str(config_file)!r} does not read back ({describe_error(exc)}); the report goes without the "
            "config's description. journeygym run writes the file again on --resume.",
            ResultsWarning,
            stacklevel=2,
        )
        return ""
    return str(config.get("description") or "") if isinstance(config, dict) else ""


def _content(
    results_dir: Path,
    manifest: dict[str, Any],
    frame: pd.DataFrame,
    missing: list[str],
    summaries: list[SettingSummary],
    figures: dict[str, Path | None],
    curve_figures: dict[int, Path],
) -> list[Block]:
    complete = _complete_units(frame)
    artifact = manifest.get("artifact", {})
    head = frame.iloc[0]
    blocks: list[Block] = [("h1", f"journeygym experiment: {manifest.get('experiment', '')}")]
    config_file = results_dir / "config.yaml"
    description = ""
    if config_file.is_file():
        description = _description(config_file)
    if description:
        blocks.append(("p", description))
    facts = [
        f"journeygym {manifest.get('journeygym_version')}, config hash {manifest.get('config_hash')}",
        f"parameters: {artifact.get('label') or artifact.get('path')} ({artifact.get('n_draws')} posterior draw(s) in the artifact, sha256 {artifact.get('sha256')})",
        f"seeds: {sorted(frame['seed'].unique().tolist())}; posterior draws evaluated: {sorted(frame['draw'].unique().tolist())}; "
        f"{int(head['customers']):,} customers per (seed, draw); horizon {int(head['horizon'])} weeks",
        "returns: undiscounted dollars of margin minus e-mail costs per customer over the horizon; every policy is "
        "evaluated on the same customers and weekly noise for a given seed and draw (paired comparisons)",
    ]
    if artifact.get("calibrated") is False:
        facts.append("WARNING: the parameter artifact is PROVISIONAL (not a calibration fit); treat the numbers as a smoke test")
    if missing:
        facts.append(f"INCOMPLETE: {len(missing)} planned cell(s) not finished; resume the run (--resume) to complete the report")
    blocks.append(("ul", facts))
    blocks.append(
        (
            "p",
            "Columns: return per customer with 95% interval; paired difference against the reference (the best seed "
            "baseline, else the best non-oracle policy not trained in the simulator); share of posterior draws on which "
            "the policy beats the reference; share of the never->oracle and reference->oracle gaps closed; e-mails per "
            "customer-week; share unsubscribed by the horizon. Scenario assumptions (carryover rho, the fatigue stock's "
            "memory and multiplier kappa and p, the trial's starting fatigue, unsubscribe probability, u1, margin, costs) "
            "are ASSUMPTIONS anchored on outside evidence, not calibrated.",
        )
    )
    if len(summaries) > 1:
        blocks.append(("h2", "Sensitivity to the assumptions"))
        headers, rows = _sensitivity_table(summaries)
        blocks.append(("table", headers, rows))
        no_fatigue = [s for s in summaries if s.kappa == 0 and s.u1 == 0]
        if no_fatigue:
            text = (
                "In the settings with kappa = u1 = 0 an e-mail neither tires the customer nor raises the unsubscribe "
                "risk of later e-mails. With the calibrated response a myopic policy that knows the "
                "state is then already optimal, so any long-term advantage of RL lives in the other settings; "
                "whether that holds for these parameters is what the myopic_oracle row measures (an e-mail's "
                "lasting effect on engagement is long-term value a myopic policy ignores even there)."
            )
            myopic = [s for s in no_fatigue if any(r.kind == "myopic_oracle" for r in s.rows) and s.oracle]
            if myopic:
                measured = "; ".join(
                    f"{s.label}: myopic oracle {next(r for r in s.rows if r.kind == 'myopic_oracle').mean_return.mean:.3f} "
                    f"vs oracle {s.row(s.oracle).mean_return.mean:.3f}"
                    for s in myopic
                )
                text += f" Measured here: {measured}."
            blocks.append(("p", text))
        if figures.get("sensitivity"):
            blocks.append(("img", "sensitivity.png", "returns across settings"))
    blocks.append(("h2", "Results"))
    for summary in summaries:
        assumptions = f"carryover {summary.carryover:g}, kappa {summary.kappa:g}, unsubscribe {summary.unsubscribe_probability:.2%} per e-mail at zero fatigue, u1 {summary.u1:g}"
        blocks.append(("h3", f"Setting {summary.setting}: {summary.label} ({assumptions})"))
        rows = table_rows(summary)
        blocks.append(("table", list(rows[0]), [list(r.values()) for r in rows]))
        blocks.append(("p", f"Reference: {summary.reference or '-'}; winner (best non-oracle mean): {summary.winner}; intervals over {summary.interval_basis}."))
        for note in summary.notes:
            blocks.append(("p", f"Note: {note}"))
    headers, rows = _first_setting_cadence(complete, summaries)
    if rows:
        blocks.append(("h2", "Cadence"))
        blocks.append(
            (
                "p",
                "How often each policy e-mails the same customer (first setting, every seed and draw pooled): e-mails per "
                "customer-week, the share of customers e-mailed at least twice, and the weeks between consecutive e-mails "
                "to the same customer. A cadence alone (biweekly_mens e-mails everyone in even weeks) shows what timing "
                "earns without targeting.",
            )
        )
        blocks.append(("table", headers, rows))
    blocks.append(("h2", "Figures"))
    captions = {
        "returns": "Mean return per customer with 95% intervals (winner red, oracle gray).",
        "training_returns": "Training curves of the learning agents without a validation curve, first setting: mean "
        "episode return of each population of training customers (on posterior draws).",
        "contacts_by_segment": "Who gets contacted: share of subscribed customer-weeks e-mailed, by history segment (first setting).",
        "contacts_by_state": "Who gets contacted, by hidden engagement state at decision time (a diagnostic: no policy but the oracle sees it).",
    }
    for key, caption in captions.items():
        if figures.get(key):
            blocks.append(("img", f"{key}.png", caption))
    blocks += learning_curve_blocks(curve_figures, summaries)
    blocks += offline_blocks(complete, results_dir / "report")
    blocks += budget_blocks(complete, summaries, results_dir / "report")
    headers, rows = _training_rows(complete, [r.policy for r in summaries[0].rows])
    if rows:
        blocks.append(("h2", "Training"))
        blocks.append(("table", headers, rows))
    blocks.append(("h2", "Reproduce"))
    blocks.append(("pre", f"journeygym run {results_dir / 'config.yaml'} --out {results_dir} --resume\njourneygym report {results_dir}"))
    return blocks


def _markdown(blocks: Sequence[Block]) -> str:
    out = []
    for block in blocks:
        kind = block[0]
        if kind in ("h1", "h2", "h3"):
            out.append("#" * int(kind[1]) + " " + block[1])
        elif kind == "p":
            out.append(block[1])
        elif kind == "ul":
            out.append("\n".join(f"- {item}" for item in block[1]))
        elif kind == "table":
            headers, rows = block[1], block[2]
            lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
            lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
            out.append("\n".join(lines))
        elif kind == "img":
            out.append(f"![{block[2]}]({block[1]})\n\n*{block[2]}*")
        elif kind == "pre":
            out.append(f"```\n{block[1]}\n```")
    return "\n\n".join(out) + "\n"


def _html(blocks: Sequence[Block], title: str) -> str:
    esc = html.escape
    body = []
    for block in blocks:
        kind = block[0]
        if kind in ("h1", "h2", "h3"):
            body.append(f"<{kind}>{esc(block[1])}</{kind}>")
        elif kind == "p":
            body.append(f"<p>{esc(block[1])}</p>")
        elif kind == "ul":
            body.append("<ul>" + "".join(f"<li>{esc(i)}</li>" for i in block[1]) + "</ul>")
        elif kind == "table":
            head = "".join(f"<th>{esc(h)}</th>" for h in block[1])
            rows = "".join("<tr>" + "".join(f"<td>{esc(str(c))}</td>" for c in row) + "</tr>" for row in block[2])
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
        elif kind == "img":
            body.append(f'<figure><img src="{esc(block[1])}" alt="{esc(block[2])}"><figcaption>{esc(block[2])}</figcaption></figure>')
        elif kind == "pre":
            body.append(f"<pre>{esc(block[1])}</pre>")
    style = (
        "body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}"
        "table{border-collapse:collapse;margin:1em 0;font-size:13px}td,th{border:1px solid #ccc;padding:3px 7px;text-align:right}"
        "td:first-child,th:first-child{text-align:left}th{background:#f3f3f3}img{max-width:100%}"
        "figcaption{font-size:12px;color:#555}pre{background:#f6f6f6;padding:.6em}"
    )
    return (
        f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{esc(title)}</title>"
        f"<style>{style}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


def build_report(results_dir: str | Path) -> Path:
    """Write ``report/`` (Markdown, HTML, CSV, figures) for a results directory; returns the Markdown path.

    Raises
    ------
    FileNotFoundError
        If the directory holds no manifest or no finished cell.
    DamagedFileError
        If the manifest or a finished cell's file does not read back (the message names it).

    Warns
    -----
    ResultsWarning
        For a training log or config.yaml that does not read back (left out of the report).
    """
    results_dir = Path(results_dir)
    manifest, frame, missing = _load(results_dir)
    complete = _complete_units(frame)
    summaries = summarize(complete, _policy_order(manifest, complete))
    report_dir = results_dir / "report"
    report_dir.mkdir(parents=True, exist_ok=True)
    figures: dict[str, Path | None] = {
        "returns": _returns_figure(summaries, report_dir / "returns.png"),
        "training_returns": _training_returns_figure(complete, summaries, report_dir / "training_returns.png"),
    }
    curve_figures = learning_curve_figures(complete, summaries, report_dir)
    first = summaries[0].setting
    order = [r.policy for r in summaries[0].rows]
    for by, title in (("segment", "by history segment"), ("state", "by hidden engagement state (diagnostic)")):
        figures[f"contacts_by_{by}"] = _contacts_figure(
            contact_profile(complete, by), first, order, f"share of subscribed weeks e-mailed, {title}", report_dir / f"contacts_by_{by}.png"
        )
    if len(summaries) > 1:
        figures["sensitivity"] = _sensitivity_figure(summaries, report_dir / "sensitivity.png")
    blocks = _content(results_dir, manifest, frame, missing, summaries, figures, curve_figures)
    atomic_write_text(report_dir / "summary.csv", summary_frame(summaries).to_csv(index=False))
    markdown = report_dir / "report.md"
    atomic_write_text(markdown, _markdown(blocks))
    atomic_write_text(report_dir / "report.html", _html(blocks, blocks[0][1]))
    return markdown


def report_text(results_dir: str | Path) -> str:
    """The summary tables as plain text, with a provenance line."""
    results_dir = Path(results_dir)
    manifest, frame, missing = _load(results_dir)
    complete = _complete_units(frame)
    summaries = summarize(complete, _policy_order(manifest, complete))
    artifact = manifest.get("artifact", {})
    lines = [
        f"journeygym {manifest.get('journeygym_version')}  experiment {manifest.get('experiment')}  config {manifest.get('config_hash')}",
        f"parameters: {artifact.get('label') or artifact.get('path')}",
        "undiscounted $ per customer over the horizon; paired on common random numbers",
    ]
    if missing:
        lines.append(f"INCOMPLETE: {len(missing)} planned cell(s) not finished")
    headers, rows = _first_setting_cadence(complete, summaries)
    cadence = ""
    if rows:
        widths = [max(len(str(v)) for v in column) for column in zip(headers, *rows)]
        cadence = "\n".join(
            ["Cadence (first setting): e-mails per customer-week and the weeks between e-mails to the same customer"]
            + ["  ".join(str(v).ljust(w) for v, w in zip(line, widths)) for line in [headers, *rows]]
        )
    sections = [format_summary(summaries), cadence, offline_text(complete), budget_text(complete, summaries)]
    return "\n".join(lines) + "\n\n" + "\n\n".join(s for s in sections if s)
