"""CUDA kernels over rows: reductions and scans along the trailing dims (``kernels.rows_of``
moves the reduced dims last), the shared-memory row sum, and the tiled matmul.

Imported on first use of a CUDA tensor (``kernels.k``), never by ``import tapegrad``; Numba
caches them on disk.
"""

import math

from numba import cuda, float64
from ...device import simulated

_SIM = simulated()
if _SIM:  # Python arithmetic raises where the device gives inf/nan
    from ._sim_ieee import *  # noqa: F403

# the simulator runs every thread as a Python thread: small blocks and tiles
THREADS = 8 if _SIM else 256
TILE = 4 if _SIM else 16


# Row kernels: src is (rows, cols) C-contiguous, the reduced dims moved last; one thread per
# row (rows are independent; each walks its row in order, as NumPy does).

# a copy of _kernels_movement's (Numba's disk cache does not track other files)
@cuda.jit(device=True)
def _src_index(i, meta):
    """offset + sum_k i_k * strides[k] for flat C-order index i over meta's shape
    (meta = [nd, *shape, *strides, offset])."""
    nd = meta[0]
    idx = meta[1 + 2 * nd]
    rem = i
    k = nd - 1
    while k >= 0:
        s = meta[1 + k]
        ik = rem % s
        rem //= s
        idx += ik * meta[1 + nd + k]
        k -= 1
    return idx


@cuda.jit(cache=True)
def row_extremum(rows, cols, src, sign, meta, val, pos, flat):
    """val[r] = max (sign 1) or min (sign -1) of row r, pos[r] its first index, flat[r] that
    element's index in the original layout (meta: the gather that moved the dims); a NaN
    wins, as in NumPy."""
    r = cuda.grid(1)
    st = cuda.gridsize(1)
    while r < rows:
        base = r * cols
        best = float(src[base])
        bi = 0
        if best == best:
            for j in range(1, cols):
                v = float(src[base + j])
                if v != v:
                    best = v
                    bi = j
                    break
                if sign * v > sign * best:
                    best = v
                    bi = j
        val[r] = best
        pos[r] = bi
        flat[r] = _src_index(base + bi, meta)
        r += st


@cuda.jit(cache=True)
def row_extremum_vjp(rows, cols, src, val, g, evenly, out):
    """out[r, j] = g[r] / count where src[r, j] == val[r] (evenly: a NaN matches a NaN);
    amax/amin with a NaN result match nothing: g / 0 * 0, NaN, as on the CPU."""
    r = cuda.grid(1)
    st = cuda.gridsize(1)
    while r < rows:
        base = r * cols
        v = float(val[r])
        cnt = 0
        for j in range(cols):
            x = float(src[base + j])
            if x == v or (evenly and x != x and v != v):
                cnt += 1
        for j in range(cols):
            x = float(src[base + j])
            hit = x == v or (evenly and x != x and v != v)
            if cnt == 0:
                out[base + j] = math.nan
            elif hit:
                out[base + j] = g[r] / cnt
            else:
                out[base + j] = 0.0
        r += st


@cuda.jit(cache=True)
def row_prod(rows, cols, src, out):
    r = cuda.grid(1)
    st = cuda.gridsize(1)
    while r < rows:
        p = 1.0
        for j in range(cols):
            p *= src[r * cols + j]
        out[r] = p
        r += st


@cuda.jit(cache=True)
def row_prod_vjp(rows, cols, src, g, out):
    """out[r, j] = g[r] * prod_{k != j} src[r, k]: prefix times suffix products (exact with
    zeros, no division)."""
    r = cuda.grid(1)
    st = cuda.gridsize(1)
    while r < rows:
        base = r * cols
        p = 1.0
        for j in range(cols):
            out[base + j] = p
            p *= src[base + j]
        p = 1.0
        for jj in range(cols):
            j = cols - 1 - jj
            out[base + j] *= p * g[r]
            p *= src[base + j]
        r += st


@cuda.jit(cache=True)
def row_cumsum(rows, cols, src, reverse, out):
    """Running sums along each row (reverse: from the end: the VJP of a cumsum)."""
    r = cuda.grid(1)
    st = cuda.gridsize(1)
    while r < rows:
        base = r * cols
        acc = 0.0
        for jj in range(cols):
            j = cols - 1 - jj if reverse else jj
            acc += src[base + j]
            out[base + j] = acc
        r += st


@cuda.jit(device=True)
def _row_mean(base, cols, src):
    s = 0.0
    for j in range(cols):
        s += src[base + j]
    return s / cols if cols else math.nan


@cuda.jit(cache=True)
def row_var(rows, cols, src, dof, root, out):
    """sum((x - mean)^2) / dof per row (two passes, as NumPy); root: its square root."""
    r = cuda.grid(1)
    st = cuda.gridsize(1)
    while r < rows:
        base = r * cols
        mu = _row_mean(base, cols, src)
        s = 0.0
        for j in range(cols):
            d = src[base + j] - mu
            s += d * d
        if dof > 0.0:
            v = s / dof
        else:
            v = math.inf if s > 0.0 else math.nan
        out[r] = math.sqrt(v) if root else v
        r += st


@cuda.jit(cache=True)
def row_var_vjp(rows, cols, src, g, o, dof, root, whole, out):
    """var: 2 / dof * g * (x - mean), ``dof`` N - correction (inf at 0, negative past N);
    ``whole`` (every element, dof <= 0): g * inf, nan where x is the mean (PyTorch's); std: the
    same with g / (2 std), 0 where std is 0."""
    r = cuda.grid(1)
    st = cuda.gridsize(1)
    while r < rows:
        base = r * cols
        mu = _row_mean(base, cols, src)
        gr = g[r]
        if root:
            gr = 0.0 if o[r] == 0.0 else gr / (2.0 * o[r])
        scale = 2.0 / dof if dof != 0.0 else math.inf
        for j in range(cols):
            if whole:
                out[base + j] = gr * (math.nan if src[base + j] == mu else math.inf)
            else:
                out[base + j] = scale * gr * (src[base + j] - mu)
        r += st


@cuda.jit(cache=True)
def rowsum(rows, cols, chunks, src, out):
    """out[r] += sum(src[r * cols : (r + 1) * cols]) (float64): block b reduces chunk
    b % chunks of row b // chunks in shared memory, then one atomic add per block."""
    sm = cuda.shared.array(THREADS, float64)
    t = cuda.threadIdx.x
    b = cuda.blockIdx.x
    while b < rows * chunks:
        r = b // chunks
        c = b % chunks
        per = (cols + chunks - 1) // chunks
        lo = c * per
        hi = min(lo + per, cols)
        acc = 0.0
        j = lo + t
        while j < hi:
            acc += src[r * cols + j]
            j += THREADS
        sm[t] = acc
        cuda.syncthreads()
        s = THREADS // 2
        while s > 0:
            if t < s:
                sm[t] += sm[t + s]
            cuda.syncthreads()
            s //= 2
        if t == 0:
            cuda.atomic.add(out, r, sm[0])
        cuda.syncthreads()
        b += cuda.gridDim.x


@cuda.jit(cache=True)
def matmul(M, N, K, a, sab, sam, sak, b, sbb, sbk, sbn, c, acc):
    """c[z, i, j] (+)= sum_k a[z*sab + i*sam + k*sak] * b[z*sbb + k*sbk + j*sbn], c C-contiguous
    (z, M, N); tiles of TILE x TILE in shared memory; z = blockIdx.z (batch)."""
    sa = cuda.shared.array((TILE, TILE), float64)
    sb = cuda.shared.array((TILE, TILE), float64)
    tx = cuda.threadIdx.x
    ty = cuda.threadIdx.y
    z = cuda.blockIdx.z
    i = cuda.blockIdx.y * TILE + ty
    j = cuda.blockIdx.x * TILE + tx
    ao = z * sab
    bo = z * sbb
    s = 0.0
    for k0 in range(0, K, TILE):
        ka = k0 + tx
        kb = k0 + ty
        sa[ty, tx] = a[ao + i * sam + ka * sak] if (i < M and ka < K) else 0.0
        sb[ty, tx] = b[bo + kb * sbk + j * sbn] if (kb < K and j < N) else 0.0
        cuda.syncthreads()
        for k in range(TILE):
            s += sa[ty, k] * sb[k, tx]
        cuda.syncthreads()
    if i < M and j < N:
        if acc:
            c[(z * M + i) * N + j] += s
        else:
            c[(z * M + i) * N + j] = s
