"""Sorting and selection (``sort``, ``argsort``, ``topk``, ``median``, ``kthvalue``): the
order found with NumPy, the values gathered from there, so the gradient goes to those places.

Ties keep their index order, as a stable sort gives (NaN ranks largest), in ``sort`` with
``stable=True``; without it they are in the order PyTorch's CPU sort (libstdc++'s
``std::sort``, run by ``_select_kernels.py``) leaves them. ``median`` along a dim selects with
``np.partition`` (linear time); an input with NaN takes the full stable sort. ``kthvalue`` and
``topk`` run PyTorch's CPU selections (its quickselect; ``std::partial_sort`` or
``std::nth_element``, in ``_select_kernels.py``), so that among ties they return PyTorch's
indices (a bool ``topk``, of a CUDA tensor, takes the stable order).
"""

import numpy as np

from ..device import DeviceArray, to_device
from . import record as R
from .complex_refusals import refuse
from ._lazy import kernel_array, kernels
from .extra import _along_ids, _host_values, _indices_on
from .movement import gathered
from .node_names import name_node
from .reduce import _return_type
from .shapes import check_reduced_dim, norm_dim
from ..registry import Op
from ..tensor import _make, _wrap


_SortResult = _return_type("sort")
_TopkResult = _return_type("topk")
_MedianResult = _return_type("median")
_kernels = kernels("_select_kernels")  # (loads Numba: on the first sort or kthvalue)


def _order(xd, d, descending, stable=True):
    o = _stable_order(xd, d, descending)
    if stable or xd.shape[d] <= 16:  # (up to 16 values std::sort is an insertion sort)
        return o
    # PyTorch's CPU sort is std::sort, whose order of equal values is its own: only rows with
    # ties differ from the stable order, and only those run it (no compile, no cost, otherwise)
    s = np.moveaxis(np.take_along_axis(xd, o, d), d, -1)
    tie = s[..., 1:] == s[..., :-1]
    if s.dtype.kind == "f":
        tie |= np.isnan(s[..., 1:]) & np.isnan(s[..., :-1])  # (NaNs are equal to std::sort)
    tied = tie.any(-1)
    if not tied.any():
        return o
    rows = np.moveaxis(xd, d, -1)[tied]
    rows = rows.astype(np.float32 if rows.dtype == np.float16 else np.uint8) if \
        rows.dtype in (np.float16, np.bool_) else rows
    rows = kernel_array(rows, rows.dtype, rows.shape)
    out = np.empty(rows.shape, np.int64)
    _kernels().sort_rows(rows, int(bool(descending)), out)
    om = np.moveaxis(o, d, -1).copy()
    om[tied] = out
    return np.moveaxis(om, -1, d)


def _stable_order(xd, d, descending):
    """Positions of a stable sort along ``d``, NaN ranking largest, as PyTorch."""
    if not descending:
        return np.argsort(xd, axis=d, kind="stable")
    if xd.dtype.kind != "f":  # (no negation: unsigned, bool, int64's minimum)
        n = xd.shape[d] if xd.ndim else 1
        return n - 1 - np.flip(np.argsort(np.flip(xd, d), axis=d, kind="stable"), d)
    nan = np.isnan(xd)
    if not nan.any():
        return np.argsort(-xd, axis=d, kind="stable")
    # NaN first, then the values from the largest (inf too: -x would tie it with a NaN at -inf)
    return np.lexsort((np.where(nan, 0, -xd), ~nan), axis=d)


def _rows_kernel(xm, d, k, run):
    """``run(rows, out)`` on ``xm``'s lines along ``d`` as C-contiguous rows (float16 as
    float32), ``out`` their ``k`` positions each; the positions with ``d`` in place."""
    rows = np.moveaxis(xm, d, -1)
    rows = rows.astype(np.float32) if rows.dtype == np.float16 else rows
    shape = rows.shape[:-1] + (k,)
    rows = kernel_array(rows, rows.dtype, (-1, xm.shape[d]))
    out = np.zeros((rows.shape[0], k), np.int64)
    if out.size:
        run(rows, out)
    return np.moveaxis(out.reshape(shape), -1, d)


def sort(input, dim=-1, descending=False, stable=None):
    """Values and indices along ``dim``; PyTorch's node is SortBackward1 where ``stable`` is
    given (its other overload), SortBackward0 otherwise."""
    x = R.as_tensor(input)
    name = "SortBackward0" if stable is None else "SortBackward1"
    refuse("sort", x.dtype)  # (complex numbers have no order: NumPy's is lexicographic)
    xd = _host_values(x)
    if xd.ndim == 0:
        norm_dim(int(dim), 0)  # (dims 0 and -1)
        zero = np.zeros((), np.int64)
        return _SortResult(gathered(x, zero, name), _indices_on(x, zero))
    d = norm_dim(int(dim), xd.ndim)
    o = _order(xd, d, descending, bool(stable))
    return _SortResult(gathered(x, _along_ids(xd.shape, d, o), name),
                       _indices_on(x, o))


def argsort(input, dim=-1, descending=False, stable=False):
    return sort(input, dim, descending, stable).indices


def _first_k(key, d, k):
    """The positions along ``d`` of the ``k`` smallest entries of ``key`` (NaN-free) in stable
    sorted order (ties by index), as ``argsort(key, stable)[:k]`` gives: a partition finds the
    k-th value, the entries below it and the first ties at it are kept (in index order), and
    only those ``k`` are sorted."""
    n = key.shape[d]
    if k == 0 or k >= n or n <= 64:  # (small: the sort itself is as quick)
        return np.take(np.argsort(key, axis=d, kind="stable"), np.arange(k), axis=d)
    t = np.take(np.partition(key, k - 1, axis=d), [k - 1], axis=d)
    below = key < t
    ties = key == t
    room = k - below.sum(axis=d, keepdims=True)
    keep = below | (ties & (np.cumsum(ties, axis=d) <= room))
    picked = np.take(np.argsort(~keep, axis=d, kind="stable"), np.arange(k), axis=d)
    sub = np.take_along_axis(key, picked, d)
    return np.take_along_axis(picked, np.argsort(sub, axis=d, kind="stable"), d)


def topk(input, k, dim=-1, largest=True, sorted=True):
    x = R.as_tensor(input)
    refuse("topk", x.dtype)
    if x.dtype.kind == "b" and type(x._data) is not DeviceArray:
        raise RuntimeError("topk does not support bool dtypes on CPU")
    xd = _host_values(x)
    xm = xd.reshape(1) if xd.ndim == 0 else xd
    d = norm_dim(int(dim), xm.ndim)
    k = int(k)
    if not 0 <= k <= xm.shape[d]:
        raise RuntimeError("selected index k out of range")
    if xd.ndim == 0:
        k = 1  # PyTorch: a 0-d tensor's top k is the tensor, also for k = 0
    if xm.dtype.kind != "b" and k:  # PyTorch's selection, its order of equal values
        o = _rows_kernel(xm, d, k, lambda rows, out: _kernels().topk_rows(
            rows, k, int(bool(largest)), bool(sorted), out))
    elif np.isnan(xm).any() if xm.dtype.kind == "f" else False:
        o = np.take(_order(xm, d, largest), np.arange(k), axis=d)
    else:
        # (largest first: integers and bools by ~x, which reverses their order without the
        # overflow of -x for unsigned ones and int64's minimum)
        o = _first_k(-xm if largest and xm.dtype.kind == "f" else
                     (~xm if largest else xm), d, k)
    o = o.astype(np.int64).reshape(o.shape if xd.ndim else ())
    return _TopkResult(gathered(x, _along_ids(xm.shape, d, o.reshape(o.shape or (1,))).reshape(
        o.shape), "TopkBackward0"), _indices_on(x, o))


def _kth(xm, d, j):
    """The position along ``d`` of the entry at stable-sorted rank ``j`` (kept dim)."""
    if xm.shape[d] <= 64 or (xm.dtype.kind == "f" and np.isnan(xm).any()):
        return np.take(np.argsort(xm, axis=d, kind="stable"), [j], axis=d)
    t = np.take(np.partition(xm, j, axis=d), [j], axis=d)
    ties = xm == t
    rank = j - (xm < t).sum(axis=d, keepdims=True)  # which tie (in index order) it is
    return np.expand_dims(np.argmax(np.cumsum(ties, axis=d) > rank, axis=d), d)


def _kth_like_pytorch(xm, d, j):
    """The position along ``d`` (kept dim) of the entry PyTorch's CPU ``kthvalue`` returns at
    rank ``j``: among equal values, the one its quickselect leaves there (not the first)."""
    rows = np.moveaxis(xm, d, -1)
    shape = rows.shape[:-1]
    rows = rows.astype(np.float32) if rows.dtype == np.float16 else rows
    rows = kernel_array(rows, rows.dtype, (-1, xm.shape[d]))
    out = np.zeros(rows.shape[0], np.int64)
    if out.size:
        _kernels().kth_rows(rows, j, out)
    return np.expand_dims(out.reshape(shape), d)


def spread_evenly(x, value, dims=None, name=None):
    """``value``, a reduction of ``x`` over ``dims`` (all by default) equal to some of its
    elements (the median), whose gradient is shared evenly by the elements equal to it:
    PyTorch's backward of ``max()``, ``min()``, ``median()`` and ``nanmedian()`` without
    ``dim``. ``name``: PyTorch's name of its node (None: ``AmaxBackward0``)."""
    value = _wrap(np.asarray(value))
    if type(x._data) is DeviceArray:  # a CUDA tensor's reduction stays on the device
        value = to_device(np.asarray(value))
    if not R.needs_grad(x) or x.dtype.kind != "f":
        return _make(value)
    dims = tuple(range(x.ndim)) if dims is None else dims
    t = R.python_result(value, Op.AMAX, (x,), save_inputs=(0,), save_out=True,
                        params=dict(dims=dims, keepdim=False, evenly=True))
    return t if name is None else name_node(t, name)


def median(input, dim=None, keepdim=False):
    """The lower median (PyTorch's); with ``dim``: ``(values, indices)``. nan propagates."""
    x = R.as_tensor(input)
    refuse("median" if dim is None else "median.dim", x.dtype)
    if x.dtype.kind == "b":
        raise NotImplementedError(f'"{"median_cpu" if dim is None else "median_out"}" not '
                                  "implemented for 'Bool'")
    xd = _host_values(x)
    if dim is None:
        flat = xd.reshape(-1)
        if flat.size == 0:
            return _make(np.asarray(np.nan, xd.dtype))
        o = np.argsort(flat, kind="stable")
        nans = np.flatnonzero(np.isnan(flat))
        j = nans[0] if nans.size else o[(flat.size - 1) // 2]
        return spread_evenly(x, flat[j], name="MedianBackward0")  # ties share the gradient
    xm = xd.reshape(1) if xd.ndim == 0 else xd
    d = norm_dim(int(dim), xm.ndim)
    check_reduced_dim("median():", xm.shape, d)
    n = xm.shape[d]
    isn = np.isnan(xm) if xm.dtype.kind == "f" else np.zeros(xm.shape, bool)
    pick = _kth(np.where(isn, np.inf, xm) if isn.any() else xm, d, (n - 1) // 2)
    first_nan = np.argmax(isn, axis=d, keepdims=True)
    pick = np.where(isn.any(axis=d, keepdims=True), first_nan, pick).astype(np.int64)
    ids = _along_ids(xm.shape, d, pick)
    shape = pick.shape if keepdim else pick.shape[:d] + pick.shape[d + 1:]
    if xd.ndim == 0:
        shape = ()
    return _MedianResult(gathered(x, ids.reshape(shape), "MedianBackward1"),
                         _indices_on(x, pick.reshape(shape)))


_KthvalueResult = _return_type("kthvalue")


def kthvalue(input, k, dim=-1, keepdim=False):
    """The ``k``-th smallest element (1-based) along ``dim`` and its index; nan counts as the
    largest. Gradient to the picked places."""
    x = R.as_tensor(input)
    refuse("kthvalue", x.dtype)
    if x.dtype.kind == "b":
        raise NotImplementedError("\"kthvalue_cpu\" not implemented for 'Bool'")
    xd = _host_values(x)
    xm = xd.reshape(1) if xd.ndim == 0 else xd
    d = norm_dim(int(dim), xm.ndim)
    check_reduced_dim("kthvalue():", xm.shape, d)
    n = xm.shape[d]
    k = int(k)
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    pick = _kth_like_pytorch(xm, d, k - 1)
    ids = _along_ids(xm.shape, d, pick)
    shape = pick.shape if keepdim else pick.shape[:d] + pick.shape[d + 1:]
    if xd.ndim == 0:
        shape = ()
    return _KthvalueResult(gathered(x, ids.reshape(shape), "KthvalueBackward0"),
                           _indices_on(x, pick.reshape(shape)))


