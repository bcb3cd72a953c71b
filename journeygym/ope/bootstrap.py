"""The bootstrap over customers, for every estimator at once.

A bootstrap replicate resamples N customers with replacement: customer ``i``
appears ``c_i`` times, ``c ~ Multinomial(N, 1/N, ..., 1/N)``.  Since every
estimator is a sum of ratios of sums over customers
(:class:`~journeygym.ope.formulas.EstimatorTerms`), a replicate's estimate is
``sum_k (c @ X[:, k]) / (c @ Z[:, k])``, so B replicates are two matrix
products of the ``(B, N)`` counts with the terms.  The counts are drawn once,
kept as small integers, and shared by all estimators of a call, so their
replicates are paired; :class:`ReplicateSums` adds the products up over blocks
of customers, so the terms of a large log never need to exist for every
customer at once.

The value model (Q-hat) is not refit inside the bootstrap: the intervals of
the direct-method and doubly robust estimators ignore its estimation error.
"""

from __future__ import annotations

from collections.abc import Mapping

import numba
import numpy as np

from journeygym.ope.formulas import EstimatorTerms, ratio_of_sums

__all__ = [
    "ReplicateSums",
    "bootstrap_values",
    "customer_blocks",
    "percentile_interval",
    "resample_counts",
]

#: (replicate, customer) counts drawn by one call of the generator.  The draws depend on it (the bounded
#: integer generator discards a half-used 32-bit word at the end of each call), so it is fixed.
DRAW_ELEMENTS = 1 << 22
#: (replicate, customer) counts multiplied with the terms at once, as float64 (32 MiB): the customers of a
#: block (:func:`customer_blocks`) are as many as fit with every replicate's counts, 20,971 for 200 replicates.
#: The estimators' terms are computed a block at a time too, so a block's temporaries stay small (about 8 MiB
#: per ``(block, 52)`` array).
BLOCK_ELEMENTS = 1 << 22


@numba.njit(cache=True, nogil=True)
def _count_draws(draws, counts, largest):  # type: ignore[no-untyped-def]
    """``counts[r, i] += 1`` for every draw ``i`` of row ``r``; False (and stops) if a count would pass ``largest``."""
    for r in range(draws.shape[0]):
        row = counts[r]
        for j in range(draws.shape[1]):
            i = draws[r, j]
            if row[i] == largest:
                return False
            row[i] += 1
    return True


def resample_counts(n_customers: int, n_bootstrap: int, rng: np.random.Generator) -> np.ndarray:
    """``(n_bootstrap, N)`` multinomial resampling counts, as the smallest unsigned integers that hold them.

    Each row counts how often each customer is drawn in N draws with
    replacement (drawn as N uniform indices, ``DRAW_ELEMENTS`` at a time, then
    counted: the same distribution as ``rng.multinomial``, faster for large N).
    The counts are uint8 (200 replicates of a million customers in 200 MB);
    in the rare case a customer is drawn more than 255 times in a replicate,
    the same draws are counted again as uint16.
    """
    rows_per_draw = max(1, DRAW_ELEMENTS // n_customers)
    state = rng.bit_generator.state
    for kind in (np.uint8, np.uint16, np.uint32):
        counts = np.zeros((n_bootstrap, n_customers), dtype=kind)
        largest = np.iinfo(kind).max
        fits = True
        for start in range(0, n_bootstrap, rows_per_draw):
            rows = min(rows_per_draw, n_bootstrap - start)
            draws = rng.integers(0, n_customers, size=(rows, n_customers))
            fits = _count_draws(draws, counts[start : start + rows], largest)
            if not fits:
                break
        if fits:
            return counts
        rng.bit_generator.state = state  # the same draws, counted in a wider type
    raise AssertionError("unreachable: N draws cannot count more than N <= 2**32 - 1")


def customer_blocks(n_customers: int, n_bootstrap: int) -> list[slice]:
    """Consecutive blocks of customers whose ``(n_bootstrap, block)`` float64 counts fit in ``BLOCK_ELEMENTS``."""
    size = max(1, BLOCK_ELEMENTS // max(1, n_bootstrap))
    return [slice(start, min(start + size, n_customers)) for start in range(0, n_customers, size)]


class ReplicateSums:
    """Each estimator's bootstrap sums ``c @ X`` and ``c @ Z``, added up over blocks of customers.

    Parameters
    ----------
    counts
        ``(B, N)`` resampling counts (:func:`resample_counts`).
    """

    def __init__(self, counts: np.ndarray) -> None:
        self.counts = counts
        self._numerators: dict[str, np.ndarray] = {}
        self._normalizers: dict[str, np.ndarray | None] = {}

    def block_counts(self, customers: slice, buffer: np.ndarray | None = None) -> np.ndarray:
        """``(B, b)`` float64 counts of a block of customers, to pass to :meth:`add` for each estimator.

        ``buffer``, the array a previous call returned, is reused when it is large enough.
        """
        shape = (self.counts.shape[0], customers.stop - customers.start)
        if buffer is None or buffer.shape[1] < shape[1]:
            buffer = np.empty(shape)
        block = buffer[:, : shape[1]]
        np.copyto(block, self.counts[:, customers], casting="unsafe")
        return block

    def sums(self, name: str) -> np.ndarray:
        """``(B, K)`` the replicates' sums ``c @ X`` of estimator ``name``'s numerators."""
        return self._numerators[name]

    def add(self, name: str, terms: EstimatorTerms, block_counts: np.ndarray) -> None:
        """Add the products of a block's counts with estimator ``name``'s terms for the same customers."""
        numerators = block_counts @ terms.numerators
        normalizers = None if terms.normalizers is None else block_counts @ terms.normalizers
        if name not in self._numerators:
            self._numerators[name], self._normalizers[name] = numerators, normalizers
            return
        self._numerators[name] += numerators
        if normalizers is not None:
            self._normalizers[name] += normalizers

    def replicates(self) -> dict[str, np.ndarray]:
        """Estimator name -> its ``(B,)`` replicate estimates."""
        n_customers = self.counts.shape[1]
        return {
            name: ratio_of_sums(numerators, self._normalizers[name], n_customers)
            for name, numerators in self._numerators.items()
        }


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
    sums = ReplicateSums(resample_counts(n_customers, n_bootstrap, rng))
    block_counts = None
    for customers in customer_blocks(n_customers, n_bootstrap):
        block_counts = sums.block_counts(customers, block_counts)
        for name, term in terms.items():
            sums.add(name, term.block(customers), block_counts)
    return sums.replicates()


def percentile_interval(values: np.ndarray, confidence: float) -> tuple[float, float]:
    """The central ``confidence`` interval of the bootstrap replicates (percentile method)."""
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(values, [tail, 1.0 - tail])
    return float(low), float(high)
