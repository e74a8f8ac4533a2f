"""Operands laid out for BLAS before a matrix product (NumPy arrays in, NumPy arrays out).

Two layouts multiply slowly through ``np.matmul``/``np.dot`` and are copied to C order first:

* matrices with no unit-stride axis: BLAS reads a matrix by rows or by columns only, and
  ``np.matmul`` otherwise runs its own loop, ~3x slower (GMM's triangular factor, gathered by
  an index, has strides (8, 2000, 200));
* a small operand stored by columns (a transposed C-order array, ``B.T`` in ``g @ B.T``): with
  a few rows and columns OpenBLAS's kernels for a transposed operand are slow. Measured on a
  Xeon with AVX-512, one thread: (4096, 8) @ (8, 8)^T 32 -> 17 µs, (1000, 10) @ (10, 10)^T 11
  -> 8.5, (256, 16) @ (16, 16)^T 4.2 -> 3.3, (32, 64) @ (64, 64)^T 6.4 -> 5.8, GMM's 25
  products (1000, 10) @ (10, 10)^T 460 -> 248; a batch of (100, 32, 32) or (10000, 3, 3)
  matrices by columns was quicker as it is (167 against 496 µs, 559 against 689): the copy of
  a large batched transpose costs more than it saves, hence the bound on the whole operand.
"""

import numpy as np

SMALL_BY_COLUMNS = 4096  # elements of an operand stored by columns that is copied to rows


def blas_ready(x):
    """``x``, or a C-contiguous copy of it in the two cases above (``x`` at least 2-D)."""
    n = x.itemsize
    s = x.strides
    if s[-1] != n and x.shape[-1] > 1 and x.shape[-2] > 1 and (
            s[-2] != n or x.size <= SMALL_BY_COLUMNS):
        return np.ascontiguousarray(x)
    return x
