"""``linalg.cholesky_ex``: ``cholesky`` that reports LAPACK's ``info`` instead of raising.

A matrix that is not positive-definite gets LAPACK's partial factor, as PyTorch returns it: the
columns before the failing order factored, the failing diagonal entry holding the value that is
not positive (or NaN), the rest the input's triangle untouched (the unblocked ``potf2``, which
the LAPACK builds PyTorch ships run at small sizes; blocked builds leave other values in the
columns from the failing one on, which no caller may rely on).
"""

from collections import namedtuple

import numpy as np

from ..tensor import _make
from . import record as R
from .linalg_decomp import LinAlgError, cholesky, ex_error, not_positive_definite

CholeskyExResult = namedtuple("CholeskyExResult", ["L", "info"])


def partial_factor(a, k):
    """LAPACK's lower ``potf2`` output (lower triangle) for one matrix ``a`` whose leading
    minor of order ``k`` is its first that is not positive-definite."""
    j = k - 1
    L = np.tril(a)
    if j:
        L11 = np.linalg.cholesky(a[:j, :j])
        L[:j, :j] = L11
        # L21 L11^H = A21 for every row below the factored block
        L[j:, :j] = np.linalg.solve(L11, a[j:, :j].conj().T).conj().T
    L[j, j] = a[j, j].real - np.sum(np.abs(L[j, :j]) ** 2)
    return L


def cholesky_ex(A, *, upper=False, check_errors=False):
    """``(L, info)``: ``cholesky`` without raising for a matrix that is not positive-definite
    (``info`` > 0 then: the order of its first leading minor that is not, as LAPACK's, and
    ``L`` LAPACK's partial factor); one info per matrix of a batch, each matrix that succeeds
    its own differentiable factor."""
    A = R.as_tensor(A)
    batch = tuple(A.shape[:-2])
    try:
        return CholeskyExResult(cholesky(A, upper), _make(np.zeros(batch, np.int32)))
    except LinAlgError as e:
        if check_errors:
            raise ex_error(e) from None
    from .join import stack

    a = np.asarray(A.detach()._arr())
    if upper:  # LAPACK reads the upper triangle then: the lower one of A^H
        a = np.conj(np.swapaxes(a, -1, -2))
    infos = np.zeros(batch, np.int32)
    outs = []
    for i in np.ndindex(batch):
        try:
            outs.append(cholesky(A[i], upper))
        except LinAlgError:
            order = not_positive_definite(a[i])
            infos[i] = 1 if order is None else order[1]
            L = partial_factor(a[i], int(infos[i]))
            outs.append(_make(L.conj().T if upper else L))
    return CholeskyExResult(stack(outs).reshape(tuple(A.shape)), _make(infos))
