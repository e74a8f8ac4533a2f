"""Distributions over counts: ``Poisson``, ``Binomial``, ``Geometric``, ``NegativeBinomial`` and
``Multinomial`` (no reparameterised samples; ``log_prob`` and ``entropy`` differentiable in the
parameters)."""

import math

import numpy as np

from .. import creation, ops as O
from ..nn import functional as F
from ..torch_names import lgamma  # (CUDA values through the host)
from . import constraints
from .discrete import Categorical, CategoricalBacked, ProbsOrLogits, _one_of
from .distribution import Distribution, broadcast_all


def _np(t):
    return t.detach().cpu().numpy()  # (of a CUDA parameter: the values on the host, drawn there)


class Poisson(Distribution):
    """The Poisson distribution of ``rate``: ``rate^k e^(-rate) / k!``."""

    arg_constraints = {"rate": constraints.nonnegative}
    support = constraints.nonnegative_integer

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_all(rate)
        super().__init__(self.rate.shape, validate_args=validate_args)

    mean = variance = property(lambda self: self.rate)
    mode = property(lambda self: self.rate.floor())

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        rate = np.broadcast_to(_np(self.rate), shape)
        # (np.asarray: a 0-d rate draws a Python int)
        return creation.tensor(np.asarray(creation.draws().poisson(rate), self.rate.dtype),
                               device=self.rate.device)

    def log_prob(self, value):
        self._validate_sample(value)
        rate, value = broadcast_all(self.rate, value)
        return O.xlogy(value, rate) - rate - lgamma(value + 1)


def _count_parameters(d, total_count, probs, logits):
    """Set ``d``'s total_count broadcast with its probs or logits (exactly one of them, in that
    parameter's dtype); the parameter set."""
    _one_of(probs, logits)
    if probs is not None:
        total_count, d.probs = broadcast_all(total_count, probs)
        param = d.probs
    else:
        total_count, d.logits = broadcast_all(total_count, logits)
        param = d.logits
    d.total_count = total_count.to(param.dtype)
    return param


class Binomial(ProbsOrLogits):
    """The number of successes in ``total_count`` trials of success probability ``probs``
    (or ``sigmoid(logits)``)."""

    arg_constraints = {"total_count": constraints.nonnegative_integer,
                       "probs": constraints.unit_interval, "logits": constraints.real}
    has_enumerate_support = True

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        param = _count_parameters(self, total_count, probs, logits)
        Distribution.__init__(self, param.shape, validate_args=validate_args)

    support = property(lambda self: constraints.integer_interval(0, self.total_count))
    param_shape = property(lambda self: tuple(self.total_count.shape))
    mean = property(lambda self: self.total_count * self.probs)
    mode = property(lambda self: O.minimum(((self.total_count + 1) * self.probs).floor(),
                                           self.total_count))
    variance = property(lambda self: self.total_count * self.probs * (1 - self.probs))

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        n = np.broadcast_to(_np(self.total_count), shape).astype(np.int64)
        p = np.broadcast_to(_np(self.probs), shape)
        return creation.tensor(np.asarray(creation.draws().binomial(n, p), self.probs.dtype))

    def log_prob(self, value):
        self._validate_sample(value)
        n, logits = self.total_count, self.logits
        normalize = n * ((logits.clamp(min=0) + logits - logits.clamp(max=0)) / 2) + \
            n * O.log1p(O.exp(-logits.abs())) - lgamma(n + 1)
        return value * logits - lgamma(value + 1) - lgamma(n - value + 1) - normalize

    def _homogeneous_count(self, what):
        n = _np(self.total_count)
        if n.size and n.min() != n.max():
            raise NotImplementedError(f"Inhomogeneous total count not supported by `{what}`.")
        return int(n.max()) if n.size else 0

    def enumerate_support(self, expand=True):
        """The counts 0 .. total_count along a new first dim (one total_count for all)."""
        k = self._homogeneous_count("enumerate_support") + 1
        dtype = self.total_count.dtype
        values = np.arange(k, dtype=dtype).reshape((k,) + (1,) * len(self._batch_shape))
        if expand:
            values = np.broadcast_to(values, (k,) + self._batch_shape)
        return creation.tensor(np.ascontiguousarray(values))

    def entropy(self):
        self._homogeneous_count("entropy")
        log_prob = self.log_prob(self.enumerate_support(False))
        return -(log_prob.exp() * log_prob).sum(0)


class Geometric(ProbsOrLogits):
    """The number of failures before the first success, each trial a success with
    probability ``probs`` (or ``sigmoid(logits)``)."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, probs=None, logits=None, validate_args=None):
        super().__init__(probs, logits, validate_args)
        if self._validate_args and probs is not None:
            ok = _np(self.probs) > 0
            if not ok.all():
                raise ValueError(
                    f"Expected parameter probs ({type(self.probs).__name__} of shape "
                    f"{tuple(self.probs.shape)}) of distribution {self!r} to be positive but "
                    f"found invalid values:\n{creation.tensor(_np(self.probs)[~ok])}")

    mean = property(lambda self: 1.0 / self.probs - 1.0)
    mode = property(lambda self: creation.zeros(self.probs.shape, dtype=self.probs.dtype))
    variance = property(lambda self: (1.0 / self.probs - 1.0) / self.probs)

    def sample(self, sample_shape=()):
        p = _np(self.probs)
        tiny = np.finfo(p.dtype).tiny
        u = np.maximum(creation.draws().random(self._extended_shape(sample_shape)), tiny)
        with np.errstate(divide="ignore"):
            return creation.tensor(np.floor(np.log(u) / np.log1p(-p)).astype(p.dtype))

    def log_prob(self, value):
        self._validate_sample(value)
        value, probs = broadcast_all(value, self.probs)
        probs = O.where((probs == 1) & (value == 0), 0.0, probs)  # (0 log 0 read as 0)
        return value * O.log1p(-probs) + self.probs.log()

    def entropy(self):
        return F.binary_cross_entropy_with_logits(self.logits, self.probs,
                                                  reduction="none") / self.probs


class NegativeBinomial(ProbsOrLogits):
    """The number of successes before ``total_count`` failures, each trial a success with
    probability ``probs`` (or ``sigmoid(logits)``): a Poisson of Gamma-distributed rate."""

    arg_constraints = {"total_count": constraints.greater_than_eq(0),
                       "probs": constraints.half_open_interval(0.0, 1.0),
                       "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, total_count, probs=None, logits=None, validate_args=None):
        param = _count_parameters(self, total_count, probs, logits)
        Distribution.__init__(self, param.shape, validate_args=validate_args)

    param_shape = property(lambda self: tuple(self.total_count.shape))
    mean = property(lambda self: self.total_count * self.logits.exp())
    mode = property(lambda self: ((self.total_count - 1) * self.logits.exp()).floor()
                    .clamp(min=0.0))
    variance = property(lambda self: self.mean / O.sigmoid(-self.logits))

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        rng = creation.draws()
        n = np.broadcast_to(_np(self.total_count), shape)
        rate = rng.gamma(n, np.broadcast_to(np.exp(_np(self.logits)), shape))
        return creation.tensor(np.asarray(rng.poisson(rate), self.total_count.dtype))

    def log_prob(self, value):
        self._validate_sample(value)
        n, logits = self.total_count, self.logits
        unnormalized = n * F.logsigmoid(-logits) + value * F.logsigmoid(logits)
        normalization = -lgamma(n + value) + lgamma(1.0 + value) + lgamma(n)
        # (no failures needed and none seen: probability 1, though lgamma(0) is infinite)
        normalization = O.where(n + value == 0.0, 0.0, normalization)
        return unnormalized - normalization


class Multinomial(CategoricalBacked):
    """Counts over the categories (the last dim of ``probs`` or ``logits``) of
    ``total_count`` independent ``Categorical`` draws."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        if not isinstance(total_count, int):
            raise NotImplementedError("inhomogeneous total_count is not supported")
        self.total_count = total_count
        self._categorical = Categorical(probs=probs, logits=logits)
        self._binomial = Binomial(total_count=total_count, probs=self.probs)
        super().__init__(self._categorical.batch_shape, self._categorical.param_shape[-1:],
                         validate_args=validate_args)

    support = property(lambda self: constraints.multinomial(self.total_count))
    probs = property(lambda self: self._categorical.probs)
    logits = property(lambda self: self._categorical.logits)
    param_shape = property(lambda self: self._categorical.param_shape)
    mean = property(lambda self: self.probs * self.total_count)
    variance = property(lambda self: self.total_count * self.probs * (1 - self.probs))

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        p = np.asarray(_np(self.probs), np.float64)
        p = np.broadcast_to(p / p.sum(-1, keepdims=True), shape)
        counts = creation.draws().multinomial(self.total_count, p)
        return creation.tensor(np.asarray(counts, self.probs.dtype))

    def entropy(self):
        n = self.total_count
        term1 = n * self._categorical.entropy() - math.lgamma(n + 1)
        support = self._binomial.enumerate_support(expand=False)[1:]
        binomial_probs = self._binomial.log_prob(support).exp()
        weights = lgamma(support + 1)
        return term1 + (binomial_probs * weights).sum((0, -1))

    def log_prob(self, value):
        self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        log_factorial_n = lgamma(value.sum(-1) + 1)
        log_factorial_xs = lgamma(value + 1).sum(-1)
        # (a category of probability 0 seen 0 times contributes 0, not 0 * -inf)
        logits = O.where((value == 0) & (logits == float("-inf")), 0.0, logits)
        return log_factorial_n - log_factorial_xs + (logits * value).sum(-1)
