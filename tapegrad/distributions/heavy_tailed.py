"""Heavy-tailed location-scale distributions: ``Cauchy`` and ``StudentT`` (its reparameterised
samples a normal over the root of a reparameterised ``Chi2`` draw)."""

import math

from .. import creation, ops as O
from ..torch_names.elementwise import digamma, lgamma
from . import constraints
from .continuous import LocScale, _draw
from .distribution import Distribution, broadcast_all
from .gamma import Chi2


class Cauchy(LocScale):
    """The Cauchy distribution of median ``loc`` and half width ``scale``."""

    mean = property(lambda self: creation.full(self._extended_shape(), float("nan"),
                                               dtype=self.loc.dtype))
    variance = property(lambda self: creation.full(self._extended_shape(), float("inf"),
                                                   dtype=self.loc.dtype))

    def rsample(self, sample_shape=()):
        u = _draw("uniform", self._extended_shape(sample_shape), self.loc)
        return self.loc + O.tan(math.pi * (u - 0.5)) * self.scale

    def log_prob(self, value):
        self._validate_sample(value)
        return -math.log(math.pi) - self.scale.log() - \
            O.log1p(((value - self.loc) / self.scale) ** 2)

    def cdf(self, value):
        self._validate_sample(value)
        return O.atan((value - self.loc) / self.scale) / math.pi + 0.5

    def icdf(self, value):
        return O.tan(math.pi * (value - 0.5)) * self.scale + self.loc

    def entropy(self):
        return math.log(4 * math.pi) + self.scale.log()


class StudentT(Distribution):
    """Student's t distribution of ``df`` degrees of freedom, location ``loc`` and scale
    ``scale``."""

    arg_constraints = {"df": constraints.positive, "loc": constraints.real,
                       "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, df, loc=0.0, scale=1.0, validate_args=None):
        self.df, self.loc, self.scale = broadcast_all(df, loc, scale)
        self._chi2 = Chi2(self.df)
        super().__init__(self.df.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = super().expand(batch_shape)
        new._chi2 = self._chi2.expand(batch_shape)
        return new

    mean = property(lambda self: O.where(self.df <= 1, float("nan"), self.loc))
    mode = property(lambda self: self.loc)

    @property
    def variance(self):
        df = self.df
        safe = O.where(df > 2, df, 3.0)  # (no inf or NaN on the branch not taken)
        finite = self.scale.pow(2) * safe / (safe - 2)
        return O.where(df > 2, finite, O.where(df > 1, float("inf"), float("nan")))

    def rsample(self, sample_shape=()):
        x = _draw("normal", self._extended_shape(sample_shape), self.df)
        z = self._chi2.rsample(sample_shape)
        return self.loc + self.scale * (x * O.rsqrt(z / self.df))

    def log_prob(self, value):
        self._validate_sample(value)
        y = (value - self.loc) / self.scale
        z = self.scale.log() + 0.5 * self.df.log() + 0.5 * math.log(math.pi) + \
            lgamma(0.5 * self.df) - lgamma(0.5 * (self.df + 1.0))
        return -0.5 * (self.df + 1.0) * O.log1p(y ** 2.0 / self.df) - z

    def entropy(self):
        df = self.df
        lbeta = lgamma(0.5 * df) + math.lgamma(0.5) - lgamma(0.5 * (df + 1))
        return self.scale.log() + 0.5 * (df + 1) * (digamma(0.5 * (df + 1)) -
                                                    digamma(0.5 * df)) + \
            0.5 * df.log() + lbeta
