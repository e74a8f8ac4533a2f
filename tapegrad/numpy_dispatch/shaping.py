"""NumPy's shape and array-building functions on tensors (``reshape``, ``transpose``, ``where``,
``clip``, ``dot``, ``einsum``, ``concatenate``, ``split``, ``diff``, ``cumsum`` ...): NumPy's
signatures mapped onto tapegrad ops."""

import numpy as np

from ..ops.record import as_tensor as _t
from ..tensor import Tensor
from . import _NV, _axis, _cast, _need, _op, _values_only, numpy_pair, numpy_promoted


def _reversed_axes(x):
    return _op("permute")(x, tuple(reversed(range(x.ndim))))


def _reshape(a, shape=None, order="C", *, newshape=None, copy=None):
    _need(order in ("C", "F"), f"order={order!r}")
    shape = newshape if shape is None else shape
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    if order == "F":  # Fortran order: C order of the axes reversed, before and after
        return _reversed_axes(_op("reshape")(_reversed_axes(_t(a)), shape[::-1]))
    return _op("reshape")(_t(a), shape)


def _ravel(a, order="C"):
    _need(order in ("C", "F"), f"order={order!r}")
    x = _t(a)
    return _op("reshape")(_reversed_axes(x) if order == "F" else x, (-1,))


def _transpose(a, axes=None):
    x = _t(a)
    return _op("permute")(x, tuple(reversed(range(x.ndim))) if axes is None else tuple(axes))


def _swapaxes(a, axis1, axis2):
    return _op("transpose")(_t(a), axis1, axis2)


def _moveaxis(a, source, destination):
    from ..ops.shapes import norm_dim

    x = _t(a)
    src = [source] if isinstance(source, (int, np.integer)) else list(source)
    dst = [destination] if isinstance(destination, (int, np.integer)) else list(destination)
    src = [norm_dim(s, x.ndim) for s in src]
    dst = [norm_dim(d, x.ndim) for d in dst]
    order = [k for k in range(x.ndim) if k not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return _op("permute")(x, tuple(order))


def _squeeze(a, axis=None):
    x = _t(a)
    if axis is not None:
        from ..ops.shapes import norm_dims

        for k in norm_dims(axis, x.ndim):
            if x.shape[k] != 1:
                raise ValueError("cannot select an axis to squeeze out which has size not "
                                 "equal to one")
    return _op("squeeze")(x, axis if axis is None else _axis(axis))


def _expand_dims(a, axis):
    from ..ops.shapes import norm_dim

    x = _t(a)
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    nd = x.ndim + len(axes)
    axes = {norm_dim(int(k), nd) for k in axes}
    it = iter(x.shape)
    return _op("reshape")(x, tuple(1 if k in axes else next(it) for k in range(nd)))


def _broadcast_to(array, shape, subok=False):
    return _op("broadcast_to")(_t(array), shape)


def _flip(m, axis=None):
    x = _t(m)
    return _op("flip")(x, tuple(range(x.ndim)) if axis is None else _axis(axis))


def _where(condition, x=_NV, y=_NV):
    if x is _NV and y is _NV:
        return _values_only(np.where)(condition)
    _need(x is not _NV and y is not _NV, "only one of x, y")
    if isinstance(condition, Tensor) and condition.dtype != np.bool_:
        condition = condition != 0  # NumPy's reading: nonzero (tg.where wants bool, as torch)
    return _op("where")(condition, *numpy_promoted(x, y))


def _clip(a, a_min=_NV, a_max=_NV, out=None, *, min=_NV, max=_NV, **kwargs):
    _need(out is None, "out=")
    _need(not kwargs, ", ".join(f"{k}=" for k in kwargs))
    lo = a_min if a_min is not _NV else (None if min is _NV else min)
    hi = a_max if a_max is not _NV else (None if max is _NV else max)
    a, lo, hi = numpy_promoted(a, lo, hi)
    lo, hi = (b if b is None or np.ndim(b) == 0 and not isinstance(b, Tensor) else _t(b)
              for b in (lo, hi))
    return _op("clamp")(_t(a), lo, hi)


def _dot(a, b, out=None):
    _need(out is None, "out=")
    a, b = numpy_pair(a, b)  # (in NumPy's result dtype: PyTorch's products refuse int + float)
    if a.ndim == 0 or b.ndim == 0:
        return _op("mul")(a, b)
    if b.ndim <= 2:
        return _op("matmul")(a, b)
    # N-D: a sum product over a's last axis and b's second-to-last (not matmul's broadcast)
    from .composites import tensordot

    if a.shape[-1] != b.shape[-2]:
        sa, sb = (str(tuple(s)).replace(" ", "") for s in (a.shape, b.shape))
        raise ValueError(f"shapes {sa} and {sb} not aligned: {a.shape[-1]} (dim "
                         f"{a.ndim - 1}) != {b.shape[-2]} (dim {b.ndim - 2})")
    return tensordot(a, b, ([a.ndim - 1], [b.ndim - 2]))


def _outer(a, b, out=None):
    _need(out is None, "out=")
    return _op("outer")(_ravel(a), _ravel(b))


def _einsum(*operands, out=None, optimize=False, **kwargs):
    _need(out is None, "out=")
    _need(not kwargs, ", ".join(f"{k}=" for k in kwargs))
    values = [v for v in (operands[1:] if operands and isinstance(operands[0], str)
                          else operands[0::2]) if not isinstance(v, (list, tuple))]
    # integer and bool operands only: NumPy's einsum keeps their dtype where tg.einsum sums
    # private letters in int64 as PyTorch's does
    _need(any(np.dtype(getattr(v, "dtype", np.float64)).kind in "fc" for v in values),
          "integer operands")
    if operands and not isinstance(operands[0], str):
        from .arrays import interleaved_einsum

        return interleaved_einsum(operands)
    ts = [_t(o) for o in operands[1:]]
    dt = joined_dtype(ts)  # (NumPy's promotion: PyTorch's einsum refuses int + float, real + complex)
    return _op("einsum")(operands[0], *[t if dt is None or t.dtype == dt else t.to(dt) for t in ts])


def joined_dtype(arrays):
    """NumPy's result dtype of arrays joined (None: they have one dtype). tapegrad's cat and
    stack promote as PyTorch's (int64 beside float32 is float32 there, float64 in NumPy)."""
    dts = {x.dtype if isinstance(x, (Tensor, np.ndarray)) else np.asarray(x).dtype
           for x in arrays}
    return np.result_type(*dts) if len(dts) > 1 else None


def _holds_tensor(x):
    return isinstance(x, Tensor) or (isinstance(x, (list, tuple))
                                     and any(_holds_tensor(e) for e in x))


def _nested(x):
    """A list of tensors and numbers among the arrays to join (``[a.sum(), b.max()]``), as the
    array NumPy would make of it, stacked with its gradient (np.asarray would refuse it)."""
    if isinstance(x, (list, tuple)) and _holds_tensor(x):
        parts = [_nested(e) for e in x]
        dtype = joined_dtype(parts)
        return _op("stack")([_cast(_t(e), dtype) for e in parts])
    return x


def numpy_joined(f):
    """``f`` (``np.concatenate``, ``np.vstack``...: the arrays to join first) with them cast to
    NumPy's result dtype; torch_names calls ``f`` itself, which keeps PyTorch's."""

    def handler(arrays, *args, **kwargs):
        if isinstance(arrays, (list, tuple)):
            arrays = [_nested(x) for x in arrays]
        if kwargs.get("dtype") is None and isinstance(arrays, (list, tuple)):
            dtype = joined_dtype(arrays)
            arrays = arrays if dtype is None else [_cast(x, dtype) for x in arrays]
        return f(arrays, *args, **kwargs)

    return handler


def _concatenate(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    _need(out is None, "out=")
    xs = [_cast(x, dtype) for x in arrays]
    if axis is None:
        xs, axis = [_ravel(x) for x in xs], 0
    return _op("cat")(xs, dim=axis)


def _stack(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    _need(out is None, "out=")
    return _op("stack")([_cast(x, dtype) for x in arrays], dim=axis)


def _split_at(x, bounds, axis):
    from ..ops.shapes import norm_dim

    ax = norm_dim(axis, x.ndim)
    lead = (slice(None),) * ax
    return [x[lead + (slice(lo, hi),)] for lo, hi in zip(bounds[:-1], bounds[1:])]


def _split(ary, indices_or_sections, axis=0, *, _even=True):
    x = _t(ary)
    n = x.shape[axis]
    if isinstance(indices_or_sections, (int, np.integer)):
        k = int(indices_or_sections)
        if _even and n % k:
            raise ValueError("array split does not result in an equal division")
        q, r = divmod(n, k)
        bounds = [0]
        for i in range(k):
            bounds.append(bounds[-1] + q + (1 if i < r else 0))
    else:
        bounds = [0] + [min(max(int(i) if i >= 0 else n + int(i), 0), n)
                        for i in indices_or_sections] + [n]
        bounds = [bounds[0]] + [max(b, p) for p, b in zip(bounds, bounds[1:])]
    return _split_at(x, bounds, axis)


def _array_split(ary, indices_or_sections, axis=0):
    return _split(ary, indices_or_sections, axis, _even=False)


def _diff(a, n=1, axis=-1, prepend=_NV, append=_NV):
    x = _t(a)
    from ..ops.shapes import norm_dim

    ax = norm_dim(axis, x.ndim)
    if prepend is not _NV or append is not _NV:  # NumPy's: 0-d ends broadcast to one slice
        parts = [x]
        for end, first in ((prepend, True), (append, False)):
            if end is _NV:
                continue
            e = end if isinstance(end, Tensor) else \
                _t(np.asarray(end, np.result_type(x.dtype, np.asarray(end).dtype)))
            if e.ndim == 0:
                e = _op("broadcast_to")(e, x.shape[:ax] + (1,) + x.shape[ax + 1:])
            parts.insert(0 if first else len(parts), e)
        x = _op("cat")(parts, dim=ax)
    lead = (slice(None),) * ax
    step = _op("ne") if x.dtype == np.bool_ else _op("sub")  # (NumPy's and PyTorch's for bools)
    for _ in range(n):
        x = step(x[lead + (slice(1, None),)], x[lead + (slice(None, -1),)])
    return x


def scan(name):
    """``np.cumsum``/``np.cumprod``: the running op ``name`` along ``axis`` (None: flattened)."""

    def handler(a, axis=None, dtype=None, out=None):
        _need(out is None, "out=")
        x = _cast(a, dtype)
        if axis is None:
            x, axis = _ravel(x), 0
        return _op(name)(x, dim=axis)

    handler.__name__ = name
    return handler


_cumsum = scan("cumsum")


def _copy(a, order="K", subok=False):
    return _t(a).clone()


def function_handlers():
    return {
        np.reshape: _reshape, np.ravel: _ravel, np.transpose: _transpose,
        np.swapaxes: _swapaxes, np.moveaxis: _moveaxis, np.squeeze: _squeeze,
        np.expand_dims: _expand_dims, np.broadcast_to: _broadcast_to, np.flip: _flip,
        np.where: _where, np.clip: _clip, np.dot: _dot, np.outer: _outer, np.einsum: _einsum,
        np.concatenate: numpy_joined(_concatenate), np.stack: numpy_joined(_stack), np.split: _split,
        np.array_split: _array_split, np.diff: _diff, np.cumsum: _cumsum, np.copy: _copy,
    }
