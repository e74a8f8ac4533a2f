"""Device arithmetic under numba-cuda's simulator: inf and nan where Python would raise.

The simulator runs kernels as Python, on Python floats and the ``math`` module, which raise
(ZeroDivisionError, OverflowError, "math domain error") or give a complex number (a negative
base to a fractional power) where the device, like NumPy, returns inf or nan. The kernel
modules import these names over the builtins only under the simulator (on a GPU they are never
imported): ``float`` is NumPy's float64, so the kernels' arithmetic is IEEE, and the ``math``
functions are NumPy's ufuncs. The kernel text is the same on both targets.
"""

import math as _math

import numpy as np

__all__ = ["float", "math", "cos", "exp", "expm1", "log", "log1p", "sin", "sqrt", "tan", "tanh"]

float = np.float64  # noqa: A001  (IEEE arithmetic: 1.0 / 0.0 is inf, (-8.0) ** 2.5 is nan)


def _ieee(f):
    def call(x):
        with np.errstate(all="ignore"):
            return f(np.float64(x))

    return call


class _Math:
    """``math`` with NumPy's functions for those that raise on a domain or range error."""

    def __getattr__(self, name):
        return getattr(_math, name)


math = _Math()
for _name, _f in dict(exp=np.exp, expm1=np.expm1, log=np.log, log1p=np.log1p, log2=np.log2,
                      log10=np.log10, sqrt=np.sqrt, sin=np.sin, cos=np.cos, tan=np.tan,
                      tanh=np.tanh, atan=np.arctan, asin=np.arcsin, acos=np.arccos,
                      sinh=np.sinh, cosh=np.cosh, asinh=np.arcsinh, acosh=np.arccosh,
                      atanh=np.arctanh).items():
    setattr(math, _name, _ieee(_f))
cos, exp, expm1, log, log1p = math.cos, math.exp, math.expm1, math.log, math.log1p
sin, sqrt, tan, tanh = math.sin, math.sqrt, math.tan, math.tanh
