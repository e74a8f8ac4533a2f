"""Univariate continuous distributions: ``Normal``, ``Uniform``, ``Exponential``, ``Laplace``,
with reparameterised samples (``rsample``) differentiable in their parameters."""

import math

import numpy as np

from .. import creation, ops as O
from ..special import erfinv
from . import constraints
from .distribution import Distribution, broadcast_all

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


def _draw(kind, shape, like):
    """Standard draws (``"normal"`` or ``"uniform"`` on [0, 1)) of ``like``'s dtype."""
    rng = creation.draws()
    if kind == "normal":
        values = np.asarray(rng.standard_normal(shape), like.dtype)
    else:  # (a float64 draw within 2**-25 of 1 rounds to 1.0 in float32: kept below 1, as
        # PyTorch's float32 draws are, or Exponential's draw is inf and Uniform's its high)
        dtype = np.dtype(like.dtype)
        values = np.asarray(rng.random(shape), dtype)
        if dtype.itemsize < 8:  # (float64's draws are below 1 already)
            values = np.minimum(values, np.nextafter(dtype.type(1), dtype.type(0)))
    return creation.tensor(values, device=like.device)


class LocScale(Distribution):
    """A real distribution of location ``loc`` and positive ``scale`` (Normal, Laplace, Cauchy)."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(self.loc.shape, validate_args=validate_args)

    mean = mode = property(lambda self: self.loc)


class Normal(LocScale):
    """The normal distribution N(loc, scale²)."""

    stddev = property(lambda self: self.scale)
    variance = property(lambda self: self.scale ** 2)

    def rsample(self, sample_shape=()):
        return self.loc + _draw("normal", self._extended_shape(sample_shape), self.loc) * \
            self.scale

    def log_prob(self, value):
        self._validate_sample(value)
        return -((value - self.loc) ** 2) / (2 * self.variance) - self.scale.log() - \
            _LOG_SQRT_2PI

    def cdf(self, value):
        self._validate_sample(value)
        return 0.5 * (1 + O.erf((value - self.loc) * self.scale.reciprocal() / math.sqrt(2)))

    def icdf(self, value):
        return self.loc + self.scale * erfinv(2 * value - 1) * math.sqrt(2)

    def entropy(self):
        return 0.5 + _LOG_SQRT_2PI + self.scale.log()


class Uniform(Distribution):
    """The uniform distribution on [low, high)."""

    has_rsample = True

    def __init__(self, low, high, validate_args=None):
        self.low, self.high = broadcast_all(low, high)
        super().__init__(self.low.shape, validate_args=validate_args)

    @property
    def arg_constraints(self):
        return {"low": constraints.less_than(self.high),
                "high": constraints.greater_than(self.low)}

    @property
    def support(self):  # (closed, as PyTorch's: log_prob(high) is -inf, not an error)
        return constraints.interval(self.low, self.high)

    mean = property(lambda self: (self.high + self.low) / 2)
    mode = property(lambda self: float("nan") * self.high)
    stddev = property(lambda self: (self.high - self.low) / 12 ** 0.5)
    variance = property(lambda self: (self.high - self.low).pow(2) / 12)

    def rsample(self, sample_shape=()):
        u = _draw("uniform", self._extended_shape(sample_shape), self.low)
        return self.low + u * (self.high - self.low)

    def log_prob(self, value):
        self._validate_sample(value)
        inside = ((self.low <= value) & (self.high > value)).to(self.low.dtype)
        return inside.log() - (self.high - self.low).log()

    def cdf(self, value):
        self._validate_sample(value)
        return ((value - self.low) / (self.high - self.low)).clamp(0, 1)

    def icdf(self, value):
        return value * (self.high - self.low) + self.low

    def entropy(self):
        return (self.high - self.low).log()


class Exponential(Distribution):
    """The exponential distribution of rate ``rate``."""

    arg_constraints = {"rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_all(rate)
        super().__init__(self.rate.shape, validate_args=validate_args)

    mean = property(lambda self: self.rate.reciprocal())
    mode = property(lambda self: creation.zeros(self.rate.shape, dtype=self.rate.dtype))
    stddev = property(lambda self: self.rate.reciprocal())
    variance = property(lambda self: self.rate.pow(-2))

    def rsample(self, sample_shape=()):
        u = _draw("uniform", self._extended_shape(sample_shape), self.rate)
        return -O.log1p(-u) / self.rate  # (1 - u in (0, 1]: a finite draw)

    def log_prob(self, value):
        self._validate_sample(value)
        return self.rate.log() - self.rate * value

    def cdf(self, value):
        self._validate_sample(value)
        return 1 - O.exp(-self.rate * value)

    def icdf(self, value):
        return -O.log1p(-value) / self.rate

    def entropy(self):
        return 1.0 - self.rate.log()


class Laplace(LocScale):
    """The Laplace distribution of location ``loc`` and scale ``scale``."""

    stddev = property(lambda self: 2 ** 0.5 * self.scale)
    variance = property(lambda self: 2 * self.scale.pow(2))

    def rsample(self, sample_shape=()):
        eps = float(np.finfo(self.loc.dtype).eps)
        u = _draw("uniform", self._extended_shape(sample_shape), self.loc) * (2 - eps) - 1 + eps
        return self.loc - self.scale * O.sign(u) * O.log1p(-u.abs())

    def log_prob(self, value):
        self._validate_sample(value)
        return -(2 * self.scale).log() - (value - self.loc).abs() / self.scale

    def cdf(self, value):
        self._validate_sample(value)
        z = value - self.loc
        return 0.5 - 0.5 * O.sign(z) * O.expm1(-z.abs() / self.scale)

    def icdf(self, value):
        term = value - 0.5
        return self.loc - self.scale * O.sign(term) * O.log1p(-2 * term.abs())

    def entropy(self):
        return 1 + (2 * self.scale).log()
