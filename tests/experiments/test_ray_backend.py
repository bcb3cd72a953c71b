"""``backend: ray`` gives the same table as the local backend, on a local Ray instance.

The ``ray`` extra is part of the test install, so CI runs this; without ray the
test is skipped.
"""

from __future__ import annotations

import pandas as pd
import pytest

from journeygym.experiments.config import load_config
from journeygym.experiments.runner import run_experiment


@pytest.mark.slow
def test_the_same_config_with_backend_ray_gives_the_same_table(tiny, tmp_path, comparable):
    pytest.importorskip("ray", reason="the optional 'ray' extra is not installed")
    policies = ["never", "random", "lookalike", "oracle"]
    local = run_experiment(load_config(tiny(policies=policies)), tmp_path / "local", progress=False, report=False)
    on_ray = load_config(tiny(policies=policies, backend="ray", n_workers=2))
    distributed = run_experiment(on_ray, tmp_path / "ray", progress=False, report=False)
    assert len(distributed.table) == len(local.table) > 0
    pd.testing.assert_frame_equal(comparable(local.table), comparable(distributed.table))
