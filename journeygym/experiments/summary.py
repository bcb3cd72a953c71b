"""Summaries of a results table: returns with intervals, paired differences, share of the oracle gap.

The unit of replication is a (seed, posterior draw) pair: every policy is
evaluated on the same customers for a given seed and draw (common random
numbers), so differences between policies are paired within each unit.

Intervals (95%) of a mean over the S x D table of per-unit means:

* S > 1 and D > 1 -- seeds and draws are crossed random factors (training
  and customers vary with the seed, the world with the draw).  The variance of
  the grand mean is estimated from the two-way ANOVA mean squares,
  ``(MS_seed + MS_draw - MS_residual) / (S D)`` (never below the larger of the
  one-factor terms), with Satterthwaite's degrees of freedom;
* one of S, D is 1 -- Student t over the other;
* S = D = 1 -- Student t over the 32 blocks of customers stored with every row
  (paired block differences for differences).

Under a contact budget the top of the "gap closed" shares is the budgeted
oracle's value bound (its ``value_bound`` column, the best any policy can do
within the budget) rather than the oracle's return; without a recorded bound
the oracle's return stays the top and the setting's notes say so.

"Reference" is the best seed baseline (look-alike, expected LTV, LTV uplift)
present in the setting, else the best policy that neither sees the hidden
state (oracle, myopic oracle) nor trains in the simulator; "best" is the
highest mean return.  The "winner" is the best policy that does not see the
hidden state.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from journeygym.intervals import Estimate, t_interval

__all__ = [
    "SEED_BASELINES",
    "PolicyRow",
    "SettingSummary",
    "contact_profile",
    "format_summary",
    "grand_mean_interval",
    "has_budget",
    "paired_difference",
    "sees_hidden_state",
    "summarize",
    "summary_frame",
]

#: Registry kinds of the seed baselines (docs/architecture.md, "The seed baselines and logged campaigns").
SEED_BASELINES: tuple[str, ...] = ("lookalike", "expected_ltv", "ltv_uplift")
_LEVEL = 0.95


@dataclass(frozen=True)
class PolicyRow:
    """One policy's summary in one scenario setting."""

    policy: str
    kind: str
    training: str
    mean_return: Estimate
    difference: Estimate | None
    share_of_draws_better: float | None
    gap_closed: Estimate | None
    gap_closed_from_reference: Estimate | None
    contact_rate: float
    unsubscribe_rate: float
    purchases_per_customer: float


@dataclass(frozen=True)
class SettingSummary:
    """Every policy's summary in one scenario setting.

    ``bound`` is the budgeted oracle's value bound when the setting sets a contact
    budget and the oracle records one: the top of the "gap closed" shares.
    """

    setting: int
    label: str
    overrides: str
    carryover: float
    kappa: float
    unsubscribe_probability: float
    u1: float
    reference: str | None
    rows: list[PolicyRow]
    winner: str
    oracle: str | None
    never: str | None
    n_seeds: int
    n_draws: int
    interval_basis: str
    notes: list[str] = field(default_factory=list)
    bound: Estimate | None = None

    def row(self, policy: str) -> PolicyRow:
        """The row of ``policy``."""
        for row in self.rows:
            if row.policy == policy:
                return row
        raise KeyError(f"no policy {policy!r} in setting {self.label!r}; policies: {[r.policy for r in self.rows]}.")


def grand_mean_interval(table: np.ndarray, blocks: np.ndarray | None = None) -> Estimate:
    """Mean of an S x D table of per-unit means with a 95% interval (see the module docstring).

    Parameters
    ----------
    table
        ``(S, D)`` per-(seed, draw) values.
    blocks
        ``(B,)`` block means of customers, used only when S = D = 1.
    """
    table = np.asarray(table, dtype=np.float64)
    n_seeds, n_draws = table.shape
    mean = float(table.mean())
    if n_seeds == 1 and n_draws == 1:
        return t_interval(mean, np.asarray(blocks if blocks is not None else [], dtype=np.float64), _LEVEL)
    if n_seeds == 1 or n_draws == 1:
        return t_interval(mean, table.ravel(), _LEVEL)
    row_means, column_means = table.mean(axis=1), table.mean(axis=0)
    ms_seed = n_draws * row_means.var(ddof=1)
    ms_draw = n_seeds * column_means.var(ddof=1)
    residual = table - row_means[:, None] - column_means[None, :] + mean
    df_residual = (n_seeds - 1) * (n_draws - 1)
    ms_residual = float((residual**2).sum() / df_residual)
    combined = ms_seed + ms_draw - ms_residual
    if combined >= max(ms_seed, ms_draw):
        numerator = combined
        denominator = ms_seed**2 / (n_seeds - 1) + ms_draw**2 / (n_draws - 1) + ms_residual**2 / df_residual
    elif ms_seed >= ms_draw:
        numerator, denominator = ms_seed, ms_seed**2 / (n_seeds - 1)
    else:
        numerator, denominator = ms_draw, ms_draw**2 / (n_draws - 1)
    if numerator <= 0:
        return Estimate(mean, mean, mean)
    df = min(max(numerator**2 / denominator, 1.0), n_seeds * n_draws - 1.0)
    half = stats.t.ppf(0.5 + _LEVEL / 2, df=df) * math.sqrt(numerator / (n_seeds * n_draws))
    return Estimate(mean, mean - half, mean + half)


class _Units:
    """Per-(seed, draw) values of every policy of one setting, aligned."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.seeds = sorted(frame["seed"].unique().tolist())
        self.draws = sorted(frame["draw"].unique().tolist())
        self.frame = frame
        self._index = {(s, d): (i, j) for i, s in enumerate(self.seeds) for j, d in enumerate(self.draws)}

    def table(self, policy: str, column: str = "mean_return") -> np.ndarray:
        rows = self.frame[self.frame["policy"] == policy]
        out = np.full((len(self.seeds), len(self.draws)), np.nan)
        for seed, draw, value in zip(rows["seed"], rows["draw"], rows[column]):
            out[self._index[(seed, draw)]] = value
        if np.isnan(out).any():
            raise ValueError(
                f"summary: policy {policy!r} lacks results for some (seed, draw) pairs; finish the run with --resume."
            )
        return out

    def blocks(self, policy: str) -> np.ndarray | None:
        if len(self.seeds) != 1 or len(self.draws) != 1:
            return None
        values = self.frame.loc[self.frame["policy"] == policy, "block_returns"].iloc[0]
        return np.asarray(list(values), dtype=np.float64)

    def complete(self, policy: str, column: str) -> bool:
        """Whether ``column`` holds a value in every (seed, draw) row of ``policy``."""
        if column not in self.frame.columns:
            return False
        return bool(self.frame.loc[self.frame["policy"] == policy, column].notna().all())

    @property
    def basis(self) -> str:
        s, d = len(self.seeds), len(self.draws)
        if s == 1 and d == 1:
            return "customers (one seed, one draw: t over 32 blocks of customers)"
        if s == 1:
            return f"posterior draws (t over {d} draws, one seed)"
        if d == 1:
            return f"seeds (t over {s} seeds, one posterior draw)"
        return f"seeds and posterior draws ({s} x {d}, two-way random effects)"


def _difference(units: _Units, policy: str, reference: str) -> tuple[Estimate, float]:
    diff = units.table(policy) - units.table(reference)
    blocks = units.blocks(policy)
    block_diff = None if blocks is None else blocks - units.blocks(reference)
    estimate = grand_mean_interval(diff, block_diff)
    better = float(np.mean(diff.mean(axis=0) > 0))
    return estimate, better


def paired_difference(frame: pd.DataFrame, policy: str, reference: str) -> Estimate:
    """``policy`` minus ``reference`` in one setting's rows, paired on common random numbers.

    The interval is the summary's (see the module docstring): over the (seed,
    draw) units, or over paired customer blocks with one seed and one draw.
    """
    if frame["setting"].nunique() != 1:
        raise ValueError(
            f"paired_difference: received rows of settings {sorted(frame['setting'].unique().tolist())}, expected "
            "the rows of one setting; select them first (frame[frame['setting'] == s])."
        )
    return _difference(_Units(frame), policy, reference)[0]


def has_budget(frame: pd.DataFrame) -> pd.Series:
    """Per row: whether its setting sets a weekly contact budget (False for results without the column)."""
    budgeted = pd.Series(False, index=frame.index)
    for column in ("contact_budget", "contact_budget_per_1000"):
        if column in frame.columns:
            budgeted |= frame[column].notna()
    return budgeted


def _gap_share(units: _Units, policy: str, low: str, high: str, bound: np.ndarray | None = None) -> Estimate | None:
    """Share of the gap from ``low`` to ``high`` that ``policy`` closes, with a delta-method interval.

    ``bound`` (an S x D table), when given, is the top of the gap instead of
    ``high``'s return: an exact value, the same for every block of customers.
    """
    p, lo = units.table(policy), units.table(low)
    hi = units.table(high) if bound is None else bound
    gap = float((hi - lo).mean())
    if not gap > 0:
        return None
    share = float((p - lo).mean()) / gap
    linear = (p - lo) - share * (hi - lo)
    blocks = units.blocks(policy)
    linear_blocks = None
    if blocks is not None:
        b_lo = units.blocks(low)
        b_hi = units.blocks(high) if bound is None else np.full_like(blocks, float(bound.ravel()[0]))
        linear_blocks = (blocks - b_lo) - share * (b_hi - b_lo)
    spread = grand_mean_interval(linear, linear_blocks)
    half = (spread.high - spread.low) / 2 / gap
    return Estimate(share, share - half, share + half)


def sees_hidden_state(frame: pd.DataFrame) -> pd.Series:
    """Per policy: whether it acts on the hidden state (the oracles), so it is a reference, not a contender."""
    if "uses_hidden_state" in frame.columns:
        return frame.groupby("policy")["uses_hidden_state"].first().astype(bool)
    return frame.groupby("policy")["kind"].first() == "oracle"


def _choose_reference(frame: pd.DataFrame, means: dict[str, float]) -> str | None:
    kinds = frame.groupby("policy")["kind"].first()
    training = frame.groupby("policy")["training"].first()
    hidden = sees_hidden_state(frame)
    seed_baselines = [p for p in means if kinds[p] in SEED_BASELINES]
    candidates = seed_baselines or [p for p in means if not hidden[p] and training[p] != "simulator"]
    return max(candidates, key=lambda p: means[p]) if candidates else None


def summarize(
    frame: pd.DataFrame, policy_order: Sequence[str] | None = None, reference: str | None = None
) -> list[SettingSummary]:
    """Summaries of every scenario setting of a results table (rows of :class:`ResultStore`).

    ``reference`` is the policy the paired differences are taken against; by
    default the best seed baseline (else the best policy that neither sees the
    hidden state nor trains in the simulator).
    """
    if frame.empty:
        raise ValueError("summarize: the results table is empty; run the experiment first.")
    if reference is not None and reference not in set(frame["policy"]):
        raise ValueError(
            f"summarize: reference {reference!r} is not in the results; policies: {sorted(set(frame['policy']))}."
        )
    out = []
    order = list(policy_order) if policy_order is not None else list(dict.fromkeys(frame["policy"]))
    for setting, part in frame.groupby("setting", sort=True):
        units = _Units(part)
        policies = [p for p in order if p in set(part["policy"])]
        means = {p: float(units.table(p).mean()) for p in policies}
        kinds = part.groupby("policy")["kind"].first()
        training = part.groupby("policy")["training"].first()
        oracle = next((p for p in policies if kinds[p] == "oracle"), None)
        never = next((p for p in policies if kinds[p] == "never"), None)
        chosen = reference if reference is not None else _choose_reference(part, means)
        notes = []
        bound = None
        if oracle is not None and bool(has_budget(part).any()):
            if units.complete(oracle, "value_bound"):
                bound = units.table(oracle, "value_bound")
                notes.append(
                    f"contact budget: gaps closed are measured to the budgeted oracle's value bound "
                    f"({float(bound.mean()):.3f}), not to the oracle's return."
                )
            else:
                notes.append(
                    f"contact budget: {oracle!r} records no value bound, so gaps closed are measured to its return "
                    "(as the budget let it e-mail), not to the budgeted bound."
                )
        rows = []
        for policy in policies:
            difference, better = (None, None)
            if chosen is not None and policy != chosen:
                difference, better = _difference(units, policy, chosen)
            first = part[part["policy"] == policy]
            rows.append(
                PolicyRow(
                    policy=policy,
                    kind=str(kinds[policy]),
                    training=str(training[policy]),
                    mean_return=grand_mean_interval(units.table(policy), units.blocks(policy)),
                    difference=difference,
                    share_of_draws_better=better,
                    gap_closed=_gap_share(units, policy, never, oracle, bound) if never and oracle else None,
                    gap_closed_from_reference=(
                        _gap_share(units, policy, chosen, oracle, bound)
                        if chosen and oracle and policy not in (chosen, oracle)
                        else None
                    ),
                    contact_rate=float(first["contact_rate"].mean()),
                    unsubscribe_rate=float(first["unsubscribe_rate"].mean()),
                    purchases_per_customer=float(first["purchases_per_customer"].mean()),
                )
            )
        hidden = sees_hidden_state(part)
        contenders = [p for p in policies if not hidden[p]] or policies
        if len(units.draws) == 1:
            notes.append("one posterior draw: 'draws better' is 0% or 100%, and intervals omit parameter uncertainty.")
        head = part.iloc[0]
        out.append(
            SettingSummary(
                setting=int(setting),
                label=str(head["setting_label"]),
                overrides=str(head["setting_overrides"]),
                carryover=float(head["carryover"]) if "carryover" in head else float("nan"),
                kappa=float(head["kappa"]),
                unsubscribe_probability=float(head["unsubscribe_probability"]),
                u1=float(head["u1"]),
                reference=chosen,
                rows=rows,
                winner=max(contenders, key=lambda p: means[p]),
                oracle=oracle,
                never=never,
                n_seeds=len(units.seeds),
                n_draws=len(units.draws),
                interval_basis=units.basis,
                notes=notes,
                bound=None if bound is None else grand_mean_interval(bound),
            )
        )
    return out


def contact_profile(frame: pd.DataFrame, by: str) -> pd.DataFrame:
    """Share of subscribed customer-weeks e-mailed, per policy and history segment (``by="segment"``) or hidden state (``"state"``).

    Pooled over seeds and draws (counts are summed, then divided).
    """
    if by not in ("segment", "state"):
        raise ValueError(f"contact_profile: received by={by!r}, expected 'segment' or 'state'.")
    records: dict[tuple[int, str], np.ndarray] = {}
    weeks: dict[tuple[int, str], np.ndarray] = {}
    for row in frame.itertuples(index=False):
        key = (int(row.setting), str(row.policy))
        c = np.asarray(list(getattr(row, f"contacts_by_{by}")), dtype=np.float64)
        w = np.asarray(list(getattr(row, f"weeks_by_{by}")), dtype=np.float64)
        records[key] = records.get(key, 0) + c
        weeks[key] = weeks.get(key, 0) + w
    if by == "state":
        labels = list(frame["state_names"].iloc[0])
    elif "segment_names" in frame.columns:
        labels = list(frame["segment_names"].iloc[0])
    else:  # results written before the segment names were recorded
        labels = [f"segment {g}" for g in range(len(frame["contacts_by_segment"].iloc[0]))]
    rows = []
    for (setting, policy), contacts in records.items():
        rates = np.divide(contacts, weeks[(setting, policy)], out=np.full_like(contacts, np.nan), where=weeks[(setting, policy)] > 0)
        rows.append({"setting": setting, "policy": policy, **dict(zip(labels, rates))})
    return pd.DataFrame(rows)


def _fmt(estimate: Estimate | None, digits: int = 3, percent: bool = False) -> str:
    if estimate is None:
        return "-"
    if percent:
        return f"{estimate.mean:.0%} [{estimate.low:.0%}, {estimate.high:.0%}]" if math.isfinite(estimate.low) else f"{estimate.mean:.0%}"
    if not math.isfinite(estimate.low):
        return f"{estimate.mean:.{digits}f}"
    return f"{estimate.mean:.{digits}f} [{estimate.low:.{digits}f}, {estimate.high:.{digits}f}]"


def table_rows(summary: SettingSummary) -> list[dict[str, str]]:
    """Formatted cells of a setting's table (shared by the text, Markdown and HTML outputs)."""
    reference = summary.reference or "-"
    out = []
    for row in summary.rows:
        out.append(
            {
                "policy": row.policy + (" (reference)" if row.policy == summary.reference else ""),
                "return per customer [95% CI]": _fmt(row.mean_return),
                f"vs {reference} [95% CI]": _fmt(row.difference),
                "P(beats ref) over draws": "-" if row.share_of_draws_better is None else f"{row.share_of_draws_better:.0%}",
                "never->oracle gap closed": _fmt(row.gap_closed, percent=True),
                "ref->oracle gap closed": _fmt(row.gap_closed_from_reference, percent=True),
                "contacts/week": f"{row.contact_rate:.3f}",
                "unsubscribed": f"{row.unsubscribe_rate:.2%}",
            }
        )
    return out


def format_summary(summaries: Sequence[SettingSummary]) -> str:
    """Plain-text tables, one per setting."""
    blocks = []
    for summary in summaries:
        rows = table_rows(summary)
        headers = list(rows[0])
        widths = [max(len(h), *(len(r[h]) for r in rows)) for h in headers]
        lines = [
            f"setting {summary.setting}: {summary.label}   reference: {summary.reference or '-'}   winner: {summary.winner}",
            "  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(headers, widths))),
        ]
        lines.append("-" * len(lines[-1]))
        for r in rows:
            lines.append("  ".join(r[h].ljust(w) if i == 0 else r[h].rjust(w) for i, (h, w) in enumerate(zip(headers, widths))))
        lines.append(f"intervals over {summary.interval_basis}")
        lines.extend(f"note: {n}" for n in summary.notes)
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def summary_frame(summaries: Sequence[SettingSummary]) -> pd.DataFrame:
    """One flat row per (setting, policy), for CSV export."""
    records: list[dict[str, Any]] = []
    for s in summaries:
        for r in s.rows:
            record: dict[str, Any] = {
                "setting": s.setting, "setting_label": s.label, "carryover": s.carryover, "kappa": s.kappa,
                "unsubscribe_probability": s.unsubscribe_probability, "u1": s.u1,
                "policy": r.policy, "kind": r.kind, "training": r.training, "reference": s.reference,
                "winner": s.winner == r.policy,
            }
            for name in ("mean_return", "difference", "gap_closed", "gap_closed_from_reference"):
                value: Estimate | None = getattr(r, name)
                record[name] = None if value is None else value.mean
                record[f"{name}_low"] = None if value is None else value.low
                record[f"{name}_high"] = None if value is None else value.high
            record.update(
                share_of_draws_better=r.share_of_draws_better, contact_rate=r.contact_rate,
                unsubscribe_rate=r.unsubscribe_rate, purchases_per_customer=r.purchases_per_customer,
                n_seeds=s.n_seeds, n_draws=s.n_draws, gap_top=None if s.bound is None else s.bound.mean,
            )
            records.append(record)
    return pd.DataFrame(records)
