"""``cumsum`` and ``cumprod``: ``kind="python"`` ops (NumPy VJPs for the numeric sweep, tapegrad
ops for re-taping). cumsum's VJP is the reversed cumulative sum of the gradient; cumprod's is
PyTorch's: ``rev_cumsum(g * out) / x`` without zeros, and with them the first zero's product of
the others (everything after it gets 0)."""

import math

import numpy as np

from .._float_warnings import quiet
from ..device import DeviceArray
from ..tensor import _make, _wrap
from . import record as R
from .activations import FLOAT_DTYPES
from .cuda_linalg import on_host
from .movement import flip
from ..registry import Op, defop
from .shapes import norm_dim

__all__ = ["cumsum", "cumprod"]


def running(xd, d, reverse=False):
    """``np.cumsum(xd, axis=d)`` (``reverse``: summed from the end of the axis) of a float32
    or float64 array, by one compiled pass (``_cumulative_kernels``): the same values."""
    from ._cumulative_kernels import running_sums

    shape = xd.shape
    lines = (math.prod(shape[:d]), shape[d], math.prod(shape[d + 1 :]))
    out = np.empty(lines, xd.dtype)
    running_sums(np.ascontiguousarray(xd).reshape(lines), out, reverse)
    return out.reshape(shape)


def _compiled(a, dtype=None):
    """Whether ``running`` sums array ``a`` (to ``dtype``): a float32 or float64 array summed
    in its own dtype, of a size where NumPy's call is not the quicker."""
    return a.dtype in FLOAT_DTYPES and (dtype is None or np.dtype(dtype) == a.dtype) and \
        a.size >= _FEW


# NumPy's running sums and products are called as ufunc methods (np.add.accumulate, not
# np.cumsum): an overflow's RuntimeWarning is then attributed to this module, whose IEEE
# warnings are not shown (PyTorch says nothing), instead of to NumPy's fromnumeric.py
_FEW = 1024  # elements below which NumPy's cumsum is the quicker (the compiled call and its
# reshapes cost ~3 µs; measured crossovers 512-1024 elements, 1-D and 2-D)


def _cumsum_vjp_np(g, inputs, out, dim):
    g = np.asarray(g)
    if _compiled(g):
        return (running(g, dim, reverse=True),)
    g = g.astype(np.float64, copy=False)
    return (np.flip(np.add.accumulate(np.flip(g, dim), dim), dim),)


def _cumsum_vjp(g, inputs, out, dim):
    return (flip(cumsum(flip(g, dim), dim), dim),)


def _cumsum_jvp_np(tangents, inputs, out, dim):
    t = np.asarray(tangents[0], np.float64)
    return running(t, dim + 1) if _compiled(t) else np.add.accumulate(t, axis=dim + 1)


defop(Op.CUMSUM, "cumsum", "python", "CumsumBackward0", vjp=_cumsum_vjp, vjp_np=_cumsum_vjp_np,
      jvp_np=_cumsum_jvp_np)


def cumsum(input, dim, *, dtype=None):
    """Cumulative sum along ``dim``.

    Example:
        >>> import tapegrad as tg
        >>> tg.cumsum(tg.tensor([1.0, 2.0, 3.0]), 0)
        tensor([1., 3., 6.])
    """
    x = R.as_tensor(input)
    xd = x._data if type(x._data) is DeviceArray else np.asarray(x._data)
    d = norm_dim(int(dim), xd.ndim)
    if xd.ndim == 0:
        from .elementwise import clone

        return clone(x) if dtype is None else clone(x).to(dtype)
    if dtype is not None and np.dtype(dtype) == np.bool_:  # (PyTorch has no such kernel)
        raise NotImplementedError('"cumsum_out_cpu" not implemented for \'Bool\'')
    if type(xd) is DeviceArray:
        value = _cuda().cumsum_value(xd, d, dtype)
    else:
        try:
            value = running(xd, d) if _compiled(xd, dtype) else \
                np.add.accumulate(xd, axis=d, dtype=dtype)
        except RuntimeWarning:  # (a user's warnings filter: _float_warnings)
            value = quiet(np.add.accumulate, xd, axis=d, dtype=dtype)
        value = _wrap(value.astype(np.int64) if value.dtype.kind in "biu" and dtype is None
                      else value)
    if x.dtype.kind == "c" and R.needs_grad(x):
        from .complex import record

        return record(value, (x,), "cumsum", dim=d)
    if not R.needs_grad(x) or x.dtype.kind != "f":
        return _make(value)
    return R.python_result(value, Op.CUMSUM, (x,), params=dict(dim=d))



# ---- cumprod --------------------------------------------------------------------------------

def _reversed_running(w, dim):
    w = np.asarray(w)
    if _compiled(w):
        return running(w, dim, reverse=True)
    return np.flip(np.add.accumulate(np.flip(w, dim), dim), dim)


def _cumprod_vjp_np(g, inputs, out, dim):
    x, out = np.asarray(inputs[0]), np.asarray(out)
    g = np.asarray(g, x.dtype)
    rev = _reversed_running(g * out, dim)
    zero = x == 0
    if not zero.any():
        return (rev / x,)
    # along each line: before its first zero the same formula (out is 0 from the zero on, x is
    # not 0); at the first zero z, sum_{j >= z} g_j prod_{i <= j, i != z} x_i (the running
    # product with x_z read as 1); after it 0 (every product there holds x_z)
    xm, gm, rev = (np.moveaxis(a, dim, -1) for a in (x, g, rev))
    seen = np.add.accumulate(np.moveaxis(zero, dim, -1), -1)
    first = (seen == 1) & (xm == 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        grad = np.where(seen == 0, rev / xm, 0.0)
    others = np.multiply.accumulate(np.where(first, 1.0, xm).astype(x.dtype, copy=False), -1)
    at_zero = np.where(seen >= 1, gm * others, 0.0).sum(-1, keepdims=True)
    grad = np.where(first, at_zero, grad).astype(x.dtype, copy=False)
    return (np.moveaxis(grad, -1, dim),)


def _cumprod_vjp(g, inputs, out, dim):
    from .elementwise import mul, where

    x = inputs[0]
    if x.shape[dim] <= 1 or not x.numel():
        # out is x along a length-1 axis (derivative 1), nothing to differentiate when empty:
        # PyTorch passes g on, with no graph through x
        return (g,)
    if not (np.asarray(x._data) == 0).any():
        return (flip(cumsum(flip(mul(g, out), dim), dim), dim) / x,)
    # with a zero, the quadratic form PyTorch differentiates too (its derivative is cumprod's
    # second derivative, which the zero-aware form above is not):
    # grad_k = sum_{j >= k} g_j prod_{i <= j, i != k} x_i, the running products of the n
    # lines with x_k read as 1
    from .movement import broadcast_to, permute, unsqueeze
    from .reduce import sum as sum_

    last = [k for k in range(x.ndim) if k != dim] + [dim]  # dim moved to the end, and back
    xm, gm = permute(x, last), permute(g, last)
    n = xm.shape[-1]
    lines = broadcast_to(unsqueeze(xm, -2), tuple(xm.shape[:-1]) + (n, n))
    eye = np.eye(n, dtype=bool)
    others = cumprod(where(_make(eye), 1.0, lines), -1)
    upper = _make(np.triu(np.ones((n, n), x.dtype)))
    grad = sum_(mul(mul(others, upper), unsqueeze(gm, -2)), -1)
    return (permute(grad, tuple(np.argsort(last))),)


def _cumprod_jvp_np(tangents, inputs, out, dim):
    """``out_i sum_{j <= i} t_j / x_j`` before a line's first zero; from its first zero z on,
    ``t_z prod_{j <= i, j != z} x_j`` (the other terms hold x_z), and 0 from a second zero on
    (every term holds a zero): the exact derivative, PyTorch's values."""
    t, d = tangents[0], dim + 1
    x, out = np.asarray(inputs[0], np.float64), np.asarray(out, np.float64)
    zero = x == 0
    if not zero.any():
        return np.add.accumulate(t / x, axis=d) * out
    seen = np.add.accumulate(zero, axis=dim)
    first = zero & (seen == 1)
    before = np.add.accumulate(t / np.where(zero, 1.0, x), axis=d) * out
    others = np.multiply.accumulate(np.where(first, 1.0, x), axis=dim)
    t_zero = np.where(first, t, 0.0).sum(axis=d, keepdims=True)
    return np.where(seen == 0, before, np.where(seen == 1, t_zero * others, 0.0))


defop(Op.CUMPROD, "cumprod", "python", "CumprodBackward0", vjp=_cumprod_vjp,
      vjp_np=_cumprod_vjp_np, jvp_np=_cumprod_jvp_np)


def _doubling_scan(x, d):
    """cumprod of a complex tensor as products of recorded slices: y[i] *= y[i - s] for
    s = 1, 2, 4, ... (log2(n) steps; complex values have no dedicated rule)."""
    from .join import cat

    n, lead, y, s = x.shape[d], (slice(None),) * d, x, 1
    while s < n:
        tail = y[lead + (slice(s, None),)] * y[lead + (slice(0, n - s),)]
        y = cat([y[lead + (slice(0, s),)], tail], d)
        s *= 2
    return y if y is not x else x.clone()


@on_host  # CUDA tensors: through the host (ops/cuda_linalg.py)
def cumprod(input, dim):
    """Cumulative product along ``dim`` (integers and bools in int64).

    Example:
        >>> import tapegrad as tg
        >>> tg.cumprod(tg.tensor([1.0, 2.0, 3.0]), 0)
        tensor([1., 2., 6.])
    """
    x = R.as_tensor(input)
    xd = np.asarray(x._data)
    if xd.ndim == 0:
        from .elementwise import clone

        return clone(x)
    d = norm_dim(int(dim), xd.ndim)
    if x.dtype.kind == "c" and R.needs_grad(x):
        if not xd.size:  # (PyTorch's derivative passes g on: a clone's)
            from .elementwise import clone

            return clone(x)
        return _doubling_scan(x, d)
    try:
        value = np.multiply.accumulate(xd, axis=d)
    except RuntimeWarning:  # (a user's warnings filter: _float_warnings)
        value = quiet(np.multiply.accumulate, xd, axis=d)
    value = _wrap(value.astype(np.int64) if value.dtype.kind in "biu" else value)
    if not R.needs_grad(x) or x.dtype.kind != "f":
        return _make(value)
    return R.python_result(value, Op.CUMPROD, (x,), save_inputs=(0,), save_out=True,
                           params=dict(dim=d))


def _cuda():
    from . import cuda_ops

    return cuda_ops
