"""EM for the purchase HMM, stepping from purchase to purchase.

Most weeks have no purchase, and a run of r such weeks acts on the state
distribution through the same matrix power P^r, with P = A diag(P(no purchase
| state)). The forward-backward pass therefore visits only the weeks with a
purchase (and each sequence's first week,
:class:`~journeygym.calibration.hmm.sequences.AnchorEvents`), and the expected
counts inside the runs come from sums of matrix powers, grouped by run length.
These are exactly the counts of the week-by-week pass. Messages are scaled at
every anchor and the matrix powers divided by the spectral radius of P, so
nothing underflows for sequences of any length.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from journeygym.calibration.hmm.params import HMMParams
from journeygym.calibration.hmm.sequences import AnchorEvents

__all__ = ["EMResult", "EStepWorkspace", "e_step", "m_step", "run_em"]

# Every probability is floored at _PROB_FLOOR (then renormalized) after each M-step.
# EM can never revive a probability that reached exactly zero, and a zero
# emission or transition can make a new sequence impossible (scaling constant
# 0, log-likelihood -inf). 1e-12 is far below any probability that matters for
# weekly data (about 1e6 customer-weeks), so the floor does not move the fit.
_PROB_FLOOR = 1e-12


class EStepWorkspace:
    """Buffers reused by every E-step of one fit, state-major (K, n_anchors)."""

    def __init__(self, ev: AnchorEvents, n_states: int, n_symbols: int) -> None:
        self.alpha = np.zeros((n_states, ev.n_anchors))
        self.beta = np.zeros((n_states, ev.n_anchors))
        self.v = np.zeros((n_states, ev.n_anchors))
        self.inv_scale = np.ones(ev.n_anchors)
        self.run_matrix = np.zeros((n_states, n_states, len(ev.run)))
        self.onehot = np.eye(n_symbols)[ev.symbol]


def _no_purchase_powers(p: HMMParams, max_gap: int) -> tuple[float, np.ndarray, np.ndarray]:
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


def e_step(
    ev: AnchorEvents, p: HMMParams, ws: EStepWorkspace
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


def m_step(start: np.ndarray, trans: np.ndarray, emission: np.ndarray) -> HMMParams:
    """Parameters from the expected start, transition and emission counts of :func:`e_step`."""
    return HMMParams(_normalize_rows(start), _normalize_rows(trans), _normalize_rows(emission))


@dataclass(frozen=True, eq=False)
class EMResult:
    """One EM run: final parameters and log-likelihood, iterations, convergence and the log-likelihood history."""

    params: HMMParams
    loglik: float
    n_iter: int
    converged: bool
    history: np.ndarray


def run_em(ev: AnchorEvents, init: HMMParams, max_iter: int, tol: float) -> EMResult:
    """EM from one initialization. One iteration = M-step + E-step, so the
    returned log-likelihood is that of the returned parameters."""
    n_states, n_symbols = init.emission.shape
    ws = EStepWorkspace(ev, n_states, n_symbols)
    params = init
    loglik, *stats = e_step(ev, params, ws)
    history = [loglik]
    converged = False
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        params = m_step(*stats)
        new_loglik, *stats = e_step(ev, params, ws)
        history.append(new_loglik)
        improvement, loglik = new_loglik - loglik, new_loglik
        if improvement < tol * abs(loglik):
            converged = True
            break
    return EMResult(params, loglik, n_iter, converged, np.asarray(history))
