"""Week-by-week inference of the purchase HMM: forward filter, Viterbi and sampling.

The recursions step week by week over arrays of shape (K, n_sequences); rows
are sorted by length (:class:`~journeygym.calibration.hmm.sequences.SequenceBatch`)
so that the sequences still observed at week t are a prefix of the arrays. The
forward pass scales its messages at every step (Rabiner 1989); Viterbi works in
log space.
"""

from __future__ import annotations

import numpy as np

from journeygym.calibration.hmm.params import HMMParams
from journeygym.calibration.hmm.sequences import SequenceBatch

__all__ = ["forward", "sample_paths", "viterbi"]


def _emit(out: np.ndarray, src: np.ndarray, emission: np.ndarray, rows: np.ndarray,
          symbols: np.ndarray) -> None:
    """``out = src * P(obs | state)`` for one week, in place (``out`` may be
    ``src``): every column gets the no-purchase likelihood, then the few
    purchase columns are overwritten."""
    bought = src[:, rows]
    np.multiply(src, emission[:, :1], out=out)
    out[:, rows] = bought * emission[:, symbols]


def forward(batch: SequenceBatch, p: HMMParams, alpha: np.ndarray, inv_scale: np.ndarray) -> np.ndarray:
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


def viterbi(batch: SequenceBatch, p: HMMParams) -> np.ndarray:
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


def sample_paths(p: HMMParams, n: int, T: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``n`` sequences of ``T`` weeks: (n, T) int8 observed symbols and hidden states."""
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
