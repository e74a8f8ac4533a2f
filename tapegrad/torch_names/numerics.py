"""Differences, integrals and statistics of samples under PyTorch's names: ``diff``,
``gradient``, ``trapezoid``/``trapz``, ``cumulative_trapezoid``, ``cov``, ``corrcoef``."""

import numpy as np

from ..numpy_dispatch import shaping as _shaping
from .. import ops as _ops
from ..numpy_dispatch import arrays as _A
from ..numpy_dispatch import statistics as _S
from ..ops.shapes import norm_dim, torch_dtype_name
from ..tensor import Tensor
from ._common import _t, floating


def diff(input, n=1, dim=-1, prepend=None, append=None):
    """The ``n``-th forward difference along ``dim`` (after ``prepend``/``append``)."""
    x = _t(input)
    if x.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    d = norm_dim(dim, x.ndim)
    parts = [p for p in (prepend, x, append) if p is not None]
    if len(parts) > 1:
        parts = [_t(p) for p in parts]
        x = _ops.cat([_ops.reshape(p, x.shape[:d] + (1,) + x.shape[d + 1:]) if p.ndim == 0
                      else p for p in parts], d)
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    return _shaping._diff(x, int(n), d)


def gradient(input, *, spacing=1, dim=None, edge_order=1):
    """Central differences inside, one-sided at the edges, along each of ``dim`` (all dims by
    default); ``spacing`` is a number or one number per dim. Always a tuple."""
    x = floating(input)
    dims = list(range(x.ndim)) if dim is None else \
        [norm_dim(int(k), x.ndim) for k in ((dim,) if np.ndim(dim) == 0 else dim)]
    if isinstance(spacing, (list, tuple)):
        if len(spacing) != len(dims):
            raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a scalar or "
                               f"it's spacing and dim arguments to have the same length, but "
                               f"got a spacing argument of length {len(spacing)} and a dim "
                               f"argument of length {len(dims)}.")
        if any(isinstance(s, Tensor) and s.ndim for s in spacing):
            raise NotImplementedError("torch.gradient with coordinate tensors as spacing is not "
                                      "implemented in tapegrad; pass the (uniform) step sizes")
        steps = [float(s) for s in spacing]
    else:
        steps = [float(spacing)] * len(dims)
    for k in dims:
        if x.shape[k] < edge_order + 1:
            raise RuntimeError("torch.gradient expected each dimension size to be at least "
                               "edge_order+1")
    out = _A.gradient(x, *steps, axis=dims, edge_order=edge_order)
    return out if isinstance(out, tuple) else (out,)


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """The trapezoid rule along ``dim``, with sample points ``x`` or spacing ``dx``."""
    if x is not None and dx is not None:
        raise RuntimeError("trapezoid: cannot pass both x and dx")
    yv = floating(y)
    if x is not None and not isinstance(x, Tensor):  # torch.trapezoid(y, dx) positionally
        x, dx = None, x
    if yv.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    return _S.trapezoid(yv, x, 1.0 if dx is None else float(dx), norm_dim(dim, yv.ndim))


def trapz(y, x=None, *, dx=None, dim=-1):
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """The running trapezoid integral along ``dim`` (one element shorter than ``y``)."""
    if x is not None and not isinstance(x, Tensor):
        x, dx = None, x
    yv = floating(y)
    if yv.ndim == 0:  # (PyTorch's error: its first step slices along the dim)
        raise IndexError("slice() cannot be applied to a 0-dim tensor.")
    d = norm_dim(dim, yv.ndim)
    lead = (slice(None),) * d
    mid = (yv[lead + (slice(1, None),)] + yv[lead + (slice(None, -1),)]) * 0.5
    if x is None:
        step = mid * (1.0 if dx is None else float(dx))
    else:
        xv = floating(x)
        if xv.ndim == 1:
            h = xv[1:] - xv[:-1]
            step = mid * _ops.reshape(h, (-1,) + (1,) * (yv.ndim - d - 1))
        else:
            step = mid * (xv[lead + (slice(1, None),)] - xv[lead + (slice(None, -1),)])
    return _ops.cumsum(step, d)


def cov(input, *, correction=1, fweights=None, aweights=None):
    """The covariance of the rows of ``input`` (variables) over its columns (observations)."""
    x = _t(input)
    if x.ndim > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an "
                           f"input with {x.ndim} dimensions")
    if fweights is None and aweights is None:
        return _S.cov(floating(x), ddof=int(correction))
    n = x.shape[-1] if x.ndim else 1
    fw, aw = (_cov_weights(w, name, n, name == "fweights")
              for w, name in ((fweights, "fweights"), (aweights, "aweights")))
    xf = floating(x)
    if aw is not None and aw.dtype != xf.dtype:  # (PyTorch's promotion: f4 input, f8 weights)
        xf = xf.to(np.promote_types(xf.dtype, aw.dtype))
    fw = fw if fw is None else fw.to(xf.dtype)
    c = _S.weighted_cov(_ops.reshape(xf, (1, -1)) if xf.ndim < 2 else xf, int(correction),
                        fw, aw)
    return _ops.reshape(c, ()) if c.shape == (1, 1) else c


def _cov_weights(w, name, n, integral):
    """PyTorch's checks of cov's weights (``fweights`` integral, ``aweights`` floating)."""
    if w is None:
        return None
    if not isinstance(w, Tensor):
        raise TypeError(f"cov(): argument '{name}' must be Tensor, not {type(w).__name__}")
    kind = w.dtype.kind
    if integral and kind not in "iu":
        raise RuntimeError(f"cov(): expected {name} to have integral dtype but got {name} "
                           f"with {torch_dtype_name(w.dtype)} dtype")
    if not integral and kind != "f":
        raise RuntimeError(f"cov(): expected {name} to have floating point dtype but got "
                           f"{name} with {torch_dtype_name(w.dtype)} dtype")
    if w.ndim > 1:
        raise RuntimeError(f"cov(): expected {name} to have one or fewer dimensions but got "
                           f"{name} with {w.ndim} dimensions")
    if w.numel() != n:
        raise RuntimeError(f"cov(): expected {name} to have the same numel as there are "
                           f"observations in the input but got {w.numel()} != {n}")
    if np.any(w.detach().cpu().numpy() < 0):
        raise RuntimeError(f"cov(): {name} cannot be negative")
    return _ops.reshape(w, (n,))


def corrcoef(input):
    """Pearson correlation coefficients of the rows, clipped to [-1, 1] as PyTorch does."""
    x = _t(input)
    if x.ndim > 2:
        raise RuntimeError(f"corrcoef(): expected input to have two or fewer dimensions but "
                           f"got an input with {x.ndim} dimensions")
    c = _S.corrcoef(floating(x))
    return _ops.clamp(c, -1.0, 1.0) if c.dtype.kind == "f" else c


__all__ = ["diff", "gradient", "trapezoid", "trapz", "cumulative_trapezoid", "cov",
           "corrcoef"]
