"""Positive distributions with power-law shapes or tails: ``Weibull``, ``Pareto``,
``Kumaraswamy`` and ``InverseGamma`` (built, as PyTorch's, by pushing an exponential, uniform or
gamma draw through power and affine transforms), and ``GeneralizedPareto`` (by its quantile
function); all reparameterised."""

import math

from .. import creation, ops as O
from ..torch_names.elementwise import digamma, lgamma
from . import constraints
from .continuous import Exponential, Uniform, _draw
from .distribution import Distribution, broadcast_all
from .gamma import Gamma
from .transformed import _EULER, TransformedDistribution
from .transforms import AffineTransform, ExpTransform, PowerTransform


class Weibull(TransformedDistribution):
    """The Weibull distribution of ``scale`` (lambda) and ``concentration`` (k):
    ``scale * E ** (1 / k)``, ``E ~ Exponential(1)``."""

    arg_constraints = {"scale": constraints.positive, "concentration": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, scale, concentration, validate_args=None):
        self.scale, self.concentration = broadcast_all(scale, concentration)
        self.concentration_reciprocal = self.concentration.reciprocal()
        base = Exponential(creation.ones_like(self.scale), validate_args=validate_args)
        transforms = [PowerTransform(exponent=self.concentration_reciprocal),
                      AffineTransform(loc=0, scale=self.scale)]
        super().__init__(base, transforms, validate_args=validate_args)

    mean = property(lambda self: self.scale * lgamma(1 + self.concentration_reciprocal).exp())
    mode = property(lambda self: self.scale * ((self.concentration - 1) / self.concentration)
                    ** self.concentration.reciprocal())

    @property
    def variance(self):
        k1 = self.concentration_reciprocal
        return self.scale.pow(2) * (lgamma(1 + 2 * k1).exp() - (2 * lgamma(1 + k1)).exp())

    def entropy(self):
        k1 = self.concentration_reciprocal
        return _EULER * (1 - k1) + (self.scale * k1).log() + 1


class Pareto(TransformedDistribution):
    """The Pareto (type I) distribution of ``scale`` (its minimum) and ``alpha`` (the tail
    index): ``scale * exp(E)``, ``E ~ Exponential(alpha)``."""

    arg_constraints = {"alpha": constraints.positive, "scale": constraints.positive}
    has_rsample = True

    def __init__(self, scale, alpha, validate_args=None):
        self.scale, self.alpha = broadcast_all(scale, alpha)
        base = Exponential(self.alpha, validate_args=validate_args)
        super().__init__(base, [ExpTransform(), AffineTransform(loc=0, scale=self.scale)],
                         validate_args=validate_args)

    support = property(lambda self: constraints.greater_than_eq(self.scale))
    mode = property(lambda self: self.scale)

    @property
    def mean(self):
        a = self.alpha.clamp(min=1)  # (infinite at alpha <= 1)
        return a * self.scale / (a - 1)

    @property
    def variance(self):
        a = self.alpha.clamp(min=2)
        return self.scale.pow(2) * a / ((a - 1).pow(2) * (a - 2))

    def entropy(self):
        return (self.scale / self.alpha).log() + (1 + self.alpha.reciprocal())


def _kumaraswamy_moment(a, b, n):
    arg1 = 1 + n / a
    return b * (lgamma(arg1) + lgamma(b) - lgamma(arg1 + b)).exp()


class Kumaraswamy(TransformedDistribution):
    """The Kumaraswamy distribution on [0, 1] of ``concentration1`` (a) and
    ``concentration0`` (b): ``(1 - U ** (1 / b)) ** (1 / a)``, ``U ~ Uniform(0, 1)``."""

    arg_constraints = {"concentration1": constraints.positive,
                       "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1, concentration0, validate_args=None):
        self.concentration1, self.concentration0 = broadcast_all(concentration1, concentration0)
        c0 = self.concentration0
        base = Uniform(creation.full_like(c0, 0.0), creation.full_like(c0, 1.0),
                       validate_args=validate_args)
        transforms = [PowerTransform(exponent=c0.reciprocal()),
                      AffineTransform(loc=1.0, scale=-1.0),
                      PowerTransform(exponent=self.concentration1.reciprocal())]
        super().__init__(base, transforms, validate_args=validate_args)

    mean = property(lambda self: _kumaraswamy_moment(self.concentration1, self.concentration0,
                                                     1))
    variance = property(lambda self: _kumaraswamy_moment(self.concentration1,
                                                         self.concentration0, 2) -
                        self.mean.pow(2))

    @property
    def mode(self):
        c1, c0 = self.concentration1, self.concentration0
        log_mode = c0.reciprocal() * O.log1p(-c0) - O.log1p(-c0 * c1)  # (PyTorch's formula)
        return O.where((c0 < 1) | (c1 < 1), float("nan"), log_mode).exp()

    def entropy(self):
        t1 = 1 - self.concentration1.reciprocal()
        t0 = 1 - self.concentration0.reciprocal()
        h0 = digamma(self.concentration0 + 1) + _EULER
        return t0 + t1 * h0 - self.concentration1.log() - self.concentration0.log()


class InverseGamma(TransformedDistribution):
    """``1 / X``, ``X ~ Gamma(concentration, rate)``."""

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, concentration, rate, validate_args=None):
        base = Gamma(concentration, rate, validate_args=validate_args)
        neg_one = creation.full((), -1.0, dtype=base.rate.dtype)
        super().__init__(base, PowerTransform(neg_one), validate_args=validate_args)

    concentration = property(lambda self: self.base_dist.concentration)
    rate = property(lambda self: self.base_dist.rate)
    mode = property(lambda self: self.rate / (self.concentration + 1))

    @property
    def mean(self):
        c = self.concentration
        return O.where(c > 1, self.rate / (c - 1), math.inf)

    @property
    def variance(self):
        c = self.concentration
        return O.where(c > 2, self.rate.square() / ((c - 1).square() * (c - 2)), math.inf)

    def entropy(self):
        c = self.concentration
        return c + self.rate.log() + lgamma(c) - (1 + c) * digamma(c)


class GeneralizedPareto(Distribution):
    """The generalised Pareto distribution of ``loc``, ``scale`` and shape ``concentration``
    (xi): ``1 - (1 + xi z) ** (-1 / xi)`` its cdf, ``z = (x - loc) / scale`` (``1 - exp(-z)`` at
    xi = 0)."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive,
                       "concentration": constraints.real}
    has_rsample = True

    def __init__(self, loc, scale, concentration, validate_args=None):
        self.loc, self.scale, self.concentration = broadcast_all(loc, scale, concentration)
        super().__init__(self.loc.shape, validate_args=validate_args)

    def _safe_concentration(self):
        """``(xi == 0 as PyTorch's isclose reads it, xi with 1 in those places)``."""
        c = self.concentration
        eq_zero = c.abs() <= 1e-8
        return eq_zero, O.where(eq_zero, 1.0, c)

    def rsample(self, sample_shape=()):
        return self.icdf(_draw("uniform", self._extended_shape(sample_shape), self.loc))

    def log_prob(self, value):
        self._validate_sample(value)
        z = (value - self.loc) / self.scale
        eq_zero, c = self._safe_concentration()
        y = 1 / c + creation.ones_like(z)
        nonzero = O.where(y == 0, y, y * O.log1p(c * z))
        return -self.scale.log() - O.where(eq_zero, z, nonzero)

    def log_survival_function(self, value):
        self._validate_sample(value)
        z = (value - self.loc) / self.scale
        eq_zero, c = self._safe_concentration()
        return O.where(eq_zero, -z, -O.log1p(c * z) / c)

    def log_cdf(self, value):
        return O.log1p(-self.log_survival_function(value).exp())

    def cdf(self, value):
        return self.log_cdf(value).exp()

    def icdf(self, value):
        eq_zero, c = self._safe_concentration()
        logu = O.log1p(-value)
        nonzero = self.loc + self.scale / c * O.expm1(-c * logu)
        return O.where(eq_zero, self.loc - self.scale * logu, nonzero)

    mode = property(lambda self: self.loc)

    @property
    def mean(self):
        valid = self.concentration < 1
        c = O.where(valid, self.concentration, 0.5)
        return O.where(valid, self.loc + self.scale / (1 - c), math.nan)

    @property
    def variance(self):
        valid = self.concentration < 0.5
        c = O.where(valid, self.concentration, 0.25)
        return O.where(valid, self.scale ** 2 / ((1 - c) ** 2 * (1 - 2 * c)), math.nan)

    def entropy(self):
        return (self.scale.log() + self.concentration + 1).expand(self._batch_shape)

    @property
    def support(self):
        lower = self.loc
        upper = O.where(self.concentration < 0, lower - self.scale / self.concentration,
                        math.inf)
        return constraints.interval(lower, upper)

