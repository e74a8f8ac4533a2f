"""Determinants: ``det`` and ``slogdet`` (log|det|), their VJPs (``linalg_decomp``'s formulas:
``g det(A) A^-T``, at a singular matrix the cofactor matrix) and JVPs."""

import numpy as np

from . import _scipy_lapack
from . import record as R
from .cuda_linalg import on_host
from .linalg_decomp import _any_complex, _check, _const, _f64, _mT, _record, _tT, inv
from ..registry import Op, defop


def _prod_but_one_np(s):
    """``out[..., i] = prod_{j != i} s[..., j]`` without dividing."""
    n = s.shape[-1]
    one = np.ones(s.shape[:-1] + (1,))
    left = np.cumprod(np.concatenate([one, s[..., :-1]], -1), -1)
    right = np.flip(np.cumprod(np.flip(np.concatenate([s[..., 1:], one], -1), -1), -1), -1)
    return (left * right)[..., :n]


def _cofactor_np(A):
    """The cofactor matrix ``adj(A)^T`` (``d det(A) / dA``) of any square A, real or complex
    (an SVD, no inverse: ``adj(A) = det(U) det(V^H) V diag(prod_{j != i} s_j) U^H``)."""
    U, S, Vh = np.linalg.svd(A)
    sgn = np.linalg.det(U) * np.linalg.det(Vh)
    return sgn[..., None, None] * ((np.conj(U) * _prod_but_one_np(S)[..., None, :]) @ np.conj(Vh))


def _det_grad_np(A, d):
    """``det(A) A^-T`` where A is invertible, the cofactor matrix where it is not."""
    A, d = _f64(A), _f64(d)
    ok = d != 0
    if np.all(ok):
        return d[..., None, None] * _mT(np.linalg.inv(A))
    out = np.empty_like(A)
    if np.any(ok):
        out[ok] = d[ok][..., None, None] * _mT(np.linalg.inv(A[ok]))
    out[~ok] = _cofactor_np(A[~ok])
    return out


def _det_vjp_np(g, inputs, out, minor=False):
    g = _f64(g)
    return (g[..., None, None] * _det_grad_np(inputs[0], out),)


def _cofactor(A):
    """``_cofactor_np`` in tapegrad ops (through the SVD op: differentiable again where the
    singular values are distinct)."""
    from .elementwise import where
    from .movement import unsqueeze
    from .reduce import prod

    from .linalg_spectral import _svd_parts

    U, S, Vh = _svd_parts(A, False)
    n = S.shape[-1]
    sgn = np.linalg.det(np.asarray(U._data, np.float64)) * \
        np.linalg.det(np.asarray(Vh._data, np.float64))
    others = prod(where(np.eye(n, dtype=bool), 1.0, unsqueeze(S, -2)), dim=-1)
    return _const(sgn[..., None, None]) * ((U * unsqueeze(others, -2)) @ Vh)


def _cofactor_by_minors(A):
    """The cofactor matrix as the signed determinants of A's (n-1)x(n-1) minors: one batched
    det of n^2 gathered minors, exact to every order where ``_cofactor`` is not: at rank n-2
    or less the SVD has repeated zero singular values (its derivative, the second of det, came
    out 0 where the true (n-2)-minors are not), and at rank n-1 the SVD's second derivative
    loses ~eps / s_min of accuracy (the third of det was off by 40% at [[1, 2, 3], [4, 5, 6],
    [7, 8, 9]], whose s_min is 3e-16)."""
    n = A.shape[-1]
    keep = np.array([[k for k in range(n) if k != i] for i in range(n)], np.int64)
    rows, cols = keep[:, None, :, None], keep[None, :, None, :]  # (n, n, n-1, n-1)
    minors = A[(Ellipsis, rows, cols)]
    sign = (-1.0) ** np.add.outer(np.arange(n), np.arange(n))
    # (recorded as minors: PyTorch's second derivative of det has a graph through A, so the
    # 1x1 minors of a 2x2 keep their det(m) m^-T rule below)
    return _record(np.asarray(np.linalg.det(minors._arr())), Op.DET, (minors,), save_inputs=(0,),
                   save_out=True, params=dict(minor=True)) * _const(sign)


_MINORS_MAX = 64  # n above which n^2 minors cost more than they are worth: the SVD's cofactor


def _det_vjp(g, inputs, out, minor=False):
    from .movement import reshape

    A = inputs[0]
    if not A.numel():  # nothing to differentiate: PyTorch's gradient has no history
        return (_const(np.zeros(A.shape, np.asarray(A._data).dtype)),)
    g = reshape(g, g.shape + (1, 1))
    if A.shape[-1] == 1 and not minor:  # det is the one entry: derivative 1, PyTorch passes g on
        return (g,)
    d = np.asarray(out._data)
    if np.all(d != 0):
        return (g * reshape(out, out.shape + (1, 1)) * _tT(inv(A)),)
    if 2 <= A.shape[-1] <= _MINORS_MAX:
        return (g * _cofactor_by_minors(A),)
    return (g * _cofactor(A),)


def _det_jvp_np(tangents, inputs, out, minor=False):
    """``tr(adj(A)^T dA)`` from the VJP's ``adj(A)^T``: ``det(A) tr(A^-1 dA)``, the cofactor
    matrix where A is singular (the derivative there too; PyTorch's forward mode reads 0)."""
    return (_det_grad_np(inputs[0], out) * tangents[0]).sum((-2, -1))


defop(Op.DET, "det", "python", "LinalgDetBackward0", vjp=_det_vjp, vjp_np=_det_vjp_np,
      jvp_np=_det_jvp_np)


@on_host  # CUDA tensors: through the host (ops/cuda_linalg.py)
def det(A):
    """Determinant of square matrices (..., n, n)."""
    A = R.as_tensor(A)
    if _any_complex(A):
        from . import complex_linalg

        return complex_linalg.det(A)
    _check(A, "det")
    return _record(np.asarray(np.linalg.det(A._arr())), Op.DET, (A,), save_inputs=(0,),
                   save_out=True)


def _logabsdet_vjp_np(g, inputs, out, factors=None):
    A, g = inputs[0], np.asarray(g)[..., None, None]
    ok = np.asarray(out) != -np.inf  # (a zero pivot: det 0, no derivative)
    if np.all(ok):
        if factors is not None:  # the forward's LU: A^-T without factoring again
            return (g * _scipy_lapack.inv_transposed(factors, A.shape, A.dtype),)
        return (g * _mT(np.linalg.inv(A)),)
    A = _f64(A)
    out = np.empty_like(A)
    if np.any(ok):
        out[ok] = _mT(np.linalg.inv(A[ok]))
    with np.errstate(divide="ignore", invalid="ignore"):  # no derivative: inf / nan
        out[~ok] = _cofactor_np(A[~ok]) / 0.0
    return (g * out,)


def _logabsdet_vjp(g, inputs, out, factors=None):
    from .movement import reshape

    A = inputs[0]
    g = reshape(g, g.shape + (1, 1))
    if np.all(np.asarray(out._data) != -np.inf):
        return (g * _tT(inv(A)),)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (g * _cofactor(A) / 0.0,)


def _logabsdet_jvp_np(tangents, inputs, out, **params):
    """``tr(A^-1 dA)`` from the VJP's ``A^-T`` (inf/nan where A is singular, as the VJP)."""
    G = _logabsdet_vjp_np(np.ones(np.shape(inputs[0])[:-2]), inputs, out, **params)[0]
    return (G * tangents[0]).sum((-2, -1))


defop(Op.LOGABSDET, "logabsdet", "python", "LinalgSlogdetBackward0", vjp=_logabsdet_vjp,
      vjp_np=_logabsdet_vjp_np, jvp_np=_logabsdet_jvp_np)


@on_host  # CUDA tensors: through the host (ops/cuda_linalg.py)
def slogdet(A):
    """``(sign, log|det|)`` of square matrices; ``sign`` carries no gradient. Large matrices
    that need a gradient keep their LU factors (SciPy's ``getrf``) for the backward, as
    PyTorch's: ``g A^-T`` then costs an inverse from them, not a second factorisation."""
    A = R.as_tensor(A)
    if _any_complex(A):
        from . import complex_linalg

        return complex_linalg.slogdet(A)
    _check(A, "slogdet")
    a = A._arr()
    params = {}
    if R._grad_on() and A._rg and _scipy_lapack.per_matrix(a):
        sign, logabs, params["factors"] = _scipy_lapack.slogdet(a)
    else:
        sign, logabs = np.linalg.slogdet(a)
    if np.isnan(logabs).any():  # a NaN determinant has no sign: PyTorch's 0 (its pivots')
        sign = np.where(np.isnan(logabs), np.zeros((), sign.dtype), sign)
    return (_const(sign), _record(np.asarray(logabs), Op.LOGABSDET, (A,), save_inputs=(0,),
                                  save_out=True, params=params))
