"""Discrete distributions: ``Bernoulli`` and ``Categorical``, given ``probs`` or ``logits``
(the other derived from it, differentiably)."""

import numpy as np

from .. import creation, ops as O
from ..nn import functional as F
from ..ops.record import as_tensor
from . import constraints
from .distribution import Distribution, broadcast_all


def _one_of(probs, logits):
    if (probs is None) == (logits is None):
        raise ValueError("Either `probs` or `logits` must be specified, but not both.")


def _support(k, batch_shape, dtype, expand):
    values = np.arange(k).astype(dtype).reshape((k,) + (1,) * len(batch_shape))
    if expand:
        values = np.broadcast_to(values, (k,) + tuple(batch_shape))
    return creation.tensor(np.ascontiguousarray(values))


def _clamped_probs(p):
    eps = float(np.finfo(p.dtype).eps)
    return p.clamp(eps, 1 - eps)


class ProbsOrLogits(Distribution):
    """A success probability given as ``probs`` or ``logits`` (one of them), the other derived
    on first use."""

    def __init__(self, probs=None, logits=None, validate_args=None):
        _one_of(probs, logits)
        if probs is not None:
            (self.probs,) = broadcast_all(probs)
        else:
            (self.logits,) = broadcast_all(logits)
        param = self.probs if probs is not None else self.logits
        super().__init__(param.shape, validate_args=validate_args)

    def __getattr__(self, name):  # the parameter not given, derived on first use
        if name == "probs":
            self.probs = O.sigmoid(self.__dict__["logits"])
            return self.probs
        if name == "logits":
            p = _clamped_probs(self.__dict__["probs"])
            self.logits = p.log() - O.log1p(-p)
            return self.logits
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")


class Bernoulli(ProbsOrLogits):
    """1 with probability ``probs`` (or ``sigmoid(logits)``), else 0."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean

    mean = property(lambda self: self.probs)
    variance = property(lambda self: self.probs * (1 - self.probs))

    @property
    def mode(self):
        m = (self.probs >= 0.5).to(self.probs.dtype)
        return O.where(self.probs == 0.5, float("nan"), m)

    has_enumerate_support = True

    def enumerate_support(self, expand=True):
        """The values 0 and 1, along a new first dim (expanded over the batch)."""
        return _support(2, self._batch_shape, self.probs.dtype, expand)

    def sample(self, sample_shape=()):
        p = self.probs.detach().cpu().numpy()  # (drawn on the host, as CUDA draws are)
        u = creation.draws().random(self._extended_shape(sample_shape))
        return creation.tensor((u < p).astype(p.dtype), device=self.probs.device)

    def log_prob(self, value):
        self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        return -F.binary_cross_entropy_with_logits(logits, value, reduction="none")

    def entropy(self):
        return F.binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")


class Categorical(Distribution):
    """One of ``K`` categories (the last dim of ``probs`` or ``logits``), with those
    (normalised) probabilities."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}

    def __init__(self, probs=None, logits=None, validate_args=None):
        _one_of(probs, logits)
        if probs is not None:
            probs = as_tensor(probs)
            if probs.ndim < 1:
                raise ValueError("`probs` parameter must be at least one-dimensional.")
            self.probs = probs / probs.sum(-1, keepdim=True)
        else:
            logits = as_tensor(logits)
            if logits.ndim < 1:
                raise ValueError("`logits` parameter must be at least one-dimensional.")
            self.logits = logits - O.logsumexp(logits, -1, keepdim=True)
        param = self.probs if probs is not None else self.logits
        self._num_events = param.shape[-1]
        super().__init__(param.shape[:-1], validate_args=validate_args)

    def __getattr__(self, name):
        if name == "probs":
            self.probs = F.softmax(self.__dict__["logits"], -1)
            return self.probs
        if name == "logits":
            self.logits = _clamped_probs(self.__dict__["probs"]).log()
            return self.logits
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    @property
    def support(self):
        return constraints.integer_interval(0, self._num_events - 1)

    param_shape = property(lambda self: tuple(self.probs.shape))
    mean = variance = property(lambda self: creation.full(self._batch_shape, float("nan"),
                                                          dtype=self.probs.dtype))
    mode = property(lambda self: self.probs.argmax(-1))

    has_enumerate_support = True

    def enumerate_support(self, expand=True):
        """The categories 0 .. K-1, along a new first dim (expanded over the batch)."""
        return _support(self._num_events, self._batch_shape, np.int64, expand)

    def sample(self, sample_shape=()):
        p = self.probs.detach().cpu().numpy().reshape(-1, self._num_events)
        n = int(np.prod(sample_shape)) if sample_shape else 1
        u = creation.draws().random((n, len(p), 1))
        idx = (u > np.cumsum(p, -1)[None]).sum(-1)  # (inverse cdf per row)
        idx = np.minimum(idx, self._num_events - 1)
        return creation.tensor(idx.reshape(tuple(sample_shape) + self._batch_shape),
                               device=self.probs.device)

    def log_prob(self, value):
        self._validate_sample(value)
        value = as_tensor(value)
        idx = np.asarray(value.detach().cpu().numpy(), np.int64)
        logits = self.logits
        shape = np.broadcast_shapes(idx.shape, tuple(logits.shape[:-1]))
        logits = logits.expand(shape + (self._num_events,))
        return logits.gather(-1, creation.tensor(np.broadcast_to(idx, shape)[..., None],
                                                 device=logits.device)).squeeze(-1)

    def entropy(self):
        floor = float(np.finfo(self.logits.dtype).min)
        return -(self.logits.clamp(min=floor) * self.probs).sum(-1)


class CategoricalBacked(Distribution):
    """A distribution computed from its ``_categorical``: expanding it expands that too."""

    def expand(self, batch_shape, _instance=None):
        new = super().expand(batch_shape, _instance)
        new._categorical = self._categorical.expand(batch_shape)
        return new


class OneHotCategorical(CategoricalBacked):
    """``Categorical``'s draws as one-hot vectors over the last dim."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.one_hot
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        self._categorical = Categorical(probs, logits)
        super().__init__(self._categorical.batch_shape, self._categorical.param_shape[-1:],
                         validate_args=validate_args)

    probs = mean = property(lambda self: self._categorical.probs)
    logits = property(lambda self: self._categorical.logits)
    param_shape = property(lambda self: self._categorical.param_shape)
    variance = property(lambda self: self.probs * (1 - self.probs))

    def _one_hot(self, idx):
        n = self._event_shape[0]
        return creation.eye(n, dtype=self.probs.dtype)[idx]

    mode = property(lambda self: self._one_hot(self.probs.detach().argmax(-1)))

    def sample(self, sample_shape=()):
        return self._one_hot(self._categorical.sample(sample_shape))

    def log_prob(self, value):
        self._validate_sample(value)
        return self._categorical.log_prob(value.argmax(-1))

    def entropy(self):
        return self._categorical.entropy()

    def enumerate_support(self, expand=True):
        """The ``n`` one-hot vectors along a new first dim (expanded over the batch)."""
        n = self._event_shape[0]
        values = np.eye(n, dtype=self.probs.dtype).reshape((n,) + (1,) * len(self._batch_shape)
                                                            + (n,))
        if expand:
            values = np.broadcast_to(values, (n,) + self._batch_shape + (n,))
        return creation.tensor(np.ascontiguousarray(values))
