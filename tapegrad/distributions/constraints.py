"""The constraints a distribution's parameters and values satisfy, as
``torch.distributions.constraints``: ``check(value)`` is a bool tensor (one entry per event
for constraints over whole events)."""

import numpy as np

__all__ = ["Constraint", "real", "positive", "nonnegative", "unit_interval", "boolean",
           "simplex", "real_vector", "positive_definite", "lower_cholesky", "interval",
           "half_open_interval", "integer_interval", "greater_than", "greater_than_eq",
           "less_than", "independent", "nonnegative_integer", "positive_integer", "one_hot",
           "multinomial", "corr_cholesky", "cat", "stack"]


def _values(v):
    """The values to check, on the host (a CUDA tensor's copied there: one synchronising copy,
    as PyTorch's validation makes)."""
    from ..tensor import Tensor

    return np.asarray(v.detach().cpu()._arr() if isinstance(v, Tensor) else v)


def shown(v):
    """``v`` as PyTorch's f-strings show it: a 0-d tensor as its number."""
    from ..tensor import Tensor

    return v.item() if isinstance(v, Tensor) and v.ndim == 0 else v


def host_check(constraint, value):
    """``constraint.check(value)`` as a NumPy bool array. tapegrad's own checks compute on the
    host: validation and nested constraints call them directly, skipping the bool tensor (and
    its copy to a CUDA device and back) that ``check`` returns to users; another check's tensor
    result is copied to the host."""
    from ..tensor import Tensor

    raw = getattr(type(constraint).check, "on_host", None)
    ok = raw(constraint, value) if raw is not None else constraint.check(value)
    return ok.detach().cpu().numpy() if isinstance(ok, Tensor) else np.asarray(ok)


def _tensor_result(check):
    """``check`` returning a bool tensor (on the value's device), as PyTorch's constraints do;
    the checks here compute on the host, in NumPy."""
    def checked(self, value):
        from ..creation import from_numpy
        from ..tensor import Tensor

        ok = check(self, value)
        if isinstance(ok, Tensor):
            return ok
        out = from_numpy(np.array(ok, dtype=bool))
        return out.to(value.device) if isinstance(value, Tensor) and value.is_cuda else out
    checked.__doc__, checked.__name__, checked.on_host = check.__doc__, check.__name__, check
    return checked


class Constraint:
    is_discrete = False
    event_dim = 0

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        check = cls.__dict__.get("check")
        if check is not None and cls.__module__.startswith("tapegrad."):
            cls.check = _tensor_result(check)

    def check(self, value):
        raise NotImplementedError

    def __repr__(self):
        return type(self).__name__[1:] + "()"


class _Real(Constraint):
    def check(self, value):
        v = _values(value)
        return v == v  # (NaN fails; infinities are real, as PyTorch's)


class _GreaterThan(Constraint):
    def __init__(self, lower_bound):
        self.lower_bound = lower_bound

    def check(self, value):
        return _values(value) > _values(self.lower_bound)

    def __repr__(self):
        return f"{type(self).__name__[1:]}(lower_bound={shown(self.lower_bound)})"


class _LessThan(Constraint):
    def __init__(self, upper_bound):
        self.upper_bound = upper_bound

    def check(self, value):
        return _values(value) < _values(self.upper_bound)

    def __repr__(self):
        return f"LessThan(upper_bound={shown(self.upper_bound)})"


class _GreaterThanEq(_GreaterThan):
    def check(self, value):
        return _values(value) >= _values(self.lower_bound)


class _Interval(Constraint):
    def __init__(self, lower_bound, upper_bound):
        self.lower_bound, self.upper_bound = lower_bound, upper_bound

    def check(self, value):
        v = _values(value)
        return (v >= _values(self.lower_bound)) & (v <= _values(self.upper_bound))

    def __repr__(self):
        return (f"{type(self).__name__[1:]}(lower_bound={shown(self.lower_bound)}, "
                f"upper_bound={shown(self.upper_bound)})")


class _HalfOpenInterval(_Interval):
    def check(self, value):
        v = _values(value)
        return (v >= _values(self.lower_bound)) & (v < _values(self.upper_bound))


class _IntegerInterval(_Interval):
    is_discrete = True

    def check(self, value):
        v = _values(value)
        return (v % 1 == 0) & (v >= _values(self.lower_bound)) & (v <= _values(self.upper_bound))

    def __repr__(self):  # (PyTorch shows its bounds as given: a tensor bound as a tensor, 0-d
        # ones as their number)
        return (f"IntegerInterval(lower_bound={shown(self.lower_bound)}, "
                f"upper_bound={shown(self.upper_bound)})")


class _IntegerGreaterThan(Constraint):
    is_discrete = True

    def __init__(self, lower_bound):
        self.lower_bound = lower_bound

    def check(self, value):
        v = _values(value)
        return (v % 1 == 0) & (v >= self.lower_bound)

    def __repr__(self):
        return f"IntegerGreaterThan(lower_bound={self.lower_bound})"


class _Boolean(Constraint):
    is_discrete = True

    def check(self, value):
        v = _values(value)
        return (v == 0) | (v == 1)


class _OneHot(Constraint):
    is_discrete = True
    event_dim = 1

    def check(self, value):
        v = _values(value)
        return ((v == 0) | (v == 1)).all(-1) & (v.sum(-1) == 1)


class _Multinomial(Constraint):
    """Nonnegative counts over the last dim summing to at most ``upper_bound``."""

    is_discrete = True
    event_dim = 1

    def __init__(self, upper_bound):
        self.upper_bound = upper_bound

    def check(self, value):
        v = _values(value)
        return (v >= 0).all(-1) & (v.sum(-1) <= self.upper_bound)


class _Independent(Constraint):
    """``base_constraint`` over events of ``reinterpreted_batch_ndims`` more dims: an event
    is valid when all its entries are."""

    def __init__(self, base_constraint, reinterpreted_batch_ndims):
        self.base_constraint = base_constraint
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims

    is_discrete = property(lambda self: self.base_constraint.is_discrete)
    event_dim = property(lambda self: self.base_constraint.event_dim +
                         self.reinterpreted_batch_ndims)

    def check(self, value):
        ok = host_check(self.base_constraint, value)
        n = self.reinterpreted_batch_ndims
        if ok.ndim < n:
            raise ValueError(f"Expected value.dim() >= {self.event_dim} but got "
                             f"{_values(value).ndim}")
        return ok.reshape(ok.shape[:ok.ndim - n] + (-1,)).all(-1)

    def __repr__(self):
        return (f"IndependentConstraint({self.base_constraint!r}, "
                f"{self.reinterpreted_batch_ndims})")


class _Simplex(Constraint):
    event_dim = 1

    def check(self, value):
        v = _values(value)
        return (v >= 0).all(-1) & (np.abs(v.sum(-1) - 1) < 1e-6)


class _IndependentReal(Constraint):
    event_dim = 1

    def check(self, value):
        v = _values(value)
        return (v == v).all(-1)

    def __repr__(self):
        return "IndependentConstraint(Real(), 1)"


class _PositiveDefinite(Constraint):
    event_dim = 2

    def check(self, value):
        v = _values(value)
        sym = np.abs(v - np.swapaxes(v, -1, -2)).max(axis=(-1, -2), initial=0) <= 1e-6 * \
            np.abs(v).max(axis=(-1, -2), initial=1)
        return sym & (np.linalg.eigvalsh(v).min(-1) > 0)


class _LowerCholesky(Constraint):
    event_dim = 2

    def check(self, value):
        v = _values(value)
        lower = (np.triu(v, 1) == 0).all(axis=(-1, -2))
        return lower & (np.diagonal(v, axis1=-2, axis2=-1) > 0).all(-1)


class _CorrCholesky(Constraint):
    """Lower Cholesky factors of correlation matrices: positive diagonal, unit rows."""

    event_dim = 2

    def check(self, value):
        v = _values(value)
        tol = np.finfo(v.dtype).eps * v.shape[-1] * 10  # (PyTorch's fudge factor)
        unit_rows = (np.abs(np.linalg.norm(v, axis=-1) - 1.0) <= tol).all(-1)
        return host_check(_LowerCholesky(), v) & unit_rows


class _Cat(Constraint):
    """``cseq[i]`` on the ``lengths[i]`` consecutive slices along ``dim`` (as ``torch.cat``
    joins them)."""

    def __init__(self, cseq, dim=0, lengths=None):
        if not all(isinstance(c, Constraint) for c in cseq):
            raise AssertionError("All elements of cseq must be Constraint instances")
        self.cseq = list(cseq)
        self.lengths = [1] * len(self.cseq) if lengths is None else list(lengths)
        if len(self.lengths) != len(self.cseq):
            raise AssertionError(f"lengths ({len(self.lengths)}) must match cseq "
                                 f"({len(self.cseq)})")
        self.dim = dim

    is_discrete = property(lambda self: any(c.is_discrete for c in self.cseq))
    event_dim = property(lambda self: max(c.event_dim for c in self.cseq))

    def check(self, value):
        v = _values(value)
        if not -v.ndim <= self.dim < v.ndim:
            raise AssertionError(f"dim {self.dim} out of range for value with {v.ndim} "
                                 "dimensions")
        bounds = np.cumsum([0] + self.lengths)
        return np.concatenate([host_check(c, np.take(v, range(a, b), axis=self.dim))
                               for c, a, b in zip(self.cseq, bounds, bounds[1:])], self.dim)


class _Stack(Constraint):
    """``cseq[i]`` on the ``i``-th slice along ``dim`` (as ``torch.stack`` joins them)."""

    def __init__(self, cseq, dim=0):
        if not all(isinstance(c, Constraint) for c in cseq):
            raise AssertionError("All elements of cseq must be Constraint instances")
        self.cseq, self.dim = list(cseq), dim

    is_discrete = property(lambda self: any(c.is_discrete for c in self.cseq))

    @property
    def event_dim(self):
        dim = max(c.event_dim for c in self.cseq)
        return dim + 1 if self.dim + dim < 0 else dim

    def check(self, value):
        v = _values(value)
        if not -v.ndim <= self.dim < v.ndim:
            raise AssertionError(f"dim {self.dim} out of range for value with {v.ndim} "
                                 "dimensions")
        return np.stack([host_check(c, np.take(v, i, axis=self.dim))
                         for i, c in enumerate(self.cseq)], self.dim)


real = _Real()
positive = _GreaterThan(0.0)
nonnegative = _GreaterThanEq(0.0)
unit_interval = _Interval(0.0, 1.0)
boolean = _Boolean()
simplex = _Simplex()
real_vector = _IndependentReal()
positive_definite = _PositiveDefinite()
lower_cholesky = _LowerCholesky()
interval = _Interval
half_open_interval = _HalfOpenInterval
integer_interval = _IntegerInterval
greater_than = _GreaterThan
greater_than_eq = _GreaterThanEq
less_than = _LessThan
independent = _Independent
nonnegative_integer = _IntegerGreaterThan(0)
positive_integer = _IntegerGreaterThan(1)
one_hot = _OneHot()
multinomial = _Multinomial
corr_cholesky = _CorrCholesky()
cat = _Cat
stack = _Stack
