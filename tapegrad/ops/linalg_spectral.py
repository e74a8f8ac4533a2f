"""eigh and svd: the decompositions whose derivatives divide by eigenvalue / singular value gaps;
and pinv, computed from them.

Same conventions as ``linalg_decomp.py`` (formulas listed there): one packed record per
decomposition, a NumPy VJP and a tapegrad-ops VJP of one formula. The gap term is skipped when
the vectors' cotangent is zero and two values coincide, so eigenvalues and singular values alone
stay differentiable where they repeat.
"""

import numpy as np

from ..tensor import _make, _wrap
from . import record as R
from .cuda_linalg import on_host
from .linalg_decomp import (_any_complex, _check, _check_shape, _complex_decomp, _diag_embed,
                            _diag_embed_np, _f64, _gap_matrix, _gap_matrix_np, _lapack, _mT,
                            _nonzero, _pack_np, _record, _tT, _unpack, _unpack_np, svd_np)
from ..registry import Op, defop


def _complex():
    """The complex rules (``ops/complex_spectral.py``), imported when first asked for."""
    from . import complex_spectral

    return complex_spectral


# ---- eigh ------------------------------------------------------------------------------------

def _eigh_vjp_np(g, inputs, out, n):
    (L, V), (gL, gV) = _unpack_np(_f64(out), ((n,), (n, n))), _unpack_np(_f64(g), ((n,), (n, n)))
    inner = _diag_embed_np(gL)
    E, degenerate = _gap_matrix_np(L)
    if not degenerate or np.any(gV):
        X = _mT(V) @ gV
        with np.errstate(divide="ignore", invalid="ignore"):
            inner = inner + 0.5 * (X - _mT(X)) / E
    return (V @ inner @ _mT(V),)


def _eigh_vjp(g, inputs, out, n):
    (L, V), (gL, gV) = _unpack(out, ((n,), (n, n))), _unpack(g, ((n,), (n, n)))
    inner = _diag_embed(gL)
    E, degenerate = _gap_matrix(L)
    if not degenerate or _nonzero(gV):
        X = _tT(V) @ gV
        with np.errstate(divide="ignore", invalid="ignore"):
            inner = inner + (X - _tT(X)) * 0.5 / E
    return (V @ inner @ _tT(V),)


def _eigh_jvp_np(tangents, inputs, out, n):
    """PyTorch's linalg_eig_jvp (Hermitian): ``dP = V^T dA V``, ``dL = diag(dP)``,
    ``dV = V (dP / E)`` with a zero diagonal (inf/nan where eigenvalues repeat, as there)."""
    t = tangents[0]
    L, V = _unpack_np(_f64(out), ((n,), (n, n)))
    dP = _mT(V) @ t @ V
    with np.errstate(divide="ignore", invalid="ignore"):
        X = np.where(np.eye(n, dtype=bool), 0.0, dP / (L[..., None, :] - L[..., :, None]))
    return _pack_np((np.diagonal(dP, 0, -2, -1), V @ X), t.shape[:-2])


defop(Op.EIGH, "eigh", "python", "LinalgEighBackward0", vjp=_eigh_vjp, vjp_np=_eigh_vjp_np,
      jvp_np=_eigh_jvp_np)


@on_host  # CUDA tensors: through the host (ops/cuda_linalg.py)
def eigh(A, UPLO="L"):
    """Eigenvalues (ascending) and eigenvectors of symmetric matrices, reading the ``UPLO``
    triangle. The gradient is symmetric, as PyTorch's: it treats A as symmetric."""
    A = R.as_tensor(A)
    if _any_complex(A):
        return _complex().eigh(A, UPLO)
    if _no_kernel(A.dtype) and _empty_square(A):  # (PyTorch's kernel, with its dtype
        a = A._arr()  # check, never runs on no matrix: empties of A's dtype)
        return _make(np.zeros(a.shape[:-1], a.dtype)), _make(np.zeros(a.shape, a.dtype))
    _check(A, "eigh")
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    L, V = _lapack(np.linalg.eigh, A._arr(), UPLO=UPLO,
                   msg="linalg.eigh: The algorithm failed to converge because the input matrix "
                       "is ill-conditioned or has too many repeated eigenvalues.")
    if not (R._grad_on() and A._rg):
        return _make(_wrap(L)), _make(V)
    n = A.shape[-1]
    p = _record(_pack_np((L, V), A.shape[:-2]), Op.EIGH, (A,), save_out=True, params=dict(n=n))
    return tuple(_unpack(p, ((n,), (n, n)), "LinalgEighBackward0"))


def _no_kernel(dt):
    """Whether PyTorch has no eigh kernel for dtype ``dt`` (integers, bool, float16)."""
    return dt.kind in "iub" or dt == np.float16


def _empty_square(A):
    """Whether ``A`` holds no matrix, or only empty ones, PyTorch's shape checks passed."""
    if A.ndim >= 2 and A.shape[-1] == A.shape[-2]:
        return A.numel() == 0
    _check_shape(A, "eigh", True, 2)
    return False


@on_host  # CUDA tensors: through the host (ops/cuda_linalg.py)
def eigvalsh(A, UPLO="L"):
    """Eigenvalues of symmetric matrices; differentiable where they repeat, too."""
    A = R.as_tensor(A)
    if _any_complex(A):
        return _complex().eigvalsh(A, UPLO)
    if _no_kernel(A.dtype) and _empty_square(A):
        return eigh(A, UPLO)[0]
    if not (R._grad_on() and A._rg):
        _check(A, "eigh")  # (PyTorch names eigh in its errors)
        return _make(_wrap(np.linalg.eigvalsh(A._arr(), UPLO=UPLO)))
    return eigh(A, UPLO)[0]


# ---- svd -------------------------------------------------------------------------------------

def _svd_shapes(m, n, full):
    k = min(m, n)
    return ((m, m if full else k), (k,), (n if full else k, n))


def _svd_vjp_np(g, inputs, out, m, n, full):
    k = min(m, n)
    shapes = _svd_shapes(m, n, full)
    U, S, Vh = _unpack_np(_f64(out), shapes)
    gU, gS, gVh = _unpack_np(_f64(g), shapes)
    if full:
        U, gU, Vh, gVh = U[..., :k], gU[..., :k], Vh[..., :k, :], gVh[..., :k, :]
    E, degenerate = _gap_matrix_np(S * S)
    use_u = not degenerate or bool(np.any(gU))
    use_v = not degenerate or bool(np.any(gVh))
    inner = _diag_embed_np(gS)
    with np.errstate(divide="ignore", invalid="ignore"):
        if use_u or use_v:
            t = 0.0
            if use_u:
                X = _mT(U) @ gU
                t = t + (X - _mT(X)) * S[..., None, :]
            if use_v:
                Y = Vh @ _mT(gVh)
                t = t + S[..., :, None] * (Y - _mT(Y))
            inner = inner + t / E
        if m > n and use_u:
            gUs = gU / S[..., None, :]
            gA = (U @ inner + gUs - U @ (_mT(U) @ gUs)) @ Vh
        elif m < n and use_v:
            sgVh = gVh / S[..., :, None]
            gA = U @ (inner @ Vh + sgVh - (sgVh @ _mT(Vh)) @ Vh)
        else:
            gA = U @ inner @ Vh
    return (gA,)


def _svd_vjp(g, inputs, out, m, n, full):
    from .movement import unsqueeze

    k = min(m, n)
    shapes = _svd_shapes(m, n, full)
    U, S, Vh = _unpack(out, shapes)
    gU, gS, gVh = _unpack(g, shapes)
    if full:
        U, gU, Vh, gVh = U[..., :k], gU[..., :k], Vh[..., :k, :], gVh[..., :k, :]
    E, degenerate = _gap_matrix(S * S)
    use_u = not degenerate or _nonzero(gU)
    use_v = not degenerate or _nonzero(gVh)
    inner = None
    with np.errstate(divide="ignore", invalid="ignore"):
        if use_u:
            X = _tT(U) @ gU
            inner = (X - _tT(X)) * unsqueeze(S, -2)
        if use_v:
            Y = Vh @ _tT(gVh)
            t = unsqueeze(S, -1) * (Y - _tT(Y))
            inner = t if inner is None else inner + t
        inner = _diag_embed(gS) if inner is None else inner / E + _diag_embed(gS)
        if m > n and use_u:
            gUs = gU / unsqueeze(S, -2)
            gA = (U @ inner + gUs - U @ (_tT(U) @ gUs)) @ Vh
        elif m < n and use_v:
            sgVh = gVh / unsqueeze(S, -1)
            gA = U @ (inner @ Vh + sgVh - (sgVh @ _tT(Vh)) @ Vh)
        else:
            gA = U @ inner @ Vh
    return (gA,)


def _svd_jvp_np(tangents, inputs, out, m, n, full):
    """PyTorch's linalg_svd_jvp: with ``dP = U^T dA V``, ``dS = diag(dP)``, ``dU = U
    sym(dP S) / E (+ (I - UU^T) dA V S^-1 if m > n)``, ``dVh = -sym(S dP) / E Vh (+ S^-1 U^T
    dA (I - VV^T) if m < n)``, ``sym(X) = X + X^T`` off the diagonal, ``E_ij = S_j^2 - S_i^2``;
    the extra columns of full bases get 0."""
    t, k = tangents[0], min(m, n)
    U, S, Vh = _unpack_np(_f64(out), _svd_shapes(m, n, full))
    if full:
        U, Vh = U[..., :k], Vh[..., :k, :]
    V = _mT(Vh)
    dP = _mT(U) @ (t @ V) if m >= n else (_mT(U) @ t) @ V
    dS = np.diagonal(dP, 0, -2, -1)
    dP = dP - _diag_embed_np(dS)
    E = _gap_matrix_np(S * S)[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        X = dP * S[..., None, :]
        dU = U @ ((X + _mT(X)) / E)
        if m > n:
            dAVS = t @ (V / S[..., None, :])
            dU = dU + dAVS - U @ (_mT(U) @ dAVS)
        Y = S[..., :, None] * dP
        dVh = -((Y + _mT(Y)) / E) @ Vh
        if m < n:
            UdAS = (_mT(U) / S[..., :, None]) @ t
            dVh = dVh + UdAS - (UdAS @ V) @ Vh
    if full:
        dU = np.concatenate([dU, np.zeros(dU.shape[:-1] + (m - k,))], -1)
        dVh = np.concatenate([dVh, np.zeros(dVh.shape[:-2] + (n - k, n))], -2)
    return _pack_np((dU, dS, dVh), t.shape[:-2])


defop(Op.SVD, "svd", "python", "LinalgSvdBackward0", vjp=_svd_vjp, vjp_np=_svd_vjp_np,
      jvp_np=_svd_jvp_np)


def _svd_parts(A, full_matrices):
    m, n = A.shape[-2:]
    U, S, Vh = svd_np(A._arr(), full_matrices=full_matrices)
    if not (R._grad_on() and A._rg):
        return _make(U), _make(_wrap(S)), _make(Vh)
    shapes = _svd_shapes(m, n, full_matrices)
    p = _record(_pack_np((U, S, Vh), A.shape[:-2]), Op.SVD, (A,), save_out=True,
                params=dict(m=m, n=n, full=bool(full_matrices)))
    return tuple(_unpack(p, shapes, "LinalgSvdBackward0"))


@on_host  # CUDA tensors: through the host (ops/cuda_linalg.py)
def svd(A, full_matrices=True):
    """``(U, S, Vh)`` with ``A = U diag(S) Vh``, S descending. With ``full_matrices=True`` the
    extra columns of U / rows of Vh get no gradient (they are any basis of the complement)."""
    A = R.as_tensor(A)
    if _any_complex(A):
        return _complex().svd(A, full_matrices)
    _check(A, "svd", square=False)
    return _svd_parts(A, full_matrices)


@on_host  # CUDA tensors: through the host (ops/cuda_linalg.py)
def svdvals(A):
    """Singular values (descending); differentiable where they repeat, too."""
    A = R.as_tensor(A)
    if _any_complex(A):
        return _complex().svdvals(A)
    _check(A, "svdvals", square=False)
    if not (R._grad_on() and A._rg):
        return _make(_wrap(svd_np(A._arr(), compute_uv=False)))
    return _svd_parts(A, False)[1]


# ---- pinv ------------------------------------------------------------------------------------

def _pinv_vjp_np(g, inputs, out):
    return (_pinv_grad(_f64(g), _f64(inputs[0]), _f64(out), _mT),)


def _pinv_vjp(g, inputs, out):
    return (_pinv_grad(g, inputs[0], out, _tT),)


def _pinv_grad(g, A, P, T):
    """PyTorch's pinv_backward (constant rank), for arrays or tensors (``T`` transposes)."""
    m, n = A.shape[-2:]
    Pt, gt = T(P), T(g)
    if m <= n:
        K = gt @ P
        KPt = K @ Pt
        return -T(P @ K) + KPt - (A @ P) @ KPt + (Pt @ P) @ (gt - K @ A)
    K = P @ gt
    PtK = Pt @ K
    return -T(K @ P) + ((gt - A @ K) @ P) @ Pt + PtK - (PtK @ P) @ A


def _pinv_jvp_np(tangents, inputs, out):
    """PyTorch's pinv_jvp (constant rank), the products of the smaller dimension."""
    A, P, dA = _f64(inputs[0]), _f64(out), tangents[0]
    dAt, Pt = _mT(dA), _mT(P)
    if A.shape[-2] <= A.shape[-1]:
        K = Pt @ dAt
        return P @ (K - _mT(K) - K @ (A @ P)) + (dAt - P @ (A @ dAt)) @ (Pt @ P)
    K = P @ dA
    Kt = _mT(K)
    return (Kt - K - (P @ A) @ Kt) @ P + (P @ Pt) @ (dAt - (dAt @ A) @ P)


defop(Op.PINV, "pinv", "python", "LinalgPinvBackward0", vjp=_pinv_vjp, vjp_np=_pinv_vjp_np,
      jvp_np=_pinv_jvp_np)


@on_host  # CUDA tensors: through the host (ops/cuda_linalg.py)
def pinv(A, rcond=None, hermitian=False, *, atol=None, rtol=None):
    """Moore-Penrose pseudo-inverse; singular values at most ``max(atol, rtol * s_max)`` are
    dropped (PyTorch's defaults: ``rtol = eps * max(m, n)`` where ``atol`` > 0 is not given).
    ``rcond`` (positional, as PyTorch's older overload) is ``rtol``."""
    if rcond is not None:
        if atol is not None or rtol is not None:
            raise TypeError("linalg_pinv(): rcond cannot be combined with atol or rtol; "
                            "pass either rcond or atol/rtol")
        rtol = rcond
    A = R.as_tensor(A)
    if A.ndim < 2 or A.dtype.kind not in "fc" or A.dtype.itemsize < 4:
        from .shapes import torch_dtype_name

        raise RuntimeError(f"linalg.pinv({torch_dtype_name(A.dtype)}{{{list(A.shape)}}}): "
                           "expected a tensor with 2 or more dimensions of float, double, cfloat "
                           "or cdouble types")
    cplx = _any_complex(A)
    if cplx:
        from .complex_spectral import _matrices

        _matrices(A, "pinv", square=hermitian)
    else:
        _check(A, "pinv", square=hermitian)
    a = A._arr()
    mH = (lambda x: np.conj(_mT(x))) if cplx else _mT
    m, n = a.shape[-2:]
    atol = None if atol is None else np.asarray(atol, np.float64)
    if rtol is None:  # per matrix where atol is a tensor, as PyTorch's torch.where
        rtol = np.finfo(a.dtype).eps * max(m, n)
        rtol = rtol if atol is None else np.where(atol > 0, 0.0, rtol)
    atol = 0.0 if atol is None else atol
    atol, rtol = np.asarray(atol, np.float64), np.asarray(rtol, np.float64)
    if min(m, n) == 0:
        value = np.zeros(a.shape[:-2] + (n, m), a.dtype)
    elif hermitian:
        w, V = np.linalg.eigh(a)
        aw = np.abs(w)
        keep = aw > np.maximum(atol[..., None], rtol[..., None] * aw.max(-1, keepdims=True))
        winv = np.where(keep, 1.0 / np.where(keep, w, 1.0), 0.0).astype(w.dtype)
        value = (V * winv[..., None, :]) @ mH(V)
    else:
        U, S, Vh = svd_np(a, full_matrices=False)
        keep = S > np.maximum(atol[..., None], rtol[..., None] * S[..., :1])
        sinv = np.where(keep, 1.0 / np.where(keep, S, 1.0), 0.0).astype(S.dtype)
        value = mH(Vh) @ (sinv[..., :, None] * mH(U))
    if cplx:
        return _complex_decomp().pinv(A, value)
    return _record(value, Op.PINV, (A,), save_inputs=(0,), save_out=True)
