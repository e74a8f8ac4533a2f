"""NAdam, RAdam, Adamax and Adadelta, as PyTorch's single-tensor reference computes them
(PyTorch's CPU path)."""

import numpy as np

from .adam import check_betas, moments, weight_decayed
from .optimizer import (Optimizer, _arr, _scalar_state, _state_like, _step_tensor,
                        _touch)


class NAdam(Optimizer):
    """Adam with Nesterov momentum (Dozat), with PyTorch's momentum-decay schedule ``mu_t``."""

    _capturable_state = "params, mu_products and state_steps"

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
        self._check_non_negative(lr=lr, eps=eps)
        check_betas(betas)
        self._check_non_negative(weight_decay=weight_decay, momentum_decay=momentum_decay)
        super().__init__(params, dict(
            lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
            momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
            maximize=maximize, foreach=foreach, capturable=capturable,
            differentiable=differentiable))

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            lr, eps, wd = group["lr"], group["eps"], group["weight_decay"]
            decay = group["momentum_decay"]
            for p, g, data in self._params_with_grad(group):
                st = self.state[p]
                if len(st) == 0:  # PyTorch's lazy state, in its order
                    st["step"] = _step_tensor(0.0)
                    st["mu_product"] = _scalar_state(1.0)
                    st["exp_avg"] = _state_like(p)
                    st["exp_avg_sq"] = _state_like(p)
                st, step = self._advance_step(p)
                bias_correction2 = 1 - beta2 ** step
                g = weight_decayed(group, data, g, lr, wd)
                mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * decay))
                mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * decay))
                # PyTorch keeps mu_product in a scalar tensor of the default dtype: its
                # rounding, too (float32 when that is the default)
                mp = _arr(st["mu_product"])
                mp[...] = mp * mp.dtype.type(mu)
                mu_product = float(mp)
                m, v = moments(st, g, beta1, beta2)
                denom = np.sqrt(v / bias_correction2) + eps
                data += (-lr * (1.0 - mu) / (1.0 - mu_product)) * (g / denom)
                data += ((-lr * mu_next) / (1.0 - mu_product * mu_next)) * (m / denom)
                _touch(p)
        return loss


class RAdam(Optimizer):
    """Rectified Adam (Liu et al.): plain momentum SGD while the variance estimate is
    unreliable (rho_t <= 5), rectified Adam steps after."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False,
                 capturable=False, differentiable=False):
        self._check_non_negative(lr=lr, eps=eps)
        check_betas(betas)
        self._check_non_negative(weight_decay=weight_decay)
        super().__init__(params, dict(
            lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize,
            foreach=foreach, capturable=capturable, decoupled_weight_decay=decoupled_weight_decay,
            differentiable=differentiable))

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            lr, eps, wd = group["lr"], group["eps"], group["weight_decay"]
            for p, g, data in self._params_with_grad(group):
                st, step = self._advance_step(p, ["exp_avg", "exp_avg_sq"])
                g = weight_decayed(group, data, g, lr, wd)
                m, v = moments(st, g, beta1, beta2)
                bias_correction1 = 1 - beta1 ** step
                bias_correction2 = 1 - beta2 ** step
                corrected = m / bias_correction1
                rho_inf = 2 / (1 - beta2) - 1
                rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
                if rho_t > 5.0:
                    rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                            / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                    adaptive = (bias_correction2 ** 0.5) / (np.sqrt(v) + eps)
                    data -= corrected * lr * adaptive * rect
                else:
                    data -= corrected * lr
                _touch(p)
        return loss


class Adamax(Optimizer):
    """Adam with the infinity norm (Kingma & Ba): steps scaled by a decaying max of |g|."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        self._check_non_negative(lr=lr, eps=eps)
        check_betas(betas)
        self._check_non_negative(weight_decay=weight_decay)
        super().__init__(params, dict(
            lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach,
            maximize=maximize, differentiable=differentiable, capturable=capturable))

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            lr, eps, wd = group["lr"], group["eps"], group["weight_decay"]
            for p, g, data in self._params_with_grad(group):
                st, step = self._advance_step(p, ["exp_avg", "exp_inf"])
                if wd != 0:
                    g = g + wd * data
                m, u = _arr(st["exp_avg"]), _arr(st["exp_inf"])
                m += (1 - beta1) * (g - m)
                u *= beta2
                np.maximum(u, np.abs(g) + eps, out=u)
                clr = lr / (1 - beta1 ** step)
                data += -clr * (m / u)
                _touch(p)
        return loss


class Adadelta(Optimizer):
    """Adadelta (Zeiler): steps scaled by the ratio of running RMS of updates and of
    gradients."""

    _capturable_devices = ['cuda', 'xpu', 'hpu', 'privateuseone']

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        self._check_non_negative(lr=lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        self._check_non_negative(eps=eps, weight_decay=weight_decay)
        super().__init__(params, dict(
            lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
            capturable=capturable, foreach=foreach, differentiable=differentiable))

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr, rho, eps, wd = group["lr"], group["rho"], group["eps"], group["weight_decay"]
            for p, g, data in self._params_with_grad(group):
                st, _ = self._advance_step(p, ["square_avg", "acc_delta"])
                if wd != 0:
                    g = g + wd * data
                sq, acc = _arr(st["square_avg"]), _arr(st["acc_delta"])
                sq *= rho
                sq += (1 - rho) * (g * g)
                delta = np.sqrt(acc + eps) / np.sqrt(sq + eps) * g
                acc *= rho
                acc += (1 - rho) * (delta * delta)
                data += -lr * delta
                _touch(p)
        return loss
