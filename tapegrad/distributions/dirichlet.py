"""``Dirichlet`` over the simplex of its last dim, and ``Beta`` (a two-category Dirichlet, as
PyTorch's): reparameterised samples are normalised standard-gamma draws, differentiable in
the concentrations through ``incgamma.standard_gamma``."""

import numpy as np

from .. import creation, ops as O
from ..ops.record import as_tensor
from ..torch_names import digamma, lgamma  # (CUDA values through the host)
from . import constraints
from .distribution import Distribution, broadcast_all
from .incgamma import standard_gamma


class Dirichlet(Distribution):
    """The Dirichlet distribution of ``concentration`` (its last dim the categories)."""

    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration, validate_args=None):
        concentration = as_tensor(concentration)
        if concentration.ndim < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        super().__init__(concentration.shape[:-1], concentration.shape[-1:],
                         validate_args=validate_args)

    def rsample(self, sample_shape=()):
        g = standard_gamma(self.concentration.expand(self._extended_shape(sample_shape)))
        x = g / g.sum(-1, keepdim=True)
        # PyTorch's draws lie in [tiny, the float below 1]: with small concentrations a share
        # rounds to exactly 0 or 1, where log_prob would be infinite. The clamp moves the value
        # only (the gradient is the unclamped draw's). Looked for in NumPy on the host: a tensor
        # clamp and comparison added ~15 us to each rsample
        a = x.detach().cpu()._arr()
        tiny = np.finfo(a.dtype).tiny
        if a.size and (a.min() < tiny or a.max() >= 1):
            one = a.dtype.type(1)
            kept = np.clip(a, tiny, np.nextafter(one, one - one))
            x = x + creation.tensor(kept - a, device=x.device)
        return x

    def log_prob(self, value):
        self._validate_sample(value)
        c = self.concentration
        return O.xlogy(c - 1.0, value).sum(-1) + lgamma(c.sum(-1)) - lgamma(c).sum(-1)

    mean = property(lambda self: self.concentration / self.concentration.sum(-1, keepdim=True))

    @property
    def mode(self):
        c = self.concentration
        cm1 = (c - 1).clamp(min=0.0)
        below = (c < 1).all(-1)  # (no interior mode: the vertex of the largest entry)
        if not below.any():
            return cm1 / cm1.sum(-1, keepdim=True)
        mode = cm1 / O.where(below.unsqueeze(-1), 1.0, cm1.sum(-1, keepdim=True))
        k = c.shape[-1]
        vertex = creation.eye(k, dtype=c.dtype)[mode.detach().argmax(-1)]
        return O.where(below.unsqueeze(-1), vertex, mode)

    @property
    def variance(self):
        c = self.concentration
        c0 = c.sum(-1, keepdim=True)
        return c * (c0 - c) / (c0.pow(2) * (c0 + 1))

    def entropy(self):
        c = self.concentration
        k, a0 = c.shape[-1], c.sum(-1)
        return lgamma(c).sum(-1) - lgamma(a0) - (k - a0) * digamma(a0) - \
            ((c - 1.0) * digamma(c)).sum(-1)


class Beta(Distribution):
    """The beta distribution on [0, 1] of ``concentration1`` (alpha) and ``concentration0``
    (beta)."""

    arg_constraints = {"concentration1": constraints.positive,
                       "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1, concentration0, validate_args=None):
        c1, c0 = broadcast_all(concentration1, concentration0)
        self._dirichlet = Dirichlet(O.stack([c1, c0], -1), validate_args=validate_args)
        super().__init__(self._dirichlet._batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = super().expand(batch_shape, _instance)
        new._dirichlet = self._dirichlet.expand(batch_shape)
        return new

    concentration1 = property(lambda self: self._dirichlet.concentration[..., 0])
    concentration0 = property(lambda self: self._dirichlet.concentration[..., 1])
    mean = property(lambda self: self.concentration1 / (self.concentration1 +
                                                        self.concentration0))
    mode = property(lambda self: self._dirichlet.mode[..., 0])

    @property
    def variance(self):
        c1, c0 = self.concentration1, self.concentration0
        total = c1 + c0
        return c1 * c0 / (total.pow(2) * (total + 1))

    def rsample(self, sample_shape=()):
        return self._dirichlet.rsample(sample_shape).select(-1, 0)

    def log_prob(self, value):
        self._validate_sample(value)
        return self._dirichlet.log_prob(O.stack([value, 1.0 - value], -1))

    def entropy(self):
        return self._dirichlet.entropy()
