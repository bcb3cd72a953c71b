"""The report's "Value against volume" section: policies compared at equal contact volume under weekly budgets.

A scenario sweep over ``contact_budget`` gives one setting per budget.  From the
result rows of those settings and their summaries
(:func:`journeygym.experiments.summary.summarize`) this module builds:

* ``budgets.png`` -- the gain curves: each policy's mean return per customer
  (95% interval) against the e-mails it delivered per customer-week, one point
  per budget, with the budgeted oracle's value bound as its own line;
* the winner at each budget among the policies that do not see the hidden
  state, the runner-up, and their paired difference (common random numbers);
* the e-mails delivered and requested per customer-week of every policy, with
  the policies without a priority marked (their requests are thinned at random);
* for learning agents that record a shadow price per e-mail: the price, whether
  the e-mails they request are within :data:`TARGET_TOLERANCE` of the budget,
  and their paired difference against the best seed baseline at that budget;
* the share of the gap from ``never`` to the top closed at each budget, the top
  being the budgeted oracle's value bound (else the oracle's return, and the
  section says so);
* a check line: the most weekly budget violations over all rows (must be 0)
  and the highest weekly contact share.

Intervals and paired differences are the summary's (see its module docstring).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from journeygym.experiments.summary import (
    SEED_BASELINES,
    SettingSummary,
    has_budget,
    paired_difference,
    sees_hidden_state,
)
from journeygym.intervals import Estimate

__all__ = [
    "RANDOM_THINNING",
    "TARGET_TOLERANCE",
    "budget_blocks",
    "budget_check",
    "budget_frame",
    "budget_text",
    "gain_curve_figure",
    "price_table",
    "winner_table",
]

Block = tuple[Any, ...]

#: How far the e-mails a learning agent requests per customer-week may be from the budget and still meet it.
TARGET_TOLERANCE = 0.02
#: The mark of a policy without a priority under a budget.
RANDOM_THINNING = "no priority: thinned at random"
_BUDGET_KEYS = ("contact_budget", "contact_budget_per_1000")


# ---------------------------------------------------------------------- tables


def _mean(rows: pd.DataFrame, column: str) -> float:
    """Mean of a column over rows (NaN when the column is absent or empty)."""
    if column not in rows.columns:
        return math.nan
    values = pd.to_numeric(rows[column], errors="coerce").dropna()
    return float(values.mean()) if len(values) else math.nan


def _budget_of(head: pd.Series) -> tuple[float, str]:
    """The setting's budget as e-mails per customer-week (a share of the list) and as written."""
    share = head.get("contact_budget")
    if share is not None and pd.notna(share):
        return float(share), f"{float(share):g}"
    per_1000 = float(head["contact_budget_per_1000"])
    return per_1000 / 1000.0, f"{per_1000:g} per 1,000"


def _group_of(overrides: str) -> str:
    """The setting's other swept or fixed assumptions (its budget left out): the settings one curve joins."""
    try:
        values = json.loads(overrides) if overrides else {}
    except (TypeError, ValueError):
        values = {}
    return ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items() if k not in _BUDGET_KEYS)


def _enforcement(rows: pd.DataFrame) -> str:
    """How the budget chose among the policy's requests; a policy that asks for nothing has nothing thinned."""
    values = set(rows["enforcement"].dropna()) if "enforcement" in rows.columns else set()
    if "random" in values:
        return "random" if _mean(rows, "requested_contact_rate") > 0 else "none"
    return "priority" if "priority" in values else "none"


def budget_frame(frame: pd.DataFrame, summaries: Sequence[SettingSummary]) -> pd.DataFrame:
    """One row per (budgeted setting, policy): budget, return with interval, contacts, price, bound, gap closed.

    Parameters
    ----------
    frame
        Result rows (:data:`~journeygym.experiments.cells.RESULT_SCHEMA`), complete (seed, draw) units.
    summaries
        Their summaries (:func:`~journeygym.experiments.summary.summarize`); settings without a budget are left out.

    Returns
    -------
    pandas.DataFrame
        Empty when no setting sets a budget.  ``enforcement`` is ``"random"``
        for a policy without a priority that asked for e-mails (thinned at random).  ``budget`` is in e-mails per
        customer-week (a share of the list); ``bound`` is the top of the gap
        (the budgeted oracle's value bound, NaN when none was recorded).
    """
    budgeted = frame[has_budget(frame)]
    by_setting = {s.setting: s for s in summaries}
    records: list[dict[str, Any]] = []
    for setting, part in budgeted.groupby("setting", sort=True):
        summary = by_setting.get(int(setting))
        if summary is None:
            continue
        head = part.iloc[0]
        budget, label = _budget_of(head)
        hidden = sees_hidden_state(part)
        for row in summary.rows:
            rows = part[part["policy"] == row.policy]
            gap = row.gap_closed
            records.append(
                {
                    "setting": int(setting),
                    "group": _group_of(str(head.get("setting_overrides", ""))),
                    "budget": budget,
                    "budget_label": label,
                    "policy": row.policy,
                    "kind": row.kind,
                    "training": row.training,
                    "sees_hidden_state": bool(hidden[row.policy]),
                    "enforcement": _enforcement(rows),
                    "mean_return": row.mean_return.mean,
                    "low": row.mean_return.low,
                    "high": row.mean_return.high,
                    "contact_rate": _mean(rows, "contact_rate"),
                    "requested_rate": _mean(rows, "requested_contact_rate"),
                    "thinned_share": _mean(rows, "thinned_share"),
                    "email_price": _mean(rows, "email_price"),
                    "value_bound": _mean(rows, "value_bound"),
                    "bound": summary.bound.mean if summary.bound is not None else math.nan,
                    "gap_closed": None if gap is None else gap.mean,
                    "gap_low": None if gap is None else gap.low,
                    "gap_high": None if gap is None else gap.high,
                }
            )
    out = pd.DataFrame(records)
    return out.sort_values(["group", "budget", "setting"], kind="stable").reset_index(drop=True) if len(out) else out


def _setting_rows(frame: pd.DataFrame, setting: int) -> pd.DataFrame:
    return frame[frame["setting"] == setting]


def winner_table(frame: pd.DataFrame, points: pd.DataFrame) -> pd.DataFrame:
    """At each budget: the best policy that does not see the hidden state, the runner-up, and winner - runner-up.

    The difference is paired on common random numbers over the same seeds and
    draws (:func:`~journeygym.experiments.summary.paired_difference`);
    ``excludes_zero`` says whether its 95% interval lies above 0.
    """
    records = []
    for setting, part in points.groupby("setting", sort=False):
        contenders = part[~part["sees_hidden_state"]].sort_values("mean_return", ascending=False, kind="stable")
        if contenders.empty:
            continue
        winner = contenders.iloc[0]
        record: dict[str, Any] = {
            "setting": int(setting), "group": winner["group"], "budget": winner["budget"],
            "budget_label": winner["budget_label"], "winner": winner["policy"],
            "winner_return": winner["mean_return"], "winner_low": winner["low"], "winner_high": winner["high"],
            "winner_contact_rate": winner["contact_rate"], "winner_requested_rate": winner["requested_rate"],
            "winner_enforcement": winner["enforcement"],
            "runner_up": None, "runner_up_return": math.nan, "runner_up_low": math.nan, "runner_up_high": math.nan,
            "runner_up_contact_rate": math.nan,
            "runner_up_requested_rate": math.nan, "runner_up_enforcement": None,
            "difference": math.nan, "difference_low": math.nan, "difference_high": math.nan, "excludes_zero": False,
        }
        if len(contenders) > 1:
            second = contenders.iloc[1]
            difference = paired_difference(_setting_rows(frame, int(setting)), str(winner["policy"]), str(second["policy"]))
            record.update(
                runner_up=second["policy"], runner_up_return=second["mean_return"], runner_up_low=second["low"],
                runner_up_high=second["high"],
                runner_up_contact_rate=second["contact_rate"], runner_up_requested_rate=second["requested_rate"],
                runner_up_enforcement=second["enforcement"],
                difference=difference.mean, difference_low=difference.low, difference_high=difference.high,
                excludes_zero=bool(difference.low > 0),
            )
        records.append(record)
    return pd.DataFrame(records)


def _verdict(difference: Estimate) -> str:
    if not math.isfinite(difference.low):
        return "no interval"
    if difference.low > 0:
        return "beats"
    return "behind" if difference.high < 0 else "level (interval spans 0)"


def price_table(frame: pd.DataFrame, points: pd.DataFrame) -> pd.DataFrame:
    """Learning agents that record an e-mail price: the price, the volume they ask for, and the best seed baseline.

    ``meets_budget`` is ``|requested - budget| <= TARGET_TOLERANCE`` (e-mails per
    customer-week); ``difference`` is the agent minus the best seed baseline
    (look-alike, expected LTV, LTV uplift) at that budget, paired.
    """
    if points.empty:
        return pd.DataFrame()
    priced = points[points["email_price"].notna() & ~points["sees_hidden_state"]]
    records = []
    for _, agent in priced.iterrows():
        setting = int(agent["setting"])
        part = points[points["setting"] == setting]
        seeds = part[part["kind"].isin(SEED_BASELINES)].sort_values("mean_return", ascending=False, kind="stable")
        record: dict[str, Any] = {
            "setting": setting, "group": agent["group"], "budget": agent["budget"], "budget_label": agent["budget_label"],
            "policy": agent["policy"], "email_price": agent["email_price"], "requested_rate": agent["requested_rate"],
            "contact_rate": agent["contact_rate"],
            "meets_budget": bool(abs(agent["requested_rate"] - agent["budget"]) <= TARGET_TOLERANCE),
            "baseline": None, "difference": math.nan, "difference_low": math.nan, "difference_high": math.nan,
            "verdict": "no seed baseline",
        }
        if len(seeds):
            baseline = str(seeds.iloc[0]["policy"])
            difference = paired_difference(_setting_rows(frame, setting), str(agent["policy"]), baseline)
            record.update(
                baseline=baseline, difference=difference.mean, difference_low=difference.low,
                difference_high=difference.high, verdict=_verdict(difference),
            )
        records.append(record)
    return pd.DataFrame(records)


def budget_check(frame: pd.DataFrame) -> dict[str, Any]:
    """The most weekly budget violations of any budgeted row (must be 0) and the highest weekly contact share.

    ``by_budget`` maps each budget label to the highest weekly contact share
    over its rows.
    """
    rows = frame[has_budget(frame)]
    if rows.empty:
        return {"rows": 0, "max_violations": 0, "max_weekly_share": math.nan, "by_budget": {}}
    by_budget: dict[str, float] = {}
    for _, part in rows.groupby("setting", sort=True):
        label = _budget_of(part.iloc[0])[1]
        share = _max(part, "max_weekly_contact_share")
        by_budget[label] = max(share, by_budget.get(label, -math.inf))
    violations = _max(rows, "budget_violations")
    return {
        "rows": len(rows),
        "max_violations": int(violations) if math.isfinite(violations) else 0,
        "max_weekly_share": _max(rows, "max_weekly_contact_share"),
        "by_budget": by_budget,
    }


def bound_check(frame: pd.DataFrame) -> pd.DataFrame:
    """How far each policy's return lies below the budgeted oracle's bound, draw by draw, in standard errors.

    For every budgeted row whose (setting, seed, draw) has an oracle row with a
    ``value_bound``: ``margin = (bound - mean_return) / (std_return / sqrt(customers))``,
    the Monte Carlo standard error of the policy's mean.  The bound is an exact
    expectation on the episode's customers; one row per policy with its smallest
    margin (``below_everywhere``: the return was below the bound on every draw).
    """
    rows = frame[has_budget(frame)]
    if rows.empty or not {"value_bound", "std_return", "customers"} <= set(rows.columns):
        return pd.DataFrame()
    oracle = rows[rows["kind"].eq("oracle") & rows["value_bound"].notna()]
    keys = ["setting", "seed", "draw"]
    merged = rows.merge(oracle[keys + ["value_bound"]].rename(columns={"value_bound": "bound"}), on=keys)
    if merged.empty:
        return pd.DataFrame()
    error = merged["std_return"] / np.sqrt(merged["customers"].astype(float))
    merged["margin"] = (merged["bound"] - merged["mean_return"]) / error.where(error > 0)
    merged["below"] = merged["mean_return"] < merged["bound"]
    hidden = sees_hidden_state(merged)
    table = merged.groupby("policy", sort=False).agg(smallest_margin=("margin", "min"), below_everywhere=("below", "all"))
    table["sees_hidden_state"] = [bool(hidden[p]) for p in table.index]
    return table.reset_index().sort_values("smallest_margin", kind="stable").reset_index(drop=True)


def _bound_sentence(table: pd.DataFrame) -> str:
    if table.empty:
        return ""
    others = table[~table["sees_hidden_state"]]
    margins = ", ".join(f"{r.policy} {r.smallest_margin:.1f}" for r in table.itertuples())
    verdict = "yes" if bool(others["below_everywhere"].all()) else "NO"
    return (
        f"Bound: the budgeted oracle's value bound (exact expectation on each draw's customers) is above the return of "
        f"every policy that does not see the hidden state on every draw: {verdict}. Smallest margin over budgets and "
        f"draws, in Monte Carlo standard errors of the policy's mean: {margins} (the oracle's own row is its "
        "budget-feasible acting heuristic, whose expectation is at most the bound)."
    )


def _max(rows: pd.DataFrame, column: str) -> float:
    """Largest value of a column (NaN when the column is absent or empty)."""
    if column not in rows.columns:
        return math.nan
    values = pd.to_numeric(rows[column], errors="coerce").dropna()
    return float(values.max()) if len(values) else math.nan


# ---------------------------------------------------------------------- the figure


def gain_curve_figure(points: pd.DataFrame, path: Path) -> Path | None:
    """Mean return per customer (95% interval) against e-mails delivered per customer-week, one point per budget.

    One panel per group of settings that differ only in their budget.  Policies
    without a priority are dashed; the budgeted oracle's value bound, where
    recorded, is its own line, drawn at the budget.  The top axis marks the budgets.
    """
    if points.empty:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = list(dict.fromkeys(points["group"]))
    fig, axes = plt.subplots(1, len(groups), figsize=(9.5 * len(groups), 4.8), squeeze=False)
    for ax, group in zip(axes.ravel(), groups):
        part = points[points["group"] == group]
        for policy in dict.fromkeys(part["policy"]):
            line = part[part["policy"] == policy].sort_values("budget")
            errors = np.vstack([line["mean_return"] - line["low"], line["high"] - line["mean_return"]]).astype(float)
            errors = np.where(np.isfinite(errors), errors, 0.0)
            random = (line["enforcement"] == "random").any()
            label = f"{policy} ({RANDOM_THINNING})" if random else policy
            ax.errorbar(
                line["contact_rate"], line["mean_return"], yerr=errors, marker="o", markersize=4, capsize=2,
                linestyle="--" if random else "-", label=label, alpha=0.9,
            )
        bounds = part.drop_duplicates("setting").dropna(subset=["bound"]).sort_values("budget")
        if len(bounds):
            ax.plot(bounds["budget"], bounds["bound"], "k:", marker="*", markersize=9, label="budgeted oracle: value bound (at the budget)")
        budgets = part.drop_duplicates("setting").sort_values("budget")
        top = ax.secondary_xaxis("top")
        top.set_xticks(budgets["budget"].to_list(), [str(b) for b in budgets["budget_label"]], fontsize=7)
        top.set_xlabel("weekly budget", fontsize=8)
        for budget in budgets["budget"]:
            ax.axvline(float(budget), color="gray", linewidth=0.6, linestyle=":", alpha=0.6)
        title = "return against volume" + (f": {group}" if group else "")
        if bounds.empty:
            title += " (no value bound recorded)"
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("e-mails delivered per customer-week")
        ax.set_ylabel("mean return per customer ($, 95% CI)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# ---------------------------------------------------------------------- report content


def _interval(mean: float, low: float, high: float, digits: int = 3, signed: bool = False) -> str:
    if mean is None or not math.isfinite(float(mean)):
        return "-"
    sign = "+" if signed else ""
    if low is None or not math.isfinite(float(low)):
        return f"{mean:{sign}.{digits}f}"
    return f"{mean:{sign}.{digits}f} [{low:{sign}.{digits}f}, {high:{sign}.{digits}f}]"


def _marked(policy: Any, enforcement: Any) -> str:
    return f"{policy} ({RANDOM_THINNING})" if enforcement == "random" else str(policy)


def _rate(delivered: float, requested: float) -> str:
    return "-" if not math.isfinite(delivered) else f"{delivered:.3f} (asked {requested:.3f})"


def _budget_cell(row: pd.Series, groups: int) -> str:
    return f"{row['budget_label']}" + (f" ({row['group']})" if groups > 1 and row["group"] else "")


def _winner_rows(winners: pd.DataFrame, groups: int) -> tuple[list[str], list[list[str]]]:
    headers = [
        "budget", "winner", "return [95% CI]", "runner-up", "runner-up return [95% CI]", "winner - runner-up [95% CI]",
        "excludes 0", "winner: delivered (asked) per customer-week", "runner-up: delivered (asked)",
    ]
    rows = []
    for _, w in winners.iterrows():
        rows.append(
            [
                _budget_cell(w, groups),
                _marked(w["winner"], w["winner_enforcement"]),
                _interval(w["winner_return"], w["winner_low"], w["winner_high"]),
                "-" if w["runner_up"] is None else _marked(w["runner_up"], w["runner_up_enforcement"]),
                _interval(w["runner_up_return"], w["runner_up_low"], w["runner_up_high"]),
                _interval(w["difference"], w["difference_low"], w["difference_high"], signed=True),
                "-" if w["runner_up"] is None else ("yes" if w["excludes_zero"] else "no"),
                _rate(w["winner_contact_rate"], w["winner_requested_rate"]),
                _rate(w["runner_up_contact_rate"], w["runner_up_requested_rate"]),
            ]
        )
    return headers, rows


def _columns(points: pd.DataFrame) -> list[tuple[int, str]]:
    groups = points["group"].nunique()
    settings = points.drop_duplicates("setting")
    return [(int(r["setting"]), _budget_cell(r, groups)) for _, r in settings.iterrows()]


def _by_policy(points: pd.DataFrame, cell: Any) -> tuple[list[str], list[list[str]]]:
    """A policy x budget table whose cells ``cell(point)`` formats."""
    columns = _columns(points)
    headers = ["policy", *(f"budget {label}" for _, label in columns)]
    rows = []
    for policy in dict.fromkeys(points["policy"]):
        mine = points[points["policy"] == policy].set_index("setting")
        random = (mine["enforcement"] == "random").any()
        rows.append([_marked(policy, "random" if random else "priority")] + [cell(mine.loc[s]) if s in mine.index else "-" for s, _ in columns])
    return headers, rows


def _gap_cell(point: pd.Series) -> str:
    if point["gap_closed"] is None or not math.isfinite(float(point["gap_closed"])):
        return "-"
    low, high = point["gap_low"], point["gap_high"]
    if low is None or not math.isfinite(float(low)):
        return f"{point['gap_closed']:.0%}"
    return f"{point['gap_closed']:.0%} [{low:.0%}, {high:.0%}]"


def _top_line(points: pd.DataFrame) -> str:
    settings = points.drop_duplicates("setting")
    with_bound = settings[settings["bound"].notna()]
    without = settings[settings["bound"].isna()]
    parts = []
    if len(with_bound):
        values = ", ".join(f"{r['budget_label']}: {r['bound']:.3f}" for _, r in with_bound.iterrows())
        parts.append(f"The top of the gap is the budgeted oracle's value bound ({values}).")
    if len(without):
        labels = ", ".join(str(r["budget_label"]) for _, r in without.iterrows())
        parts.append(
            f"No value bound was recorded at budget(s) {labels}: there the top is the oracle's mean return (as the budget let "
            "it e-mail), which is not an upper bound, so a share may exceed 100%."
        )
    return " ".join(parts)


def _price_rows(prices: pd.DataFrame, groups: int) -> tuple[list[str], list[list[str]]]:
    headers = [
        "policy", "budget", "e-mail price (lambda)", "asked per customer-week", "delivered",
        f"meets the budget (within {TARGET_TOLERANCE:g})", "best seed baseline", "agent - baseline [95% CI]", "verdict",
    ]
    rows = []
    for _, p in prices.iterrows():
        rows.append(
            [
                str(p["policy"]), _budget_cell(p, groups), f"{p['email_price']:.4g}", f"{p['requested_rate']:.3f}",
                f"{p['contact_rate']:.3f}", "yes" if p["meets_budget"] else "no", p["baseline"] or "-",
                _interval(p["difference"], p["difference_low"], p["difference_high"], signed=True), str(p["verdict"]),
            ]
        )
    return headers, rows


def _check_sentence(check: dict[str, Any]) -> str:
    by_budget = "; ".join(f"budget {label}: {share:.3f}" for label, share in check["by_budget"].items())
    status = "OK" if check["max_violations"] == 0 else "VIOLATED"
    return (
        f"Check ({status}): the most weeks over budget in any of the {check['rows']} budgeted rows is "
        f"{check['max_violations']} (must be 0); the highest weekly contact share (e-mails over subscribed "
        f"customers) is {check['max_weekly_share']:.3f} ({by_budget})."
    )


_INTRO = (
    "Each budget is a scenario setting: at most that share of the subscribed customers (or that many per 1,000 "
    "customers) is e-mailed each week. "
    "When a policy asks for more, the customers with its highest priority are kept; a policy without a priority "
    f"has its requests thinned at random (marked '{RANDOM_THINNING}'). Volume is what was delivered per "
    "customer-week; 'asked' is what the policy requested. Returns are per customer over the horizon with 95% "
    "intervals; differences are paired on common random numbers (the same customers and weekly noise for a "
    "given seed and draw). The winner is the best policy that does not see the hidden state."
)


def budget_blocks(frame: pd.DataFrame, summaries: Sequence[SettingSummary], report_dir: Path) -> list[Block]:
    """The report blocks of the contact budgets (none when no setting sets a budget); writes ``budgets.png``."""
    points = budget_frame(frame, summaries)
    if points.empty:
        return []
    groups = points["group"].nunique()
    blocks: list[Block] = [("h2", "Value against volume: contact budgets"), ("p", _INTRO)]
    path = gain_curve_figure(points, Path(report_dir) / "budgets.png")
    if path is not None:
        blocks.append(("img", "budgets.png", "Mean return per customer against e-mails delivered per customer-week, one "
                       "point per budget (top axis); dashed: no priority, thinned at random; dotted stars: the budgeted "
                       "oracle's value bound."))
    winners = winner_table(frame, points)
    if len(winners):
        blocks.append(("h3", "Winner at each budget"))
        blocks.append(("table", *_winner_rows(winners, groups)))
    blocks.append(("h3", "Volume: e-mails delivered (asked) per customer-week"))
    blocks.append(("table", *_by_policy(points, lambda p: _rate(p["contact_rate"], p["requested_rate"]))))
    prices = price_table(frame, points)
    if len(prices):
        blocks.append(("h3", "Learning agents: the price of an e-mail"))
        blocks.append(
            ("p", "Agents that meet the budget through a shadow price per e-mail (a Lagrange multiplier): the price "
             f"learned, the e-mails they ask for against the budget (met when within {TARGET_TOLERANCE:g} per "
             "customer-week), and their paired difference against the best seed baseline at that budget.")
        )
        blocks.append(("table", *_price_rows(prices, groups)))
    elif (points["training"] == "simulator").any():
        blocks.append(("p", "No agent trained in the simulator recorded a price per e-mail (email_price), so there is "
                       "no table of prices; their requests are cut to the budget by its enforcement."))
    if points["kind"].eq("never").any() and points["kind"].eq("oracle").any():
        blocks.append(("h3", "Share of the gap from never to the top closed"))
        blocks.append(("p", _top_line(points)))
        blocks.append(("table", *_by_policy(points, _gap_cell)))
    blocks.append(("p", _check_sentence(budget_check(frame))))
    bound = _bound_sentence(bound_check(frame))
    if bound:
        blocks.append(("p", bound))
    return blocks


def budget_text(frame: pd.DataFrame, summaries: Sequence[SettingSummary]) -> str:
    """The winner table and the check line as plain text ("" when no setting sets a budget)."""
    points = budget_frame(frame, summaries)
    if points.empty:
        return ""
    groups = points["group"].nunique()
    lines = ["Value against volume: contact budgets"]
    winners = winner_table(frame, points)
    if len(winners):
        headers, rows = _winner_rows(winners, groups)
        lines.append(pd.DataFrame(rows, columns=headers).to_string(index=False))
    prices = price_table(frame, points)
    if len(prices):
        headers, rows = _price_rows(prices, groups)
        lines += ["", pd.DataFrame(rows, columns=headers).to_string(index=False)]
    if points["bound"].isna().any() and points["kind"].eq("oracle").any():
        lines += ["", _top_line(points)]
    lines += ["", _check_sentence(budget_check(frame))]
    bound = _bound_sentence(bound_check(frame))
    if bound:
        lines += ["", bound]
    return "\n".join(lines)
