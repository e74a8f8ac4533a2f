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

Both run as small Numba kernels (compiled once, cached), loaded on the first L-BFGS step so that
``import tapegrad`` does not import Numba. Other dtypes use NumPy.
"""

import numpy as np

_kernels = None


def _load():
    global _kernels
    if _kernels is None:
        from llvmlite import ir
        from numba import njit, types
        from numba.core import cgutils
        from numba.extending import intrinsic

        @intrinsic
        def fma(typingctx, a, b, c):
            """``a * b + c`` with one rounding (LLVM's ``llvm.fma``)."""

            def codegen(context, builder, sig, args):
                f64 = ir.DoubleType()
                fnty = ir.FunctionType(f64, [f64, f64, f64])
                fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.fma.f64")
                return builder.call(fn, args)

            return types.float64(types.float64, types.float64, types.float64), codegen

        # fastmath off: the additions below must not be reassociated or contracted.
        @njit(cache=True, fastmath=False, nogil=True)
        def axpy(y, alpha, x):
            for i in range(y.size):
                y[i] = fma(alpha, x[i], y[i])

        @njit(cache=True, fastmath=False, nogil=True)
        def dot8(x, y):
            lanes = np.zeros(8)
            for i in range(x.size):
                lanes[i % 8] = fma(x[i], y[i], lanes[i % 8])
            return (((lanes[0] + lanes[4]) + (lanes[2] + lanes[6]))
                    + ((lanes[1] + lanes[5]) + (lanes[3] + lanes[7])))

        _kernels = (axpy, dot8)
    return _kernels


def _f64(a):
    return a.dtype == np.float64 and a.flags.c_contiguous


def axpy(y, alpha, x):
    """``y += alpha * x`` in place, one rounding per element (``y``, ``x`` 1-d)."""
    if _f64(y) and _f64(x):
        _load()[0](y, float(alpha), x)
    else:
        y += alpha * x


def dot(x, y):
    """``x . y`` as a Python float, summed in PyTorch's order for float64 (1-d arrays)."""
    if _f64(x) and _f64(y):
        return float(_load()[1](x, y))
    return float(x.dot(y))
