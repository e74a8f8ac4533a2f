"""Adafactor (Shazeer & Stern), as PyTorch's ``torch.optim.Adafactor`` computes it: second
moments of matrices kept factored (a row and a column running mean of squared gradients, their
outer product over the rows' mean as the estimate), of vectors kept whole; steps relative to the
parameter's RMS, clipped by the update's RMS over ``d``; no first moment."""

import numpy as np

from ..tensor import Tensor, _make
from .optimizer import Optimizer, _arr, _state_like, _step_tensor, _touch


def _lerp_(start, end, weight):
    """``start.lerp_(end, weight)`` in place, with PyTorch's two forms (exact at weight 1)."""
    if weight < 0.5:
        start += weight * (end - start)
    else:
        start[...] = end - (end - start) * (1.0 - weight)


class Adafactor(Optimizer):
    """Adafactor: ``beta2_t = 1 - t ** beta2_decay``, relative step ``min(lr, 1 / sqrt(t))``
    times ``max(eps2, RMS(param))``, ``eps1`` (default: the dtype's eps) bounding the variance
    estimate from below, ``d`` the clipping threshold, decoupled ``weight_decay``."""

    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0,
                 weight_decay=0.0, *, foreach=None, maximize=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        super().__init__(params, dict(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d,
                                      weight_decay=weight_decay, foreach=foreach,
                                      maximize=maximize))

    def _state(self, p, g):
        """``p``'s state, made at its first step as PyTorch's: factored for a matrix (or a
        batch of them), a full variance for a vector."""
        st = self.state[p]
        if len(st) == 0:
            st["step"] = _step_tensor(0.0)
            if g.ndim > 1:
                dtype = p._arr().dtype
                st["row_var"] = _make(np.zeros(g.shape[:-1] + (1,), dtype))
                st["col_var"] = _make(np.zeros(g.shape[:-2] + (1,) + g.shape[-1:], dtype))
            else:
                st["variance"] = _state_like(p)
        return st

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr, decay, wd, d = (float(group["lr"]), group["beta2_decay"],
                                group["weight_decay"], group["d"])
            eps1, eps2 = group["eps"]
            for p in group["params"]:
                if p.grad is not None and p.dtype.kind == "c":
                    raise RuntimeError("Adafactor does not support complex parameters")
            for p, g, data in self._params_with_grad(group):
                st = self._state(p, g)
                t = float(st["step"]) + 1
                st["step"] = _step_tensor(t)
                e1 = np.finfo(data.dtype).eps if eps1 is None else eps1
                weight = t ** decay  # (1 - beta2_t)
                alpha = max(eps2, float(np.linalg.norm(data)) / data.size ** 0.5) * \
                    min(lr, 1 / t ** 0.5)
                if wd != 0:
                    data *= 1 - lr * wd
                if g.ndim > 1:
                    row, col = _arr(st["row_var"]), _arr(st["col_var"])
                    _lerp_(row, np.sum(g * g, axis=-1, keepdims=True) / g.shape[-1], weight)
                    _lerp_(col, np.sum(g * g, axis=-2, keepdims=True) / g.shape[-2], weight)
                    estimate = (row @ col) / np.maximum(row.mean(axis=-2, keepdims=True), e1)
                else:
                    variance = _arr(st["variance"])
                    _lerp_(variance, g * g, weight)
                    estimate = variance  # (read only: the clamp below makes a new array)
                update = g / np.sqrt(np.maximum(estimate, e1 * e1))
                denom = max(1.0, float(np.linalg.norm(update)) / (update.size ** 0.5 * d))
                data += (-alpha / denom) * update
                _touch(p)
        return loss
