"""``tapegrad.linalg``: PyTorch's ``torch.linalg`` names and signatures, real or complex inputs.

Solves and decompositions are primitives with their own derivative rules
(``ops/linalg_decomp.py``); norms, ``matrix_power`` and ``lstsq`` are built from them and from
the other ops. Everything is differentiable to any order where the derivative exists; see
docs/linalg.md for where it does not (repeated eigenvalues / singular values, singular matrices)
and what tapegrad returns there. NumPy's ``np.linalg.*`` on tensors runs these too
(``numpy_handlers``).

Example:
    >>> import tapegrad as tg
    >>> A = tg.tensor([[2.0, 1.0], [1.0, 3.0]], requires_grad=True)
    >>> tg.linalg.det(A).backward()
    >>> A.grad
    tensor([[ 3.0000, -1.0000],
            [-1.0000,  2.0000]])
"""

import math
from collections import namedtuple

import numpy as np

from .ops import linalg_cond as _cond
from .ops import linalg_decomp as _D
from .ops import linalg_eig as _E
from .ops import linalg_lstsq_args as _lstsq_args
from .ops import linalg_lu as _LU
from .ops import linalg_singular_solve as _singular
from .ops import node_names as _N, record as _R
from .ops import linalg_spectral as _S
from .ops import shapes as _shapes
from .ops import triangular as _T
from .ops.linalg_cholesky_ex import CholeskyExResult, cholesky_ex  # noqa: F401
from .ops.linalg_decomp import LinAlgError, cholesky, det, inv, pinv
from .ops.linalg_spectral import eigvalsh, svdvals
from .ops.norm_dtype import check_norm_dtype as _norm_dtype
from .ops.number_arguments import number_argument
from .tensor import _make, _wrap

__all__ = ["solve", "inv", "det", "slogdet", "eigh", "eigvalsh", "svd", "svdvals", "qr",
           "cholesky", "pinv", "norm", "vector_norm", "matrix_norm", "matrix_power", "lstsq",
           "matrix_rank", "cond", "multi_dot", "eig", "eigvals", "matrix_exp", "solve_triangular",
           "LinAlgError", "cholesky_ex", "inv_ex", "solve_ex", "lu", "lu_factor", "lu_factor_ex",
           "lu_solve"]

EighResult = namedtuple("EighResult", ["eigenvalues", "eigenvectors"])
EigResult = namedtuple("EigResult", ["eigenvalues", "eigenvectors"])
SVDResult = namedtuple("SVDResult", ["U", "S", "Vh"])
SlogdetResult = namedtuple("SlogdetResult", ["sign", "logabsdet"])
QRResult = namedtuple("QRResult", ["Q", "R"])
LstsqResult = namedtuple("LstsqResult", ["solution", "residuals", "rank", "singular_values"])


_t = _R.as_tensor


def _is_vector_rhs(A, B):
    """PyTorch's rule: B is a (batch of) vector(s) if 1-D or A's shape without its last dim."""
    return B.ndim == 1 or (B.ndim == A.ndim - 1 and B.shape == A.shape[:-1])


def solve(A, B, *, left=True):
    """Solve ``A X = B`` (``X A = B`` with ``left=False``); B may be a (batch of) vector(s)."""
    from .ops.movement import squeeze, unsqueeze

    A, B = _t(A), _t(B)
    if not left:
        _E._square(A, "solve")
        Bm = B.shape + (1,) if _is_vector_rhs(A, B) else B.shape  # (no vector for X A = B)
        if len(Bm) < 2 or Bm[-1] != A.shape[-1]:
            raise RuntimeError("linalg.solve: Incompatible shapes of A and B for the equation "
                               f"XA = B ({A.shape[-2]}x{A.shape[-1]} and {Bm[-2]}x{Bm[-1]})")
        return _D._tT(solve(_D._tT(A), _D._tT(B)))
    vec = A.ndim >= 2 and _is_vector_rhs(A, B)
    # batches that do not broadcast: PyTorch's error, after its matrix-size check (below)
    if A.ndim >= 2 and B.ndim >= 2 - vec and (vec or B.shape[-2] == A.shape[-1]):
        _shapes.broadcast_shapes(B.shape[:B.ndim - 2 + vec], A.shape[:-2])
    if vec:
        return squeeze(_D.solve(A, unsqueeze(B, -1)), -1)
    return _D.solve(A, B)


def slogdet(A):
    """``(sign, logabsdet)``; ``sign`` has no gradient."""
    return SlogdetResult(*_D.slogdet(A))


def eigh(A, UPLO="L"):
    """``(eigenvalues, eigenvectors)`` of symmetric matrices, eigenvalues ascending."""
    return EighResult(*_S.eigh(A, UPLO))


def svd(A, full_matrices=True, *, driver=None):
    """``(U, S, Vh)``; see ``ops/linalg_decomp.svd`` for ``full_matrices`` gradients."""
    return SVDResult(*_S.svd(A, full_matrices))


def qr(A, mode="reduced"):
    """``(Q, R)`` of ``A``; differentiable for ``mode='reduced'`` (and 'complete' if m <= n)."""
    return QRResult(*_D.qr(A, mode))


def eig(A):
    """``(eigenvalues, eigenvectors)`` of a square matrix, complex (PyTorch's); the gradient is
    PyTorch's, and raises if the loss depends on the eigenvectors' phases."""
    return EigResult(*_E.eig(A))


def eigvals(A):
    """Eigenvalues of a square matrix (complex)."""
    return _E.eig(A)[0]


# ---- norms -------------------------------------------------------------------------------------

def _float_input(x, name, dtype=None):
    x = _t(x)
    if dtype is not None:
        x = x.to(dtype)
    _D._check(x, name, square=False, min_dim=0)
    return x


@_D.float32_for_half()
@number_argument("linalg_vector_norm", "ord", 2)  # (PyTorch's parser, before other checks)
def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """``sum(|x|^ord)^(1/ord)`` over ``dim`` (all elements by default); ord may be ±inf or 0."""
    from .ops.elementwise import abs as _abs
    from .ops import norm as _vnorm  # (the batch-aware name: vmap batches it)

    x = _t(x)
    if dtype is not None:
        x = x.to(_norm_dtype(x, dtype, "vector_norm"))
    if x.dtype.kind == "c":  # the norm of the moduli: real, as torch's
        x = _abs(x)
    x = _float_input(x, "vector_norm")
    if isinstance(dim, (list, tuple)) and len(dim) == 0:
        dim = None
    return _vnorm(x, p=float(ord), dim=dim, keepdim=keepdim)


def _move_last(x, dims):
    """``x`` with the two matrix ``dims`` moved to the end (a permutation, recorded)."""
    from .ops.movement import permute
    from .ops.shapes import norm_dim

    d0, d1 = (norm_dim(d, x.ndim) for d in dims)
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({dims[0]}, "
                           f"{dims[1]})")
    order = [k for k in range(x.ndim) if k not in (d0, d1)] + [d0, d1]
    return (x if order == list(range(x.ndim)) else permute(x, tuple(order))), (d0, d1)


def _largest(x):
    """The largest of the last dim's (non-negative) values; 0 when there are none, with no
    graph, as PyTorch's norms of empty matrices (the smallest still raises there)."""
    from .ops import amax
    from .ops import sum as _sum  # (the ops namespace's: batch-aware under vmap)

    return amax(x, -1) if x.shape[-1] else _sum(x, -1).detach()


@_D.float32_for_half(refused=("nuc", 2, -2))
def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """Matrix norms: 'fro', 'nuc', ±inf (row sums), ±1 (column sums), ±2 (singular values)."""
    from .ops import abs as _abs
    from .ops import amin, reshape
    from .ops import norm as _vnorm
    from .ops import sum as _sum  # (the ops namespace's: batch-aware under vmap)

    A = _t(A)
    if not (ord in ("fro", "nuc") or ord in (1, -1, 2, -2, math.inf, -math.inf) and
            not isinstance(ord, bool)):  # (checked first, as PyTorch)
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    if dtype is not None:
        A, dtype = A.to(_norm_dtype(A, dtype, "matrix_norm")), None
    if A.dtype.kind == "c":
        # the entries' moduli for 'fro' and the sums; the (real) singular values for the rest
        if ord not in ("nuc", 2, -2, 2.0, -2.0) or isinstance(ord, bool):
            A = _abs(A)
    else:
        A = _float_input(A, "matrix_norm", dtype)
    if A.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 "
                           "dimensions.")
    dim = tuple(dim)
    if len(dim) != 2:
        raise RuntimeError("linalg.matrix_norm: dim must be a 2-tuple. Got " +
                           " ".join(str(d) for d in dim))
    X, (d0, d1) = _move_last(A, dim)
    if ord == "fro":
        r = _vnorm(X, p=2.0, dim=(-2, -1))
    elif ord == "nuc":
        r = _sum(svdvals(X), -1)
    elif ord in (2, -2, 2.0, -2.0) and not isinstance(ord, bool):
        s = svdvals(X)
        r = _largest(s) if ord > 0 else amin(s, -1)
    else:  # 1: max over columns of the column sums; inf: max over rows of the row sums
        sums = _sum(_abs(X), -2 if abs(ord) == 1 else -1)
        r = _largest(sums) if ord > 0 else amin(sums, sums.ndim - 1)  # (its error: dim >= 0)
    if keepdim:
        shape = list(r.shape)
        for d in sorted((d0, d1)):
            shape.insert(d, 1)
        r = reshape(r, tuple(shape))
    return r


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """``vector_norm`` or ``matrix_norm`` as PyTorch chooses: by ``dim`` (an int or a 2-tuple),
    else by A's dimension when ``ord`` is given, else the 2-norm of all elements."""
    A = _t(A)
    if isinstance(dim, int):
        dim = (dim,)
    if dim is not None:
        dim = tuple(dim)
        if len(dim) == 2:
            return matrix_norm(A, "fro" if ord is None else ord, dim, keepdim, dtype=dtype)
        if len(dim) != 1:
            raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. "
                               f"Got {list(dim)}")
        return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)
    if ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype)
    if A.ndim == 2 or (A.ndim < 2 and isinstance(ord, str)):  # ('fro'/'nuc': matrix norms)
        return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
    if A.ndim == 1:
        return vector_norm(A, ord, None, keepdim, dtype=dtype)
    raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D "
                       f"or 2D. Got {A.ndim}D.")


# ---- matrix_power, lstsq ---------------------------------------------------------------------

def power_arg(n, fn):
    """``n`` as an int (what has ``__index__`` but a bool), else PyTorch's error naming ``fn``."""
    import operator

    try:
        if not isinstance(n, (bool, np.bool_)):
            return operator.index(n)
    except TypeError:
        pass
    raise TypeError(f"{fn}(): argument 'n' (position 2) must be int, not {type(n).__name__}")


def matrix_power(A, n):
    """``A^n`` for an integer n by repeated squaring (n < 0: powers of the inverse; n = 0: the
    identity, with a zero gradient)."""
    from .ops.linalg import matmul

    A = _t(A)
    n = power_arg(n, "linalg_matrix_power")
    # products of complex and (n >= 0, as PyTorch's) integer matrices need no LAPACK
    _E._square(A, "matrix_power")  # (the shape first, then the dtype, as PyTorch's)
    if A.dtype.kind == "b" and n >= 2 and 0 not in A.shape:
        raise NotImplementedError('"addmm_impl_cpu_" not implemented for \'Bool\'')
    if n < 0 and A.dtype.kind != "c":  # (the inverse's error, as PyTorch's; products take
        # any dtype but bool, float16 included)
        _D._check(A, "inv")
    if n == 0:
        eye = _make(np.broadcast_to(np.eye(A.shape[-1], dtype=A.dtype), A.shape).copy())
        return A * 0.0 + eye if _R.needs_grad(A) else eye
    if n < 0:
        A, n = inv(A), -n
    result, base = None, A
    while True:
        if n & 1:
            result = base if result is None else matmul(result, base)
        n >>= 1
        if not n:
            return result
        base = matmul(base, base)


def lstsq(A, B, rcond=None, *, driver=None):
    """Least-squares solution of ``A X = B`` as ``pinv(A) @ B`` (the derivative PyTorch uses).

    Returns ``(solution, residuals, rank, singular_values)`` filled as PyTorch's CPU drivers
    fill them: 'gelsy' (default): rank; 'gelsd'/'gelss': residuals (m > n, full rank), rank,
    singular values; 'gels': residuals.
    """
    from .ops.movement import squeeze, unsqueeze
    from .ops.movement import sum as _sum

    A, B = _t(A), _t(B)
    cplx = A.dtype.kind == "c" or B.dtype.kind == "c"
    vec, batch = _lstsq_args.check(A, B)
    if cplx:  # pinv and matmul have complex rules: the same composition serves
        if A.dtype.kind != "c":
            A = A.to(B.dtype)
        elif B.dtype.kind != "c":
            B = B.to(A.dtype)
    else:
        _D._check(A, "lstsq", square=False)
    if driver not in (None, "gelsy", "gelsd", "gelss", "gels"):
        raise RuntimeError("torch.linalg.lstsq: parameter `driver` should be one of "
                           "(gels, gelsy, gelsd, gelss)")
    driver = driver or "gelsy"
    Bm = unsqueeze(B, -1) if vec else B
    m, n = A.shape[-2:]
    a = np.asarray(A._data)
    if rcond is None:
        rcond = np.finfo(a.dtype).eps * max(m, n)
    X = pinv(A, rtol=rcond) @ Bm
    if batch is not None:
        X = X.broadcast_to(batch + tuple(X.shape[-2:]))
    s = _D.svd_np(a, compute_uv=False)
    rank = np.sum(s > rcond * s[..., :1], axis=-1) if min(m, n) else np.zeros(a.shape[:-2], int)
    empty = _make(np.zeros((0,), a.real.dtype))  # (real for complex A too, as PyTorch's)
    residuals = empty
    # gels (LAPACK's) zeroes B for a zero A (or one of no columns): residuals 0 there
    zero_a = np.all(a == 0, axis=(-2, -1)) if driver == "gels" else False
    if driver != "gelsy" and m > n and np.all((rank == n) | zero_a):
        # a vector B keeps its column here: PyTorch's residuals are then (..., 1)
        r = A @ X - Bm
        residuals = _sum((r.abs() if cplx else r) ** 2, -2)
        if np.any(zero_a):  # (the value 0, the gradient the formula's, as PyTorch's)
            v = np.asarray(residuals.detach()._arr())
            residuals = residuals - _make(np.where(zero_a[..., None], v, 0).astype(v.dtype))
    elif _R.needs_grad(A, B):  # PyTorch's empty residuals are on the graph all the same,
        # their node passing no gradient to A or B (None: unused input); real, as PyTorch's
        residuals = _make(np.zeros((0,), a.real.dtype)).requires_grad_()[:0]
    sv = _make(_wrap(s)) if driver in ("gelsd", "gelss") else empty
    rank_t = _make(np.asarray(rank, np.int64) if driver != "gels" else np.zeros((0,), np.int64))
    X = _N.name_inputs(squeeze(X, -1) if vec else X, "LinalgLstsqBackward0", A, B)
    return LstsqResult(X, residuals, rank_t, sv)


# ---- matrix_rank, cond, multi_dot ------------------------------------------------------------

def matrix_rank(A, tol=None, hermitian=False, *, atol=None, rtol=None):
    """The number of singular values above ``max(atol, rtol * largest)`` (an int64 tensor, no
    gradient); ``rtol`` defaults to ``eps * max(m, n)`` when ``atol`` is not positive."""
    A = _t(A)
    if A.dtype.kind != "c":
        _D._check(A, "matrix_rank", square=hermitian)
    elif hermitian:  # (complex: NumPy's singular values and eigenvalues serve, real as well)
        _E._square(A, "matrix_rank")
    elif A.ndim < 2:
        raise RuntimeError("linalg.matrix_rank: The input tensor A must have at least 2 "
                           "dimensions.")
    if tol is not None:
        atol, rtol = tol, 0.0
    a = np.asarray(A._data)
    m, n = a.shape[-2:]
    s = np.abs(np.linalg.eigvalsh(a)) if hermitian else _D.svd_np(a, compute_uv=False)
    if rtol is None:  # per matrix where atol is a tensor, as PyTorch's torch.where
        rtol = np.finfo(a.dtype).eps * max(m, n)
        rtol = rtol if atol is None else np.where(np.asarray(atol) > 0, 0.0, rtol)
    top = s.max(axis=-1, initial=0.0)
    cut = np.maximum(0.0 if atol is None else np.asarray(atol), np.asarray(rtol) * top)
    return _make(np.asarray(np.sum(s > cut[..., None], axis=-1), np.int64))


def cond(A, p=None):
    """The condition number in the ``p`` norm: ``sigma_max / sigma_min`` for None/2 (-2: the
    inverse), else ``matrix_norm(A, p) * matrix_norm(inv(A), p)`` (square matrices). Its
    gradient is the composition's; at a singular matrix there is none (the value is inf)."""
    A = _t(A)
    if A.ndim < 2:
        raise RuntimeError(f"linalg.cond(ord={p}): The input tensor A must have at least 2 "
                           "dimensions." if p in ("fro", "nuc") else
                           "linalg.cond: The input tensor must have at least 2 dimensions.")
    spectral = p is None or (p in (2, -2) and not isinstance(p, bool))
    if not spectral and (p not in ("fro", "nuc", 1, -1, math.inf, -math.inf) or
                         isinstance(p, bool)):
        raise RuntimeError(f"linalg.cond got an invalid norm type: {p}")
    if 0 in A.shape and not (p in ("fro", "nuc") and A.shape[-1] != A.shape[-2]):
        # empty matrices: 0, as PyTorch (a constant; integer input keeps its dtype there)
        dt = np.finfo(A.dtype).dtype if A.dtype.kind in "fc" else A.dtype
        return _make(np.zeros(tuple(A.shape[:-2]), dt))
    if not spectral and A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"linalg.cond(ord={p}): A must be batches of square matrices, but "
                           f"they are {A.shape[-2]} by {A.shape[-1]} matrices")
    if A.dtype.kind != "c":  # (after the shape checks, the error of the op it runs on, as
        # PyTorch's: svd's for the spectral and nuclear norms, else inv's)
        A = _float_input(A, "svd" if spectral or p == "nuc" else "inv")
    if spectral:
        s = svdvals(A)
        hi, lo = s[..., 0], s[..., -1]
        with np.errstate(divide="ignore", invalid="ignore"):  # (singular: inf, as PyTorch's)
            return hi / lo if p != -2 else lo / hi
    if p == "nuc":
        return _cond.nuclear(A, svdvals)
    return _cond.by_inverse(A, p, matrix_norm, inv)


def _chain_product(ts, split, i, j):
    """``ts[i] @ ... @ ts[j]`` in the order ``split`` chose (module level: a recursive
    closure would be a reference cycle holding the tensors)."""
    from .ops.linalg import matmul

    if i == j:
        return ts[i]
    k = split[i][j]
    return matmul(_chain_product(ts, split, i, k), _chain_product(ts, split, k + 1, j))


def _chain_order(dims):
    """Where to split each sub-chain so that the product costs the fewest flops (the
    textbook dynamic programme NumPy's multi_dot uses); ``dims[i], dims[i+1]`` is matrix i."""
    n = len(dims) - 1
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = math.inf
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k
    return split


def multi_dot(tensors):
    """The product of a chain of matrices in the cheapest order; the first may be a 1-D row
    vector and the last a 1-D column vector (their dimension is dropped from the result)."""
    from .ops.movement import squeeze, unsqueeze
    from .ops.product_dtypes import check_chain

    ts = [_t(x) for x in tensors]
    if len(ts) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(ts)}")
    first_vec, last_vec = ts[0].ndim == 1, ts[-1].ndim == 1
    if first_vec:
        ts[0] = unsqueeze(ts[0], 0)
    if last_vec:
        ts[-1] = unsqueeze(ts[-1], -1)
    for i, x in enumerate(ts):
        if x.ndim != 2:
            which = "the first tensor" if i == 0 else "the last tensor" if i == len(ts) - 1 \
                else f"tensor {i}"
            ends = " 1D or" if which != f"tensor {i}" else ""
            raise RuntimeError(f"multi_dot(): {which} must be{ends} 2D but got {x.ndim}D")
    check_chain(ts)  # (dtypes, then shapes)
    split = _chain_order([x.shape[0] for x in ts] + [ts[-1].shape[1]])
    r = _chain_product(ts, split, 0, len(ts) - 1)
    if first_vec:
        r = squeeze(r, 0)
    if last_vec:
        r = squeeze(r, -1)
    return r


def matrix_exp(A):
    """The matrix exponential: a Taylor polynomial of ``A / 2^s`` squared ``s`` times (s chosen
    from the values so that ``|A / 2^s|_1 <= 1/2``; 18 terms then reach double precision).
    Built from matmuls, so every order of derivative is that of the computed polynomial, which
    agrees with the exponential's to the same precision."""
    from .ops.linalg import matmul

    A = _t(A)
    if A.dtype.kind not in "fc":
        raise RuntimeError("linalg.matrix_exp: Expected a floating point or complex tensor as "
                           f"input. Got {_shapes.torch_dtype_name(A.dtype)}")
    _E._square(A, "matrix_exp")
    n = A.shape[-1]
    a = np.asarray(A._data)
    with np.errstate(over="ignore"):
        norm1 = float(np.abs(a).sum(-2).max()) if a.size else 0.0
    if not math.isfinite(norm1):  # (an infinite or NaN entry, or an overflow: NaN, as PyTorch)
        return A * math.nan
    s = max(0, int(math.ceil(math.log2(norm1) + 1))) if norm1 > 0.5 else 0  # |A/2^s| <= 1/2
    X = A * (0.5 ** s) if s else A
    eye = _make(np.broadcast_to(np.eye(n, dtype=A.dtype), A.shape).copy())
    term, total = X, eye + X
    for k in range(2, 19):
        term = matmul(term, X) * (1.0 / k)
        total = total + term
    for _ in range(s):
        total = matmul(total, total)
    return _N.name_inputs(total, "LinalgMatrixExpBackward0", A)


def solve_triangular(A, B, *, upper, left=True, unitriangular=False):
    """``X`` with ``T X = B`` (``X T = B`` with ``left=False``), ``T`` the upper (or lower)
    triangle of ``A``, with ones on its diagonal if ``unitriangular``; the other entries of ``A``
    are not read, so their gradient is zero (as PyTorch's). Batch dimensions broadcast."""
    from .ops.elementwise import where

    A, B = _t(A), _t(B)
    _E._square(A, "solve_triangular")
    if B.ndim < 2:
        raise RuntimeError("linalg.solve_triangular: The input tensor B must have at least 2 "
                           "dimensions.")
    n = A.shape[-1]
    if (B.shape[-2] if left else B.shape[-1]) != n:
        raise RuntimeError("linalg.solve_triangular: Incompatible shapes of A and B for the "
                           f"equation {'AX = B' if left else 'XA = B'} ({n}x{n} and "
                           f"{B.shape[-2]}x{B.shape[-1]})")
    _shapes.broadcast_shapes(B.shape[:-2], A.shape[:-2])
    if not _D._any_complex(A, B):  # one op: substitution or BLAS trsm (ops/triangular.py)
        return _T.solve_triangular(A, B, upper, left, unitriangular)
    # complex: the triangle picked (not multiplied by a 0/1 mask: an inf outside it must not
    # read as nan), solved by LU
    keep = np.triu(np.ones((n, n), bool), 1 if unitriangular else 0)
    T = where(_make(keep if upper else keep.T), A, 0.0)
    if unitriangular:
        T = T + _make(np.eye(n, dtype=A.dtype if A.dtype.kind in "fc" else np.float64))
    if not left:  # X T = B  <=>  T^T X^T = B^T
        return _D._tT(_triangular(_D._tT(T), _D._tT(B), not upper))
    return _triangular(T, B, upper)


def _triangular(T, B, upper):
    """``solve(T, B)`` of complex matrices; for a zero on T's diagonal (LU would raise) the
    substitution, so that the values are the IEEE inf/nan of PyTorch's triangular solve (BLAS
    trsm)."""
    d = T._data
    if not (isinstance(d, np.ndarray) and d.size and
            not np.all(np.diagonal(d, axis1=-2, axis2=-1))):
        try:  # (not linalg.solve: a B of A's shape without its last dim is no vector here)
            return _D.solve(T, B)
        except LinAlgError:
            pass
    from .ops.join import cat

    n = T.shape[-1]
    rows = [None] * n
    with np.errstate(divide="ignore", invalid="ignore"):
        for i in (range(n - 1, -1, -1) if upper else range(n)):
            lo, hi = (i + 1, n) if upper else (0, i)
            r = B[..., i:i + 1, :]
            if hi > lo:
                r = r - T[..., i:i + 1, lo:hi] @ cat(rows[lo:hi], -2)
            rows[i] = r / T[..., i:i + 1, i:i + 1]
    return cat(rows, -2)


InvExResult = namedtuple("InvExResult", ["inverse", "info"])
SolveExResult = namedtuple("SolveExResult", ["result", "info"])


def _ex(f, result_type, like, check_errors, failed_at=None, one=None, fill=None):
    """``f()`` with LAPACK's ``info`` instead of an error (``*_ex``): 0 on success; on failure
    (with ``check_errors=False``) a positive ``info`` (``failed_at(matrix)``, else 1) and a NaN
    result (``fill(matrix)``'s where given). ``one(index)``: ``f`` of one matrix of a batch, so
    that each matrix gets its own info and the ones that succeed their own (differentiable)
    result; without it the whole batch reports one info."""
    batch = tuple(like.shape[:-2])
    try:
        return result_type(f(), _make(np.zeros(batch, np.int32)))
    except LinAlgError as e:
        if check_errors:  # (named as PyTorch's: linalg.inv_ex, linalg.cholesky_ex)
            raise _D.ex_error(e) from None
    infos = np.zeros(batch, np.int32)
    if one is None or not batch:
        a = np.asarray(like.detach()._arr())
        infos[...] = failed_at(a) if failed_at is not None else 1
        return result_type(_make(fill(a) if fill else np.full_like(a, np.nan)), _make(infos))
    from .ops.join import stack

    outs = []
    for i in np.ndindex(batch):
        try:
            outs.append(one(i))
        except LinAlgError:
            m = np.asarray(like[i].detach()._arr())
            infos[i] = failed_at(m) if failed_at is not None else 1
            outs.append(_make(fill(m) if fill else np.full_like(m, np.nan)))
    out = stack(outs).reshape(tuple(like.shape))
    return result_type(out, _make(infos))


def inv_ex(A, *, check_errors=False):
    """``(inverse, info)``: ``inv`` without raising for a singular matrix (one info per matrix
    of a batch)."""
    A = _t(A)
    return _ex(lambda: inv(A), InvExResult, A, check_errors, _D.zero_pivot,
               one=lambda i: inv(A[i]), fill=_D.singular_inverse)


def solve_ex(A, B, *, left=True, check_errors=False):
    """``(result, info)``: ``solve`` without raising for a singular matrix. ``info`` has A's
    batch shape, as PyTorch's (B's batch may broadcast A's); the right-hand sides of a singular
    matrix get NaN, the others their own (differentiable) solution."""
    from .ops.elementwise import where

    A, B = _t(A), _t(B)
    batch = tuple(A.shape[:-2])
    try:
        return SolveExResult(solve(A, B, left=left), _make(np.zeros(batch, np.int32)))
    except LinAlgError as e:
        if check_errors:
            raise _D.ex_error(e) from None
    a = np.asarray(A.detach()._arr())
    info = np.array([_D.zero_pivot(m) for m in a.reshape((-1,) + a.shape[-2:])],
                    np.int32).reshape(batch)
    singular, vec, n = info != 0, _is_vector_rhs(A, B), A.shape[-1]
    # singular matrices: the identity (one solve for the batch), then LU's values as PyTorch's
    X = solve(where(_make(singular[..., None, None]), _make(np.eye(n, dtype=A.dtype)), A), B,
              left=left)
    fill = _singular.singular_solutions(a, B.detach()._arr(), singular, left, vec, X.dtype)
    return SolveExResult(where(_make(singular.reshape(batch + (1,) * (2 - vec))), _make(fill), X),
                         _make(info))


# ---- LU ----------------------------------------------------------------------------------------

# (named as PyTorch's ``torch.return_types``)
LUResult = namedtuple("linalg_lu", ["P", "L", "U"])
LUFactorResult = namedtuple("linalg_lu_factor", ["LU", "pivots"])
LUFactorExResult = namedtuple("linalg_lu_factor_ex", ["LU", "pivots", "info"])


def lu(A, *, pivot=True):
    """``(P, L, U)`` with ``A = P L U`` for (..., m, n) matrices, ``k = min(m, n)``: ``P``
    (..., m, m) a permutation, ``L`` (..., m, k) unit lower, ``U`` (..., k, n) upper
    triangular; differentiable (PyTorch's ``linalg_lu_backward``)."""
    return LUResult(*_LU.lu(A, pivot))


def lu_factor(A, *, pivot=True):
    """``(LU, pivots)``: LAPACK's packed LU factors and its 1-based int32 row interchanges, for
    ``lu_solve``; raises for a zero on U's diagonal (``lu_factor_ex`` reports it instead)."""
    LU, piv, _ = _LU.lu_factor_ex(A, pivot, check_errors=True, name="lu_factor")
    return LUFactorResult(LU, piv)


def lu_factor_ex(A, *, pivot=True, check_errors=False):
    """``(LU, pivots, info)``: ``lu_factor`` with LAPACK's ``info`` per matrix (> 0: the
    1-based index of a zero on U's diagonal; the factors are still complete)."""
    return LUFactorExResult(*_LU.lu_factor_ex(A, pivot, check_errors))


def lu_solve(LU, pivots, B, *, left=True, adjoint=False):
    """``X`` with ``A X = B`` (``X A = B`` with ``left=False``, ``A^H`` for ``A`` with
    ``adjoint=True``) from ``lu_factor(A)``: ``O(n^2 k)``, no new factorisation; gradients reach
    ``LU`` and ``B``."""
    return _LU.lu_solve(LU, pivots, B, left, adjoint)
