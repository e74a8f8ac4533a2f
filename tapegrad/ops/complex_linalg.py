"""``solve``, ``inv``, ``det`` and ``slogdet`` of complex matrices, with PyTorch's backward
formulas (conjugate transposes where the real rules transpose).

* ``solve``: the complex ``solve`` record of ``ops/linalg_eig.py`` (``gB = solve(A^H, g)``,
  ``gA = -gB X^H``);
* ``inv``: ``solve(A, I)``, so its gradient is ``-X^H g X^H``;
* ``det``: ``gA = solve(A^H, g conj(det) I)`` (``g conj(det) A^{-H}``);
* ``slogdet``: ``logabsdet`` sends ``g A^{-H}`` (the real part of ``log det``, holomorphic with
  derivative ``A^{-T}``, conjugated); ``sign = det / |det|`` is composed of complex ops, so its
  gradient flows too (it is not piecewise constant as for real matrices).

A singular matrix has no inverse: the solves raise NumPy's ``LinAlgError`` wrapped in
PyTorch's message, as for real matrices. ``det`` has a derivative there, the adjugate, which
its first-order rule forms by the SVD where the solve fails; the re-taping one (``create_graph``)
by the determinants of the minors, differentiable again.
"""

import numpy as np

from . import complex as C
from . import record as R
from .linalg_det import _cofactor_np as cofactor
from .linalg_eig import _square
from .linalg_eig import solve as _csolve


def _eye(n):
    return np.eye(n) * (1 + 0j)


def _rule_det(ns, g, ins, out):
    A = ins[0]
    n = A.shape[-1]
    if 0 in A.shape:  # nothing to differentiate: PyTorch's gradient has no history
        return (_constant_zeros(A.shape, np.result_type(A.dtype, np.complex64), ns),)
    if n == 1:  # det is the one entry (derivative 1): PyTorch passes g on, no graph through A
        return (ns.reshape(g, tuple(g.shape) + (1, 1)),)
    rhs = (g * ns.conj(out))[..., None, None] * _eye(n)
    try:
        if ns is not C.NP and _near_singular(A, out):  # (a solve's derivative there is off)
            raise np.linalg.LinAlgError
        return (ns.solve(ns.conj(ns.mT(A)), rhs),)
    except np.linalg.LinAlgError:  # singular: the adjugate (PyTorch's SVD route), adj(A)^H
        if ns is C.NP:
            return (np.asarray(g)[..., None, None] * np.conj(cofactor(A)),)
        return (ns.reshape(g, tuple(g.shape) + (1, 1)) * ns.conj(_cofactor_by_minors(A)),)


def _near_singular(A, d):
    """Whether some |det| is within rounding of 0: below n eps times Hadamard's bound (the
    product of the rows' norms)."""
    a, d = np.asarray(A._arr()), np.abs(np.asarray(d._arr() if hasattr(d, "_arr") else d))
    bound = np.prod(np.linalg.norm(a, axis=-1), axis=-1)
    return bool(np.any(d <= a.shape[-1] * np.finfo(a.dtype).eps * bound))


def _cofactor_by_minors(A):
    """The cofactor matrix ``adj(A)^T`` of complex matrices as the signed determinants of
    their (n-1)x(n-1) minors (one batched det), differentiable again at a singular A, to
    every order (the minors' own det rule)."""
    n = A.shape[-1]
    keep = np.array([[k for k in range(n) if k != i] for i in range(n)], np.int64)
    minors = A[(Ellipsis, keep[:, None, :, None], keep[None, :, None, :])]  # (n, n, n-1, n-1)
    sign = (-1.0) ** np.add.outer(np.arange(n), np.arange(n))
    return det(minors) * R.as_tensor(sign.astype(np.finfo(A.dtype).dtype))


def _constant_zeros(shape, dtype, ns):
    from ..tensor import _make, _wrap

    z = np.zeros(shape, dtype)
    return z if ns is C.NP else _make(_wrap(z))


def _rule_logabsdet(ns, g, ins, out):
    A = ins[0]
    n = A.shape[-1]
    return (ns.solve(ns.conj(ns.mT(A)), g[..., None, None] * _eye(n)),)


C.RULES.update(det=_rule_det, logabsdet=_rule_logabsdet)


def _singular(name, A):
    from .linalg_decomp import singular_error

    return singular_error(name, np.asarray(R.as_tensor(A).detach()._arr()))


def solve(A, B):
    """``X`` with ``A X = B`` (``B`` a matrix or batch of matrices), either operand complex."""
    from .movement import expand
    from .shapes import broadcast_shapes

    A, B = R.as_tensor(A), R.as_tensor(B)
    _square(A, "solve")
    if B.ndim >= 2 and B.shape[-2] != A.shape[-1]:
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                           f"AX = B ({A.shape[-2]}x{A.shape[-1]} and "
                           f"{B.shape[-2]}x{B.shape[-1]})")
    if B.ndim >= 2 and A.ndim != B.ndim:
        # as many batch dims on both: the complex solve reads a B with one dim fewer than A
        # as NumPy's batch of vectors, not as the matrix it is here
        batch = broadcast_shapes(B.shape[:-2], A.shape[:-2])
        A, B = expand(A, batch + A.shape[-2:]), expand(B, batch + B.shape[-2:])
    try:
        return _csolve(A, B)
    except np.linalg.LinAlgError:
        raise _singular("solve", A) from None


def inv(A):
    """Inverse of complex square matrices: ``solve(A, I)``."""
    A = R.as_tensor(A)
    _square(A, "inv")
    C_eye = np.broadcast_to(np.eye(A.shape[-1], dtype=A.dtype), A.shape)
    try:
        return _csolve(A, R.as_tensor(np.ascontiguousarray(C_eye)))
    except np.linalg.LinAlgError:
        raise _singular("inv", A) from None


def det(A):
    """Determinant of complex square matrices."""
    A = R.as_tensor(A)
    _square(A, "det")
    return C.record(np.asarray(np.linalg.det(A._arr())), (A,), "det")


def slogdet(A):
    """``(sign, log|det|)`` of complex square matrices: ``sign`` complex, ``log|det|`` real."""
    from .elementwise import abs as _abs
    from .elementwise import div

    A = R.as_tensor(A)
    _square(A, "slogdet")
    _, logabs = np.linalg.slogdet(A._arr())
    d = det(A)
    sign = div(d, _abs(d))
    return sign, C.record(np.asarray(logabs), (A,), "logabsdet")
