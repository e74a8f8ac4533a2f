"""``VonMises``: the circular normal distribution on [-pi, pi). Its normaliser ``log I0`` is
PyTorch's polynomial fit (Abramowitz & Stegun 9.8.1-9.8.4), so densities match PyTorch's to
rounding, not SciPy's exact Bessel function; draws are NumPy's (no reparameterisation, as
PyTorch's)."""

import math

import numpy as np

from .. import creation, ops as O
from . import constraints
from .distribution import Distribution, broadcast_all

_I0_COEF_SMALL = [1.0, 3.5156229, 3.0899424, 1.2067492, 0.2659732, 0.360768e-1, 0.45813e-2]
_I0_COEF_LARGE = [0.39894228, 0.1328592e-1, 0.225319e-2, -0.157565e-2, 0.916281e-2,
                  -0.2057706e-1, 0.2635537e-1, -0.1647633e-1, 0.392377e-2]
_I1_COEF_SMALL = [0.5, 0.87890594, 0.51498869, 0.15084934, 0.2658733e-1, 0.301532e-2,
                  0.32411e-3]
_I1_COEF_LARGE = [0.39894228, -0.3988024e-1, -0.362018e-2, 0.163801e-2, -0.1031555e-1,
                  0.2282967e-1, -0.2895312e-1, 0.1787654e-1, -0.420059e-2]


def _eval_poly(y, coef):
    result = coef[-1]
    for c in reversed(coef[:-1]):  # (Horner's rule)
        result = c + y * result
    return result


def _log_modified_bessel_fn(x, order=0):
    """``log I_order(x)`` (order 0 or 1), for ``x > 0``."""
    small = _eval_poly((x / 3.75) ** 2, (_I0_COEF_SMALL, _I1_COEF_SMALL)[order])
    if order == 1:
        small = x.abs() * small
    large = x - 0.5 * x.log() + _eval_poly(3.75 / x, (_I0_COEF_LARGE, _I1_COEF_LARGE)[order]
                                           ).log()
    return O.where(x < 3.75, small.log(), large)


class VonMises(Distribution):
    """The von Mises distribution of mean direction ``loc`` and ``concentration`` (kappa):
    density ``exp(kappa cos(x - loc)) / (2 pi I0(kappa))``."""

    arg_constraints = {"loc": constraints.real, "concentration": constraints.positive}
    support = constraints.real
    has_rsample = False

    def __init__(self, loc, concentration, validate_args=None):
        self.loc, self.concentration = broadcast_all(loc, concentration)
        super().__init__(self.loc.shape, validate_args=validate_args)

    def log_prob(self, value):
        self._validate_sample(value)
        return self.concentration * O.cos(value - self.loc) - math.log(2 * math.pi) - \
            _log_modified_bessel_fn(self.concentration, order=0)

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        loc = np.broadcast_to(self.loc.detach().numpy().astype(np.float64), shape)
        kappa = np.broadcast_to(self.concentration.detach().numpy().astype(np.float64), shape)
        x = creation.draws().vonmises(loc, kappa, shape)
        # (wrapped into [-pi, pi) as PyTorch's draws are)
        x = np.mod(x + math.pi, 2 * math.pi) - math.pi
        return creation.tensor(np.asarray(x, self.loc.dtype))

    mean = mode = property(lambda self: self.loc)

    @property
    def variance(self):
        c = self.concentration
        return 1 - (_log_modified_bessel_fn(c, order=1) - _log_modified_bessel_fn(c, order=0)
                    ).exp()
