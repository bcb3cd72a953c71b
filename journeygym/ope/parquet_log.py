"""A Parquet log read as episodes a column at a time, never as a whole table.

A million customers x 52 weeks is about 7 GiB as a pandas table and 3.7 GiB
as episodes (:class:`~journeygym.ope.episodes.LoggedEpisodes`, with the
per-customer observation columns stored once).  :func:`episodes_from_parquet`
reads each column the episodes need straight from the file into the episode
arrays, so the table is never in memory: its peak is the episodes and a few
columns.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from journeygym.baselines.logged_data.schema import METADATA_KEY
from journeygym.ope.episodes import LoggedEpisodes, OPEInputError, episodes_from_columns

__all__ = ["ParquetColumns", "episodes_from_parquet"]


class ParquetColumns:
    """:class:`~journeygym.ope.episodes.LogColumns` of a Parquet file: each column read when asked for.

    Parameters
    ----------
    path
        A Parquet file in the logged-data schema; its journeygym metadata record, when it has one, is
        ``attrs["journeygym"]``.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        import pyarrow.parquet as pq

        self.path = Path(path)
        self._file = pq.ParquetFile(self.path)
        schema = self._file.schema_arrow
        self.columns = list(schema.names)
        raw = (schema.metadata or {}).get(METADATA_KEY)
        self.attrs: dict[str, Any] = {} if raw is None else {"journeygym": json.loads(raw)}
        self._schema = schema

    @property
    def n_rows(self) -> int:
        return int(self._file.metadata.num_rows)

    def dtype(self, name: str) -> Any:
        try:
            return np.dtype(self._schema.field(name).type.to_pandas_dtype())
        except (NotImplementedError, TypeError):
            return np.dtype(object)

    def values(self, name: str) -> np.ndarray:
        # Through pandas: an integer column with missing values becomes floats with NaN, which the reader refuses.
        return self._file.read(columns=[name]).column(0).to_pandas().to_numpy()


def episodes_from_parquet(path: str | os.PathLike[str], action_names: Any = None) -> LoggedEpisodes:
    """Read a Parquet log in the logged-data schema as episodes, a column at a time.

    The same episodes as ``episodes_from_frame(read_parquet_log(path)[0])``, without the table.

    Parameters
    ----------
    path
        The Parquet file.
    action_names
        As :func:`~journeygym.ope.episodes.episodes_from_frame`.

    Raises
    ------
    OPEInputError
        For a missing file, a file without rows, and everything :func:`~journeygym.ope.episodes.episodes_from_frame`
        refuses.
    """
    path = Path(path)
    if not path.is_file():
        raise OPEInputError(f"log: no file at {str(path)!r}; expected a Parquet table in the logged-data schema.")
    columns = ParquetColumns(path)
    if columns.n_rows == 0:
        raise OPEInputError(
            f"log: {str(path)!r} has no rows (columns {columns.columns[:6]}{' ...' if len(columns.columns) > 6 else ''}); "
            "expected one row per customer and week."
        )
    return episodes_from_columns(columns, action_names)
