"""A transposing copy in tiles for ``tapegrad.vecmath.c_order`` (Numba; imported on first use).

NumPy copies a transposed matrix into C order element by element along the output's rows, so
the input is read down its columns, one element per cache line. Where the columns are a
multiple of 256 bytes apart, the lines it reads fall in a few cache sets and evict one another
before their next elements are read: a (1024, 1024) float64 matrix took 6.4-6.9 ms (PyTorch's
blocked copy ~1.5) on a Xeon with AVX-512, 2.8 ns an element on an older VM.
"""

from numba import njit

from .. import _numba_cache  # noqa: F401 (before any kernel: where Numba caches them)

# A tile of the output: 32 rows, each written along 16 contiguous elements, reading 16 of the
# input's columns a row at a time. Measured over nine shapes and both float dtypes (Xeon with
# AVX-512), the other way round (writing down the output's columns, the first version, with
# 32 x 32 tiles) took up to 2.4x as long as NumPy's copy at (1024, 256), and 16 x 16, 32 x 32
# and 16 x 32 tiles in this order were within 15% of these or slower.
ROWS, COLS = 32, 16


@njit(cache=True, nogil=True)
def copy_transposed(src, out):
    """``out[i, j] = src[i, j]`` for a 2-D ``src`` whose columns are contiguous (a transposed
    C-ordered matrix) into C-ordered ``out``, a ROWS x COLS block at a time."""
    rows, cols = out.shape
    for i0 in range(0, rows, ROWS):
        i1 = min(i0 + ROWS, rows)
        for j0 in range(0, cols, COLS):
            j1 = min(j0 + COLS, cols)
            for i in range(i0, i1):
                for j in range(j0, j1):
                    out[i, j] = src[i, j]
