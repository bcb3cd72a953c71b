"""Datasets: a validated specification of a trial and a transaction log to calibrate a simulator from.

:func:`load_spec` reads a spec (YAML; :func:`spec_from_flags` builds one from
command-line values), :func:`load_trial`, :func:`load_log` and
:func:`load_dataset` read and check the files it names.  :func:`builtin_spec`
is the Hillstrom trial with the CDNOW log.  Names are imported on first use.
"""

from typing import TYPE_CHECKING

from journeygym.lazy import lazy_attributes

_EXPORTS: dict[str, str] = {
    "AssumptionsSpec": "journeygym.datasets.spec",
    "BinnedSegment": "journeygym.datasets.spec",
    "DatasetSpec": "journeygym.datasets.spec",
    "LogSpec": "journeygym.datasets.spec",
    "OutcomesSpec": "journeygym.datasets.spec",
    "RecencySpec": "journeygym.datasets.spec",
    "TrialSpec": "journeygym.datasets.spec",
    "dataset_json_schema": "journeygym.datasets.spec",
    "load_spec": "journeygym.datasets.spec",
    "validate_spec": "journeygym.datasets.spec",
    "spec_from_flags": "journeygym.datasets.flags",
    "BUILTIN_SPEC": "journeygym.datasets.builtin",
    "EXAMPLE_SPECS": "journeygym.datasets.builtin",
    "builtin_spec": "journeygym.datasets.builtin",
    "example_spec": "journeygym.datasets.builtin",
    "example_spec_path": "journeygym.datasets.builtin",
    "CovariateEncoding": "journeygym.datasets.encoding",
    "fit_encoding": "journeygym.datasets.encoding",
    "python_identifiers": "journeygym.datasets.encoding",
    "TrialData": "journeygym.datasets.trial",
    "load_trial": "journeygym.datasets.trial",
    "Dataset": "journeygym.datasets.log",
    "load_dataset": "journeygym.datasets.log",
    "load_log": "journeygym.datasets.log",
    "file_sha256": "journeygym.datasets.reading",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_attributes(__name__, _EXPORTS)

if TYPE_CHECKING:
    from journeygym.datasets.builtin import BUILTIN_SPEC, EXAMPLE_SPECS, builtin_spec, example_spec, example_spec_path
    from journeygym.datasets.encoding import CovariateEncoding, fit_encoding, python_identifiers
    from journeygym.datasets.flags import spec_from_flags
    from journeygym.datasets.log import Dataset, load_dataset, load_log
    from journeygym.datasets.reading import file_sha256
    from journeygym.datasets.spec import (
        AssumptionsSpec,
        BinnedSegment,
        DatasetSpec,
        LogSpec,
        OutcomesSpec,
        RecencySpec,
        TrialSpec,
        dataset_json_schema,
        load_spec,
        validate_spec,
    )
    from journeygym.datasets.trial import TrialData, load_trial
