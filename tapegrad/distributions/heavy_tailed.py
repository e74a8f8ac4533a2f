"""Heavy-tailed distributions: ``Cauchy`` and ``StudentT`` (its reparameterised samples a normal
over the root of a reparameterised ``Chi2`` draw), and ``FisherSnedecor`` (a ratio of two
reparameterised gamma draws)."""

import math

import numpy as np

from .. import creation, ops as O
from ..torch_names.elementwise import digamma, lgamma
from . import constraints
from .continuous import LocScale, _draw
from .distribution import Distribution, broadcast_all
from .gamma import Chi2, Gamma


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
        new = super().expand(batch_shape, _instance)
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


class FisherSnedecor(Distribution):
    """The F distribution of ``df1`` and ``df2`` degrees of freedom: the ratio of two
    independent chi-squared draws, each over its degrees of freedom."""

    arg_constraints = {"df1": constraints.positive, "df2": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, df1, df2, validate_args=None):
        self.df1, self.df2 = broadcast_all(df1, df2)
        self._gamma1 = Gamma(self.df1 * 0.5, self.df1)
        self._gamma2 = Gamma(self.df2 * 0.5, self.df2)
        super().__init__(self.df1.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = super().expand(batch_shape, _instance)
        new._gamma1 = self._gamma1.expand(batch_shape)
        new._gamma2 = self._gamma2.expand(batch_shape)
        return new

    @property
    def mean(self):
        df2 = O.where(self.df2 <= 2, math.nan, self.df2)
        return df2 / (df2 - 2)

    @property
    def mode(self):
        mode = (self.df1 - 2) / self.df1 * self.df2 / (self.df2 + 2)
        return O.where(self.df1 <= 2, math.nan, mode)

    @property
    def variance(self):
        df2 = O.where(self.df2 <= 4, math.nan, self.df2)
        return 2 * df2.pow(2) * (self.df1 + df2 - 2) / (self.df1 * (df2 - 2).pow(2) * (df2 - 4))

    def rsample(self, sample_shape=()):
        # X1 ~ Gamma(df1 / 2, df1), X2 ~ Gamma(df2 / 2, df2): X1 / X2 ~ F(df1, df2)
        x1 = self._gamma1.rsample(sample_shape)
        x2 = self._gamma2.rsample(sample_shape)
        tiny = float(np.finfo(x2.dtype).tiny)
        return (x1 / x2.clamp(min=tiny)).clamp(min=tiny)

    def log_prob(self, value):
        self._validate_sample(value)
        ct1, ct2, ct3 = self.df1 * 0.5, self.df2 * 0.5, self.df1 / self.df2
        t1 = lgamma(ct1 + ct2) - lgamma(ct1) - lgamma(ct2)
        t2 = ct1 * ct3.log() + (ct1 - 1) * value.log()
        return t1 + t2 - (ct1 + ct2) * O.log1p(ct3 * value)
