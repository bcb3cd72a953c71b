"""Parameters of the purchase HMM: their container, random starting points and validation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from journeygym.errors import DataValidationError

__all__ = ["HMMParams", "params_from_dict", "random_params"]


@dataclass(frozen=True, eq=False)
class HMMParams:
    """The parameters of a categorical HMM, states in any order."""

    startprob: np.ndarray  # (K,)
    transmat: np.ndarray  # (K, K)
    emission: np.ndarray  # (K, M)


def random_params(rng: np.random.Generator, n_states: int, n_symbols: int) -> HMMParams:
    """A random, plausible starting point: sticky states whose purchase
    probabilities are spread on a log scale."""
    startprob = rng.dirichlet(np.ones(n_states))
    stickiness = rng.uniform(0.6, 0.95, size=n_states)[:, None]
    transmat = (1 - stickiness) * rng.dirichlet(np.ones(n_states), size=n_states)
    transmat += stickiness * np.eye(n_states)
    purchase = np.sort(10 ** rng.uniform(-3, np.log10(0.5), size=n_states))
    split = rng.dirichlet(np.ones(n_symbols - 1), size=n_states)
    emission = np.column_stack([1 - purchase, purchase[:, None] * split])
    return HMMParams(startprob, transmat, emission)


def params_from_dict(init: dict[str, Any], n_states: int, n_symbols: int) -> HMMParams:
    """Validated parameters from a dict with keys ``startprob``, ``transmat`` and ``emissionprob``.

    Raises
    ------
    DataValidationError
        Keys, shapes or values (non-negative, rows summing to 1) are wrong.
    """
    expected = {"startprob": (n_states,), "transmat": (n_states, n_states),
                "emissionprob": (n_states, n_symbols)}
    if set(init) != set(expected):
        raise DataValidationError(
            f"init_params must have exactly the keys {sorted(expected)}; "
            f"received {sorted(init)}."
        )
    arrays = {}
    for key, shape in expected.items():
        arr = np.asarray(init[key], dtype=np.float64)
        if arr.shape != shape:
            raise DataValidationError(
                f"init_params[{key!r}] must have shape {shape} for n_states="
                f"{n_states} and {n_symbols} symbols; received {arr.shape}."
            )
        if np.any(arr < 0) or not np.allclose(arr.sum(axis=-1), 1.0, atol=1e-8):
            raise DataValidationError(
                f"init_params[{key!r}] must be non-negative with rows summing "
                "to 1."
            )
        arrays[key] = arr
    return HMMParams(arrays["startprob"], arrays["transmat"], arrays["emissionprob"])
