"""``index_reduce``: the slices of ``source`` reduced (``prod``, ``mean``, ``amax``, ``amin``)
into the slices of ``input`` that a vector ``index`` names along ``dim``.

Every reduced slice gathers its contributions (its own slice when ``include_self``, the source
slices sent to it) into one padded stack, reduced by the op library's ``prod``/``sum``/
``amax``/``amin`` along the stack; the result is one gather of the input's and the reduced
slices. So the gradient is those ops' (prod's exact with zeros, amax's shared evenly by ties,
as PyTorch's ``index_reduce``), to any order."""

import numpy as np

from .. import ops as _ops
from ..ops.record import as_tensor
from ..ops.shapes import torch_dtype_name
from ..tensor import norm_dim
from . import shapes
from ._common import const, vals

__all__ = ["contributor_stacks", "index_reduce"]

_PAD = {"prod": 1, "mean": 0, "amax": -np.inf, "amin": np.inf}


def _pad(reduce, dtype):
    """The reduction's identity in ``dtype`` (an integer type's extreme for amax/amin)."""
    if dtype.kind in "iu" and reduce in ("amax", "amin"):
        info = np.iinfo(dtype)
        return info.min if reduce == "amax" else info.max
    if dtype.kind == "b" and reduce in ("amax", "amin"):
        return reduce == "amin"
    return _PAD[reduce]


def _checked_index(index, x, s, d):
    idx = as_tensor(index)
    if idx.dtype not in (np.int32, np.int64):
        raise RuntimeError("index_reduce_(): Expected dtype int32/int64 for index but got: "
                           f"{torch_dtype_name(idx.dtype)}")
    if idx.ndim > 1:
        raise IndexError(f"index_reduce_(): Index is supposed to be a vector, but got dim: "
                         f"{idx.ndim} with type: {torch_dtype_name(idx.dtype)} and size: "
                         f"{list(idx.shape)}")
    idx = np.asarray(vals(idx), np.int64).reshape(-1)
    m = s.shape[d] if s.ndim else 1
    if idx.size != m:
        raise RuntimeError(f"index_reduce_(): Number of indices ({idx.size}) should be equal to "
                           f"source.size(dim): ({m}), for dim: {d}")
    n = x.shape[d] if x.ndim else 1
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise IndexError("index out of range in self")
    return idx


def contributor_stacks(idx, n, include_self):
    """For targets ``idx`` (each in ``range(n)``): the targets that receive something, how
    many each, and each one's stack: [itself,] the sources sent to it in order, then pads; in
    the numbering of cat([n targets, len(idx) sources, one pad])."""
    rows = np.unique(idx)
    counts = np.bincount(idx, minlength=n)[rows]
    width = int(counts.max(initial=0)) + bool(include_self)
    stack = np.full((rows.size, width), n + idx.size, np.int64)
    order = np.argsort(idx, kind="stable")
    slot = np.searchsorted(rows, idx[order])
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    stack[slot, np.arange(idx.size) - starts[slot] + bool(include_self)] = n + order
    if include_self:
        stack[:, 0] = rows
    return rows, counts, stack


def index_reduce(input, dim, index, source, reduce, *, include_self=True):
    """``input`` with ``source``'s slices reduced into the slices ``index`` names along
    ``dim`` (``include_self``: ``input``'s own slice takes part); slices nothing is sent to keep
    their values."""
    if reduce not in _PAD:
        raise RuntimeError("index_reduce(): Expected reduce to be one of prod, mean, amax or "
                           f"amin but got {reduce}.")
    x, s = as_tensor(input), as_tensor(source)
    if x.dtype != s.dtype:
        raise RuntimeError(f"index_reduce_(): self ({torch_dtype_name(x.dtype)}) and source "
                           f"({torch_dtype_name(s.dtype)}) must have the same scalar type")
    d = norm_dim(int(dim), x.ndim)
    idx = _checked_index(index, x, s, d)
    xm = shapes.movedim(x.reshape(1) if x.ndim == 0 else x, d, 0)
    sm = shapes.movedim(s.reshape(1) if s.ndim == 0 else s, d, 0)
    n = xm.shape[0]
    if sm.shape[1:] != xm.shape[1:]:
        raise RuntimeError("index_reduce_(): Source/destination tensor must have same slice "
                           "shapes.")
    rows, counts, stack = contributor_stacks(idx, n, include_self)
    if rows.size == 0:
        return x.clone()
    pad_slice = const(np.full((1,) + tuple(xm.shape[1:]), _pad(reduce, x.dtype), x.dtype))
    pool = _ops.cat([xm, sm, pad_slice], 0)
    gathered = pool[const(stack)]
    if reduce == "prod":
        reduced = _ops.prod(gathered, 1)
    elif reduce in ("amax", "amin"):
        reduced = (_ops.amax if reduce == "amax" else _ops.amin)(gathered, 1)
    else:
        total = _ops.sum(gathered, 1)
        count = (counts + bool(include_self)).reshape((-1,) + (1,) * (xm.ndim - 1))
        reduced = total // const(count.astype(x.dtype)) if x.dtype.kind in "iub" else \
            total / const(count.astype(x.dtype))
    where = np.arange(n)
    where[rows] = n + np.arange(rows.size)
    out = _ops.cat([xm, reduced.to(x.dtype)], 0)[const(where)]
    out = shapes.movedim(out, 0, d)
    return out.reshape(()) if x.ndim == 0 else out
