"""Categorical hidden Markov model of weekly purchases, fitted by EM.

The hidden state is a customer's engagement; each week emits one symbol
(0 = no purchase, 1..M-1 = purchase classes). Sequences are padded with -1 at
the end, and identical sequences are merged with a weight.

Two vectorized recursions do the work, both looping over steps along the
sequences (weeks, or purchases), never over customers:

* Inference (:meth:`PurchaseHMM.filter`, :meth:`~PurchaseHMM.score`,
  :meth:`~PurchaseHMM.predict`) steps week by week over arrays of shape
  (K, n_sequences); rows are sorted by length so that the sequences still
  observed at week t are a prefix of the arrays.
* EM steps from purchase to purchase. Most weeks have no purchase, and a run
  of r such weeks acts on the state distribution through the same matrix
  power P^r, with P = A diag(P(no purchase | state)). The forward-backward
  pass therefore visits only the weeks with a purchase (and each sequence's
  first week), and the expected counts inside the runs come from sums of
  matrix powers, grouped by run length. These are exactly the counts of the
  week-by-week pass; on CDNOW (1.66 million customer-weeks, 0.6 million after
  merging identical sequences) the pass visits about 45,000 anchors.

Both passes scale their messages at every step (Rabiner 1989), and the matrix
powers are divided by the spectral radius of P, so nothing underflows for
sequences of any length. Viterbi works in log space.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from threadpoolctl import threadpool_limits
from sklearn.utils.validation import check_is_fitted

from journeygym.errors import DataValidationError
from journeygym.calibration.weekly import WeeklySequences

__all__ = [
    "STATE_NAMES",
    "PurchaseHMM",
    "initial_state_given_recency",
    "select_n_states",
]

STATE_NAMES = ("Dormant", "Exploring", "Engaged", "HighlyEngaged", "Buyer")

# Every probability is floored at _PROB_FLOOR (then renormalized) after each M-step.
# EM can never revive a probability that reached exactly zero, and a zero
# emission or transition can make a new sequence impossible (scaling constant
# 0, log-likelihood -inf). 1e-12 is far below any probability that matters for
# weekly data (about 1e6 customer-weeks), so the floor does not move the fit.
_PROB_FLOOR = 1e-12

Sequences = WeeklySequences | np.ndarray


# --------------------------------------------------------------------------
# sequences and parameters
# --------------------------------------------------------------------------


def _padded_array(seqs: Sequences) -> np.ndarray:
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
class _Params:
    startprob: np.ndarray  # (K,)
    transmat: np.ndarray  # (K, K)
    emission: np.ndarray  # (K, M)


# --------------------------------------------------------------------------
# week-by-week inference (filter, score, Viterbi, sampling)
# --------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _Batch:
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


def _prepare(seqs: Sequences, n_symbols: int | None = None) -> _Batch:
    """Merge identical sequences and sort them by length, longest first."""
    obs = _padded_array(seqs)
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
    return _Batch(
        n_active=n_active.astype(np.intp),
        purchase_rows=tuple(np.split(u_idx.astype(np.intp), bounds[1:-1])),
        purchase_symbols=tuple(np.split(symbols, bounds[1:-1])),
        weight=counts[order].astype(np.float64),
        row=position[inverse.reshape(-1)].astype(np.intp),
        lengths=lengths.astype(np.intp),
    )


def _emit(out: np.ndarray, src: np.ndarray, emission: np.ndarray, rows: np.ndarray,
          symbols: np.ndarray) -> None:
    """``out = src * P(obs | state)`` for one week, in place (``out`` may be
    ``src``): every column gets the no-purchase likelihood, then the few
    purchase columns are overwritten."""
    bought = src[:, rows]
    np.multiply(src, emission[:, :1], out=out)
    out[:, rows] = bought * emission[:, symbols]


def _forward(batch: _Batch, p: _Params, alpha: np.ndarray, inv_scale: np.ndarray) -> np.ndarray:
    """Scaled forward pass over all sequences at once.

    Fills ``alpha`` (T, K, U) with the filtered state probabilities
    P(z_t | obs_0..t) and ``inv_scale`` (T, U) with 1 / P(obs_t | obs_0..t-1);
    returns the log-likelihood of each sequence.
    """
    trans_t = np.ascontiguousarray(p.transmat.T)
    for t in range(batch.n_weeks):
        n = batch.n_active[t]
        if n == 0:
            break
        a = alpha[t, :, :n]
        if t == 0:
            a[...] = p.startprob[:, None]
        else:
            np.matmul(trans_t, alpha[t - 1, :, :n], out=a)
        _emit(a, a, p.emission, batch.purchase_rows[t], batch.purchase_symbols[t])
        r = inv_scale[t, :n]
        np.sum(a, axis=0, out=r)
        np.divide(1.0, r, out=r)
        a *= r
    return -np.log(inv_scale).sum(axis=0)


def _viterbi(batch: _Batch, p: _Params) -> np.ndarray:
    """Viterbi paths of the unique sequences, time-major (T, U), -1 padded."""
    with np.errstate(divide="ignore"):  # log(0) = -inf is the right value here
        log_start, log_trans, log_emis = (np.log(x) for x in (p.startprob, p.transmat, p.emission))
    n_weeks, n_unique, n_states = batch.n_weeks, batch.n_unique, len(p.startprob)
    backptr = np.zeros((n_weeks, n_states, n_unique), dtype=np.int8)  # (t, to, seq)
    final_state = np.zeros(n_unique, dtype=np.int8)
    delta = np.empty((n_states, 0))
    for t in range(n_weeks):
        n = batch.n_active[t]
        final_state[n : delta.shape[1]] = delta[:, n:].argmax(axis=0)  # ended at t-1
        if n == 0:
            break
        if t == 0:
            best = np.repeat(log_start[:, None], n, axis=1)
        else:
            cand = delta[:, None, :n] + log_trans[:, :, None]  # (from, to, seq)
            backptr[t, :, :n] = cand.argmax(axis=0)
            best = cand.max(axis=0)
        rows, symbols = batch.purchase_rows[t], batch.purchase_symbols[t]
        bought = best[:, rows]
        best += log_emis[:, :1]
        best[:, rows] = bought + log_emis[:, symbols]
        delta = best
    else:
        final_state[: delta.shape[1]] = delta.argmax(axis=0)

    paths = np.full((n_weeks, n_unique), -1, dtype=np.int8)
    for t in range(n_weeks - 1, -1, -1):
        n = batch.n_active[t]
        n_next = batch.n_active[t + 1] if t + 1 < n_weeks else 0
        paths[t, n_next:n] = final_state[n_next:n]
        if n_next:
            paths[t, :n_next] = backptr[t + 1, paths[t + 1, :n_next], np.arange(n_next)]
    return paths


def _draw_categorical(cdf_rows: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Inverse-CDF draw of one category per row of ``cdf_rows``."""
    return np.minimum((cdf_rows < u[:, None]).sum(axis=1), cdf_rows.shape[1] - 1)


def _sample(p: _Params, n: int, T: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    states = np.empty((n, T), dtype=np.int8)
    obs = np.empty((n, T), dtype=np.int8)
    trans_cdf = np.cumsum(p.transmat, axis=1)
    emis_cdf = np.cumsum(p.emission, axis=1)
    start_cdf = np.broadcast_to(np.cumsum(p.startprob), (n, len(p.startprob)))
    z = _draw_categorical(start_cdf, rng.random(n))
    for t in range(T):
        if t > 0:
            z = _draw_categorical(trans_cdf[z], rng.random(n))
        states[:, t] = z
        obs[:, t] = _draw_categorical(emis_cdf[z], rng.random(n))
    return obs, states


# --------------------------------------------------------------------------
# EM over purchase anchors
# --------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _Events:
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


def _events(seqs: Sequences) -> _Events:
    """Merge identical sequences and index their anchors (see _Events)."""
    obs = _padded_array(seqs)
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
    return _Events(
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


class _Workspace:
    """Buffers reused by every E-step of one fit, state-major (K, n_anchors)."""

    def __init__(self, ev: _Events, n_states: int, n_symbols: int) -> None:
        self.alpha = np.zeros((n_states, ev.n_anchors))
        self.beta = np.zeros((n_states, ev.n_anchors))
        self.v = np.zeros((n_states, ev.n_anchors))
        self.inv_scale = np.ones(ev.n_anchors)
        self.run_matrix = np.zeros((n_states, n_states, len(ev.run)))
        self.onehot = np.eye(n_symbols)[ev.symbol]


def _no_purchase_powers(p: _Params, max_gap: int) -> tuple[float, np.ndarray, np.ndarray]:
    """Spectral radius rho of P = A diag(P(obs 0 | .)), P / rho, and
    (P / rho)^r for r = 0..max_gap. Dividing by rho keeps the powers of order
    one however long the run; the likelihood gets rho^r back in log space."""
    P = p.transmat * p.emission[:, 0]
    rho = float(np.max(np.abs(np.linalg.eigvals(P))))
    if not (rho > 0 and np.isfinite(rho)):
        rho = 1.0  # P = 0: any run of no-purchase weeks is impossible anyway
    P_scaled = P / rho
    powers = np.empty((max_gap + 1, *P.shape))
    powers[0] = np.eye(len(P))
    for r in range(1, max_gap + 1):
        np.matmul(powers[r - 1], P_scaled, out=powers[r])
    return rho, P_scaled, powers


def _e_step(
    ev: _Events, p: _Params, ws: _Workspace
) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """Forward-backward over anchors; returns the total log-likelihood and the
    expected start, transition and emission counts (weighted by sequence
    counts).

    Notation (all tilde quantities use P / rho): for a segment of r
    no-purchase weeks from anchor a to anchor b, alpha_b is proportional to
    alpha_a G_r diag(B[:, o_b]) with G_r = P^r A; a tail of l such weeks has
    probability alpha_last q_l, with q_l = P^l 1.
    """
    A, B = p.transmat, p.emission
    n_states = len(A)
    rho, P_scaled, powers = _no_purchase_powers(p, ev.max_gap)
    run_mats = powers @ A  # G_r
    tail_probs = powers.sum(axis=2)  # q_l
    np.take(np.ascontiguousarray(run_mats.transpose(1, 2, 0)), ev.run, axis=2, out=ws.run_matrix)
    emis = np.take(B, ev.symbol, axis=1)  # (K, n_anchors)
    alpha, beta, v, inv_scale, run_matrix = ws.alpha, ws.beta, ws.v, ws.inv_scale, ws.run_matrix
    off, n0 = ev.offsets, ev.n_active[0]

    for j, n in enumerate(ev.n_active):  # forward, anchor by anchor
        a = alpha[:, off[j] : off[j] + n]
        if j == 0:
            np.multiply(p.startprob[:, None], emis[:, :n], out=a)
        else:
            seg = slice(off[j] - n0, off[j] - n0 + n)
            before = alpha[:, off[j - 1] : off[j - 1] + n]
            np.einsum("kn,kmn->mn", before, run_matrix[:, :, seg], out=a)
            a *= emis[:, off[j] : off[j] + n]
        r = inv_scale[off[j] : off[j] + n]
        np.sum(a, axis=0, out=r)
        np.divide(1.0, r, out=r)
        a *= r
    alpha_last = alpha[:, ev.last]
    q_last = tail_probs[ev.tail].T
    tail_lik = np.einsum("kv,kv->v", alpha_last, q_last)
    loglik = (
        ev.seq_weight @ np.log(tail_lik)
        - ev.weight @ np.log(inv_scale)
        + ev.zero_weeks * np.log(rho)
    )
    if not np.isfinite(loglik):
        raise FloatingPointError(
            "A sequence has zero probability under the current parameters "
            "(non-finite log-likelihood); check the initial parameters."
        )

    # Backward messages are scaled so that alpha . beta = the sequence's
    # weight at every anchor, which weights all posteriors below.
    beta[:, ev.last] = q_last * (ev.seq_weight / tail_lik)
    for j in range(len(ev.n_active) - 1, 0, -1):
        n, cur, prev = ev.n_active[j], off[j], off[j - 1]
        x = v[:, cur : cur + n]  # B[:, o_b] beta_b / c_b, the segment's right end
        np.multiply(emis[:, cur : cur + n], beta[:, cur : cur + n], out=x)
        x *= inv_scale[cur : cur + n]
        seg = slice(cur - n0, cur - n0 + n)
        np.einsum("kmn,mn->kn", run_matrix[:, :, seg], x, out=beta[:, prev : prev + n])

    gamma = alpha * beta
    start_counts = gamma[:, :n0].sum(axis=1)
    emission_counts = gamma @ ws.onehot  # purchase columns; column 0 below

    # The weeks between anchors, summed per gap length g first:
    # by_gap[g, :, :K] = sum over segments with run g of outer(alpha_a, x_b)
    # by_gap[g, :, K]  = sum over tails of length g of w alpha_last / P(tail)
    seg_start, seg_end = alpha[:, ev.prev_sorted], v[:, ev.seg_sorted]
    by_gap = np.zeros((ev.max_gap + 1, n_states, n_states + 1))
    for g, lo, hi in ev.run_groups:
        by_gap[g, :, :n_states] = seg_start[:, lo:hi] @ seg_end[:, lo:hi].T
    tail_weight = alpha_last * (ev.seq_weight / tail_lik)
    for k in range(n_states):
        by_gap[:, k, n_states] = np.bincount(
            ev.tail, weights=tail_weight[k], minlength=ev.max_gap + 1
        )

    # Transition i (0 <= i < g) of a gap of g no-purchase weeks contributes
    # P o [(P^i)' by_gap[g] (G_{g-1-i} | q_{g-1-i})']. Summing over g and i
    # by s = g - 1 - i: sum_s H_s (G_s | q_s)' with H_s = sum_i (P')^i
    # by_gap[s + 1 + i], i.e. the Horner recursion H_s = by_gap[s + 1] + P' H_{s+1}.
    horner = np.zeros_like(by_gap)
    for s in range(ev.max_gap - 1, -1, -1):
        np.matmul(P_scaled.T, horner[s + 1], out=horner[s])
        horner[s] += by_gap[s + 1]
    ends = np.concatenate([run_mats.transpose(0, 2, 1), tail_probs[:, None, :]], axis=1)
    inside = np.einsum("sij,sjk->ik", horner, ends)
    # The last transition of a run, into its anchor: A o [(P^g)' by_gap[g]].
    into_anchor = np.einsum("rpk,rpm->km", powers, by_gap[:, :, :n_states])
    xi = P_scaled * inside + A * into_anchor
    final_occupancy = np.einsum("lpk,lp->k", powers, by_gap[:, :, n_states])
    # Each week's posterior sums that week's transitions out of the state, so
    # the total occupancy is xi's row sums plus the last weeks'; the weeks
    # without purchase take what the purchase weeks leave.
    emission_counts[:, 0] = xi.sum(axis=1) + final_occupancy - emission_counts[:, 1:].sum(axis=1)
    return float(loglik), start_counts, xi, emission_counts


def _normalize_rows(counts: np.ndarray) -> np.ndarray:
    """Expected counts -> probabilities, floored at _PROB_FLOOR. A row with
    no expected counts (a state never visited) becomes uniform."""
    counts = np.maximum(counts, 0.0)  # rounding can leave -1e-12 in a count
    totals = counts.sum(axis=-1, keepdims=True)
    n_cols = counts.shape[-1]
    probs = np.divide(counts, totals, out=np.full_like(counts, 1.0 / n_cols), where=totals > 0)
    probs = np.maximum(probs, _PROB_FLOOR)
    return probs / probs.sum(axis=-1, keepdims=True)


def _m_step(start: np.ndarray, trans: np.ndarray, emission: np.ndarray) -> _Params:
    return _Params(_normalize_rows(start), _normalize_rows(trans), _normalize_rows(emission))


@dataclass(frozen=True, eq=False)
class _FitResult:
    params: _Params
    loglik: float
    n_iter: int
    converged: bool
    history: np.ndarray


def _run_em(ev: _Events, init: _Params, max_iter: int, tol: float) -> _FitResult:
    """EM from one initialization. One iteration = M-step + E-step, so the
    returned log-likelihood is that of the returned parameters."""
    n_states, n_symbols = init.emission.shape
    ws = _Workspace(ev, n_states, n_symbols)
    params = init
    loglik, *stats = _e_step(ev, params, ws)
    history = [loglik]
    converged = False
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        params = _m_step(*stats)
        new_loglik, *stats = _e_step(ev, params, ws)
        history.append(new_loglik)
        improvement, loglik = new_loglik - loglik, new_loglik
        if improvement < tol * abs(loglik):
            converged = True
            break
    return _FitResult(params, loglik, n_iter, converged, np.asarray(history))


def _random_params(rng: np.random.Generator, n_states: int, n_symbols: int) -> _Params:
    """A random, plausible starting point: sticky states whose purchase
    probabilities are spread on a log scale."""
    startprob = rng.dirichlet(np.ones(n_states))
    stickiness = rng.uniform(0.6, 0.95, size=n_states)[:, None]
    transmat = (1 - stickiness) * rng.dirichlet(np.ones(n_states), size=n_states)
    transmat += stickiness * np.eye(n_states)
    purchase = np.sort(10 ** rng.uniform(-3, np.log10(0.5), size=n_states))
    split = rng.dirichlet(np.ones(n_symbols - 1), size=n_states)
    emission = np.column_stack([1 - purchase, purchase[:, None] * split])
    return _Params(startprob, transmat, emission)


def _params_from_dict(init: dict[str, Any], n_states: int, n_symbols: int) -> _Params:
    expected = {"startprob": (n_states,), "transmat": (n_states, n_states),
                "emissionprob": (n_states, n_symbols)}
    if set(init) != set(expected):
        raise DataValidationError(
            f"init_params must have exactly the keys {sorted(expected)}; "
            f"received {sorted(init)}."
        )
    arrays = {}
    for key, shape in expected.items():
        arr = np.asarray(init[key], dtype=np.float64)
        if arr.shape != shape:
            raise DataValidationError(
                f"init_params[{key!r}] must have shape {shape} for n_states="
                f"{n_states} and {n_symbols} symbols; received {arr.shape}."
            )
        if np.any(arr < 0) or not np.allclose(arr.sum(axis=-1), 1.0, atol=1e-8):
            raise DataValidationError(
                f"init_params[{key!r}] must be non-negative with rows summing "
                "to 1."
            )
        arrays[key] = arr
    return _Params(arrays["startprob"], arrays["transmat"], arrays["emissionprob"])


# --------------------------------------------------------------------------
# estimator
# --------------------------------------------------------------------------


class PurchaseHMM(BaseEstimator):
    """Categorical HMM of weekly purchases, fitted by EM over all customers.

    Parameters
    ----------
    n_states
        Number of hidden states K.
    n_restarts
        Number of EM runs from different random initializations; the run
        with the highest log-likelihood is kept.
    max_iter
        Maximum number of EM iterations per run.
    tol
        Convergence tolerance on the relative log-likelihood improvement of
        one iteration: a run stops when
        ``loglik_new - loglik_old < tol * |loglik_new|``.
    seed
        Seed of ``np.random.default_rng`` for the random initializations.
    init_params
        Optional starting point for the first run: a dict with keys
        ``"startprob"`` (K,), ``"transmat"`` (K, K) and ``"emissionprob"``
        (K, M). The remaining ``n_restarts - 1`` runs start at random.

    Attributes
    ----------
    startprob_, transmat_, emissionprob_
        Fitted parameters; states ordered by ``purchase_prob_`` ascending.
    purchase_prob_
        (K,) weekly purchase probability per state, 1 - emissionprob_[:, 0].
    state_names_
        Tuple of K names (:data:`STATE_NAMES` when K = 5).
    loglik_
        Log-likelihood of the training sequences under the fitted parameters.
    n_iter_, converged_
        EM iterations and convergence flag of the kept run.
    restart_logliks_
        (n_restarts,) final log-likelihood of every run.
    loglik_history_
        Log-likelihood before the first and after every iteration of the kept
        run (non-decreasing up to rounding).
    n_symbols_
        Number of observation symbols M.
    """

    def __init__(
        self,
        n_states: int = 5,
        n_restarts: int = 8,
        max_iter: int = 200,
        tol: float = 1e-6,
        seed: int = 0,
        init_params: dict[str, Any] | None = None,
    ) -> None:
        self.n_states = n_states
        self.n_restarts = n_restarts
        self.max_iter = max_iter
        self.tol = tol
        self.seed = seed
        self.init_params = init_params

    # -- fitting -------------------------------------------------------------

    def fit(self, sequences: Sequences, y: None = None) -> PurchaseHMM:
        """Fit by EM with random restarts.

        Parameters
        ----------
        sequences
            :class:`WeeklySequences`, or an integer array (n_customers, T) of
            symbols 0..M-1 padded at the end with -1.
        y
            Ignored (scikit-learn convention).

        Returns
        -------
        PurchaseHMM
            The fitted estimator.
        """
        self._check_hyperparameters()
        events = _events(sequences)
        n_symbols = self._infer_n_symbols(sequences, events.max_symbol)
        if events.max_symbol >= n_symbols:
            raise DataValidationError(
                f"init_params['emissionprob'] has {n_symbols} symbols, but the "
                f"sequences contain symbol {events.max_symbol}; give one column "
                "per symbol."
            )
        rng = np.random.default_rng(self.seed)
        results = []
        # The matrix products here are tiny; BLAS threads would only spin.
        with threadpool_limits(limits=1, user_api="blas"):
            for restart in range(self.n_restarts):
                # Always drawn, so restarts 1.. start at the same random points
                # whether or not init_params replaces restart 0.
                init = _random_params(rng, self.n_states, n_symbols)
                if restart == 0 and self.init_params is not None:
                    init = _params_from_dict(self.init_params, self.n_states, n_symbols)
                results.append(_run_em(events, init, self.max_iter, self.tol))
        best = max(results, key=lambda r: r.loglik)
        self._set_fitted_params(best.params, n_symbols)
        self.loglik_ = best.loglik
        self.n_iter_ = best.n_iter
        self.converged_ = best.converged
        self.loglik_history_ = best.history
        self.restart_logliks_ = np.array([r.loglik for r in results])
        return self

    @classmethod
    def from_params(
        cls, startprob: np.ndarray, transmat: np.ndarray, emissionprob: np.ndarray
    ) -> PurchaseHMM:
        """A ready-to-use model with given parameters (e.g. a stored fit).

        Parameters
        ----------
        startprob
            (K,) initial state distribution.
        transmat
            (K, K) transition matrix, rows summing to 1.
        emissionprob
            (K, M) emission probabilities, column 0 = no purchase.

        Returns
        -------
        PurchaseHMM
            With the fitted attributes set (states reordered by purchase
            probability, as after :meth:`fit`); ``loglik_`` and the other
            fit diagnostics are not set.
        """
        emissionprob = np.asarray(emissionprob, dtype=np.float64)
        n_states, n_symbols = emissionprob.shape
        params = _params_from_dict(
            {"startprob": startprob, "transmat": transmat, "emissionprob": emissionprob},
            n_states,
            n_symbols,
        )
        model = cls(n_states=n_states)
        model._set_fitted_params(params, n_symbols)
        return model

    def _set_fitted_params(self, params: _Params, n_symbols: int) -> None:
        order = np.argsort(1.0 - params.emission[:, 0], kind="stable")
        self.startprob_ = params.startprob[order]
        self.transmat_ = params.transmat[np.ix_(order, order)]
        self.emissionprob_ = params.emission[order]
        self.purchase_prob_ = 1.0 - self.emissionprob_[:, 0]
        self.state_names_ = (
            STATE_NAMES if self.n_states == len(STATE_NAMES)
            else tuple(f"state_{k}" for k in range(self.n_states))
        )
        self.n_symbols_ = n_symbols

    def _check_hyperparameters(self) -> None:
        checks = {
            "n_states": isinstance(self.n_states, (int, np.integer)) and self.n_states >= 1,
            "n_restarts": isinstance(self.n_restarts, (int, np.integer)) and self.n_restarts >= 1,
            "max_iter": isinstance(self.max_iter, (int, np.integer)) and self.max_iter >= 0,
            "tol": np.isscalar(self.tol) and self.tol >= 0,
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            values = {name: getattr(self, name) for name in bad}
            raise ValueError(
                f"Invalid hyperparameters {values}: n_states and n_restarts "
                "must be positive integers, max_iter a non-negative integer, "
                "tol a non-negative number."
            )

    def _infer_n_symbols(self, sequences: Sequences, max_symbol: int) -> int:
        if self.init_params is not None and "emissionprob" in self.init_params:
            return int(np.shape(self.init_params["emissionprob"])[-1])
        observed = max_symbol + 1
        if isinstance(sequences, WeeklySequences):
            return max(WeeklySequences.n_symbols, observed)
        return max(2, observed)

    # -- inference -----------------------------------------------------------

    def _fitted_params(self) -> _Params:
        check_is_fitted(self, ["startprob_", "transmat_", "emissionprob_"])
        return _Params(self.startprob_, self.transmat_, self.emissionprob_)

    def _forward_batch(self, seqs: Sequences) -> tuple[_Batch, np.ndarray, np.ndarray]:
        params = self._fitted_params()
        batch = _prepare(seqs, self.n_symbols_)
        alpha = np.zeros((batch.n_weeks, self.n_states, batch.n_unique))
        inv_scale = np.ones((batch.n_weeks, batch.n_unique))
        with np.errstate(divide="ignore"):  # an impossible sequence has loglik -inf
            loglik_u = _forward(batch, params, alpha, inv_scale)
        return batch, alpha, loglik_u

    def score_samples(self, seqs: Sequences) -> np.ndarray:
        """Log-likelihood of each sequence.

        Parameters
        ----------
        seqs
            Sequences as accepted by :meth:`fit`.

        Returns
        -------
        numpy.ndarray
            (n_customers,) float64; 0 for an empty (all padding) sequence.
        """
        batch, _, loglik_u = self._forward_batch(seqs)
        return loglik_u[batch.row]

    def score(self, seqs: Sequences, y: None = None) -> float:
        """Total log-likelihood of the sequences.

        Parameters
        ----------
        seqs
            Sequences as accepted by :meth:`fit`.
        y
            Ignored.

        Returns
        -------
        float
        """
        batch, _, loglik_u = self._forward_batch(seqs)
        return float(batch.weight @ loglik_u)

    @property
    def n_params_(self) -> int:
        """Free parameters: (K-1) start + K(K-1) transition + K(M-1) emission."""
        check_is_fitted(self, "n_symbols_")
        k, m = self.n_states, self.n_symbols_
        return (k - 1) + k * (k - 1) + k * (m - 1)

    def bic(self, seqs: Sequences) -> float:
        """Bayesian information criterion, ``-2 loglik + n_params log n_obs``.

        Parameters
        ----------
        seqs
            Sequences as accepted by :meth:`fit`.

        Returns
        -------
        float
            Lower is better. ``n_obs`` is the number of observed weeks.
        """
        n_obs = int((_padded_array(seqs) >= 0).sum())
        return -2.0 * self.score(seqs) + self.n_params_ * np.log(n_obs)

    def filter(self, seqs: Sequences) -> np.ndarray:
        """Forward-filtered state probabilities P(z_t | obs_0..t).

        Parameters
        ----------
        seqs
            Sequences as accepted by :meth:`fit`.

        Returns
        -------
        numpy.ndarray
            (n_customers, T, K) float64; rows sum to 1 inside each sequence
            and are NaN at padded weeks.
        """
        batch, alpha, _ = self._forward_batch(seqs)
        beliefs = alpha.transpose(2, 0, 1)[batch.row]
        lengths = batch.lengths[batch.row]
        beliefs[np.arange(batch.n_weeks)[None, :] >= lengths[:, None]] = np.nan
        return beliefs

    def predict(self, seqs: Sequences) -> np.ndarray:
        """Most likely state paths (Viterbi), all customers at once.

        Parameters
        ----------
        seqs
            Sequences as accepted by :meth:`fit`.

        Returns
        -------
        numpy.ndarray
            (n_customers, T) int8 state indices, -1 at padded weeks.
        """
        params = self._fitted_params()
        batch = _prepare(seqs, self.n_symbols_)
        paths = _viterbi(batch, params)
        return np.ascontiguousarray(paths.T[batch.row])

    def sample(
        self, n: int, T: int, rng: np.random.Generator | int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Draw sequences from the fitted model.

        Parameters
        ----------
        n
            Number of sequences.
        T
            Weeks per sequence.
        rng
            Generator or seed for ``np.random.default_rng``.

        Returns
        -------
        obs, states
            Two (n, T) int8 arrays: observed symbols and hidden states.
        """
        p = self._fitted_params()
        return _sample(p, n, T, np.random.default_rng(rng))


# --------------------------------------------------------------------------
# model selection and derived quantities
# --------------------------------------------------------------------------


def select_n_states(
    seqs: Sequences, ks: tuple[int, ...] = (2, 3, 4, 5, 6), **kw: Any
) -> pd.DataFrame:
    """Fit one model per number of states and report BIC.

    Parameters
    ----------
    seqs
        Sequences as accepted by :meth:`PurchaseHMM.fit`.
    ks
        Numbers of states to try.
    **kw
        Other :class:`PurchaseHMM` arguments (n_restarts, seed, ...).

    Returns
    -------
    pandas.DataFrame
        Columns K, loglik, n_params, BIC; one row per K, in the order of
        ``ks``. The lowest BIC is the preferred K.
    """
    rows = []
    for k in ks:
        model = PurchaseHMM(n_states=k, **kw).fit(seqs)
        rows.append(
            {"K": k, "loglik": model.loglik_, "n_params": model.n_params_, "BIC": model.bic(seqs)}
        )
    return pd.DataFrame(rows, columns=["K", "loglik", "n_params", "BIC"])


def initial_state_given_recency(model: PurchaseHMM, recency_weeks: np.ndarray) -> np.ndarray:
    """Belief over the hidden state of a customer who last bought r weeks ago.

    Forward-filters the observation sequence "a purchase, then r weeks without
    purchase" from ``startprob_``. The purchase week uses the likelihood of
    the event "some purchase, amount unknown", P(obs != 0 | z) =
    ``purchase_prob_`` (the sum of the purchase emission columns 1..M-1): the
    exact likelihood when the amount class is not known, not an average over
    classes. Each following week multiplies by P(obs = 0 | z).

    Parameters
    ----------
    model
        A fitted :class:`PurchaseHMM`.
    recency_weeks
        Weeks since the last purchase, >= 0 (rounded to whole weeks; e.g.
        Hillstrom's recency in months times 4.35).

    Returns
    -------
    numpy.ndarray
        (len(recency_weeks), K) beliefs; each row sums to 1.
    """
    p = model._fitted_params()
    r = np.atleast_1d(np.asarray(recency_weeks, dtype=np.float64))
    if r.ndim != 1 or not np.all(np.isfinite(r)) or np.any(r < 0):
        raise DataValidationError(
            "recency_weeks must be a 1-D array of finite values >= 0; received "
            f"shape {r.shape} with min {np.nanmin(r) if r.size else None}."
        )
    weeks = np.rint(r).astype(np.intp)
    n_rows = int(weeks.max(initial=0)) + 1
    beliefs = np.empty((n_rows, len(p.startprob)))
    belief = p.startprob * model.purchase_prob_
    beliefs[0] = belief / belief.sum()
    for i in range(1, n_rows):
        belief = (beliefs[i - 1] @ p.transmat) * p.emission[:, 0]
        beliefs[i] = belief / belief.sum()
    return beliefs[weeks]
