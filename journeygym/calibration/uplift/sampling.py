"""Sampling the uplift models' posteriors and checking their convergence.

Sampling uses nutpie (numba backend), falling back to PyMC's NUTS only when
nutpie is not installed. Every fit is checked: split R-hat <= 1.01, bulk and
tail ESS >= 400 for every parameter, and no divergent transitions.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["ESS_MIN", "RHAT_MAX", "ConvergenceError", "ConvergenceWarning", "check_convergence", "sample_posterior"]

#: Largest acceptable split R-hat of any parameter.
RHAT_MAX = 1.01
#: Smallest acceptable bulk and tail effective sample size of any parameter.
ESS_MIN = 400


class ConvergenceWarning(UserWarning):
    """The sampler's diagnostics fail the convergence criteria; the posterior is not to be trusted."""


class ConvergenceError(RuntimeError):
    """Raised instead of :class:`ConvergenceWarning` when ``on_failure="raise"``."""


def sample_posterior(
    model: Any, draws: int, tune: int, chains: int, seed: int, cores: int, target_accept: float, low_rank: bool
) -> tuple[Any, dict[str, Any]]:
    """Sample with nutpie (PyMC's NUTS if nutpie is missing); returns the trace and timings."""
    from threadpoolctl import threadpool_limits

    info: dict[str, Any] = {}
    # Chains run in parallel threads; a multi-threaded BLAS inside each gradient
    # oversubscribes the cores and halves the speed.
    with threadpool_limits(limits=1, user_api="blas"):
        try:
            import nutpie
        except ImportError:
            nutpie = None
        if nutpie is not None:
            start = time.perf_counter()
            compiled = nutpie.compile_pymc_model(model, backend="numba")
            info["compile_seconds"] = time.perf_counter() - start
            start = time.perf_counter()
            idata = nutpie.sample(
                compiled,
                draws=draws,
                tune=tune,
                chains=chains,
                cores=cores,
                seed=seed,
                progress_bar=False,
                target_accept=target_accept,
                low_rank_modified_mass_matrix=low_rank,
                save_warmup=False,
            )
            info["sampling_seconds"] = time.perf_counter() - start
            info["sampler"] = f"nutpie {nutpie.__version__} (numba)"
        else:
            import pymc as pm

            start = time.perf_counter()
            with model:
                idata = pm.sample(
                    draws=draws,
                    tune=tune,
                    chains=chains,
                    cores=cores,
                    random_seed=seed,
                    target_accept=target_accept,
                    progressbar=False,
                    compute_convergence_checks=False,
                )
            info["compile_seconds"] = 0.0
            info["sampling_seconds"] = time.perf_counter() - start
            info["sampler"] = f"pymc {pm.__version__} NUTS (nutpie not installed)"
    return idata, info


def check_convergence(
    idata: Any, var_names: Sequence[str] | None = None, rhat_max: float = RHAT_MAX, ess_min: float = ESS_MIN
) -> dict[str, Any]:
    """Convergence diagnostics of a posterior against fixed criteria.

    Parameters
    ----------
    idata
        ArviZ InferenceData with a ``posterior`` group and ``sample_stats``.
    var_names
        Parameters to check (default: all posterior variables).
    rhat_max, ess_min
        Largest split R-hat and smallest bulk and tail ESS accepted.

    Returns
    -------
    dict
        ``passed``, ``max_rhat``, ``min_ess_bulk``, ``min_ess_tail``,
        ``divergences``, ``failures`` (list of ``"parameter: statistic =
        value"``) and ``criteria``; all plain Python values.
    """
    import arviz as az

    names = list(var_names) if var_names is not None else list(idata.posterior.data_vars)
    posterior = idata.posterior[names]
    rows = {
        "r_hat": az.rhat(posterior),
        "ess_bulk": az.ess(posterior, method="bulk"),
        "ess_tail": az.ess(posterior, method="tail"),
    }
    failures: list[str] = []
    extremes: dict[str, float] = {}
    for statistic, dataset in rows.items():
        worst_overall = math.nan
        for name in names:
            values = np.asarray(dataset[name].values, dtype=np.float64).reshape(-1)
            labels = _element_labels(dataset[name])
            bad = values > rhat_max if statistic == "r_hat" else values < ess_min
            bad |= ~np.isfinite(values)
            failures.extend(f"{name}{labels[k]}: {statistic} = {values[k]:.4g}" for k in np.flatnonzero(bad))
            finite = values[np.isfinite(values)]
            if finite.size:
                worst = finite.max() if statistic == "r_hat" else finite.min()
                worst_overall = worst if math.isnan(worst_overall) else (
                    max(worst_overall, worst) if statistic == "r_hat" else min(worst_overall, worst)
                )
        extremes[statistic] = float(worst_overall)
    divergences = int(np.asarray(idata.sample_stats["diverging"]).sum())
    if divergences:
        failures.append(f"sampler: {divergences} divergent transition(s)")
    return {
        "passed": not failures,
        "max_rhat": extremes["r_hat"],
        "min_ess_bulk": extremes["ess_bulk"],
        "min_ess_tail": extremes["ess_tail"],
        "divergences": divergences,
        "failures": failures,
        "criteria": {"rhat_max": rhat_max, "ess_bulk_min": ess_min, "ess_tail_min": ess_min, "divergences": 0},
    }


def _element_labels(array: Any) -> list[str]:
    dims = [dim for dim in array.dims]
    if not dims:
        return [""]
    grids = np.meshgrid(*[array.coords[dim].values if dim in array.coords else np.arange(array.sizes[dim]) for dim in dims], indexing="ij")
    flat = [grid.reshape(-1) for grid in grids]
    return ["[" + ", ".join(str(part[k]) for part in flat) + "]" for k in range(flat[0].shape[0])]
