"""``Variable``, PyTorch's wrapper from before tensors recorded history themselves (0.4), which
older tutorials still write: ``Variable(t, requires_grad=True)`` is a leaf tensor sharing
``t``'s data, and every tensor is a Variable."""

import warnings

from ..tensor import Tensor

__all__ = ["Variable"]


class _VariableMeta(type):
    def __instancecheck__(cls, other):
        return isinstance(other, Tensor)


class Variable(metaclass=_VariableMeta):
    """``Variable(data, requires_grad=False)``: ``data`` detached, requiring grad as asked.
    ``volatile`` has no effect (PyTorch's warning); use ``no_grad()``."""

    def __new__(cls, data, requires_grad=False, volatile=False):
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        if volatile:
            warnings.warn("volatile was removed and now has no effect. Use `with torch.no_grad():`"
                          " instead.", UserWarning, stacklevel=2)
        return data.detach().requires_grad_(requires_grad)
