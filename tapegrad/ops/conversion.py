"""Conversions: ``to`` (dtype and device) and ``contiguous``.

Their records are elementwise ops' (``TO_COPY`` is declared with them, a ``clone`` copies a
view); ``elementwise`` re-exports both.
"""

import warnings

import numpy as np

from .. import vecmath
from .._float_warnings import quiet
from ..device import DeviceArray
from ..device import device as _device
from ..memory_format import check_memory_format
from ..registry import Op
from ..tensor import Tensor, _make, _wrap
from . import record as R
from .elementwise import _complex, _const_op, _cuda, _grad_on, _ndarray, clone

_CLONE = int(Op.CLONE)


def contiguous(x, memory_format=None):
    """``x`` itself, or a C-ordered copy (``clone``) of a tensor that is not contiguous (a view,
    or one over strided memory without a base: ``from_numpy`` of a transpose, a loaded expanded
    tensor), as in PyTorch: an in-place change of the copy leaves the viewed tensor alone. A
    ``memory_format`` is checked, not applied (layouts are not tracked)."""
    if memory_format is not None:
        check_memory_format(memory_format, x.ndim, "contiguous")
    d = x._data
    if type(d) is _ndarray and not d.flags.c_contiguous:
        if d.dtype.kind == "f":  # one copy, in C order (a transposed matrix: in tiles)
            c = vecmath.c_order(d)
            return _const_op(_CLONE, x, c, None) if x._rg and _grad_on() else _make(c)
        c = clone(x)  # NumPy's copy keeps the view's order (order="K"): C order instead;
        c._data = np.ascontiguousarray(c._data)  # the CLONE record saves no value to redo
        return c
    return x


def to(x, *args, dtype=None, device=None, non_blocking=False, copy=False,
       memory_format=None):
    """Convert to ``dtype`` (differentiable between floating dtypes) and/or ``device``, or to
    another tensor's (``x.to(other)``). ``non_blocking`` is accepted and has no effect (copies
    between devices complete before ``to`` returns), nor has ``memory_format`` (checked, not
    applied: layouts are not tracked); PyTorch's positional order
    ``to(device, dtype, non_blocking, copy)``."""
    if memory_format is not None:
        check_memory_format(memory_format, x.ndim, "to")
    flags = 0
    for a in args:
        if isinstance(a, (str, _device)) or a is None:
            device = a
        elif isinstance(a, bool):  # non_blocking, then copy
            copy = a if flags else copy
            flags += 1
        elif isinstance(a, Tensor):
            device, dtype = a.device, a.dtype
        else:
            dtype = a
    if device is not None or type(x._data) is DeviceArray:  # transfers (ops/cuda_ops.py)
        from ..creation import _check_device

        _check_device(device)
        if device is not None and str(device) != "cpu" or type(x._data) is DeviceArray:
            return _cuda().to(x, dtype, device)
    if dtype is None:
        return clone(x) if copy else x
    dtype = np.dtype(dtype)
    if x.dtype == dtype and not copy:
        return x
    if dtype.kind == "c" or x.dtype.kind == "c":  # complex casts: ops/complex.py's rule
        with warnings.catch_warnings(), np.errstate(all="ignore"):  # (inf, nan: as torch)
            warnings.simplefilter("ignore", np.exceptions.ComplexWarning)  # as torch: real part
            value = _wrap(np.asarray(x._data).astype(dtype))
        if dtype.kind in "fc" and x._rg and _grad_on():
            return _complex().record(value, (x,), "to")
        return _make(value)
    try:
        value = _wrap(np.asarray(x._data).astype(dtype))
    except RuntimeWarning:  # (past the range of dtype, which a user's filter raised)
        value = _wrap(quiet(np.asarray(x._data).astype, dtype))
    if dtype.kind == "f" and x._rg and _grad_on():
        return R.result(value, Op.TO_COPY, x)
    return _make(value)
