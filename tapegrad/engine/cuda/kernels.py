"""CUDA kernels, generated from the op registry on first use (numbers only, like the engine).

* Elementwise forward: one kernel with a switch over opcodes (``_fwd``); each case is the op's
  registered scalar forward (``OpDef.forward``): ``math``/``operator`` functions map to
  ``math.*`` and operators in device code, other Python functions of floats (sigmoid, relu,
  maximum...) are compiled as CUDA device functions as they are.
* Elementwise VJP: one kernel with the switch of derivative formula strings (``_dx``/``_dy``),
  the same strings the CPU sweep pastes into its compiled loop and the re-taping sweep
  evaluates on tensors: one statement of the math, three targets (CPU loop, NumPy, CUDA).
* Strided gather (movement ops; VJP of a sum), strided scatter with atomics (VJP of a
  movement op), row reductions in shared memory (sums), a tiled shared-memory matmul (2-D and
  batched, any strides: transposes cost nothing), casts and fills.

All kernels use grid-stride loops. Values are computed in float64 and rounded on store (the
adjoint arena is float64, as on the CPU). Generated code is exec'd, so Numba cannot cache it
on disk: each kernel compiles once per process and argument types on a GPU.
"""

import math
import operator

import numpy as np

from ...device import cuda_api
from ...registry import REGISTRY, pow_as_call

_K = None  # namespace of compiled kernels


def sim():
    """True under numba-cuda's simulator (every thread a Python thread: tiny launches)."""
    return cuda_api().jit.__module__.startswith("numba.cuda.simulator")


# the simulator runs every thread as a Python thread: small blocks, few of them
def threads():
    return 8 if sim() else 256


def tile():
    return 4 if sim() else 16


def grid(n):
    t = threads()
    blocks = max(1, min((n + t - 1) // t, 2 if sim() else 8192))
    return blocks, t


_MATH = {math.exp: "exp", math.log: "log", math.log1p: "log1p", math.expm1: "expm1",
         math.sin: "sin", math.cos: "cos", math.tan: "tan", math.tanh: "tanh",
         math.sqrt: "sqrt"}
_OPERATORS = {operator.neg: "-x", operator.abs: "abs(x)", float: "x", operator.add: "x + y",
              operator.sub: "x - y", operator.mul: "x * y"}
_OVERRIDE = {"pow": "_cpow(x, y)"}  # Python's pow raises where C's (and NumPy's) returns inf/nan


def _forward_expr(d, ns):
    f = d.forward
    if d.name in _OVERRIDE:
        return _OVERRIDE[d.name]
    if f in _MATH:
        return f"{_MATH[f]}(x)"
    if f in _OPERATORS:
        return _OPERATORS[f]
    name = f"_pyf_{int(d.op)}"  # a Python function of floats: compiled as a device function
    ns[name] = ns["cuda"].jit(device=True)(f)
    return f"{name}(x)" if d.kind == "unary" else f"{name}(x, y)"


_HEADER = '''
from math import cos, exp, expm1, log, log1p, sin, sqrt, tan, tanh  # noqa: F401


@cuda.jit(device=True)
def sign(x):
    return 1.0 if x > 0.0 else (-1.0 if x < 0.0 else 0.0)


@cuda.jit(device=True)
def where(c, a, b):
    return a if c else b


@cuda.jit(device=True)
def _pow(x, y):
    if y == 0.5:
        return sqrt(x)
    if y == -0.5:
        return 1.0 / sqrt(x)
    return x ** y


@cuda.jit(device=True)
def _cpow(x, y):
    return x ** y


@cuda.jit(device=True)
def sigmoid(x):
    return 1.0 / (1.0 + exp(-x))


@cuda.jit(device=True)
def _fwd(op, x, y):
{fwd}
    return x


@cuda.jit(device=True)
def _dx(op, g, x, y, out, m, c0, c1):
{dx}
    return 0.0


@cuda.jit(device=True)
def _dy(op, g, x, y, out, m, c0, c1):
{dy}
    return 0.0


@cuda.jit
def ew_fwd(op, n, x, sx, cx, y, sy, cy, out):
    """out[i] = f(x[i] (or the constant cx when sx < 0), y[i] (or cy)); sx/sy 1 or 0."""
    i = cuda.grid(1)
    st = cuda.gridsize(1)
    while i < n:
        a = float(x[i * sx]) if sx >= 0 else cx
        b = float(y[i * sy]) if sy >= 0 else cy
        out[i] = _fwd(op, a, b)
        i += st


@cuda.jit
def ew_vjp(op, n, g, x, sx, y, sy, o, so, m, sm, c0, c1, ga, wa, gb, wb):
    """ga[i] += dx(g[i], ...), gb[i] += dy(g[i], ...): saved values with stride 1, or 0 for a
    one-element placeholder of a value the op does not save."""
    i = cuda.grid(1)
    st = cuda.gridsize(1)
    while i < n:
        gi = g[i]
        xi = float(x[i * sx])
        yi = float(y[i * sy])
        oi = float(o[i * so])
        mi = float(m[i * sm])
        if wa:
            ga[i] += _dx(op, gi, xi, yi, oi, mi, c0, c1)
        if wb:
            gb[i] += _dy(op, gi, xi, yi, oi, mi, c0, c1)
        i += st
'''

_FIXED = '''
@cuda.jit
def where_fwd(n, c, x, sx, cx, y, sy, cy, out):
    i = cuda.grid(1)
    st = cuda.gridsize(1)
    while i < n:
        if c[i]:
            out[i] = x[i * sx] if sx >= 0 else cx
        else:
            out[i] = y[i * sy] if sy >= 0 else cy
        i += st


@cuda.jit
def clamp_fwd(n, x, lo, hi, out):
    i = cuda.grid(1)
    st = cuda.gridsize(1)
    while i < n:
        v = float(x[i])
        if v < lo:
            v = lo
        elif v > hi:
            v = hi
        out[i] = v
        i += st


@cuda.jit
def cast(n, x, out):
    i = cuda.grid(1)
    st = cuda.gridsize(1)
    while i < n:
        out[i] = x[i]
        i += st


@cuda.jit
def fill(n, out, v):
    i = cuda.grid(1)
    st = cuda.gridsize(1)
    while i < n:
        out[i] = v
        i += st


@cuda.jit
def add_into(n, x, out):
    """out[i] += x[i] (adjoints handed on: RESHAPE, TO_COPY, seeds)."""
    i = cuda.grid(1)
    st = cuda.gridsize(1)
    while i < n:
        out[i] += x[i]
        i += st


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


@cuda.jit
def gather(n, src, meta, out, acc):
    """out[i] (+)= src[offset + i . strides]: views, broadcasts, the VJP of a sum."""
    i = cuda.grid(1)
    st = cuda.gridsize(1)
    while i < n:
        j = _src_index(i, meta)
        if acc:
            out[i] += src[j]
        else:
            out[i] = src[j]
        i += st


@cuda.jit
def scatter_add(n, src, meta, out):
    """out[offset + i . strides] += src[i] with atomics (repeated targets: broadcasts)."""
    i = cuda.grid(1)
    st = cuda.gridsize(1)
    while i < n:
        j = _src_index(i, meta)
        cuda.atomic.add(out, j, src[i])
        i += st


@cuda.jit
def index_add(n, src, idx, out):
    """out[idx[i]] += src[i] with atomics (VJP of an indexed gather)."""
    i = cuda.grid(1)
    st = cuda.gridsize(1)
    while i < n:
        cuda.atomic.add(out, idx[i], src[i])
        i += st


@cuda.jit
def index_gather(n, src, idx, out):
    """out[i] += src[idx[i]] (VJP of an indexed scatter)."""
    i = cuda.grid(1)
    st = cuda.gridsize(1)
    while i < n:
        out[i] += src[idx[i]]
        i += st


@cuda.jit
def scatter_set(n, src, meta, out):
    """out[offset + i . strides] = src[i] (distinct targets: the pieces of a cat)."""
    i = cuda.grid(1)
    st = cuda.gridsize(1)
    while i < n:
        out[_src_index(i, meta)] = src[i]
        i += st


@cuda.jit
def put(n, src, ss, idx, out):
    """out[idx[i]] = src[i * ss] (ss 0: one value everywhere): x[key] = v, in place."""
    i = cuda.grid(1)
    st = cuda.gridsize(1)
    while i < n:
        out[idx[i]] = src[i * ss]
        i += st


@cuda.jit
def compare(n, op, x, sx, y, sy, out):
    """out[i] = x[i * sx] (op) y[i * sy] as bool: ==, !=, <, <=, >, >=, and, or, xor (0..8)."""
    i = cuda.grid(1)
    st = cuda.gridsize(1)
    while i < n:
        a = x[i * sx]
        b = y[i * sy]
        if op == 0:
            r = a == b
        elif op == 1:
            r = a != b
        elif op == 2:
            r = a < b
        elif op == 3:
            r = a <= b
        elif op == 4:
            r = a > b
        elif op == 5:
            r = a >= b
        elif op == 6:
            r = (a != 0) and (b != 0)
        elif op == 7:
            r = (a != 0) or (b != 0)
        else:
            r = (a != 0) != (b != 0)
        out[i] = r
        i += st


@cuda.jit
def finite_or_zero(n, x):
    """x[i] = 0 where x[i] is nan or +inf (a softmax shift; an all -inf row keeps -inf)."""
    i = cuda.grid(1)
    st = cuda.gridsize(1)
    while i < n:
        v = x[i]
        if v != v or v == math.inf:
            x[i] = 0
        i += st


@cuda.jit
def take(n, src, idx, out):
    """out[i] = src[idx[i]] (an indexed gather's forward)."""
    i = cuda.grid(1)
    st = cuda.gridsize(1)
    while i < n:
        out[i] = src[idx[i]]
        i += st


# Row kernels: src is (rows, cols) C-contiguous, the reduced dims moved last; one thread per
# row (rows are independent; each walks its row in order, as NumPy does).

@cuda.jit
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


@cuda.jit
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


@cuda.jit
def row_prod(rows, cols, src, out):
    r = cuda.grid(1)
    st = cuda.gridsize(1)
    while r < rows:
        p = 1.0
        for j in range(cols):
            p *= src[r * cols + j]
        out[r] = p
        r += st


@cuda.jit
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


@cuda.jit
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


@cuda.jit
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


@cuda.jit
def row_var_vjp(rows, cols, src, g, o, dof, root, out):
    """var: 2 / dof * g * (x - mean); std: the same with g / (2 std), 0 where std is 0."""
    r = cuda.grid(1)
    st = cuda.gridsize(1)
    while r < rows:
        base = r * cols
        mu = _row_mean(base, cols, src)
        gr = g[r]
        if root:
            gr = 0.0 if o[r] == 0.0 else gr / (2.0 * o[r])
        scale = 2.0 / dof if dof > 0.0 else math.inf
        for j in range(cols):
            out[base + j] = scale * gr * (src[base + j] - mu)
        r += st


@cuda.jit
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


@cuda.jit
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
'''


def _switch(lines_of):
    return "\n".join(lines_of) if lines_of else "    pass"


def source(ns):
    """The generated kernel source (``ns`` receives compiled Python forward functions)."""
    fwd, dx, dy = [], [], []
    for code in sorted(REGISTRY):
        d = REGISTRY[code]
        if d.kind not in ("unary", "binary"):
            continue
        if d.forward is not None:
            fwd += [f"    if op == {code}:  # {d.op.name}",
                    f"        return {_forward_expr(d, ns)}"]
        for attr, out in (("dx", dx), ("dy", dy)):
            expr = pow_as_call(getattr(d, attr))
            if expr:
                out += [f"    if op == {code}:  # {d.op.name}", f"        return {expr}"]
    return (_HEADER.replace("{fwd}", _switch(fwd)).replace("{dx}", _switch(dx))
            .replace("{dy}", _switch(dy))) + _FIXED


def k():
    """The compiled kernels (generated and exec'd on first use)."""
    global _K
    if _K is None:
        cuda = cuda_api()
        from numba import float64

        ns = {"cuda": cuda, "float64": float64, "THREADS": threads(), "TILE": tile(),
              "min": min, "abs": abs, "float": float, "math": math, "range": range}
        src = source(ns)
        exec(compile(src, "<tapegrad.engine.cuda.kernels generated>", "exec"), ns)
        _K = ns
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


def matmul_dims(sa, sb):
    """(batch, M, K, N, a batch stride, b batch stride) of a @ b for the shapes the device
    matmul supports: 1-D..3-D a, 1-D/2-D b or 3-D b with a's batch."""
    a2 = (1,) + tuple(sa) if len(sa) == 1 else tuple(sa)
    b2 = tuple(sb) + (1,) if len(sb) == 1 else tuple(sb)
    if len(a2) > 3 or len(b2) > 3 or (len(b2) == 3 and (len(a2) != 3 or a2[0] != b2[0])):
        raise NotImplementedError(
            f"matmul of shapes {tuple(sa)} and {tuple(sb)} on cuda: the CUDA backend supports "
            "2-D @ 2-D, 3-D @ 2-D and 3-D @ 3-D with equal batch (and 1-D operands)")
    batch = a2[0] if len(a2) == 3 else 1
    M, K_ = a2[-2], a2[-1]
    N = b2[-1]
    if b2[-2] != K_:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied "
                           f"({M}x{K_} and {b2[-2]}x{N})")
    return batch, M, K_, N, (M * K_ if len(a2) == 3 else 0), (K_ * N if len(b2) == 3 else 0)


def synchronize():
    cuda_api().synchronize()
