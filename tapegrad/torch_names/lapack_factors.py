"""``linalg.ldl_factor``, ``ldl_factor_ex``, ``ldl_solve`` and ``geqrf``: LAPACK's compact
factorizations as PyTorch returns them, without a derivative (PyTorch has none either: a
backward through them raises its error).

The LDL^T (LDL^H) factorization is LAPACK's Bunch-Kaufman ``sytrf`` (``hetrf``) of the lower
triangle, and ``ldl_solve`` its ``sytrs`` (``hetrs``), through SciPy's LAPACK wrappers:
tapegrad does not depend on SciPy at run time, so without it they raise NotImplementedError
naming the function. ``geqrf`` is NumPy's ``qr(mode='raw')`` (LAPACK's geqrf, transposed).
"""

from collections import namedtuple

import numpy as np

from ..autograd.function import Function
from ..grad_mode import is_grad_enabled
from ..ops import scatter_reduced as _scatter_reduced
from ..ops.linalg_decomp import LinAlgError
from ..ops.shapes import broadcast_shapes, torch_dtype_name
from ..tensor import _make
from ._common import _t

__all__ = ["geqrf"]

LdlResult = namedtuple("linalg_ldl_factor", ["LD", "pivots"])
LdlExResult = namedtuple("linalg_ldl_factor_ex", ["LD", "pivots", "info"])
GeqrfResult = namedtuple("geqrf", ["a", "tau"])


def _lapack(name, a, fn):
    try:
        from scipy.linalg import lapack
    except ImportError:
        raise NotImplementedError(f"tapegrad.linalg.{fn} needs SciPy (its LAPACK {name}), "
                                  "which is not installed") from None
    return lapack.get_lapack_funcs((name,), (a,))[0]


def _no_derivative(error, inputs, outs, name="NotImplemented"):
    """``outs`` (float tensors computed from ``inputs``) on the graph when one of the inputs
    requires grad, with a backward that raises ``error()``: PyTorch's NotImplementedError for
    geqrf (declared not_implemented), its RuntimeError 'derivative for aten::...' for the LDL
    functions (no formula at all). ``name``: the node's name."""
    if not (is_grad_enabled() and any(t.requires_grad for t in inputs)):
        return outs

    class _Op(Function):
        @staticmethod
        def forward(ctx, *args):
            return tuple(o.detach().clone() for o in outs)

        @staticmethod
        def backward(ctx, *grads):
            raise error()

    _Op.__name__ = _Op.__qualname__ = _Op._backward_name = name
    return _Op.apply(*inputs)


_scatter_reduced.no_derivative = _no_derivative  # (scatter's reduce=, a lower layer)


def _no_formula(aten):
    return lambda: RuntimeError(f"derivative for aten::{aten} is not implemented")


def _matrices(A, name, dtype_error):
    if A.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{name}: A must be batches of square matrices, but they are "
                           f"{A.shape[-2]} by {A.shape[-1]} matrices")
    if A.dtype.kind not in "fc" or A.dtype == np.float16:
        raise dtype_error


def ldl_factor_ex(A, *, hermitian=False, check_errors=False):
    """``(LD, pivots, info)``: LAPACK's ``sytrf`` (``hetrf`` when ``hermitian``) of A's lower
    triangle, ``info > 0`` where a diagonal block of D is exactly singular."""
    A = _t(A)
    name = "torch.linalg.ldl_factor_ex"
    kind = torch_dtype_name(A.dtype)
    _matrices(A, name, RuntimeError(f"{name}: Expected a floating point or complex tensor as "
                                    f"input. Got {kind}") if A.dtype.kind not in "fc" else
              NotImplementedError(f"\"ldl_factor_kernel_cpu\" not implemented for '{kind}'"))
    a = np.asarray(A.detach()._arr())
    batch, n = a.shape[:-2], a.shape[-1]
    LD = np.zeros(a.shape, a.dtype)
    piv = np.zeros(batch + (n,), np.int32)
    info = np.zeros(batch, np.int32)
    if a.size:
        f = _lapack("hetrf" if hermitian and a.dtype.kind == "c" else "sytrf", a, "ldl_factor")
        for i in np.ndindex(batch):
            lu, ipiv, inf = f(a[i], lower=1)
            LD[i], piv[i], info[i] = np.tril(lu), ipiv, inf
    if check_errors and info.any():
        raise LinAlgError(f"{name}: The factorization could not be completed because the "
                          "input's block diagonal D is singular.")
    (LD_t,) = _no_derivative(_no_formula("linalg_ldl_factor_ex"), (A,), (_make(LD),))
    return LdlExResult(LD_t, _make(piv), _make(info))


def ldl_factor(A, *, hermitian=False):
    """``(LD, pivots)`` of ``ldl_factor_ex``, raising where a factorization fails."""
    LD, pivots, _ = ldl_factor_ex(A, hermitian=hermitian, check_errors=True)
    return LdlResult(LD, pivots)


def _solve_operands(LD, pivots, B):
    """``ldl_solve``'s arrays broadcast over their common batch, after PyTorch's checks in its
    order and words (LAPACK would take mismatched pivots or rows without an error)."""
    name = "torch.linalg.ldl_solve"
    kind = torch_dtype_name(LD.dtype)
    _matrices(LD, name, RuntimeError(f"{name}: Expected a floating point or complex tensor as "
                                     f"input. Got {kind}") if LD.dtype.kind not in "fc" else
              NotImplementedError(f"\"ldl_solve_kernel_cpu\" not implemented for '{kind}'"))
    if B.dtype != LD.dtype:
        raise RuntimeError(f"Expected b and A to have the same dtype, but found b of type "
                           f"{torch_dtype_name(B.dtype)} and A of type "
                           f"{torch_dtype_name(LD.dtype)} instead.")
    if B.ndim < 2:
        raise IndexError(f"Dimension out of range (expected to be in range of [-{B.ndim}, "
                         f"{B.ndim - 1}], but got -2)")
    n = LD.shape[-1]
    if B.shape[-2] != n:
        raise RuntimeError(f"Incompatible matrix sizes for {name}: each A matrix is {n} by {n} "
                           f"but each b matrix is {B.shape[-2]} by {B.shape[-1]}")
    if tuple(pivots.shape) != tuple(LD.shape[:-1]):
        raise RuntimeError(f"{name}: Expected LD.shape[:-1] and pivots.shape to be the same, "
                           f"but got pivots with shape {list(pivots.shape)} instead")
    if pivots.dtype.kind not in "iu":
        raise RuntimeError(f"{name}: Expected pivots to be integers. Got "
                           f"{torch_dtype_name(pivots.dtype)}")
    ld, p, b = (np.asarray(x.detach()._arr()) for x in (LD, pivots, B))
    batch = broadcast_shapes(tuple(B.shape[:-2]), tuple(LD.shape[:-2]))
    return (np.broadcast_to(ld, batch + ld.shape[-2:]), np.broadcast_to(p, batch + p.shape[-1:]),
            np.broadcast_to(b, batch + b.shape[-2:]))


def ldl_solve(LD, pivots, B, *, hermitian=False):
    """``X`` with ``A X = B`` from ``ldl_factor``'s ``(LD, pivots)`` of A (LAPACK's sytrs)."""
    LD, pivots, B = _t(LD), _t(pivots), _t(B)
    ld, p, b = _solve_operands(LD, pivots, B)
    X = np.zeros(b.shape, np.result_type(ld.dtype, b.dtype))
    if X.size:
        f = _lapack("hetrs" if hermitian and ld.dtype.kind == "c" else "sytrs", ld, "ldl_solve")
        for i in np.ndindex(b.shape[:-2]):
            X[i] = f(ld[i], p[i].astype(np.int32), b[i], lower=1)[0]
    (X_t,) = _no_derivative(_no_formula("linalg_ldl_solve"), (LD, B), (_make(X),))
    return X_t


def geqrf(input):
    """``(a, tau)``: LAPACK's geqrf of each matrix (R on and above the diagonal, the
    Householder vectors below it, and their scalars)."""
    A = _t(input)
    if A.ndim < 2:
        raise RuntimeError("torch.geqrf: input must have at least 2 dimensions.")
    if A.dtype.kind not in "fc" or A.dtype == np.float16:
        raise NotImplementedError(f"\"geqrf_cpu\" not implemented for "
                                  f"'{torch_dtype_name(A.dtype)}'")
    a = np.asarray(A.detach()._arr())
    m, n = a.shape[-2:]
    h = np.zeros(a.shape, a.dtype)
    tau = np.zeros(a.shape[:-2] + (min(m, n),), a.dtype)
    if a.size:
        for i in np.ndindex(a.shape[:-2]):
            hi, ti = np.linalg.qr(a[i], mode="raw")
            h[i], tau[i] = hi.T, ti
    return GeqrfResult(*_no_derivative(
        lambda: NotImplementedError("the derivative for 'geqrf' is not implemented."), (A,),
        (_make(h), _make(tau))))
