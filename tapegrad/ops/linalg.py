"""Matrix products. Their backward runs in NumPy (BLAS): the compiled sweep pauses for them."""

import numpy as np

from ..tensor import _make, _wrap
from . import record as R
from .registry import Op, defop


def _sum_to_np(x, shape):
    """Sum broadcast batch dimensions of ``x`` back down to ``shape``."""
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape)
                                      if s == 1 and x.shape[lead + i] != 1)
    return x.sum(axis=axes).reshape(shape) if axes else x


def _matmul_vjp_np(g, inputs, out):
    """dA = g @ B^T, dB = A^T @ g, with 1-D operands promoted and batch dims summed."""
    A, B = inputs
    A2 = A[None, :] if A.ndim == 1 else A
    B2 = B[:, None] if B.ndim == 1 else B
    g2 = g
    if A.ndim == 1:
        g2 = np.expand_dims(g2, -2)
    if B.ndim == 1:
        g2 = np.expand_dims(g2, -1)
    gA = _sum_to_np(g2 @ np.swapaxes(B2, -1, -2), A2.shape).reshape(A.shape)
    gB = _sum_to_np(np.swapaxes(A2, -1, -2) @ g2, B2.shape).reshape(B.shape)
    return gA, gB


def _matmul_vjp(g, inputs, out):
    """The same rule in tapegrad ops, for re-taping."""
    from .movement import reshape, transpose, unsqueeze
    from .reduce import sum_to

    A, B = inputs
    A2 = unsqueeze(A, 0) if A.ndim == 1 else A
    B2 = unsqueeze(B, 1) if B.ndim == 1 else B
    g2 = g
    if A.ndim == 1:
        g2 = unsqueeze(g2, -2)
    if B.ndim == 1:
        g2 = unsqueeze(g2, -1)
    gA = reshape(sum_to(matmul(g2, transpose(B2, -1, -2)), A2.shape), A.shape)
    gB = reshape(sum_to(matmul(transpose(A2, -1, -2), g2), B2.shape), B.shape)
    return gA, gB


defop(Op.MATMUL, "matmul", "python", "MmBackward0", vjp=_matmul_vjp, vjp_np=_matmul_vjp_np)


def matmul(x, y):
    """Matrix product with NumPy's broadcasting rules (``x @ y``)."""
    x, y = R.as_tensor(x), R.as_tensor(y)
    xd, yd = x._arr(), y._arr()
    if xd.ndim == 0 or yd.ndim == 0:
        raise RuntimeError("both arguments to matmul need to be at least 1D, but they are "
                           f"{xd.ndim}D and {yd.ndim}D")
    try:
        value = _wrap(np.matmul(xd, yd))
    except ValueError:
        if xd.ndim == 1 and yd.ndim == 1:
            raise RuntimeError("inconsistent tensor size, expected tensor [%d] and src [%d] to have "
                               "the same number of elements, but got %d and %d elements "
                               "respectively" % (xd.size, yd.size, xd.size, yd.size)) from None
        sx = "x".join(map(str, xd.shape if xd.ndim == 2 else (-1, xd.shape[-1])))
        sy = "x".join(map(str, yd.shape if yd.ndim == 2 else (yd.shape[0], -1)))
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({sx} and {sy})") from None
    if not R.needs_grad(x, y):
        return _make(value)
    return R.python_result(value, Op.MATMUL, (x, y), save_inputs=(0, 1))


def dot(x, y):
    if x.ndim != 1 or y.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {x.ndim}D and {y.ndim}D tensors")
    return matmul(x, y)


def outer(x, y):
    from .movement import unsqueeze

    return matmul(unsqueeze(x, 1), unsqueeze(y, 0))
