"""``index_add`` of CPU float tensors as one recorded op (``Op.INDEX_ADD``), as PyTorch
records it (``IndexAddBackward0``), instead of a scatter, a reshape, a product by ``alpha`` and
an addition (four records, ~3.5x PyTorch's time forward and backward).

``out = x.copy()``, then ``out.select(dim, index[j]) += alpha * source.select(dim, j)`` by one
compiled loop (``_index_add_kernels``; ``np.add.at`` is ~25x slower). The VJP is ``g`` for
``x`` and ``alpha * g.index_select(dim, index)`` for ``source``: linear in ``g``, so under
``create_graph`` it is recorded from ``index_select`` and every order follows. Forward mode is
the same op on the tangents. ``ops/extra.index_add`` checks the arguments and takes this form
for plain CPU tensors of one float dtype outside ``tg.compile``'s tracer (``fusable``); other
tensors keep its composition (complex, 0-d, CUDA, batched under ``vmap``) or its
exact ``np.add.at`` (integers). (1000, 64) += 300 repeated rows, forward and backward, one
thread: 455 -> 200 µs (PyTorch 135), the rest the sweep's own cost for 64000-element adjoints.
"""

import math

import numpy as np

from ..registry import Op, defop
from ..tensor import _make
from . import record as R
from ._lazy import kernel_array, kernels

_kernels = kernels("_index_add_kernels")  # (loads Numba: on the first index_add)


def _lines(shape, dim):
    """``(pre, n, post)``: ``shape`` seen with ``dim`` in the middle."""
    return math.prod(shape[:dim]), shape[dim], math.prod(shape[dim + 1:])


def _gather(g, dim, index, out=None):
    """``g.index_select(dim, index)`` as ``(pre, m, post)`` (``out``: written there)."""
    pre, n, post = _lines(g.shape, dim)
    return np.take(g.reshape(pre, n, post), index, axis=1, out=out, mode="clip")


def _vjp_into(g, saved, out, targets, dim, index, alpha, s_shape, x_shape, need):
    gx = g if need[0] else None
    gs = None
    if need[1]:
        t = targets[1]
        pre, n, post = _lines(g.shape, dim)
        m = index.shape[0]
        if t is not None and t.dtype == g.dtype and g.flags.c_contiguous:
            gs = t
            _gather(g, dim, index, out=t.reshape(pre, m, post))
            if alpha != 1:
                t *= alpha
        else:
            gs = _gather(g, dim, index)
            if alpha != 1:
                gs = gs * alpha
            gs = gs.reshape(s_shape)
    return gx, gs


def _vjp_np(g, saved, out, **params):
    return _vjp_into(np.asarray(g), saved, out, [None, None], **params)


def _vjp(g, inputs, out, dim, index, alpha, s_shape, x_shape, need):
    from .extra import index_select

    gs = None
    if need[1]:  # (index_select is linear: its own VJP, a scatter, follows at every order)
        gs = index_select(g, dim, _make(index)).reshape(s_shape)
        if alpha != 1:
            gs = gs * alpha
    return (g if need[0] else None), gs


def _jvp_np(tangents, inputs, out, dim, index, alpha, s_shape, x_shape, need):
    """The op on ``k`` tangent directions at once (a leading dim folded into ``pre``)."""
    tx, ts = tangents
    k = (tx if tx is not None else ts).shape[0]
    shape = x_shape
    f64 = np.dtype(np.float64)
    res = np.zeros((k,) + shape) if tx is None else np.array(tx, f64, order="C")
    if ts is not None and index.shape[0] and res.size:
        pre, n, post = _lines(shape, dim)
        _kernels().add_rows(res.reshape(k * pre, n, post), index,
                            kernel_array(ts, f64, (k * pre, index.shape[0], post)), float(alpha))
    return res


defop(Op.INDEX_ADD, "_index_add", "python", "IndexAddBackward0", vjp=_vjp, vjp_np=_vjp_np,
      vjp_into=_vjp_into, jvp_np=_jvp_np)


def index_add(x, dim, index, s, alpha):
    """``x.index_add(dim, index, s, alpha=alpha)`` of CPU float tensors of one dtype, ``x`` of
    one dim or more, ``index`` a 1-d int64 array of checked, non-negative indices, ``s`` of
    ``x``'s shape but ``len(index)`` along ``dim`` (PyTorch's checks: ``ops/index_add_checks``);
    one record when either requires grad."""
    R.refresh_views(x, s)
    xd, sd = x._data, s._data
    dtype = xd.dtype
    out = np.array(xd, dtype, order="C")
    pre, n, post = _lines(out.shape, dim)
    m = index.shape[0]
    if m and out.size:
        _kernels().add_rows(out.reshape(pre, n, post), index,
                            kernel_array(sd, dtype, (pre, m, post)), dtype.type(alpha))
    if (x._rg or s._rg) and R._grad_on():
        return R.python_result(out, Op.INDEX_ADD, (x, s), params=dict(
            dim=dim, index=index, alpha=alpha, s_shape=tuple(sd.shape),
            x_shape=out.shape, need=(x._rg, s._rg)))
    return _make(out)
