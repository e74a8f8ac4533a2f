"""``prod``: a ``kind="python"`` op with PyTorch's derivatives, exact where the input holds
zeros (products of the other elements, never a division by zero); complex products as a tree of
pairwise ``mul`` records."""

import numpy as np

from ..device import DeviceArray, host_array
from .._float_warnings import quiet
from ..registry import Op, defop
from ..tensor import _make, _wrap
from . import record as R
from .movement import permute, reshape
from .shapes import norm_dim

__all__ = ["prod"]


def _kept_shape(shape, dims):
    return tuple(1 if k in dims else s for k, s in enumerate(shape))


def _host(t):
    return host_array(t._data)


def _cuda():
    from . import cuda_ops

    return cuda_ops


def _others_product(xm):
    """prod_{j != i} x_j along the last axis, without dividing (exact with zeros)."""
    if xm.shape[-1] == 0:
        return np.ones(xm.shape, xm.dtype)  # an empty axis: nothing to leave out
    ones = np.ones(xm.shape[:-1] + (1,), xm.dtype)
    left = np.cumprod(np.concatenate([ones, xm[..., :-1]], -1), -1)
    right = np.cumprod(np.concatenate([ones, xm[..., :0:-1]], -1), -1)[..., ::-1]
    return left * right


def _prod_vjp_np(g, inputs, out, dim, keepdim):
    x = np.asarray(inputs[0], np.float64)
    shape = x.shape
    if dim is None:
        return (np.asarray(g, np.float64) * _others_product(x.reshape(-1)).reshape(shape),)
    xm = x.reshape(1) if x.ndim == 0 else x
    d = dim if x.ndim else 0
    gk = np.asarray(g, np.float64).reshape(_kept_shape(xm.shape, (d,)))
    others = np.moveaxis(_others_product(np.moveaxis(xm, d, -1)), -1, d)
    return ((gk * others).reshape(shape),)


def _prod_vjp(g, inputs, out, dim, keepdim):
    """Tensor-level rule: g * out / x without zeros, else a product over a masked copy."""
    from .elementwise import div, mul, where

    x = inputs[0]
    shape = x.shape
    if x.ndim == 0:  # the product is x itself: PyTorch passes g on (no graph through x)
        return (g if g.shape == shape else reshape(g, shape),)
    xm = reshape(x, -1) if dim is None else x
    d = 0 if dim is None else dim
    kept = _kept_shape(xm.shape, (d,))
    gk, ok = reshape(g, kept), reshape(out, kept)
    has_zero = np.any(_host(x) == 0)
    if not has_zero:
        # exact in a neighbourhood of x, so higher derivatives are right too
        return (reshape(mul(gk, div(ok, xm)), shape),)
    n = xm.shape[d]
    if n == 1:  # one factor per product: its derivative is 1, PyTorch passes g on
        return (reshape(gk, shape),)
    perm = [k for k in range(xm.ndim) if k != d] + [d]
    xl = permute(xm, perm)  # reduced axis last
    rows = xl.reshape(xl.shape[:-1] + (1, n)).expand(xl.shape[:-1] + (n, n))
    others = prod(where(np.eye(n, dtype=bool), 1.0, rows), -1)  # others[..., i]
    inv = list(np.argsort(perm))
    return (reshape(mul(gk, permute(others, inv)), shape),)


def _prod_jvp_np(tangents, inputs, out, dim, keepdim):
    """``sum_i t_i prod_{j != i} x_j``: the VJP's products of the others (exact with zeros)."""
    others = _prod_vjp_np(np.ones(np.shape(out)), inputs, out, dim, keepdim)[0]
    whole = dim is None or others.ndim == 0
    return (tangents[0] * others).sum(axis=tuple(range(1, others.ndim + 1)) if whole else
                                      dim + 1, keepdims=keepdim and not whole)


defop(Op.PROD, "prod", "python", "ProdBackward0", vjp=_prod_vjp, vjp_np=_prod_vjp_np,
      jvp_np=_prod_jvp_np, grad_fn_of=lambda p: None if p["dim"] is None else "ProdBackward1")


def prod(input, dim=None, keepdim=False, *, dtype=None):
    """Product of all elements, or along ``dim``.

    The gradient is PyTorch's: exact when the input holds zeros (no division by zero).

    Example:
        >>> import tapegrad as tg
        >>> x = tg.tensor([2.0, 0.0, 3.0], requires_grad=True)
        >>> x.prod().backward()
        >>> x.grad
        tensor([0., 6., 0.])
    """
    x = R.as_tensor(input)
    if type(x._data) is DeviceArray:
        d = None if dim is None else norm_dim(int(dim), x.ndim)
        value = _cuda().prod_value(x._data, d, keepdim, dtype)
    else:
        xd = np.asarray(x._data)
        d = None if dim is None else norm_dim(int(dim), xd.ndim)
        axis, keep = (None, False) if d is None else (d if xd.ndim else None, keepdim)
        try:
            value = np.multiply.reduce(xd, axis=axis, keepdims=keep, dtype=dtype)
        except RuntimeWarning:  # (a user's warnings filter: _float_warnings)
            value = quiet(np.multiply.reduce, xd, axis=axis, keepdims=keep, dtype=dtype)
    if type(value) is not DeviceArray:
        value = _wrap(np.asarray(value if value.dtype.kind not in "biu" or dtype is not None
                                 else value.astype(np.int64)))
    if x.dtype.kind == "c" and R.needs_grad(x) and dtype is None:
        return _complex_prod(x, d, keepdim, value)
    if x._rg and x.dtype.kind == "c":  # a dtype cast of a complex product: no rule
        R.refuse_complex(Op.PROD, x)
    if not R.needs_grad(x) or x.dtype.kind != "f":
        return _make(value)
    return R.python_result(value, Op.PROD, (x,), save_inputs=(0,), save_out=True,
                           params=dict(dim=d, keepdim=keepdim))


def _complex_prod(x, d, keepdim, value):
    """The product of complex ``x`` along ``d`` (all elements if None) as a tree of pairwise
    products: ``log2 n`` complex ``mul`` records, whose product rule ``g * conj(other)`` is exact
    where the input holds zeros and re-tapes to any order."""
    from .elementwise import mul
    from .join import cat

    from .movement import unsqueeze

    if x.ndim == 0:
        d = None  # (the one element, along dim 0 or -1)
    y = reshape(x, (-1,)) if d is None else permute(
        x, (d,) + tuple(k for k in range(x.ndim) if k != d))
    n = y.shape[0]
    if n == 0:
        # the empty product, 1, recorded on x as PyTorch's (whose gradient g * out / x is
        # empty with a graph through x: y * y's is too)
        from .reduce import sum as sum_

        y = sum_(mul(y, y), 0) + _make(value)
        return unsqueeze(y, d) if d is not None and keepdim else y
    while n > 1:
        h = n // 2
        z = mul(y[:h], y[h:2 * h])
        y = cat([z, y[2 * h:]]) if n % 2 else z
        n = y.shape[0]
    y = reshape(y, y.shape[1:])
    if d is not None and keepdim:
        y = unsqueeze(y, d)
    return y
