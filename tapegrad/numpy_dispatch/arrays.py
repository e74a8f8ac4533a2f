"""NumPy's array-building and rearranging functions on tensors, written with tapegrad ops:
flips and rotations, the split family, ``rollaxis``, ``append``, ``select``, ``partition``,
``gradient``, ``linspace``/``logspace``/``geomspace`` with tensor end points, ``einsum``'s
interleaved form, ``block``, ``vander``, ``diagflat``, ``ediff1d``, ``compress``/``extract``,
NumPy 2's ``unstack``/``matrix_transpose``/``cumulative_prod``, and the functions whose results
are positions or tests (values only).

Each has NumPy's signature and values; gradients are those of the ops composed.
"""

import numpy as np

from ..ops.record import as_tensor as _t
from ..ops.shapes import norm_dim
from ..tensor import Tensor
from . import _cast, _float, _need, _op, _to_float, _Unsupported, _values_only
from .shaping import _nested, _ravel, joined_dtype


def _vals(x):
    return np.asarray(_t(x)._data)


def flipud(m):
    x = _t(m)
    if x.ndim < 1:
        raise ValueError("Input must be >= 1-d.")
    return _op("flip")(x, (0,))


def fliplr(m):
    x = _t(m)
    if x.ndim < 2:
        raise ValueError("Input must be >= 2-d.")
    return _op("flip")(x, (1,))


def rot90(m, k=1, axes=(0, 1)):
    x = _t(m)
    if len(axes) != 2:
        raise ValueError("len(axes) must be 2.")
    a0, a1 = (norm_dim(int(a), x.ndim) for a in axes)
    if a0 == a1:
        raise ValueError("Axes must be different.")
    k %= 4
    if k == 0:
        return x[...]
    if k == 2:
        return _op("flip")(x, (a0, a1))
    order = list(range(x.ndim))
    order[a0], order[a1] = order[a1], order[a0]
    if k == 1:
        return _op("permute")(_op("flip")(x, (a1,)), tuple(order))
    return _op("flip")(_op("permute")(x, tuple(order)), (a1,))


def _split_along(name, min_dim, axis_of):
    def handler(ary, indices_or_sections):
        from .shaping import _split

        x = _t(ary)
        if x.ndim < min_dim:
            raise ValueError(f"{name} only works on arrays of {min_dim} or more dimensions")
        return _split(x, indices_or_sections, axis_of(x))

    return handler


vsplit = _split_along("vsplit", 2, lambda x: 0)
hsplit = _split_along("hsplit", 1, lambda x: 1 if x.ndim > 1 else 0)
dsplit = _split_along("dsplit", 3, lambda x: 2)


def rollaxis(a, axis, start=0):
    x = _t(a)
    n = x.ndim
    axis = norm_dim(int(axis), n)
    if start < 0:
        start += n
    if not 0 <= start < n + 1:
        raise np.exceptions.AxisError(f"'start' arg requires {-n} <= start < {n + 1}")
    if axis < start:
        start -= 1
    if axis == start:
        return x[...]
    order = [k for k in range(n) if k != axis]
    order.insert(start, axis)
    return _op("permute")(x, tuple(order))


def append(arr, values, axis=None):
    from .shaping import _concatenate

    arr, values = _nested(arr), _nested(values)  # (a list holding tensors keeps their grad)
    dtype = joined_dtype((arr, values))  # (NumPy's promotion, not cat's PyTorch one)
    x, v = _cast(arr, dtype), _cast(values, dtype)
    if axis is None:
        return _concatenate([_ravel(x) if x.ndim != 1 else x, _ravel(v) if v.ndim != 1 else v])
    return _concatenate([x, v], axis=axis)


def select(condlist, choicelist, default=0):
    if len(condlist) != len(choicelist):
        raise ValueError("list of cases must be same length as list of conditions")
    if not condlist:
        raise ValueError("select with an empty condition list is not possible")
    choices = [_t(c) for c in choicelist]
    dt = np.result_type(*[c.dtype for c in choices], np.asarray(default).dtype
                        if not isinstance(default, Tensor) else default.dtype)
    out = _t(default) if isinstance(default, Tensor) else _t(np.asarray(default, dtype=dt))
    for cond, choice in zip(reversed(condlist), reversed(choices)):
        c = _vals(cond)
        if c.dtype != bool:
            raise TypeError("invalid entry in condlist: should be boolean ndarray")
        out = _op("where")(c, choice, out)
    return out


def partition(a, kth, axis=-1, kind="introselect", order=None):
    from .composites import positions, take_along_axis

    _need(order is None, "order=")
    x = _t(a)
    if axis is None:
        x, axis = _ravel(x), -1
    return take_along_axis(x, positions(np.argpartition(_vals(x), kth, axis=axis)), axis)


def gradient(f, *varargs, axis=None, edge_order=1):
    """Central differences inside, one-sided (first or second order) at the edges (complex
    values too: slices, sums and scalings have complex rules)."""
    x = _to_float(f)
    axes = list(range(x.ndim)) if axis is None else \
        [norm_dim(int(a), x.ndim) for a in ((axis,) if np.ndim(axis) == 0 else axis)]
    def step(v):  # (a 0-d tensor stays one: a spacing that requires grad gets its gradient)
        return v if isinstance(v, Tensor) else float(v)

    if len(varargs) == 0:
        spacing = [1.0] * len(axes)
    elif len(varargs) == 1 and np.ndim(varargs[0]) == 0:
        spacing = [step(varargs[0])] * len(axes)
    elif len(varargs) == len(axes) and all(np.ndim(v) == 0 for v in varargs):
        spacing = [step(v) for v in varargs]
    else:
        raise _Unsupported("coordinate arrays as spacing")
    if edge_order not in (1, 2):
        raise ValueError("'edge_order' greater than 2 not supported")
    out = []
    for ax, h in zip(axes, spacing):
        n = x.shape[ax]
        if n < edge_order + 1:
            raise ValueError("Shape of array too small to calculate a numerical gradient, at "
                             "least (edge_order + 1) elements are required.")
        lead = (slice(None),) * ax

        def s(lo, hi=None, _lead=lead):
            return x[_lead + (slice(lo, hi),)]

        inner = (s(2) - s(0, -2)) * (0.5 / h)
        if edge_order == 1:
            first, last = (s(1, 2) - s(0, 1)) / h, (s(-1) - s(-2, -1)) / h
        else:
            first = (s(0, 1) * -1.5 + s(1, 2) * 2.0 - s(2, 3) * 0.5) / h
            last = (s(-3, -2) * 0.5 - s(-2, -1) * 2.0 + s(-1) * 1.5) / h
        out.append(_op("cat")([first, inner, last], dim=ax))
    return out[0] if len(out) == 1 else tuple(out)


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, *,
             device=None):
    """NumPy's steps (``start + i * step``, the last point exactly ``stop``)."""
    _need(dtype is None or np.dtype(dtype).kind == "f", "a non-float dtype=")
    num = int(num)
    if num < 0:
        raise ValueError(f"Number of samples, {num}, must be non-negative.")
    # NumPy computes in the ends' result dtype (a Python number weak), float64 for integers;
    # dtype= casts the points at the end
    fdt = np.result_type(*(x.dtype if isinstance(x, (Tensor, np.ndarray, np.generic)) else x
                           for x in (start, stop)))
    fdt = fdt if fdt.kind in "fc" else np.dtype(np.float64)
    a, b = (x.to(fdt) if isinstance(x, Tensor) else _t(np.asarray(x, fdt)) for x in (start, stop))
    shape = np.broadcast_shapes(a.shape, b.shape)
    div = num - 1 if endpoint else num
    idx = _t(np.arange(num, dtype=fdt).reshape((-1,) + (1,) * len(shape)))
    delta = b - a
    step = delta / float(div) if div > 0 else delta * np.nan
    y = idx * step + a if div > 0 else idx * delta + a
    if endpoint and num > 1:
        y = _op("cat")([y[:-1], _op("broadcast_to")(b, (1,) + shape)], dim=0)
    if axis != 0:
        from .shaping import _moveaxis

        y = _moveaxis(y, 0, axis)
    y = y if dtype is None or y.dtype == dtype else y.to(dtype)
    return (y, step) if retstep else y


def _letters(sublist):
    out = []
    for s in sublist:
        if s is Ellipsis:
            out.append("...")
        else:
            s = int(s)
            if not 0 <= s < 52:
                raise ValueError("subscript is not within the valid range [0, 52)")
            out.append(chr(ord("A") + s) if s < 26 else chr(ord("a") + s - 26))
    return "".join(out)


def interleaved_einsum(operands):
    """``einsum(a, [0, 1], b, [1, 2], [0, 2])`` as ``einsum('AB,BC->AC', a, b)``."""
    ops, subs = list(operands[0::2]), list(operands[1::2])
    out = None
    if len(operands) % 2:  # the trailing output sublist
        out = ops.pop()
        out = _letters(out)
    if len(subs) != len(ops):
        raise ValueError("einsum(): operands and sublists do not pair up")
    eq = ",".join(_letters(s) for s in subs) + ("" if out is None else "->" + out)
    return _op("einsum")(eq, *[_t(o) for o in ops])


def logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    y = linspace(start, stop, num, endpoint, dtype=dtype, axis=axis)
    return _op("pow")(_t(np.asarray(base, y.dtype)), y)


def polyval(p, x):
    """Horner's scheme, as NumPy evaluates it."""
    xs = _float(x)
    coeffs = [p[i] for i in range(len(p))] if isinstance(p, Tensor) else list(p)
    y = _t(np.zeros(xs.shape, xs.dtype))
    for c in coeffs:
        y = y * xs + c
    return y


def interp(x, xp, fp, left=None, right=None, period=None):
    """Piecewise-linear: the gradient reaches x (the slope), xp and fp (the two knots around
    each x); outside [xp[0], xp[-1]] the result is fp's end value (or left/right)."""
    _need(period is None, "period=")
    xt, xpt, fpt = _wide(_float(x)), _wide(_float(xp)), _wide(_t(fp))  # (NumPy's dtypes)
    xv, xpv = _vals(xt), _vals(xpt)
    if xpv.ndim != 1 or _vals(fpt).shape != xpv.shape:
        raise ValueError("fp and xp are not of the same length.")
    n = xpv.shape[0]
    if n == 1:
        return _op("broadcast_to")(fpt[0] + xt * 0.0, xt.shape)
    j = np.clip(np.searchsorted(xpv, xv, side="right") - 1, 0, n - 2)
    x0, x1, f0, f1 = xpt[j], xpt[j + 1], fpt[j], fpt[j + 1]
    r = f0 + (xt - x0) * ((f1 - f0) / (x1 - x0))
    at_end = xv == xpv[-1]
    if at_end.any():
        r = _op("where")(at_end, fpt[n - 1] + xt * 0.0, r)
    lo = fpt[0] if left is None else _end_value(left, r.dtype)
    hi = fpt[n - 1] if right is None else _end_value(right, r.dtype)
    r = _op("where")(xv < xpv[0], lo, r)
    return _op("where")(xv > xpv[-1], hi, r)


def _wide(v):
    """``v`` in float64 (complex128 if complex), the dtypes np.interp computes in."""
    dt = np.dtype(np.complex128 if v.dtype.kind == "c" else np.float64)
    return v if v.dtype == dt else v.to(dt)


def _end_value(v, dtype):
    """interp's ``left``/``right``: a tensor keeps its history (the gradient reaches it)."""
    if isinstance(v, Tensor):
        return v if v.dtype == dtype else v.to(dtype)
    return _t(np.asarray(v, dtype))


def meshgrid(*xi, copy=True, sparse=False, indexing="xy"):
    if indexing not in ("xy", "ij"):
        raise ValueError("Valid values for `indexing` are 'xy' and 'ij'.")
    xs = [_ravel(_t(x)) for x in xi]
    nd = len(xs)
    out = []
    for k, x in enumerate(xs):
        shape = [1] * nd
        shape[k] = -1
        out.append(_op("reshape")(x, tuple(shape)))
    if indexing == "xy" and nd > 1:
        out = [_op("permute")(o, (1, 0) + tuple(range(2, nd))) for o in out]
    if not sparse:
        full = np.broadcast_shapes(*[tuple(o.shape) for o in out])
        out = [_op("broadcast_to")(o, full) for o in out]
    return tuple(out)


def _convolve_full(a, v):
    """sum_i a[i] v[k - i] as a product with v's Toeplitz matrix (gathered with indices)."""
    n, m = a.shape[0], v.shape[0]
    zeros = _t(np.zeros(n - 1, v.dtype))
    vp = _op("cat")([zeros, v, zeros]) if n > 1 else v
    idx = np.arange(n + m - 1)[:, None] - np.arange(n)[None, :] + (n - 1)
    return _op("matmul")(vp[idx], a)


def convolve(a, v, mode="full"):
    a, v = _t(a), _t(v)
    if a.ndim != 1 or v.ndim != 1:
        raise ValueError("object too deep for desired array")
    if a.shape[0] == 0 or v.shape[0] == 0:
        raise ValueError(f"{'a' if a.shape[0] == 0 else 'v'} cannot be empty")
    if v.shape[0] > a.shape[0]:
        a, v = v, a
    n, m = a.shape[0], v.shape[0]
    full = _convolve_full(a, v)
    if mode == "full":
        return full
    if mode == "same":
        start = (m - 1) // 2
        return full[start:start + n]
    if mode == "valid":
        return full[m - 1:n]
    raise ValueError(f"mode must be one of 'full', 'same', or 'valid' (got {mode!r})")


def correlate(a, v, mode="valid"):
    a, v = _t(a), _t(v)
    if v.ndim == 1 and a.ndim == 1 and v.shape[0] > a.shape[0]:
        return _op("flip")(correlate(v, a, mode), (0,))
    return convolve(a, _op("flip")(v, (0,)) if v.ndim == 1 else v, mode)


def delete(arr, obj, axis=None):
    x = _t(arr)
    if axis is None:
        x, axis = _ravel(x), 0
    ax = norm_dim(axis, x.ndim)
    keep = np.delete(np.arange(x.shape[ax]), obj)
    return x[(slice(None),) * ax + (keep,)]


def insert(arr, obj, values, axis=None):
    """NumPy's result, as a gather from ``arr`` and ``values`` laid end to end: NumPy's own
    insert of labels (``arr``'s flat positions, ``values``' as negative numbers) says where
    each element comes from, with NumPy's rules for ``obj`` and for broadcasting ``values``."""
    x = _t(arr)
    if axis is None:
        x, axis = _ravel(x), 0
    vals = _t(_nested(values))  # (a list holding tensors keeps their grad)
    vals = vals if vals.dtype == x.dtype else vals.to(x.dtype)
    if isinstance(obj, Tensor):
        obj = np.asarray(obj._data)
    labels = np.insert(np.arange(x.numel()).reshape(x.shape), obj,
                       -1 - np.arange(vals.numel()).reshape(vals.shape), axis=axis)
    both = _op("cat")([_op("reshape")(x, (-1,)), _op("reshape")(vals, (-1,))], dim=0)
    return both[np.where(labels >= 0, labels, x.numel() - 1 - labels)]


# ---- construction and selection (NumPy's array API and the classics) ------------------------

def diagflat(v, k=0):
    from .composites import diag

    return diag(_ravel(_t(v)), k)


def vander(x, N=None, increasing=False):
    x = _t(x)
    if x.ndim != 1:
        raise ValueError("x must be a one-dimensional array or sequence.")
    n = x.shape[0] if N is None else int(N)
    powers = range(n) if increasing else range(n - 1, -1, -1)
    # repeated products, as NumPy computes it (x ** 0 is 1 also where x is 0)
    cols, p = {}, None
    for k in range(n):
        p = _t(np.ones(x.shape, x.dtype)) if k == 0 else (x if k == 1 else p * x)
        cols[k] = p
    return _op("stack")([cols[k] for k in powers], dim=1) if n else \
        _t(np.zeros((x.shape[0], 0), x.dtype))


def block(arrays):
    """``np.block``: nested lists concatenated innermost along the last axis; the depth of
    nesting sets how many axes (arrays are first promoted to that many dimensions)."""
    levels = _block_depth(arrays)
    leaves = _block_leaves(arrays, [])
    ndim = max([levels] + [t.ndim for t in leaves])
    return _block_build(arrays, 0, levels, ndim, joined_dtype(leaves))


# module-level recursion: a recursive closure would be a reference cycle holding the tensors
def _block_depth(a):
    if not isinstance(a, list):
        return 0
    return 1 + _block_depth(a[0]) if a else 1


def _block_leaves(a, out):
    if isinstance(a, list):
        for b in a:
            _block_leaves(b, out)
    else:
        out.append(_t(a))
    return out


def _block_build(a, level, levels, ndim, dtype):
    if not isinstance(a, list):
        t = _t(a)
        t = t if dtype is None or t.dtype == dtype else t.to(dtype)
        return _op("reshape")(t, (1,) * (ndim - t.ndim) + tuple(t.shape))
    if not a:
        raise ValueError("Lists cannot be empty")
    return _op("cat")([_block_build(b, level + 1, levels, ndim, dtype) for b in a],
                      dim=ndim - levels + level)


def broadcast_arrays(*args, subok=False):
    from .shaping import _broadcast_to

    ts = [_t(a) for a in args]
    shape = np.broadcast_shapes(*[t.shape for t in ts])
    return tuple(_broadcast_to(t, shape) for t in ts)


def ediff1d(ary, to_end=None, to_begin=None):
    x = _ravel(_t(ary))
    parts = [x[1:] - x[:-1]]
    for extra, front in ((to_begin, True), (to_end, False)):
        if extra is not None:
            e = _ravel(_t(extra if isinstance(extra, Tensor) else np.asarray(extra, x.dtype)))
            parts.insert(0, e) if front else parts.append(e)
    return _op("cat")(parts, dim=0) if len(parts) > 1 else parts[0]


def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    """Log-uniform points between tensor (or number) ends, for real ends of one sign."""
    a, b = _t(start), _t(stop)
    for e in (a, b):
        if e.dtype.kind == "c":
            raise _Unsupported("complex end points")
    av, bv = _vals(a), _vals(b)
    if np.any(av == 0) or np.any(bv == 0):
        raise ValueError("Geometric sequence cannot include zero")
    sign = np.sign(av)
    if np.any(sign != np.sign(bv)):
        raise _Unsupported("end points of opposite signs (complex logarithms)")
    s = _t(sign)
    out = s * logspace(np.log10(a * s), np.log10(b * s), num, endpoint, 10.0, None, 0)
    if num > 0:  # NumPy returns the end points themselves, not their round trip through log
        out = _op("cat")([_op("unsqueeze")(a, 0), out[1:]], dim=0)
        if endpoint and num > 1:
            out = _op("cat")([out[:-1], _op("unsqueeze")(b, 0)], dim=0)
    if axis != 0:
        out = np.moveaxis(out, 0, axis)
    return out if dtype is None else out.to(np.dtype(dtype))


def unstack(x, /, *, axis=0):
    x = _t(x)
    ax = norm_dim(axis, x.ndim)
    return tuple(x[(slice(None),) * ax + (i,)] for i in range(x.shape[ax]))


def matrix_transpose(x, /):
    x = _t(x)
    if x.ndim < 2:
        raise ValueError("Input array must be at least 2-dimensional")
    return _op("transpose")(x, -2, -1)


def cumulative_prod(x, /, *, axis=None, dtype=None, out=None, include_initial=False):
    from .composites import cumprod
    from .statistics import cumulative

    _need(out is None, "out=")
    return cumulative(lambda t, ax: cumprod(t if dtype is None else t.to(np.dtype(dtype)), ax),
                      1.0, x, axis, include_initial)


def trim_zeros(filt, trim="fb", axis=None):
    _need(axis is None, "axis=")
    x = _t(filt)
    nz = np.flatnonzero(_vals(x))
    if nz.size == 0:
        return x[:0]
    trim = trim.lower()
    lo = nz[0] if "f" in trim else 0
    hi = nz[-1] + 1 if "b" in trim else x.shape[0]
    return x[int(lo):int(hi)]


def compress(condition, a, axis=None, out=None):
    _need(out is None, "out=")
    x = _t(a)
    if axis is None:
        x, axis = _ravel(x), 0
    ax = norm_dim(axis, x.ndim)
    keep = np.flatnonzero(np.asarray(_vals(condition), bool))
    if keep.size and keep[-1] >= x.shape[ax]:
        raise IndexError(f"index {keep[-1]} is out of bounds for axis {ax} with size "
                         f"{x.shape[ax]}")
    if isinstance(condition, Tensor):  # (positions from a tensor's values: see ``positions``)
        from .composites import positions

        keep = positions(keep)
    return x[(slice(None),) * ax + (keep,)]


def extract(condition, arr):
    return compress(_ravel(_t(np.asarray(_vals(condition), bool))), _ravel(_t(arr)))


def bincount(x, /, weights=None, minlength=0):
    """Counts of each non-negative integer; with ``weights``, their sums (differentiable in
    the weights: a scatter-add)."""
    idx = np.asarray(_vals(x))
    counts = np.bincount(idx, minlength=minlength)  # NumPy's checks and the output length
    if weights is None:
        return _t(counts)
    w = _float(weights)
    if w.shape != idx.shape:
        raise ValueError("The weights and list don't have the same length.")
    zero = _t(np.zeros(counts.shape, w.dtype))
    return _op("index_add")(zero, 0, _t(idx.astype(np.int64)), w)


# integer or boolean results (positions, counts of positions, tests, dtype queries): NumPy on the
# values, nothing to differentiate, so a tensor that requires grad loses nothing
_QUERIES = ("argpartition", "digitize", "flatnonzero", "isin", "isneginf", "isposinf", "isreal",
            "iscomplex", "lexsort", "ravel_multi_index", "unravel_index", "diag_indices_from",
            "tril_indices_from", "triu_indices_from", "can_cast", "result_type",
            "min_scalar_type", "common_type", "shares_memory", "may_share_memory")


def function_handlers():
    f = {np.flipud: flipud, np.fliplr: fliplr, np.rot90: rot90, np.vsplit: vsplit,
         np.hsplit: hsplit, np.dsplit: dsplit, np.rollaxis: rollaxis, np.append: append,
         np.select: select, np.partition: partition, np.gradient: gradient,
         np.linspace: linspace, np.logspace: logspace, np.polyval: polyval,
         np.interp: interp, np.meshgrid: meshgrid, np.convolve: convolve,
         np.correlate: correlate, np.delete: delete, np.insert: insert,
         np.einsum_path: _values_only(np.einsum_path), np.diagflat: diagflat,
         np.vander: vander, np.block: block, np.broadcast_arrays: broadcast_arrays,
         np.ediff1d: ediff1d, np.geomspace: geomspace, np.trim_zeros: trim_zeros,
         np.compress: compress, np.extract: extract, np.bincount: bincount}
    for name, fn in (("unstack", unstack), ("matrix_transpose", matrix_transpose),
                     ("cumulative_prod", cumulative_prod)):  # NumPy >= 2.0 / 2.1
        if hasattr(np, name):
            f[getattr(np, name)] = fn
    for name in _QUERIES:
        if hasattr(np, name):
            f[getattr(np, name)] = _values_only(getattr(np, name))
    return f
