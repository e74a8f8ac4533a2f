"""Python lists of numbers written into int64 or float64 NumPy arrays, quickly.

The tape keeps its pending records and saved scalars in Python lists (an append costs ~30 ns,
an ``array.array`` append several times that) and converts them when a sweep needs them.
From ~20 values on, ``struct`` packs such a list ~2x (ints) to ~2.5x (floats) faster than
NumPy converts it (``np.fromiter``, or a list assigned to a slice), which works out each
element's type first; both store C's conversion of each Python int or float, so the arrays
are the same bit for bit.
"""

import struct

_CODES = {"int64": "q", "float64": "d"}
_packers = {}  # (count, dtype name) -> struct.Struct
_MAX_PACKERS = 512  # distinct list lengths kept (a program repeats a few)
_SHORT = 16  # below this many values ``struct`` is no quicker (measured crossover ~20)


def fill(out, values, dtype, start=0):
    """Write the Python numbers ``values`` (a list) into ``out[start:start + len(values)]``;
    ``out`` is a writeable C-contiguous array of ``dtype`` (int64 or float64), ``start`` an
    index into its flattened elements (a 2-D one: the record buffer)."""
    n = len(values)
    if n < _SHORT:  # (a few values: NumPy's slice assignment is quicker than packing them)
        if out.ndim != 1:
            out = out.reshape(-1)
        out[start : start + n] = values
        return
    key = (n, dtype)
    packer = _packers.get(key)
    if packer is None:
        if len(_packers) >= _MAX_PACKERS:
            _packers.clear()
        packer = _packers[key] = struct.Struct(f"{n}{_CODES[dtype]}")
    try:
        packer.pack_into(out, 8 * start, *values)  # (both types are 8 bytes)
    except (struct.error, TypeError):  # a value struct does not take: NumPy's conversion (or
        out.reshape(-1)[start : start + n] = values  # its error), as before
