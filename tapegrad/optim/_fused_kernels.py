"""Numba kernels of ``_fused`` (imported on the first SGD or L-BFGS step, not with tapegrad)."""

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from .. import _numba_cache  # noqa: F401 (before any kernel: where Numba caches them)

# fastmath off: the additions below must be neither reassociated nor contracted.
_OPTS = {"cache": True, "fastmath": False, "nogil": True}


@intrinsic
def _fma(typingctx, a, b, c):
    """``a * b + c`` with one rounding (LLVM's ``llvm.fma``: the instruction, or libm's fma),
    all three float64 or all three float32."""
    if not (a == b == c and a in (types.float64, types.float32)):
        return None

    def codegen(context, builder, sig, args):
        t = context.get_value_type(sig.return_type)
        fnty = ir.FunctionType(t, [t, t, t])
        name = "llvm.fma.f64" if sig.return_type == types.float64 else "llvm.fma.f32"
        fn = cgutils.get_or_insert_function(builder.module, fnty, name)
        return builder.call(fn, args)

    return a(a, a, a), codegen


@njit(**_OPTS)
def axpy(y, alpha, x):
    for i in range(y.size):
        y[i] = _fma(alpha, x[i], y[i])


@njit(**_OPTS)
def dot8(x, y):
    lanes = np.zeros(8)
    for i in range(x.size):
        lanes[i % 8] = _fma(x[i], y[i], lanes[i % 8])
    return (((lanes[0] + lanes[4]) + (lanes[2] + lanes[6]))
            + ((lanes[1] + lanes[5]) + (lanes[3] + lanes[7])))
