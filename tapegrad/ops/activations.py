"""``leaky_relu`` and ``hardtanh`` of CPU real float tensors as one elementwise record each, with
their constants in the tape's side table, as PyTorch records them (``LeakyReluBackward0``,
``HardtanhBackward0``), instead of the compare, product and select (leaky_relu) or compare,
clamp and select (hardtanh) of their compositions, whose select saved a float mask. The values
are the compositions' (PyTorch's): ``x > 0 ? x : x * slope``, and ``x`` clamped; the
derivatives PyTorch's:

* leaky_relu: ``g`` where ``x > 0``, else ``g * slope`` (a NaN input takes the slope);
* hardtanh: ``g`` strictly inside ``(min, max)``, else 0, also at NaN (PyTorch's
  vectorised loop; its scalar loop, for tensors of a few elements, passes ``g`` at NaN).

Both are selects of ``g``: zero second derivative, linear in ``g`` when re-taped. CUDA tensors,
complex values, vmap's batched tensors and ``tg.compile``'s tracer take the compositions.
"""

import sys

import numpy as np

from .. import vecmath
from ..registry import Op, defop
from ..tensor import Tensor, _make
from . import record as R
from .elementwise import _const_op

defop(Op.LEAKY_RELU, "_leaky_relu_c", "unary", "LeakyReluBackward0", saves=("x",),
      dx="where(x > 0.0, g, g * c0)", nconst=1)
defop(Op.HARDTANH, "_hardtanh_c", "unary", "HardtanhBackward0", saves=("x",),
      dx="where((x > c0) & (x < c1), g, 0.0)", nconst=2)


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
        return _const_op(Op.LEAKY_RELU, x, r, slope, save_x=True)
    return _make(r)


def hardtanh(x, lo, hi):
    d = x._data
    lo, hi = _in_dtype(d, lo), _in_dtype(d, hi)
    if type(d) is float:
        r = d if d != d else (lo if d < lo else hi if d > hi else d)
    else:
        r = np.clip(d, lo, hi).astype(d.dtype, copy=False)
    if x._rg and R._grad_on():
        return _const_op(Op.HARDTANH, x, r, lo, hi, save_x=True)
    return _make(r)
