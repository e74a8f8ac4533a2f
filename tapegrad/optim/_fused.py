"""The two vector primitives of L-BFGS, rounded as PyTorch's CPU kernels round them.

L-BFGS amplifies last-bit differences (a line search compares losses; the two-loop recursion
divides by small dot products), so matching PyTorch's iterates needs PyTorch's rounding, not
just its formulas:

- ``p.add_(u, alpha=a)`` is a fused multiply-add per element in ATen's vectorised kernels:
  ``fma(a, u, p)``, one rounding. NumPy's ``p += a * u`` rounds twice.
- ``u.dot(v)`` in float64 is BLAS ``ddot`` (MKL in PyTorch's x86 wheels). For short vectors
  it keeps 8 lanes (``lane[i % 8]``, products accumulated with fused multiply-adds) and adds
  the lanes pairwise: ``((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7))``. NumPy's ``dot`` (OpenBLAS)
  orders the sum differently. Longer vectors (16 elements or more) use wider, CPU-dependent
  blockings that are not reproduced here: there the iterates agree to rounding amplification.

Both run as small Numba kernels (``_fused_kernels``: compiled once, cached), loaded on the first
L-BFGS step so that ``import tapegrad`` does not import Numba. Other dtypes use NumPy.
"""

import numpy as np

_kernels = None


def _load():
    global _kernels
    if _kernels is None:
        from . import _fused_kernels

        _kernels = (_fused_kernels.axpy, _fused_kernels.dot8, _fused_kernels.axpy32)
    return _kernels


def _f64(a):
    return a.dtype == np.float64 and a.flags.c_contiguous


def axpy(y, alpha, x):
    """``y += alpha * x`` in place, one rounding per element (``y``, ``x`` 1-d; float32 with
    ``alpha`` rounded to float32, as PyTorch's float kernels take it)."""
    if _f64(y) and _f64(x):
        _load()[0](y, float(alpha), x)
    elif _f32(y) and _f32(x):
        _load()[2](y, float(alpha), x)
    else:
        y += alpha * x


def _f32(a):
    return a.dtype == np.float32 and a.flags.c_contiguous


def dot(x, y):
    """``x . y``, summed in PyTorch's order for float64 (1-d arrays): a Python float, or for
    float32 arrays a NumPy float32 (PyTorch's L-BFGS keeps its scalars as float32 tensors)."""
    if _f64(x) and _f64(y):
        return float(_load()[1](x, y))
    d = x.dot(y)
    return d if d.dtype == np.float32 else float(d)
