"""NumPy's float loop for small integers: a float ufunc of an int8, uint8 or bool array runs
in float16 (``np.sin(np.int8(...))`` is float16), of an int16 or uint16 one in float32, where
tapegrad's ops (PyTorch's rule) give the default float dtype. NumPy's functions on tensors
follow NumPy: such an input is converted to the loop's dtype before the op runs."""

import numpy as np

from ..tensor import Tensor

_SMALL = frozenset("bBhH?")  # int8, uint8, int16, uint16, bool
_BOOL = np.dtype(bool)


def loop_inputs(ufunc, inputs):
    """``inputs`` of ``ufunc`` with each small-integer tensor converted to the float dtype of
    NumPy's loop for them; ``inputs`` itself when there is none, or the loop is not float."""
    for a in inputs:  # (itemsize first: ~60 ns less per float input on every NumPy call)
        if type(a) is Tensor and getattr(a._data, "itemsize", 8) < 4 and \
                type(a._data) is np.ndarray and a._data.dtype.char in _SMALL:
            break
    else:
        return inputs
    dts = []
    for a in inputs:
        if type(a) in (int, float, complex):  # (weak: NumPy's loop is the array's)
            dts.append(type(a))
        elif type(a) is bool:  # (resolve_dtypes takes no bool type; NumPy's bool is lowest)
            dts.append(_BOOL)
        elif isinstance(getattr(a, "dtype", None), np.dtype):
            dts.append(a.dtype)
        else:
            return inputs
    try:
        loop = ufunc.resolve_dtypes(tuple(dts) + (None,) * ufunc.nout)
    except (TypeError, ValueError):  # (no loop: the op's own error)
        return inputs
    return tuple(a.to(dt) if type(a) is Tensor and a.dtype.char in _SMALL and dt.kind == "f"
                 else a for a, dt in zip(inputs, loop))
