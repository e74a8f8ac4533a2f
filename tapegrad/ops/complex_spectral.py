"""``svd`` and ``eigh`` of complex matrices, with PyTorch's backward formulas.

Each decomposition records one complex record whose value packs its outputs side by side
(the real singular values / eigenvalues stored as complex numbers with a zero imaginary part);
the public outputs are slices of it, the real ones taken with ``real``. The rules run over the
NumPy namespace and the tapegrad one (``ops/complex.py``), so they re-tape to second order.

* ``svd`` (PyTorch's ``svd_backward``): with ``skew(X) = X - X^H``, ``E_ij = S_j^2 - S_i^2``,
  ``gA = U [(skew(U^H gU) S + S skew(V^H gV)) / E + diag(gS) + diag(skew(U^H gU)) / (2 S)] V^H``
  plus ``(I - U U^H) gU S^-1 V^H`` (m > n) or ``U S^-1 gV^H (I - V V^H)`` (m < n). The
  singular vectors are defined up to a phase ``e^{i phi}`` per pair; a loss that depends on it
  (``Im diag(U^H gU) != -Im diag(V^H gV)``) has no gradient and raises PyTorch's error.
* ``eigh`` (PyTorch's ``linalg_eig_backward`` for Hermitian matrices): ``gA = V [skewh(V^H gV)
  / E with the diagonal set to gL] V^H``, ``skewh(X) = (X - X^H) / 2``, ``E_ij = L_j - L_i``;
  raises when ``Im diag(V^H gV)`` is not ~0 (the loss depends on the eigenvectors' phases).

When the vectors' cotangents are zero (``svdvals``, ``eigvalsh``, or a loss of the values
alone) the gap terms are skipped: ``U diag(gS) V^H`` and ``V diag(gL) V^H`` are the
derivatives of the values even where they repeat. Otherwise a repeated value gives inf/nan, as
in PyTorch (no derivative exists there).
"""

import numpy as np

from ..tensor import Tensor, _make, _wrap
from . import complex as C
from . import record as R

SVD_PHASE_MSG = ("svd_backward: The singular vectors in the complex case are specified up to "
                 "multiplication by e^{i phi}. The specified loss function depends on this phase "
                 "term, making it ill-defined.")
EIGH_PHASE_MSG = ("linalg_eigh_backward: The eigenvectors in the complex case are specified up "
                  "to multiplication by e^{i phi}. The specified loss function depends on this "
                  "quantity, so it is ill-defined.")


# ---- helpers shared by the complex factorisations (NumPy arrays or tensors) ---------------

def mH(ns, x):
    """The conjugate transpose of the last two dims."""
    return ns.conj(ns.mT(x))


def is_zero(x):
    """Whether a cotangent is exactly zero (the vectors of a loss of the values alone). One
    that requires grad is not: forward mode differentiates the rule with respect to it (the
    double-vjp trick seeds zeros), so the terms it enters must stay."""
    if isinstance(x, Tensor):
        if x.requires_grad:
            return False
        x = x._data
    return not np.any(np.asarray(x))


def diagonal(x):
    """The diagonal of the last two (square) dims, batched."""
    return (x * np.eye(x.shape[-1])).sum(-1)


def pack(arrays, batch, dtype):
    arrays = [np.asarray(a, dtype) for a in arrays]
    # (sizes spelt out: -1 is ambiguous for an empty batch)
    return np.concatenate([a.reshape(batch + (int(np.prod(a.shape[len(batch):])),))
                           for a in arrays], -1)


def unpack(ns, p, shapes):
    """The slices of packed ``p`` reshaped to ``shapes`` (after p's batch dims)."""
    batch, out, o = tuple(p.shape[:-1]), [], 0
    for s in shapes:
        k = int(np.prod(s, dtype=np.int64))
        out.append(ns.reshape(p[..., o:o + k], batch + tuple(s)))
        o += k
    return out


def complex_dtype(A):
    return np.dtype(np.complex64) if A.dtype == np.complex64 else np.dtype(np.complex128)


# ---- svd ----------------------------------------------------------------------------------

def _svd_shapes(m, n, full):
    k = min(m, n)
    return ((m, m if full else k), (k,), (n if full else k, n))


def _rule_svd(ns, g, ins, out, m, n, full):
    k = min(m, n)
    U, S, Vh = unpack(ns, out, _svd_shapes(m, n, full))
    gU, gS, gVh = unpack(ns, g, _svd_shapes(m, n, full))
    S, gS = ns.real(S), ns.real(gS)
    if full:  # the extra columns of U / rows of Vh are any basis: no gradient (PyTorch's)
        U, gU, Vh, gVh = U[..., :k], gU[..., :k], Vh[..., :k, :], gVh[..., :k, :]
    if is_zero(gU) and is_zero(gVh):
        return ((U * gS[..., None, :]) @ Vh,)
    eye = np.eye(k)
    UhgU = mH(ns, U) @ gU
    UhgU = UhgU - mH(ns, UhgU)
    VhgV = Vh @ mH(ns, gVh)
    VhgV = VhgV - mH(ns, VhgV)
    dU = diagonal(UhgU)
    if ns is C.NP and not np.allclose(np.imag(dU), -np.imag(diagonal(VhgV)), rtol=1e-2,
                                      atol=1e-2):
        raise RuntimeError(SVD_PHASE_MSG)
    S2 = S * S
    E = S2[..., None, :] - S2[..., :, None] + eye
    ret = (UhgU * S[..., None, :] + S[..., :, None] * VhgV) / E
    ret = ret + eye * gS[..., None, :] + eye * (dU / (2 * S))[..., None, :]
    if m > n:
        gUs = gU / S[..., None, :]
        return ((U @ ret + gUs - U @ (mH(ns, U) @ gUs)) @ Vh,)
    if m < n:
        sgVh = gVh / S[..., :, None]
        return (U @ (ret @ Vh + sgVh - (sgVh @ mH(ns, Vh)) @ Vh),)
    return (U @ ret @ Vh,)


def svd(A, full_matrices=True):
    """``(U, S, Vh)`` of complex matrices (batches): ``U``, ``Vh`` complex, ``S`` real."""
    from .linalg_decomp import svd_np

    A = R.as_tensor(A)
    _matrices(A, "svd")
    m, n = A.shape[-2:]
    U, S, Vh = svd_np(A._arr(), full_matrices=full_matrices)
    if not C.needs_record(A):
        return _make(U), _make(_wrap(S)), _make(Vh)
    shapes = _svd_shapes(m, n, full_matrices)
    p = C.record(pack((U, S, Vh), A.shape[:-2], U.dtype), (A,), "svd", m=m, n=n,
                 full=bool(full_matrices))
    U, S, Vh = unpack(C._tg(), p, shapes)
    return U, C.real(S), Vh


def svdvals(A):
    """Singular values (real, descending) of complex matrices."""
    A = R.as_tensor(A)
    if not C.needs_record(A):
        from .linalg_decomp import svd_np

        _matrices(A, "svdvals")
        return _make(_wrap(svd_np(A._arr(), compute_uv=False)))
    return svd(A, False)[1]


# ---- eigh ---------------------------------------------------------------------------------

def _rule_eigh(ns, g, ins, out, n):
    L, V = unpack(ns, out, ((n,), (n, n)))
    gL, gV = unpack(ns, g, ((n,), (n, n)))
    L, gL = ns.real(L), ns.real(gL)
    Vh = mH(ns, V)
    if is_zero(gV):
        return ((V * gL[..., None, :]) @ Vh,)
    eye = np.eye(n)
    VhgV = Vh @ gV
    if ns is C.NP and not np.allclose(np.imag(diagonal(VhgV)), 0, rtol=1e-2, atol=1e-2):
        raise RuntimeError(EIGH_PHASE_MSG)
    VhgV = (VhgV - mH(ns, VhgV)) * 0.5
    E = L[..., None, :] - L[..., :, None] + eye
    ret = (VhgV / E) * (1.0 - eye) + eye * gL[..., None, :]
    return (V @ ret @ Vh,)


def eigh(A, UPLO="L"):
    """Eigenvalues (real, ascending) and eigenvectors of Hermitian matrices, reading the
    ``UPLO`` triangle; the gradient is PyTorch's (it treats A as Hermitian)."""
    from .linalg_decomp import _lapack

    A = R.as_tensor(A)
    _matrices(A, "eigh", square=True)
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    L, V = _lapack(np.linalg.eigh, A._arr(), UPLO=UPLO,
                   msg="linalg.eigh: The algorithm failed to converge because the input matrix "
                       "is ill-conditioned or has too many repeated eigenvalues.")
    if not C.needs_record(A):
        return _make(_wrap(L)), _make(V)
    n = A.shape[-1]
    p = C.record(pack((L, V), A.shape[:-2], V.dtype), (A,), "eigh", n=n)
    L, V = unpack(C._tg(), p, ((n,), (n, n)))
    return C.real(L), V


def eigvalsh(A, UPLO="L"):
    """Eigenvalues (real, ascending) of Hermitian matrices."""
    A = R.as_tensor(A)
    if not C.needs_record(A):
        _matrices(A, "eigvalsh", square=True)
        return _make(_wrap(np.linalg.eigvalsh(A._arr(), UPLO=UPLO)))
    return eigh(A, UPLO)[0]


def _matrices(A, name, square=False):
    if A.ndim < 2:
        raise RuntimeError(f"linalg.{name}: The input tensor A must have at least 2 dimensions.")
    if square and A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"linalg.{name}: A must be batches of square matrices, but they are "
                           f"{A.shape[-2]} by {A.shape[-1]} matrices")


C.RULES.update(svd=_rule_svd, eigh=_rule_eigh)
