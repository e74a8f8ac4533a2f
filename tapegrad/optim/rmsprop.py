"""RMSprop and Adagrad, PyTorch's updates."""

import numpy as np

from .optimizer import Optimizer, _arr, _state_like, _step_tensor, _touch


class RMSprop(Optimizer):
    """RMSprop (Hinton): divide by a running RMS of gradients; optional centering and
    momentum."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        self._check_non_negative(lr=lr, eps=eps, momentum=momentum, weight_decay=weight_decay,
                                 alpha=alpha)
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                        maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
            wd, momentum = group["weight_decay"], group["momentum"]
            buffers = ["square_avg"]
            if momentum > 0:
                buffers.append("momentum_buffer")
            if group["centered"]:
                buffers.append("grad_avg")
            for p, g, data in self._params_with_grad(group):
                st, _ = self._advance_step(p, buffers)
                if wd != 0:
                    g = g + wd * data
                sq = _arr(st["square_avg"])
                sq *= alpha
                sq += (1 - alpha) * (g * g)
                if group["centered"]:
                    ga = _arr(st["grad_avg"])
                    ga += (1 - alpha) * (g - ga)
                    avg = np.sqrt(sq - ga * ga)
                else:
                    avg = np.sqrt(sq)
                avg = avg + eps
                if momentum > 0:
                    buf = _arr(st["momentum_buffer"])
                    buf *= momentum
                    buf += g / avg
                    data += -lr * buf
                else:
                    data += -lr * (g / avg)
                _touch(p)
        return loss


class Adagrad(Optimizer):
    """Adagrad: per-element steps scaled by the root of summed squared gradients."""

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None):
        self._check_non_negative(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                 initial_accumulator_value=initial_accumulator_value, eps=eps)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        self._check_fused()
        for group in self.param_groups:
            for p in group["params"]:
                st = self.state[p]
                st["step"] = _step_tensor(0.0)
                st["sum"] = _state_like(p, group["initial_accumulator_value"])

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr, lr_decay, eps, wd = group["lr"], group["lr_decay"], group["eps"], \
                group["weight_decay"]
            for p, g, data in self._params_with_grad(group):
                st, step = self._advance_step(p)
                if wd != 0:
                    g = g + wd * data
                clr = lr / (1 + (step - 1) * lr_decay)
                s = _arr(st["sum"])
                s += g * g
                std = np.sqrt(s) + eps
                data += -clr * (g / std)
                _touch(p)
        return loss
