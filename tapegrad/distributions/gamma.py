"""``Gamma`` (shape ``concentration``, ``rate``) and ``Chi2`` (``Gamma(df / 2, 1 / 2)``), with
reparameterised samples through ``incgamma.standard_gamma`` (implicit gradients)."""

import numpy as np

from .. import creation, ops as O
from ..ops.record import as_tensor
from ..torch_names import digamma, lgamma  # (CUDA values through the host)
from . import constraints
from .distribution import Distribution, broadcast_all
from .incgamma import gammainc, standard_gamma


class Gamma(Distribution):
    """The gamma distribution: density ``rate^a x^(a-1) e^(-rate x) / Gamma(a)``,
    ``a = concentration``."""

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = broadcast_all(concentration, rate)
        super().__init__(self.concentration.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = super().expand(batch_shape, _instance)
        new.concentration = self.concentration.expand(tuple(batch_shape))
        new.rate = self.rate.expand(tuple(batch_shape))
        return new

    mean = property(lambda self: self.concentration / self.rate)
    mode = property(lambda self: ((self.concentration - 1) / self.rate).clamp(min=0))
    variance = property(lambda self: self.concentration / self.rate.pow(2))

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        value = standard_gamma(self.concentration.expand(shape)) / self.rate.expand(shape)
        tiny = float(np.finfo(value.dtype).tiny)
        held = value.detach().cpu().numpy()
        low = held < tiny
        if low.any():  # (raised to the smallest normal number, off the graph: as PyTorch)
            value = value + creation.tensor(np.where(low, tiny - held, 0.0).astype(value.dtype),
                                            device=value.device)
        return value

    def log_prob(self, value):
        value = as_tensor(value).to(self.rate.dtype)
        self._validate_sample(value)
        c = self.concentration
        return O.xlogy(c, self.rate) + O.xlogy(c - 1, value) - self.rate * value - lgamma(c)

    def cdf(self, value):
        self._validate_sample(value)
        return gammainc(self.concentration, self.rate * value)

    def entropy(self):
        c = self.concentration
        return c - self.rate.log() + lgamma(c) + (1.0 - c) * digamma(c)


class Chi2(Gamma):
    """The chi-squared distribution of ``df`` degrees of freedom: ``Gamma(df / 2, 1 / 2)``."""

    arg_constraints = {"df": constraints.positive}

    def __init__(self, df, validate_args=None):
        super().__init__(0.5 * df, 0.5, validate_args=validate_args)

    df = property(lambda self: self.concentration * 2)
