"""The parameter artifact: one versioned ``.npz`` file holding S parameter draws.

Layout (format ``journeygym-artifact/3``): for every array field of
:class:`~journeygym.envs.parameters.DynamicsParameters`, ``draws/<field>``
stacked over draws (leading axis S) and ``mean/<field>``; the shared
population model's arrays under ``population/...`` (its names and observation
columns in the metadata's ``population`` entry); and ``metadata.json``, a JSON
document with names, the scenario assumptions (labelled as assumptions) and
provenance (package version, config hash, seed, data checksums, diagnostics).
The file holds fitted, aggregated parameters only, never raw data rows.

Writes are atomic: a failed save never leaves a half-written artifact or
overwrites an existing one.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import zipfile
import zlib
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from journeygym.envs.actions import action_table
from journeygym.envs.parameters import (
    DynamicsParameters,
    ParameterDraws,
    ParameterError,
    PopulationModel,
    ScenarioAssumptions,
)
from journeygym.files import atomic_write_bytes
from journeygym.records import to_jsonable

FORMAT_VERSION = "journeygym-artifact/3"
DEFAULT_ARTIFACT_NAME = "default_artifact.npz"
_ARRAY_FIELDS: tuple[str, ...] = (
    "transition",
    "initial_state_by_recency",
    "purchase_prob",
    "visit_prob",
    "purchase_offset",
    "purchase_covariate_effects",
    "visit_covariate_effects",
    "covariate_means",
    "purchase_response",
    "visit_response",
    "engagement_tilt",
    "spend_log_mean",
    "spend_log_sd",
    "purchase_segment_offset",
    "visit_segment_offset",
    "purchase_recency_offset",
    "visit_recency_offset",
    "carryover_levels",
)


class ArtifactError(ValueError):
    """An artifact file is missing, unreadable, damaged, not an artifact, or of an unknown format.

    The command line answers it with its own exit status (4, :mod:`journeygym.cli`).
    """


def default_artifact_path() -> Path:
    """Path of the artifact shipped with the package."""
    return Path(str(resources.files("journeygym") / "data" / DEFAULT_ARTIFACT_NAME))



def _same_population(a: PopulationModel, b: PopulationModel) -> bool:
    arrays_a, arrays_b = a.arrays(), b.arrays()
    return a.schema() == b.schema() and arrays_a.keys() == arrays_b.keys() and all(
        np.array_equal(arrays_a[k], arrays_b[k]) for k in arrays_a
    )


def save_artifact(draws: ParameterDraws, path: str | os.PathLike[str]) -> Path:
    """Write ``draws`` to ``path`` atomically (temporary file, then rename).

    Returns
    -------
    pathlib.Path
        The written path.

    Raises
    ------
    ArtifactError
        When the draws carry different population models: the format holds
        one (an aggregate of the data, not a posterior quantity).
    """
    path = Path(path)
    population = draws.mean.population
    for index, draw in enumerate(draws.draws):
        if draw.population is not population and not _same_population(draw.population, population):
            raise ArtifactError(
                f"draws[{index}].population differs from the mean's; the artifact holds one population model shared "
                "by all draws. Give every draw the mean's population (dataclasses.replace(draw, population=...))."
            )
    arrays: dict[str, np.ndarray] = {}
    for name in _ARRAY_FIELDS:
        arrays[f"draws/{name}"] = np.stack([np.asarray(getattr(d, name), dtype=np.float64) for d in draws.draws])
        arrays[f"mean/{name}"] = np.asarray(getattr(draws.mean, name), dtype=np.float64)
    arrays.update({f"population/{name}": value for name, value in population.arrays().items()})
    metadata = {
        "format": FORMAT_VERSION,
        "state_names": list(draws.mean.state_names),
        "action_names": list(draws.mean.action_names),
        "population": population.schema(),
        "visits_follow_purchases": draws.mean.visits_follow_purchases,
        "assumptions": draws.assumptions.to_dict(),
        **to_jsonable(dict(draws.metadata)),
    }
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays, **{"metadata.json": np.array(json.dumps(metadata, sort_keys=True))})
    return atomic_write_bytes(path, buffer.getvalue())


def load_artifact(path: str | os.PathLike[str] | None = None) -> ParameterDraws:
    """Read a parameter artifact; ``None`` reads the artifact shipped with the package.

    Raises
    ------
    ArtifactError
        If the file is missing, not an artifact, or of an unknown format version.
    """
    path = default_artifact_path() if path is None else Path(path)
    contents = _read_archive(path)
    if "metadata.json" not in contents:
        raise ArtifactError(f"artifact: {str(path)!r} has no metadata.json entry; it is not a journeygym artifact.")
    metadata = _read_metadata(path, contents.pop("metadata.json"))
    if metadata.get("format") != FORMAT_VERSION:
        raise ArtifactError(
            f"artifact: {str(path)!r} has format {metadata.get('format')!r}, expected {FORMAT_VERSION!r}; "
            "re-create it with this version's `journeygym calibrate`."
        )
    try:
        population = PopulationModel.from_parts(
            metadata["population"],
            {key.removeprefix("population/"): value for key, value in contents.items() if key.startswith("population/")},
        )
    except (KeyError, TypeError) as error:
        raise ArtifactError(
            f"artifact: {str(path)!r} has no complete population model (missing {error}); re-create it with this "
            "version's `journeygym calibrate`."
        ) from error
    names = {
        "state_names": tuple(metadata["state_names"]),
        "action_names": tuple(metadata["action_names"]),
        "visits_follow_purchases": bool(metadata.get("visits_follow_purchases", False)),
    }

    def parameters(prefix: str, index: int | None) -> DynamicsParameters:
        values = {}
        for name in _ARRAY_FIELDS:
            value = contents[f"{prefix}/{name}"]
            value = value[index] if index is not None else value
            values[name] = float(value) if value.ndim == 0 else value
        values["carryover_levels"] = tuple(float(v) for v in values["carryover_levels"])
        return DynamicsParameters(**values, population=population, **names)

    missing = [f"{prefix}/{name}" for prefix in ("draws", "mean") for name in _ARRAY_FIELDS if f"{prefix}/{name}" not in contents]
    if missing:
        raise ArtifactError(
            f"artifact: {str(path)!r} lacks {missing[:3]}{' ...' if len(missing) > 3 else ''}; it was written by an older "
            "version. Re-create it with this version's `journeygym calibrate`."
        )
    n_draws = contents["draws/transition"].shape[0]
    draws = []
    for index in range(n_draws):
        try:
            draws.append(parameters("draws", index))
        except ParameterError as exc:
            raise ArtifactError(
                f"artifact: {str(path)!r}: draw {index} (of {n_draws}) holds invalid parameters: {exc} "
                "Re-create the artifact with `journeygym calibrate`."
            ) from exc
    try:
        mean = parameters("mean", None)
    except ParameterError as exc:
        raise ArtifactError(f"artifact: {str(path)!r}, the mean parameters (mean/...), are invalid: {exc}") from exc
    provenance = {k: v for k, v in metadata.items() if k not in ("state_names", "action_names", "assumptions")}
    provenance["path"] = str(path)
    recorded = dict(metadata["assumptions"])
    unknown = sorted(set(recorded) - {f.name for f in dataclasses.fields(ScenarioAssumptions)})
    if unknown:
        raise ArtifactError(
            f"artifact: {str(path)!r} records the assumptions {unknown}, which this version does not have (an artifact "
            "of an older version: fatigue is now a decaying stock). Re-create it with this version's `journeygym calibrate`."
        )
    try:
        assumptions = ScenarioAssumptions(**{**recorded, "action_costs": tuple(recorded["action_costs"])})
    except ParameterError as exc:
        raise ArtifactError(f"artifact: {str(path)!r} records invalid assumptions: {exc}") from exc
    if "actions" in provenance:
        try:
            action_table(mean.action_names, assumptions.action_costs, provenance["actions"])
        except ValueError as exc:
            raise ArtifactError(f"artifact: {str(path)!r}: {exc}") from None
    return ParameterDraws(draws=tuple(draws), mean=mean, assumptions=assumptions, metadata=provenance)


_ZIP_MAGIC = b"PK\x03\x04"
#: Keys of metadata.json that every artifact has.
_METADATA_KEYS = ("format", "state_names", "action_names", "assumptions", "population")


def _read_metadata(path: Path, entry: np.ndarray) -> dict[str, Any]:
    """The ``metadata.json`` entry of an artifact as a mapping, or one clear :class:`ArtifactError` saying why not."""
    fix = "Re-create the artifact with `journeygym calibrate --out FILE`, or pass artifact=None for the shipped default."
    text = str(entry)
    try:
        metadata = json.loads(text)
    except ValueError as exc:
        shown = text if len(text) <= 40 else text[:37] + "..."
        raise ArtifactError(
            f"artifact: {str(path)!r} has a metadata.json entry that is not JSON ({exc}; it starts {shown!r}); "
            f"expected the JSON object journeygym writes. {fix}"
        ) from None
    if not isinstance(metadata, dict):
        raise ArtifactError(
            f"artifact: {str(path)!r} has a metadata.json entry holding a JSON {type(metadata).__name__}, expected "
            f"a JSON object with the keys {list(_METADATA_KEYS)}. {fix}"
        )
    missing = [key for key in _METADATA_KEYS if key not in metadata]
    if missing and "format" in metadata:  # without a format, the format check names the problem
        raise ArtifactError(
            f"artifact: {str(path)!r} has a metadata.json without the key(s) {missing}; expected the keys "
            f"{list(_METADATA_KEYS)}. {fix}"
        )
    return metadata


def _read_archive(path: Path) -> dict[str, np.ndarray]:
    """Every entry of the ``.npz`` file at ``path``, or one clear :class:`ArtifactError` saying why not."""
    fix = "Re-create it with `journeygym calibrate --out FILE`, or pass artifact=None for the shipped default."
    if not path.is_file():
        what = "a directory" if path.is_dir() else "no file"
        raise ArtifactError(f"artifact: {what} at {str(path)!r}; expected a journeygym artifact (.npz file). {fix}")
    try:
        with path.open("rb") as handle:
            head = handle.read(len(_ZIP_MAGIC))
    except OSError as exc:
        raise ArtifactError(f"artifact: cannot read {str(path)!r} ({exc}).") from exc
    if not head:
        raise ArtifactError(f"artifact: {str(path)!r} is empty (0 bytes); expected a journeygym artifact (.npz). {fix}")
    if head != _ZIP_MAGIC:
        raise ArtifactError(
            f"artifact: {str(path)!r} is not a journeygym artifact: expected a .npz (zip) archive, found a file starting "
            f"with {head!r}. {fix}"
        )
    try:
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as exc:
        size = path.stat().st_size
        raise ArtifactError(
            f"artifact: {str(path)!r} ({size} bytes) is damaged or truncated and does not read back "
            f"({type(exc).__name__}: {exc}). {fix}"
        ) from exc


def load_parameters(source: str | os.PathLike[str] | ParameterDraws | None = None) -> ParameterDraws:
    """Resolve what an env was given as its parameters: ``None`` (shipped default), a path, or draws."""
    if isinstance(source, ParameterDraws):
        return source
    if source is None or isinstance(source, (str, os.PathLike)):
        return _cached_load(None if source is None else str(Path(source).resolve()))
    raise ParameterError(
        f"artifact: received {type(source).__name__}, expected None (the shipped default), "
        "a path to an artifact file, or a ParameterDraws object."
    )


_CACHE: dict[tuple[str | None, float], ParameterDraws] = {}


def _cached_load(path: str | None) -> ParameterDraws:
    resolved = default_artifact_path() if path is None else Path(path)
    try:
        stamp = resolved.stat().st_mtime
    except OSError:
        return load_artifact(resolved)
    key = (str(resolved), stamp)
    if key not in _CACHE:
        _CACHE[key] = load_artifact(resolved)
    return _CACHE[key]
