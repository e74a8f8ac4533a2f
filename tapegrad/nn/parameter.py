"""``Parameter``: a leaf tensor that a ``Module`` registers as one of its parameters."""

import numpy as np

from ..device import DeviceArray
from ..tensor import Tensor, _rebuild


class Parameter(Tensor):
    """A Tensor that is a module parameter: a leaf with ``requires_grad=True`` by default.

    Assigning one as a ``Module`` attribute registers it in ``parameters()``. It shares storage
    with the tensor it is made from, as in PyTorch.

    Example:
        >>> import tapegrad as tg
        >>> tg.nn.Parameter(tg.tensor([1.0, 2.0]))
        Parameter containing:
        tensor([1., 2.], requires_grad=True)
    """

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            arr = np.zeros(0)
        elif isinstance(data, Tensor):
            arr = data._arr()
        elif type(data) is DeviceArray:  # CUDA storage (deepcopy and unpickling)
            arr = data
        else:
            arr = np.asarray(data)
        p = object.__new__(cls)
        p._data = arr
        if isinstance(data, Tensor):
            p._vc = data._vcounter()
            p._vmap = data._vmap  # (a CUDA view's place in its base: writes reach the base)
            p._store = data._store if data._base is None else data._base._data  # (its offset)
            p._inference = data._inference
        if requires_grad:
            if p.dtype.kind not in "fc":  # (PyTorch's constructor words, not requires_grad_'s)
                raise RuntimeError("Only Tensors of floating point and complex dtype can require "
                                   "gradients")
            p.requires_grad_(True)
        return p

    def __init__(self, data=None, requires_grad=True):
        pass

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__

    def __reduce__(self):
        return _rebuild_parameter, (self._arr(), self._rg)

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        p = Parameter(self._arr().copy(), self._rg)
        memo[id(self)] = p
        return p


def _rebuild_parameter(data, requires_grad):
    return Parameter(_rebuild(data, False), requires_grad)
