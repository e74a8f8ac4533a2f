"""``parametrizations.orthogonal`` as PyTorch's: a matrix (or batch) kept orthogonal (unitary)
as the image of its unconstrained original under the matrix exponential or Cayley map of a
skew-symmetric matrix, or a product of Householder reflections; with ``use_trivialization``
(the default) the image multiplies a ``base`` buffer set by ``right_inverse``. The forward is
composed of differentiable ops; ``right_inverse`` (no gradient) uses NumPy's QR."""

from enum import Enum, auto

import numpy as np

from ... import creation
from ... import linalg
from ... import ops as O
from ...tensor import Tensor, _make
from ..module import Module
from . import parametrize


class _OrthMaps(Enum):
    matrix_exp = auto()
    cayley = auto()
    householder = auto()


def _make_orthogonal(a):
    """The Q of ``a = QR`` (``a`` tall) with ``diag(R)`` made real and non-negative."""
    q, r = np.linalg.qr(a)
    d = np.diagonal(r, axis1=-2, axis2=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        sgn = np.where(d == 0, 0, d / np.abs(d))
    return q * sgn[..., None, :]


def _is_orthogonal(q):
    n, k = q.shape[-2:]
    eps = 10.0 * n * np.finfo(q.dtype).eps
    return np.allclose(np.swapaxes(q.conj(), -1, -2) @ q, np.eye(k), rtol=1e-5, atol=eps)


def _householder_reflectors(q):
    """LAPACK's geqrf of ``q`` (tall): the reflectors below the diagonal, the signs of R on it
    (flipped where a reflection is skipped), as PyTorch's right_inverse leaves them."""
    flat = q.reshape((-1,) + q.shape[-2:])
    out = np.empty_like(flat)
    for i, m in enumerate(flat):
        h, tau = np.linalg.qr(m, mode="raw")
        a = h.T.copy()
        diag = np.sign(np.diagonal(a)).copy()
        diag[tau == 0.0] *= -1
        np.fill_diagonal(a, diag)
        out[i] = a
    return out.reshape(q.shape)


class _Orthogonal(Module):
    def __init__(self, weight, orthogonal_map, *, use_trivialization=True):
        super().__init__()
        if weight.dtype.kind == "c" and orthogonal_map == _OrthMaps.householder:
            raise ValueError("The householder parametrization does not support complex tensors.")
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X):
        n, k = X.shape[-2], X.shape[-1]
        transposed = n < k
        if transposed:
            X, n, k = X.mT, k, n
        if self.orthogonal_map in (_OrthMaps.matrix_exp, _OrthMaps.cayley):
            X = X.tril()
            if n != k:  # embedded in a square matrix
                zeros = creation.zeros((n, n - k), dtype=X.dtype, device=X.device)
                X = O.cat([X, zeros.expand(*X.shape[:-2], -1, -1)], -1)
            A = X - X.mH  # skew-symmetric (skew-Hermitian)
            if self.orthogonal_map == _OrthMaps.matrix_exp:
                Q = linalg.matrix_exp(A)
            else:  # the Cayley retraction (I + A/2)(I - A/2)^{-1}
                eye = creation.eye(n, dtype=A.dtype, device=A.device)
                Q = linalg.solve(eye - 0.5 * A, eye + 0.5 * A)
            if n != k:
                Q = Q[..., :k]
        else:  # (real: the diagonal of X holds the signs, not differentiated)
            A = X.tril(-1)
            tau = 2.0 / (1.0 + (A * A).sum(dim=-2))
            Q = linalg.householder_product(A, tau)
            Q = Q * X.diagonal(dim1=-2, dim2=-1).int().unsqueeze(-2)
        if hasattr(self, "base"):
            Q = self.base @ Q
        return Q.mT if transposed else Q

    def right_inverse(self, Q):
        if tuple(Q.shape) != tuple(self.shape):
            raise ValueError(f"Expected a matrix or batch of matrices of shape {self.shape}. "
                             f"Got a tensor of shape {Q.shape}.")
        q = Q.detach().cpu().numpy()
        n, k = q.shape[-2:]
        transpose = n < k
        if transpose:
            q, n, k = np.swapaxes(q, -1, -2), k, n
        if not hasattr(self, "base"):
            if self.orthogonal_map in (_OrthMaps.cayley, _OrthMaps.matrix_exp):
                raise NotImplementedError("It is not possible to assign to the matrix "
                                          "exponential or the Cayley parametrizations when "
                                          "use_trivialization=False.")
            a = _householder_reflectors(q)
            a = np.swapaxes(a, -1, -2) if transpose else a
            return _make(np.ascontiguousarray(a)).to(Q.device)
        if n == k:
            q = q.copy() if _is_orthogonal(q) else _make_orthogonal(q)
        else:  # completed into a full n x n orthogonal matrix
            extra = creation.randn(*(q.shape[:-2] + (n, n - k)), dtype=q.dtype).numpy()
            q = _make_orthogonal(np.concatenate([q, extra], -1))
        self.base = _make(np.ascontiguousarray(q)).to(Q.device)
        # -Id: the Householder map sends zeros to Id (its diagonal holds the signs)
        neg_id = np.zeros(tuple(Q.shape), dtype=q.dtype)
        diag = np.arange(min(Q.shape[-2:]))
        neg_id[..., diag, diag] = -1.0
        return _make(neg_id).to(Q.device)


def orthogonal(module, name="weight", orthogonal_map=None, *, use_trivialization=True):
    """Keep ``module.<name>`` (a matrix or batch of them) orthogonal or unitary."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError("Expected a matrix or batch of matrices. "
                         f"Got a tensor of {weight.ndim} dimensions.")
    if orthogonal_map is None:
        square = weight.shape[-2] == weight.shape[-1]
        orthogonal_map = "matrix_exp" if square or weight.dtype.kind == "c" else "householder"
    orth_enum = getattr(_OrthMaps, orthogonal_map, None)
    if orth_enum is None:
        raise ValueError('orthogonal_map has to be one of "matrix_exp", "cayley", '
                         f'"householder". Got: {orthogonal_map}')
    orth = _Orthogonal(weight, orth_enum, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module
