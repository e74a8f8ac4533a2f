"""``Distribution``: shapes, argument and value validation, sampling without history."""

import warnings

import numpy as np

from ..grad_mode import no_grad
from ..ops.record import as_tensor
from ..tensor import Tensor
from . import constraints

_VALIDATE = [True]  # PyTorch validates arguments unless told not to (python -O aside)


def broadcast_all(*values):
    """The parameters as tensors of one broadcast shape (numbers take the others' dtype)."""
    from .. import broadcast_tensors

    ts = [v for v in values if isinstance(v, Tensor)]
    dtype = ts[0].dtype if ts else np.dtype(np.float64)
    cuda = bool(ts) and ts[0].is_cuda  # (numbers join the first tensor's device, as PyTorch)
    return broadcast_tensors(*[v if isinstance(v, Tensor) else
                               as_tensor(np.asarray(v, dtype)).to(ts[0].device) if cuda else
                               as_tensor(np.asarray(v, dtype)) for v in values])


class Distribution:
    """The base of the distributions: ``batch_shape`` (independent, differently parametrised
    draws) and ``event_shape`` (one draw's shape)."""

    has_rsample = False
    has_enumerate_support = False
    arg_constraints = {}
    support = None

    @staticmethod
    def set_default_validate_args(value):
        if value not in (True, False):
            raise ValueError
        _VALIDATE[0] = value

    def __init__(self, batch_shape=(), event_shape=(), validate_args=None):
        self._batch_shape, self._event_shape = tuple(batch_shape), tuple(event_shape)
        self._validate_args = _VALIDATE[0] if validate_args is None else validate_args
        if self._validate_args:
            for name, constraint in self.arg_constraints.items():
                if name in self.__dict__:
                    value = self.__dict__[name]
                elif isinstance(getattr(type(self), name, None), property):
                    value = getattr(self, name)  # (one read off another: Chi2's df)
                else:
                    continue  # (a parameter derived from the one given: not checked)
                if not constraints.host_check(constraint, value).all():
                    raise ValueError(
                        f"Expected parameter {name} ({type(value).__name__} of shape "
                        f"{tuple(value.shape)}) of distribution {self!r} to satisfy the "
                        f"constraint {constraint!r}, but found invalid values:\n"
                        f"{constraints.shown(value)}")

    @property
    def batch_shape(self):
        return self._batch_shape

    @property
    def event_shape(self):
        return self._event_shape

    def _extended_shape(self, sample_shape=()):
        return tuple(sample_shape) + self._batch_shape + self._event_shape

    def expand(self, batch_shape, _instance=None):
        """The same distribution over a larger batch: each parameter expanded (a view, no
        copy) from ``batch_shape`` (it must broadcast the current one)."""
        batch_shape = tuple(batch_shape)
        # (PyTorch's rule: a user subclass with its own __init__ writes its own expand, and what
        # that expand set on _instance is kept; the rest is copied from self)
        own = next(c for c in type(self).__mro__ if c.__module__.startswith("tapegrad."))
        new = self._get_checked_instance(own, _instance)
        for k, v in self.__dict__.items():
            new.__dict__.setdefault(k, v)
        nb = len(self._batch_shape)
        for name in self.arg_constraints:  # (the parameters given or derived so far)
            v = self.__dict__.get(name)
            if v is not None:
                new.__dict__[name] = v.expand(batch_shape + tuple(v.shape[nb:]))
        new._batch_shape = batch_shape
        return new

    def _get_checked_instance(self, cls, _instance=None):
        """The uninitialised instance a subclass's ``expand`` fills in (PyTorch's helper, which
        user-written distributions call)."""
        if _instance is None and type(self).__init__ != cls.__init__:
            raise NotImplementedError(
                f"Subclass {self.__class__.__name__} of {cls.__name__} that defines a custom "
                "__init__ method must also define a custom .expand() method.")
        return self.__new__(type(self)) if _instance is None else _instance

    def sample(self, sample_shape=()):
        """A draw without history (``rsample``'s, where the distribution has one)."""
        with no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=()):
        raise NotImplementedError

    @property
    def mean(self):
        raise NotImplementedError

    @property
    def mode(self):
        raise NotImplementedError(f"{self.__class__} does not implement mode")

    @property
    def variance(self):
        raise NotImplementedError

    def log_prob(self, value):
        raise NotImplementedError

    def cdf(self, value):
        raise NotImplementedError

    def icdf(self, value):
        raise NotImplementedError

    def entropy(self):
        raise NotImplementedError

    def enumerate_support(self, expand=True):
        raise NotImplementedError

    def sample_n(self, n):
        warnings.warn("`sample_n(n)` will be deprecated. Use `sample((n,))` instead.",
                      FutureWarning, stacklevel=2)
        return self.sample((n,))

    @property
    def stddev(self):
        return self.variance.sqrt()

    def perplexity(self):
        return self.entropy().exp()

    def _validate_sample(self, value):
        if not isinstance(value, Tensor):
            raise ValueError("The value argument to log_prob must be a Tensor")
        if not self._validate_args:
            return
        shape, event = tuple(value.shape), self._event_shape
        if shape[len(shape) - len(event):] != event:
            raise ValueError("The right-most size of value must match event_shape: "
                             f"{shape} vs {event}.")
        expected = self._batch_shape + event
        for i, j in zip(reversed(shape), reversed(expected)):
            if i != 1 and j != 1 and i != j:
                raise ValueError("Value is not broadcastable with batch_shape+event_shape: "
                                 f"{shape} vs {expected}.")
        support = self.support
        if support is None:
            return
        ok = constraints.host_check(support, value)
        if not np.all(ok):
            raise ValueError(
                f"Expected value argument ({type(value).__name__} of shape "
                f"{tuple(value.shape)}) to be within the support ({support!r}) of the "
                f"distribution {self!r}, but found invalid values:\n"
                f"{constraints.shown(value)}")

    def __repr__(self):
        parts = []
        for k in self.arg_constraints:
            if k in self.__dict__:
                v = self.__dict__[k]
                parts.append(f"{k}: {constraints.shown(v) if v.numel() == 1 else v.shape}")
        return f"{type(self).__name__}({', '.join(parts)})"
