"""Eigendecomposition of a general square matrix, and the complex ``solve`` its VJP needs.

``eig`` records one complex record whose value packs ``(eigenvalues, eigenvectors)`` (both
complex128, eigenvectors of unit norm as LAPACK returns them); the two outputs are slices of
it. Its VJP is PyTorch's ``linalg_eig_backward``:

    gA = V^{-H} (diag(gL) + (V^H gV - V^H V diag(Re diag(V^H gV))) / conj(E)) V^H,
    E[i, j] = L[j] - L[i] (1 on the diagonal), the diagonal of the bracket replaced by gL,

and, as PyTorch, it raises when ``Im diag(V^H gV)`` is not ~0: the loss then depends on the
eigenvectors' arbitrary phases and has no gradient. Repeated eigenvalues make ``E`` singular
(no derivative exists there; the result is inf/nan, as in PyTorch). The real part of ``gA`` is
the gradient of a real ``A``.
"""

import numpy as np

from . import complex as C
from . import record as R

PHASE_MSG = ("linalg_eig_backward: The eigenvectors in the complex case are specified up to "
             "multiplication by e^{i phi}. The specified loss function depends on this quantity, "
             "so it is ill-defined.")


def _diag(ns, M, n):
    return ns.reshape(M, (n * n,))[:: n + 1]


def _rule_eig(ns, g, ins, out, n):
    gL, gV = g[:n], ns.reshape(g[n:], (n, n))
    L, V = out[:n], ns.reshape(out[n:], (n, n))
    Vh = ns.conj(V).T
    VhgV = Vh @ gV
    d = _diag(ns, VhgV, n)
    if ns is C.NP and not np.allclose(np.imag(d), 0, rtol=1e-2, atol=1e-2):
        raise RuntimeError(PHASE_MSG)
    eye = np.eye(n)
    ret = VhgV - Vh @ (V * ns.real(d)[None, :])
    Lc = ns.conj(L)
    E = Lc[None, :] - Lc[:, None] + eye
    ret = (ret / E) * (1.0 - eye) + eye * gL[None, :]
    return (ns.solve(Vh, ret @ Vh),)


def _rule_solve(ns, g, ins, out):
    A = ins[0]
    gB = ns.solve(ns.conj(A).T, g)
    X = out if out.ndim == 2 else out[:, None]
    gBm = gB if out.ndim == 2 else gB[:, None]
    return (-(gBm @ ns.conj(X).T), gB)


C.RULES.update(eig=_rule_eig, solve=_rule_solve)
C.NP.solve = np.linalg.solve


def _tg_ns(ns):
    ns.solve = solve


C.NAMESPACE_HOOKS.append(_tg_ns)


def _square(A, name):
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise NotImplementedError(f"tapegrad.linalg.{name}: one square matrix (2-D) is "
                                  f"supported, got shape {tuple(A.shape)}")


def solve(A, B):
    """``A X = B`` for complex (or mixed) square ``A`` (2-D) and ``B`` (1-D or 2-D)."""
    A, B = R.as_tensor(A), R.as_tensor(B)
    _square(A, "solve")
    return C.record(np.linalg.solve(A._arr(), B._arr()), (A, B), "solve")


def eig(A):
    """``(eigenvalues, eigenvectors)`` of a square matrix, always complex (PyTorch's)."""
    A = R.as_tensor(A)
    _square(A, "eig")
    n = A.shape[0]
    w, v = np.linalg.eig(A._arr())
    packed = np.concatenate([w.astype(np.complex128), v.astype(np.complex128).reshape(-1)])
    p = C.record(packed, (A,), "eig", n=n)
    return p[:n], p[n:].reshape(n, n)
