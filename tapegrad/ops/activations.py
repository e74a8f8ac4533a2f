"""``leaky_relu``, ``hardtanh`` and ``elu`` of CPU real float tensors as one elementwise record
each, with their constants in the tape's side table, as PyTorch records them
(``LeakyReluBackward0``, ``HardtanhBackward0``, ``EluBackward0``), instead of the compares,
products, clamps and selects of their compositions, whose select saved a float mask. The values
are the compositions' (PyTorch's): ``x > 0 ? x : x * slope``, ``x`` clamped, ``x > 0 ? x :
alpha * expm1(x)``; the derivatives PyTorch's:

* leaky_relu: ``g`` where ``x > 0``, else ``g * slope`` (a NaN input takes the slope);
* hardtanh: ``g`` strictly inside ``(min, max)``, else 0, also at NaN (PyTorch's
  vectorised loop; its scalar loop, for tensors of a few elements, passes ``g`` at NaN).
* elu: ``g * alpha * exp(x)`` where ``x <= 0``, else ``g`` (NaN takes ``g``), PyTorch's form:
  from ``exp(x)``, not from the output (``out + alpha`` cancels for very negative ``x``).

leaky_relu's and hardtanh's are selects of ``g`` (zero second derivative); elu's second
derivative is its re-taped formula's. CUDA tensors, complex values, vmap's batched tensors and
``tg.compile``'s tracer take the compositions.
"""

import math
import sys

import numpy as np

from .. import vecmath
from ..registry import Op, defop
from ..tensor import Tensor, _make
from . import record as R
from .elementwise import _const_op

# opcodes as plain ints for the record paths (an enum member costs ~0.12 µs to read)
_LEAKY_RELU, _HARDTANH, _ELU = int(Op.LEAKY_RELU), int(Op.HARDTANH), int(Op.ELU)

defop(Op.LEAKY_RELU, "_leaky_relu_c", "unary", "LeakyReluBackward0", saves=("x",),
      dx="where(x > 0.0, g, g * c0)", nconst=1)
defop(Op.HARDTANH, "_hardtanh_c", "unary", "HardtanhBackward0", saves=("x",),
      dx="where((x > c0) & (x < c1), g, 0.0)", nconst=2)
defop(Op.ELU, "_elu_c", "unary", "EluBackward0", saves=("x",),
      dx="where(x <= 0.0, g * c0 * exp(x), g)", nconst=1)


def fusable(x):
    """Whether ``x`` takes the one-record form: a plain CPU tensor of real floats, outside
    ``tg.compile``'s tracer (which observes the composition's ops)."""
    if type(x) is not Tensor:  # (first: a batched tensor's value must not be read)
        return False
    d = x._data
    if not (type(d) is float or (type(d) is np.ndarray and d.dtype.kind == "f")):
        return False
    trace = sys.modules.get("tapegrad.compile.trace")
    return trace is None or trace.active() is None


def _in_dtype(d, c):
    """The constant ``c`` as the value the forward used: rounded to a float32 input's dtype (a
    Python number is "weak" in NumPy and PyTorch), so that the sweep, which computes in
    float64, compares and multiplies as PyTorch's float32 loop does."""
    return float(np.float32(c)) if type(d) is np.ndarray and d.dtype == np.float32 else float(c)


def leaky_relu(x, slope):
    d = x._data
    slope = _in_dtype(d, slope)
    if type(d) is float:
        r = d if d > 0 else d * slope
    else:
        r = vecmath.where(d > 0, d, d * slope)
    if x._rg and R._grad_on():
        return _const_op(_LEAKY_RELU, x, r, slope, save_x=True)
    return _make(r)


def elu(x, alpha):
    """``alpha * expm1(min(x, 0))`` where ``x <= 0``, else ``x``: the composition's values (its
    clamp, ``expm1``, product and select)."""
    d = x._data
    alpha = _in_dtype(d, alpha)
    if type(d) is float:
        r = alpha * math.expm1(d) if d <= 0 else d
    else:
        r = vecmath.where(d <= 0, np.expm1(np.clip(d, -np.inf, 0.0).astype(d.dtype, copy=False))
                          * alpha, d)
    if x._rg and R._grad_on():
        return _const_op(_ELU, x, r, alpha, save_x=True)
    return _make(r)


def hardtanh(x, lo, hi):
    d = x._data
    lo, hi = _in_dtype(d, lo), _in_dtype(d, hi)
    if type(d) is float:
        r = d if d != d else (lo if d < lo else hi if d > hi else d)
    else:
        r = np.clip(d, lo, hi).astype(d.dtype, copy=False)
    if x._rg and R._grad_on():
        return _const_op(_HARDTANH, x, r, lo, hi, save_x=True)
    return _make(r)
