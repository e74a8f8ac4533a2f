"""Distributions over matrices: ``LKJCholesky`` (Cholesky factors of correlation matrices,
drawn by the onion method) and ``Wishart`` (positive definite matrices, reparameterised
through the Bartlett decomposition)."""

import math
import warnings

import numpy as np

from .. import creation, linalg, ops as O
from ..special import multigammaln
from ..torch_names import digamma, lgamma  # (with their CUDA round trip)
from ..torch_names.products import cholesky_solve
from . import constraints
from .continuous import _draw
from .distribution import Distribution, broadcast_all
from .exp_family import ExponentialFamily
from .gamma import Chi2
from .multivariate import _broadcast, derived_matrix, given_matrix, scale_tril_of

_LOG_2 = math.log(2)


class LKJCholesky(Distribution):
    """The LKJ distribution of ``dim x dim`` correlation matrices (density proportional to
    ``det(R) ** (concentration - 1)``), over their lower Cholesky factors."""

    arg_constraints = {"concentration": constraints.positive}
    support = constraints.corr_cholesky

    def __init__(self, dim, concentration=1.0, validate_args=None):
        if dim < 2:
            raise ValueError("Expected dim to be an integer greater than or equal to 2. "
                             f"Found dim={dim}.")
        self.dim = dim
        (self.concentration,) = broadcast_all(concentration)
        super().__init__(self.concentration.shape, (dim, dim), validate_args=validate_args)

    def sample(self, sample_shape=()):
        # the onion method (Lewandowski et al. 2009, 3.2) for the Cholesky factor: row i is
        # sqrt(y_i) times a uniform direction in its first i entries, y_i ~ Beta
        shape = self._extended_shape(sample_shape)
        rng = creation.draws()
        offset = np.concatenate([[0.0], np.arange(self.dim - 1.0)])
        marginal = self.concentration.detach().cpu().numpy().astype(np.float64) + \
            0.5 * (self.dim - 2)
        y = rng.beta(np.broadcast_to(offset + 0.5, shape[:-1]),
                     np.broadcast_to(marginal[..., None] - 0.5 * offset, shape[:-1]))[..., None]
        u = np.tril(rng.standard_normal(shape), -1)
        with np.errstate(invalid="ignore"):
            u = u / np.linalg.norm(u, axis=-1, keepdims=True)
        u[..., 0, :] = 0.0  # (the first row has no direction: 0 / 0)
        w = np.sqrt(y) * u
        # (clamped at the result dtype's tiny: float64's would round to a zero diagonal, outside
        # the support, once cast to float32)
        tiny = np.finfo(self.concentration.dtype).tiny
        diag = np.sqrt(np.maximum(1 - (w ** 2).sum(-1), tiny))
        w = w + diag[..., None] * np.eye(self.dim)
        return creation.tensor(w.astype(self.concentration.dtype),
                               device=self.concentration.device)

    def log_prob(self, value):
        # density of the factor L: prod_i L_ii ** (2 (concentration - 1) + dim - i), the
        # second part the Jacobian of L -> L L^T
        self._validate_sample(value)
        diag = value.diagonal(dim1=-1, dim2=-2)[..., 1:]
        order = creation.tensor(np.arange(2, self.dim + 1, dtype=value.dtype),
                                device=value.device)
        order = 2 * (self.concentration - 1).unsqueeze(-1) + self.dim - order
        unnormalized = (order * diag.log()).sum(-1)
        dm1 = self.dim - 1
        alpha = self.concentration + 0.5 * dm1
        denominator = lgamma(alpha) * dm1
        numerator = multigammaln(alpha - 0.5, dm1)
        # (the paper's pi constant is dim (dim - 1) / 4 log(pi); multigammaln's has
        # (dim - 1) (dim - 2) / 4: the difference added here)
        pi_constant = 0.5 * dm1 * math.log(math.pi)
        return unnormalized - (pi_constant + numerator - denominator)


def _mvdigamma(x, p):
    if not (x.detach().cpu().numpy() > (p - 1) / 2).all():
        raise AssertionError("Wrong domain for multivariate digamma function.")
    return digamma(x.unsqueeze(-1) - creation.tensor(np.arange(p, dtype=x.dtype) / 2,
                                                     device=x.device)).sum(-1)


class Wishart(ExponentialFamily):
    """The Wishart distribution of ``df`` degrees of freedom and scale matrix given as
    ``covariance_matrix``, ``precision_matrix`` or ``scale_tril``: ``sum_k x_k x_k^T``,
    ``x_k ~ N(0, covariance_matrix)``."""

    support = constraints.positive_definite
    has_rsample = True
    _mean_carrier_measure = 0

    @property
    def arg_constraints(self):
        return {"covariance_matrix": constraints.positive_definite,
                "precision_matrix": constraints.positive_definite,
                "scale_tril": constraints.lower_cholesky,
                "df": constraints.greater_than(self._event_shape[-1] - 1)}

    def __init__(self, df, covariance_matrix=None, precision_matrix=None, scale_tril=None,
                 validate_args=None):
        name, param = given_matrix(covariance_matrix, precision_matrix, scale_tril,
                                   AssertionError)
        if param.ndim < 2:
            raise ValueError("scale_tril must be at least two-dimensional, with optional "
                             "leading batch dimensions")
        if isinstance(df, (int, float)):
            batch = tuple(param.shape[:-2])
            self.df = creation.full((), float(df), dtype=param.dtype, device=param.device)
        else:
            batch = _broadcast(tuple(param.shape[:-2]), tuple(df.shape))
            self.df = df.expand(batch)
        p = param.shape[-1]
        df_values = self.df.detach().cpu().numpy()
        if (df_values <= p - 1).any():
            raise ValueError(f"Value of df={df} expected to be greater than ndim - 1 = {p - 1}.")
        self.__dict__[name] = param.expand(batch + (p, p))
        if (df_values < p).any():
            warnings.warn("Low df values detected. Singular samples are highly likely to occur "
                          "for ndim - 1 < df < ndim.", stacklevel=2)
        self._unbroadcasted_scale_tril = None  # (read by __getattr__ only after validation)
        super().__init__(batch, (p, p), validate_args=validate_args)
        self._unbroadcasted_scale_tril = scale_tril_of(name, param)

    __getattr__ = derived_matrix

    def expand(self, batch_shape, _instance=None):
        new = super().expand(batch_shape, _instance)
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril.expand(
            tuple(batch_shape) + self._event_shape)
        new.df = self.df.expand(tuple(batch_shape))
        return new

    def _df_view(self):
        return self.df.reshape(self._batch_shape + (1, 1))

    mean = property(lambda self: self._df_view() * self.covariance_matrix)

    @property
    def mode(self):
        factor = self.df - self._event_shape[-1] - 1
        factor = O.where(factor <= 0, math.nan, factor)
        return factor.reshape(self._batch_shape + (1, 1)) * self.covariance_matrix

    @property
    def variance(self):
        V = self.covariance_matrix
        d = V.diagonal(dim1=-2, dim2=-1)
        return self._df_view() * (V.pow(2) + d.unsqueeze(-1) * d.unsqueeze(-2))

    def _bartlett_sampling(self, sample_shape):
        # A = L N, N lower triangular: sqrt(chi2(df - i)) on the diagonal, standard normals
        # below it; A A^T the draw
        p = self._event_shape[-1]
        df = self.df.unsqueeze(-1) - creation.tensor(np.arange(p, dtype=self.df.dtype),
                                                     device=self.df.device)
        chi = Chi2(df.expand(self._batch_shape + (p,))).rsample(sample_shape).sqrt()
        chi = chi.clamp(min=float(np.finfo(chi.dtype).eps))
        lower = _draw("normal", tuple(sample_shape) + self._batch_shape + (p, p), self.df)
        noise = chi.diag_embed(dim1=-2, dim2=-1) + lower.tril(-1)
        chol = self._unbroadcasted_scale_tril @ noise
        return chol @ chol.mT

    def rsample(self, sample_shape=(), max_try_correction=None):
        # a draw that is not numerically positive definite is redrawn (up to
        # max_try_correction times), with a warning, as PyTorch's
        sample_shape = tuple(sample_shape)
        sample = self._bartlett_sampling(sample_shape)
        singular = ~self.support.check(sample)
        if singular.any():
            warnings.warn("Singular sample detected.", stacklevel=2)
            for _ in range(10 if max_try_correction is None else max_try_correction):
                redraw = self._bartlett_sampling(sample_shape)
                mask = singular[..., None, None]
                sample = O.where(mask, redraw, sample)
                singular = singular & ~self.support.check(redraw)
                if not singular.any():
                    break
        return sample

    def _half_log_det_terms(self):
        p = self._event_shape[-1]
        return p * _LOG_2 / 2 + self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1) \
            .log().sum(-1)

    def log_prob(self, value):
        self._validate_sample(value)
        nu, p = self.df, self._event_shape[-1]
        trace = cholesky_solve(value, self._unbroadcasted_scale_tril) \
            .diagonal(dim1=-2, dim2=-1).sum(-1)
        return -nu * self._half_log_det_terms() - multigammaln(nu / 2, p) + \
            (nu - p - 1) / 2 * linalg.slogdet(value).logabsdet - trace / 2

    @property
    def _natural_params(self):
        nu, p = self.df, self._event_shape[-1]
        return -self.precision_matrix / 2, (nu - p - 1) / 2

    def _log_normalizer(self, x, y):
        p = self._event_shape[-1]
        return (y + (p + 1) / 2) * (-linalg.slogdet(-2 * x).logabsdet + _LOG_2 * p) + \
            multigammaln(y + (p + 1) / 2, p)

    def entropy(self):
        nu, p = self.df, self._event_shape[-1]
        return (p + 1) * self._half_log_det_terms() + multigammaln(nu / 2, p) - \
            (nu - p - 1) / 2 * _mvdigamma(nu / 2, p) + nu * p / 2
