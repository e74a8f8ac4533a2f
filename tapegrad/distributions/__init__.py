"""``tapegrad.distributions``: probability distributions with ``torch.distributions``' API:
``sample`` / differentiable ``rsample``, ``log_prob``, ``entropy``, moments, ``cdf``/``icdf``,
argument and support validation, and ``kl_divergence``. Draws come from tapegrad's generator
(``tg.manual_seed``), not PyTorch's, so the samples differ; everything else is PyTorch's.

Example:
    >>> import tapegrad as tg
    >>> mu = tg.tensor(0.5, requires_grad=True)
    >>> d = tg.distributions.Normal(mu, 2.0)
    >>> d.log_prob(tg.tensor(1.0)).backward()
    >>> round(float(mu.grad), 6)      # (x - mu) / sigma^2
    0.125
"""

from . import constraints
from .continuous import Exponential, Laplace, Normal, Uniform
from .discrete import Bernoulli, Categorical
from .distribution import Distribution
from .kl import kl_divergence, register_kl
from .multivariate import Independent, MultivariateNormal

__all__ = ["Distribution", "Normal", "Uniform", "Exponential", "Laplace", "Bernoulli",
           "Categorical", "MultivariateNormal", "Independent", "kl_divergence", "register_kl",
           "constraints"]
