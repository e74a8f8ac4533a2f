"""Sums and broadcast arithmetic whose contiguous runs are short, as compiled loops.

NumPy restarts its inner loop for every contiguous run of an operation. Where the runs are
short it spends its time restarting: on the development VM, summing each 10-element row of a
(1000, 25, 10) array (``x.sum(2)``) takes ~490 µs (~2 ns an element), a sum over its middle
axis ``x.sum(1)`` ~450 µs, and ``a[:, None, :] - b[None]`` broadcast to that shape ~320 µs,
where a same-shape subtraction of that size takes ~50 µs and PyTorch's loops 80-120 µs. The
loops of ``short_run_kernels`` take 75-150 µs (``ShortRuns`` in the asv suite) and compute
every result with NumPy's operations in NumPy's order, so the values are NumPy's bit for bit
(but for float32 sums of more than 128 rows not the innermost: ``wide_sums``, in float64).

They are used for float32/float64 arrays of at least ``THRESHOLD`` elements where the layout
makes NumPy slow (sums over adjacent axes that are not the leading ones, broadcasting with an
innermost run shorter than ``SHORT_RUN``); every other call is NumPy's. Broadcasting whose
innermost run is contiguous in the operands (or broadcast along it in one) takes the loops of
``unit_run_kernels``, one vectorised loop per run (GMM's ``x[:, None] - m[None]`` ~260 -> ~190
µs); other layouts the 4-D loop nest of ``short_run_kernels.broadcast``. A result holding inf
or NaN is recomputed by NumPy, so its warnings and ``np.errstate`` apply as before.
Like ``vecmath``'s other kernels, the loops are imported (and compiled, once per machine and
dtype: ~0.4 s for row sums, ~0.2 s for middle-axis sums, ~0.8 s for broadcasting, measured
with an empty Numba cache; loading them from the cache afterwards ~0.2 s) on the first call
that uses them.
"""

import math

import numpy as np

from . import wide_sums as _wide

THRESHOLD = 16384  # elements of the result (broadcasting) or of the summed array
SHORT_RUN = 64  # broadcasting: innermost runs at least this long are NumPy's (as fast)
_ROWS_MAX = 128  # NumPy's pairwise-sum block: rows up to this length are summed in one block

_ndarray = np.ndarray
_F64, _F32 = np.dtype(np.float64), np.dtype(np.float32)
_kernels = None


def _load():
    global _kernels
    if _kernels is None:
        from . import short_run_kernels

        _kernels = short_run_kernels
    return _kernels


def _large_float(x, dims):
    """Whether the loops may take ``x`` reduced over ``dims`` (a sorted tuple, not all dims):
    a C-contiguous float64/float32 ndarray of at least ``THRESHOLD`` elements."""
    return type(x) is _ndarray and x.size >= THRESHOLD and (x.dtype is _F64 or x.dtype is _F32) \
        and 0 < len(dims) < x.ndim and x.flags.c_contiguous


def sum_axes(x, dims, keepdims):
    """``x.sum(axis=dims, keepdims=keepdims)`` for an ndarray ``x`` and a sorted tuple of
    distinct non-negative ``dims``: the same values, by a compiled loop where NumPy's is slow
    (the summed dims adjacent and not all of them; summed last dims: rows of at most 128
    elements). float32 sums of more than 128 rows that are not the innermost are
    ``wide_sums``' (accumulated in float64: more accurate than NumPy's)."""
    if _large_float(x, dims) and dims[-1] - dims[0] == len(dims) - 1:
        shape = x.shape
        first, last = dims[0], dims[-1] + 1
        outer, n, inner = math.prod(shape[:first]), math.prod(shape[first:last]), \
            math.prod(shape[last:])
        if inner > 1 or n <= _ROWS_MAX:
            k = _load()
            if _wide.takes(x, n, inner):  # (float32 over many rows: a float64 accumulator)
                out = _wide.middle_sum(x, shape, first, last)
                finite = out is not None
            elif inner == 1:
                out = np.empty(outer, x.dtype)
                finite = k.sum_rows(x.reshape(outer, n), out)
            else:
                out = np.empty((outer, inner), x.dtype)
                finite = k.sum_middle(x.reshape(outer, n, inner), out)
            if finite:
                kept = [1 if d in dims else s for d, s in enumerate(shape)] if keepdims else \
                    [s for d, s in enumerate(shape) if d not in dims]
                return out.reshape(kept)
    return np.add.reduce(x, axis=dims, keepdims=keepdims)


def shift_max(x, dims):
    """``np.amax(x, axis=dims, keepdims=True)`` as a shift constant (logsumexp, softmax): the
    same values except that a zero maximum may have the other sign, which a shift does not
    see (``x - 0.0`` and ``x - -0.0`` differ only in a zero's sign, ``exp`` of both is 1);
    the compiled loop for rows (summed dims the last ones) of large float arrays."""
    if _large_float(x, dims) and dims[0] == x.ndim - len(dims) and dims[-1] == x.ndim - 1:
        n = math.prod(x.shape[dims[0]:])
        out = np.empty(x.size // n, x.dtype)
        _load().max_rows(x.reshape(-1, n), out)
        return out.reshape(x.shape[: dims[0]] + (1,) * len(dims))
    return np.amax(x, axis=dims, keepdims=True)


_OPS = {np.add: 0, np.subtract: 1, np.multiply: 2, np.true_divide: 3}
_as_strided = np.lib.stride_tricks.as_strided
SMALL_OPERANDS = THRESHOLD // 4  # both operands smaller: NumPy's, no broadcast shape computed


def binary(np_f, x, y):
    """``np_f(x, y)``: by a compiled loop where NumPy's is slow (``np_f`` one of add, subtract,
    multiply, true_divide; ndarrays of one float dtype broadcasting to at least ``THRESHOLD``
    elements with innermost runs shorter than ``SHORT_RUN``)."""
    # (cheapest tests first: every broadcasting op's forward passes here)
    if type(x) is not _ndarray or type(y) is not _ndarray or \
            (x.size < SMALL_OPERANDS and y.size < SMALL_OPERANDS) or x.shape == y.shape or \
            not (x.dtype is y.dtype and (x.dtype is _F64 or x.dtype is _F32)):
        try:
            return np_f(x, y)
        except RuntimeWarning:  # (NumPy's IEEE warning, which a user's filter raised)
            with np.errstate(all="ignore"):
                return np_f(x, y)
    op = _OPS.get(np_f)
    dims = None if op is None else _broadcast_dims(x, y)
    if dims is not None:
        out, finite = _run(op, x, y, dims[1])
        if finite:
            return out.reshape(dims[0])
    return np_f(x, y)


def broadcast_value(x, shape):
    """``x`` broadcast to ``shape``, for a caller that saves it C-contiguous: the copy made by
    the compiled loop where its runs are short, else ``np.broadcast_to``'s view (the caller's
    copy, as before: a dtype cast, if any, in the same pass)."""
    if x.dtype is _F64 or x.dtype is _F32:
        dims = _broadcast_dims(x, x, shape)
        if dims is not None:
            return _run(_COPY, x, x, dims[1])[0].reshape(dims[0])
    return np.broadcast_to(x, shape)


def _run(op, x, y, runs):
    """``(out, all finite)``: the broadcast loop over ``runs`` (``_broadcast_dims``)."""
    n3 = runs[3][0]
    if n3 >= UNIT_RUN:
        kind = _UNIT_KINDS.get((runs[3][1] // x.itemsize, runs[3][2] // x.itemsize))
        if kind is not None:
            a = _rows(x, runs, 1, kind != _RIGHT)
            b = a if y is x else _rows(y, runs, 2, kind != _LEFT)
            if a is not None and b is not None:
                out = np.empty((runs[0][0] * runs[1][0], runs[2][0], n3), x.dtype)
                finite = _load_unit().broadcast_rows(op, kind, a[0], b[0], out, runs[0][0],
                                                     *a[1], *b[1])
                return out, finite
    out = np.empty([d[0] for d in runs], x.dtype)
    a = _as_strided(x, out.shape, [d[1] for d in runs], writeable=False)
    b = a if y is x else _as_strided(y, out.shape, [d[2] for d in runs], writeable=False)
    return out, _load().broadcast(op, a, b, out)


_COPY = 4  # (short_run_kernels.COPY, without importing Numba before it is needed)
# innermost runs with unit stride in both operands, or in one with the other broadcast along
# it, of at least UNIT_RUN elements: ``unit_run_kernels``' loops over contiguous runs
UNIT_RUN = 4
_BOTH, _LEFT, _RIGHT = 0, 1, 2  # (unit_run_kernels' kinds)
_UNIT_KINDS = {(1, 1): _BOTH, (1, 0): _LEFT, (0, 1): _RIGHT}
_unit_kernels = None


def _load_unit():
    global _unit_kernels
    if _unit_kernels is None:
        from . import unit_run_kernels

        _unit_kernels = unit_run_kernels
    return _unit_kernels


def _rows(z, runs, at, unit):
    """``(2-D view, its row strides for the three outer runs)`` of operand ``z`` for
    ``unit_run_kernels.broadcast_rows``: rows of the innermost run's length where ``unit``
    (its run contiguous), else rows of one element (broadcast along the run); None where an
    outer stride is negative or not a whole number of such rows."""
    step = z.itemsize * (runs[3][0] if unit else 1)
    strides = []
    last = 0
    for run in runs[:3]:
        s = run[at]
        if s < 0 or s % step:
            return None
        strides.append(s // step)
        last += (run[0] - 1) * (s // step)
    view = _as_strided(z, (last + 1, runs[3][0] if unit else 1), (step, z.itemsize),
                       writeable=False)
    return view, strides


def _broadcast_dims(x, y, target=None):
    """``(shape, runs)``: the broadcast shape of ``x`` and ``y`` (or ``target``, a shape both
    broadcast to), and its dims merged where both operands' strides allow (``(size, x's
    stride, y's stride)`` in bytes, a broadcast dim striding 0), padded to four; None where
    the kernel would not be faster (a small result, a long innermost run, more than four runs,
    no broadcasting left) or the shapes do not broadcast (NumPy then raises its error)."""
    if target is not None and len(target) < max(x.ndim, y.ndim):
        return None
    nd = max(x.ndim, y.ndim, 0 if target is None else len(target))
    xs, ys = (1,) * (nd - x.ndim) + x.shape, (1,) * (nd - y.ndim) + y.shape
    xt, yt = (0,) * (nd - x.ndim) + x.strides, (0,) * (nd - y.ndim) + y.strides
    shape, runs = [], []
    for k, (n, m, s, t) in enumerate(zip(xs, ys, xt, yt)):
        if n != m and n != 1 and m != 1:
            return None
        size = n if m == 1 else m
        if target is not None:
            if size != 1 and size != target[k]:
                return None
            size = target[k]
        shape.append(size)
        if size == 1:
            continue
        s, t = (s if n != 1 else 0), (t if m != 1 else 0)
        if runs:
            last = runs[-1]
            if last[1] == s * size and last[2] == t * size:  # one run of the two dims
                runs[-1] = (last[0] * size, s, t)
                continue
        runs.append((size, s, t))
    if not 2 <= len(runs) <= 4 or runs[-1][0] >= SHORT_RUN or math.prod(shape) < THRESHOLD:
        return None
    runs = [(1, 0, 0)] * (4 - len(runs)) + runs
    return shape, runs
