"""Optimizer updates of CUDA parameters: the CPU step's NumPy code, run as device tensor ops.

Each optimizer writes its update once, as NumPy expressions on storage (``data -= lr * g``,
``np.sqrt(v) + eps``, ``np.maximum(vmax, v, out=vmax)``). For a parameter on the device,
``Optimizer`` hands the step ``DeviceValues`` instead of arrays: a CUDA tensor behind NumPy's
operators and the few NumPy functions the updates call, each evaluated as one tensor op on the
device without recording history. In-place operators write into the tensor's own storage, so a
parameter and its state buffers stay the same tensors. The same formula in the same order of
operations rounds as the CPU's does (every elementwise op rounds once on both targets), so a
float64 step on cuda gives the CPU's numbers.
"""

import operator

import numpy as np

from ..grad_mode import no_grad

_UNSUPPORTED = ("NumPy's {} on a CUDA optimizer value has no device path in tapegrad's "
                "optimizers")


def _t(v):
    return v.t if type(v) is DeviceValues else v


class DeviceValues:
    """A CUDA tensor (no history) that optimizer updates treat as a NumPy array."""

    __slots__ = ("t",)

    def __init__(self, t):
        self.t = t

    @property
    def shape(self):
        return self.t.shape

    @property
    def dtype(self):
        return self.t.dtype

    def copy(self):
        with no_grad():
            return DeviceValues(self.t.clone())

    # ---- operators: a new value, or the storage written in place ------------------------
    def _new(self, fn, other):
        with no_grad():
            return DeviceValues(fn(self.t, _t(other)))

    def _inplace(self, method, other):
        with no_grad():
            getattr(self.t, method)(_t(other))
        return self

    def __add__(self, o):
        return self._new(lambda a, b: a + b, o)

    def __radd__(self, o):
        return self._new(lambda a, b: b + a, o)

    def __sub__(self, o):
        return self._new(lambda a, b: a - b, o)

    def __rsub__(self, o):
        return self._new(lambda a, b: b - a, o)

    def __mul__(self, o):
        return self._new(lambda a, b: a * b, o)

    def __rmul__(self, o):
        return self._new(lambda a, b: b * a, o)

    def __truediv__(self, o):
        return self._new(lambda a, b: a / b, o)

    def __rtruediv__(self, o):
        return self._new(lambda a, b: b / a, o)

    def __gt__(self, o):
        return self._new(lambda a, b: a > b, o)

    def __lt__(self, o):
        return self._new(lambda a, b: a < b, o)

    def astype(self, dtype, copy=True):
        if np.dtype(dtype) == self.dtype and not copy:
            return self
        with no_grad():
            return DeviceValues(self.t.to(dtype, copy=True))

    def __setitem__(self, key, value):  # (``buf[...] = v``: the whole storage rewritten)
        if key is not Ellipsis:
            raise NotImplementedError(_UNSUPPORTED.format("item assignment"))
        with no_grad():
            if type(value) is DeviceValues:
                self.t.copy_(value.t)
            else:
                self.t.fill_(float(value))

    def __neg__(self):
        with no_grad():
            return DeviceValues(-self.t)

    def __iadd__(self, o):
        return self._inplace("add_", o)

    def __isub__(self, o):
        return self._inplace("sub_", o)

    def __imul__(self, o):
        return self._inplace("mul_", o)

    def __itruediv__(self, o):
        return self._inplace("div_", o)

    # ---- the NumPy functions the updates call -------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kwargs):
        # NumPy scalars as options (lr=np.float64(0.1)) reach here through the operators
        from .. import ops

        fn = {np.sqrt: ops.sqrt, np.maximum: ops.maximum, np.absolute: ops.abs,
              np.sign: ops.sign, np.add: operator.add,
              np.subtract: operator.sub, np.multiply: operator.mul,
              np.true_divide: operator.truediv, np.negative: operator.neg}.get(ufunc)
        if fn is None or method != "__call__" or kwargs:
            raise NotImplementedError(_UNSUPPORTED.format(ufunc.__name__))
        with no_grad():
            result = fn(*[_t(v) if type(v) is DeviceValues else float(v) for v in inputs])
            if out is None:
                return DeviceValues(result)
            (target,) = out
            target.t.copy_(result)
        return target

    def __array_function__(self, func, types, args, kwargs):
        from .. import ops
        from ..creation import full

        if func is np.where and len(args) == 3 and not kwargs:  # (Rprop's sign cases)
            with no_grad():
                return DeviceValues(ops.where(*[_t(a) for a in args]))
        if func is np.clip and len(args) == 3 and set(kwargs) <= {"out"}:
            with no_grad():
                result = ops.clamp(_t(args[0]), float(args[1]), float(args[2]))
                if kwargs.get("out") is None:
                    return DeviceValues(result)
                kwargs["out"].t.copy_(result)
                return kwargs["out"]
        if func is np.zeros_like and len(args) == 1 and not kwargs:
            value = 0.0
        elif func is np.full_like and len(args) == 2 and not kwargs:
            value = args[1]
        else:
            raise NotImplementedError(_UNSUPPORTED.format(func.__name__))
        return DeviceValues(full(self.shape, value, dtype=self.dtype, device=self.t.device))


def values(t):
    """``t``'s storage for an update: DeviceValues sharing it (CUDA), else the ndarray."""
    if t.is_cuda:
        return DeviceValues(t.detach())
    return t._arr()


def grad_values(p, maximize):
    """``p.grad`` as DeviceValues of ``p``'s dtype (negated when maximizing)."""
    g = p.grad.detach()
    with no_grad():
        if g.dtype != p.dtype:
            g = g.to(p.dtype)
        return DeviceValues(-g if maximize else g)

