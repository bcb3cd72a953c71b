"""The population model: who a new simulated customer is, for any data set (docs/architecture.md, "The population").

A population is a weighted table of customer *profiles*, aggregates fitted by
the calibration (never raw rows).  Each profile has

* a covariate design row ``x`` (the columns the calibrated covariate effects act on),
* a segment (the groups over which the e-mail effects were partially pooled), and
* a start profile: which week-0 hidden-state distribution and which "weeks since the
  last purchase" the customer starts from (recency months for a trial with a recency
  column; one profile when the trial has none).

Optionally one design column is *continuous*: instead of the profile's value it is
drawn per customer from quantiles within the customer's segment (the default
artifact's past-year spend, on the log scale), so the population keeps its spread.

The static part of the observation is a list of :class:`StaticColumn`: each maps a
design column, a segment or a start profile linearly into [0, 1].  The belief
filter inverts the same list (:meth:`PopulationModel.from_observation`), so the
simulator and the filter agree on what every column means.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

#: Weeks per month of recency: the simulator's weeks since the last purchase at week 0
#: and the HMM belief given recency (calibration) must use the same conversion.
WEEKS_PER_MONTH = 4.35

ColumnSource = Literal["design", "reference", "segment", "start"]
_SOURCES: tuple[str, ...] = ("design", "reference", "segment", "start")


class PopulationError(ValueError):
    """A population model failed validation; the message names the field, the value and the rule."""


@dataclass(frozen=True)
class StaticColumn:
    """One static observation column: ``clip((value - low) / span, 0, 1)``.

    ``source`` says where the value comes from: ``"design"`` the design column
    ``index[0]``; ``"reference"`` one minus the sum of the design columns in
    ``index`` (the reference level of a one-hot group); ``"segment"`` and
    ``"start"`` the customer's segment and start-profile number.
    """

    name: str
    description: str
    source: ColumnSource
    index: tuple[int, ...] = ()
    low: float = 0.0
    span: float = 1.0

    def record(self) -> dict[str, Any]:
        """The column as plain JSON values (for the artifact's metadata)."""
        return {"name": self.name, "description": self.description, "source": self.source, "index": list(self.index),
                "low": self.low, "span": self.span}

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> StaticColumn:
        """The inverse of :meth:`record`."""
        return cls(str(record["name"]), str(record["description"]), record["source"], tuple(int(i) for i in record["index"]),
                   float(record["low"]), float(record["span"]))


@dataclass(frozen=True, eq=False)
class PopulationModel:
    """A weighted table of customer profiles (aggregates of the calibration data).

    Parameters
    ----------
    weights
        ``(P,)`` probability of each profile; sums to one.
    design
        ``(P, C)`` covariate design row of each profile (before centring).
    segment
        ``(P,)`` segment of each profile, ``0 .. G-1``.
    start
        ``(P,)`` start profile of each profile, ``0 .. R-1``.
    covariate_names
        The C design columns.
    segment_labels
        The G segments.
    start_labels
        The R start profiles (e.g. ``"recency 3 months"``).
    start_weeks_since_purchase
        ``(R,)`` weeks since the last purchase at week 0 of each start profile.
    static_columns
        The observation's static columns, in order.
    continuous_column
        Design column drawn per customer from :attr:`continuous_quantiles`
        (``log1p`` of a dollar amount), or None.
    continuous_quantiles
        ``(G, Q)`` non-decreasing quantiles (dollars) of that amount within each
        segment at the levels ``linspace(0, 1, Q)``; drawn by linear interpolation.
    segment_column, start_column
        Position in :attr:`static_columns` from which the belief filter reads the
        segment and the start profile back (None: there is one of them).
    start_base
        Value of the start column's source at start profile 0 (1 when it is
        recency in months 1..12).
    """

    weights: np.ndarray
    design: np.ndarray
    segment: np.ndarray
    start: np.ndarray
    covariate_names: tuple[str, ...]
    segment_labels: tuple[str, ...]
    start_labels: tuple[str, ...]
    start_weeks_since_purchase: np.ndarray
    static_columns: tuple[StaticColumn, ...]
    continuous_column: int | None = None
    continuous_quantiles: np.ndarray | None = None
    segment_column: int | None = None
    start_column: int | None = None
    start_base: int = 0

    def __post_init__(self) -> None:
        owner = "PopulationModel"
        weights = np.asarray(self.weights, dtype=np.float64)
        if weights.ndim != 1 or weights.size == 0 or not np.isfinite(weights).all() or (weights < 0).any():
            raise PopulationError(f"{owner}.weights: received {_describe(weights)}, expected a 1-D array of non-negative numbers.")
        if abs(weights.sum() - 1.0) > 1e-6:
            raise PopulationError(f"{owner}.weights: received weights summing to {weights.sum():.8f}, expected 1.")
        n_profiles = weights.size
        design = np.asarray(self.design, dtype=np.float64)
        if design.shape != (n_profiles, len(self.covariate_names)) or not np.isfinite(design).all():
            raise PopulationError(
                f"{owner}.design: received {_describe(design)}, expected finite numbers of shape "
                f"({n_profiles}, {len(self.covariate_names)}) (profiles, covariate_names)."
            )
        segment = _codes(owner, "segment", self.segment, n_profiles, len(self.segment_labels))
        start = _codes(owner, "start", self.start, n_profiles, len(self.start_labels))
        weeks = np.asarray(self.start_weeks_since_purchase, dtype=np.int64)
        if weeks.shape != (len(self.start_labels),) or (weeks < 0).any():
            raise PopulationError(
                f"{owner}.start_weeks_since_purchase: received {_describe(weeks)}, expected {len(self.start_labels)} "
                "non-negative week counts (one per start profile)."
            )
        quantiles = None
        if self.continuous_column is not None:
            if not 0 <= self.continuous_column < design.shape[1] or self.continuous_quantiles is None:
                raise PopulationError(
                    f"{owner}.continuous_column: received {self.continuous_column!r}, expected a design column "
                    f"0..{design.shape[1] - 1} with continuous_quantiles."
                )
            quantiles = np.asarray(self.continuous_quantiles, dtype=np.float64)
            if (quantiles.ndim != 2 or quantiles.shape[0] != len(self.segment_labels) or quantiles.shape[1] < 2
                    or not np.isfinite(quantiles).all() or (quantiles < 0).any() or (np.diff(quantiles, axis=1) < 0).any()):
                raise PopulationError(
                    f"{owner}.continuous_quantiles: received {_describe(quantiles)}, expected ({len(self.segment_labels)}, Q) "
                    "non-negative quantiles, Q >= 2, non-decreasing in every row."
                )
        for position, column in enumerate(self.static_columns):
            if column.source not in _SOURCES or column.span <= 0 or (
                column.source in ("design", "reference") and (not column.index or max(column.index) >= design.shape[1])
            ):
                raise PopulationError(
                    f"{owner}.static_columns[{position}] ({column.name!r}): received source {column.source!r}, index "
                    f"{list(column.index)}, span {column.span}; expected a source in {list(_SOURCES)}, span > 0 and design "
                    f"columns below {design.shape[1]}."
                )
        for name in ("segment_column", "start_column"):
            position = getattr(self, name)
            if position is not None and not 0 <= position < len(self.static_columns):
                raise PopulationError(f"{owner}.{name}: received {position!r}, expected a static column 0..{len(self.static_columns) - 1}.")
        if len(self.segment_labels) > 1 and self.segment_column is None:
            raise PopulationError(f"{owner}.segment_column: received None with {len(self.segment_labels)} segments; name the column.")
        if len(self.start_labels) > 1 and self.start_column is None:
            raise PopulationError(f"{owner}.start_column: received None with {len(self.start_labels)} start profiles; name the column.")
        for name, value in (("weights", weights), ("design", design), ("segment", segment), ("start", start),
                            ("start_weeks_since_purchase", weeks), ("continuous_quantiles", quantiles)):
            object.__setattr__(self, name, value)
        for name in ("covariate_names", "segment_labels", "start_labels", "static_columns"):
            object.__setattr__(self, name, tuple(getattr(self, name)))

    @property
    def n_segments(self) -> int:
        """Number of segments G."""
        return len(self.segment_labels)

    @property
    def n_starts(self) -> int:
        """Number of start profiles R."""
        return len(self.start_labels)

    @property
    def n_covariates(self) -> int:
        """Number of design columns C."""
        return len(self.covariate_names)

    def covariate_mean(self) -> np.ndarray:
        """``(C,)`` the population mean of the design (the continuous column at its mean within segments)."""
        mean = self.weights @ self.design
        if self.continuous_column is not None:
            levels = np.log1p(self.continuous_quantiles).mean(axis=1)
            mean[self.continuous_column] = self.weights @ levels[self.segment]
        return mean

    def draw_continuous(self, segment: np.ndarray, uniform: np.ndarray) -> np.ndarray:
        """The continuous amount (dollars) of customers in ``segment`` from uniforms; zeros without a continuous column."""
        if self.continuous_quantiles is None:
            return np.zeros(segment.shape[0])
        quantiles = self.continuous_quantiles
        position = uniform * (quantiles.shape[1] - 1)
        lower = np.minimum(position.astype(np.int64), quantiles.shape[1] - 2)
        fraction = position - lower
        return quantiles[segment, lower] * (1.0 - fraction) + quantiles[segment, lower + 1] * fraction

    def design_of(self, profile: np.ndarray, continuous: np.ndarray) -> np.ndarray:
        """``(N, C)`` design rows of customers with these profiles and continuous amounts."""
        design = self.design[profile]
        if self.continuous_column is not None:
            design[:, self.continuous_column] = np.log1p(continuous)
        return design

    def write_static(self, design: np.ndarray, segment: np.ndarray, start: np.ndarray, out: np.ndarray) -> None:
        """Write the static observation columns of customers with these design rows, segments and starts into ``out``."""
        for position, column in enumerate(self.static_columns):
            if column.source == "design":
                value = design[:, column.index[0]]
            elif column.source == "reference":
                value = 1 - design[:, list(column.index)].sum(axis=1)
            else:
                value = segment if column.source == "segment" else start
            out[:, position] = np.clip((value - column.low) / column.span, 0.0, 1.0)

    def from_observation(self, static: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(design, segment, start)`` read back from the static observation columns (the filter's view).

        Design columns the observation does not show are set to the population
        mean; values clipped at 0 or 1 come back at the clip.
        """
        static = np.asarray(static, dtype=np.float64)
        n = static.shape[0]
        design = np.broadcast_to(self.covariate_mean(), (n, self.n_covariates)).copy()
        for position, column in enumerate(self.static_columns):
            if column.source == "design":
                design[:, column.index[0]] = column.low + static[:, position] * column.span
        segment = self._code_from(static, self.segment_column, 0, self.n_segments)
        start = self._code_from(static, self.start_column, self.start_base, self.n_starts)
        return design, segment, start

    def _code_from(self, static: np.ndarray, position: int | None, base: int, n_codes: int) -> np.ndarray:
        if position is None:
            return np.zeros(static.shape[0], dtype=np.int64)
        column = self.static_columns[position]
        value = np.rint(column.low + static[:, position] * column.span).astype(np.int64) - base
        return np.clip(value, 0, n_codes - 1)

    def arrays(self) -> dict[str, np.ndarray]:
        """The array part of the model (the artifact's ``population/...`` entries)."""
        arrays = {"weights": self.weights, "design": self.design, "segment": self.segment, "start": self.start,
                  "start_weeks_since_purchase": self.start_weeks_since_purchase}
        if self.continuous_quantiles is not None:
            arrays["continuous_quantiles"] = self.continuous_quantiles
        return arrays

    def schema(self) -> dict[str, Any]:
        """The names and the observation mapping (the artifact's metadata ``population`` entry)."""
        return {
            "covariate_names": list(self.covariate_names),
            "segment_labels": list(self.segment_labels),
            "start_labels": list(self.start_labels),
            "static_columns": [c.record() for c in self.static_columns],
            "continuous_column": self.continuous_column,
            "segment_column": self.segment_column,
            "start_column": self.start_column,
            "start_base": self.start_base,
        }

    @classmethod
    def from_parts(cls, schema: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> PopulationModel:
        """The inverse of :meth:`schema` and :meth:`arrays`."""
        return cls(
            weights=arrays["weights"],
            design=arrays["design"],
            segment=arrays["segment"],
            start=arrays["start"],
            covariate_names=tuple(schema["covariate_names"]),
            segment_labels=tuple(schema["segment_labels"]),
            start_labels=tuple(schema["start_labels"]),
            start_weeks_since_purchase=arrays["start_weeks_since_purchase"],
            static_columns=tuple(StaticColumn.from_record(r) for r in schema["static_columns"]),
            continuous_column=schema.get("continuous_column"),
            continuous_quantiles=arrays.get("continuous_quantiles"),
            segment_column=schema.get("segment_column"),
            start_column=schema.get("start_column"),
            start_base=int(schema.get("start_base", 0)),
        )


def scaled_columns(names: Sequence[str], design: np.ndarray, descriptions: Sequence[str] | None = None) -> tuple[StaticColumn, ...]:
    """One static column per design column, scaled by the column's range over ``design`` (min-max to [0, 1])."""
    low, high = design.min(axis=0), design.max(axis=0)
    span = np.where(high > low, high - low, 1.0)
    return tuple(
        StaticColumn(name, descriptions[j] if descriptions else f"covariate {name}, scaled to [0, 1] over the population",
                     "design", (j,), float(low[j]), float(span[j]))
        for j, name in enumerate(names)
    )


def _codes(owner: str, name: str, value: Any, n_profiles: int, n_codes: int) -> np.ndarray:
    codes = np.asarray(value)
    if codes.shape != (n_profiles,) or not np.issubdtype(codes.dtype, np.integer) or (codes < 0).any() or (codes >= n_codes).any():
        raise PopulationError(
            f"PopulationModel.{name}: received {_describe(codes)}, expected {n_profiles} integer codes in 0..{n_codes - 1}."
        )
    return codes.astype(np.int64)


def _describe(value: np.ndarray | None) -> str:
    if value is None:
        return "None"
    return f"an array of shape {value.shape} and dtype {value.dtype}"
