"""``qr``, ``cholesky`` and ``pinv`` of complex matrices, with PyTorch's backward formulas
(``linalg_qr_backward``, ``cholesky_backward``, ``pinv_backward``), written once over the NumPy
and tapegrad namespaces (``ops/complex.py``) so they re-tape to second order.

* ``qr`` (LAPACK's R has a real diagonal), ``MH = gR R^H - Q^H gQ``:
  m >= n: ``gA = (gQ + Q syminvadj(triu(MH))) R^-H``, ``syminvadj(X) = X + X^H`` with the real
  part of the diagonal halved; m < n: ``gA = [Q trilImInvAdjSkew(-MH) R_1^-H, 0] + Q gR``,
  ``trilImInvAdjSkew(X) = tril(X - X^H)`` with the imaginary part of the diagonal halved and
  ``R_1`` the leading square block of R.
* ``cholesky`` ``A = L L^H``: ``gA = L^-H Phi(L^H gL) L^-1``, ``Phi(X) = (tril(X) + tril(X,
  -1)^H) / 2`` (it treats A as Hermitian).
* ``pinv``: PyTorch's formula for a matrix of constant rank (``linalg_decomp._pinv_grad`` with
  conjugate transposes).
"""

import numpy as np

from ..tensor import _make
from . import complex as C
from . import record as R
from .complex_spectral import complex_dtype, mH, pack, unpack

QR_COMPLETE_MSG = ("The QR decomposition is not differentiable when mode='complete' and "
                   "nrows > ncols.")


# ---- qr -----------------------------------------------------------------------------------

def _qr_shapes(m, n, mode):
    k = min(m, n)
    return ((m, m if mode == "complete" else k), (m if mode == "complete" else k, n))


def _rule_qr(ns, g, ins, out, m, n, mode):
    if mode == "complete" and m > n:
        raise RuntimeError(QR_COMPLETE_MSG)
    Q, Rm = unpack(ns, out, _qr_shapes(m, n, mode))
    gQ, gR = unpack(ns, g, _qr_shapes(m, n, mode))
    MH = gR @ mH(ns, Rm) - mH(ns, Q) @ gQ
    k = min(m, n)
    eye = np.eye(k)
    if m >= n:
        upper = MH * np.triu(np.ones((k, k)), 1)
        sym = upper + mH(ns, upper) + ns.real(MH) * eye
        return (mH(ns, ns.solve(Rm, mH(ns, gQ + Q @ sym))),)
    X = mH(ns, MH) - MH
    skew = X * np.tril(np.ones((k, k)), -1) + (ns.imag(MH) * -1j) * eye
    lead = mH(ns, ns.solve(Rm[..., :m], mH(ns, Q @ skew)))
    return (lead @ np.eye(m, n, dtype=lead.dtype) + Q @ gR,)


def qr(A, mode="reduced"):
    """``(Q, R)`` of complex matrices; ``mode`` 'reduced', 'complete' or 'r' (Q empty, R
    differentiable through the reduced QR, as for real matrices)."""
    A = R.as_tensor(A)
    if A.ndim < 2:
        raise RuntimeError("linalg.qr: The input tensor A must have at least 2 dimensions.")
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           "'reduced' (default), 'r', or 'complete'")
    a = A._arr()
    empty = _make(np.zeros((0,), a.dtype))
    if mode == "r":
        if not C.needs_record(A):
            return empty, _make(np.linalg.qr(a, mode="r"))
        return empty, qr(A, "reduced")[1]
    Q, Rm = np.linalg.qr(a, mode=mode)
    if not C.needs_record(A):
        return _make(Q), _make(Rm)
    m, n = A.shape[-2:]
    p = C.record(pack((Q, Rm), A.shape[:-2], complex_dtype(A)), (A,), "qr", m=m, n=n, mode=mode)
    return tuple(unpack(C._tg(), p, _qr_shapes(m, n, mode)))


# ---- cholesky -----------------------------------------------------------------------------

def _rule_cholesky(ns, g, ins, out):
    n = out.shape[-1]
    Lh = mH(ns, out)
    P = (Lh @ g) * np.tri(n)
    P = (P + mH(ns, P * np.tri(n, k=-1))) * 0.5
    return (mH(ns, ns.solve(Lh, mH(ns, ns.solve(Lh, P)))),)


def cholesky(A, upper=False):
    """Cholesky factor of Hermitian positive-definite complex matrices (``L``, or ``L^H``)."""
    from .linalg_decomp import check_positive_definite, not_positive_definite
    from .linalg_eig import _square

    A = R.as_tensor(A)
    _square(A, "cholesky")
    # upper: LAPACK reads the upper triangle: the lower one of A^H (recorded as A's factor)
    a = np.conj(np.swapaxes(A._arr(), -1, -2)) if upper else A._arr()
    try:
        L = np.linalg.cholesky(a)
    except np.linalg.LinAlgError:
        L = None
    # (NumPy's complex factor of a NaN input is NaN, without an error: LAPACK's info is not)
    check_positive_definite(a, not_positive_definite(a, L))
    L = C.record(L, (A,), "cholesky")
    if not upper:
        return L
    from .movement import transpose

    return C.conj(transpose(L, -2, -1))


# ---- pinv ---------------------------------------------------------------------------------

def _rule_pinv(ns, g, ins, out):
    from .linalg_decomp import _pinv_grad

    return (_pinv_grad(g, ins[0], out, lambda x: mH(ns, x)),)


def pinv(A, value):
    """Record the complex pseudo-inverse ``value`` of ``A`` (``linalg_decomp.pinv`` computes
    it, as for real matrices)."""
    return C.record(value, (A,), "pinv")


C.RULES.update(qr=_rule_qr, cholesky=_rule_cholesky, pinv=_rule_pinv)
