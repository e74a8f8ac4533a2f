"""PyTorch's ways into and out of tensors besides ``tg.tensor``: ``asarray`` (memory shared
where it can be), ``frombuffer``, DLPack (through NumPy's, CPU only), the deprecated
end-inclusive ``range``, and the small functional forms ``fill``, ``detach``, ``adjoint``,
``typename``."""

import warnings

import numpy as np

from .. import creation as _creation
from ..device import device as _device
from ..ops import inplace as _inplace
from ..ops.shapes import torch_dtype_name
from ..tensor import Tensor, _make

__all__ = ["asarray", "frombuffer", "from_dlpack", "to_dlpack", "range", "fill", "detach",
           "adjoint", "typename"]

_REQUIRES_GRAD_DEFAULT = (
    "torch.asarray: unspecified requires_grad now defaults to obj.requires_grad instead of "
    "False. Pass requires_grad=False explicitly to get the old behavior and silence this "
    "warning.")
_RANGE_DEPRECATED = (
    "torch.range is deprecated and will be removed in a future release because its behavior is "
    "inconsistent with Python's range builtin. Instead, use torch.arange, which produces values "
    "in [start, end).")


def _same_device(device, t):
    return device is None or _device(device) == t.device


def _tensor_as(obj, dtype, device, copy):
    """``obj`` itself, or converted/copied with its history when asked (or when it must be)."""
    dtype = None if dtype is None else np.dtype(dtype)
    recast = dtype is not None and dtype != obj.dtype
    moved = not _same_device(device, obj)
    if copy is False and recast:
        raise ValueError(f"can't alias tensor with dtype '{torch_dtype_name(obj.dtype)}' into dtype "
                         f"'{torch_dtype_name(np.dtype(dtype))}'.")
    if copy is False and moved:
        raise ValueError(f"can't alias tensor from device '{obj.device}' to "
                         f"'{_device(device)}'.")
    t = obj.clone() if copy and not (recast or moved) else obj
    if moved:
        t = t.to(device)
    return t.to(dtype) if recast else t


def _array_of(obj, dtype, copy):
    """``obj`` (not a tensor) as an ndarray: NumPy arrays and scalars, DLPack exporters and
    buffers share memory unless a copy is asked for or needed; sequences are new arrays."""
    if isinstance(obj, (np.ndarray, np.generic)):
        arr = np.asarray(obj)
        if dtype is not None and arr.dtype != dtype:
            if copy is False:
                raise ValueError(f"can't alias tensor with dtype '{torch_dtype_name(arr.dtype)}' "
                                 f"into dtype '{torch_dtype_name(np.dtype(dtype))}'.")
            arr = arr.astype(dtype)
        return arr.copy() if copy else arr
    if hasattr(obj, "__dlpack__"):
        arr = _array_of(np.from_dlpack(obj), dtype, copy)
        return arr
    if _is_buffer(obj):  # raw bytes read as the dtype (PyTorch's rule, whatever the format)
        arr = np.frombuffer(obj, dtype=dtype or _creation.get_default_dtype())
        return arr.copy() if copy else arr
    if copy is False:
        raise ValueError("can't alias arbitrary sequence into a tensor.")
    return None


def _is_buffer(obj):
    try:
        memoryview(obj)
    except TypeError:
        return False
    return True


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=None):
    """``obj`` (a tensor, NumPy array or scalar, DLPack exporter, buffer or sequence) as a
    tensor, sharing its memory unless ``copy=True`` or a copy is needed (``copy=False`` then
    raises ValueError). A tensor keeps its history unless ``requires_grad=False``; left
    unspecified, ``requires_grad`` follows ``obj`` (with PyTorch's warning where that differs
    from the old default)."""
    if isinstance(obj, Tensor):
        if requires_grad is None and obj.requires_grad:
            warnings.warn(_REQUIRES_GRAD_DEFAULT, UserWarning, stacklevel=2)
        t = _tensor_as(obj, dtype, device, copy)
        if requires_grad is False and t.requires_grad:
            if t is obj and t.is_leaf:
                return t.requires_grad_(False)
            return t.detach()
        return _requiring_grad(t) if requires_grad and not t.requires_grad else t
    arr = _array_of(obj, dtype, copy)
    if arr is None:
        t = _creation.tensor(obj, dtype=dtype)
    else:
        t = _make(_creation.check_dtype(arr))
    if not _same_device(device, t):
        t = t.to(device)
    return _requiring_grad(t) if requires_grad else t


def _requiring_grad(t):
    if t.dtype.kind not in "fc":
        raise RuntimeError("Only Tensors of floating point and complex dtype can require "
                           "gradients")
    return t.requires_grad_(True)


def frombuffer(buffer, *, dtype, count=-1, offset=0, requires_grad=False):
    """A 1-D tensor over the bytes of an object with the buffer protocol (no copy: writes show on
    both sides), ``count`` elements (all by default) from ``offset`` bytes."""
    if not _is_buffer(buffer):
        raise ValueError("object does not implement Python buffer protocol.")
    dtype = np.dtype(dtype)
    length = memoryview(buffer).nbytes
    size = dtype.itemsize
    if length <= 0 or count == 0:
        raise ValueError(f"both buffer length ({length}) and count ({count}) must not be 0")
    if not 0 <= offset < length:
        raise ValueError(f"offset ({offset} bytes) must be non-negative and no greater than "
                         f"buffer length ({length} bytes) minus 1")
    if count < 0:
        if (length - offset) % size:
            raise ValueError(f"buffer length ({length - offset} bytes) after offset ({offset} "
                             f"bytes) must be a multiple of element size ({size})")
        count = (length - offset) // size
    elif offset + count * size > length:
        raise ValueError(f"requested buffer length ({count} * {size} bytes) after offset "
                         f"({offset} bytes) must not be greater than actual buffer length "
                         f"({length} bytes)")
    arr = np.frombuffer(buffer, dtype=dtype, count=count, offset=offset)
    t = _make(_creation.check_dtype(arr))
    return t.requires_grad_(True) if requires_grad else t


class _Capsule:
    """A DLPack capsule (the legacy exchange object) as NumPy's ``from_dlpack`` takes it."""

    def __init__(self, capsule):
        self.capsule = capsule

    def __dlpack__(self, **_):
        return self.capsule

    def __dlpack_device__(self):
        return (1, 0)  # kDLCPU: NumPy refuses a capsule of any other device itself


def from_dlpack(ext_tensor, *, device=None, copy=None):
    """A tensor over the memory of an object with ``__dlpack__`` (a NumPy array, a PyTorch CPU
    tensor, ...) or of a DLPack capsule; tapegrad tensors are returned as they are."""
    if isinstance(ext_tensor, Tensor):
        return asarray(ext_tensor, device=device, copy=copy, requires_grad=False) \
            if device is not None or copy else ext_tensor
    if not hasattr(ext_tensor, "__dlpack__"):
        if type(ext_tensor).__name__ != "PyCapsule":
            raise AttributeError(f"'{type(ext_tensor).__name__}' object has no attribute "
                                 "'__dlpack__'")
        ext_tensor = _Capsule(ext_tensor)
    t = _make(_creation.check_dtype(np.from_dlpack(ext_tensor)))
    return asarray(t, device=device, copy=copy, requires_grad=False)


def to_dlpack(tensor):
    """A DLPack capsule over ``tensor``'s memory (it may require grad: the capsule holds values
    only)."""
    return _export(tensor)


def _export(t, **kwargs):
    if t.is_cuda:
        raise BufferError("DLPack export of tapegrad tensors is supported on the CPU only; use "
                          "tensor.cpu() first")
    return np.asarray(t._arr()).__dlpack__(**kwargs)


def dlpack_method(self, *, stream=None, max_version=None, dl_device=None, copy=None):
    """``Tensor.__dlpack__``: PyTorch refuses tensors that require grad."""
    if self.requires_grad:
        raise BufferError("Can't export tensors that require gradient, use tensor.detach()")
    kwargs = {k: v for k, v in (("max_version", max_version), ("dl_device", dl_device),
                                ("copy", copy)) if v is not None}
    return _export(self, **kwargs)


def dlpack_device_method(self):
    """``Tensor.__dlpack_device__``: (kDLCPU, 0) or (kDLCUDA, index)."""
    return (2, self.device.index or 0) if self.is_cuda else (1, 0)


def range(start=0, end=None, step=1, *, dtype=None, device=None,  # noqa: A001 (torch's name)
          requires_grad=False):
    """Deprecated: ``floor((end - start) / step) + 1`` values from ``start`` to ``end``
    inclusive, in the default dtype unless ``dtype`` is given."""
    warnings.warn(_RANGE_DEPRECATED, UserWarning, stacklevel=2)
    if end is None:
        raise TypeError('range() missing 1 required positional arguments: "end"')
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    dtype = np.dtype(dtype or _creation.get_default_dtype())
    n = int(np.floor((end - start) / step)) + 1
    values = (start + np.arange(n) * step).astype(dtype)
    return _creation.tensor(values, device=device, requires_grad=requires_grad)


def fill(input, value):
    """A tensor of ``input``'s shape and dtype full of ``value`` (a number or a 0-d tensor;
    gradients flow to the value, zero to ``input``), out of place."""
    if isinstance(value, Tensor) and value.ndim != 0:
        raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                           f"{value.ndim} dimensions.")
    out = _inplace._overwrite(input, value)
    return out if out.dtype == input.dtype else out.to(input.dtype)


def detach(input):
    """``input.detach()``: a leaf sharing storage and version counter, without history."""
    return input.detach()


def adjoint(input):
    """The conjugate transpose of the last two dims (``input.mH``)."""
    if input.ndim == 0:
        warnings.warn("adjoint() is deprecated on 0-D tensors. Consider using x.conj().",
                      UserWarning, stacklevel=2)
        return input.conj()
    if input.ndim < 2:
        raise RuntimeError("tensor.adjoint() is only supported on matrices or batches of "
                           f"matrices. Got {input.ndim}-D tensor.")
    return input.mH


def typename(obj, /):
    """The type of ``obj`` as a string: PyTorch's tensor type names (``torch.FloatTensor``),
    else the qualified name of the object (a class or function) or of its class."""
    if isinstance(obj, Tensor):
        prefix = "torch.cuda." if obj.is_cuda else "torch."
        return prefix + torch_dtype_name(obj.dtype) + "Tensor"
    module = getattr(obj, "__module__", "") or ""
    if hasattr(obj, "__qualname__"):
        qualname = obj.__qualname__
    elif hasattr(obj, "__name__"):
        qualname = obj.__name__
    else:
        module = obj.__class__.__module__ or ""
        qualname = obj.__class__.__qualname__
    return qualname if module in ("", "builtins") else f"{module}.{qualname}"


# constructors and conversions: no batching rule to dispatch to under vmap (and the warnings
# above then name the caller's line)
for _f in (asarray, frombuffer, from_dlpack, to_dlpack, range, typename):
    _f.batch_aware = True
