"""Elementwise ops: forward in NumPy (``math`` for Python-float scalars), derivative formulas.

Each ``unary``/``binary`` line below is the op's whole declaration: forward functions, what the
record saves, and the derivative formula(s), which ``registry.OpDef`` compiles both into the
Numba sweep and into re-taping Tensor code. Variables: ``g`` output gradient, ``x``/``y``
inputs, ``out`` result, ``m`` saved mask, ``c0``/``c1`` scalar constants.
"""

import math
import operator

import numpy as np

from .. import tape
from ..device import DeviceArray, to_device
from .. import tensor as _tensor_mod
from ..tensor import DEFAULT_DTYPE as _DEFAULT, Tensor, _make, _new, _wrap
from . import array_records as AR, inference_saves as _inference_saves, record as R
from .complex_refusals import REFUSALS as _REFUSALS, refusal as _refusal, refusing_complex
from ..promotion import clamp_bounds, float_of as _float_of, pair_operands as _pair_operands
from ..registry import Op, defop
from .. import vecmath as V  # SIMD exp/log/sin/cos for large float64 arrays, else NumPy's
from ..vecmath.short_runs import SMALL_OPERANDS, binary as _broadcast_op  # short runs
from .movement import broadcast_to
from .node_names import DIV as _DIV_NAME, RSUB as _RSUB_NAME, SUB as _SUB_NAME, name_entry
from .shapes import broadcast_shapes, size_of, torch_dtype_name as _torch_name
from .binary_values import (add_value as _add_value, div_value as _div_value,
                            mul_value as _mul_value, number_cast as _number_cast,
                            pow_value as _pow_value, py_div as _py_div,
                            promoted_operands as _promoted_operands,
                            integer_quotient as _integer_quotient, sub_value as _sub_value)
from .numpy_rules import (SCALAR_ERRORS as _SCALAR_ERRORS, bool_error as _bool_error,
                          is_number as _is_number, np_power as _np_power, pow_py as _pow_py,
                          weak_scalar as _weak_scalar, scalar_fallback as _scalar_fallback,
                          refuse_bool_subtraction as _refuse_bool_subtraction, retried as _retried)

_grad_on = R._grad_on
_vmap_running = (0,)  # vmap's running count and dispatch, installed by tapegrad.func
_vmap_dispatch = None
_state = R._state
_local = tape._local
_F64 = np.dtype(np.float64)
_ndarray = np.ndarray


# ---- unary ------------------------------------------------------------------------------

def _unary(op, name, np_f, py_f, saves, dx, grad_fn=None, nconst=0):
    d = defop(op, name, "unary", grad_fn, saves=saves, dx=dx, nconst=nconst, forward=py_f,
              array_forward=np_f)
    code = int(op)
    save_x, save_out = "x" in saves, "out" in saves
    # vecmath's functions pick a kernel by size: below their threshold, NumPy's ufunc directly
    np_small, big = getattr(np_f, "small", np_f), getattr(np_f, "threshold", 0)

    def make(raw):  # (raw: the op that vmap's rule calls; None for that op itself)
        def fn(input):
            if type(input) is not Tensor:
                if raw is not None and _vmap_running[0]:  # vmap's rule for a batched tensor
                    return _vmap_dispatch(name, raw, input)
                if not isinstance(input, Tensor):
                    input = R.as_tensor(input)
            xd = input._data
            if type(xd) is float:
                try:
                    r = py_f(xd)
                except _SCALAR_ERRORS:
                    r = _scalar_fallback(np_f, xd)
                if input._rg and _state.grad_enabled:  # the flag itself: a call costs ~5% here
                    saved = xd if save_x else r if save_out else None
                    seg = _local.seg
                    if seg is None or input._seg is not seg or seg.n >= seg.check_at or \
                            _tensor_mod._inference_used:
                        return R.rec1(code, input, r, None, saved)
                    # R.rec1 inlined for a tensor of the current segment: a scalar chain's values
                    if saved is None:
                        v = -1
                    else:
                        fv = seg.fvals
                        v = len(fv) << 1
                        fv.append(saved)
                    i = seg.n
                    seg.n = i + 1
                    ints = seg.ints
                    ints += (code, input._rec, -1, -1, v, 1)  # (_renew flushes)
                    t = _new(Tensor)
                    t._data = r
                    t._rg = True
                    t._seg = seg
                    t._rec = i
                    return t
                return _make(r)
            if type(xd) is DeviceArray:  # a CUDA tensor (ops/cuda_ops.py)
                return _cuda().unary(d, input)
            try:
                r = np_small(xd) if big and xd.size < big else np_f(xd)
            except (TypeError, RuntimeWarning) as e:  # (a user's filter: _float_warnings)
                r = _retried(e, np_f, xd)
            rd = r.dtype  # (float64 results, the common case, pass one identity test)
            if rd is not _F64:
                kind = rd.kind  # (read once: float32 results pay for no complex test)
                if kind == "f":
                    if xd.dtype.kind in "biu":  # NumPy: bool/int8 in float16
                        r = np_f(xd.astype(_float_of(xd.dtype)))  # PyTorch: the default dtype
                elif kind in "cb" and name in _REFUSALS:  # (relu: NumPy orders complex
                    raise _refusal(name, rd)  # values, takes bools; PyTorch refuses both)
            elif xd.dtype is not _F64 and xd.dtype.kind in "biu" and _DEFAULT[0] is not _F64:
                r = np_f(xd.astype(_DEFAULT[0]))  # integers: the default dtype (float32)
            if type(r) is not _ndarray or not r.ndim:
                r = _wrap(r)  # (an array of at least one dim is its own normal form)
            if input._rg and _state.grad_enabled:
                if xd.dtype.kind == "c":
                    return _complex().unary(name, input, r)
                if type(r) is _ndarray and input._base is None:
                    return R.result_arrays(r, code, input, None, save_x, False, save_out)
                return _record_unary(code, input, r, save_x, save_out, -1)
            t = _new(Tensor)  # _make(r) inlined: the no_grad path of array code
            t._data = r
            if _tensor_mod._inference_used and _state.inference:
                t._inference = True
            return t

        return fn

    # one code object for both (tg.compile's tracer names the op through it); the public one
    # checks for vmap's batched tensors itself: a wrapper would cost a call on every op
    raw = make(None)
    fn = make(raw)
    for f in (raw, fn):
        f.__name__ = f.__qualname__ = name
        f.opdef = d
    fn.raw, fn.batch_aware = raw, True
    return fn


def _record_unary(code, x, r, save_x, save_out, aux, seg=None):
    saved, stamps = [], []
    if save_x:
        v, s = R.saved_value(x)
        saved.append(v)
        stamps.append(s)
    vc = None
    if save_out:
        if type(r) is float:
            saved.append(r)
        else:
            vc = [0]
            saved.append(R.saved_array(r))
        stamps.append((vc, 0) if vc else None)
    t = R.result(r, code, x, aux=aux, saved=saved, stamps=stamps, seg=seg)
    if vc is not None:
        t._vc = vc
    return t


def _sigmoid_np(x):
    if x.dtype.kind in "biu":  # integers -> float64 (no wrap-around in -|x| of unsigned ints)
        x = x.astype(_F64)
    if x.dtype.kind == "c":  # no overflow-safe branch to choose on the complex plane
        return 1.0 / (1.0 + np.exp(-x))
    return V.sigmoid(x)  # (already x's float dtype)


def _sigmoid_py(x):
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


_relu_np = V.relu  # (NumPy's maximum(x, 0) but for large float arrays: one compiled pass)


def _relu_py(x):
    return 0.0 if x <= 0.0 else x  # NaN stays NaN, like torch.relu


# NOTE: subgradients follow PyTorch 2.13: relu'(0) = 0, abs'(0) = 0 (sign), sqrt'(0) = inf.
neg = _unary(Op.NEG, "neg", np.negative, operator.neg, (), "-g")
exp = _unary(Op.EXP, "exp", V.exp, math.exp, ("out",), "g * out")
log = _unary(Op.LOG, "log", V.log, math.log, ("x",), "g / x")
log1p = _unary(Op.LOG1P, "log1p", np.log1p, math.log1p, ("x",), "g / (1.0 + x)",
               "Log1PBackward0")  # (PyTorch's spelling)
expm1 = _unary(Op.EXPM1, "expm1", np.expm1, math.expm1, ("out",), "g * (out + 1.0)")
sin = _unary(Op.SIN, "sin", V.sin, math.sin, ("x",), "g * cos(x)")
cos = _unary(Op.COS, "cos", V.cos, math.cos, ("x",), "-g * sin(x)")
tan = _unary(Op.TAN, "tan", np.tan, math.tan, ("out",), "g * (1.0 + out * out)")
tanh = _unary(Op.TANH, "tanh", np.tanh, math.tanh, ("out",), "g * (1.0 - out * out)")
sigmoid = _unary(Op.SIGMOID, "sigmoid", _sigmoid_np, _sigmoid_py, ("out",),
                 "g * out * (1.0 - out)")
# NOTE: relu passes g where out is not <= 0, so NaN inputs get g (torch's threshold_backward).
relu = _unary(Op.RELU, "relu", _relu_np, _relu_py, ("out",), "where(out <= 0.0, 0.0, g)")
sqrt = _unary(Op.SQRT, "sqrt", np.sqrt, math.sqrt, ("out",), "g * 0.5 / out")
abs = _unary(Op.ABS, "abs", np.abs, operator.abs, ("x",), "g * sign(x)")
clone = _unary(Op.CLONE, "clone", np.copy, float, (), "g", "CloneBackward0")


defop(Op.TO_COPY, "to", "unary", "ToCopyBackward0", saves=(), dx="g")


# ---- unary with scalar constants (x op c, c op x with c a Python number) ----------------
# These records have no public function of their own: binary ops with a number use them.
for _op, _name, _saves, _dx, _fn, _k in [
    (Op.ADDC, "add", (), "g", "AddBackward0", 1),
    (Op.MULC, "mul", (), "g * c0", "MulBackward0", 1),
    # NOTE: x**0 has gradient 0 everywhere, also at x = 0 (PyTorch masks 0 * inf).
    # Masked rules select with where and keep g outside the masked-away branch, so neither an
    # inf/nan g nor a 0 * log(0) of that branch leaks, at first or second order (PyTorch's
    # pow_backward: grad * (c * x ** (c - 1))).
    (Op.POWC, "pow", ("x",), "where(c0 == 0.0, 0.0, g * (c0 * x ** (c0 - 1.0)))",
     "PowBackward0", 1),
    # NOTE: c**x at c = 0: d/dx is 0 where x >= 0, i.e. where out (0 or 1) <= 1 (as PyTorch).
    (Op.RPOWC, "rpow", ("out",), "g * where((c0 == 0.0) & (out <= 1.0), 0.0, out * log(c0))",
     "PowBackward2", 1),
    # NOTE: c / x is reciprocal(x) * c in PyTorch: -(g * c) * (r * r) with r = 1 / x
    (Op.RDIVC, "rdiv", ("x",), "-(g * c0) * ((1.0 / x) * (1.0 / x))", "DivBackward0", 1),
    # NOTE: clamp passes the gradient at its bounds (min <= x <= max), like PyTorch.
    (Op.CLAMP, "clamp", ("x",), "where((x >= c0) & (x <= c1), g, 0.0)", "ClampBackward1", 2),
]:
    defop(_op, "_" + _name + "_c", "unary", _fn, saves=_saves, dx=_dx, nconst=_k,
          # NOTE: in float64, x ** 1.0 is x and x ** 2.0 is PyTorch's (and the formula's)
          # square x * x: squares' and cubes' dx without the power (a generated loop each)
          dx_at=((2.0, "g * (c0 * x)"), (3.0, "g * (c0 * (x * x))")) if _op == Op.POWC else ())


# opcodes as plain ints for the op paths: an enum member costs ~0.12 µs to read
_ADDC, _MULC, _RDIVC, _RPOWC, _POWC, _CLAMP, _WHERE = (int(o) for o in (
    Op.ADDC, Op.MULC, Op.RDIVC, Op.RPOWC, Op.POWC, Op.CLAMP, Op.WHERE))
_CONST_NAMES = {int(Op.ADDC): "add", int(Op.MULC): "mul", int(Op.POWC): "pow",
                int(Op.RPOWC): "rpow", int(Op.RDIVC): "rdiv", int(Op.CLAMP): "clamp"}


def _const_op(code, x, r, c0, c1=None, save_x=False, save_out=False):
    """Record a constant-variant op (see the table above) for tensor ``x`` and result ``r``;
    ``c0`` None: a unary op without constants (``ops/activations.py``'s one-record ones)."""
    xd = x._data
    if type(r) is not float and r.dtype.kind == "c":
        return _complex_const(code, x, r, c0)
    if type(r) is float and c1 is None:
        saved = (xd if type(xd) is float else float(np.asarray(xd).reshape(()))) if save_x \
            else (r if save_out else None)
        return R.rec1(code, x, r, c0 if c0 is None else float(c0), saved)
    if type(xd) is _ndarray and type(r) is _ndarray and x._base is None:  # CPU arrays
        if c0 is None:
            return R.result_arrays(r, code, x, None, save_x, False, save_out)
        seg = R.segment_for(x)  # the constants must go to the segment the record goes to
        faux = seg.faux
        aux = len(faux)
        faux.append(float(c0))
        if c1 is not None:
            faux.append(float(c1))
        return R.result_arrays(r, code, x, None, save_x, False, save_out, aux, seg)
    if c0 is None:
        return _record_unary(code, x, r, save_x, save_out, -1)
    seg = tape.prepare([x])
    aux = tape.add_faux(seg, float(c0)) if c1 is None else \
        tape.add_faux(seg, float(c0), float(c1))
    return _record_unary(code, x, r, save_x, save_out, aux, seg)


def _complex_const(code, x, r, c0):
    """A constant-variant record on a complex tensor: the complex rule for the same constant
    (``c0`` as this module stores it: ``x - c`` is ``x + (-c)``, ``x / c`` is ``x * (1/c)``)."""
    rule = {int(Op.ADDC): "add_c", int(Op.MULC): "mul_c", int(Op.POWC): "pow_c",
            int(Op.RPOWC): "rpow_c", int(Op.RDIVC): "rdiv_c"}.get(int(code))
    if rule is None:
        raise _complex().unsupported(_CONST_NAMES.get(int(code), "op"))
    return _complex().record(r, (x,), rule, c=c0)


def clamp(input, min=None, max=None):
    """Clamp to ``[min, max]``; the gradient passes where ``min <= input <= max``."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        from .compare import clamp_by_tensors

        return clamp_by_tensors(input, min, max)
    input = R.as_tensor(input)
    kind = input.dtype.kind
    if kind in "iub":  # a float bound makes the result floating (type promotion)
        dtype, min, max = clamp_bounds(input.dtype, min, max)
        if dtype != input.dtype:
            input = to(input, dtype)
    elif kind == "c":  # (NumPy's clip orders complex values lexicographically)
        raise _refusal("clamp", input.dtype)
    lo = -math.inf if min is None else float(min)
    hi = math.inf if max is None else float(max)
    xd = input._data
    if type(xd) is float:
        r = xd if xd != xd else (lo if xd < lo else hi if xd > hi else xd)
    elif type(xd) is DeviceArray:
        r = _cuda().clamp_value(xd, lo, hi)
    else:
        r = _wrap(np.clip(xd, lo, hi).astype(xd.dtype, copy=False))
    if input._rg and _grad_on():
        return _const_op(_CLAMP, input, r, lo, hi, save_x=True)
    return _make(r)


# ---- binary -----------------------------------------------------------------------------

def _max_py(x, y):
    return x if (x >= y or x != x) else y


def _min_py(x, y):
    return x if (x <= y or x != x) else y


def _binary(op, name, np_f, py_f, saves, dx, dy, grad_fn=None, const=None):
    """``const(x, c, reflected)`` handles a Python-number operand with a constant-variant op."""
    d = defop(op, name, "binary", grad_fn, saves=saves, dx=dx, dy=dy, forward=py_f,
              array_forward=np_f)
    code = int(op)
    save_x, save_y, save_out = "x" in saves, "y" in saves, "out" in saves

    def fn(input, other):
        if isinstance(input, Tensor) and isinstance(other, Tensor):
            # the common case first: two CPU arrays of one shape, no views, no broadcasting
            xd, yd = input._data, other._data
            if type(xd) is _ndarray and type(yd) is _ndarray and input._base is None and \
                    other._base is None and (xd.ndim or yd.ndim):
                if xd.shape == yd.shape:
                    if xd.dtype is not yd.dtype:  # computed once, in PyTorch's dtype
                        xd, yd = _promoted_operands(np_f, xd, yd, False, False)
                    try:
                        r = np_f(xd, yd)
                    except (TypeError, RuntimeWarning) as e:
                        r = _retried(e, np_f, xd, yd)
                    except ValueError:
                        if np_f is not np.power:
                            raise
                        r = _np_power(xd, yd)  # integers to negative integer powers
                    if r.dtype is not xd.dtype and xd.dtype.kind in "biu":  # integers divided
                        r = _integer_quotient(np_f, xd, yd, r)
                    if (input._rg or other._rg) and _state.grad_enabled:
                        if r.dtype.kind == "c":
                            return _complex().binary(name, input, other, r)
                        return R.result_arrays(r, code, input, other, save_x, save_y, save_out)
                    return _make(r)
                if xd.dtype is not yd.dtype:  # (a 0-d one of the same category gives way)
                    xd, yd = _promoted_operands(np_f, xd, yd, not xd.ndim, not yd.ndim)
                try:
                    r = np_f(xd, yd) if xd.size < SMALL_OPERANDS > yd.size else \
                        _broadcast_op(np_f, xd, yd)  # (large: a loop where NumPy's is slow)
                except ValueError:
                    r = None  # the general path below gives PyTorch's message
                except (TypeError, RuntimeWarning) as e:
                    r = _retried(e, np_f, xd, yd)
                if r is not None and r.dtype is not xd.dtype and xd.dtype.kind in "biu":
                    r = _integer_quotient(np_f, xd, yd, r)
                if r is not None:
                    if (input._rg or other._rg) and _state.grad_enabled:
                        if r.dtype.kind == "c":
                            return _complex().binary(name, input, other, r)
                        return AR.result_broadcast(r, code, input, other, save_x, save_y, save_out)
                    return _make(r)
        wx = wy = None  # Python numbers stay "weak" in NumPy's promotion (NEP 50)
        if isinstance(other, np.generic) or isinstance(input, np.generic):  # (weak too, as torch)
            input, other = _weak_scalar(input), _weak_scalar(other)
        if type(other) is complex or type(input) is complex:  # a weak complex number (NEP 50)
            return _complex_number(name, np_f, input, other)
        if not isinstance(other, Tensor):
            if const is not None and _is_number(other) and isinstance(input, Tensor):
                return const(input, other, False)
            wy = other if _is_number(other) else None
            other = R.as_tensor(other)
        if not isinstance(input, Tensor):
            if const is not None and _is_number(input):
                return const(other, input, True)
            wx = input if _is_number(input) else None
            input = R.as_tensor(input)
        xd, yd = input._data, other._data
        rec = (input._rg or other._rg) and _grad_on()
        if type(xd) is float and type(yd) is float:
            try:
                r = py_f(xd, yd)
            except _SCALAR_ERRORS:
                r = _scalar_fallback(np_f, xd, yd)
            if not rec:
                return _make(r)
            saved = ((xd,) if save_x else ()) + ((yd,) if save_y else ()) + \
                ((r,) if save_out else ())
            return R.result(r, code, input, other, saved=saved)
        if type(xd) is DeviceArray or type(yd) is DeviceArray:  # CUDA (ops/cuda_ops.py)
            return _cuda().binary(d, input, other, wx, wy, (save_x, save_y, save_out))
        xa = np.float64(xd) if type(xd) is float else xd  # NEP 50: a tensor is never "weak"
        ya = np.float64(yd) if type(yd) is float else yd
        if wy is not None:  # a Python number beside an integer tensor: PyTorch's dtype
            xa = _number_cast(np_f, xa, wy)
        elif wx is not None:
            ya = _number_cast(np_f, ya, wx)
        if wx is None and wy is None and xa.dtype != ya.dtype:  # PyTorch's promotion
            xa, ya = _promoted_operands(np_f, xa, ya, not xa.ndim, not ya.ndim)
        try:
            r = _broadcast_op(np_f, xa if wx is None else wx, ya if wy is None else wy)
            if wx is None and wy is None and xa.dtype.kind in "biu" and \
                    np.result_type(r).kind == "f" or np_f is np.power and \
                    xa.dtype.kind == "b" == ya.dtype.kind:  # (integers divided; bool ** bool)
                r = _integer_quotient(np_f, xa, ya, np.asarray(r))
            r = _wrap(r)
        except ValueError:
            broadcast_shapes(xa.shape, ya.shape)  # PyTorch's error message on a mismatch
            if np_f is not np.power:
                raise
            r = _wrap(_np_power(xa if wx is None else wx, ya if wy is None else wy))
        except TypeError as e:
            raise _bool_error(e) from None
        if not rec:
            return _make(r)
        if type(r) is not float and r.dtype.kind == "c":
            return _complex().binary(name, input, other, r)
        shape = () if type(r) is float else r.shape
        xs, ys = xa.shape, ya.shape
        if xs == shape and ys == shape:
            seg = None
        else:
            # Broadcast explicitly: a stride-0 gather recorded for each input that needs one
            # (its VJP is the sum). The gathers and the op go on one segment, chosen once: a
            # gather has no value, only this record reads it, so it cannot be imported.
            if R.inference_now(input, other, op=code, saves=(save_x, save_y)):
                return _make(r)
            R.refresh_views(input, other)
            seg = tape.prepare([t for t in (input, other) if t._rg])
        saved, stamps, vc = [], [], None
        for keep, src, sd, ss in ((save_x, input, xa, xs), (save_y, other, ya, ys)):
            if keep:
                if ss == shape:
                    v, st = R.saved_value(src)
                else:  # the broadcast value, stamped with its source's version
                    v, st = R.saved_value(src, sd)
                    v = R.broadcast_saved(v, shape, size_of(shape))
                saved.append(v)
                stamps.append(st)
        if save_out:
            if type(r) is float:
                saved.append(r)
            else:
                vc = [0]
                saved.append(R.saved_array(r))
            stamps.append((vc, 0) if vc else None)
        if seg is None:
            t = R.result(r, code, input, other, saved=saved, stamps=stamps)
        else:
            n = size_of(shape)
            a = AR.broadcast_operand(seg, input, shape, n) if input._rg else -1
            b = AR.broadcast_operand(seg, other, shape, n) if other._rg else -1
            t = R.append(r, code, seg, a, b, -1, saved, stamps)
        if vc is not None:
            t._vc = vc
        return t

    fn.__name__ = fn.__qualname__ = name
    fn.opdef = d
    return fn


def _complex_number(name, np_f, x, y):
    """``x op y`` where one operand is a Python complex number (ops/complex.py)."""
    t = y if type(x) is complex else x
    if np_f is np.subtract and isinstance(t, Tensor) and t.dtype.kind == "b":
        _refuse_bool_subtraction("b", "c")  # (NumPy subtracts it; PyTorch refuses)
    C = _complex()
    if type(y) is complex and isinstance(x, Tensor):
        return C.number(name, np_f, x, y, False)
    if type(x) is complex and isinstance(y, Tensor):
        return C.number(name, np_f, y, x, True)
    xa = x if type(x) is complex else R.as_tensor(x)._arr()
    ya = y if type(y) is complex else R.as_tensor(y)._arr()
    return _make(_wrap(np.asarray(np_f(xa, ya))))


def _complex():
    from . import complex as C

    return C


def _const_add(x, c, reflected):
    r = _add_value(x._data, c, reflected)
    return _const_op(_ADDC, x, r, c) if x._rg and _grad_on() else _make(r)


def _const_sub(x, c, reflected):
    if type(c) is bool or x.dtype.kind == "b":
        _refuse_bool_subtraction(x.dtype.kind, "b" if type(c) is bool else "f")
    r = _sub_value(x._data, c, reflected)
    if not (x._rg and _grad_on()):
        return _make(r)
    t = _const_op(_MULC, x, r, -1.0) if reflected else _const_op(_ADDC, x, r, -c)  # (c - x: -g)
    return name_entry(t, _RSUB_NAME if reflected else _SUB_NAME)


def _const_mul(x, c, reflected):
    r = _mul_value(x._data, c, reflected)
    return _const_op(_MULC, x, r, c) if x._rg and _grad_on() else _make(r)


def _const_div(x, c, reflected):
    r = _div_value(x._data, c, reflected)
    if not (x._rg and _grad_on()):
        return _make(r)
    if reflected:
        return _const_op(_RDIVC, x, r, c, save_x=True)
    return name_entry(_const_op(_MULC, x, r, math.inf if c == 0 else 1.0 / c), _DIV_NAME)


def _const_pow(x, c, reflected):
    r = _pow_value(x._data, c, reflected)
    if not (x._rg and _grad_on()):
        return _make(r)
    if reflected:
        return _const_op(_RPOWC, x, r, c, save_out=True)
    return _const_op(_POWC, x, r, c, save_x=True)


add = _binary(Op.ADD, "add", np.add, operator.add, (), "g", "g", const=_const_add)
sub = _binary(Op.SUB, "sub", np.subtract, operator.sub, (), "g", "-g", const=_const_sub)
mul = _binary(Op.MUL, "mul", np.multiply, operator.mul, ("x", "y"), "g * y", "g * x",
              const=_const_mul)
# NOTE: dy as PyTorch computes it, -g * ((x / y) / y): y * y would overflow first (y = 1e308)
div = _binary(Op.DIV, "div", np.true_divide, _py_div, ("x", "y"), "g / y",
              "-g * (x / y / y)", const=_const_div)
# NOTE: pow's masks follow PyTorch: d/dx is 0 where y == 0; d/dy is 0 where x == 0 and y >= 0.
pow = _binary(Op.POW, "pow", np.power, _pow_py, ("x", "y", "out"),
              "where(y == 0.0, 0.0, g * (y * x ** (y - 1.0)))",
              "g * where((x == 0.0) & (y >= 0.0), 0.0, out * log(x))", const=_const_pow,
              grad_fn="PowBackward1")
# NOTE: ties split the gradient 0.5/0.5 between the arguments, like torch.maximum; the loser
# gets 0; a NaN comparison masks nothing, so both arguments get g there (as in torch).
maximum = _binary(Op.MAXIMUM, "maximum", refusing_complex(np.maximum, "maximum"), _max_py,
                  ("x", "y"), "where(x < y, 0.0, where(x == y, 0.5 * g, g))",
                  "where(x > y, 0.0, where(x == y, 0.5 * g, g))")
minimum = _binary(Op.MINIMUM, "minimum", refusing_complex(np.minimum, "minimum"), _min_py,
                  ("x", "y"), "where(x > y, 0.0, where(x == y, 0.5 * g, g))",
                  "where(x < y, 0.0, where(x == y, 0.5 * g, g))")

_where_def = defop(Op.WHERE, "where", "binary", "WhereBackward0", saves=("m",),
                   dx="where(m, g, 0.0)", dy="where(m, 0.0, g)")


def where(condition, input=None, other=None):
    """``input`` where ``condition`` else ``other``; the unselected branch gets a zero gradient.
    ``where(condition)`` alone: the indices of its true elements, one tensor per dim
    (``nonzero(as_tuple=True)``)."""
    if input is None and other is None:
        cond = condition._arr() if isinstance(condition, Tensor) else np.asarray(condition)
        on = type(cond) is DeviceArray  # the indices go back to the condition's device
        idx = [i.astype(np.int64) for i in np.nonzero(np.atleast_1d(cond.host() if on else cond))]
        return tuple(_make(to_device(i) if on else i) for i in idx)
    if isinstance(condition, Tensor) and condition.dtype != np.bool_:
        raise RuntimeError("where expected condition to be a boolean tensor, but got a "
                           f"tensor with dtype {_torch_name(condition.dtype)}")
    return select(_inference_saves.refuse_saved_mask(condition, input, other), input, other)


def select(condition, x, y):
    """``where`` of any condition (nonzero is true): derivative rules pass saved 0/1 masks."""
    if any(isinstance(t, Tensor) and type(t._data) is DeviceArray for t in (condition, x, y)):
        return _where_cuda(condition, x, y)
    cond = condition._arr() if isinstance(condition, Tensor) else np.asarray(condition)
    cond = cond.astype(bool, copy=False)
    # NEP 50: a Python number is weak (where(c, 0.0, f32) stays float32); tensors are not
    x, y = _weak_scalar(x), _weak_scalar(y)
    xa = x if _is_number(x) else np.asarray(R.as_tensor(x)._data)
    ya = y if _is_number(y) else np.asarray(R.as_tensor(y)._data)
    xa, ya = _pair_operands(xa, ya)  # PyTorch's result dtype
    x, y = R.as_tensor(x), R.as_tensor(y)
    shape = broadcast_shapes(broadcast_shapes(cond.shape, np.shape(xa)), np.shape(ya))
    r = _wrap(V.where(cond, xa, ya))
    if not R.needs_grad(x, y):
        return _make(r)
    if type(r) is not float and r.dtype.kind == "c":
        return _complex().where(cond, x, y, r)
    # (an input without grad is a constant of the record: not broadcast, not recorded)
    bx = x if not x._rg or x.shape == shape else broadcast_to(x, shape)
    by = y if not y._rg or y.shape == shape else broadcast_to(y, shape)
    # the mask in the values' precision: a float32 sweep's compiled loops read one dtype
    m = (cond if cond.shape == shape else np.broadcast_to(cond, shape)).astype(
        np.float32 if type(r) is not float and r.dtype == np.float32 else np.float64,
        order="C")  # the sweep reads C order
    return R.result(r, _WHERE, bx, by, saved=[m if m.size != 1 else float(m.reshape(()))])


def _where_cuda(condition, x, y):
    """``where`` with CUDA tensors: the same WHERE record, mask and values on the device."""
    dev = _cuda()
    # 0-d CPU tensors move to the device (PyTorch allows CPU scalars); other mixes raise
    moved = iter(dev.to_same_device(*[t for t in (condition, x, y) if isinstance(t, Tensor)]))
    condition, x, y = (next(moved) if isinstance(t, Tensor) else t for t in (condition, x, y))
    cond = condition._data if isinstance(condition, Tensor) else np.asarray(condition, bool)
    xa = x if _is_number(x) else R.as_tensor(x)._data
    ya = y if _is_number(y) else R.as_tensor(y)._data
    x, y = R.as_tensor(x), R.as_tensor(y)
    shape = broadcast_shapes(broadcast_shapes(np.shape(cond) if not isinstance(
        cond, DeviceArray) else cond.shape, x.shape), y.shape)
    r = dev.where_value(cond, xa, ya, shape)
    if not R.needs_grad(x, y):
        return _make(r)
    bx = x if x.shape == shape else broadcast_to(x, shape)
    by = y if y.shape == shape else broadcast_to(y, shape)
    m = dev.where_mask(cond, shape)
    seg = tape.prepare([t for t in (x, y) if t._rg])
    return R.result(r, _WHERE, bx, by, saved=[dev.saved_array(m) if m.size == 1 else m],
                    seg=seg)


def _cuda():
    from . import cuda_ops

    return cuda_ops


# Tensor-level aliases used by derivative formulas and operators.
def sign(input):
    """Sign of ``input``; its gradient is zero (PyTorch's sign requires grad, with zero
    derivative)."""
    input = R.as_tensor(input)
    d = input._data
    if type(d) is float:  # NOTE: sign(nan) = 0, as in PyTorch (NumPy gives nan)
        return zero_grad_like(input, 0.0 if d != d else math.copysign(1.0, d) if d else 0.0)
    if d.dtype.kind == "c":  # NumPy's sign of z is z / |z|: PyTorch's sgn, which sign refuses
        raise _refusal("sign", d.dtype)
    if type(d) is _ndarray and d.dtype.kind == "b":  # sign of a bool is itself (torch)
        return _make(d.copy())
    if type(d) is DeviceArray:
        return zero_grad_like(input, _cuda().sign_value(d))
    r = np.sign(d)
    return zero_grad_like(input, _wrap(np.where(np.isnan(r), 0, r).astype(r.dtype, copy=False)
                                   if r.dtype.kind == "f" else r))


# NOTE: the derivative is the constant 0 (PyTorch's zeros_like), not 0 * g: an inf or nan g
# gives 0, and the zero does not depend on g at second order.
defop(Op.ZERO_GRAD, "_zero_grad", "unary", "SignBackward0", saves=(), dx="0.0")


def zero_grad_like(x, r):
    """Wrap ``r``, a piecewise-constant function of ``x``: zero gradient, like PyTorch's
    sign/floor/round (the result requires grad when ``x`` does)."""
    if x._rg and _grad_on() and (type(r) is float or r.dtype.kind == "f"):
        if type(r) is float:
            return R.rec1(int(Op.ZERO_GRAD), x, r, None, None)
        return _record_unary(int(Op.ZERO_GRAD), x, r, False, False, -1)
    return _make(r)


from .conversion import contiguous, to  # noqa: E402,F401  (they use clone, defined above)
