"""The logistic functions of the uplift models: the sigmoid and a fused softplus loss.

The fused loss is a PyTensor Op with a numba implementation; it computes the
binomial likelihood's ``sum(w * softplus(linear_predictor))`` and its gradient in one pass.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["sigmoid", "softplus_sum"]


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function ``1 / (1 + exp(-x))``, element-wise."""
    from scipy.special import expit

    return expit(x)


def softplus_sum(linear_predictor: Any, weights: np.ndarray) -> Any:
    """``sum(weights * log(1 + exp(linear_predictor)))`` as one fused, numba-compiled pass when available."""
    op = _logistic_loss_op()
    if op is None:
        import pytensor.tensor as pt

        return pt.dot(weights, pt.softplus(linear_predictor))
    return op(linear_predictor, weights)[0]


_LOSS_OP: list[Any] = []


def _logistic_loss_op() -> Any:
    """The fused loss Op, or ``None`` where this PyTensor cannot take a numba implementation.

    PyTensor computes ``softplus`` and its derivative ``sigmoid`` as separate
    element-wise passes with their own exponentials and temporaries; one loop
    computing both from a single ``exp(-|linear_predictor|)`` roughly halves the cost of a
    gradient, which is most of the sampler's time.
    """
    if _LOSS_OP:
        return _LOSS_OP[0]
    try:
        from pytensor.link.numba.dispatch.basic import numba_njit, register_funcify_default_op_cache_key
    except ImportError:
        _LOSS_OP.append(None)
        return None
    op_class = _make_loss_op_class()

    @register_funcify_default_op_cache_key(op_class)
    def _numba_loss(op: Any, node: Any = None, **kwargs: Any) -> Any:
        @numba_njit
        def loss(linear_predictor: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            derivative = np.empty(linear_predictor.shape[0])
            total = 0.0
            for i in range(linear_predictor.shape[0]):
                x = linear_predictor[i]
                small = math.exp(-abs(x))
                total += weights[i] * (max(x, 0.0) + math.log1p(small))
                inverse = 1.0 / (1.0 + small)
                derivative[i] = weights[i] * (inverse if x >= 0.0 else small * inverse)
            return np.asarray(total), derivative

        return loss

    _LOSS_OP.append(op_class())
    return _LOSS_OP[0]


def _make_loss_op_class() -> type:
    import pytensor.tensor as pt
    from pytensor.gradient import DisconnectedType
    from pytensor.graph.basic import Apply
    from pytensor.graph.op import Op

    class LogisticLoss(Op):
        """``(sum(w * softplus(lp)), w * sigmoid(lp))``: the loss and its gradient in the linear predictor ``lp``."""

        __props__ = ()

        def make_node(self, linear_predictor: Any, weights: Any) -> Apply:
            linear_predictor = pt.as_tensor_variable(linear_predictor).astype("float64")
            weights = pt.as_tensor_variable(weights).astype("float64")
            return Apply(self, [linear_predictor, weights], [pt.dscalar(), pt.dvector()])

        def perform(self, node: Apply, inputs: list[np.ndarray], outputs: list[list[Any]]) -> None:
            linear_predictor, weights = inputs
            outputs[0][0] = np.asarray(np.dot(weights, np.logaddexp(0.0, linear_predictor)))
            outputs[1][0] = weights * sigmoid(linear_predictor)

        def connection_pattern(self, node: Apply) -> list[list[bool]]:
            return [[True, True], [False, False]]

        def grad(self, inputs: list[Any], output_grads: list[Any]) -> list[Any]:
            linear_predictor, weights = inputs
            if not isinstance(output_grads[1].type, DisconnectedType):
                raise NotImplementedError("LogisticLoss: the derivative output has no gradient of its own.")
            return [output_grads[0] * self(linear_predictor, weights)[1], DisconnectedType()()]

    LogisticLoss.__qualname__ = LogisticLoss.__name__ = "JourneygymLogisticLoss"
    return LogisticLoss
