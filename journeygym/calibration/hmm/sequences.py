"""Weekly purchase sequences prepared for the HMM: validated, merged and indexed.

Sequences are padded with -1 at the end, and identical sequences are merged
with a weight. :class:`SequenceBatch` lays them out for the week-by-week
inference, :class:`AnchorEvents` for EM over the weeks with a purchase.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from journeygym.errors import DataValidationError
from journeygym.calibration.weekly import WeeklySequences

__all__ = ["AnchorEvents", "SequenceBatch", "Sequences", "anchor_events", "padded_array", "prepare_batch"]

#: Sequences as the HMM accepts them: WeeklySequences, or an (n, T) integer array padded with -1.
Sequences = WeeklySequences | np.ndarray


def padded_array(seqs: Sequences) -> np.ndarray:
    """Validate and return the (n, T) integer array with -1 padding."""
    obs = seqs.obs if isinstance(seqs, WeeklySequences) else np.asarray(seqs)
    if obs.ndim == 1:
        obs = obs[None, :]
    if obs.ndim != 2:
        raise DataValidationError(
            f"Expected sequences as a 2-D integer array (n_customers, T) padded "
            f"with -1, or WeeklySequences; received an array of shape {obs.shape}."
        )
    if obs.size and not np.issubdtype(obs.dtype, np.integer):
        if not (np.issubdtype(obs.dtype, np.floating) and np.all(obs == np.round(obs))):
            raise DataValidationError(
                f"Sequences must hold integer symbols (-1 for padding); received "
                f"dtype {obs.dtype}."
            )
    obs = obs.astype(np.int64, copy=False)
    if obs.size and obs.min() < -1:
        raise DataValidationError(
            f"Symbols must be >= 0, with -1 only as padding; received a minimum "
            f"of {obs.min()}."
        )
    valid = obs >= 0
    gap = ~valid[:, :-1] & valid[:, 1:]
    if gap.any():
        bad = np.flatnonzero(gap.any(axis=1))[:5]
        raise DataValidationError(
            f"Padding (-1) must come after the observed weeks of a sequence; "
            f"rows {bad.tolist()} have observations after padding. Move "
            "padding to the end of each row."
        )
    return obs


@dataclass(frozen=True, eq=False)
class SequenceBatch:
    """Unique sequences, time-major, sorted by length (longest first).

    ``n_active[t]`` sequences are still observed at week t, and they are the
    first ``n_active[t]`` ones. Most weeks hold no purchase, so the weeks
    with a purchase are listed apart: at week t, the sequences
    ``purchase_rows[t]`` observed the symbols ``purchase_symbols[t]`` (>= 1)
    and all other active sequences observed 0. ``row[i]`` is the unique
    sequence of input row i; ``weight[u]`` is how many input rows equal
    sequence u.
    """

    n_active: np.ndarray  # (T,) intp
    purchase_rows: tuple[np.ndarray, ...]  # T arrays of intp
    purchase_symbols: tuple[np.ndarray, ...]  # T arrays of intp
    weight: np.ndarray  # (U,) float64
    row: np.ndarray  # (n,) intp
    lengths: np.ndarray  # (U,) intp

    @property
    def n_unique(self) -> int:
        return len(self.weight)

    @property
    def n_weeks(self) -> int:
        return len(self.n_active)


def prepare_batch(seqs: Sequences, n_symbols: int | None = None) -> SequenceBatch:
    """Merge identical sequences and sort them by length, longest first."""
    obs = padded_array(seqs)
    if n_symbols is not None and obs.size and obs.max() >= n_symbols:
        raise DataValidationError(
            f"The model has {n_symbols} symbols (0..{n_symbols - 1}); received "
            f"symbol {obs.max()}. Code the sequences the same way as the "
            "training data (e.g. reuse its median_amount)."
        )
    n, n_weeks = obs.shape
    if n == 0 or not (obs >= 0).any():
        raise DataValidationError(
            f"Expected at least one observed week; received {n} sequence(s) "
            f"of {n_weeks} week(s) holding only padding."
        )
    unique, inverse, counts = np.unique(obs, axis=0, return_inverse=True, return_counts=True)
    lengths = (unique >= 0).sum(axis=1)
    order = np.argsort(-lengths, kind="stable")
    position = np.empty_like(order)
    position[order] = np.arange(len(order))
    unique, lengths = unique[order], lengths[order]
    n_active = (lengths[None, :] > np.arange(n_weeks)[:, None]).sum(axis=1)
    t_idx, u_idx = np.nonzero(unique.T > 0)  # sorted by week, then sequence
    bounds = np.searchsorted(t_idx, np.arange(n_weeks + 1))
    symbols = unique[u_idx, t_idx].astype(np.intp)
    return SequenceBatch(
        n_active=n_active.astype(np.intp),
        purchase_rows=tuple(np.split(u_idx.astype(np.intp), bounds[1:-1])),
        purchase_symbols=tuple(np.split(symbols, bounds[1:-1])),
        weight=counts[order].astype(np.float64),
        row=position[inverse.reshape(-1)].astype(np.intp),
        lengths=lengths.astype(np.intp),
    )


@dataclass(frozen=True, eq=False)
class AnchorEvents:
    """Sequences seen as anchors: each sequence's first week plus its weeks
    with a purchase; the weeks in between hold no purchase.

    Anchors are stored step-major: step j holds anchor j of the
    ``n_active[j]`` sequences that have more than j anchors (sequences sorted
    by their number of anchors, so these are a prefix), at flat positions
    ``offsets[j] .. offsets[j] + n_active[j]``. Every anchor after the first
    ends a *segment*; segment i (flat position ``n_active[0] + i``) starts
    after ``run[i]`` weeks without purchase that follow the previous anchor.
    After its last anchor (flat position ``last[v]``), sequence v has
    ``tail[v]`` more weeks without purchase.
    """

    n_active: np.ndarray  # (n_steps,)
    offsets: np.ndarray  # (n_steps + 1,)
    symbol: np.ndarray  # (n_anchors,) observed symbol at each anchor
    weight: np.ndarray  # (n_anchors,) weight of the anchor's sequence
    run: np.ndarray  # (n_segments,)
    run_groups: tuple[tuple[int, int, int], ...]  # (run, start, stop) of run-sorted segments
    prev_sorted: np.ndarray  # flat position of each segment's start, run-sorted
    seg_sorted: np.ndarray  # flat position of each segment's end, run-sorted
    last: np.ndarray  # (n_sequences,)
    tail: np.ndarray  # (n_sequences,)
    seq_weight: np.ndarray  # (n_sequences,)
    zero_weeks: float  # weighted number of weeks outside anchors
    max_gap: int  # longest run or tail
    max_symbol: int  # largest symbol observed

    @property
    def n_anchors(self) -> int:
        return len(self.symbol)


def anchor_events(seqs: Sequences) -> AnchorEvents:
    """Merge identical sequences and index their anchors (see AnchorEvents)."""
    obs = padded_array(seqs)
    unique, counts = np.unique(obs, axis=0, return_counts=True)
    lengths = (unique >= 0).sum(axis=1)
    if not lengths.any():
        raise DataValidationError(
            f"Expected at least one observed week; received {obs.shape[0]} "
            f"sequence(s) of {obs.shape[1]} week(s) holding only padding."
        )
    keep = lengths > 0  # an empty sequence carries no information
    unique, weight, lengths = unique[keep], counts[keep].astype(np.float64), lengths[keep]
    anchor = unique > 0
    anchor[:, 0] = True
    n_anchor = anchor.sum(axis=1)
    order = np.argsort(-n_anchor, kind="stable")
    unique, weight, lengths = unique[order], weight[order], lengths[order]
    anchor, n_anchor = anchor[order], n_anchor[order]

    n_active = (n_anchor[None, :] > np.arange(n_anchor[0])[:, None]).sum(axis=1)
    offsets = np.concatenate([[0], np.cumsum(n_active)])
    seq, week = np.nonzero(anchor)  # by sequence, then week
    step = np.arange(len(seq)) - np.repeat(np.cumsum(n_anchor) - n_anchor, n_anchor)
    flat = offsets[step] + seq
    symbol, week_at, seq_at = (np.empty(offsets[-1], dtype=np.intp) for _ in range(3))
    symbol[flat], week_at[flat], seq_at[flat] = unique[seq, week], week, seq

    n0 = n_active[0]
    seg = np.arange(n0, offsets[-1])
    prev = seg - n_active[np.searchsorted(offsets, seg, side="right") - 2]
    run = week_at[seg] - week_at[prev] - 1
    run_order = np.argsort(run, kind="stable")
    values, starts = np.unique(run[run_order], return_index=True)
    stops = np.append(starts[1:], len(run))
    last = offsets[n_anchor - 1] + np.arange(len(n_anchor))
    tail = lengths - 1 - week_at[last]
    return AnchorEvents(
        n_active=n_active.astype(np.intp),
        offsets=offsets.astype(np.intp),
        symbol=symbol,
        weight=weight[seq_at],
        run=run.astype(np.intp),
        run_groups=tuple(zip(values.tolist(), starts.tolist(), stops.tolist())),
        prev_sorted=prev[run_order],
        seg_sorted=seg[run_order],
        last=last.astype(np.intp),
        tail=tail.astype(np.intp),
        seq_weight=weight,
        zero_weeks=float(weight @ (lengths - n_anchor)),
        max_gap=int(max(run.max(initial=0), tail.max(initial=0))),
        max_symbol=int(unique.max()),
    )
