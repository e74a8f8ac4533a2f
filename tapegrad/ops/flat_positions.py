"""The flat C-order position of each element an advanced index selects (the positions a
``GATHER_INDEX`` record of ``getitem`` reads, ``ops/movement.py``)."""

import math

import numpy as np

from .shapes import c_strides


def flat_positions(shape, key, n_out):
    """``np.arange(prod(shape)).reshape(shape)[key]``: the flat position of each element the
    advanced index ``key`` selects. Where the input is larger than the selection (rows of an
    embedding table), each dim's coordinate is read through ``key`` from a broadcast view and
    weighted by the dim's C stride, not an array of the input's size made and indexed (a
    (10000, 256) table indexed by 2048 rows: 2.3 ms for its 20 MB of positions)."""
    size = math.prod(shape)
    if size <= n_out * len(shape) or not shape:  # (a 0-d input: a boolean key, no dims)
        return np.arange(size, dtype=np.int64).reshape(shape)[key]
    if type(key) is np.ndarray and key.dtype.kind in "iu" and shape[0]:
        # whole rows (an embedding lookup): each row's start plus the positions within a
        # row, one broadcast addition (reading the column coordinate through ``key`` from a
        # broadcast view took 3x the gather itself); the key is in bounds (NumPy checked)
        rows = key.reshape(-1, 1).astype(np.int64)
        if rows.size and rows.min() < 0:
            rows[rows < 0] += shape[0]
        inner = size // shape[0]
        return (rows * inner + np.arange(inner, dtype=np.int64)).reshape(key.shape + shape[1:])
    positions = None
    for d, (n, step) in enumerate(zip(shape, c_strides(shape))):
        along = np.arange(n, dtype=np.int64).reshape((n,) + (1,) * (len(shape) - d - 1))
        coord = np.broadcast_to(along, shape)[key]
        if positions is None:
            positions = coord * step if step != 1 else coord.copy()
        else:
            positions += coord * step if step != 1 else coord
    return positions
