"""How often each policy e-mails the same customer: the gaps between its e-mails, and what a cadence alone earns.

A policy's edge can rest on timing rather than targeting: a fatigue that lets
every second week meet a rested customer made biweekly e-mail to everyone
earn five times weekly.  Every rollout therefore counts the weeks between
consecutive e-mails to the same customer in the bins of
:data:`~journeygym.baselines.rollout.GAP_BIN_STARTS`
(:func:`~journeygym.baselines.rollout.count_gaps`), and reports show each
policy's distribution next to the oracle's (:func:`cadence_rows`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from journeygym.baselines.rollout import GAP_BIN_LABELS

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["cadence_rows"]


def cadence_rows(frame: "pd.DataFrame", order: Sequence[str]) -> tuple[list[str], list[list[str]]]:
    """Per policy (rows of ``frame``, one setting): e-mails per customer-week and the share of gaps in each bin.

    The shares pool every seed and draw; a policy that e-mails nobody twice has no gaps (shown as "-").
    """
    headers = ["policy", "e-mails per customer-week", "customers e-mailed twice or more", *GAP_BIN_LABELS, "median gap"]
    rows = []
    for policy in order:
        part = frame[frame["policy"] == policy]
        if part.empty or "email_gaps" not in part:
            continue
        counts = np.sum([np.asarray(g, dtype=np.int64) for g in part["email_gaps"] if g is not None], axis=0)
        total = int(np.sum(counts)) if np.ndim(counts) else 0
        repeat = part["repeat_contact_share"].mean() if "repeat_contact_share" in part else float("nan")
        if total:
            shares = [f"{c / total:.0%}" for c in counts]
            median = GAP_BIN_LABELS[int(np.searchsorted(np.cumsum(counts), total / 2))]
        else:
            shares, median = ["-"] * len(GAP_BIN_LABELS), "-"
        rows.append([policy, f"{part['contact_rate'].mean():.3f}", f"{repeat:.0%}", *shares, median])
    return headers, rows
