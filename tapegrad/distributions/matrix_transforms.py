"""Transforms onto matrices, as PyTorch's: ``CorrCholeskyTransform`` (unconstrained vectors
onto Cholesky factors of correlation matrices, LKJCholesky's support), ``LowerCholeskyTransform``
(square matrices onto lower triangular ones of positive diagonal) and
``PositiveDefiniteTransform`` (onto positive definite matrices)."""

import math

import numpy as np

from .. import creation, linalg, ops as O
from ..nn import functional as F
from . import constraints
from .transforms import _Unparameterised


def _tril_positions(n, diag):
    """The (row, column) mask of the entries on or below diagonal ``diag``, row by row."""
    arange = np.arange(n)
    return arange < arange.reshape(-1, 1) + (diag + 1)


def vec_to_tril_matrix(vec, diag=0):
    """The ``n x n`` matrix whose entries on and below diagonal ``diag`` are ``vec``'s last dim
    (row by row), the rest 0."""
    k = vec.shape[-1]
    n = (-(1 + 2 * diag) + ((1 + 2 * diag) ** 2 + 8 * k + 4 * abs(diag) * (diag + 1)) ** 0.5) / 2
    if abs(round(n) - n) > np.finfo(vec.dtype).eps:  # (PyTorch's misses sizes rounded down)
        raise ValueError(f"The size of last dimension is {k} which cannot be expressed as the "
                         "lower triangular part of a square D x D matrix.")
    n = round(n)
    mask = _tril_positions(n, diag)
    index = np.full((n, n), k)  # (k: a zero appended to the vector)
    index[mask] = np.arange(k)
    padded = O.cat([vec, creation.zeros(tuple(vec.shape[:-1]) + (1,), dtype=vec.dtype)], -1)
    return padded[..., index]


def tril_matrix_to_vec(mat, diag=0):
    """The entries of ``mat`` on and below diagonal ``diag``, row by row."""
    n = mat.shape[-1]
    if diag < -n or diag >= n:
        raise ValueError(f"diag ({diag}) provided is outside [{-n}, {n - 1}].")
    flat = np.flatnonzero(_tril_positions(n, diag))
    return mat.reshape(tuple(mat.shape[:-2]) + (n * n,))[..., flat]


class CorrCholeskyTransform(_Unparameterised):
    """A vector of ``D (D - 1) / 2`` reals onto the Cholesky factor of a ``D x D`` correlation
    matrix: ``tanh`` to (-1, 1), then stick breaking along each row so it has unit norm."""

    domain = constraints.real_vector
    codomain = constraints.corr_cholesky
    bijective = True

    def _call(self, x):
        eps = float(np.finfo(x.dtype).eps)
        x = O.tanh(x).clamp(-1 + eps, 1 - eps)
        r = vec_to_tril_matrix(x, diag=-1)
        # y = r sqrt(prod of (1 - r^2) of the entries before it in its row)
        z1m_cumprod_sqrt = (1 - r ** 2).sqrt().cumprod(-1)
        r = r + creation.eye(r.shape[-1], dtype=r.dtype)
        return r * F.pad(z1m_cumprod_sqrt[..., :-1], (1, 0), value=1)

    def _inverse(self, y):
        y_cumsum = 1 - (y * y).cumsum(-1)
        y_cumsum_shifted = F.pad(y_cumsum[..., :-1], (1, 0), value=1)
        t = tril_matrix_to_vec(y, diag=-1) / tril_matrix_to_vec(y_cumsum_shifted, diag=-1).sqrt()
        return (O.log1p(t) - O.log1p(-t)) / 2  # (atanh)

    def log_abs_det_jacobian(self, x, y):
        # of x onto the flattened strictly lower part of y (the two spaces' dims differ)
        y1m_cumsum = 1 - (y * y).cumsum(-1)
        stick_breaking_logdet = 0.5 * tril_matrix_to_vec(y1m_cumsum, diag=-2).log().sum(-1)
        tanh_logdet = -2 * (x + F.softplus(-2 * x) - math.log(2.0)).sum(-1)
        return stick_breaking_logdet + tanh_logdet

    def forward_shape(self, shape):
        if len(shape) < 1:
            raise ValueError("Too few dimensions on input")
        n = shape[-1]
        d = round((0.25 + 2 * n) ** 0.5 + 0.5)
        if d * (d - 1) // 2 != n:
            raise ValueError("Input is not a flattened lower-diagonal number")
        return tuple(shape[:-1]) + (d, d)

    def inverse_shape(self, shape):
        if len(shape) < 2:
            raise ValueError("Too few dimensions on input")
        if shape[-2] != shape[-1]:
            raise ValueError("Input is not square")
        d = shape[-1]
        return tuple(shape[:-2]) + (d * (d - 1) // 2,)


class LowerCholeskyTransform(_Unparameterised):
    """A square matrix onto a lower triangular one: its strictly lower part kept, ``exp`` of
    its diagonal (not bijective: the upper part is dropped)."""

    domain = constraints.independent(constraints.real, 2)
    codomain = constraints.lower_cholesky

    def _call(self, x):
        return x.tril(-1) + x.diagonal(dim1=-2, dim2=-1).exp().diag_embed()

    def _inverse(self, y):
        return y.tril(-1) + y.diagonal(dim1=-2, dim2=-1).log().diag_embed()


class PositiveDefiniteTransform(_Unparameterised):
    """A square matrix onto a positive definite one: ``L L^T``, ``L`` its
    ``LowerCholeskyTransform``."""

    domain = constraints.independent(constraints.real, 2)
    codomain = constraints.positive_definite

    def _call(self, x):
        x = LowerCholeskyTransform()(x)
        return x @ x.mT

    def _inverse(self, y):
        return LowerCholeskyTransform().inv(linalg.cholesky(y))

