"""``tapegrad.special``: PyTorch's ``torch.special`` names for the special functions tapegrad
has, differentiable to any order (each is an op or a composition of ops).

Example:
    >>> import tapegrad as tg
    >>> x = tg.tensor([0.0, 1.0], requires_grad=True)
    >>> tg.special.ndtr(x).sum().backward()
    >>> x.grad
    tensor([0.3989, 0.2420])
"""

import math

from . import ops as _ops
from .torch_names import elementwise as _names
from .torch_names._common import floating as _floating

__all__ = ["digamma", "erf", "erfc", "erfinv", "exp2", "expit", "expm1", "gammaln", "log1p",
           "log_softmax", "logit", "logsumexp", "multigammaln", "ndtr", "polygamma", "psi",
           "round", "sinc", "softmax", "xlogy"]

digamma = psi = _names.digamma
erf, erfc, erfinv = _ops.erf, _ops.erfc, _names.erfinv
exp2, sinc, logit = _names.exp2, _names.sinc, _names.logit
expit = _ops.sigmoid
expm1, log1p = _ops.expm1, _ops.log1p
gammaln, polygamma = _names.lgamma, _names.polygamma
round = _names.round  # noqa: A001 (PyTorch's name)
xlogy = _ops.xlogy
logsumexp = _ops.logsumexp
_SQRT_HALF = math.sqrt(0.5)


def softmax(input, dim, dtype=None):
    """``softmax`` along ``dim`` (``dtype``: the input cast first, as PyTorch)."""
    x = _ops.record.as_tensor(input)
    return _ops.softmax(x if dtype is None else x.to(dtype), dim)


def log_softmax(input, dim, dtype=None):
    x = _ops.record.as_tensor(input)
    return _ops.log_softmax(x if dtype is None else x.to(dtype), dim)


def ndtr(input):
    """The standard normal distribution function ``(1 + erf(x / sqrt 2)) / 2``, computed as
    ``erfc(-x / sqrt 2) / 2`` (accurate in the lower tail, as PyTorch's)."""
    x = _floating(input)
    return _ops.erfc(x * -_SQRT_HALF) * 0.5


def multigammaln(input, p):
    """The log of the multivariate gamma function of dimension ``p``:
    ``p (p - 1) / 4 log(pi) + sum_j lgamma(x - j / 2)``, ``j = 0 .. p - 1``."""
    x = _floating(input)
    p = int(p)
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    total = _names.lgamma(x)
    for j in range(1, p):
        total = total + _names.lgamma(x - j / 2.0)
    return total + p * (p - 1) / 4.0 * math.log(math.pi)
