"""The bootstrap over customers, for every estimator at once.

A bootstrap replicate resamples N customers with replacement: customer ``i``
appears ``c_i`` times, ``c ~ Multinomial(N, 1/N, ..., 1/N)``.  Since every
estimator is a sum of ratios of sums over customers
(:class:`~journeygym.ope.formulas.EstimatorTerms`), a replicate's estimate is
``sum_k (c @ X[:, k]) / (c @ Z[:, k])``, so B replicates are two matrix
products of the ``(B, N)`` counts with the terms, drawn in chunks to bound the
memory.  The counts are drawn once and shared by all estimators of a call, so
their replicates are paired.

The value model (Q-hat) is not refit inside the bootstrap: the intervals of
the direct-method and doubly robust estimators ignore its estimation error.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numba
import numpy as np

from journeygym.ope.formulas import EstimatorTerms, ratio_of_sums

__all__ = ["bootstrap_values", "percentile_interval", "resample_counts"]

#: (replicate, customer) counts drawn by one call of the generator.  The draws depend on it (the bounded
#: integer generator discards a half-used 32-bit word at the end of each call), so it is fixed.
DRAW_ELEMENTS = 1 << 22
#: (replicate, customer) counts multiplied with the terms at once (256 MiB of float64).  Each block reads every
#: estimator's terms once: a million customers took 50 passes of four replicates at DRAW_ELEMENTS, each a
#: memory-bound product, and take 7 here (``benchmarks/bench_ope_scale.py``).  Blocks hold whole draws, so the
#: counts, and the replicates, are those of a block of one draw.
BLOCK_ELEMENTS = 1 << 25


@numba.njit(cache=True, nogil=True)
def _count_draws(draws, counts):  # type: ignore[no-untyped-def]
    """``counts[r, i] += 1`` for every draw ``i`` of row ``r`` (np.bincount per row, without its int64 copy)."""
    for r in range(draws.shape[0]):
        row = counts[r]
        for j in range(draws.shape[1]):
            row[draws[r, j]] += 1.0


def resample_counts(n_customers: int, n_bootstrap: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Multinomial resampling counts, ``(b, N)`` float64 blocks whose ``b`` add up to ``n_bootstrap``.

    Each row counts how often each customer is drawn in N draws with
    replacement (drawn as N uniform indices, then counted: the same
    distribution as ``rng.multinomial``, faster for large N).
    """
    rows_per_draw = max(1, DRAW_ELEMENTS // n_customers)
    rows_per_block = max(1, BLOCK_ELEMENTS // (n_customers * rows_per_draw)) * rows_per_draw
    for block_start in range(0, n_bootstrap, rows_per_block):
        counts = np.zeros((min(rows_per_block, n_bootstrap - block_start), n_customers))
        for start in range(0, counts.shape[0], rows_per_draw):
            rows = min(rows_per_draw, counts.shape[0] - start)
            _count_draws(rng.integers(0, n_customers, size=(rows, n_customers)), counts[start : start + rows])
        yield counts


def bootstrap_values(
    terms: Mapping[str, EstimatorTerms], n_bootstrap: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """``(n_bootstrap,)`` bootstrap replicates of each estimator, from the same resampled customers.

    Parameters
    ----------
    terms
        Estimator name -> its terms, all over the same N customers.
    n_bootstrap
        Number of replicates B.
    rng
        The generator of the resampling counts.

    Returns
    -------
    dict[str, numpy.ndarray]
        Estimator name -> its B replicate estimates.
    """
    n_customers = next(iter(terms.values())).numerators.shape[0]
    chunks: dict[str, list[np.ndarray]] = {name: [] for name in terms}
    for counts in resample_counts(n_customers, n_bootstrap, rng):
        for name, term in terms.items():
            normalizer_sums = None if term.normalizers is None else counts @ term.normalizers
            chunks[name].append(ratio_of_sums(counts @ term.numerators, normalizer_sums, n_customers))
    return {name: np.concatenate(values) for name, values in chunks.items()}


def percentile_interval(values: np.ndarray, confidence: float) -> tuple[float, float]:
    """The central ``confidence`` interval of the bootstrap replicates (percentile method)."""
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(values, [tail, 1.0 - tail])
    return float(low), float(high)
