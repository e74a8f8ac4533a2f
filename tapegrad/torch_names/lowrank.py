"""Randomized low-rank SVD and PCA (``torch.svd_lowrank``, ``torch.pca_lowrank``): Halko,
Martinsson and Tropp's range finder (Algorithm 4.4: ``niter`` subspace iterations, QR after
each product) and Algorithm 5.1, as PyTorch writes them. The Gaussian test matrix comes from
tapegrad's generator (``tg.manual_seed``); the products, ``linalg.qr`` and ``linalg.svd`` are
differentiable ops, so the factors differentiate as those (PyTorch's same composition)."""

from .. import creation as _creation
from .. import linalg as _LA
from .. import ops as _ops
from ._common import _t, floating

__all__ = ["svd_lowrank", "pca_lowrank"]


def get_approximate_basis(A, q, niter=2, M=None):
    """An orthonormal ``(..., m, q)`` basis whose range approximates ``A - M``'s."""
    niter = 2 if niter is None else niter
    R = _creation.randn(A.shape[-1], q, dtype=floating(A).dtype)

    def product(left, right, minus):
        X = _ops.matmul(left, right)
        return X if minus is None else X - _ops.matmul(minus, right)

    Q = _LA.qr(product(A, R, M)).Q
    for _ in range(niter):
        Q = _LA.qr(product(A.mH, Q, None if M is None else M.mH)).Q
        Q = _LA.qr(product(A, Q, M)).Q
    return Q


def svd_lowrank(A, q=6, niter=2, M=None):
    """``(U, S, V)`` of a rank-``q`` approximation of ``A - M`` (batched), ``A ~ U diag(S)
    V^H``, from ``niter`` subspace iterations on a Gaussian sketch."""
    A = floating(A)
    q = 6 if q is None else q
    m, n = A.shape[-2:]
    if M is not None:
        M = _ops.expand(_t(M), A.shape)
    if m < n:  # (the algorithm assumes a tall matrix)
        A = A.mH
        M = None if M is None else M.mH
    Q = get_approximate_basis(A, q, niter=niter, M=M)
    B = _ops.matmul(Q.mH, A)
    if M is not None:
        B = B - _ops.matmul(Q.mH, M)
    U, S, Vh = _LA.svd(B, full_matrices=False)
    V = Vh.mH
    U = _ops.matmul(Q, U)
    return (V, S, U) if m < n else (U, S, V)


def pca_lowrank(A, q=None, center=True, niter=2):
    """``(U, S, V)`` of ``svd_lowrank`` of ``A`` with its column means removed (``center``):
    ``V``'s columns are the principal directions; ``q`` ``min(6, m, n)`` by default."""
    A = _t(A)
    m, n = A.shape[-2:]
    if q is None:
        q = min(6, m, n)
    elif not 0 <= q <= min(m, n):
        raise ValueError(f"q(={q}) must be non-negative integer and not greater than "
                         f"min(m, n)={min(m, n)}")
    if not niter >= 0:
        raise ValueError(f"niter(={niter}) must be non-negative integer")
    if not center:
        return svd_lowrank(A, q, niter=niter)
    A = floating(A)
    return svd_lowrank(A - _ops.mean(A, -2, keepdim=True), q, niter=niter)

