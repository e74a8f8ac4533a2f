"""``LowRankMultivariateNormal``: N(loc, W W^T + diag(D)) with ``W`` of m << n columns;
log densities through the m x m capacitance matrix ``I + W^T D^-1 W`` (Woodbury and the
matrix determinant lemma), never an n x n factorisation."""

import math

from .. import creation, linalg
from ..ops.record import as_tensor
from . import constraints
from .continuous import _draw
from .distribution import Distribution


def _batch_capacitance_tril(W, D):
    """The Cholesky factor of ``I + W^T D^-1 W``."""
    m = W.shape[-1]
    K = (W.mT / D.unsqueeze(-2)) @ W
    return linalg.cholesky(K + creation.eye(m, dtype=K.dtype))


def _batch_lowrank_logdet(W, D, capacitance_tril):
    """``log det(W W^T + D)`` by the matrix determinant lemma."""
    return 2 * capacitance_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1) + D.log().sum(-1)


def _batch_lowrank_mahalanobis(W, D, x, capacitance_tril):
    """``x^T (W W^T + D)^-1 x`` by the Woodbury identity."""
    Wt_Dinv_x = ((W.mT / D.unsqueeze(-2)) @ x.unsqueeze(-1)).squeeze(-1)
    term1 = (x.pow(2) / D).sum(-1)
    L = capacitance_tril
    shape = tuple(Wt_Dinv_x.shape[:-1])
    m = L.shape[-1]
    z = linalg.solve_triangular(L.expand(shape + (m, m)), Wt_Dinv_x.unsqueeze(-1),
                                upper=False)
    return term1 - (z ** 2).sum((-2, -1))


class LowRankMultivariateNormal(Distribution):
    """N(loc, cov_factor cov_factor^T + diag(cov_diag)) over the last dim."""

    arg_constraints = {"loc": constraints.real_vector,
                       "cov_factor": constraints.independent(constraints.real, 2),
                       "cov_diag": constraints.independent(constraints.positive, 1)}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, cov_factor, cov_diag, validate_args=None):
        from .. import broadcast_tensors

        loc, cov_factor, cov_diag = as_tensor(loc), as_tensor(cov_factor), as_tensor(cov_diag)
        if loc.ndim < 1:
            raise ValueError("loc must be at least one-dimensional.")
        event_shape = tuple(loc.shape[-1:])
        if cov_factor.ndim < 2:
            raise ValueError("cov_factor must be at least two-dimensional, with optional "
                             "leading batch dimensions")
        if tuple(cov_factor.shape[-2:-1]) != event_shape:
            raise ValueError(f"cov_factor must be a batch of matrices with shape "
                             f"{event_shape[0]} x m")
        if tuple(cov_diag.shape[-1:]) != event_shape:
            raise ValueError(f"cov_diag must be a batch of vectors with shape {event_shape}")
        try:
            loc_, self.cov_factor, cov_diag_ = broadcast_tensors(
                loc.unsqueeze(-1), cov_factor, cov_diag.unsqueeze(-1))
        except (RuntimeError, ValueError) as e:
            raise ValueError(f"Incompatible batch shapes: loc {tuple(loc.shape)}, cov_factor "
                             f"{tuple(cov_factor.shape)}, cov_diag {tuple(cov_diag.shape)}"
                             ) from e
        self.loc, self.cov_diag = loc_[..., 0], cov_diag_[..., 0]
        self._unbroadcasted_cov_factor = cov_factor
        self._unbroadcasted_cov_diag = cov_diag
        self._capacitance_tril = _batch_capacitance_tril(cov_factor, cov_diag)
        super().__init__(tuple(self.loc.shape[:-1]), event_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = super().expand(batch_shape, _instance)
        for name in ("scale_tril", "covariance_matrix", "precision_matrix"):
            new.__dict__.pop(name, None)  # (derived again, of the new batch)
        return new

    mean = mode = property(lambda self: self.loc)
    variance = property(lambda self: (self._unbroadcasted_cov_factor.pow(2).sum(-1) +
                                      self._unbroadcasted_cov_diag)
                        .expand(self._batch_shape + self._event_shape))

    def __getattr__(self, name):
        W = self.__dict__["_unbroadcasted_cov_factor"]
        D = self.__dict__["_unbroadcasted_cov_diag"]
        n = self._event_shape[0]
        shape = self._batch_shape + self._event_shape * 2
        eye = creation.eye(n, dtype=D.dtype)
        if name == "scale_tril":
            # D^1/2 chol(I + D^-1/2 W W^T D^-1/2): the factored matrix's eigenvalues are
            # at least 1 (well conditioned)
            d_sqrt = D.sqrt().unsqueeze(-1)
            Dinvsqrt_W = W / d_sqrt
            value = d_sqrt * linalg.cholesky(Dinvsqrt_W @ Dinvsqrt_W.mT + eye)
        elif name == "covariance_matrix":
            value = W @ W.mT + D.diag_embed()
        elif name == "precision_matrix":  # (Woodbury)
            A = linalg.solve_triangular(self._capacitance_tril, W.mT / D.unsqueeze(-2),
                                        upper=False)
            value = D.reciprocal().diag_embed() - A.mT @ A
        else:
            raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")
        value = value.expand(shape)
        setattr(self, name, value)
        return value

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        eps_W = _draw("normal", shape[:-1] + tuple(self.cov_factor.shape[-1:]), self.loc)
        eps_D = _draw("normal", shape, self.loc)
        return self.loc + (self._unbroadcasted_cov_factor @ eps_W.unsqueeze(-1)).squeeze(-1) + \
            self._unbroadcasted_cov_diag.sqrt() * eps_D

    def _log_det(self):
        return _batch_lowrank_logdet(self._unbroadcasted_cov_factor,
                                     self._unbroadcasted_cov_diag, self._capacitance_tril)

    def log_prob(self, value):
        self._validate_sample(value)
        M = _batch_lowrank_mahalanobis(self._unbroadcasted_cov_factor,
                                       self._unbroadcasted_cov_diag, value - self.loc,
                                       self._capacitance_tril)
        return -0.5 * (self._event_shape[0] * math.log(2 * math.pi) + self._log_det() + M)

    def entropy(self):
        H = 0.5 * (self._event_shape[0] * (1.0 + math.log(2 * math.pi)) + self._log_det())
        return H.expand(self._batch_shape) if self._batch_shape else H
