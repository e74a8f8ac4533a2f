"""A small optimisation layer for the first scripts users write: SGD and Adam.

Updates run under ``no_grad`` on the parameters' storage, as in PyTorch.
"""

import numpy as np

from .grad_mode import no_grad
from .tensor import bump_version


class Optimizer:
    def __init__(self, params, defaults):
        self.params = [p for p in params]
        if not self.params:
            raise ValueError("optimizer got an empty parameter list")
        for p in self.params:
            if not p.is_leaf or not p.requires_grad:
                raise ValueError("can't optimize a non-leaf Tensor or one without requires_grad")
        self.defaults = defaults
        self.state = {id(p): {} for p in self.params}

    def zero_grad(self, set_to_none=True):
        for p in self.params:
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.zero_()

    def _grads(self):
        for p in self.params:
            if p.grad is not None:
                yield p, np.asarray(p.grad._data, dtype=p.dtype), self.state[id(p)]


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum and weight decay (PyTorch's rule).

    Example:
        >>> import tapegrad as tg
        >>> w = tg.tensor([1.0], requires_grad=True)
        >>> opt = tg.optim.SGD([w], lr=0.1)
        >>> (w * w).sum().backward(); opt.step(); w
        tensor([0.8000], requires_grad=True)
    """

    def __init__(self, params, lr=1e-3, momentum=0.0, weight_decay=0.0, nesterov=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay))
        self.lr, self.momentum, self.weight_decay, self.nesterov = lr, momentum, weight_decay, \
            nesterov

    @no_grad()
    def step(self):
        for p, g, st in self._grads():
            data = p._arr()
            if self.weight_decay:
                g = g + self.weight_decay * data
            if self.momentum:
                buf = st.get("momentum_buffer")
                buf = g.copy() if buf is None else buf * self.momentum + g
                st["momentum_buffer"] = buf
                g = g + self.momentum * buf if self.nesterov else buf
            data -= self.lr * g
            bump_version(p)


class Adam(Optimizer):
    """Adam (Kingma & Ba) with PyTorch's defaults and bias correction."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))
        self.lr, self.betas, self.eps, self.weight_decay = lr, betas, eps, weight_decay

    @no_grad()
    def step(self):
        b1, b2 = self.betas
        for p, g, st in self._grads():
            data = p._arr()
            if self.weight_decay:
                g = g + self.weight_decay * data
            t = st["step"] = st.get("step", 0) + 1
            m = st["exp_avg"] = b1 * st.get("exp_avg", 0.0) + (1 - b1) * g
            v = st["exp_avg_sq"] = b2 * st.get("exp_avg_sq", 0.0) + (1 - b2) * g * g
            denom = np.sqrt(v / (1 - b2 ** t)) + self.eps
            data -= (self.lr / (1 - b1 ** t)) * m / denom
            bump_version(p)
