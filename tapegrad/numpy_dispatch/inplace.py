"""NumPy's in-place writers on a tensor: ``fill_diagonal``, ``put``, ``putmask``, ``place``,
``put_along_axis`` and ``copyto``.

NumPy itself runs each one on an array of value numbers (-1: not written), which gives its
exact placement (cycling ``values`` for ``put``/``place``/``putmask``/``fill_diagonal``,
broadcasting for ``put_along_axis``/``copyto``, the last of repeated indices winning); the
values are then written with one ``t[key] = v``, an in-place op recorded like any other (the
gradient reaches the values, and not the entries they overwrite). Writing a tensor that
requires grad into an ndarray stays refused: an ndarray cannot hold a gradient.
"""

import numpy as np

from ..ops.record import as_tensor as _t
from ..tensor import Tensor
from . import _needs_grad, _tensors, _Unsupported


def ndarray_target(values):
    """The error for writing into an ndarray: a ``TypeError`` where ``values`` need a gradient
    (NumPy runs on the values otherwise)."""
    if _needs_grad(_tensors(values, [])):
        return TypeError("this would write a tensor that requires grad into a NumPy array, which "
                         "cannot hold its gradient: write into a tensor instead (np.zeros_like(t),"
                         " tg.zeros(...)), or pass t.detach() if no gradient should flow")
    return _Unsupported("an ndarray to write into")


def _vals(x):
    return np.asarray(x._data) if isinstance(x, Tensor) else x


def _write(a, values, place):
    """``place(sources, value_numbers)`` fills ``sources``; then the values are written."""
    if not isinstance(a, Tensor):
        raise ndarray_target(values)
    v = values if isinstance(values, Tensor) else _t(np.asarray(values))
    src = np.full(a.shape, -1, dtype=np.intp)
    place(src, np.arange(v.numel(), dtype=np.intp).reshape(v.shape))
    key = np.nonzero(src >= 0) if a.ndim else ((),) * int(src[()] >= 0)
    if not key or a.ndim and key[0].size == 0:
        return
    key = key if a.ndim else ()
    picked = v.reshape(-1)[src[key]]
    a[key] = picked if picked.dtype == a.dtype else picked.to(a.dtype)


def fill_diagonal(a, val, wrap=False):
    _write(a, val, lambda s, n: np.fill_diagonal(s, n, wrap))


def put(a, ind, v, mode="raise"):
    _write(a, v, lambda s, n: np.put(s, _vals(ind), n, mode))


def putmask(a, mask, values):
    _write(a, values, lambda s, n: np.putmask(s, _vals(mask), n))


def place(arr, mask, vals):
    _write(arr, vals, lambda s, n: np.place(s, _vals(mask), n))


def put_along_axis(arr, indices, values, axis):
    _write(arr, values, lambda s, n: np.put_along_axis(s, _vals(indices), n, axis))


def copyto(dst, src, casting="same_kind", where=True):
    s = src if isinstance(src, Tensor) else _t(np.asarray(src))
    if isinstance(dst, Tensor) and not np.can_cast(s.dtype, dst.dtype, casting):
        raise TypeError(f"Cannot cast array data from dtype('{s.dtype}') to dtype('{dst.dtype}') "
                        f"according to the rule '{casting}'")
    _write(dst, s, lambda t, n: np.copyto(t, n, where=_vals(where)))


def function_handlers():
    return {np.fill_diagonal: fill_diagonal, np.put: put, np.putmask: putmask, np.place: place,
            np.put_along_axis: put_along_axis, np.copyto: copyto}
