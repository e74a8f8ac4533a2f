"""Adam and AdamW (decoupled weight decay), as PyTorch's single-tensor reference computes."""

import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer, _arr, _touch


def check_betas(betas):
    """PyTorch's check of Adam-family ``betas``: each in [0, 1)."""
    for i in (0, 1):
        if not 0.0 <= betas[i] < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {betas[i]}")


def _tensor_betas(betas, foreach, capturable):
    """Adam's and AdamW's further checks of ``betas`` (PyTorch's): both floats or both
    tensors, a tensor one element (then taken as 0-d) and not with ``foreach`` unless
    ``capturable``."""
    if not (all(isinstance(b, float) for b in betas[:2])
            or all(isinstance(b, Tensor) for b in betas[:2])):
        raise ValueError("betas must be either both floats or both Tensors")
    for i in (0, 1):
        if isinstance(betas[i], Tensor):
            if not capturable and foreach:
                raise ValueError(f"betas[{i}] as a Tensor is not supported for "
                                 "capturable=False and foreach=True")
            if betas[i].numel() != 1:
                raise ValueError(f"Tensor betas[{i}] must be 1-element")
    return tuple(b.squeeze() if isinstance(b, Tensor) and b.ndim else b for b in betas)


def weight_decayed(group, data, g, lr, wd):
    """The gradient after weight decay: decoupled (AdamW's, applied to ``data`` in place) or
    L2 (added to the gradient), in PyTorch's arithmetic."""
    if wd != 0:
        if group["decoupled_weight_decay"]:
            data *= 1 - lr * wd
        else:
            g = g + wd * data
    return g


def moments(st, g, beta1, beta2):
    """Adam's first and second moment estimates updated in place with ``g``."""
    m, v = _arr(st["exp_avg"]), _arr(st["exp_avg_sq"])
    m += (1 - beta1) * (g - m)  # lerp_(grad, 1 - beta1)
    v *= beta2
    v += (1 - beta2) * (g * g)
    return m, v


class Adam(Optimizer):
    """Adam (Kingma & Ba) with bias correction, optional AMSGrad and L2 weight decay."""

    _decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        if isinstance(lr, Tensor) and foreach and not capturable:
            raise ValueError("lr as a Tensor is not supported for capturable=False and "
                             "foreach=True")
        self._check_non_negative(lr=lr, eps=eps)
        check_betas(betas)
        self._check_non_negative(weight_decay=weight_decay)
        betas = _tensor_betas(betas, foreach, capturable)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize, foreach=foreach,
                        capturable=capturable, differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay or self._decoupled)
        super().__init__(params, defaults)
        self._check_fused()

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            lr, eps, wd = group["lr"], group["eps"], group["weight_decay"]
            buffers = ["exp_avg", "exp_avg_sq"]
            if group["amsgrad"]:
                buffers.append("max_exp_avg_sq")
            for p, g, data in self._params_with_grad(group):
                st, step = self._advance_step(p, buffers)
                g = weight_decayed(group, data, g, lr, wd)
                m, v = moments(st, g, beta1, beta2)
                bias_correction1 = 1 - beta1 ** step
                bias_correction2 = 1 - beta2 ** step
                step_size = lr / bias_correction1
                bias_correction2_sqrt = bias_correction2 ** 0.5
                if group["amsgrad"]:
                    vmax = _arr(st["max_exp_avg_sq"])
                    np.maximum(vmax, v, out=vmax)
                    denom = np.sqrt(vmax) / bias_correction2_sqrt + eps
                else:
                    denom = np.sqrt(v) / bias_correction2_sqrt + eps
                data += -step_size * (m / denom)
                _touch(p)
        return loss


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): ``p *= 1 - lr * wd`` first.

    Example:
        >>> import tapegrad as tg
        >>> w = tg.tensor([1.0], requires_grad=True)
        >>> opt = tg.optim.AdamW([w], lr=0.1)
        >>> (w * w).sum().backward(); opt.step(); w
        tensor([0.8990], requires_grad=True)
    """

    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable,
                         differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)
