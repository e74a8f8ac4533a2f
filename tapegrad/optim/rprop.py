"""Rprop and ASGD, PyTorch's updates."""

import numpy as np

from .optimizer import (Optimizer, _arr, _scalar_state, _state_like, _step_tensor,
                        _touch)


class Rprop(Optimizer):
    """Resilient backpropagation: a step size per element, grown by ``etas[1]`` while the
    gradient keeps its sign and shrunk by ``etas[0]`` (that step skipped) when it flips,
    within ``step_sizes``; the parameter moves by the step size against the gradient's sign."""

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        self._check_non_negative(lr=lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            (minus, plus), (lo, hi) = group["etas"], group["step_sizes"]
            for p, g, data in self._params_with_grad(group):
                st = self.state[p]
                if len(st) == 0:
                    st["step"] = _step_tensor(0.0)
                    st["prev"] = _state_like(p)
                    st["step_size"] = _state_like(p, group["lr"] if p.dtype.kind != "c" else
                                                   complex(group["lr"], group["lr"]))
                st["step"] = _step_tensor(float(st["step"]) + 1)
                prev, size = _arr(st["prev"]), _arr(st["step_size"])
                sign = np.sign(g * prev)
                factor = np.where(sign > 0, plus, np.where(sign < 0, minus, 1.0))
                np.clip(size * factor, lo, hi, out=size)
                g = np.where(sign < 0, 0.0, g).astype(data.dtype, copy=False)
                data -= np.sign(g) * size
                prev[...] = g
                _touch(p)
        return loss


class ASGD(Optimizer):
    """Averaged SGD: SGD with a decaying step ``lr / (1 + lambd lr t)^alpha`` and a shrinking
    weight decay ``lambd eta``, keeping the running average ``ax`` of the iterates from step
    ``t0`` on."""

    _capturable_state = "params, mus, etas, and state_steps"

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0,
                 foreach=None, maximize=False, differentiable=False, capturable=False):
        self._check_non_negative(lr=lr, weight_decay=weight_decay)
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr, lambd, alpha, t0 = group["lr"], group["lambd"], group["alpha"], group["t0"]
            wd = group["weight_decay"]
            for p, g, data in self._params_with_grad(group):
                st = self.state[p]
                if len(st) == 0:
                    st["step"] = _step_tensor(0.0)
                    st["eta"] = _scalar_state(lr)
                    st["mu"] = _scalar_state(1.0)
                    st["ax"] = _state_like(p)
                step = float(st["step"]) + 1
                st["step"] = _step_tensor(step)
                if wd != 0:
                    g = g + wd * data
                eta = float(st["eta"])
                data *= 1 - lambd * eta
                data -= eta * g
                ax, mu = _arr(st["ax"]), float(st["mu"])
                if mu != 1:
                    ax += (data - ax) * mu
                else:
                    ax[...] = data
                st["eta"] = _scalar_state(lr / ((1 + lambd * lr * step) ** alpha))
                st["mu"] = _scalar_state(1 / max(1, step - t0))
                _touch(p)
        return loss
