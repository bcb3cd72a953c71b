"""The estimators' sums over customers, computed a block of customers at a time.

Every estimator of :mod:`journeygym.ope.formulas` is a sum of ratios of sums over
customers, so :func:`blocked_sums` computes the reweighted log and the
estimators' terms for one block of customers (:func:`~journeygym.ope.bootstrap.customer_blocks`)
at a time and keeps what :func:`~journeygym.ope.estimators.estimate_all` reports
from (:class:`EstimatorSums`): column sums, bootstrap products, and the
per-customer terms of the estimators with a t or concentration bound.  A
million-customer log's estimators then hold a few ``(N,)`` vectors and the
resampling counts beside their inputs, not ``(N, H)`` arrays per estimator.
"""

from __future__ import annotations

import numpy as np

from journeygym.ope.bootstrap import ReplicateSums, customer_blocks, resample_counts
from journeygym.ope.bounds import student_t_bound_of_moments, student_t_lower_bound
from journeygym.ope.episodes import LoggedEpisodes
from journeygym.ope.formulas import (
    MEAN_ESTIMATORS,
    ColumnMoments,
    EstimatorTerms,
    distinct_truncations,
    estimator_terms,
    magic_blend,
    ratio_of_sums,
    reweighted_log,
    truncated_doubly_robust,
)

__all__ = ["CONCENTRATION_ESTIMATORS", "EstimatorSums", "blocked_sums", "t_bound"]

#: The estimators that get the high-confidence concentration bound.
CONCENTRATION_ESTIMATORS: tuple[str, ...] = ("is", "pdis")


class EstimatorSums:
    """What :func:`~journeygym.ope.estimators.estimate_all` keeps of the estimators' terms, added up over blocks of customers.

    Each estimator's column sums of numerators and normalizers (its value), its bootstrap sums, the per-customer
    terms of the mean estimators (their t bounds) and of the shifted log's ``is`` and ``pdis`` (their
    concentration bounds): ``(N,)`` vectors and ``(B, K)`` sums, never an estimator's ``(N, H)`` terms.  MAGIC's
    blend depends on every customer, so its truncations' sums and moments are kept instead, and blended at the end.
    """

    def __init__(self, counts: np.ndarray) -> None:
        self.replicates = ReplicateSums(counts)
        self.numerator_sums: dict[str, np.ndarray] = {}
        self.normalizer_sums: dict[str, np.ndarray | None] = {}
        self.per_customer: dict[str, np.ndarray] = {}
        self.shifted_per_customer: dict[str, np.ndarray] = {}
        self.truncation_moments: ColumnMoments | None = None
        self.distinct_truncations: np.ndarray | None = None

    @property
    def n_customers(self) -> int:
        return int(self.replicates.counts.shape[1])

    def add(self, name: str, terms: EstimatorTerms, customers: slice, block_counts: np.ndarray) -> None:
        """Add a block of customers' terms of estimator ``name``."""
        self.replicates.add(name, terms, block_counts)
        numerators = terms.numerators.sum(axis=0)
        normalizers = None if terms.normalizers is None else terms.normalizers.sum(axis=0)
        if name in self.numerator_sums:
            self.numerator_sums[name] = self.numerator_sums[name] + numerators
            if normalizers is not None:
                self.normalizer_sums[name] = self.normalizer_sums[name] + normalizers
        else:
            self.numerator_sums[name], self.normalizer_sums[name] = numerators, normalizers
        if name in MEAN_ESTIMATORS:
            self._fill(self.per_customer, name, terms.per_customer, customers)

    def add_truncations(self, truncated: np.ndarray, customers: slice, block_counts: np.ndarray) -> None:
        """Add a block of customers' truncated doubly robust terms (MAGIC's, blended in :meth:`magic`)."""
        self.add(_TRUNCATIONS, EstimatorTerms(truncated, None), customers, block_counts)
        moments, distinct = ColumnMoments.of(truncated), distinct_truncations(truncated)
        if self.truncation_moments is None or self.distinct_truncations is None:
            self.truncation_moments, self.distinct_truncations = moments, distinct
        else:
            self.truncation_moments = self.truncation_moments.merged(moments)
            self.distinct_truncations = self.distinct_truncations | distinct

    def add_shifted(self, name: str, terms: EstimatorTerms, customers: slice) -> None:
        """Add a block of customers' terms of ``name`` on the log shifted for the concentration bounds."""
        self._fill(self.shifted_per_customer, name, terms.per_customer, customers)

    def _fill(self, into: dict[str, np.ndarray], name: str, values: np.ndarray, customers: slice) -> None:
        if name not in into:
            into[name] = np.empty(self.n_customers)
        into[name][customers] = values

    def magic(self, confidence: float) -> tuple[float, np.ndarray, float]:
        """MAGIC's value, bootstrap replicates and t bound: its blend (:func:`magic_blend`) of the truncations.

        The blend is chosen on every customer and held fixed in the replicates; the per-customer blended terms'
        mean and standard deviation, for the t bound, follow from the truncations' moments.
        """
        if self.truncation_moments is None or self.distinct_truncations is None:
            raise ValueError("MAGIC needs the truncations of at least one block of customers.")
        keep = self.distinct_truncations
        moments = self.truncation_moments.columns(keep)
        weights = magic_blend(moments)
        value = float(self.numerator_sums[_TRUNCATIONS][keep] @ weights) / self.n_customers
        replicates = (self.replicates.sums(_TRUNCATIONS)[:, keep] @ weights) / self.n_customers
        deviation = float(np.sqrt(max(float(weights @ moments.covariance @ weights), 0.0)))
        return value, replicates, student_t_bound_of_moments(float(moments.means @ weights), deviation, self.n_customers, confidence)

    def value(self, name: str) -> float:
        """Estimator ``name``'s value on the whole log."""
        return float(ratio_of_sums(self.numerator_sums[name], self.normalizer_sums[name], self.n_customers))


#: The key of MAGIC's truncations in :class:`EstimatorSums`.
_TRUNCATIONS = "magic truncations"


def t_bound(name: str, sums: EstimatorSums, confidence: float, magic_bound: float | None) -> float | None:
    """Estimator ``name``'s Student-t lower bound (None for a self-normalized one)."""
    if name == "magic":
        return magic_bound
    return student_t_lower_bound(sums.per_customer[name], confidence) if name in MEAN_ESTIMATORS else None


def blocked_sums(
    names: tuple[str, ...],
    episodes: LoggedEpisodes,
    target: np.ndarray,
    q_values: np.ndarray | None,
    gamma: float,
    ratios: np.ndarray | None,
    shift: float | None,
    n_bootstrap: int,
    rng: np.random.Generator,
) -> EstimatorSums:
    """The estimators' :class:`EstimatorSums`, computed a block of customers at a time (:func:`customer_blocks`).

    Every estimator but MAGIC is a sum over customers, so the reweighted log and the terms exist for one block
    at a time, and a large log's estimators hold a few ``(N,)`` vectors beside the inputs.
    """
    sums = EstimatorSums(resample_counts(episodes.n_customers, n_bootstrap, rng))
    buffer: np.ndarray | None = None
    for customers in customer_blocks(episodes.n_customers, n_bootstrap):
        log = reweighted_log(
            episodes.subset(customers), target[customers], None if q_values is None else q_values[customers], gamma,
            None if ratios is None else ratios[customers],
        )
        buffer = sums.replicates.block_counts(customers, buffer)
        for name in names:
            if name == "magic":
                sums.add_truncations(truncated_doubly_robust(log), customers, buffer)
            else:
                sums.add(name, estimator_terms(name, log), customers, buffer)
        if shift is not None:
            shifted = log.shifted(shift)
            for name in CONCENTRATION_ESTIMATORS:
                if name in names:
                    sums.add_shifted(name, estimator_terms(name, shifted), customers)
    return sums
