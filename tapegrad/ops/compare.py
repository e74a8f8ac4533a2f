"""Comparisons and logical ops: values only, never a gradient (results are bool tensors)."""

import numpy as np

from ..device import DeviceArray
from ..promotion import is_number, result_dtype, wrapped_int
from .. import tensor as _tensor_mod
from ..grad_mode import no_grad
from ..tensor import Tensor, _make, _wrap
from .complex_refusals import refusal, refuse_pair
from .one_op import untracked
from .shapes import broadcast_shapes, torch_dtype_name


def _value(v):
    if isinstance(v, Tensor):
        d = v._data
        return np.float64(d) if type(d) is float else d
    return v


_ndarray = np.ndarray


def _compare(np_f, name):
    ordering = name in ("lt", "le", "gt", "ge")

    def fn(input, other):
        if other is None:  # t == None is False and t != None True, as in PyTorch
            if name in ("eq", "ne"):
                return name == "ne"
        a, b = _value(input), _value(other)
        tb = type(b)
        if tb is int:
            is_number(b)  # (PyTorch's OverflowError for an int that 64 bits cannot hold)
        if type(a) is _ndarray and (tb is _ndarray or tb is float or tb is int):
            # the common cases, two arrays or an array and a number: attributes only
            if ordering and (a.dtype.kind == "c" or tb is _ndarray and b.dtype.kind == "c"):
                refuse_pair(name, a, b)  # (NumPy orders complex values lexicographically)
            if tb is _ndarray and a.shape != b.shape:
                broadcast_shapes(a.shape, b.shape)  # PyTorch's message
        else:
            if type(a) is DeviceArray or type(b) is DeviceArray:
                from .cuda_ops import compare

                return compare(name, a, b)
            if ordering and not isinstance(b, (str, bytes)):
                refuse_pair(name, a, b)
            sa, sb = np.shape(a), np.shape(b)
            if sa != sb:
                broadcast_shapes(sa, sb)  # PyTorch's message, also for an ndarray/list operand
        try:
            return _make(_wrap(np.asarray(np_f(a, b))))
        except TypeError:  # (off the common path) a string: Python's answer, as PyTorch gives
            if not isinstance(b, (str, bytes)):
                raise
            if name in ("eq", "ne"):
                return name == "ne"
            op = {"lt": "<", "le": "<=", "gt": ">", "ge": ">="}.get(name, name)
            raise TypeError(f"'{op}' not supported between instances of 'Tensor' and "
                            f"'{type(b).__name__}'") from None

    fn.__name__ = name
    return fn


eq = _compare(np.equal, "eq")
ne = _compare(np.not_equal, "ne")
lt = _compare(np.less, "lt")
le = _compare(np.less_equal, "le")
gt = _compare(np.greater, "gt")
ge = _compare(np.greater_equal, "ge")
logical_and = _compare(np.logical_and, "logical_and")
logical_or = _compare(np.logical_or, "logical_or")
logical_xor = _compare(np.logical_xor, "logical_xor")


def logical_not(input):
    v = _value(input)
    if type(v) is DeviceArray:  # on the device: x == 0 (nan is true, hence not zero)
        from .cuda_ops import compare

        return compare("eq", v, 0)
    return _make(_wrap(np.asarray(np.logical_not(v))))


def _device_invert(x, v):
    """``~x`` of a CUDA tensor: logical not of a mask, ``-x - 1`` of integers (two's
    complement)."""
    if v.dtype.kind == "b":
        return logical_not(x)
    from .elementwise import neg, sub

    return sub(neg(x), 1)


# ---- bitwise ops: integer and bool tensors only (PyTorch has no float kernels for them) -----

_SHIFTS = ("lshift", "rshift")


def _integer_values(kernel, *operands):
    """The operands' values; a float or complex one raises PyTorch's missing-kernel error."""
    values = [_value(v) for v in operands]
    dtype = np.result_type(*[v.dtype if type(v) is DeviceArray else v for v in values])
    if dtype.kind not in "iub" or dtype.kind == "b" and kernel in _SHIFTS:
        name = torch_dtype_name(dtype)  # (NumPy would shift bools as int8)
        where = "cuda" if any(type(v) is DeviceArray for v in values) else "cpu"
        raise NotImplementedError(f'"{kernel}_{where}" not implemented for \'{name}\'')
    return values


def _wrapped(number, other):
    """A Python int beside integers ``other``, wrapped into their dtype as PyTorch casts it
    (``uint8_tensor & 300`` is ``& 44``; NumPy 2 raises OverflowError)."""
    dt = getattr(other, "dtype", None)
    return wrapped_int(number, dt) if dt is not None and dt.kind in "iu" else number


def _bitwise(np_f, name, kernel):
    compare = _compare(np_f, name)

    def fn(x, y):
        values = _integer_values(kernel, x, y)
        if type(y) is int or type(x) is int:  # (PyTorch casts it into the tensor's dtype)
            x, y = (_wrapped(x, values[1]), y) if type(x) is int else (x, _wrapped(y, values[0]))
        elif type(values[0]) is _ndarray and type(values[1]) is _ndarray:
            a, b = values
            if a.dtype != b.dtype and (a.ndim == 0) != (b.ndim == 0):
                # a 0-d tensor gives way to a dimensioned one of its category (NumPy's 0-d
                # arrays do not): int8 | tensor(4) is int8
                dt = result_dtype(a.dtype, a.ndim == 0, b.dtype, b.ndim == 0)
                x, y = (a if a.dtype == dt else a.astype(dt)), (b if b.dtype == dt
                                                                  else b.astype(dt))
        return compare(x, y)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise ``{name}`` of integer or bool tensors (no gradient)."
    return fn


bitwise_and = _bitwise(np.bitwise_and, "bitwise_and", "bitwise_and")
bitwise_or = _bitwise(np.bitwise_or, "bitwise_or", "bitwise_or")
bitwise_xor = _bitwise(np.bitwise_xor, "bitwise_xor", "bitwise_xor")
bitwise_left_shift = _bitwise(np.left_shift, "bitwise_left_shift", "lshift")
bitwise_right_shift = _bitwise(np.right_shift, "bitwise_right_shift", "rshift")


def bitwise_not(x):
    """``~x``: logical not of a bool tensor, two's complement of an integer one."""
    (v,) = _integer_values("bitwise_not", x)
    if type(v) is DeviceArray:
        return _device_invert(x, v)
    return _make(_wrap(np.asarray(np.invert(v))))


def invert(x):
    """The ``~`` operator (``bitwise_not``), with PyTorch's TypeError on floating tensors."""
    v = _value(x)
    kind = v.dtype.kind
    if kind not in "iub":
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type "
                        "tensors")
    if type(v) is DeviceArray:
        return _device_invert(x, v)
    if kind == "b":  # the common case, a mask: no promotion to work out
        return _make(_wrap(np.asarray(np.logical_not(v))))
    return _make(_wrap(np.asarray(np.invert(v))))


def _refuse_complex(x, min, max):
    """PyTorch's refusal of complex clamp operands: its clamp message for a complex input, the
    kernel that meets them for complex bounds of a real input."""
    operands = [t.dtype if isinstance(t, Tensor) else t if isinstance(t, (int, float, complex))
                else np.asarray(t).dtype for t in (x, min, max) if t is not None]
    dtype = np.result_type(*operands)  # (a Python number weak, as in PyTorch)
    if dtype.kind != "c":
        return
    if np.result_type(operands[0]).kind == "c":
        raise refusal("clamp", dtype)
    raise refusal("clamp.bounds" if min is not None and max is not None else
                  "clamp_min.tensor" if min is not None else "clamp_max.tensor", dtype)


def clamp_by_tensors(x, min, max):
    """``clamp`` with a tensor bound (ops of the comparisons, so every order and vmap follow)."""
    from . import record as R
    from .elementwise import where
    from .inference_saves import refuse_any_saved
    from .numpy_rules import tensors_promoted

    if _tensor_mod._inference_used and untracked(x, min, max):  # (one op in PyTorch)
        with no_grad():
            return clamp_by_tensors(x, min, max)
    _refuse_complex(x, min, max)
    if _tensor_mod._inference_used:  # (its backward saves the input and the bounds)
        refuse_any_saved(x, min, max)
    # one bound, PyTorch's rule: x's gradient where x >= min (x <= max), the bound's where
    # x < min (x > max); where a NaN makes both false, neither (the value: NaN, a constant).
    # where, not maximum/minimum: x keeps the whole gradient at a bound, no 0.5
    if min is None or max is None:
        bound, keep, take = (min, ge, lt) if max is None else (max, le, gt)
        x, bound = tensors_promoted(x, bound)  # (the where below would see bound dimensioned)
        rest = where(take(x, bound), bound, np.nan) if x.dtype.kind == "f" else bound
        return where(keep(x, bound), x, rest)
    # both bounds: PyTorch's rule, min's gradient where x < min < max, max's where
    # x > max or max < min, x's where min <= x <= max; none where x < min == max (the
    # value, min, is then a constant)
    x_, lo, hi = (R.as_tensor(t).detach() for t in (x, min, max))
    value = where(gt(where(lt(x_, lo), lo, x_), hi), hi, where(lt(x_, lo), lo, x_))
    out = where(ge(x, min) & le(x, max), x, value)
    out = where(lt(x, min) & lt(min, max), min, out)
    out = where(gt(x, max) | lt(max, min), max, out)
    # NaN wherever an operand is NaN (a constant term: the gradients stay where they are)
    nan = ne(x_, x_) | ne(lo, lo) | ne(hi, hi)
    return out + where(nan, np.nan, 0.0) if nan.any() else out
