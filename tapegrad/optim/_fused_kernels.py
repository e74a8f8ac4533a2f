"""Numba kernels of ``_fused`` (imported on the first L-BFGS step, not with tapegrad)."""

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
    """``a * b + c`` with one rounding (LLVM's ``llvm.fma``: the instruction, or libm's fma)."""

    def codegen(context, builder, sig, args):
        f64 = ir.DoubleType()
        fnty = ir.FunctionType(f64, [f64, f64, f64])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.fma.f64")
        return builder.call(fn, args)

    return types.float64(types.float64, types.float64, types.float64), codegen


@intrinsic
def _fma32(typingctx, a, b, c):
    """``_fma`` in float32 (``llvm.fma.f32``)."""

    def codegen(context, builder, sig, args):
        f32 = ir.FloatType()
        fnty = ir.FunctionType(f32, [f32, f32, f32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.fma.f32")
        return builder.call(fn, args)

    return types.float32(types.float32, types.float32, types.float32), codegen


@njit(**_OPTS)
def axpy32(y, alpha, x):
    a = np.float32(alpha)
    for i in range(y.size):
        y[i] = _fma32(a, x[i], y[i])


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
