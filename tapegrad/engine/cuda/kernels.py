"""CUDA kernels: the host side (allocate, launch) of the kernel modules.

The elementwise kernels (``_kernels_generated``) are written by ``_gen_kernels`` from the op
registry (the forward and VJP switches from the same declarations and formula strings as the
CPU sweep); the fixed ones are hand-written by family (``_kernels_movement``: casts, gathers,
scatters, indexing; ``_kernels_rows``: row reductions and scans, matmul). All are committed
files, so Numba caches them on disk (``cache=True``) like the CPU sweep. This module sizes grids (small ones on the simulator), builds the
parameters of strided gathers and scatters, and moves reduced dims last for the row kernels.
"""

import numpy as np

from ...device import cuda_api, simulated as sim

_K = None  # namespace of compiled kernels


# the simulator runs every thread as a Python thread: small blocks, few of them
def threads():
    return k()["THREADS"]


def tile():
    return k()["TILE"]


def grid(n):
    t = threads()
    blocks = max(1, min((n + t - 1) // t, 2 if sim() else 8192))
    return blocks, t


def k():
    """The kernels by name, from the kernel modules (imported on the first call)."""
    global _K
    if _K is None:
        cuda_api()
        from . import _kernels_generated, _kernels_movement, _kernels_rows

        _K = {**vars(_kernels_movement), **vars(_kernels_rows), **vars(_kernels_generated)}
    return _K


# ---- host-side helpers: allocate and launch ---------------------------------------------

def empty(n, dtype=np.float64):
    return cuda_api().device_array(max(int(n), 1), dtype=dtype)[: int(n)] if n else \
        cuda_api().device_array(1, dtype=dtype)[:0]


def zeros(n, dtype=np.float64):
    out = empty(n, dtype)
    if n:
        b, t = grid(n)
        k()["fill"][b, t](n, out, 0)
    return out


def launch(name, n, *args):
    if n:
        b, t = grid(n)
        k()[name][b, t](*args)


_DUMMY = {}


def dummy():
    """A one-element float64 zero (a value an elementwise record does not save)."""
    d = _DUMMY.get("z")
    if d is None:
        d = _DUMMY["z"] = zeros(1)
    return d


def meta(shape, strides, offset):
    """[nd, *shape, *strides, offset] on the device (gather/scatter parameters)."""
    m = np.array((len(shape), *shape, *strides, offset), np.int64)
    return cuda_api().to_device(m)


def gather(src, shape, strides, offset, out, acc=False):
    n = 1
    for s in shape:
        n *= s
    launch("gather", n, n, src, meta(shape, strides, offset), out, acc)


def scatter_add(src, shape, strides, offset, out):
    n = 1
    for s in shape:
        n *= s
    launch("scatter_add", n, n, src, meta(shape, strides, offset), out)


def c_strides(shape):
    """Element strides of a C-contiguous array of ``shape``."""
    out, acc = [], 1
    for s in reversed(tuple(shape)):
        out.append(acc)
        acc *= s
    return tuple(reversed(out))


def rows_of(xd, dims):
    """DeviceArray ``xd`` with ``dims`` moved last, as a C-contiguous (rows, cols) flat device
    array, and the gather that did it (shape, element strides into ``xd``): the row kernels'
    input; their VJPs scatter back with the same gather."""
    shape = xd.shape
    nd = len(shape)
    dims = tuple(sorted(dims))
    kept = tuple(k for k in range(nd) if k not in dims)
    order = kept + dims
    cs = c_strides(shape)
    pshape, pstrides = tuple(shape[k] for k in order), tuple(cs[k] for k in order)
    src = xd.flat()
    if order != tuple(range(nd)):
        src = empty(xd.size, xd.dtype)
        gather(xd.flat(), pshape, pstrides, 0, src)
    rows = 1
    for k in kept:
        rows *= shape[k]
    cols = xd.size // rows if rows else 0
    return src, rows, cols, pshape, pstrides


def rowsum(src, rows, cols, out):
    """out[r] += row sums of src viewed as (rows, cols); out float64."""
    if rows == 0 or cols == 0:
        return
    t = threads()
    chunks = max(1, min((cols + 4 * t - 1) // (4 * t), max(1, 4096 // max(rows, 1))))
    blocks = rows * chunks
    if sim():
        blocks = min(blocks, 2)
    k()["rowsum"][blocks, t](rows, cols, chunks, src, out)


def matmul(M, N, K, batch, a, sa, b, sb, c, acc=False):
    """c (batch, M, N) (+)= a @ b with element strides sa = (batch, m, k), sb = (batch, k, n)."""
    if M == 0 or N == 0 or batch == 0:
        return
    T = tile()
    blocks = ((N + T - 1) // T, (M + T - 1) // T, batch)
    if K == 0:
        if not acc:
            launch("fill", M * N * batch, M * N * batch, c, 0)
        return
    k()["matmul"][blocks, (T, T)](M, N, K, a, sa[0], sa[1], sa[2], b, sb[0], sb[1], sb[2], c,
                                  acc)


def _matrices(sa, sb):
    """a's and b's shapes with a 1-D a as a row and a 1-D b as a column."""
    return ((1,) + tuple(sa) if len(sa) == 1 else tuple(sa),
            tuple(sb) + (1,) if len(sb) == 1 else tuple(sb))


def matmul_fits(sa, sb):
    """Whether the matmul kernel takes a @ b as they are (see ``matmul_dims``); other shapes
    are broadcast to 3-D @ 3-D by ``ops/cuda_ops``."""
    a2, b2 = _matrices(sa, sb)
    return len(a2) <= 3 and len(b2) <= 3 and (len(b2) < 3 or (len(a2) == 3 and a2[0] == b2[0]))


def matmul_dims(sa, sb):
    """(batch, M, K, N, a batch stride, b batch stride) of a @ b for the shapes the device
    matmul supports: 1-D..3-D a, 1-D/2-D b or 3-D b with a's batch."""
    if not matmul_fits(sa, sb):
        raise NotImplementedError(
            f"matmul of shapes {tuple(sa)} and {tuple(sb)} on cuda: the CUDA backend supports "
            "2-D @ 2-D, 3-D @ 2-D and 3-D @ 3-D with equal batch (and 1-D operands)")
    a2, b2 = _matrices(sa, sb)
    batch = a2[0] if len(a2) == 3 else 1
    M, K_ = a2[-2], a2[-1]
    N = b2[-1]
    if b2[-2] != K_:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied "
                           f"({M}x{K_} and {b2[-2]}x{N})")
    return batch, M, K_, N, (M * K_ if len(a2) == 3 else 0), (K_ * N if len(b2) == 3 else 0)


def synchronize():
    cuda_api().synchronize()
