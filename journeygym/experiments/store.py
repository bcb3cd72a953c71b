"""The result store: one Parquet file per finished cell, written atomically.

Layout of a results directory::

    config.yaml              the normalized config of the run
    manifest.json            provenance and the planned cells
    cells/<cell_id>.parquet  one row per (cell, posterior draw)
    models/<cell_id>/        trained agents and their training logs
    logs/                    logged campaign data the seed baselines trained on
    report/                  report.md, report.html, figures

A cell file appears complete or not at all (written to a temporary file in the
same directory, then renamed with ``os.replace``), so an interrupted run never
leaves a half-written cell, and a cell file's presence means the cell is done.
Each cell's id hashes everything that determines its result, so a changed
config never reuses a stale cell.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from journeygym.files import atomic_write_bytes, atomic_write_text

__all__ = ["ResultStore", "atomic_write_bytes", "atomic_write_text"]

_CELL_SUFFIX = ".parquet"


class ResultStore:
    """Reads and writes the cells of one results directory.

    Parameters
    ----------
    root
        The results directory (created when the first file is written).
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.cells_dir = self.root / "cells"

    def cell_path(self, cell_id: str) -> Path:
        """Where the cell's rows live."""
        return self.cells_dir / f"{cell_id}{_CELL_SUFFIX}"

    def model_dir(self, cell_id: str) -> Path:
        """Where the cell's trained agent and training logs live."""
        return self.root / "models" / cell_id

    def has(self, cell_id: str) -> bool:
        """Whether the cell is finished."""
        return self.cell_path(cell_id).is_file()

    def finished(self) -> set[str]:
        """Ids of every finished cell in the directory."""
        if not self.cells_dir.is_dir():
            return set()
        return {p.name[: -len(_CELL_SUFFIX)] for p in self.cells_dir.glob(f"*{_CELL_SUFFIX}") if not p.name.startswith(".")}

    def write_cell(
        self,
        cell_id: str,
        rows: Sequence[Mapping[str, Any]],
        metadata: Mapping[str, Any] | None = None,
        schema: pa.Schema | None = None,
    ) -> Path:
        """Write a finished cell (its rows, one per draw) atomically, with ``schema`` when given."""
        if not rows:
            raise ValueError(f"ResultStore.write_cell: cell {cell_id!r} has no rows; expected one per draw.")
        table = pa.Table.from_pylist([dict(r) for r in rows], schema=schema)
        if metadata:
            table = table.replace_schema_metadata({b"journeygym": json.dumps(dict(metadata), default=str).encode()})
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink, compression="zstd")
        return atomic_write_bytes(self.cell_path(cell_id), sink.getvalue().to_pybytes())

    def read_cell(self, cell_id: str) -> pd.DataFrame:
        """The rows of one finished cell."""
        return pd.read_parquet(self.cell_path(cell_id))

    def read(self, cell_ids: Iterable[str] | None = None) -> pd.DataFrame:
        """Rows of the given cells (default: every finished cell), sorted by cell and draw."""
        ids = sorted(self.finished() if cell_ids is None else cell_ids)
        missing = [c for c in ids if not self.has(c)]
        if missing:
            raise FileNotFoundError(
                f"ResultStore.read: {len(missing)} cell(s) not finished in {str(self.root)!r} (e.g. {missing[0]!r}); "
                "run the experiment with --resume to complete them."
            )
        if not ids:
            return pd.DataFrame()
        frame = pd.concat([self.read_cell(c) for c in ids], ignore_index=True)
        return frame.sort_values(["cell_id", "draw_position"], kind="stable").reset_index(drop=True)

    def write_json(self, name: str, payload: Mapping[str, Any]) -> Path:
        """Write a JSON document at the root atomically."""
        return atomic_write_text(self.root / name, json.dumps(dict(payload), indent=2, sort_keys=True, default=str))

    def read_json(self, name: str) -> dict[str, Any]:
        """Read a JSON document written by :meth:`write_json`."""
        path = self.root / name
        if not path.is_file():
            raise FileNotFoundError(f"{str(path)!r} not found; is {str(self.root)!r} a journeygym results directory?")
        return json.loads(path.read_text())
