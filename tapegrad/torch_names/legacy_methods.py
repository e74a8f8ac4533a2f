"""Tensor methods PyTorch keeps from its older API or for interop: ``cdouble``/``cfloat``
(``chalf`` refused: no complex32 here), the legacy constructor ``x.new(...)``, ``resize_``/
``resize_as_``, the Python-callable loops ``apply_``/``map_``/``map2_`` (CPU), and
``as_subclass``."""

import numpy as np

from .. import creation as _creation
from ..size import Size
from ..tensor import Tensor, _make, bump_version
from ._common import is_int
from .construct import typename


def cdouble(self, memory_format=None):
    """``self`` as complex128 (differentiable, as ``to``)."""
    return self.to(np.complex128)


def cfloat(self, memory_format=None):
    """``self`` as complex64 (differentiable, as ``to``)."""
    return self.to(np.complex64)


def chalf(self, memory_format=None):
    raise TypeError("tapegrad has no complex32 (ComplexHalf) dtype: use cfloat() or cdouble()")


def new(self, *args, device=None):
    """The legacy constructor, in ``self``'s dtype: ``new()`` (empty), ``new(2, 3)`` or
    ``new(torch.Size)`` (zero-filled, where PyTorch's are uninitialised), ``new(tensor)`` (an
    alias without history) or ``new(data)`` (a copy)."""
    device = device or self.device
    if not args:
        return _creation.tensor(np.zeros(0, self.dtype), device=device)
    if len(args) == 1 and isinstance(args[0], Tensor):
        other = args[0]
        if other.dtype != self.dtype:
            raise TypeError(f"expected {typename(self)} (got {typename(other)})")
        return other.detach()
    if all(is_int(a) for a in args) or len(args) == 1 and isinstance(args[0], Size):
        shape = tuple(int(a) for a in (args[0] if isinstance(args[0], Size) else args))
        return _creation.tensor(np.zeros(shape, self.dtype), device=device)
    if len(args) > 1:
        raise TypeError("new() received an invalid combination of arguments")
    data = args[0]
    return _creation.tensor(np.asarray(data).astype(self.dtype), device=device)


def _check_resizable(self):
    if self.requires_grad:
        raise RuntimeError("cannot resize variables that require grad")


def resize_(self, *sizes, memory_format=None):
    """``self`` reshaped in place to ``sizes``: its first elements in row-major order kept
    (memory shared when it shrinks), new elements zero (PyTorch leaves them
    uninitialised)."""
    _check_resizable(self)
    shape = tuple(int(s) for s in (sizes[0] if len(sizes) == 1 and not is_int(sizes[0])
                                   else sizes))
    if any(s < 0 for s in shape):
        raise RuntimeError(f"Trying to create tensor with negative dimension "
                           f"{min(shape)}: {list(shape)}")
    n = int(np.prod(shape, dtype=np.int64))
    host = np.asarray(self.cpu()._arr()) if self.is_cuda else self._arr()
    flat = host.reshape(-1)  # (a view where the tensor is contiguous)
    if n <= flat.size and np.may_share_memory(flat, host):
        values = flat[:n].reshape(shape)
    else:
        values = np.zeros(n, host.dtype)
        values[:min(n, flat.size)] = flat[:min(n, flat.size)]
        values = values.reshape(shape)
    if self.is_cuda:
        values = _creation.tensor(values, device=self.device)._data
    self._data = values
    bump_version(self)
    return self


def resize_as_(self, the_template, memory_format=None):
    """``resize_`` to ``the_template``'s shape."""
    _check_resizable(self)
    return resize_(self, tuple(the_template.shape))


def _loop(name, self, others, fn):
    """``self[i] = fn(self[i], *(o[i] for o in others))`` element by element, in place."""
    if self.requires_grad:
        raise RuntimeError(f"Can't call {name}() on Variable that requires grad. Use "
                           f"var.detach().{name}() instead.")
    if self.is_cuda or any(o.is_cuda for o in others):
        raise RuntimeError(f"{name}_ is only implemented on CPU tensors")
    arr = self._arr()
    if type(arr) is not np.ndarray or arr.ndim == 0:
        arr = self._data = np.array(arr)
    srcs = [np.broadcast_to(np.asarray(o.detach()._arr()), arr.shape) for o in others]
    for i in np.ndindex(arr.shape):
        arr[i] = fn(arr[i].item(), *(s[i].item() for s in srcs))
    bump_version(self)
    return self


def apply_(self, callable):
    """Each element replaced by ``callable(element)`` (CPU, in place; cast to the dtype)."""
    return _loop("apply_", self, (), callable)


def map_(self, tensor, callable):
    """Each element replaced by ``callable(element, other)``, ``tensor`` broadcast."""
    return _loop("map_", self, (tensor,), callable)


def map2_(self, x, y, callable):
    """Each element replaced by ``callable(element, x_element, y_element)``, broadcast."""
    return _loop("map2_", self, (x, y), callable)


def as_subclass(self, cls):
    """``self`` as an instance of the Tensor subclass ``cls`` (an alias: same values, storage
    and history; ``cls.__init__`` is not called)."""
    if not (isinstance(cls, type) and issubclass(cls, Tensor)):
        raise TypeError("Creating a Tensor subclass from a class that does not inherit from "
                        "Tensor is not possible. Make sure your class inherits from Tensor.")
    out = self.view(self.shape) if self.requires_grad else _alias(self)
    out.__class__ = cls
    return out


def _alias(t):
    out = _make(t._arr() if type(t._data) is float else t._data)
    out._vc = t._vcounter()
    return out


def bind(T):
    for f in (cdouble, cfloat, chalf, new, resize_, resize_as_, apply_, map_, map2_,
              as_subclass):
        setattr(T, f.__name__, f)
