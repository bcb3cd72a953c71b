"""The population model: who a new simulated customer is (docs/calibration.md, "The population").

Two fits, both storing aggregates only, never rows:

* :func:`~journeygym.datasets.hillstrom_columns.fit_hillstrom_population` -- the
  built-in trial: the joint counts of its categorical covariates and the quantiles of
  past-year spend within each history segment (kept with the trial's other columns).
* :func:`fit_profile_population` -- any trial: microaggregated profiles.  Within
  each segment x start profile, the customers are clustered (k-means on the
  standardized design, about :data:`CUSTOMERS_PER_PROFILE` per cluster) and each
  cluster becomes one profile: the mean of its members' design rows, weighted by
  its size.  Clusters of fewer than :data:`MIN_PROFILE_CUSTOMERS` customers are
  merged into the nearest larger one, so no profile describes fewer customers.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from journeygym.envs.population import PopulationModel, StaticColumn, scaled_columns

#: Customers per profile the microaggregation aims at.
CUSTOMERS_PER_PROFILE = 20
#: No profile averages fewer customers than this.
MIN_PROFILE_CUSTOMERS = 5


def _clusters(design: np.ndarray, seed: int) -> np.ndarray:
    """Cluster label of each row: k-means with about CUSTOMERS_PER_PROFILE rows per cluster, small clusters merged."""
    from sklearn.cluster import KMeans

    n = design.shape[0]
    k = n // CUSTOMERS_PER_PROFILE
    if k <= 1:
        return np.zeros(n, dtype=np.int64)
    scale = design.std(axis=0)
    standardized = (design - design.mean(axis=0)) / np.where(scale > 0, scale, 1.0)
    model = KMeans(n_clusters=k, n_init=1, random_state=seed).fit(standardized)
    labels, centres = model.labels_.astype(np.int64), model.cluster_centers_
    sizes = np.bincount(labels, minlength=k)
    large = np.flatnonzero(sizes >= MIN_PROFILE_CUSTOMERS)
    small_rows = np.flatnonzero(sizes[labels] < MIN_PROFILE_CUSTOMERS)
    if small_rows.size:
        distance = ((standardized[small_rows, None, :] - centres[None, large, :]) ** 2).sum(axis=2)
        labels[small_rows] = large[np.argmin(distance, axis=1)]
    return np.unique(labels, return_inverse=True)[1]


def fit_profile_population(
    design: np.ndarray,
    segment: np.ndarray,
    start: np.ndarray,
    covariate_names: Sequence[str],
    segment_labels: Sequence[str],
    start_labels: Sequence[str],
    start_weeks: np.ndarray,
    *,
    seed: int = 0,
) -> PopulationModel:
    """Microaggregated profiles of a trial's customers (module docstring).

    The observation shows every design column scaled to [0, 1] over the
    profiles, then the segment and the start profile as ordinals when there is
    more than one of them.
    """
    design = np.asarray(design, dtype=np.float64)
    n = design.shape[0]
    profiles, weights, profile_segment, profile_start = [], [], [], []
    for g in range(len(segment_labels)):
        for r in range(len(start_labels)):
            rows = np.flatnonzero((segment == g) & (start == r))
            if rows.size == 0:
                continue
            labels = _clusters(design[rows], seed)
            counts = np.bincount(labels)
            sums = np.zeros((counts.size, design.shape[1]))
            np.add.at(sums, labels, design[rows])
            profiles.append(sums / counts[:, None])
            weights.append(counts / n)
            profile_segment.append(np.full(counts.size, g))
            profile_start.append(np.full(counts.size, r))
    profile_design = np.concatenate(profiles)
    names = tuple(covariate_names)
    columns = list(scaled_columns(names, profile_design))
    segment_column = start_column = None
    if len(segment_labels) > 1:
        segment_column = len(columns)
        columns.append(StaticColumn("segment", f"segment ordinal 0..{len(segment_labels) - 1}, divided by "
                                    f"{len(segment_labels) - 1}", "segment", (), 0.0, float(len(segment_labels) - 1)))
    if len(start_labels) > 1:
        start_column = len(columns)
        columns.append(StaticColumn("start_profile", f"start profile (recency level) ordinal 0..{len(start_labels) - 1}, "
                                    f"divided by {len(start_labels) - 1}", "start", (), 0.0, float(len(start_labels) - 1)))
    total = np.concatenate(weights)
    return PopulationModel(
        weights=total / total.sum(),
        design=profile_design,
        segment=np.concatenate(profile_segment).astype(np.int64),
        start=np.concatenate(profile_start).astype(np.int64),
        covariate_names=names,
        segment_labels=tuple(segment_labels),
        start_labels=tuple(start_labels),
        start_weeks_since_purchase=np.asarray(start_weeks, dtype=np.int64),
        static_columns=tuple(columns),
        segment_column=segment_column,
        start_column=start_column,
    )
