"""SGD with momentum, dampening, Nesterov and weight decay (PyTorch's update)."""

from .optimizer import Optimizer, check_tensor_lr, _arr, _state_copy, _touch


class SGD(Optimizer):
    """Stochastic gradient descent, ``torch.optim.SGD``'s rule.

    Example:
        >>> import tapegrad as tg
        >>> w = tg.tensor([1.0], requires_grad=True)
        >>> opt = tg.optim.SGD([w], lr=0.1)
        >>> (w * w).sum().backward(); opt.step(); w
        tensor([0.8000], requires_grad=True)
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False, foreach=None, differentiable=False,
                 fused=None):
        # PyTorch's SGD tests ``< 0.0`` (a NaN passes), not ``Optimizer._check_non_negative``
        check_tensor_lr(lr)
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, foreach=foreach,
                        differentiable=differentiable, fused=fused)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)
        self._check_fused()

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
            wd, nesterov = group["weight_decay"], group["nesterov"]
            for p, g, data in self._params_with_grad(group):
                if wd != 0:
                    g = g + wd * data
                if momentum != 0:
                    st = self.state[p]
                    buf = st.get("momentum_buffer")
                    if buf is None:
                        buf = st["momentum_buffer"] = _state_copy(p, g)
                    else:
                        b = _arr(buf)
                        b *= momentum
                        b += (1 - dampening) * g
                    g = g + momentum * _arr(buf) if nesterov else _arr(buf)
                data -= lr * g
                _touch(p)
        return loss
