"""Reductions and scans under PyTorch's names: ``dim``/``keepdim`` arguments, ``(values,
indices)`` results where PyTorch returns them, NaN-skipping variants and quantiles."""

from collections import namedtuple

import numpy as np

from .. import ops as _ops
from ..grad_mode import no_grad as _no_grad
from ..numpy_dispatch import composites as _C
from ..numpy_dispatch import statistics as _S
from ..ops.movement import _torch_name
from ..ops.complex_refusals import refuse
from ..ops.extra import _along_ids, check_scatter_shapes, spread_evenly
from ..ops.movement import gathered
from ..ops.backward_ops import depends
from ..ops.node_names import name_node
from ..ops.record import compile_tracing
from ..ops.shapes import check_reduced_dim, norm_dim
from ..tensor import Tensor
from ._common import _t, const, vals
from .index_reductions import contributor_stacks
from .add_alpha import inference_only as _inference_only
from ..ops.out_variants import refuse_out
from ..ops._lazy import kernel_array, kernels

_select_kernels = kernels("_select_kernels")  # (loads Numba: on the first mode)

AminmaxResult = namedtuple("aminmax", ["min", "max"])
ValuesIndices = namedtuple("ValuesIndices", ["values", "indices"])


def _dims(dim, ndim):
    """``dim`` as NumPy's axes (None: all); a 0-d tensor's dims (0 and -1, checked) are no
    axis of its array."""
    if dim is None:
        return None
    if not ndim:
        return _checked_none(dim)
    return tuple(norm_dim(int(d), ndim) for d in ((dim,) if np.ndim(dim) == 0 else dim)) or None


def _checked_none(dim):
    for d in (dim,) if np.ndim(dim) == 0 else dim:
        norm_dim(int(d), 0)
    return None


def _nonzero_count(x, ax, keepdim):
    """The number of non-zero values of a CUDA tensor over ``ax``, counted on the device (int64,
    without history): any, all and count_nonzero read no values on the host."""
    with _no_grad():
        return _ops.sum(x != 0, dim=ax, keepdim=keepdim)


def _truth(np_f):
    def fn(input, dim=None, keepdim=False):
        x = _t(input)
        if x.is_cuda:
            ax = _dims(dim, x.ndim) if x.ndim else None
            n = _nonzero_count(x, ax, keepdim)
            r = n > 0 if np_f is np.any else n == int(np.prod(
                [x.shape[a] for a in ax] if ax is not None else x.shape))
            return r.to(np.uint8) if x.dtype == np.uint8 else r
        v = vals(x)
        ax = _dims(dim, v.ndim)
        if v.ndim == 0:
            ax = None
        r = np_f(v, axis=ax, keepdims=keepdim)
        return const(r.astype(np.uint8) if v.dtype == np.uint8 else r)

    return fn


all = _truth(np.all)  # noqa: A001 (torch.all)
all.__doc__ = "Whether every element (along ``dim``) is true (a bool tensor without history)."
any = _truth(np.any)  # noqa: A001
any.__doc__ = "Whether some element (along ``dim``) is true (a bool tensor without history)."


def count_nonzero(input, dim=None):
    """The number of non-zero values (along ``dim``), int64, without history."""
    x = _t(input)
    if x.is_cuda:
        return _nonzero_count(x, _dims(dim, x.ndim) if x.ndim else None, False)
    v = vals(x)
    return const(np.count_nonzero(v, axis=_dims(dim, v.ndim)), np.int64)


def _need_float(x, name):
    if x.dtype.kind not in "fc":
        raise RuntimeError(f"{name}(): expected input to have floating point or complex dtype "
                           f"but got {_torch_name(x.dtype)}")


def _no_complex_nansum(x, dtype):
    """PyTorch's CPU nansum (and nanmean, its sum over the count) has no complex kernel: its
    errors for a complex input, or a complex ``dtype`` of a real one."""
    if x.is_cuda:
        return
    if x.dtype.kind == "c":
        raise RuntimeError("nansum on CPU does not support complex inputs")
    if dtype is not None and np.dtype(dtype).kind == "c":
        raise NotImplementedError(f"\"nansum_cpu\" not implemented for '{_torch_name(dtype)}'")


def nansum(input, dim=None, keepdim=False, *, dtype=None):
    """Sum treating NaN as zero (NaN entries get a zero gradient)."""
    x = _t(input)
    if x.dtype.kind not in "fc":
        return _ops.sum(x, dim=dim, keepdim=keepdim, dtype=dtype)
    axis = _dims(dim, x.ndim)
    _no_complex_nansum(x, dtype)
    return _S.nansum(x, axis=axis, keepdims=keepdim, dtype=dtype)


def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    """Mean of the non-NaN values (NaN entries get a zero gradient; in a slice that is all
    NaN, NaN, as PyTorch's nansum(x) / 0)."""
    x = _t(input)
    _need_float(x, "nanmean")
    if dtype is not None and np.dtype(dtype).kind not in "fc":
        raise RuntimeError("nanmean(): could not infer output dtype. Optional dtype must be "
                           f"either a floating point or complex dtype. Got: {_torch_name(dtype)}")
    axis = _dims(dim, x.ndim)
    _no_complex_nansum(x, dtype)
    return _S.nanmean(x if dtype is None else x.to(dtype), axis=axis, keepdims=keepdim)


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(var, mean)`` over ``dim`` (Bessel's correction 1 by default)."""
    if _inference_only(input):  # (one op in PyTorch, no out= variant: records nothing)
        with _no_grad():
            return var_mean(input, dim, unbiased, keepdim, correction=correction)
    return (_ops.var(input, dim, unbiased, keepdim, correction=correction),
            _ops.mean(input, dim=dim, keepdim=keepdim))


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(std, mean)`` over ``dim`` (Bessel's correction 1 by default)."""
    if _inference_only(input):
        with _no_grad():
            return std_mean(input, dim, unbiased, keepdim, correction=correction)
    return (_ops.std(input, dim, unbiased, keepdim, correction=correction),
            _ops.mean(input, dim=dim, keepdim=keepdim))


def aminmax(input, *, dim=None, keepdim=False):
    """``(min, max)`` (along ``dim``); ties share the gradient as in ``amin``/``amax``."""
    x = _t(input)
    refuse("aminmax", x.dtype)
    if x.numel() == 0 and dim is None:
        raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the "
                           "operation has no identity.")
    if dim is not None:
        check_reduced_dim("aminmax:", x.shape, norm_dim(dim, x.ndim))
    d = () if dim is None else dim
    lo0, hi0 = _ops.amin(x, d, keepdim), _ops.amax(x, d, keepdim)
    lo, hi = lo0, hi0
    if dim is None and keepdim:
        lo, hi = (_ops.reshape(r, (1,) * x.ndim) for r in (lo, hi))
    # (PyTorch's one node of both outputs: here two, each of that name)
    return AminmaxResult(name_node(lo, "AminmaxBackward0", lo0),
                         name_node(hi, "AminmaxBackward0", hi0))


def cumprod(input, dim, *, dtype=None):
    """Cumulative product along ``dim`` (one product per step along ``dim``)."""
    x = _t(input)
    if dtype is None and x.dtype.kind in "iub":
        dtype = np.int64  # integer products accumulate in int64, as torch's
    d = norm_dim(dim, max(x.ndim, 1))
    if x.ndim == 0:
        return x.clone() if dtype is None else x.to(dtype)
    if dtype is not None and np.dtype(dtype) == np.bool_:  # (PyTorch has no such kernel)
        raise NotImplementedError('"cumprod_out_cpu" not implemented for \'Bool\'')
    out = _C.cumprod(x, axis=d, dtype=dtype)
    if out.dtype != dtype and np.dtype(dtype).kind in "iu":
        out = out.to(dtype)  # (integer products are formed in int64; the low bits are dtype's)
    return out


def _cum_extreme_compiled(x, d, maximum):
    """The running extreme's indices (and their flat ids) by one compiled pass over the
    (pre, n, post) view (NumPy's accumulate is ~6 ns an element), its values one gather."""
    import math

    from ..ops._cumulative_kernels import running_extreme_indices

    xd = np.ascontiguousarray(vals(x))
    lines = (math.prod(xd.shape[:d]), xd.shape[d], math.prod(xd.shape[d + 1:]))
    idx, flat = np.empty(lines, np.int64), np.empty(lines, np.int64)
    running_extreme_indices(xd.reshape(lines), idx, flat, maximum)
    name = "CummaxBackward0" if maximum else "CumminBackward0"
    return gathered(x, flat.reshape(xd.shape), name), const(idx.reshape(xd.shape))


def _cum_extreme(better, running, name):
    def fn(input, dim):
        x = _t(input)
        refuse(name, x.dtype)
        if x._inference:  # (PyTorch's out= variant: refused for one requiring grad)
            refuse_out(name, x)
        if x.ndim == 0:
            if int(dim) not in (0, -1):
                raise IndexError(f"{name}(): Expected reduction dim -1 or 0 for scalar but got "
                                 f"{dim}")
            return ValuesIndices(x.clone(), const(0, np.int64))
        d = norm_dim(dim, x.ndim)
        if vals(x).dtype in (np.float32, np.float64) and x.numel():
            return ValuesIndices(*_cum_extreme_compiled(x, d, running is np.maximum))
        v = np.moveaxis(vals(x), d, -1)
        n = v.shape[-1]
        # an element takes over where it beats or ties the extreme so far, or is NaN (the
        # last index wins ties and NaNs, as PyTorch's; a NaN extreme is beaten by no number);
        # its index then runs on: a running maximum of the indices taken (vectorised, O(n))
        best = running.accumulate(v, axis=-1) if n else v
        with np.errstate(invalid="ignore"):
            take = np.ones(v.shape, bool)
            take[..., 1:] = better(v[..., 1:], best[..., :-1]) | np.isnan(v[..., 1:])
        idx = np.maximum.accumulate(np.where(take, np.arange(n), 0), axis=-1) if n else \
            np.zeros(v.shape, np.int64)
        idx = np.ascontiguousarray(np.moveaxis(idx.astype(np.int64), -1, d))
        return ValuesIndices(_ops.gather(x, d, const(idx)), const(idx))

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"Running {name[3:]}imum along ``dim``: ``(values, indices)``; the gradient "
                  "goes to the selected entries.")
    return fn


cummax = _cum_extreme(np.greater_equal, np.maximum, "cummax")
cummin = _cum_extreme(np.less_equal, np.minimum, "cummin")


def mode(input, dim=-1, keepdim=False):
    """The most frequent value along ``dim`` (the smallest of equally frequent ones) and the
    index PyTorch's CPU ``mode`` gives it: the last of its run in the order libstdc++'s
    ``std::sort`` leaves the row in (its last occurrence up to 16 values); the gradient goes
    to that entry."""
    x = _t(input)
    refuse("mode", x.dtype)
    if x.ndim == 0:
        return ValuesIndices(name_node(x.clone(), "ModeBackward0"), const(0, np.int64))
    d = norm_dim(dim, x.ndim)
    check_reduced_dim("mode():", x.shape, d)
    v = np.moveaxis(vals(x), d, -1)
    v = v.astype(np.float32 if v.dtype == np.float16 else np.uint8) if \
        v.dtype in (np.float16, np.bool_) else v
    rows = kernel_array(v, v.dtype, (-1, v.shape[-1]))
    idx = np.zeros(rows.shape[0], np.int64)
    if idx.size:  # (the run PyTorch's std::sort of the row leaves last among the longest)
        _select_kernels().mode_rows(rows, idx)
    idx = np.expand_dims(idx.reshape(v.shape[:-1]), d)
    ids = _along_ids(x.shape, d, idx)  # (one gather record, named as PyTorch's node)
    if not keepdim:
        ids, idx = np.squeeze(ids, d), np.squeeze(idx, d)
    return ValuesIndices(gathered(x, ids, "ModeBackward0"), const(idx))


def msort(input):
    """Sorted along the first dimension."""
    return _ops.sort(input, 0).values if _t(input).ndim else _t(input).clone()


def _median_at(x, dim, keepdim, nan_last):
    """The lower median along ``dim`` of the non-NaN values (``nan_last``: NaN counted out)."""
    v = vals(x)
    order = np.argsort(v, axis=dim, kind="stable")  # NaN sorts last
    n = np.sum(~np.isnan(v), axis=dim, keepdims=True) if nan_last else \
        np.full(v.shape[:dim] + (1,) + v.shape[dim + 1:], v.shape[dim])
    k = np.maximum((n - 1) // 2, 0)
    idx = np.take_along_axis(order, k, axis=dim)
    out = _ops.gather(x, dim, const(idx))
    if not keepdim:
        out, idx = _ops.squeeze(out, dim), np.squeeze(idx, dim)
    return out, const(idx)


def nanmedian(input, dim=None, keepdim=False):
    """The lower median of the non-NaN values; with ``dim``: ``(values, indices)``."""
    x = _t(input)
    refuse("median" if dim is None else "median.dim", x.dtype)  # (PyTorch's median kernels)
    if x.dtype.kind == "b":
        raise NotImplementedError(f'"{"median_cpu" if dim is None else "median_out"}" not '
                                  "implemented for 'Bool'")
    if dim is None:
        flat = _ops.reshape(x, (-1,))
        if flat.shape[0] == 0:
            return const(np.nan, x.dtype)
        with _no_grad():
            value = _median_at(flat, 0, False, True)[0]
        return spread_evenly(x, vals(value), name="NanmedianBackward0")  # ties share the grad
    if x.ndim == 0:
        return ValuesIndices(x.clone(), const(0, np.int64))
    d = norm_dim(dim, x.ndim)
    check_reduced_dim("median():", x.shape, d)
    return ValuesIndices(*_median_at(x, d, keepdim, True))


def _quantile_check(x, q, interpolation, name):
    if x.numel() == 0:  # (nanquantile's too: PyTorch's one check, named quantile)
        raise RuntimeError("quantile() input tensor must be non-empty")
    _need_float(x, name)
    if interpolation not in _S.INTERPOLATIONS:
        raise RuntimeError(f"{name}() interpolation must be one of linear, lower, higher, "
                           f"midpoint or nearest, but got {interpolation}")
    qv = vals(q).astype(np.float64)
    if qv.ndim > 1:
        raise RuntimeError(f"{name}() q must be a scalar or 1D tensor")
    if isinstance(q, Tensor) and q.dtype != x.dtype:  # (PyTorch's words for nanquantile too)
        raise RuntimeError("quantile() q tensor must be same dtype as the input tensor")
    if np.any((qv < 0) | (qv > 1)):
        if qv.ndim == 0 and not hasattr(q, "_data"):
            raise RuntimeError(f"{name}() q must be in the range [0, 1] but got {q}")
        raise RuntimeError(f"{name}() q values must be in the range [0, 1]")
    return qv


def _quantile(x, qv, dim, keepdim, skip_nan, interpolation, q=None):
    """``quantile_along`` with PyTorch's ``dim=None`` (flattened) and ``keepdim``; ``q`` (the
    tensor of ``qv``) gets its gradient when it requires one."""
    if dim is None:
        y, d = _ops.reshape(x, (-1,)), 0
    else:
        d = norm_dim(dim, max(x.ndim, 1))
        y = x if x.ndim else _ops.reshape(x, (1,))
    q_grad = q if isinstance(q, Tensor) and q.requires_grad else None
    r = _S.quantile_along(y, qv, d, skip_nan, interpolation, q_grad)
    lead = 1 if np.ndim(qv) else 0
    if not keepdim or x.ndim == 0:  # (a 0-d input keeps no dim)
        return _ops.squeeze(r, d + lead)
    if dim is None:
        return _ops.reshape(r, r.shape[:lead] + (1,) * x.ndim)
    return r


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """The ``q``-th quantiles along ``dim`` (``interpolation`` between the order statistics
    around ``q (n - 1)``: linear, lower, higher, nearest or midpoint); NaN propagates."""
    x = _t(input)
    return _quantile(x, _quantile_check(x, q, interpolation, "quantile"), dim, keepdim, False,
                     interpolation, q)


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """``quantile`` of the non-NaN values (NaN where a slice has none)."""
    x = _t(input)
    return _quantile(x, _quantile_check(x, q, interpolation, "nanquantile"), dim, keepdim, True,
                     interpolation, q)


def _scatter_prod(x, used, tgt, include_self):
    """scatter_reduce's prod: each receiving element the product of its stack (its own value
    when ``include_self``, then the ``used`` src values sent to flat target ``tgt``, in
    order), by ``prod``, whose gradient is exact with zeros, to any order."""
    n = int(np.prod(x.shape))
    rows, _, stack = contributor_stacks(tgt, n, include_self)
    flat = x.reshape(-1)
    pool = _ops.cat([flat, used, const(np.ones(1, x.dtype))], 0)
    reduced = _ops.prod(pool[const(stack)], 1).to(x.dtype)
    where = np.arange(n)
    where[rows] = n + np.arange(rows.size)
    return _ops.cat([flat, reduced], 0)[const(where)].reshape(x.shape)


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """``input`` with each ``src`` element reduced (``"sum"``, ``"prod"``, ``"mean"``,
    ``"amax"``, ``"amin"``) into the position ``index`` names along ``dim``; ``include_self``: the input's
    own value takes part. The gradient of amax/amin is shared evenly by the values equal to
    the result, as PyTorch's; prod's is exact where there are zeros. PyTorch's forward also
    takes ``"max"``/``"min"`` (as amax/amin), and its backward then raises."""
    if reduce in ("max", "min"):
        from .lapack_factors import _no_derivative

        x, s = _t(input), _t(src)
        with _no_grad():
            r = _scatter_reduce(x, dim, index, s, "a" + reduce, include_self)
        error = ("Expected 'reduce' to be one of 'sum', 'prod', 'mean', 'amax', 'amin' but got "
                 f"{reduce}.")
        return _no_derivative(lambda: RuntimeError(error), [t for t in (x, s) if
                              isinstance(t, Tensor)], (r,), "ScatterReduceBackward0")[0]
    r = _scatter_reduce(input, dim, index, src, reduce, include_self)
    x, s = _t(input), _t(src)
    if r.requires_grad and type(r) is Tensor and type(x) is Tensor and type(s) is Tensor and \
            type(r._data) is np.ndarray and not compile_tracing():
        # one node as PyTorch's ScatterReduceBackward0, its next functions (input, src), not
        # the composition's last op: a record passing the gradient on (its inputs the result
        # and the deps, which get none from it)
        deps = [t for t in (x, s) if t.requires_grad]
        r = depends(r, deps, "ScatterReduceBackward0", True)
        name_node(r, "ScatterReduceBackward0", pick=(1 if x.requires_grad else None,
                                                     len(deps) if s.requires_grad else None))
    return r


def _scatter_reduce(input, dim, index, src, reduce, include_self):
    if reduce not in ("sum", "prod", "mean", "amax", "amin"):
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got "
                           f"{reduce}")
    x, s = _t(input), _t(src)
    idx = np.asarray(vals(index), np.int64)
    d = norm_dim(int(dim), max(x.ndim, 1))
    check_scatter_shapes(x, d, idx, s)
    if min(x.ndim, idx.ndim, s.ndim) == 0 and max(x.ndim, idx.ndim, s.ndim) <= 1 and idx.size:
        # (a 0-d tensor is one of one element, as PyTorch's)
        return _scatter_reduce(x.reshape(-1), 0, idx.reshape(-1), s.reshape(-1), reduce,
                               include_self).reshape(x.shape)
    if idx.ndim != x.ndim or idx.ndim != s.ndim:
        raise RuntimeError("Index tensor must have the same number of dimensions as input "
                           "tensor")
    # flat target of every src element used (index's extent), in input's flat numbering
    grid = np.indices(idx.shape)
    grid[d] = idx
    if idx.size and (idx.min() < 0 or idx.max() >= x.shape[d]):  # (no index from the end)
        bad = idx[(idx < 0) | (idx >= x.shape[d])][0]  # (the first, as PyTorch's)
        raise RuntimeError(f"index {int(bad)} is out of bounds for dimension {d} with "
                           f"size {x.shape[d]}")
    grid[d] %= max(x.shape[d], 1)
    tgt = np.ravel_multi_index(tuple(grid), x.shape).reshape(-1)
    sv = vals(s)[tuple(slice(0, n) for n in idx.shape)].reshape(-1)
    xv = vals(x).reshape(-1)
    hit = np.zeros(xv.size, bool)
    hit[tgt] = True
    keep = ~hit | include_self  # where the input's own value takes part
    if reduce == "prod":
        return _scatter_prod(x, s[tuple(slice(0, n) for n in idx.shape)].reshape(-1), tgt,
                             include_self)
    if reduce in ("sum", "mean"):
        count = keep.astype(np.float64)
        np.add.at(count, tgt, 1.0)
        base = x * const(keep.reshape(x.shape).astype(x.dtype)) if not include_self else x
        out = _ops.scatter_add(base, d, const(idx), s)
        if reduce == "sum":
            return out
        return out / const(np.maximum(count, 1).reshape(x.shape).astype(x.dtype))
    # amax / amin: the value by NumPy; the gradient shared by the elements equal to it
    ufunc = np.maximum if reduce == "amax" else np.minimum
    fill = -np.inf if reduce == "amax" else np.inf
    res = np.where(keep, xv, fill).astype(np.result_type(xv.dtype, sv.dtype))
    ufunc.at(res, tgt, sv)
    res = np.where(hit | keep, res, xv)
    self_tie = keep & (xv == res)
    src_tie = sv == res[tgt]
    ties = self_tie.astype(np.float64)
    np.add.at(ties, tgt, src_tie.astype(np.float64))
    ties = np.maximum(ties, 1)
    w_self = const((self_tie / ties).reshape(x.shape).astype(x.dtype))
    w_src = np.zeros(idx.shape, x.dtype)
    w_src.reshape(-1)[...] = src_tie / ties[tgt]
    linear = _ops.scatter_add(x * w_self, d, const(idx),
                              s[tuple(slice(0, n) for n in idx.shape)] * const(w_src))
    value = const(res.reshape(x.shape).astype(x.dtype))
    return value + (linear - linear.detach())  # (the value exact, the gradient the weights)


__all__ = ["all", "any", "count_nonzero", "nansum", "nanmean", "var_mean", "std_mean",
           "aminmax", "cumprod", "cummax", "cummin", "mode", "msort", "nanmedian", "quantile",
           "nanquantile", "scatter_reduce"]
