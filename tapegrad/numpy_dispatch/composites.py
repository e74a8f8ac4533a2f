"""NumPy functions on tensors written as compositions of existing tapegrad ops.

Each handler has NumPy's signature and builds its result from ops looked up at call time
(``_op(name)``), so the gradient is the composition's gradient. Where a dedicated op may land
later (``cumprod``, ``atan``...), the ufunc table maps to it by name instead.
An argument a handler cannot honour raises ``_Unsupported`` (a ``TypeError`` for tensors that
require grad, NumPy on the values otherwise).
"""

import numpy as np

from ..ops.backward_ops import depends
from ..ops.node_names import name_node
from ..ops.record import as_tensor as _t
from ..ops.record import compile_tracing
from ..ops.shapes import norm_dim
from ..tensor import Tensor
from . import _NV, _kd, _need, _op, numpy_pair as tensors_weak
from .shaping import _ravel, numpy_joined, scan


def _int(v):
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def _vals(x):
    return np.asarray(_t(x)._data)


def _const(x, like, dtype=None):
    """A plain (no-grad) tensor of ``like``'s dtype (or ``dtype``) on ``like``'s device."""
    t = _t(np.asarray(x, dtype=like.dtype if dtype is None else dtype))
    return t.to(like.device) if like.is_cuda else t


def _take_axis(x, idx, axis):
    """``x`` indexed by the integer array ``idx`` along ``axis`` (advanced indexing)."""
    return x[(slice(None),) * axis + (np.asarray(idx, dtype=np.intp),)]


# ---- elementwise ------------------------------------------------------------------------------

def real_only(f):
    """``f`` as the handler of one of NumPy's real-only ufuncs (hypot, logaddexp, copysign): a
    complex operand is refused, so NumPy raises its TypeError (a tensor that requires grad gets
    the "not implemented" one), where ``f`` (PyTorch's ``logaddexp`` takes complex numbers)
    would give a complex number."""

    def handler(x1, x2):
        _need(not np.iscomplexobj(x1) and not np.iscomplexobj(x2), "complex input")
        return f(x1, x2)

    return handler


def hypot(x1, x2):
    """``c * sqrt((x1 / c)**2 + (x2 / c)**2)``, ``c`` the larger magnitude held constant (1
    where it is 0 or not finite): ``sqrt(x1**2 + x2**2)`` overflows beyond 1e154 and
    underflows below 1e-154 (its gradient ``x1 / hypot`` with it); for any constant ``c`` the
    derivatives are hypot's, to every order."""
    x1, x2 = tensors_weak(x1, x2)
    a1, a2 = _op("abs")(x1.detach()), _op("abs")(x2.detach())
    where = _op("where")
    c = where(a1 > a2, a1, a2)  # (where and comparisons, which tg.compile records)
    c = where(c > 0, where(c < np.inf, c, 1), 1)
    u, v = x1 / c, x2 / c
    r = c * _op("sqrt")(u * u + v * v)
    if r._rg and type(r) is Tensor and type(x1) is Tensor and type(x2) is Tensor and \
            not compile_tracing():
        # PyTorch's HypotBackward0 saves its result and each input requiring grad (the
        # composition's x / c and c * s keep only c): changing one in place raises at backward
        deps = [t for t in (x1, x2) if t._rg]
        r = depends(r, deps, "HypotBackward0", True, saves=True)
        # its next_functions PyTorch's: one per input, None for one requiring no grad (the
        # record's own inputs are the composition's result and the deps)
        name_node(r, "HypotBackward0", pick=(1 if x1._rg else None,
                                             len(deps) if x2._rg else None))
    return _infinite_beside_nan(r, x1, x2)


def _infinite_beside_nan(r, x1, x2):
    """``r`` (hypot's composition) with C's hypot of an infinity and a NaN, inf (PyTorch's),
    written into its value where the composition gives NaN; its derivatives there stay NaN,
    as PyTorch's ``x / hypot`` (inf / inf)."""
    if type(r) is not Tensor or type(r._data) not in (np.ndarray, float):
        return r
    if compile_tracing():  # as ops tg.compile records (comparisons, where), so that its
        # replays give inf too; their gradient there is where's, 0 (eager's: NaN, PyTorch's)
        a1, a2 = _op("abs")(x1.detach()), _op("abs")(x2.detach())
        where = _op("where")
        return where(where(r != r, where(a1 == np.inf, a1 == np.inf, a2 == np.inf), False),
                     np.inf, r)
    with np.errstate(invalid="ignore"):
        fix = (np.isinf(_vals(x1)) | np.isinf(_vals(x2))) & np.isnan(r._data)
    if type(r._data) is float:  # (a 0-d float64 result's value)
        r._data = np.inf if fix else r._data
    elif fix.any():  # (a result just made: no other tensor holds its array)
        r._data[np.broadcast_to(fix, r._data.shape)] = np.inf
    return r


def logaddexp(x1, x2):
    """``hi + log1p(exp(lo - hi))`` with hi the larger input (chosen by value): the derivatives
    are PyTorch's ``1 / (1 + exp(other - self))`` (1 and 0 against an infinite input), ties
    included; two equal infinities give themselves."""
    x1, x2 = tensors_weak(x1, x2)
    v1, v2 = _vals(x1), _vals(x2)
    with np.errstate(invalid="ignore"):
        first = v1 >= v2
        same_inf = np.isinf(v1) & (v1 == v2)
    where = _op("where")
    hi, lo = where(first, x1, x2), where(first, x2, x1)
    with np.errstate(invalid="ignore"):  # (inf - inf where both are: replaced below)
        out = hi + _op("log1p")(_op("exp")(lo - hi))
    return where(same_inf, hi, out) if same_inf.any() else out


def logaddexp2(x1, x2):
    ln2 = float(np.log(2.0))
    x1, x2 = tensors_weak(x1, x2)
    return logaddexp(x1 * ln2, x2 * ln2) * (1.0 / ln2)


def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    x = _t(x)
    if x.dtype.kind == "c" and not np.isfinite(_vals(x)).all():  # (NumPy replaces in each part)
        from ..ops.complex import complex as make_complex

        return make_complex(*(nan_to_num(_op(p)(x), copy, nan, posinf, neginf)
                              for p in ("real", "imag")))
    if x.dtype.kind != "f":
        return x.clone()
    v = _vals(x)
    fi = np.finfo(v.dtype)
    out = x
    for mask, r in ((np.isnan(v), nan), (np.isposinf(v), fi.max if posinf is None else posinf),
                    (np.isneginf(v), fi.min if neginf is None else neginf)):
        if mask.any():
            out = _op("where")(mask, _const(r, x), out)
    return out if out is not x else x.clone()


# ---- reductions -------------------------------------------------------------------------------

def ptp(a, axis=None, out=None, keepdims=_NV):
    _need(out is None, "out=")
    from . import _extreme

    return _extreme("amax")(a, axis=axis, keepdims=keepdims) - \
        _extreme("amin")(a, axis=axis, keepdims=keepdims)


def average(a, axis=None, weights=None, returned=False, *, keepdims=_NV):
    from . import _mean, _sum, _to_float

    a = _to_float(a)
    kd = _kd(keepdims)
    if weights is None:
        avg = _mean(a, axis=axis, keepdims=kd)
        scl = _const(a.numel() / max(avg.numel(), 1), a) if returned else None
    else:
        w = _t(weights)
        dt = np.result_type(a.dtype, w.dtype)  # (NumPy's: float32 beside int64 weights is f8)
        a, w = (t if t.dtype == dt else t.to(dt) for t in (a, w))
        if w.shape != a.shape:
            _need(axis is not None, "weights of another shape without axis=")
            axes = (axis,) if _int(axis) else tuple(axis)
            axes = tuple(norm_dim(int(k), a.ndim) for k in axes)
            if w.shape != tuple(a.shape[k] for k in axes):
                raise ValueError("Shape of weights must be consistent with shape of a along "
                                 "specified axis.")
            w = _op("reshape")(w, tuple(a.shape[k] if k in axes else 1 for k in range(a.ndim)))
        scl = _sum(_op("broadcast_to")(w, a.shape), axis=axis, keepdims=kd)
        if np.any(_vals(scl) == 0.0):
            raise ZeroDivisionError("Weights sum to zero, can't be normalized")
        avg = _sum(a * w, axis=axis, keepdims=kd) / scl
    if returned:
        return avg, _op("broadcast_to")(scl, avg.shape)
    return avg


def sort(a, axis=-1, kind=None, order=None, *, stable=None):
    _need(order is None, "order=")
    x = _t(a)
    if axis is None:
        x, axis = _ravel(x), 0
    if x.ndim == 0:
        return x.clone()
    axis = norm_dim(axis, x.ndim)
    idx = np.argsort(_vals(x), axis=axis, kind="stable")
    return take_along_axis(x, positions(idx), axis)


def median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    _need(out is None, "out=")
    from . import _to_float

    x = _to_float(a)
    _need(not np.isnan(_vals(x)).any(), "NaN values")
    if axis is None:
        s, ax = sort(_ravel(x)), 0
    else:
        axes = (axis,) if _int(axis) else tuple(axis)
        axes = sorted({norm_dim(int(k), x.ndim) for k in axes})
        rest = [k for k in range(x.ndim) if k not in axes]
        y = _op("permute")(x, tuple(rest + axes))
        y = _op("reshape")(y, tuple(x.shape[k] for k in rest) + (-1,))
        s, ax = sort(y, axis=-1), len(rest)
    n = s.shape[ax]
    lead = (slice(None),) * ax
    if n % 2:
        m = s[lead + (n // 2,)]
    else:
        m = (s[lead + (n // 2 - 1,)] + s[lead + (n // 2,)]) * 0.5
    if keepdims:
        if axis is None:
            m = _op("reshape")(m, (1,) * x.ndim)
        else:
            m = _op("reshape")(m, tuple(1 if k in axes else x.shape[k] for k in range(x.ndim)))
    return m


cumprod = scan("cumprod")


def trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    _need(out is None, "out=")
    from . import _cast

    return _op("sum")(diagonal(_cast(a, dtype), offset, axis1, axis2), dim=-1)


# ---- shapes -----------------------------------------------------------------------------------

def diagonal(a, offset=0, axis1=0, axis2=1):
    return _op("diagonal")(_t(a), offset, axis1, axis2)


def diag(v, k=0):
    x = _t(v)
    if x.ndim == 2:
        return diagonal(x, k)
    _need(x.ndim == 1, "input not 1- or 2-D")
    n, k = x.shape[0], int(k)
    d = _op("reshape")(x, (n, 1)) * _const(np.eye(n), x)
    N = n + abs(k)
    if k:
        zc, zr = _const(np.zeros((n, abs(k))), x), _const(np.zeros((abs(k), N)), x)
        if k > 0:
            d = _op("cat")([_op("cat")([zc, d], dim=1), zr], dim=0)
        else:
            d = _op("cat")([zr, _op("cat")([d, zc], dim=1)], dim=0)
    return d


def _tri(np_tri):
    def handler(m, k=0):
        x = _t(m)
        _need(x.ndim >= 2, "a 1-D input")
        mask = np_tri(np.ones(x.shape[-2:], dtype=bool), k)
        return _op("where")(_const(mask, x, bool), x, _const(0, x))

    return handler


triu, tril = _tri(np.triu), _tri(np.tril)


def roll(a, shift, axis=None):
    x = _t(a)
    if axis is None:
        return _op("reshape")(roll(_ravel(x), shift, 0), x.shape)
    shifts = (shift,) if _int(shift) else tuple(shift)
    axes = (axis,) if _int(axis) else tuple(axis)
    if len(shifts) == 1:
        shifts = shifts * len(axes)
    elif len(axes) == 1:
        axes = axes * len(shifts)
    if len(shifts) != len(axes):
        raise ValueError("'shift' and 'axis' should be scalars or 1D sequences")
    total = {}
    for s, ax in zip(shifts, axes):
        ax = norm_dim(int(ax), x.ndim)
        total[ax] = total.get(ax, 0) + int(s)
    for ax, s in total.items():
        n = x.shape[ax]
        if n == 0 or s % n == 0:
            continue
        s %= n
        lead = (slice(None),) * ax
        x = _op("cat")([x[lead + (slice(n - s, None),)], x[lead + (slice(0, n - s),)]], dim=ax)
    return x if x is not a else x.clone()


def tile(A, reps):
    x = _t(A)
    reps = (int(reps),) if _int(reps) else tuple(int(r) for r in reps)
    d = max(len(reps), x.ndim)
    shape = (1,) * (d - x.ndim) + tuple(x.shape)
    reps = (1,) * (d - len(reps)) + reps
    x = _op("reshape")(x, tuple(v for s in shape for v in (1, s)))
    x = _op("broadcast_to")(x, tuple(v for r, s in zip(reps, shape) for v in (r, s)))
    return _op("reshape")(x, tuple(r * s for r, s in zip(reps, shape)))


def repeat(a, repeats, axis=None):
    x = _t(a)
    if axis is None:
        x, axis = _ravel(x), 0
    ax = norm_dim(axis, x.ndim)
    n = x.shape[ax]
    if _int(repeats) or np.ndim(repeats) == 0 or np.size(repeats) == 1:
        r = int(np.asarray(repeats).reshape(-1)[0])
        if r < 0:
            raise ValueError("repeats may not contain negative values.")
        y = _op("reshape")(x, x.shape[:ax + 1] + (1,) + x.shape[ax + 1:])
        y = _op("broadcast_to")(y, x.shape[:ax + 1] + (r,) + x.shape[ax + 1:])
        return _op("reshape")(y, x.shape[:ax] + (n * r,) + x.shape[ax + 1:])
    return _take_axis(x, np.repeat(np.arange(n), np.asarray(repeats)), ax)


def atleast_1d(*arys):
    res = [(_op("reshape")(_t(a), (1,)) if _t(a).ndim == 0 else _t(a)) for a in arys]
    return res[0] if len(res) == 1 else tuple(res)


def atleast_2d(*arys):
    res = []
    for a in arys:
        x = _t(a)
        res.append(_op("reshape")(x, (1,) * (2 - x.ndim) + x.shape) if x.ndim < 2 else x)
    return res[0] if len(res) == 1 else tuple(res)


def atleast_3d(*arys):
    res = []
    for a in arys:
        x = _t(a)
        if x.ndim == 0:
            x = _op("reshape")(x, (1, 1, 1))
        elif x.ndim == 1:
            x = _op("reshape")(x, (1, x.shape[0], 1))
        elif x.ndim == 2:
            x = _op("reshape")(x, x.shape + (1,))
        res.append(x)
    return res[0] if len(res) == 1 else tuple(res)


def _seq(tup):
    """The arrays to stack: a sequence, or a tensor's slices along its first axis."""
    if isinstance(tup, Tensor) and tup.ndim:
        return [tup[i] for i in range(tup.shape[0])]
    _need(isinstance(tup, (list, tuple)), "a non-sequence argument")
    return list(tup)


def vstack(tup, *, dtype=None, casting="same_kind"):
    from .shaping import _concatenate

    xs = atleast_2d(*_seq(tup))
    return _concatenate(xs if isinstance(xs, tuple) else [xs], 0, dtype=dtype)


def hstack(tup, *, dtype=None, casting="same_kind"):
    from .shaping import _concatenate

    xs = atleast_1d(*_seq(tup))
    xs = list(xs) if isinstance(xs, tuple) else [xs]
    return _concatenate(xs, 0 if xs and xs[0].ndim == 1 else 1, dtype=dtype)


def dstack(tup):
    from .shaping import _concatenate

    xs = atleast_3d(*_seq(tup))
    return _concatenate(xs if isinstance(xs, tuple) else [xs], 2)


def column_stack(tup):
    from .shaping import _concatenate

    xs = []
    for a in _seq(tup):
        x = _t(a)
        xs.append(_op("reshape")(x, (-1, 1)) if x.ndim < 2 else x)
    return _concatenate(xs, 1)


def pad(array, pad_width, mode="constant", **kwargs):
    x = _t(array)
    pw = np.broadcast_to(np.asarray(pad_width, dtype=np.intp), (x.ndim, 2))
    if mode == "constant":
        _need(set(kwargs) <= {"constant_values"}, ", ".join(f"{k}=" for k in kwargs))
        cv = kwargs.get("constant_values", 0)
        _need(np.ndim(cv) == 0 and not isinstance(cv, Tensor), "non-scalar constant_values")
        for ax in range(x.ndim):
            lo, hi = (int(v) for v in pw[ax])
            parts = []
            if lo:
                parts.append(_const(np.full(x.shape[:ax] + (lo,) + x.shape[ax + 1:], cv), x))
            parts.append(x)
            if hi:
                parts.append(_const(np.full(x.shape[:ax] + (hi,) + x.shape[ax + 1:], cv), x))
            if len(parts) > 1:
                x = _op("cat")(parts, dim=ax)
        return x if x is not array else x.clone()
    _need(mode in ("edge", "reflect", "symmetric", "wrap") and not kwargs,
          f"mode={mode!r}" + "".join(f", {k}=" for k in kwargs))
    for ax in range(x.ndim):
        lo, hi = (int(v) for v in pw[ax])
        if lo or hi:
            x = _take_axis(x, np.pad(np.arange(x.shape[ax]), (lo, hi), mode=mode), ax)
    return x if x is not array else x.clone()


def take(a, indices, axis=None, out=None, mode="raise"):
    _need(out is None, "out=")
    _need(not isinstance(indices, Tensor) or indices.dtype.kind != "f", "float indices")
    x = _t(a)
    if axis is None:
        x, axis = _ravel(x), 0
    ax = norm_dim(axis, x.ndim)
    idx = np.asarray(indices._data if isinstance(indices, Tensor) else indices)
    n = x.shape[ax]
    if mode == "wrap":
        idx = idx % n
    elif mode == "clip":
        idx = np.clip(idx, 0, n - 1)
    elif ((idx < -n) | (idx >= n)).any():
        raise IndexError(f"index out of bounds for axis {ax} with size {n}")
    if isinstance(indices, Tensor):  # a tensor key stays one, for tg.compile (``positions``)
        key = indices if mode == "raise" and indices.dtype.kind == "i" else positions(idx)
    else:
        key = idx.astype(np.intp)
    return x[(slice(None),) * ax + (key,)]


def positions(idx):
    """Positions NumPy computed from a tensor's values (``np.argsort`` of it), as a tensor key
    of no op: ``tg.compile``'s trace refuses such a key (it would bake the first call's
    positions into every replay) and runs the function eagerly. Outside a trace, the array."""
    idx = np.asarray(idx, dtype=np.intp)
    if not compile_tracing():  # (an array key indexes faster than a tensor)
        return idx
    from ..tensor import _make, _wrap

    return _make(_wrap(idx))


def take_along_axis(arr, indices, axis=-1):
    x = _t(arr)
    idx = np.asarray(indices._data if isinstance(indices, Tensor) else indices)
    if axis is None:
        x, axis = _ravel(x), 0
    ax = norm_dim(axis, x.ndim)
    if idx.ndim != x.ndim:
        raise ValueError("`indices` and `arr` must have the same number of dimensions")
    key = []
    for k in range(x.ndim):
        if k == ax:  # (a tensor of positions stays one: see ``positions``)
            key.append(indices if isinstance(indices, Tensor) else idx.astype(np.intp))
        else:
            shp = [1] * x.ndim
            shp[k] = idx.shape[k]
            key.append(np.arange(idx.shape[k]).reshape(shp))
    return x[tuple(key)]


# ---- products ---------------------------------------------------------------------------------

def tensordot(a, b, axes=2):
    a, b = tensors_weak(a, b)  # (in NumPy's result dtype)
    if _int(axes):
        n = int(axes)
        ax_a, ax_b = list(range(a.ndim - n, a.ndim)), list(range(n))
    else:
        ax_a, ax_b = axes
        ax_a = [ax_a] if _int(ax_a) else list(ax_a)
        ax_b = [ax_b] if _int(ax_b) else list(ax_b)
    ax_a = [norm_dim(int(k), a.ndim) for k in ax_a]
    ax_b = [norm_dim(int(k), b.ndim) for k in ax_b]
    if len(ax_a) != len(ax_b) or any(a.shape[i] != b.shape[j] for i, j in zip(ax_a, ax_b)):
        raise ValueError("shape-mismatch for sum")
    free_a = [k for k in range(a.ndim) if k not in ax_a]
    free_b = [k for k in range(b.ndim) if k not in ax_b]
    k = int(np.prod([a.shape[i] for i in ax_a]))
    sa, sb = [a.shape[i] for i in free_a], [b.shape[i] for i in free_b]
    am = _op("reshape")(_op("permute")(a, tuple(free_a + ax_a)), (int(np.prod(sa)), k))
    bm = _op("reshape")(_op("permute")(b, tuple(ax_b + free_b)), (k, int(np.prod(sb))))
    return _op("reshape")(_op("matmul")(am, bm), tuple(sa + sb))


def inner(a, b):
    a, b = _t(a), _t(b)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    return tensordot(a, b, ([-1], [-1]))


def vdot(a, b):
    """``sum(conj(a) * b)`` over the flattened arrays."""
    a, b = _t(a), _t(b)
    _need(a.dtype.kind != "b" or b.dtype.kind != "b", "bool inputs")  # (NumPy's: a logical or)
    a = _op("conj")(a) if a.dtype.kind == "c" else a
    return _op("sum")(_ravel(a) * _ravel(b))


def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    from .shaping import _moveaxis

    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = _moveaxis(_t(a), axisa, -1), _moveaxis(_t(b), axisb, -1)
    _need(a.shape[-1] == 3 and b.shape[-1] == 3, "2-element vectors")
    a0, a1, a2 = (a[..., i] for i in range(3))
    b0, b1, b2 = (b[..., i] for i in range(3))
    c = _op("stack")([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], dim=-1)
    return _moveaxis(c, -1, axisc)


def kron(a, b):
    a, b = _t(a), _t(b)
    nd = max(a.ndim, b.ndim)
    sa = (1,) * (nd - a.ndim) + tuple(a.shape)
    sb = (1,) * (nd - b.ndim) + tuple(b.shape)
    ar = _op("reshape")(a, tuple(v for s in sa for v in (s, 1)))
    br = _op("reshape")(b, tuple(v for s in sb for v in (1, s)))
    return _op("reshape")(ar * br, tuple(x * y for x, y in zip(sa, sb)))


def _numpy_pair(f):
    """``f`` with its two operands in NumPy's result dtype (torch_names calls ``f`` itself,
    which promotes as PyTorch: int64 beside float32 is float32 there, float64 in NumPy); a
    NumPy scalar number is weak, as in the operators."""

    def handler(a, b):
        return f(*tensors_weak(*(v.item() if isinstance(v, np.generic) else v for v in (a, b))))

    return handler


def apply_along_axis(func1d, axis, arr, *args, **kwargs):
    """``func1d`` on each 1-D slice along ``axis`` (a view of ``arr``, so the gradient flows
    through whatever ``func1d`` does), the results stacked where ``axis`` was, as NumPy."""
    x = _t(arr)
    ax = np.lib.array_utils.normalize_axis_index(axis, x.ndim)
    xv = _op("permute")(x, [*range(ax), *range(ax + 1, x.ndim), ax])
    outer = tuple(xv.shape[:-1])
    if 0 in outer:
        raise ValueError("Cannot apply_along_axis when any iteration dimensions are 0")

    def result(r):
        return _op("stack")([result(e) for e in r]) if isinstance(r, (list, tuple)) else _t(r)

    rows = [result(func1d(xv[i], *args, **kwargs)) for i in np.ndindex(outer)]
    out = _op("reshape")(_op("stack")(rows), outer + tuple(rows[0].shape))
    n, k = len(outer), rows[0].ndim
    return _op("permute")(out, [*range(ax), *range(n, n + k), *range(ax, n)])


def piecewise(x, condlist, funclist, *args, **kw):
    """NumPy's ``piecewise``: each function (or constant) on the elements its condition
    selects, later conditions overriding earlier ones, 0 elsewhere; the gradient flows through
    the functions, the conditions are constants."""
    x = _t(x)
    if isinstance(condlist, Tensor):  # (a 0-d one as the NumPy scalar x < 0 gives there)
        condlist = _vals(condlist)[()] if condlist.ndim == 0 else _vals(condlist)
    elif isinstance(condlist, (list, tuple)):
        condlist = [_vals(c) if isinstance(c, Tensor) else c for c in condlist]
    if np.isscalar(condlist) or (not isinstance(condlist[0], (list, np.ndarray))
                                 and x.ndim != 0):
        condlist = [condlist]
    conds = np.asarray(condlist, dtype=bool)
    n, n2 = len(conds), len(funclist)
    if n == n2 - 1:  # (the "otherwise" function)
        conds = np.concatenate([conds, ~np.any(conds, axis=0, keepdims=True)], axis=0)
    elif n != n2:
        raise ValueError(f"with {n} condition(s), either {n} or {n + 1} functions are expected")
    y = _const(np.zeros(x.shape), x)
    for cond, func in zip(conds, funclist):
        mask = _t(np.broadcast_to(cond, x.shape))
        if not callable(func):
            y[mask] = _const(func, y)
        elif cond.any():
            y[mask] = _t(func(x[mask], *args, **kw)).to(y.dtype)
    return y


def function_handlers():
    """np function -> handler for the composites above."""
    return {
        np.nan_to_num: nan_to_num, np.ptp: ptp, np.average: average, np.sort: sort,
        np.median: median, np.cumprod: cumprod, np.trace: trace, np.diagonal: diagonal,
        np.diag: diag, np.triu: triu, np.tril: tril, np.roll: roll, np.tile: tile,
        np.repeat: repeat, np.atleast_1d: atleast_1d, np.atleast_2d: atleast_2d,
        np.atleast_3d: atleast_3d, np.vstack: numpy_joined(vstack),
        np.hstack: numpy_joined(hstack), np.dstack: numpy_joined(dstack),
        np.column_stack: numpy_joined(column_stack), np.pad: pad, np.take: take,
        np.take_along_axis: take_along_axis, np.tensordot: tensordot, np.inner: inner,
        np.vdot: _numpy_pair(vdot), np.cross: cross, np.kron: _numpy_pair(kron),
        np.apply_along_axis: apply_along_axis, np.piecewise: piecewise,
    }


def ufunc_handlers():
    """np ufunc -> handler: composites, and ops that may be added later (looked up by name)."""
    from . import _u

    return {
        np.hypot: real_only(hypot), np.logaddexp: real_only(logaddexp),
        np.logaddexp2: real_only(logaddexp2),
        np.arctan: _u("atan"), np.arcsin: _u("asin"), np.arccos: _u("acos"),
        np.arcsinh: _u("asinh"), np.arccosh: _u("acosh"), np.arctanh: _u("atanh"),
        np.arctan2: _u("atan2"),
    }
