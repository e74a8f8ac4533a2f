"""Reductions. ``sum``/``mean`` are scatters (see movement.py); the rest build on them.

Most reductions here are composites of recorded primitives (norm, logsumexp, softmax): they
need no derivative rule and are differentiable to any order. ``amax``/``amin`` (ties share the
gradient), ``var`` and ``std`` are ``kind="python"`` ops with a NumPy VJP and JVP and a
Tensor-level VJP; ``prod`` is in product.py, ``cumsum`` in cumulative.py. ``max(dim)``/
``min(dim)`` gather the first extremal element (a linear GATHER_INDEX record), so their
gradient goes to that index only.
"""

import builtins
import math
import warnings
from collections import namedtuple

import numpy as np

from .._float_warnings import quiet
from ..device import DeviceArray, host_array
from ..tensor import Tensor, _make, _wrap
from . import record as R
from . import fused_softmax as _softmax_op
from . import vector_norm as _vector_norm
from .activations import fusable_array
from .complex_refusals import refusal, refuse
from .elementwise import _MULC, _const_op
from .full_reduce import full_mean as _full_mean
from .movement import _add_reduce, _record_sum, gathered, reshape, sum, sum_values
from .out_variants import refuse_out
from .node_names import name_node
from .product import prod
from ..registry import Op, defop
from .shapes import check_reduced_dim, norm_dim, norm_dims, size_of, torch_dtype_name
from . import var_rules  # noqa: F401 (var's and std's derivative rules: registered)

__all__ = ["sum", "mean", "sum_to", "argmax", "argmin", "prod", "max", "min", "amax", "amin",
           "var", "std", "norm", "logsumexp", "softmax", "log_softmax"]

_builtin_max = builtins.max  # this module defines max()


def sum_to(x, shape):
    """Sum ``x`` down to ``shape`` (the adjoint of broadcasting ``shape`` up to ``x.shape``)."""
    shape = tuple(shape)
    if x.shape == shape:
        return x
    lead = x.ndim - len(shape)
    dims = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape)
                                      if s == 1 and x.shape[lead + i] != 1)
    return reshape(sum(x, dims, keepdim=True), shape) if dims else reshape(x, shape)


def _arg_reduce(np_f, name):
    def fn(x, dim=None, keepdim=False):
        x = R.as_tensor(x)
        if x.dtype.kind == "c":  # (complex numbers have no order)
            raise refusal(name, x.dtype)
        if x.dtype.kind == "b":
            raise RuntimeError(f"{name}(): does not support bool input")
        if type(x._data) is DeviceArray:  # the extremum's position, found on the device
            flat = dim is None
            if flat and not x._data.size:
                raise _unspecified_dim(name)
            return _max_dim(reshape(x.detach(), (-1,)) if flat else x.detach(), 0 if flat else
                            dim, keepdim and not flat, np_f, name, lambda values, ids: ids)
        xd = np.asarray(x._data)
        if dim is None:
            if xd.size == 0:
                raise _unspecified_dim(name)
            i = np.asarray(np_f(xd.reshape(-1)), dtype=np.int64)
            return _make(i.reshape((1,) * xd.ndim) if keepdim else i)
        d = norm_dim(dim, xd.ndim)
        if xd.ndim == 0:
            return _make(np.zeros((), np.int64))
        if xd.shape[d] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
        return _make(np.asarray(np_f(xd, axis=d, keepdims=keepdim), dtype=np.int64))

    fn.__name__ = name
    return fn


# NOTE: ties pick the first index (NumPy and PyTorch agree).
argmax = _arg_reduce(np.argmax, "argmax")
argmin = _arg_reduce(np.argmin, "argmin")


# ---- helpers ----------------------------------------------------------------------------

def _reduce_dims(dim, ndim):
    """``dim`` as a sorted tuple of axes; None, () and [] mean every axis (PyTorch)."""
    return norm_dims(None if isinstance(dim, (tuple, list)) and not dim else dim, ndim)


def _kept_shape(shape, dims):
    return tuple(1 if k in dims else s for k, s in enumerate(shape))


def _need_float(x, name, d=None):
    """PyTorch's refusal of integer and bool input (complex is handled before): norm's error,
    or softmax's missing kernel (``d``: the dim it runs along; the last has its own)."""
    if x.dtype.kind != "f":
        t = _torch_dtype(x.dtype)
        if name == "norm":
            raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor "
                               f"as input. Got {t}")
        kernel = "_lastdim_kernel_impl" if d is None or d >= x.ndim - 1 else "_kernel_impl"
        raise NotImplementedError(f'"{name}{kernel}" not implemented for \'{t}\'')


_torch_dtype = torch_dtype_name


def _refuse_complex_softmax(x, dim, name):
    """PyTorch's missing-kernel refusal, which names the last-dim kernel or the other one."""
    if x.dtype.kind == "c":
        last = norm_dim(int(dim), x.ndim) >= x.ndim - 1
        refuse(name if last else name + ".dim", x.dtype)


def _const(a, like=None):
    if like is not None and type(like._data) is DeviceArray:  # a constant on like's device
        return _make(_cuda().to_device(np.asarray(a)))
    return _make(_wrap(np.asarray(a)))


def _host(t):
    """t's values as an ndarray (a copy from the device for a CUDA tensor)."""
    return host_array(t._data)


def _squeeze_dims(t, dims, keepdim):
    if keepdim or not dims:
        return t
    return reshape(t, tuple(s for k, s in enumerate(t.shape) if k not in dims))


# ---- mean -------------------------------------------------------------------------------

_grad_on = R._grad_on

def mean(x, dim=None, keepdim=False, dtype=None):
    """Mean over ``dim`` (all dims if None): the sum's record, then a scale (one node, PyTorch's
    ``MeanBackward0``/``MeanBackward1``)."""
    x = R.as_tensor(x)
    if x._inference and x._rg and _grad_on() and not R._state.inference:  # (PyTorch's sum(out=))
        raise RuntimeError("sum(): functions with out=... arguments don't support automatic "
                           "differentiation, but one of the arguments requires grad.")
    xd = x._data
    if dim is None and not keepdim and dtype is None and type(xd) is np.ndarray and \
            xd.dtype.char in "fd":
        n = xd.size  # the common full mean: the sum's record, then a scale by 1/n
        try:
            value = _wrap(_add_reduce(xd, axis=None))  # (sum's fast path, inline)
        except RuntimeWarning:  # (a user's warnings filter: _float_warnings)
            value = _wrap(quiet(_add_reduce, xd, axis=None))
        if not (x._rg and _grad_on()):
            s = _make(value)
            return s / n if n else s / float("nan")
        if n:  # the sum's record and the scale, spelled out (a loss's)
            return _full_mean(value, x, n, _record_sum)
        s = _record_sum(value, x, R.segment_for(x), (1, n, 0, 0))
        return name_node(s / float("nan"), "MeanBackward0", s)
    if dtype is not None and np.dtype(dtype).kind not in "fc":
        raise RuntimeError("mean(): could not infer output dtype. Optional dtype must be either "
                           "a floating point or complex dtype. Got: "
                           f"{torch_dtype_name(np.dtype(dtype))}")
    if x.dtype.kind not in "fc" and dtype is None:
        raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either a "
                           f"floating point or complex dtype. Got: {torch_dtype_name(x.dtype)}")
    name = "MeanBackward0" if dim is None and not keepdim else "MeanBackward1"
    if isinstance(dim, (tuple, list)) and len(dim) == 0:
        dim = None  # PyTorch: an empty dim list reduces over every dim
    dims = norm_dims(dim, x.ndim)
    count = size_of(tuple(x.shape[d] for d in dims))
    if x.dtype == np.float16 and type(xd) is np.ndarray and \
            (dtype is None or np.dtype(dtype) == np.float16):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # PyTorch's
            r = (sum_values(xd.astype(np.float32), dims, keepdim) / np.float32(count))
        r = np.asarray(r).astype(np.float16)  # float32 mean, rounded once (not sum / n)
        s = sum(x, dim, keepdim, dtype) if R.needs_grad(x) else None  # (the graph's sum)
        if s is None or not R.needs_grad(s):
            return _make(r)
        return name_node(_const_op(_MULC, s, r, 1.0 / count if count else math.nan), name, s)
    s = sum(x, dim, keepdim, dtype)
    return name_node(s / count if count else s / float("nan"), name, s)  # (Tensor.__truediv__)


# ---- amax / amin (python op: ties share the gradient evenly) ----------------------------

def _extremum_mask(x, out_kept, evenly):
    if evenly:  # max()/min() of everything: a NaN result selects the NaN inputs
        return (x == out_kept) | (np.isnan(x) & np.isnan(out_kept))
    return x == out_kept  # amax/amin: PyTorch's (self == result), NaN matches nothing


def _amax_weights(x, out, dims, evenly):
    """mask and count over ``dims``: the share of the gradient each input element gets."""
    x = np.asarray(x, np.float64)
    ok = np.asarray(out, np.float64).reshape(_kept_shape(x.shape, dims))
    mask = _extremum_mask(x, ok, evenly)
    return mask, mask.sum(axis=dims, keepdims=True).astype(np.float64), ok.shape


def _amax_vjp_np(g, inputs, out, dims, keepdim, evenly=False):
    mask, count, kept = _amax_weights(inputs[0], out, dims, evenly)
    share = np.asarray(g, np.float64).reshape(kept) / count
    if evenly:  # PyTorch's evenly_distribute_backward selects (masked_fill): no inf * 0
        return (np.where(mask, share, 0.0),)
    return (share * mask,)  # PyTorch's amax backward: grad / count * mask


def _amax_vjp(g, inputs, out, dims, keepdim, evenly=False):
    from .elementwise import mul, where

    mask, count, kept = _amax_weights(_host(inputs[0]), _host(out), dims, evenly)
    # the weights are piecewise constant in x: linear in g, zero higher derivatives
    share = mul(reshape(g, kept), _const(1.0 / count, g))
    if evenly:
        return (where(_const(mask, g), share, 0.0),)
    return (mul(share, _const(mask.astype(np.float64), g)),)


def _amax_jvp_np(tangents, inputs, out, dims, keepdim, evenly=False):
    """The tangents' mean at the extremes, PyTorch's: amax/amin select them, max()/min()
    multiply by the mask (an inf tangent elsewhere: nan); a NaN extremum matches nothing."""
    mask, count, _ = _amax_weights(inputs[0], out, dims, False)
    t = tangents[0] * mask if evenly else np.where(mask, tangents[0], 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = t.sum(axis=tuple(d + 1 for d in dims), keepdims=True) / count
    return t.reshape((len(t),) + np.shape(out))


defop(Op.AMAX, "amax", "python", "AmaxBackward0", vjp=_amax_vjp, vjp_np=_amax_vjp_np,
      jvp_np=_amax_jvp_np)


def _amax_impl(x, dim, keepdim, np_f, name, evenly=False):
    x = R.as_tensor(x)
    xd = x._data if type(x._data) is DeviceArray else np.asarray(x._data)
    dims = _reduce_dims(dim, xd.ndim)
    if xd.size == 0:
        if dim is None or (isinstance(dim, (tuple, list)) and not dim):
            raise RuntimeError(f"{name}(): Expected reduction dim to be specified for "
                               "input.numel() == 0. Specify the reduction dim with the "
                               "'dim' argument.")
        for k in (dim,) if isinstance(dim, (int, np.integer)) else dim:  # (as written)
            check_reduced_dim(f"{name}():", xd.shape, norm_dim(int(k), xd.ndim), k)
    if xd.dtype.kind == "c":  # (complex numbers have no order: NumPy's is lexicographic)
        raise refusal(name, xd.dtype)
    if type(xd) is DeviceArray:
        value = _cuda().extremum_value(xd, dims, keepdim, np_f is np.amax)
    else:
        value = _wrap(np.asarray(np_f(xd, axis=dims, keepdims=keepdim)))
    if not R.needs_grad(x) or x.dtype.kind != "f":
        return _make(value)
    t = R.python_result(value, Op.AMAX, (x,), save_inputs=(0,), save_out=True,
                        params=dict(dims=dims, keepdim=keepdim, evenly=evenly))
    return t if name == "amax" else name_node(t, _EXTREMUM_NODES[name])


# PyTorch's node of each op recorded as AMAX (max() and min() of everything: its overload 1)
_EXTREMUM_NODES = {"amin": "AminBackward0", "max": "MaxBackward1", "min": "MinBackward1"}


def amax(input, dim=(), keepdim=False):
    """Maximum over ``dim`` (int or tuple; all dims by default). Ties share the gradient.

    Example:
        >>> import tapegrad as tg
        >>> x = tg.tensor([1.0, 3.0, 3.0], requires_grad=True)
        >>> tg.amax(x).backward()
        >>> x.grad
        tensor([0.0000, 0.5000, 0.5000])
    """
    return _amax_impl(input, dim, keepdim, np.amax, "amax")


def amin(input, dim=(), keepdim=False):
    """Minimum over ``dim`` (int or tuple; all dims by default). Ties share the gradient."""
    return _amax_impl(input, dim, keepdim, np.amin, "amin")


# ---- max / min --------------------------------------------------------------------------

class _ReturnType(tuple):
    """Base of the ``(values, indices)`` results, like ``torch.return_types``."""

    def __repr__(self):
        name = type(self).__name__
        return f"tapegrad.return_types.{name}(\nvalues={self[0]!r},\nindices={self[1]!r})"


def _return_type(name):
    base = namedtuple(name, ["values", "indices"])
    return type(name, (_ReturnType, base), {"__slots__": (), "__repr__": _ReturnType.__repr__})


_MaxResult = _return_type("max")
_MinResult = _return_type("min")


def _unspecified_dim(name):
    return IndexError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")


def _max_dim(x, dim, keepdim, np_arg, name, result_type):
    x = R.as_tensor(x)
    xd = x._data if type(x._data) is DeviceArray else np.asarray(x._data)
    d = norm_dim(int(dim), xd.ndim)
    if xd.dtype.kind == "c":
        raise refusal(name + ".dim" if name in ("max", "min") else name, xd.dtype)
    xm = xd.reshape(1) if xd.ndim == 0 else xd
    if xm.shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    if type(xd) is DeviceArray:
        return _cuda().max_dim(x, d, keepdim, np_arg is np.argmax, result_type)
    idx = np.asarray(np_arg(xm, axis=d, keepdims=True), np.int64)  # first extremum, as PyTorch
    flat = np.take_along_axis(np.arange(xm.size, dtype=np.int64).reshape(xm.shape), idx, d)
    out_shape = idx.shape if keepdim else idx.shape[:d] + idx.shape[d + 1:]
    if xd.ndim == 0:
        out_shape = ()
    values = gathered(x, flat.reshape(out_shape),
                      "MaxBackward0" if np_arg is np.argmax else "MinBackward0")
    return result_type(values, _make(idx.reshape(out_shape)))


def max(input, dim=None, keepdim=False):
    """``max(x)``: the largest element (ties share the gradient); ``max(x, dim)``:
    ``(values, indices)`` with the gradient routed to the first maximal index;
    ``max(x, other)``: elementwise ``maximum``.

    Example:
        >>> import tapegrad as tg
        >>> x = tg.tensor([[1.0, 5.0], [7.0, 2.0]])
        >>> x.max(dim=1).indices
        tensor([1, 0])
    """
    if isinstance(dim, Tensor):
        from .elementwise import maximum

        return maximum(input, dim)
    if dim is None:
        return _amax_impl(input, None, False, np.amax, "max", evenly=True)
    return _max_dim(input, dim, keepdim, np.argmax, "max", _MaxResult)


def min(input, dim=None, keepdim=False):
    """Like ``max``, for the smallest element (``min(x, other)`` is ``minimum``)."""
    if isinstance(dim, Tensor):
        from .elementwise import minimum

        return minimum(input, dim)
    if dim is None:
        return _amax_impl(input, None, False, np.amin, "min", evenly=True)
    return _max_dim(input, dim, keepdim, np.argmin, "min", _MinResult)


# ---- var / std / norm (composites) ------------------------------------------------------

def _correction(dim, unbiased, correction):
    if isinstance(dim, bool):  # var(x, False): the legacy (input, unbiased) overload
        dim, unbiased = None, dim
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    elif unbiased is not None:
        raise RuntimeError("var/std: cannot pass both 'unbiased' and 'correction'")
    return dim, correction


def _var(x, dim, unbiased, keepdim, correction, name, root=False):

    x = R.as_tensor(x)
    dim, correction = _correction(dim, unbiased, correction)
    if x.dtype.kind not in "fc":
        raise RuntimeError("std and var only support floating point and complex dtypes")
    dims = _reduce_dims(dim, x.ndim)
    if x._inference and len(dims) == x.ndim:  # (every dimension: PyTorch sums into out=)
        refuse_out("sum", x)
    n = size_of(tuple(x.shape[k] for k in dims))
    dof = _builtin_max(0.0, n - correction)
    if dof <= 0:
        warnings.warn(f"{name}(): degrees of freedom is <= 0. Correction should be strictly "
                      "less than the reduction factor (input numel divided by output numel).",
                      UserWarning, stacklevel=3)
    if x.dtype.kind == "c":
        return _complex_var(x, dims, keepdim, dof, root)
    if type(x._data) is DeviceArray:
        value = _cuda().var_value(x._data, dims, keepdim, dof, root)
    else:
        xd = np.asarray(x._data)
        xw = xd.astype(np.float32) if xd.dtype == np.float16 else xd  # (PyTorch's float32
        with np.errstate(all="ignore"):  # sums of float16: 5-13% off; inf - inf, overflow)
            dev = xw - _mean_values(xw, dims)
            value = np.add.reduce(dev * dev, axis=dims, keepdims=keepdim) / np.float64(dof)
        if root:
            value = np.sqrt(value)
        value = _wrap(np.asarray(value, xd.dtype))
    if not R.needs_grad(x):
        return _make(value)
    whole = dof <= 0 and (dim is None or not x.ndim)  # (ops/var_rules.py)
    return R.python_result(value, Op.STD if root else Op.VAR, (x,), save_inputs=(0,), save_out=root,
                           params=dict(dims=dims, keepdim=keepdim, dof=n - correction, whole=whole))


def _mean_values(a, dims):
    """``np.mean(a, axis=dims, keepdims=True)`` of a float array without NumPy's "Mean of
    empty slice" warning (an empty mean is NaN, as PyTorch's, which warns of the degrees of
    freedom only); callers ignore the 0/0 in np.errstate."""
    n = math.prod([a.shape[d] for d in dims])
    return np.add.reduce(a, axis=dims, keepdims=True) / n


def _complex_var(x, dims, keepdim, dof, root):
    """torch's var/std of complex ``x``: ``sum |x - mean|^2 / (N - correction)``, real; composed
    of ops with complex rules, so its gradient is PyTorch's ``2 / dof * g * (x - mean)``."""
    from . import complex as C
    from .elementwise import div, mul, sub

    dev = sub(x, mean(x, dims, True))
    with np.errstate(divide="ignore", invalid="ignore"):
        v = div(sum(C.real(mul(dev, C.conj(dev))), dims, keepdim), float(dof))
    return _safe_root(v, 2) if root else v


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Variance over ``dim`` with Bessel's ``correction`` (1 by default, like PyTorch)."""
    return _var(input, dim, unbiased, keepdim, correction, "var")


def _safe_root(s, p):
    """``s ** (1/p)`` with gradient 0 (not inf * 0 = nan) where ``s == 0``, like torch."""
    from .elementwise import pow, sqrt, where

    root = sqrt if p == 2 else (lambda t: pow(t, 1.0 / p))
    dev = type(s._data) is DeviceArray  # masked whether or not s has zeros: no host read
    zero = (s.detach() == 0) if dev else np.asarray(s._data) == 0
    if not (s.requires_grad and (dev or np.any(zero))):
        return root(s)
    return where(zero, 0.0, root(where(zero, 1.0, s)))


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Standard deviation; the gradient is 0 where it is 0 (PyTorch masks that case)."""
    return _var(input, dim, unbiased, keepdim, correction, "std", root=True)


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """Vector p-norm over ``dim`` (all elements by default); ``'fro'`` is the 2-norm.

    The gradient at a zero vector is 0 for p > 0, like ``torch.norm``.

    Example:
        >>> import tapegrad as tg
        >>> tg.norm(tg.tensor([3.0, 4.0])).item()
        5.0
    """
    from .elementwise import abs, mul, pow

    x = R.as_tensor(input)
    if dtype is not None:
        x = x.to(dtype)
    if x.dtype == np.float16:  # PyTorch accumulates in float32 (a float16 sum of squares
        return norm(x.to(np.float32), p, dim, keepdim).to(np.float16)  # overflows at 256)
    if x.dtype.kind == "c":  # a norm of complex values is the norm of their moduli (real)
        x = abs(x)
    _need_float(x, "norm")
    if p is None or p == "fro":
        p = 2
    if isinstance(p, str):
        raise NotImplementedError(f"norm(): p={p!r} is not supported (vector norms only)")
    p = float(p)
    dims = _reduce_dims(dim, x.ndim)
    if (p < 0 or p == math.inf) and any(x.shape[d] == 0 for d in dims):
        name = "inf" if p == math.inf else "-inf" if p == -math.inf else \
            f"{p:g}"
        given = () if dim is None else (dim,) if isinstance(dim, int) else tuple(dim)
        where = "an empty tensor because" if dim is None else (  # (PyTorch's missing space)
            f"the dimension {next(d for d in given if x.shape[d] == 0)}because this dimension "
            "is empty and")
        raise RuntimeError(f"linalg.vector_norm cannot compute the {name} norm on {where} "
                           "the operation does not have an identity")
    if p == math.inf:
        return amax(abs(x), dims, keepdim)
    if p == -math.inf:
        return amin(abs(x), dims, keepdim)
    on_device = type(x._data) is DeviceArray
    if p == 0:  # count of non-zeros: no gradient (None, not zeros), as PyTorch's
        cnt = sum((x.detach() != 0).to(x.dtype), dims, keepdim)
        if not R.needs_grad(x):
            return cnt
        if on_device:  # (a zero gradient: the node below records host values)
            return cnt + sum(mul(x, 0.0), dims, keepdim)
        from .backward_ops import depends

        return depends(cnt, (x,), "LinalgVectorNormBackward0", unused=True)
    if p == 1:
        return sum(abs(x), dims, keepdim)
    if p == 2:
        if fusable_array(x):  # one op, as PyTorch's
            return _vector_norm.norm2(x, dims, keepdim)
        s = sum(mul(x, x), dims, keepdim)
    else:
        a = abs(x)
        zero = (a.detach() == 0) if on_device else np.asarray(a._data) == 0
        if p < 1 and R.needs_grad(a) and (on_device or np.any(zero)):  # |0|**p: infinite slope
            from .elementwise import where

            # |0|**p is 0 for 0 < p < 1 but inf for p < 0: the sum is then inf, the norm 0
            pa = where(zero, math.inf if p < 0 else 0.0, pow(where(zero, 1.0, a), p))
        else:
            pa = pow(a, p)
        s = sum(pa, dims, keepdim)
    return _safe_root(s, p)


# ---- logsumexp / softmax / log_softmax (composites, stable) ------------------------------

def _shift(x, dims, keep_inf=False):
    """max over ``dims`` (kept), as a constant: subtracting it changes no gradient."""
    if type(x._data) is DeviceArray:
        return _make(_cuda().shift_value(x._data, dims, keep_inf))
    xd = np.asarray(x._data)
    if xd.dtype.kind == "c":  # complex: the real parts set the scale (PyTorch's)
        xd = np.ascontiguousarray(xd.real)
    return _const(_softmax_op.shift_array(xd, dims, keep_inf))


def logsumexp(input, dim, keepdim=False):
    """``log(sum(exp(x), dim))`` computed stably; its gradient is ``softmax`` (for complex
    ``x``, holomorphic: ``g * conj(softmax(x))``, shifted by the largest real part).

    Example:
        >>> import tapegrad as tg
        >>> round(tg.logsumexp(tg.tensor([1000.0, 1000.0]), 0).item(), 6)
        1000.693147
    """
    x = R.as_tensor(input)
    if x.dtype.kind in "biu":  # integers give float64 (PyTorch 2.13: the default float dtype)
        from .elementwise import to

        x = to(x, np.float64)
    dims = _reduce_dims(dim, x.ndim)
    xd = x._data
    if dims and type(xd) is np.ndarray and xd.dtype.char in "fd" and \
            xd.size:  # CPU float32/64 arrays: one op (ops/fused_softmax.py), the same values
        return _softmax_op.logsumexp(x, dims, keepdim)
    return composed_logsumexp(x, dims, keepdim)


def composed_logsumexp(x, dims, keepdim):
    """``logsumexp`` as recorded op by op (CUDA, complex, other dtypes; the one-op form's
    values are this composition's, bit for bit)."""
    from .elementwise import add, exp, log, sub

    m = _shift(x, dims)
    with np.errstate(divide="ignore"):  # all -inf: log(0) = -inf is the answer, no warning
        s = log(sum(exp(sub(x, m)), dims, keepdim=True))
    return _squeeze_dims(add(s, m), dims, keepdim)


def softmax(input, dim, dtype=None):
    """``exp(x) / sum(exp(x), dim)``, computed stably.

    Example:
        >>> import tapegrad as tg
        >>> tg.softmax(tg.tensor([0.0, 0.0]), 0)
        tensor([0.5000, 0.5000])
    """
    from .elementwise import div, exp, sub

    x = R.as_tensor(input)
    if dtype is not None:
        x = x.to(dtype)
    _refuse_complex_softmax(x, dim, "softmax")
    d = norm_dim(int(dim), x.ndim)  # (checked also for a 0-d tensor)
    _need_float(x, "softmax", d)
    dims = (d,) if x.ndim else ()
    if dims and type(x._data) is np.ndarray:  # CPU arrays: one op (ops/fused_softmax.py)
        return _softmax_op.fused(x, dims, False)
    e = exp(sub(x, _shift(x, dims, True)))  # (a +inf is the shift: its row nan, PyTorch's)
    return div(e, sum(e, dims, keepdim=True))


def log_softmax(input, dim, dtype=None):
    """``x - logsumexp(x, dim)``, computed stably (a row with +inf: nan, PyTorch's)."""
    from .elementwise import exp, log, sub

    x = R.as_tensor(input)
    if dtype is not None:
        x = x.to(dtype)
    _refuse_complex_softmax(x, dim, "log_softmax")
    dims = (d := norm_dim(int(dim), x.ndim),)[: x.ndim]  # (none for a 0-d x)
    _need_float(x, "log_softmax", d)
    if dims and type(x._data) is np.ndarray:  # CPU arrays: one op (ops/fused_softmax.py)
        return _softmax_op.fused(x, dims, True)
    return sub(sub(x, m := _shift(x, dims, True)), log(sum(exp(sub(x, m)), dims, keepdim=True)))


def _cuda():
    from . import cuda_ops

    return cuda_ops
