"""Continuous stand-ins for discrete draws, reparameterised: ``ContinuousBernoulli`` (on
[0, 1]), ``RelaxedBernoulli`` and ``RelaxedOneHotCategorical`` (Gumbel-softmax at a
``temperature``), ``OneHotCategoricalStraightThrough`` (one-hot draws with the probabilities'
gradient), and ``LogisticNormal`` (a normal pushed onto the simplex by stick breaking)."""

import math

from .. import ops as O
from ..nn import functional as F
from ..ops.record import as_tensor
from . import constraints
from .continuous import Normal, _draw
from .discrete import (Categorical, CategoricalBacked, OneHotCategorical, ProbsOrLogits,
                       _clamped_probs)
from .distribution import broadcast_all
from .exp_family import ExponentialFamily
from .transformed import TransformedDistribution
from .transforms import ExpTransform, SigmoidTransform, StickBreakingTransform


class ContinuousBernoulli(ProbsOrLogits, ExponentialFamily):
    """The continuous Bernoulli distribution on [0, 1]: density proportional to
    ``probs^x (1 - probs)^(1 - x)``; near ``probs = 1/2`` (within ``lims``) the normaliser and
    moments are their Taylor expansions, as PyTorch's."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    has_rsample = True
    _mean_carrier_measure = 0

    def __init__(self, probs=None, logits=None, lims=(0.499, 0.501), validate_args=None):
        if probs is not None:
            (probs,) = broadcast_all(probs)
            # checked before the clamp below (after it every value would pass)
            if validate_args is not None and \
                    not constraints.host_check(constraints.unit_interval, probs).all():
                raise ValueError("The parameter probs has invalid values")
            probs = _clamped_probs(probs)
        self._lims = lims
        super().__init__(probs, logits, validate_args)

    def __getattr__(self, name):
        if name == "probs":
            self.probs = _clamped_probs(O.sigmoid(self.__dict__["logits"]))
            return self.probs
        return super().__getattr__(name)

    param_shape = property(lambda self: tuple(self._batch_shape))

    def _outside_unstable_region(self):
        return (self.probs <= self._lims[0]) | (self.probs > self._lims[1])

    def _cut_probs(self):
        return O.where(self._outside_unstable_region(), self.probs, self._lims[0])

    def _cont_bern_log_norm(self):
        cut = self._cut_probs()
        below_half = O.where(cut <= 0.5, cut, 0.0)
        above_half = O.where(cut >= 0.5, cut, 1.0)
        log_norm = (O.log1p(-cut) - cut.log()).abs().log() - O.where(
            cut <= 0.5, O.log1p(-2.0 * below_half), (2.0 * above_half - 1.0).log())
        x = (self.probs - 0.5).pow(2)
        taylor = math.log(2.0) + (4.0 / 3.0 + 104.0 / 45.0 * x) * x
        return O.where(self._outside_unstable_region(), log_norm, taylor)

    @property
    def mean(self):
        cut = self._cut_probs()
        mus = cut / (2.0 * cut - 1.0) + 1.0 / (O.log1p(-cut) - cut.log())
        x = self.probs - 0.5
        taylor = 0.5 + (1.0 / 3.0 + 16.0 / 45.0 * x.pow(2)) * x
        return O.where(self._outside_unstable_region(), mus, taylor)

    @property
    def variance(self):
        cut = self._cut_probs()
        var = cut * (cut - 1.0) / (1.0 - 2.0 * cut).pow(2) + \
            1.0 / (O.log1p(-cut) - cut.log()).pow(2)
        x = (self.probs - 0.5).pow(2)
        taylor = 1.0 / 12.0 - (1.0 / 15.0 - 128.0 / 945.0 * x) * x
        return O.where(self._outside_unstable_region(), var, taylor)

    def rsample(self, sample_shape=()):
        return self.icdf(_draw("uniform", self._extended_shape(sample_shape), self.probs))

    def log_prob(self, value):
        self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        return -F.binary_cross_entropy_with_logits(logits, value, reduction="none") + \
            self._cont_bern_log_norm()

    def cdf(self, value):
        self._validate_sample(value)
        cut = self._cut_probs()
        cdfs = (cut.pow(value) * (1.0 - cut).pow(1.0 - value) + cut - 1.0) / (2.0 * cut - 1.0)
        unbounded = O.where(self._outside_unstable_region(), cdfs, value)
        return O.where(value <= 0.0, 0.0, O.where(value >= 1.0, 1.0, unbounded))

    def icdf(self, value):
        cut = self._cut_probs()
        inside = (O.log1p(-cut + value * (2.0 * cut - 1.0)) - O.log1p(-cut)) / \
            (cut.log() - O.log1p(-cut))
        return O.where(self._outside_unstable_region(), inside, value)

    def entropy(self):
        log_probs0, log_probs1 = O.log1p(-self.probs), self.probs.log()
        return self.mean * (log_probs0 - log_probs1) - self._cont_bern_log_norm() - log_probs0

    _natural_params = property(lambda self: (self.logits,))

    def _log_normalizer(self, x):
        """``log((e^x - 1) / x)``, its Taylor expansion near x = 0 (within ``lims``)."""
        lo, hi = self._lims[0] - 0.5, self._lims[1] - 0.5
        outside = (x <= lo) | (x > hi)
        cut = O.where(outside, x, lo)
        log_norm = O.expm1(cut).abs().log() - cut.abs().log()
        taylor = 0.5 * x + x.pow(2) / 24.0 - x.pow(4) / 2880.0
        return O.where(outside, log_norm, taylor)


class LogitRelaxedBernoulli(ProbsOrLogits):
    """The logit of a ``RelaxedBernoulli`` draw: ``(logit(U) + logits) / temperature``."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.real
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        super().__init__(probs, logits, validate_args)
        param = self.__dict__.get("probs", self.__dict__.get("logits"))
        self.temperature = as_tensor(temperature).to(param.dtype)

    param_shape = property(lambda self: tuple(self._batch_shape))

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        probs = _clamped_probs(self.probs.expand(shape))
        u = _clamped_probs(_draw("uniform", shape, probs))
        return (u.log() - O.log1p(-u) + probs.log() - O.log1p(-probs)) / self.temperature

    def log_prob(self, value):
        self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        diff = logits - value * self.temperature
        return self.temperature.log() + diff - 2 * O.log1p(diff.exp())


class RelaxedBernoulli(TransformedDistribution):
    """A Bernoulli relaxed onto (0, 1) at ``temperature`` (the Concrete / binary
    Gumbel-softmax distribution): ``sigmoid`` of a ``LogitRelaxedBernoulli`` draw."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        base = LogitRelaxedBernoulli(temperature, probs, logits)
        super().__init__(base, SigmoidTransform(), validate_args=validate_args)

    temperature = property(lambda self: self.base_dist.temperature)
    logits = property(lambda self: self.base_dist.logits)
    probs = property(lambda self: self.base_dist.probs)


class ExpRelaxedCategorical(CategoricalBacked):
    """The log of a ``RelaxedOneHotCategorical`` draw: ``log_softmax((logits + G) /
    temperature)``, ``G`` standard Gumbel draws."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.real_vector  # (in truth a submanifold of it)
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        self._categorical = Categorical(probs, logits)
        self.temperature = as_tensor(temperature).to(self._categorical.probs.dtype)
        super().__init__(self._categorical.batch_shape, self._categorical.param_shape[-1:],
                         validate_args=validate_args)

    param_shape = property(lambda self: self._categorical.param_shape)
    logits = property(lambda self: self._categorical.logits)
    probs = property(lambda self: self._categorical.probs)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        u = _clamped_probs(_draw("uniform", shape, self.logits))
        scores = (self.logits - (-u.log()).log()) / self.temperature
        return scores - O.logsumexp(scores, -1, keepdim=True)

    def log_prob(self, value):
        k = self._categorical._num_events
        self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        log_scale = math.lgamma(k) + self.temperature.log() * (k - 1)
        score = logits - value * self.temperature
        return (score - O.logsumexp(score, -1, keepdim=True)).sum(-1) + log_scale


class RelaxedOneHotCategorical(TransformedDistribution):
    """A one-hot categorical relaxed onto the simplex at ``temperature`` (Concrete /
    Gumbel-softmax): ``exp`` of an ``ExpRelaxedCategorical`` draw."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        base = ExpRelaxedCategorical(temperature, probs, logits, validate_args=validate_args)
        super().__init__(base, ExpTransform(), validate_args=validate_args)

    temperature = property(lambda self: self.base_dist.temperature)
    logits = property(lambda self: self.base_dist.logits)
    probs = property(lambda self: self.base_dist.probs)


class OneHotCategoricalStraightThrough(OneHotCategorical):
    """``OneHotCategorical`` whose ``rsample`` is a one-hot draw carrying the gradient of the
    probabilities (the straight-through estimator)."""

    has_rsample = True

    def rsample(self, sample_shape=()):
        samples = self.sample(sample_shape)
        probs = self._categorical.probs
        return samples + (probs - probs.detach())


class LogisticNormal(TransformedDistribution):
    """``StickBreakingTransform`` of ``Normal(loc, scale)`` draws over the last dim: a point of
    the simplex one dim larger."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        base = Normal(loc, scale, validate_args=validate_args)
        if not base.batch_shape:
            base = base.expand([1])
        super().__init__(base, StickBreakingTransform(), validate_args=validate_args)

    loc = property(lambda self: self.base_dist.base_dist.loc)
    scale = property(lambda self: self.base_dist.base_dist.scale)
