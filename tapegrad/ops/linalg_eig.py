"""Eigendecomposition of a general square matrix, and the complex ``solve`` its VJP needs.

``eig`` records one complex record whose value packs ``(eigenvalues, eigenvectors)`` (both
complex128, eigenvectors of unit norm as LAPACK returns them); the two outputs are slices of
it. Its VJP is PyTorch's ``linalg_eig_backward``:

    gA = V^{-H} (diag(gL) + (V^H gV - V^H V diag(Re diag(V^H gV))) / conj(E)) V^H,
    E[i, j] = L[j] - L[i] (1 on the diagonal), the diagonal of the bracket replaced by gL,

and, as PyTorch, it raises when ``Im diag(V^H gV)`` is not ~0: the loss then depends on the
eigenvectors' arbitrary phases and has no gradient. Repeated eigenvalues make ``E`` singular
(no derivative exists there; the result is inf/nan, as in PyTorch); a loss of the eigenvalues
alone (a zero ``gV``) takes PyTorch's ``V^{-H} diag(gL) V^H``, finite there. The real part of
``gA`` is the gradient of a real ``A``. Batches of matrices work throughout.
"""

import numpy as np

from . import complex as C
from . import record as R
from .complex_spectral import is_zero

PHASE_MSG = ("linalg_eig_backward: The eigenvectors in the complex case are specified up to "
             "multiplication by e^{i phi}. The specified loss function depends on this quantity, "
             "so it is ill-defined.")


def _rule_eig(ns, g, ins, out, n):
    gL, gV = g[..., :n], ns.reshape(g[..., n:], g.shape[:-1] + (n, n))
    L, V = out[..., :n], ns.reshape(out[..., n:], out.shape[:-1] + (n, n))
    Vh = ns.conj(ns.mT(V))
    if is_zero(gV):  # eigenvalues alone: no 1/(L[j] - L[i]) term, finite where values repeat
        return (ns.solve(Vh, gL[..., :, None] * Vh),)
    eye = np.eye(n)
    VhgV = Vh @ gV
    d = (VhgV * eye).sum(-1)  # the diagonal, batched
    if ns is C.NP and not np.allclose(np.imag(d), 0, rtol=1e-2, atol=1e-2):
        raise RuntimeError(PHASE_MSG)
    ret = VhgV - Vh @ (V * ns.real(d)[..., None, :])
    Lc = ns.conj(L)
    E = Lc[..., None, :] - Lc[..., :, None] + eye
    ret = (ret / E) * (1.0 - eye) + eye * gL[..., None, :]
    return (ns.solve(Vh, ret @ Vh),)


def _rule_solve(ns, g, ins, out):
    A = ins[0]
    Ah = ns.conj(ns.mT(A))
    if out.ndim == A.ndim - 1:  # one right-hand side vector
        gB = ns.solve(Ah, g[..., None])
        return (-(gB @ ns.conj(out[..., None, :])), gB[..., 0])
    gB = ns.solve(Ah, g)
    return (-(gB @ ns.conj(ns.mT(out))), gB)


C.RULES.update(eig=_rule_eig, solve=_rule_solve)
C.NP.solve = np.linalg.solve
C.NP.mT = lambda a: np.swapaxes(a, -1, -2)


def _tg_ns(ns):
    from .movement import transpose

    ns.solve = solve
    ns.mT = lambda t: transpose(t, -2, -1)


C.NAMESPACE_HOOKS.append(_tg_ns)


def _square(A, name):
    if A.ndim < 2:
        raise RuntimeError(f"linalg.{name}: The input tensor A must have at least 2 dimensions.")
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"linalg.{name}: A must be batches of square matrices, but they are "
                           f"{A.shape[-2]} by {A.shape[-1]} matrices")


def solve(A, B):
    """``A X = B`` for complex (or mixed) square ``A`` (batches) and ``B`` (vector or matrix)."""
    A, B = R.as_tensor(A), R.as_tensor(B)
    _square(A, "solve")
    a, b = A._arr(), B._arr()
    from .linalg_decomp import nan_where_nan

    vector = b.ndim == a.ndim - 1
    value = np.linalg.solve(a, b[..., None])[..., 0] if vector else np.linalg.solve(a, b)
    return C.record(nan_where_nan(value, a, vector), (A, B), "solve")


def eig(A):
    """``(eigenvalues, eigenvectors)`` of square matrices (batches), always complex (PyTorch's)."""
    A = R.as_tensor(A)
    if A.dtype.kind not in "fc":  # (PyTorch's words, before its shape checks)
        from .shapes import torch_dtype_name

        raise RuntimeError(f"Unknown Complex ScalarType for {torch_dtype_name(A.dtype)}")
    _square(A, "eig")
    if A.dtype == np.float16:  # (NumPy's TypeError otherwise)
        from .half_linalg import half_error

        raise half_error("eig")
    n = A.shape[-1]
    batch = A.shape[:-2]
    a = A._arr()
    if not np.isfinite(a).all():  # (a RuntimeError and NumPy's LinAlgError, as NumPy raises)
        from .linalg_decomp import LinAlgError

        raise LinAlgError("torch.linalg.eig: input tensor should not contain infs or NaNs.")
    w, v = np.linalg.eig(a)
    cdt = np.result_type(a.dtype, np.complex64)  # (float32 input: complex64, as PyTorch)
    packed = np.concatenate([w.astype(cdt).reshape(batch + (n,)),
                             v.astype(cdt).reshape(batch + (n * n,))], axis=-1)
    p = C.record(packed, (A,), "eig", n=n)
    return p[..., :n], p[..., n:].reshape(batch + (n, n))
