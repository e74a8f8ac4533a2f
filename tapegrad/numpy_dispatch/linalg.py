"""``np.linalg.*`` on tensors: NumPy's signatures and result tuples over ``tapegrad.linalg``."""

import math

import numpy as np

from ..linalg import (EighResult, QRResult, SlogdetResult, SVDResult, cholesky, cond, det,
                      eigvalsh, inv, lstsq, matrix_norm, matrix_power, multi_dot, pinv, svdvals,
                      vector_norm)
from ..ops import linalg_decomp as _D
from ..ops import linalg_spectral as _S
from ..ops.record import as_tensor as _t
from ..tensor import _make
from ..ops.linalg import matmul
from . import _Unsupported, numpy_pair

# ---- np.linalg.* on tensors (NumPy's signatures and results) ---------------------------------

def _np_float(x, complex_ok=False):
    """NumPy's linalg computes integers in float64; complex goes to the ops with complex rules
    (``complex_ok``), else stays with NumPy (no gradient)."""
    x = _t(x)
    if x.dtype.kind == "c":
        if complex_ok:
            return x
        raise _Unsupported("complex input")
    return x if x.dtype.kind == "f" and x.dtype.itemsize >= 4 else x.to(np.float64)


def _np_matrices(a, square=True):
    """``a`` as a tensor; NumPy's ``LinAlgError`` (not the RuntimeError of the tapegrad op
    that runs it) where it is not a (stack of square) matrices, as ``lstsq``'s and ``cond``'s."""
    a = _t(a)
    if a.ndim < 2:
        raise np.linalg.LinAlgError(f"{a.ndim}-dimensional array given. Array must be at least "
                                    "two-dimensional")
    if square and a.shape[-1] != a.shape[-2]:
        raise np.linalg.LinAlgError("Last 2 dimensions of the array must be square")
    return a


def _np_solve(a, b):
    from ..ops.movement import squeeze, unsqueeze

    a, b = _np_float(_np_matrices(a), True), _np_float(b, True)
    if b.ndim == 1:  # NumPy 2: only a 1-D b is a vector
        return squeeze(_D.solve(a, unsqueeze(b, -1)), -1)
    return _D.solve(a, b)


def _np_svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    a = _np_float(_np_matrices(a, hermitian), True)
    if not compute_uv:
        return svdvals(a)
    return SVDResult(*_S.svd(a, full_matrices))


def _np_qr(a, mode="reduced"):
    a = _np_float(_np_matrices(a, False), True)
    if mode in ("raw", "economic"):
        raise _Unsupported(f"mode={mode!r}: LAPACK's Householder reflectors are not "
                           "differentiated (mode='reduced', 'complete' and 'r' are)")
    if mode == "full":
        import warnings

        warnings.warn("The 'full' option is deprecated in favor of 'reduced'.\nFor backward "
                      "compatibility let mode default.", DeprecationWarning, stacklevel=4)
        mode = "reduced"
    if mode == "r":
        return _D.qr(a, "r")[1]
    return QRResult(*_D.qr(a, mode))


def _np_pinv(a, rcond=None, hermitian=False, *, rtol=np._NoValue):
    a = _np_float(_np_matrices(a, hermitian), True)
    if rtol is not np._NoValue and rtol is not None:
        rcond = rtol
    return pinv(a, rtol=rcond, hermitian=hermitian)


def _np_norm(x, ord=None, axis=None, keepdims=False):
    from ..ops.movement import reshape

    x = _np_float(x, True)
    if axis is None:
        if ord is None:
            r = vector_norm(x, 2, None)
            return reshape(r, (1,) * x.ndim) if keepdims else r
        if x.ndim not in (1, 2):
            raise ValueError("Improper number of dimensions to norm.")
        axis = tuple(range(x.ndim))
    elif isinstance(axis, (int, np.integer)):
        axis = (int(axis),)
    axis = tuple(int(a) for a in axis)
    if len(axis) == 1:
        if isinstance(ord, str):
            raise ValueError(f"Invalid norm order '{ord}' for vectors")
        return vector_norm(x, 2 if ord is None else ord, axis, bool(keepdims))
    if len(axis) == 2:
        ord = "fro" if ord in (None, "f") else ord
        if ord not in ("fro", "nuc", 1, -1, 2, -2, math.inf, -math.inf):
            raise ValueError("Invalid norm order for matrices.")
        return matrix_norm(x, ord, axis, bool(keepdims))
    raise ValueError("Improper number of dimensions to norm.")


def _np_matrix_power(a, n):
    import operator

    try:
        n = operator.index(n)
    except TypeError:
        raise TypeError("exponent must be an integer") from None
    a = _np_matrices(a)  # (NumPy's positive powers of integer matrices are integers)
    return matrix_power(a if a.dtype.kind in "iu" and n >= 0 else _np_float(a, True), n)


def _np_lstsq(a, b, rcond=None):
    from ..ops.movement import sum as _sum

    a, b = _np_float(a, True), _np_float(b, True)
    if a.ndim != 2 or b.ndim not in (1, 2):
        raise np.linalg.LinAlgError(f"{max(a.ndim, b.ndim)}-dimensional array given. Array must "
                                    "be two-dimensional")
    m, n = a.shape
    x = lstsq(a, b, rcond)[0]
    s = svdvals(a)
    sd = np.asarray(s._data).reshape(s.shape)
    cut = (np.finfo(sd.dtype).eps * max(m, n) if rcond is None else rcond) * \
        (sd[0] if sd.size else 0.0)
    rank = int(np.sum(sd > cut))
    if rank == n and m > n:
        r = (a if a.dtype == x.dtype else a.to(x.dtype)) @ x - b  # (a real, b complex)
        res = _sum(r.abs() ** 2 if r.dtype.kind == "c" else r * r, 0)
        if b.ndim == 1:
            from ..ops.movement import reshape

            res = reshape(res, (1,))
    else:
        res = _make(np.zeros((0,), sd.dtype))
    return x, res, rank, s


def _np_polyfit(x, y, deg, rcond=None, full=False, w=None, cov=False):
    """NumPy's least-squares polynomial fit, as NumPy computes it (columns of the Vandermonde
    matrix scaled to unit norm, ``lstsq``), differentiable in ``x``, ``y`` and ``w``."""
    from ..ops import outer, stack, sqrt
    from ..ops.movement import sum as _sum

    order = int(deg) + 1
    x, y = _np_float(x, True), _np_float(y, True)
    if deg < 0:
        raise ValueError("expected deg >= 0")
    if x.ndim != 1:
        raise TypeError("expected 1D vector for x")
    if x.numel() == 0:
        raise TypeError("expected non-empty vector for x")
    if y.ndim < 1 or y.ndim > 2:
        raise TypeError("expected 1D or 2D array for y")
    if x.shape[0] != y.shape[0]:
        raise TypeError("expected x and y to have same length")
    if rcond is None:
        rcond = len(x) * np.finfo(x.dtype).eps
    cols = [x * 0.0 + 1.0]  # (powers by products: no 0 ** 0 in the gradient at x = 0)
    for _ in range(order - 1):
        cols.append(cols[-1] * x)
    lhs, rhs = stack(cols[::-1], 1), y
    if w is not None:
        w = _np_float(w)
        if w.ndim != 1:
            raise TypeError("expected a 1-d array for weights")
        if w.shape[0] != y.shape[0]:
            raise TypeError("expected w and y to have the same length")
        lhs = lhs * w[:, None]
        rhs = rhs * (w[:, None] if rhs.ndim == 2 else w)
    scale = sqrt(_sum(lhs * lhs, 0))
    lhs = lhs / scale
    c, resids, rank, sv = _np_lstsq(lhs, rhs, rcond)
    c = (c.T / scale).T
    if rank != order and not full:
        import warnings

        warnings.warn("Polyfit may be poorly conditioned", np.exceptions.RankWarning,
                      stacklevel=5)  # (the caller of np.polyfit, past the dispatch)
    if full:
        return c, resids, rank, sv, rcond
    if not cov:
        return c
    vbase = inv(lhs.T @ lhs) / outer(scale, scale)
    if cov == "unscaled":
        fac = 1
    else:
        if len(x) <= order:
            raise ValueError("the number of data points must exceed order to scale the "
                             "covariance matrix")
        fac = resids / (len(x) - order)
    return c, (vbase * fac if y.ndim == 1 else vbase[:, :, None] * fac)


def _np_cond(x, p=None):
    """NumPy's cond: the same numbers as tapegrad.linalg.cond (inf at singular matrices, where
    there is no gradient)."""
    x = _np_float(x, True)
    if x.ndim < 2:
        raise np.linalg.LinAlgError(f"{x.ndim}-dimensional array given. Array must be at least "
                                    "two-dimensional")
    return cond(x, p)


def _np_multi_dot(arrays, *, out=None):
    if out is not None:
        raise _Unsupported("out=")
    if len(arrays) < 2:
        raise ValueError("Expecting at least two arrays.")
    try:
        xs = [_t(a) for a in arrays]  # (integers stay integers, as NumPy's products)
        return multi_dot(xs if all(x.dtype.kind in "iu" for x in xs) else
                         [_np_float(x) for x in xs])
    except RuntimeError as e:
        raise ValueError(str(e).replace("multi_dot(): ", "")) from None


def _np_matrix_rank(A, tol=None, hermitian=False, *, rtol=None):
    """An integer: NumPy's own answer on the values (no gradient to keep)."""
    from . import _from_numpy

    x = _t(A)
    return _from_numpy(np.linalg.matrix_rank(np.asarray(x._data), tol, hermitian, rtol=rtol), ())


def _np_tensorsolve(a, b, axes=None):
    """NumPy's reshape of the tensor equation into one linear system, solved by solve."""
    from ..ops.movement import permute, reshape

    a, b = _np_float(a), _np_float(b)
    if axes is not None:
        axes = [k % a.ndim for k in axes]
        rest = [k for k in range(a.ndim) if k not in axes]
        a = permute(a, tuple(rest + axes))
    oshape = a.shape[b.ndim:]
    n = int(np.prod(oshape))
    if int(np.prod(a.shape[:b.ndim])) != n:
        raise np.linalg.LinAlgError("Input arrays must satisfy the requirement "
                                    "prod(a.shape[b.ndim:]) == prod(a.shape[:b.ndim])")
    return reshape(_np_solve(reshape(a, (n, n)), reshape(b, (n,))), oshape)


def _np_tensorinv(a, ind=2):
    from ..ops.movement import reshape

    a = _np_float(a)
    if ind <= 0:
        raise ValueError("Invalid ind argument.")
    outer, inner = a.shape[:ind], a.shape[ind:]
    n = int(np.prod(outer))
    if int(np.prod(inner)) != n:
        raise np.linalg.LinAlgError("Last 2 dimensions of the array must be square")
    return reshape(inv(reshape(a, (n, -1))), inner + outer)


def _array_api_handlers():
    """NumPy 2's array-API names in np.linalg."""
    from ..ops import movement as M
    from . import composites as C
    from .ufuncs import vecdot

    L = np.linalg
    h = {
        L.matrix_transpose: lambda x, /: M.transpose(_t(x), -1, -2),
        L.vector_norm: lambda x, /, *, axis=None, keepdims=False, ord=2:
            vector_norm(_np_float(x, True), ord, axis, keepdims),
        L.matrix_norm: lambda x, /, *, keepdims=False, ord="fro":
            matrix_norm(_np_float(x, True), ord, (-2, -1), keepdims),
        L.svdvals: lambda x, /: svdvals(_np_float(_np_matrices(x, False), True)),
        L.outer: _np_outer,
        L.diagonal: lambda x, /, *, offset=0: C.diagonal(x, offset, -2, -1),
        L.trace: lambda x, /, *, offset=0, dtype=None: M.sum(
            C.diagonal(x if dtype is None else _t(x).to(dtype), offset, -2, -1), -1),
        L.cross: lambda x1, x2, /, *, axis=-1: C.cross(x1, x2, axis=axis),
        L.vecdot: lambda x1, x2, /, *, axis=-1: vecdot(x1, x2, axis),
        L.matmul: lambda x1, x2, /: matmul(*numpy_pair(x1, x2)),
        L.tensordot: lambda x1, x2, /, *, axes=2: C.tensordot(x1, x2, axes),
        L.tensorsolve: _np_tensorsolve, L.tensorinv: _np_tensorinv,
    }
    return h


def _np_outer(x1, x2, /):
    from ..ops.linalg import outer

    x1, x2 = _t(x1), _t(x2)
    if x1.ndim != 1 or x2.ndim != 1:
        raise ValueError(f"Input arrays must be one-dimensional, but they are x1.ndim={x1.ndim} "
                         f"and x2.ndim={x2.ndim}.")
    return outer(x1, x2)


def _np_eig(a):
    """NumPy's ``eig``: real arrays when every eigenvalue is real, else complex."""
    from ..linalg import EigResult, eig
    from ..ops.complex import real

    w, v = eig(_np_matrices(a))
    if not np.iscomplexobj(np.linalg.eigvals(_t(a)._arr())):
        w, v = real(w), real(v)
    return EigResult(w, v)


def _np_eigvals(a):
    return _np_eig(a)[0]


def numpy_handlers():
    """``np.linalg`` function -> handler with NumPy's signature, for ``numpy_dispatch``."""
    L = np.linalg

    def sq(a):  # square matrices, NumPy's errors
        return _np_float(_np_matrices(a), True)

    return {
        L.solve: _np_solve, L.inv: lambda a: inv(sq(a)),
        L.det: lambda a: det(sq(a)),
        L.slogdet: lambda a: SlogdetResult(*_D.slogdet(sq(a))),
        L.eigh: lambda a, UPLO="L": EighResult(*_S.eigh(sq(a), UPLO)),
        L.eigvalsh: lambda a, UPLO="L": eigvalsh(sq(a), UPLO),
        L.svd: _np_svd, L.qr: _np_qr,
        L.cholesky: lambda a, /, *, upper=False: cholesky(sq(a), upper=upper),
        L.pinv: _np_pinv, L.norm: _np_norm, L.matrix_power: _np_matrix_power,
        L.lstsq: _np_lstsq, L.eig: _np_eig, L.eigvals: _np_eigvals,
        L.cond: _np_cond, L.multi_dot: _np_multi_dot, L.matrix_rank: _np_matrix_rank,
        np.polyfit: _np_polyfit,
    } | _array_api_handlers()

