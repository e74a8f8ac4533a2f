"""``torch.norm`` (vector and matrix norms), ``torch.linalg``'s vander, tensorinv, tensorsolve and householder_product, and the deprecated top-level
``qr``, ``triangular_solve``, ``orgqr``, ``lu``, ``lu_unpack`` and ``lu_solve``, composed of
differentiable ops."""

import math
from collections import namedtuple

import numpy as np

from .. import linalg as _LA
from .. import ops as _ops
from ..grad_mode import is_grad_enabled
from ..ops.backward_ops import depends
from ..ops.linalg_decomp import not_float_error
from ..ops.node_names import name_node
from ..ops.norm_dtype import check_norm_dtype
from ..ops.record import compile_tracing
from ..ops.shapes import torch_dtype_name
from ..tensor import Tensor
from ._common import _t, const

QrResult = namedtuple("qr", ["Q", "R"])
TriangularSolveResult = namedtuple("triangular_solve", ["solution", "cloned_coefficient"])
LuUnpackResult = namedtuple("lu_unpack", ["P", "L", "U"])


def vander(x, N=None):
    """``x ** 0, x ** 1, ..., x ** (N - 1)`` along a new last dim (``N`` = ``x.shape[-1]`` by
    default); batched over x's leading dims."""
    x = _t(x)
    if x.dtype.kind == "b" or x.dtype == np.float16:  # (PyTorch's kernel has no form for them)
        raise RuntimeError("linalg.vander supports floating point, complex, and integer tensors, "
                           f"but got {torch_dtype_name(x.dtype)}")
    N = (x.shape[-1] if x.ndim else 0) if N is None else int(N)
    if x.ndim == 0 or N <= 1:
        raise RuntimeError("N must be greater than 1.")
    if x.dtype.kind in "iub":
        x = x.to(np.int64)
    # running products, as torch's cumprod: x**k is then bitwise torch's, and its derivative at
    # x = 0 has no 0 * inf
    cols, p = [const(np.ones(x.shape, x.dtype))], x
    for k in range(1, N):
        cols.append(p)
        if k + 1 < N:
            p = p * x
    return _ops.stack(cols, -1)


def tensorinv(A, ind=2):
    """The inverse of ``A`` as a map from its last dims to its first ``ind``: shape
    ``A.shape[ind:] + A.shape[:ind]``."""
    A = _t(A)
    if int(ind) <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    rows, cols = tuple(A.shape[:ind]), tuple(A.shape[ind:])
    if math.prod(cols) != math.prod(rows):
        raise RuntimeError("Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                           f"prod(self.shape[:ind]), but got {math.prod(cols)} != "
                           f"{math.prod(rows)}")
    square = _ops.reshape(A, (math.prod(rows), math.prod(cols)))
    return _ops.reshape(_LA.inv(square), cols + rows)


def tensorsolve(A, B, dims=None):
    """``X`` with ``tensordot(A, X, X.ndim) = B``: ``A``'s first ``B.ndim`` dims against ``B``,
    its others the shape of ``X`` (``dims``: ``A``'s dims moved to the end first)."""
    A, B = _t(A), _t(B)
    if dims is not None:
        from .shapes import movedim

        dims = [int(d) for d in dims]
        A = movedim(A, dims, list(range(A.ndim - len(dims), A.ndim)))
    rows, cols = tuple(A.shape[:B.ndim]), tuple(A.shape[B.ndim:])
    if math.prod(cols) != math.prod(rows):
        raise RuntimeError("Expected self to satisfy the requirement prod(self.shape[other.ndim:])"
                           f" == prod(self.shape[:other.ndim]), but got {math.prod(cols)} != "
                           f"{math.prod(rows)}")
    square = _ops.reshape(A, (math.prod(rows), math.prod(cols)))
    return _ops.reshape(_LA.solve(square, _ops.reshape(B, (math.prod(rows),))), cols)


def _check_householder(A, tau):
    name = "torch.linalg.householder_product"
    if A.ndim < 2:
        raise RuntimeError(f"{name}: input must have at least 2 dimensions.")
    if A.shape[-2] < A.shape[-1]:
        raise RuntimeError(f"{name}: input.shape[-2] must be greater than or equal to "
                           "input.shape[-1]")
    if tau.ndim != A.ndim - 1:
        raise RuntimeError(f"{name}: Expected tau to have one dimension less than input, but "
                           f"got tau.ndim equal to {tau.ndim} and input.ndim is equal to "
                           f"{A.ndim}")
    if A.shape[-1] < tau.shape[-1]:
        raise RuntimeError(f"{name}: input.shape[-1] must be greater than or equal to "
                           "tau.shape[-1]")
    if tuple(tau.shape[:-1]) != tuple(A.shape[:-2]):
        raise RuntimeError(f"{name}: Expected batch dimensions of tau to be equal to "
                           f"input.shape[:-2], but got {list(tau.shape[:-1])}")
    if tau.dtype != A.dtype:
        raise RuntimeError(f"{name}: tau dtype {torch_dtype_name(tau.dtype)} does not match "
                           f"input dtype {torch_dtype_name(A.dtype)}")
    if A.dtype.kind not in "fc":
        raise not_float_error("householder_product", A.dtype)


def householder_product(A, tau):
    """The first ``n`` columns of ``H_1 H_2 ... H_k``, ``H_i = I - tau_i v_i v_i^H`` with
    ``v_i`` column i of ``A`` below the diagonal and 1 on it (LAPACK's orgqr/ungqr). Entries
    of ``A`` on or above the diagonal are not read: their gradient is zero, as torch's."""
    A, tau = _t(A), _t(tau)
    _check_householder(A, tau)
    if A.dtype == np.float16:  # (PyTorch's orgqr kernel has no float16 form)
        from ..ops.half_linalg import half_error

        raise half_error("householder_product")
    deps = [t for t in (A, tau) if t.requires_grad]
    one = deps and is_grad_enabled() and A.dtype.kind != "c" and not compile_tracing() and \
        all(type(t) is Tensor and type(t._data) is np.ndarray for t in (A, tau))
    X = _householder_product(A, tau, not one or tau.numel())
    if one:
        # one node as PyTorch's LinalgHouseholderProductBackward0, its next functions (A, tau):
        # a record handing the composition's gradient on; with no reflector (tau empty) or
        # an empty batch it has none, and A and tau get None, as PyTorch's
        X = depends(X, deps, "LinalgHouseholderProductBackward0", True)
        name_node(X, "LinalgHouseholderProductBackward0",
                  pick=(1 if A.requires_grad else None, len(deps) if tau.requires_grad else None))
    return X


def _householder_product(A, tau, reflect=True):
    m, n = A.shape[-2:]
    k = tau.shape[-1]
    eye = np.eye(m, n, dtype=A.dtype)
    X = _ops.expand(const(eye), tuple(A.shape))
    if k == 0 or not reflect:
        return X
    # the reflectors picked with where (not a 0/1 product: an inf above the diagonal must not
    # turn into nan), then the implicit unit diagonal
    below = np.tril(np.ones((m, k), bool), -1)
    V = _ops.where(const(below), A[..., :, :k], 0.0) + const(eye[:, :k])
    cplx = A.dtype.kind == "c"
    # applied right to left to the m x n identity (as LAPACK): k products of m x n, not m x m
    for i in reversed(range(k)):
        v = V[..., :, i:i + 1]
        vh = _ops.transpose(v, -2, -1)
        if cplx:
            vh = _ops.conj(vh)
        t = _ops.unsqueeze(tau[..., i:i + 1], -1)
        X = X - _ops.matmul(v * t, _ops.matmul(vh, X))
    return X


def orgqr(input, tau):
    """``torch.orgqr``: ``linalg.householder_product``."""
    return householder_product(input, tau)


def qr(input, some=True):
    """``(Q, R)``: ``linalg.qr`` in mode 'reduced' (``some``) or 'complete'."""
    return QrResult(*_LA.qr(input, "reduced" if some else "complete"))


def triangular_solve(b, A, upper=True, transpose=False, unitriangular=False):
    """``(solution, cloned_coefficient)``: X with ``op(A) X = b`` (op: the transpose if
    ``transpose``), A's upper (or lower) triangle read; the coefficient is A broadcast to the
    batch shape (a copy, differentiable as one)."""
    b, A = _t(b), _t(A)
    for what, x in (("b", b), ("A", A)):
        if x.ndim < 2:
            raise RuntimeError(f"torch.triangular_solve: Expected {what} to have at least 2 "
                               f"dimensions, but it has {x.ndim} dimensions instead")
    T = _ops.transpose(A, -2, -1) if transpose else A
    X = _LA.solve_triangular(T, b, upper=bool(upper) != bool(transpose),
                             unitriangular=unitriangular)
    batch = tuple(np.broadcast_shapes(tuple(b.shape[:-2]), tuple(A.shape[:-2])))
    coefficient = _ops.expand(A, batch + tuple(A.shape[-2:])).clone()
    return TriangularSolveResult(X, coefficient)


def lu(A, pivot=True, get_infos=False):
    """``torch.lu``: ``(LU, pivots)`` (``(LU, pivots, infos)`` with ``get_infos``), a plain
    tuple as PyTorch's; ``linalg.lu_factor_ex`` without its check."""
    LU, pivots, info = _LA.lu_factor_ex(A, pivot=pivot)
    return (LU, pivots, info) if get_infos else (LU, pivots)


def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True):
    """``(P, L, U)`` of ``lu_factor``'s packed factors (``L``, ``U`` differentiable); a part
    not unpacked is an empty tensor, as PyTorch's."""
    from ..ops import linalg_lu

    LU, pivots = _t(LU_data), _t(LU_pivots)
    if LU.ndim < 2:
        raise RuntimeError("torch.lu_unpack: Expected tensor with 2 or more dimensions. Got "
                           f"size: {list(LU.shape)} instead")
    if pivots.dtype != np.int32:
        raise RuntimeError("torch.lu_unpack: LU_pivots is expected to be a contiguous tensor of "
                           "torch.int32 dtype.\nNote: this function is intended to be used "
                           "with the output produced by torch.linalg.lu_factor")
    m = LU.shape[-2]
    empty = const(np.zeros((0,), LU.dtype))
    L, U = linalg_lu.unpack_LU(LU) if unpack_data else (empty, empty)
    P = empty
    if unpack_pivots:
        p = np.asarray(pivots._arr())
        if p.size and (p.min() < 1 or p.max() > m):
            raise RuntimeError("pivots passed to lu_unpack must be between 1 and LU.size(-2) "
                               "inclusive.Did you properly pass the result of lu_factor?")
        P = const(linalg_lu.permutation_matrix_np(p, m, LU.dtype))
    return LuUnpackResult(P, L, U)


def lu_solve(b, LU_data, LU_pivots):
    """``torch.lu_solve``: ``linalg.lu_solve(LU_data, LU_pivots, b)`` (arguments reversed)."""
    return _LA.lu_solve(LU_data, LU_pivots, b)


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """``torch.norm``: a vector p-norm over ``dim`` (all elements by default; ``'fro'`` is the
    2-norm), or with a matrix order (``'nuc'``) the matrix norm over the two dims ``dim`` (the
    input's two dims when it is a matrix), as ``linalg.matrix_norm``."""
    if not isinstance(p, str) or p == "fro":
        if dtype is not None:  # (PyTorch's checks: torch.norm runs linalg.vector_norm)
            check_norm_dtype(_t(input), dtype, "vector_norm")
        return _ops.norm(input, p, dim, keepdim, dtype)
    x = _t(input)
    dims = tuple(range(x.ndim)) if dim is None else (dim,) if isinstance(dim, int) else \
        tuple(dim)
    return _LA.matrix_norm(x, p, dims, keepdim, dtype=dtype)


__all__ = ["norm", "orgqr", "qr", "triangular_solve", "lu", "lu_unpack", "lu_solve"]
