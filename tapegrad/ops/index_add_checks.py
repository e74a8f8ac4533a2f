"""``index_add``'s argument checks, in PyTorch's order and words (its ``index_func_meta_impl``
first, then the range check of the CPU kernel that runs), so that ``ops/extra.index_add`` and
``Tensor.index_add_`` refuse what PyTorch refuses: mixed dtypes, negative indices, a 0-d
``source`` for a 1-d ``self``."""

import math

import numpy as np

from ..device import host_array
from ..size import type_name
from ..tensor import Tensor
from .shapes import norm_dim, torch_dtype_name


def tensor_args(fn, first, **named):
    """The values of ``named`` (in order, the first at argument position ``first``), each
    checked to be a tensor: PyTorch's TypeError otherwise (no lists or numbers, as PyTorch)."""
    for position, (name, value) in enumerate(named.items(), first):
        if not isinstance(value, Tensor):
            raise TypeError(f"{fn}(): argument '{name}' (position {position}) must be Tensor, "
                            f"not {type_name(value)}")
    return tuple(named.values())


_CPP_NAMES = {"int8": "int8_t", "int16": "int16_t", "int32": "int", "int64": "int64_t",
              "uint8": "uint8_t", "float32": "float", "float64": "double", "float16": "c10::Half",
              "complex64": "c10::complex<float>", "complex128": "c10::complex<double>"}


def alpha_for(x, alpha):
    """``alpha`` in ``x``'s type, as PyTorch converts the scalar (integers truncated), or its
    error for a value that the type cannot hold."""
    dt = x.dtype
    if dt.kind == "b":
        return bool(alpha)
    value = complex(alpha)
    fits = dt.kind == "c" or value.imag == 0
    if fits and dt.kind in "iu":
        info = np.iinfo(dt)
        exact = alpha if isinstance(alpha, (int, np.integer)) else value.real  # (no rounding)
        fits = math.isfinite(exact) and info.min <= exact <= info.max
    elif fits:
        big = np.finfo(dt.type(0).real.dtype).max
        fits = not (math.isfinite(value.real) and abs(value.real) > big) and \
            not (math.isfinite(value.imag) and abs(value.imag) > big)
    if not fits:
        raise RuntimeError(f"value cannot be converted to type {_CPP_NAMES.get(str(dt), dt)} "
                           f"without overflow")
    if dt.kind in "iu":
        return int(exact)
    return value.real if dt.kind == "f" and isinstance(alpha, complex) else alpha


def _host(t):
    return host_array(t._arr())  # (index bookkeeping: on the host)


def check(x, dim, index, s, alpha):
    """``(d, i)``: ``dim`` as a non-negative axis and ``index`` as a 1-d int64 array of indices
    in range, for ``x.index_add(dim, index, s, alpha=alpha)``; PyTorch's error otherwise."""
    d = norm_dim(int(dim), x.ndim)
    i = _host(index)
    if i.ndim > 1:
        raise IndexError(f"index_add_(): Index is supposed to be a vector, but got dim: {i.ndim} "
                         f"with type: {torch_dtype_name(i.dtype)} and size: {list(i.shape)}")
    if i.dtype not in (np.int64, np.int32):
        raise RuntimeError(f"index_add_(): Expected dtype int32/int64 for index but got: "
                           f"{torch_dtype_name(i.dtype)}")
    if x.dtype != s.dtype:
        raise RuntimeError(f"index_add_(): self ({torch_dtype_name(x.dtype)}) and source "
                           f"({torch_dtype_name(s.dtype)}) must have the same scalar type")
    if d != 0 and d >= s.ndim:
        raise RuntimeError(f"index_add_(): Indexing dim {d} is out of bounds of the source tensor "
                           f"with dim {s.ndim}")
    m = s.shape[d] if s.ndim else 1
    if i.size != m:
        if not s.ndim:  # (PyTorch's message reads source.size(dim), which fails first)
            raise IndexError(f"Dimension specified as {d} but tensor has no dimensions")
        raise RuntimeError(f"index_add_(): Number of indices ({i.size}) should be equal to "
                           f"source.size(dim): ({m}), for dim: {d}")
    xs, ss = list(x.shape), list(s.shape)
    if x.ndim and s.ndim:
        del xs[d], ss[d]
    if xs != ss:
        raise RuntimeError(f"source tensor shape must match self tensor shape, excluding the "
                           f"specified dimension. Got self.shape = {list(x.shape)} "
                           f"source.shape = {list(s.shape)}")
    long_index = i.dtype == np.int64
    i = i.reshape(-1).astype(np.int64)
    n = x.shape[d] if x.ndim else 1
    bad = (i < 0) | (i >= n)
    if x.ndim > 1 and (not i.size or not math.prod(x.shape)):
        return d, i  # (PyTorch returns before its range check: nothing is added)
    if bad.any():
        # with alpha 1, int64 indices along the first or last dim of a tensor of 2 dims or more
        # go through PyTorch's scatter_add, which names the index; the others its slice loop
        if x.ndim > 1 and long_index and d in (0, x.ndim - 1) and \
                type(alpha) is not bool and alpha == 1:
            raise RuntimeError(f"index {i[bad][0]} is out of bounds for dimension {d} with "
                               f"size {n}")
        raise IndexError("index out of range in self")
    return d, i


def select_range(x, dim, i):
    """index_select's range check of the (1-D, integer) indices ``i`` into ``x`` along ``dim``,
    in PyTorch's words: its CPU kernel for dim 1 of a tensor of 2 dims or more names the first
    index out of range ('INDICES element is out of DATA bounds, id=-1 axis_dim=4'), its other
    paths say 'index out of range in self'."""
    if not i.size:
        return
    d = norm_dim(int(dim), x.ndim) if x.ndim else 0
    n = x.shape[d] if x.ndim else 1
    bad = (i < 0) | (i >= n)
    if bad.any():
        if x.ndim > 1 and d == 1:
            raise RuntimeError(f"INDICES element is out of DATA bounds, id={int(i[bad][0])} "
                               f"axis_dim={n}")
        raise IndexError("index out of range in self")
