"""The dataset specs shipped with the package: the built-in Hillstrom + CDNOW pair and examples.

Each is a YAML file of this package whose data paths are file names; they are
resolved against a data directory (the argument, else ``$JOURNEYGYM_DATA_DIR``).
A spec for one's own data can start from a copy of one (:func:`example_spec_path`).
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from journeygym.datasets.transactions import DATA_DIR_ENV
from journeygym.datasets.spec import DatasetSpec, load_spec
from journeygym.errors import DataValidationError
from journeygym.messages import did_you_mean

__all__ = ["BUILTIN_SPEC", "EXAMPLE_SPECS", "builtin_spec", "example_spec", "example_spec_path"]

#: The spec of the data the package's simulator is calibrated from.
BUILTIN_SPEC = "hillstrom_cdnow"
#: Every shipped spec, by name.
EXAMPLE_SPECS: tuple[str, ...] = (BUILTIN_SPEC, "information_complete_journey")


def example_spec_path(name: str) -> Path:
    """The YAML file of the shipped spec ``name``.

    Raises
    ------
    DataValidationError
        If no spec has that name.
    """
    if name not in EXAMPLE_SPECS:
        raise DataValidationError(
            f"received the spec name {name!r}{did_you_mean(name, EXAMPLE_SPECS)}, expected one of {list(EXAMPLE_SPECS)}."
        )
    return Path(str(resources.files("journeygym.datasets").joinpath(f"{name}.yaml")))


def _data_dir(data_dir: str | os.PathLike[str] | None) -> Path:
    if data_dir is not None:
        return Path(data_dir).expanduser()
    if os.environ.get(DATA_DIR_ENV):
        return Path(os.environ[DATA_DIR_ENV]).expanduser()
    raise DataValidationError(
        f"no data directory: received none, expected the directory that holds the data files. Pass it, or set "
        f"{DATA_DIR_ENV} (e.g. `export {DATA_DIR_ENV}=/path/to/data`)."
    )


def example_spec(name: str, data_dir: str | os.PathLike[str] | None = None) -> DatasetSpec:
    """The shipped spec ``name`` (one of :data:`EXAMPLE_SPECS`) with its files in ``data_dir``.

    Parameters
    ----------
    name
        The spec's name, e.g. ``"information_complete_journey"``.
    data_dir
        The directory holding the spec's files; default ``$JOURNEYGYM_DATA_DIR``.
    """
    return load_spec(example_spec_path(name), base_dir=_data_dir(data_dir))


def builtin_spec(data_dir: str | os.PathLike[str] | None = None) -> DatasetSpec:
    """The built-in spec: the Hillstrom trial and the CDNOW log in ``data_dir`` (default ``$JOURNEYGYM_DATA_DIR``)."""
    return example_spec(BUILTIN_SPEC, data_dir)
