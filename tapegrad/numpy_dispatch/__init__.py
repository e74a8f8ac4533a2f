"""NumPy functions applied to tensors run tapegrad ops (NEP 13 ``__array_ufunc__``, NEP 18
``__array_function__``), so code written for NumPy arrays can be differentiated unchanged.

Importing this module binds ``Tensor.__array_ufunc__`` and ``Tensor.__array_function__`` to
``array_ufunc`` and ``array_function`` below (``import tapegrad`` does). A ufunc or function maps to a handler with NumPy's signature
(``axis=`` becomes ``dim=``, ``keepdims=`` becomes ``keepdim=``); handlers look tapegrad ops up
at call time (``tapegrad.ops.<name>``), so ops added later are used without touching this file.

A gradient is never dropped silently: an unimplemented function or argument (``out=``,
``where=``, ...) raises ``TypeError`` when a tensor argument requires grad and grad mode is on;
otherwise NumPy runs on the values and array results come back as tensors without history.

Example:
    >>> import numpy as np
    >>> import tapegrad as tg
    >>> x = tg.tensor([0.0, 1.0], requires_grad=True)
    >>> np.sum(np.sin(x) * 2.0).backward()
    >>> x.grad
    tensor([2.0000, 1.0806])
"""

import math

import numpy as np

from .. import grad_mode as _gm
from .. import ops as _ops_module
from ..ops.complex_refusals import is_refusal as _is_refusal
from ..ops.numpy_rules import tensors_weak
from ..ops.record import as_tensor as _t
from ..tensor import Tensor, _make, _wrap, bump_version
from .loop_dtypes import loop_inputs

_NV = np._NoValue  # NumPy's "argument not given" sentinel


# Functions of parts above this one (tapegrad.special, nn, torch_names), handed over by
# ``tapegrad/__init__.py`` once everything is imported: ``special`` (the module), ``logsigmoid``,
# ``cummax``, ``cummin``. (Importing them here would close an import cycle through torch_names.)
PROVIDED = {}


def provided(name):
    """A function handed over in ``PROVIDED`` (see there)."""
    f = PROVIDED.get(name)
    if f is None:
        raise _Unsupported(f"{name} (tapegrad is not fully imported)")
    return f


class _Unsupported(Exception):
    """A handler cannot do this call (argument or missing op); ``str`` says what."""


def _op(name):
    """``tapegrad.ops.<name>`` looked up now (other op families may land later)."""
    op = getattr(_ops_module, name, None)
    if op is None:
        raise _Unsupported("")
    return op


def _need(cond, what):
    if not cond:
        raise _Unsupported(what)


def _kd(keepdims):
    return False if keepdims is _NV else bool(keepdims)


def _axis(axis):
    return axis if axis is None or isinstance(axis, (int, np.integer)) else tuple(axis)


# ---- conversion for the NumPy fallback ------------------------------------------------------

def _tensors(obj, acc):
    """Collect the tensors in ``obj`` (nested lists/tuples/dicts)."""
    if isinstance(obj, Tensor):
        acc.append(obj)
    elif isinstance(obj, (list, tuple)):
        for o in obj:
            _tensors(o, acc)
    elif isinstance(obj, dict):
        for o in obj.values():
            _tensors(o, acc)
    return acc


def _to_numpy(obj):
    if isinstance(obj, Tensor):
        return obj._arr()  # the storage itself, so out= writes land in the tensor
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_numpy(o) for o in obj)
    if isinstance(obj, dict):
        return {k: _to_numpy(v) for k, v in obj.items()}
    return obj


def _from_numpy(obj, outs):
    """Array results become tensors; an ``out=`` array comes back as its tensor."""
    if isinstance(obj, np.ndarray):
        for t in outs:
            if t._data is obj:
                return t
        return _make(_wrap(obj))
    if isinstance(obj, np.generic):
        return _make(_wrap(np.asarray(obj)))
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):  # svd, eigh, slogdet, qr results
        return type(obj)(*(_from_numpy(o, outs) for o in obj))
    if isinstance(obj, (list, tuple)):
        return type(obj)(_from_numpy(o, outs) for o in obj)
    return obj


def _fallback(f, args, kwargs):
    """Run NumPy on the values (no tensor needs a gradient here)."""
    outs = _tensors(kwargs.get("out"), [])
    r = f(*_to_numpy(args), **_to_numpy(kwargs))
    for t in outs:
        bump_version(t)  # written in place
    return _from_numpy(r, outs)


def _needs_grad(tensors):
    # (ops record: also under no_grad inside forward mode, where a NumPy fallback would drop
    # the tangent)
    return _gm.recording() and any(t._rg for t in tensors)


def _qualified(name):
    return name if name.startswith("scipy.") else "numpy." + name


def _not_implemented(name, what=""):
    detail = f" with {what}" if what else ""
    return TypeError(
        f"tapegrad does not implement {_qualified(name)}{detail} for tensors that require grad; "
        "use the tapegrad op if there is one, or call it on t.detach() if no gradient should "
        "flow through it")


def _dispatch(name, handler, f, args, kwargs):
    """Run ``handler``; else NumPy on the values, unless a gradient would be lost."""
    what = ""
    if handler is not None:
        try:
            return handler(*args, **kwargs)
        except _Unsupported as e:
            what = str(e)
        except (NotImplementedError, RuntimeError) as e:
            if not _is_refusal(e):  # PyTorch's refusal of complex input (np.max, np.clip,
                raise  # np.sign ...): NumPy's complex result, computed by NumPy
            what = "complex input"
    if _needs_grad(_tensors(args, _tensors(kwargs, []))):
        raise _not_implemented(name() if callable(name) else name, what) from None
    return _fallback(f, args, kwargs)


# ---- ufuncs -----------------------------------------------------------------------------------

def array_ufunc(ufunc, method, inputs, kwargs):
    """``Tensor.__array_ufunc__``: run ``ufunc`` (``method``) with tapegrad ops."""
    if method == "__call__":  # (int8 in NumPy's float16 loop...: loop_dtypes.py)
        inputs = loop_inputs(ufunc, inputs)
    if method == "__call__" and not kwargs:  # the common case, first
        handler = _UFUNCS.get(ufunc)
        if handler is not None:
            try:
                return handler(*inputs)
            except _Unsupported:
                pass
            except (NotImplementedError, RuntimeError) as e:
                if not _is_refusal(e):
                    raise
    name = _ufunc_name(ufunc) + ("" if method == "__call__" else "." + method)
    if kwargs.get("out") is not None:
        out = _tensors(kwargs["out"], [])
        if _needs_grad(_tensors(inputs, out)):
            return _written_out(ufunc, method, inputs, kwargs, name)  # (or its refusal)
        return _fallback(getattr(ufunc, method), inputs, kwargs)
    kwargs = {k: v for k, v in kwargs.items() if k != "out"}
    handler = ufunc_handler(ufunc, method)
    if handler is not None and kwargs and method == "__call__":
        handler = _unsupported_kwargs(kwargs, handler)
    return _dispatch(name, handler, getattr(ufunc, method), inputs, kwargs)


def _written_out(ufunc, method, inputs, kwargs, name):
    """``out=`` (a tensor) with a gradient at stake: ufunc_out.py."""
    from .ufunc_out import written_out

    return written_out(ufunc, method, inputs, kwargs, name)


def _ufunc_name(ufunc):
    """``sin``, or ``scipy.special.gammaln`` for SciPy's ufuncs (``__module__`` None)."""
    import sys

    sp = sys.modules.get("scipy.special._ufuncs")  # (the private ones too: zeta calls _zeta)
    if getattr(ufunc, "__module__", None) is None and getattr(sp, ufunc.__name__, None) is ufunc:
        return "scipy.special." + ufunc.__name__
    return ufunc.__name__


_SCIPY_UFUNCS = []  # [True] once SciPy's special functions are in _UFUNCS


def _foreign_ufunc(ufunc):
    """The handler of a ufunc from another package: SciPy's special functions are added to the
    table when the first one arrives (so ``import tapegrad`` does not import SciPy)."""
    import sys

    if _SCIPY_UFUNCS or getattr(ufunc, "__module__", None) is not None or \
            "scipy.special" not in sys.modules:
        return None
    from .scipy_special import ufunc_handlers

    _SCIPY_UFUNCS.append(True)
    for uf, h in ufunc_handlers().items():
        _UFUNCS.setdefault(uf, h)
    return _UFUNCS.get(ufunc)


def _unsupported_kwargs(kwargs, inner=None):
    def handler(*args, **kw):
        # Dask's chunk sums call np.add(a, b, dtype=the result's dtype): a no-op where the op
        # gives that dtype. Only with a gradient at stake: otherwise NumPy runs the ufunc in
        # that dtype's loop (bool - bool as floats, its own overflow and power errors)
        if inner is not None and set(kw) == {"dtype"} and _needs_grad(_tensors(args, [])):
            r = inner(*args)
            if isinstance(r, Tensor) and r.dtype == np.dtype(kw["dtype"]):
                return r
        raise _Unsupported(", ".join(f"{k}=" for k in kwargs))

    return handler


def _u(name):
    """Handler calling ``tapegrad.ops.<name>`` with the ufunc's inputs (in NumPy's result dtype:
    ``numpy_dtypes``)."""

    def handler(*args):
        op = getattr(_ops_module, name, None)
        if op is None:
            raise _Unsupported("")
        if len(args) == 2 and not isinstance(args[0], np.generic) and \
                not isinstance(args[1], np.generic):  # (``np.float64(2) * t``: weak, as ``*``)
            args = numpy_dtypes(*args)
            if name == "sub":
                args = _bool_as_number(*args)
        return op(*args)

    return handler


def _bool_as_number(x1, x2):
    """np.subtract's operands with a bool one (Python or array) beside a number as 0/1 in
    NumPy's result dtype: NumPy subtracts it (``-`` refuses it, as PyTorch's)."""
    b1, b2 = (type(v) is bool or getattr(v, "dtype", None) == np.bool_ for v in (x1, x2))
    if b1 == b2:
        return x1, x2
    v, other = (x1, x2) if b1 else (x2, x1)
    if type(v) is bool:
        v = int(v)
    else:
        dt = np.result_type(_dtype_probe(v), _dtype_probe(other))
        v = v.to(dt) if isinstance(v, Tensor) else np.asarray(v).astype(dt)
    return (v, x2) if b1 else (x1, v)


def numpy_dtypes(x1, x2):
    """Two operands of a NumPy function, tensors and arrays cast to NumPy's result dtype
    where the two dtypes differ: tapegrad's ops promote as PyTorch does (``int64 + float32`` is
    float32 there, float64 in NumPy; a NumPy scalar or 0-d array promotes in NumPy, not in
    PyTorch), so the ops that compose a NumPy function get operands of one dtype."""
    d1, d2 = getattr(x1, "dtype", None), getattr(x2, "dtype", None)
    if d1 is None or d2 is None or d1 == d2:
        return x1, x2
    dt = np.result_type(_dtype_probe(x1), _dtype_probe(x2))
    return tuple(v if d == dt else v.to(dt) if isinstance(v, Tensor) else  # (an array too)
                 np.asarray(v).astype(dt) for v, d in ((x1, d1), (x2, d2)))


def _dtype_probe(v):
    """What ``np.result_type`` weighs for ``v``: a tensor as an empty array of its rank."""
    return np.empty((0,) * v.ndim, v.dtype) if isinstance(v, Tensor) else v


def numpy_promoted(*operands):
    """The operands of a NumPy function (``where``'s x and y, ``clip``'s three; None: absent),
    the tensors among them cast to NumPy's result dtype where tapegrad's op would promote as
    PyTorch (``int64`` beside ``float32`` is float64 in NumPy). A NumPy scalar number is weak,
    as in ``_u``'s operators."""
    given = [v for v in operands if v is not None]
    if not any(isinstance(v, Tensor) for v in given):
        return operands
    probes = [v.item() if isinstance(v, np.generic) else
              _dtype_probe(v) if isinstance(v, (Tensor, np.ndarray, int, float, complex)) else
              np.asarray(v) for v in given]
    dt = np.result_type(*probes)
    return tuple(v.to(dt) if isinstance(v, Tensor) and v.dtype != dt else v for v in operands)


def numpy_pair(x1, x2):
    """``tensors_weak`` (both operands as tensors, a Python number weak) in NumPy's result
    dtype (``numpy_dtypes``): for handlers composed of tapegrad ops."""
    x1, x2 = numpy_dtypes(x1, x2)
    return tensors_weak(x1, x2)


def _square(x):
    if getattr(x, "dtype", None) == np.bool_:  # (NumPy's int8 square; PyTorch's mul keeps bool)
        return _values_only(np.square)(x)
    return _op("mul")(x, x)


def _reciprocal(x):
    if np.dtype(getattr(x, "dtype", np.float64)).kind in "biu":  # (NumPy's: integers)
        return _values_only(np.reciprocal)(x)
    return _op("div")(1.0, _t(x))


def _positive(x):
    return _t(x)


def _float_op(name):
    """Handler for ``tapegrad.ops.<name>`` on floats (integers become float64, as NumPy's)."""

    def handler(x):
        return _op(name)(_to_float(x))

    return handler


def _fabs(x):
    """NumPy's fabs: real input only, integers in float64."""
    return _op("abs")(_float(x))


def _exp2(x):
    return _op("pow")(2.0, _t(x))


def _values_only(np_f):
    """Ufuncs/functions with a non-differentiable result (bool/int): values, no history."""

    def handler(*args, **kwargs):
        return _from_numpy(np_f(*_to_numpy(args), **_to_numpy(kwargs)), ())

    return handler


def _ordering(name, np_f):
    """A comparison: tapegrad's op; of complex values, which PyTorch refuses to order, NumPy's
    lexicographic answer, also for tensors that require grad (a bool result loses no
    gradient)."""
    op, values = _u(name), _values_only(np_f)

    def handler(*args):
        try:
            return op(*args)
        except (NotImplementedError, RuntimeError) as e:
            if not _is_refusal(e):
                raise
            return values(*args)

    return handler


def _zero_grad(np_f):
    """Piecewise-constant ufuncs (floor, round, ...): the value, with a zero gradient like
    PyTorch's (the result still requires grad, so a backward through it gives zeros)."""

    def handler(x, *args, **kwargs):
        from ..ops.elementwise import zero_grad_like

        x = _t(x)
        return zero_grad_like(x, _wrap(np_f(np.asarray(x._data), *args, **kwargs)))

    return handler


def _build_ufuncs():
    u = {
        np.add: _u("add"), np.subtract: _u("sub"), np.multiply: _u("mul"),
        np.divide: _u("div"), np.power: _u("pow"), np.maximum: _u("maximum"),
        np.minimum: _u("minimum"), np.matmul: _u("matmul"), np.negative: _u("neg"),
        np.positive: _positive, np.exp: _u("exp"), np.log: _u("log"), np.log1p: _u("log1p"),
        np.expm1: _u("expm1"), np.sin: _u("sin"), np.cos: _u("cos"), np.tan: _u("tan"),
        np.tanh: _u("tanh"), np.sqrt: _u("sqrt"), np.absolute: _u("abs"), np.fabs: _fabs,
        np.sign: _u("sign"), np.square: _square, np.reciprocal: _reciprocal, np.exp2: _exp2,
        np.log2: _float_op("log2"), np.log10: _float_op("log10"),
        np.sinh: _float_op("sinh"), np.cosh: _float_op("cosh"),
        np.equal: _u("eq"), np.not_equal: _u("ne"), np.less: _ordering("lt", np.less),
        np.less_equal: _ordering("le", np.less_equal), np.greater: _ordering("gt", np.greater),
        np.greater_equal: _ordering("ge", np.greater_equal), np.logical_and: _u("logical_and"),
        np.logical_or: _u("logical_or"), np.logical_not: _u("logical_not"),
    }
    for f in (np.isnan, np.isinf, np.isfinite, np.signbit, np.logical_xor):
        u[f] = _values_only(f)
    for f in (np.floor, np.ceil, np.trunc, np.rint):
        u[f] = _zero_grad(f)
    return u


def _reduce_handler(name):
    def handler(a, axis=0, dtype=None, out=None, keepdims=False, initial=_NV, where=True):
        _need(dtype is None, "dtype=")
        return _FUNCS[name](a, axis=axis, keepdims=keepdims, initial=initial, where=where)

    return handler


# ---- functions (NEP 18) ------------------------------------------------------------------------

def array_function(func, types, args, kwargs):
    """``Tensor.__array_function__``: run ``func`` with tapegrad ops."""
    if not all(issubclass(t, (Tensor, np.ndarray)) for t in types):
        return NotImplemented
    return _dispatch(lambda: _func_name(func), _FUNC_HANDLERS.get(func), func, args, kwargs)


def _func_name(func):
    """``sum``, ``linalg.norm``: the name after ``numpy.``."""
    mod = func.__module__ or "numpy"
    return (mod[6:] + "." if mod.startswith("numpy.") and "._" not in mod else "") + func.__name__


def _common(out, where=_NV):
    _need(out is None, "out=")
    _need(where is _NV or where is True, "where=")


def _cast(x, dtype):
    x = _t(x)
    return x if dtype is None else x.to(dtype)


def _to_float(x):
    """NumPy's mean/var of integers is float64."""
    x = _t(x)
    return x if x.dtype.kind in "fc" else x.to(np.float64)


def _float(x):
    """``x`` as a tensor of a real float dtype: integers and bools become float64; a complex
    ``x`` is refused (the handler has no complex rule: NumPy computes it, or a tensor that
    requires grad gets the "not implemented" error), never cut to its real part."""
    x = _t(x)
    if x.dtype.kind == "f":
        return x
    _need(x.dtype.kind != "c", "complex input")
    return x.to(np.float64)


def _masked(x, where, fill):
    """``x`` with the entries that ``where=`` leaves out replaced by the constant ``fill``."""
    if where is _NV or where is True:
        return x
    mask = np.broadcast_to(np.asarray(_t(where)._data, dtype=bool), x.shape)
    return x if mask.all() else _op("where")(mask, x, _number_as(fill, x.dtype))


def _number_as(v, dtype):
    """``initial=``/a fill value in ``dtype``: a tensor keeps its history (its gradient)."""
    return v.to(dtype) if isinstance(v, Tensor) else _t(np.asarray(v, dtype))


def _sum(a, axis=None, dtype=None, out=None, keepdims=_NV, initial=_NV, where=_NV):
    _common(out)
    x = _masked(_cast(a, dtype), where, 0)
    r = _op("sum")(x, dim=_axis(axis), keepdim=_kd(keepdims))
    return r if initial is _NV else r + initial


def _mean(a, axis=None, dtype=None, out=None, keepdims=_NV, *, where=_NV):
    _common(out)
    x = _to_float(_cast(a, dtype))
    if where is _NV or where is True:
        return _op("mean")(x, dim=_axis(axis), keepdim=_kd(keepdims))
    mask = np.broadcast_to(np.asarray(_t(where)._data, dtype=bool), x.shape)
    n = np.sum(mask, axis=_axis(axis), keepdims=_kd(keepdims))
    with np.errstate(invalid="ignore", divide="ignore"):  # NumPy's nan for an empty mask
        return _sum(x, axis=axis, keepdims=keepdims, where=mask) / _t(n.astype(x.dtype))


def _per_axis(f, x, axis, keepdims):
    """Apply a one-dim reduction ``f(x, dim, keepdim)`` over each axis of a tuple."""
    x = _t(x)
    if axis is None:
        return f(x)
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    from ..ops.shapes import norm_dim

    axes = sorted({norm_dim(int(a), x.ndim) for a in axes}, reverse=True)
    for a in axes:
        x = f(x, a, keepdim=True)
    if not keepdims:
        x = _op("reshape")(x, tuple(s for k, s in enumerate(x.shape) if k not in axes))
    return x


def _prod(a, axis=None, dtype=None, out=None, keepdims=_NV, initial=_NV, where=_NV):
    _common(out)
    prod = _op("prod")
    x = _masked(_cast(a, dtype), where, 1)
    r = _per_axis(prod, x, axis, _kd(keepdims))
    if axis is None and _kd(keepdims):
        r = _op("reshape")(r, (1,) * x.ndim)
    return r if initial is _NV else r * initial


def _extreme(name):
    def handler(a, axis=None, out=None, keepdims=_NV, initial=_NV, where=_NV):
        _common(out)
        f = _op(name)
        x = _t(a)
        if where is not _NV and where is not True:
            if initial is _NV:
                op = "maximum" if name == "amax" else "minimum"
                raise ValueError(f"reduction operation '{op}' does not have an identity, so to "
                                 "use a where mask one has to specify 'initial'")
            x = _masked(x, where, initial)
        _need(initial is _NV or x.numel(), "initial= on an empty array")
        if axis is None:
            r = f(x)
            r = _op("reshape")(r, (1,) * x.ndim) if _kd(keepdims) else r
        else:
            r = f(x, dim=_axis(axis), keepdim=_kd(keepdims))
        if initial is _NV:
            return r
        return _op("maximum" if name == "amax" else "minimum")(r, _number_as(initial, r.dtype))

    return handler


def _moment(name):
    def handler(a, axis=None, dtype=None, out=None, ddof=0, keepdims=_NV, *, where=_NV,
                mean=_NV, correction=_NV):
        _common(out, where)
        _need(mean is _NV, "mean=")
        ddof = ddof if correction is _NV else correction
        return _op(name)(_to_float(_cast(a, dtype)), dim=_axis(axis), correction=ddof,
                         keepdim=_kd(keepdims))

    return handler


def _round(a, decimals=0, out=None):
    _need(out is None, "out=")
    return _zero_grad(np.round)(a, decimals)


def _like(np_f):
    """zeros_like & co.: a fresh tensor without history (the values are not used)."""

    def handler(a, *args, **kwargs):
        return _make(_wrap(np_f(np.asarray(_t(a)._data), *args, **kwargs)))

    return handler


_FUNCS = {
    "sum": _sum, "amax": _extreme("amax"), "amin": _extreme("amin"), "prod": _prod,
}


def _build_functions():
    f = {
        np.sum: _sum, np.mean: _mean, np.prod: _prod, np.max: _extreme("amax"),
        np.amax: _extreme("amax"), np.min: _extreme("amin"), np.amin: _extreme("amin"),
        np.var: _moment("var"), np.std: _moment("std"), np.round: _round, np.around: _round,
        np.zeros_like: _like(np.zeros_like), np.ones_like: _like(np.ones_like),
        np.empty_like: _like(np.empty_like), np.full_like: _like(np.full_like),
    }
    # Results that never carry a gradient: computed on the values, even for rg tensors.
    for g in (np.shape, np.ndim, np.size, np.argmax, np.argmin, np.argsort, np.nonzero,
              np.count_nonzero, np.allclose, np.isclose, np.array_equal, np.array_equiv,
              np.searchsorted, np.iscomplexobj, np.isrealobj, np.any, np.all):
        f[g] = _values_only(g)
    return f


_UFUNCS = _build_ufuncs()


def ufunc_handler(ufunc, method="__call__"):
    """The tapegrad function that runs NumPy ufunc ``ufunc`` (or its ``method``: ``reduce``,
    ``accumulate``, ``outer``, ``at``) on tensors, SciPy's special functions included (None:
    none)."""
    if method != "__call__":
        from .ufunc_methods import method_handler

        return method_handler(ufunc, method)
    return _UFUNCS.get(ufunc) or _foreign_ufunc(ufunc)


_REDUCE = {np.add: _reduce_handler("sum"), np.maximum: _reduce_handler("amax"),
           np.minimum: _reduce_handler("amin"), np.multiply: _reduce_handler("prod")}
_FUNC_HANDLERS = _build_functions()


def _linalg_handlers():
    """np.linalg.* -> tapegrad.linalg (NumPy's signatures and result tuples)."""
    from .linalg import numpy_handlers

    return numpy_handlers()


_FUNC_HANDLERS.update(_linalg_handlers())


def _composite_handlers():
    """Functions and ufuncs written as compositions of existing ops (composites.py)."""
    from . import arrays, composites, empty_axes, fft, inplace, shaping, signal, statistics, ufuncs

    for mod in (shaping, composites, ufuncs, arrays, statistics, fft, inplace, signal, empty_axes):
        _FUNC_HANDLERS.update(mod.function_handlers())
    for mod in (composites, ufuncs):
        for uf, h in mod.ufunc_handlers().items():
            _UFUNCS.setdefault(uf, h)


_composite_handlers()


def _bind_tensor_protocols():
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        """``np.sin(t)``, ``array * t``: NumPy ufuncs run tapegrad ops."""
        return array_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        """``np.sum(t, axis=0)`` & co. run tapegrad ops."""
        return array_function(func, types, args, kwargs)

    Tensor.__array_ufunc__ = __array_ufunc__
    Tensor.__array_function__ = __array_function__
    from .methods import bind_array_methods

    bind_array_methods()


_bind_tensor_protocols()
