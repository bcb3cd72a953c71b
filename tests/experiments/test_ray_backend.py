"""The Ray backend gives the same table as the local one (skipped without the optional ``ray`` extra)."""

from __future__ import annotations

import pandas as pd
import pytest

from journeygym.experiments.config import load_config
from journeygym.experiments.runner import run_experiment


@pytest.mark.slow
def test_ray_backend_matches_the_serial_run(tiny, tmp_path, comparable):
    ray = pytest.importorskip("ray", reason="the optional 'ray' extra is not installed")
    from journeygym.experiments.backends import RayBackend

    config = load_config(tiny(policies=["never", "random", "oracle"]))
    serial = run_experiment(config, tmp_path / "serial", progress=False, report=False)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        distributed = run_experiment(config, tmp_path / "ray", progress=False, report=False, backend=RayBackend())
    finally:
        ray.shutdown()
    pd.testing.assert_frame_equal(comparable(serial.table), comparable(distributed.table))
