"""``MultivariateNormal`` (by covariance, precision or Cholesky factor) and ``Independent``
(batch dims of a distribution read as event dims)."""

import math

import numpy as np

from .. import creation, linalg, ops as O
from ..ops.record import as_tensor
from ..torch_names.products import cholesky_solve
from . import constraints
from .continuous import _draw
from .distribution import Distribution


def given_matrix(covariance_matrix, precision_matrix, scale_tril, error):
    """``(name, tensor)`` of the one matrix given; ``error`` (PyTorch's exception type for the
    distribution) when not exactly one is."""
    given = [(name, m) for name, m in (("covariance_matrix", covariance_matrix),
                                       ("precision_matrix", precision_matrix),
                                       ("scale_tril", scale_tril)) if m is not None]
    if len(given) != 1:
        raise error("Exactly one of covariance_matrix or precision_matrix or scale_tril may be "
                    "specified.")
    name, matrix = given[0]
    return name, as_tensor(matrix)


def scale_tril_of(name, matrix):
    """The lower Cholesky factor of the covariance that ``matrix``, given as ``name``, sets."""
    return matrix if name == "scale_tril" else linalg.cholesky(matrix) \
        if name == "covariance_matrix" else _precision_to_scale_tril(matrix)


def derived_matrix(self, name):
    """``__getattr__`` of a distribution parameterised by ``_unbroadcasted_scale_tril``: the
    ``scale_tril``, ``covariance_matrix`` or ``precision_matrix`` not given, derived on first
    use (over the batch shape) and kept."""
    L = self.__dict__["_unbroadcasted_scale_tril"]
    shape = self._batch_shape + tuple(L.shape[-2:])
    if name == "scale_tril":
        value = L.expand(shape)
    elif name == "covariance_matrix":
        value = (L @ L.mT).expand(shape)
    elif name == "precision_matrix":
        eye = creation.eye(L.shape[-1], dtype=L.dtype, device=L.device)
        value = cholesky_solve(eye, L).expand(shape)
    else:
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")
    setattr(self, name, value)
    return value


class MultivariateNormal(Distribution):
    """N(loc, Σ) over the last dim, Σ given as ``covariance_matrix``, ``precision_matrix``
    or its lower Cholesky factor ``scale_tril``."""

    arg_constraints = {"loc": constraints.real_vector,
                       "covariance_matrix": constraints.positive_definite,
                       "precision_matrix": constraints.positive_definite,
                       "scale_tril": constraints.lower_cholesky}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None,
                 validate_args=None):
        loc = as_tensor(loc)
        if loc.ndim < 1:
            raise ValueError("loc must be at least one-dimensional.")
        name, matrix = given_matrix(covariance_matrix, precision_matrix, scale_tril, ValueError)
        if matrix.ndim < 2:
            raise ValueError(f"{name}{' matrix' if name == 'scale_tril' else ''} must be at "
                             "least two-dimensional, with optional leading batch dimensions")
        batch = _broadcast(tuple(matrix.shape[:-2]), tuple(loc.shape[:-1]))
        k = loc.shape[-1]
        self.__dict__[name] = matrix.expand(batch + (k, k))
        self.loc = loc.expand(batch + (k,))
        self._unbroadcasted_scale_tril = None  # (read by __getattr__ only after validation)
        super().__init__(batch, (k,), validate_args=validate_args)
        # factored after validation: a matrix that is not positive definite is reported in
        # PyTorch's words, not by the Cholesky factorisation
        self._unbroadcasted_scale_tril = scale_tril_of(name, matrix)

    __getattr__ = derived_matrix

    mean = mode = property(lambda self: self.loc)
    variance = property(lambda self: (self._unbroadcasted_scale_tril ** 2).sum(-1)
                        .expand(self._batch_shape + self._event_shape))

    def rsample(self, sample_shape=()):
        eps = _draw("normal", self._extended_shape(sample_shape), self.loc)
        return self.loc + (self._unbroadcasted_scale_tril @ eps.unsqueeze(-1)).squeeze(-1)

    def _half_log_det(self):
        return self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)

    def log_prob(self, value):
        self._validate_sample(value)
        diff = value - self.loc
        L = self._unbroadcasted_scale_tril
        shape = _broadcast(tuple(L.shape[:-2]), tuple(diff.shape[:-1]))
        k = self._event_shape[0]
        z = linalg.solve_triangular(L.expand(shape + (k, k)), diff.expand(shape + (k,))
                                    .unsqueeze(-1), upper=False).squeeze(-1)
        m = (z ** 2).sum(-1)
        return -0.5 * (k * math.log(2 * math.pi) + m) - self._half_log_det()

    def entropy(self):
        k = self._event_shape[0]
        h = 0.5 * k * (1.0 + math.log(2 * math.pi)) + self._half_log_det()
        return h.expand(self._batch_shape) if self._batch_shape else h


def _broadcast(a, b):
    return tuple(np.broadcast_shapes(a, b))


def _precision_to_scale_tril(P):
    """The lower Cholesky factor of P⁻¹ (PyTorch's flip trick: no inverse of P formed)."""
    Lf = linalg.cholesky(O.flip(P, (-2, -1)))
    L_inv = O.flip(Lf, (-2, -1)).mT
    eye = creation.eye(P.shape[-1], dtype=P.dtype, device=P.device)
    return linalg.solve_triangular(L_inv, eye.expand(L_inv.shape), upper=False)


class Independent(Distribution):
    """``base_distribution`` with its last ``reinterpreted_batch_ndims`` batch dims read as
    event dims: ``log_prob`` and ``entropy`` summed over them."""

    arg_constraints = {}

    def __init__(self, base_distribution, reinterpreted_batch_ndims, validate_args=None):
        n = reinterpreted_batch_ndims
        shape = base_distribution.batch_shape + base_distribution.event_shape
        if n > len(base_distribution.batch_shape):
            raise ValueError("Expected reinterpreted_batch_ndims <= len(base_distribution."
                             f"batch_shape), actual {n} vs "
                             f"{len(base_distribution.batch_shape)}")
        event_dim = n + len(base_distribution.event_shape)
        self.base_dist, self.reinterpreted_batch_ndims = base_distribution, n
        super().__init__(shape[: len(shape) - event_dim], shape[len(shape) - event_dim:],
                         validate_args=validate_args)

    has_rsample = property(lambda self: self.base_dist.has_rsample)

    @property
    def support(self):
        support, n = self.base_dist.support, self.reinterpreted_batch_ndims
        return constraints.independent(support, n) if n else support

    @property
    def has_enumerate_support(self):
        return self.reinterpreted_batch_ndims == 0 and self.base_dist.has_enumerate_support

    def enumerate_support(self, expand=True):
        if self.reinterpreted_batch_ndims > 0:
            raise NotImplementedError("Enumeration over cartesian product is not implemented")
        return self.base_dist.enumerate_support(expand=expand)

    mean = property(lambda self: self.base_dist.mean)
    mode = property(lambda self: self.base_dist.mode)
    variance = property(lambda self: self.base_dist.variance)

    def expand(self, batch_shape, _instance=None):
        batch_shape = tuple(batch_shape)
        n = self.reinterpreted_batch_ndims
        base = self.base_dist.expand(batch_shape + self._event_shape[:n] if n else
                                     batch_shape)
        return Independent(base, n, validate_args=False)

    def sample(self, sample_shape=()):
        return self.base_dist.sample(sample_shape)

    def rsample(self, sample_shape=()):
        return self.base_dist.rsample(sample_shape)

    def _summed(self, t):
        n = self.reinterpreted_batch_ndims
        return t.sum(tuple(range(-n, 0))) if n else t

    def log_prob(self, value):
        return self._summed(self.base_dist.log_prob(value))

    def entropy(self):
        return self._summed(self.base_dist.entropy())

    def __repr__(self):
        return f"Independent({self.base_dist!r}, {self.reinterpreted_batch_ndims})"
