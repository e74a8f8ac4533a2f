"""PyTorch's type promotion, where it differs from NumPy's.

NumPy widens an integer meeting a float (``int64 * float32`` is float64) and lets a 0-d array
promote a dimensioned one (``float32_vector * float64_scalar_tensor`` is float64); PyTorch
keeps the float's dtype, and a 0-d tensor (or a Python number) changes the result only when it
is of a higher category (bool < integer < float < complex). A float32 program that meets an
index, a mask or a 0-d constant therefore stayed float32 in PyTorch and ran in float64 here.
A binary op whose operands' dtypes differ casts them with ``promoted`` first and computes once
(operands of one dtype pass one identity test on the hot path); integers that become floats
(true division, float functions of integers, an integer tensor times a Python float) take the
default dtype, as PyTorch's do. ``fill_number``: a number written into a tensor (full, fill_,
``x[i] = v``) as PyTorch converts it, refusing a complex one whose imaginary part would be lost.
"""

import warnings

import numpy as np

from .tensor import _DTYPE_NAMES, DEFAULT_DTYPE

_ndarray = np.ndarray

_COMPLEX_OF = {np.dtype(np.float16): np.dtype(np.complex64),
               np.dtype(np.float32): np.dtype(np.complex64),
               np.dtype(np.float64): np.dtype(np.complex128)}


def category(dt):
    """0 bool, 1 integer, 2 float, 3 complex."""
    k = dt.kind
    return 2 if k == "f" else 1 if k in "iu" else 3 if k == "c" else 0


def can_cast(a, b):
    """``torch.can_cast``: no cast to a lower category (int64 -> uint8 and float64 -> float16
    are allowed; float -> int, complex -> float and any -> bool are not)."""
    return category(np.dtype(a)) <= category(np.dtype(b))


def promote_types(a, b):
    """``torch.promote_types``: an integer or bool meeting a float or complex takes the latter's
    dtype unwidened; within a category, NumPy's (and PyTorch's) table."""
    ca, cb = category(a), category(b)
    if ca >= 2 > cb:
        return a
    if cb >= 2 > ca:
        return b
    return np.result_type(a, b)


def promote_all(dtypes):
    """``promote_types`` folded over ``dtypes`` (cat, stack: no operand has priority)."""
    it = iter(dtypes)
    dt = next(it)
    for d in it:
        if d is not dt:
            dt = promote_types(dt, d)
    return dt


def _combine(higher, lower):
    """``higher`` (the dtype of the dimensioned operands) beside ``lower`` (a 0-d tensor's or a
    Python number's): kept unless ``lower`` is of a higher category (PyTorch's rule)."""
    ch, cl = category(higher), category(lower)
    if ch == 3:
        return higher
    if cl == 3:
        return _COMPLEX_OF[higher] if ch == 2 else lower
    if ch == 2:
        return higher
    if ch == 0 or cl == 2:
        return promote_types(higher, lower)
    return higher


def result_dtype(a, a_zero_dim, b, b_zero_dim):
    """The dtype of a binary op's result on operands of dtypes ``a`` and ``b``; ``*_zero_dim``:
    that operand is a 0-d tensor (it gives way to a dimensioned one of its category)."""
    if a_zero_dim == b_zero_dim:
        return promote_types(a, b)
    return _combine(b, a) if a_zero_dim else _combine(a, b)


def number_dtype(dt, number):
    """The result dtype of a tensor of dtype ``dt`` with the Python number ``number``: the
    tensor's unless the number is of a higher category (a float beside integers: the default
    dtype)."""
    if type(number) is bool:
        return dt
    if type(number) is int:
        return np.dtype(np.int64) if dt.kind == "b" else dt
    if isinstance(number, complex):  # (np.complex128 too) beside reals: complex
        return _combine(dt, _COMPLEX_OF[DEFAULT_DTYPE[0]])
    return _combine(dt, DEFAULT_DTYPE[0])


def pair_operands(xa, ya):
    """Two operands (ndarrays or Python numbers) of an op that NumPy evaluates as a whole
    (``where``) cast to PyTorch's result dtype where NumPy's would differ."""
    if type(xa) is _ndarray and type(ya) is _ndarray and xa.dtype is ya.dtype:
        return xa, ya  # (the common case, first: arrays of one dtype)
    nx, ny = is_number(xa), is_number(ya)
    if nx and ny:  # two numbers: a float among them gives the default dtype (NumPy's float64)
        dt = DEFAULT_DTYPE[0]
        if dt.itemsize == 8 or not (type(xa) is float or type(ya) is float):
            return xa, ya
        return np.asarray(xa, dt), np.asarray(ya, dt)
    if nx or ny:
        t, number = (ya, xa) if nx else (xa, ya)
        if t.dtype.kind in "fc":  # (a float tensor beside a number keeps its dtype)
            return xa, ya
        dt = number_dtype(t.dtype, number)
    elif xa.dtype is ya.dtype:
        return xa, ya
    else:
        dt = result_dtype(xa.dtype, not xa.ndim, ya.dtype, not ya.ndim)
    return (xa if nx or xa.dtype == dt else xa.astype(dt)), \
        (ya if ny or ya.dtype == dt else ya.astype(dt))


def is_number(v):
    """A Python number: "weak" in NumPy's promotion (NEP 50); NumPy scalars (np.float64
    subclasses float) are not. It is an operand: an int that no 64-bit number (int64 or
    uint64) holds raises PyTorch's OverflowError ("int too big to convert")."""
    if isinstance(v, (int, float)) and not isinstance(v, np.generic):
        return type(v) is not int or _I64_MIN <= v < _U64_END or raise_int_operand(v)
    return False


def raise_int_operand(value):
    """Raise PyTorch's OverflowError for an int operand that no 64-bit number holds."""
    raise scalar_int_error(value)


def float_of(dt):
    """The dtype a float function of a ``dt`` tensor gives: ``dt`` for floats, else the default."""
    return dt if dt.kind in "fc" else DEFAULT_DTYPE[0]


def promoted(x, y, x_zero_dim, y_zero_dim, true_divide=False):
    """``(x, y)`` (ndarrays or NumPy scalars) cast to PyTorch's result dtype of a binary op on
    them (true division: integers become the default dtype), to compute the op once in it."""
    dx, dy = x.dtype, y.dtype
    dt = result_dtype(dx, x_zero_dim, dy, y_zero_dim)
    if true_divide and dt.kind in "biu":
        dt = DEFAULT_DTYPE[0]
    return (x if dx == dt else x.astype(dt)), (y if dy == dt else y.astype(dt))


_C_TYPES = {"float64": "double", "float32": "float", "float16": "c10::Half", "int64": "int64_t",
            "int32": "int", "int16": "int16_t", "int8": "int8_t", "uint8": "uint8_t",
            "complex64": "c10::complex<float>", "complex128": "c10::complex<double>"}


def same_dtype(name, x, other):
    """PyTorch's error where an operand ``other`` named ``name`` must have ``x``'s dtype."""
    if other.dtype != x.dtype:
        raise RuntimeError(f"expected dtype {_C_TYPES.get(x.dtype.name, x.dtype.name)} for "
                           f"`{name}` but got dtype "
                           f"{_C_TYPES.get(other.dtype.name, other.dtype.name)}")


_INT_RANGES = {np.dtype(t): (np.iinfo(t).min, np.iinfo(t).max)
               for t in (np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64)}


def wrapped_int(number, dt):
    """A Python int beside (or written into) integers of dtype ``dt`` as PyTorch casts it: to
    ``dt`` modulo its range (``uint8_tensor + (-1)`` adds 255; NumPy 2 raises OverflowError)."""
    lo, hi = _INT_RANGES.get(dt, (number, number))
    return number if lo <= number <= hi else int(np.array(number).astype(dt))


def int_overflow(dt):
    """PyTorch's error for an int that integer dtype ``dt`` cannot hold where it checks."""
    return RuntimeError(f"value cannot be converted to type {_C_TYPES.get(dt.name, dt.name)} "
                        "without overflow")


def int_exponent(number, dt):
    """An int exponent of integers of dtype ``dt``: PyTorch converts it to ``dt`` with a check
    (``uint8_tensor ** 300`` raises; NumPy would wrap it to 44 and compute)."""
    if number < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    if number > _INT_RANGES.get(dt, (0, number))[1]:
        raise int_overflow(dt)
    return number


_FLOAT_RANGES = {np.dtype(t): (float(np.finfo(t).min), float(np.finfo(t).max), False)
                 for t in (np.float32, np.float16)}
_FLOAT_RANGES.update((dt, (lo, hi, True)) for dt, (lo, hi) in _INT_RANGES.items())
_FLOAT_RANGES.update([(dt.type, limits) for dt, limits in _FLOAT_RANGES.items()])


def fill_float(value, dt, half_ok=False):
    """A Python float written into a tensor of dtype ``dt`` as PyTorch checks it: out of the
    range of float32, float16 or an integer dtype it is PyTorch's overflow error (inf and nan
    fill a floating dtype; ``x[i] = v`` of float16 lets ``v`` round, as there: ``half_ok``)."""
    limits = _FLOAT_RANGES.get(dt)
    if limits is None or limits[0] <= value <= limits[1]:
        return value
    dt = np.dtype(dt)
    if not limits[2] and (value != value or abs(value) == float("inf")
                          or (half_ok and dt.itemsize == 2)):
        return value
    raise int_overflow(dt)


def fill_number(value, dtype, half_ok=False, setitem=False):
    """``value`` to fill a tensor of ``dtype`` with: a complex number's real part for a real
    dtype (its truth for bool), or PyTorch's error where the imaginary part would be lost
    (NumPy drops it with a warning); an int out of an integer dtype's range is PyTorch's
    overflow error (a negative one that an unsigned dtype can wrap is wrapped, as there), and
    so is a number out of a float32 or float16 dtype's range (``fill_float``). A NumPy scalar
    number is a Python number to PyTorch (``full((2,), np.float32(1.5))`` has the default
    dtype); an int that no 64-bit number holds raises as there (``setitem``: ``x[i] = v``'s
    error)."""
    kind = type(value)  # (a float first: the common fill costs one identity test)
    if kind is float:
        limits = _FLOAT_RANGES.get(dtype)  # (float64 and complex: None, no call)
        if (limits is None and dtype is not None) or limits and limits[0] <= value <= limits[1]:
            return value
        return fill_float(value, DEFAULT_DTYPE[0] if dtype is None else dtype, half_ok)
    if kind is not int and isinstance(value, (np.floating, np.integer)):
        return fill_number(float(value) if isinstance(value, np.floating) else int(value),
                           dtype, half_ok, setitem)
    if kind is int and not _I64_MIN <= value <= _I64_MAX:
        if setitem:
            raise ValueError("Overflow when unpacking long long")
        if not _I64_MIN <= value < _U64_END:
            raise scalar_int_error(value)
        if dtype is None:  # (an int's tensor: int64)
            raise int_overflow(np.dtype(np.int64))
        if np.dtype(dtype).kind == "b":
            return True
    if kind is int and dtype is not None:
        dt = np.dtype(dtype)
        lo, hi = _INT_RANGES.get(dt, (value, value))
        if lo <= value <= hi:
            return value if dt.kind != "f" else (fill_float(float(value), dt, half_ok) and value)
        if dt.kind == "u" and -hi <= value < 0:  # (PyTorch's check lets -1 fill uint8 with 255)
            return wrapped_int(value, dt)
        raise int_overflow(dt)
    if dtype is None or not (kind is complex or isinstance(value, np.complexfloating)):
        return value
    dt = np.dtype(dtype)
    if dt.kind == "b":
        return bool(value)
    if dt.kind in "fiu":
        if value.imag != 0:
            raise RuntimeError(f"value cannot be converted to type {_C_TYPES[dt.name]} without "
                               "overflow")
        return value.real
    return value


_I64_MIN, _I64_MAX, _U64_END = -2 ** 63, 2 ** 63 - 1, 2 ** 64


def scalar_int_error(value):
    """PyTorch's error for a Python int that no 64-bit number (int64 or uint64) holds, where
    it takes a number (``full``, ``fill_``, ``masked_fill``...)."""
    return OverflowError("int too big to convert" if value > 0 else
                         "can't convert negative int to unsigned")


def data_array(data, dtype):
    """``np.array(data, dtype=dtype)`` for ``tg.tensor(data)`` with PyTorch's errors for Python
    ints: one that int64 cannot hold is ``ValueError: Overflow when unpacking long long``
    (unless ``dtype`` is floating or complex; NumPy would make uint64 or object values), and one out of a smaller integer ``dtype``'s range is PyTorch's overflow error
    (a negative one that an unsigned dtype can wrap, wrapped: ``-1`` is 255 in uint8)."""
    try:
        arr = np.array(data, dtype=dtype)
    except OverflowError:
        if isinstance(data, np.ndarray):
            raise
        try:
            wide = np.array(data, dtype=np.int64)
        except OverflowError:
            raise ValueError("Overflow when unpacking long long") from None
        dt = np.dtype(dtype)
        lo, hi = _INT_RANGES.get(dt, (_I64_MIN, _I64_MAX))
        if wide.size and (wide.max() > hi or wide.min() < (-hi if dt.kind == "u" else lo)):
            raise RuntimeError(f"value cannot be converted to type {dt.name} without "
                               "overflow") from None
        return wide.astype(dt)
    if dtype is None and arr.dtype.kind in "uO" and not isinstance(data, (np.ndarray,
                                                                         np.generic)):
        if _holds_big_int(data):  # (uint64 or object values; [1, 2 ** 63], float64 in
            raise ValueError("Overflow when unpacking long long")  # NumPy, is not read)
    return arr


def _holds_big_int(data):
    """Whether the nested Python data holds an int that int64 cannot."""
    if type(data) is int:
        return not _I64_MIN <= data <= _I64_MAX
    if isinstance(data, (list, tuple)):
        return any(_holds_big_int(d) for d in data)
    return False


# the kernel PyTorch names when a draw of real numbers is asked in an integer or bool dtype
_DRAW_KERNELS = {"random": "check_uniform_bounds", "standard_normal": "normal_kernel_cpu"}


def drawn_dtype(dtype, draw):
    """``dtype`` of ``rand``/``randn`` (``draw`` NumPy's ``random``/``standard_normal``), or
    PyTorch's NotImplementedError where it holds no floats."""
    dtype = np.dtype(dtype)
    if dtype.kind not in "fc":
        name = _DTYPE_NAMES.get(str(dtype), (None, str(dtype)))[1]
        raise NotImplementedError(f'"{_DRAW_KERNELS[draw.__name__]}" not implemented for '
                                  f"'{name}'")
    return dtype


# (the float dtypes' range of exact integers: PyTorch warns beyond it)
_EXACT_INTS = {"float16": ("11", "c10::Half"), "float32": ("24", "float"),
               "float64": ("53", "double")}


def randint_bounds(low, high, dtype):
    """PyTorch's checks of ``randint``'s ``[low, high)`` against the ``dtype`` drawn into: an
    integer or bool dtype must hold both ends (NumPy would wrap them), half's finite range,
    float's and double's range of exact integers (a warning)."""
    dtype = np.dtype(dtype)
    if dtype.kind == "c":
        raise RuntimeError("check_random_bounds handles only integral, floating-point and "
                           "boolean types")
    if dtype.kind in "iub" or dtype == np.float16:
        info = np.iinfo(dtype) if dtype.kind in "iu" else np.finfo(dtype) if \
            dtype.kind == "f" else np.iinfo(np.uint8)
        lo, hi = (0, 1) if dtype.kind == "b" else (int(info.min), int(info.max))
        name = _DTYPE_NAMES.get(str(dtype), (str(dtype),))[0]
        if low < lo:
            raise RuntimeError(f"from is out of bounds for {name}")
        if high - 1 > hi:
            raise RuntimeError(f"to - 1 is out of bounds for {name}")
    if str(dtype) in _EXACT_INTS:
        digits, name = _EXACT_INTS[str(dtype)]
        for end, v in (("from", low), ("to - 1", high - 1)):
            if abs(v) > 2 ** int(digits):
                warnings.warn(f"{end} is out of bounds [-(2^{digits}), 2^{digits}]. Due to "
                              f"precision limitations {name} can support discrete uniform "
                              "distribution only within this range. This warning will become "
                              "an error in version 1.7 release, please fix the code in advance",
                              UserWarning, stacklevel=3)


# PyTorch's names of the integer types a clamp bound is converted to
_CLAMP_C_INTS = {"int8": "int8_t", "uint8": "uint8_t", "int16": "int16_t", "int32": "int"}


def clamp_bounds(dtype, lo, hi):
    """``clamp``'s result dtype for an integer or bool ``dtype`` and number bounds ``lo``/``hi``
    (a float bound makes it floating), and the bounds as PyTorch converts them into a narrow
    integer dtype: refused where they overflow it, a negative one wrapped into an unsigned
    dtype (down to minus its maximum, as PyTorch's overflow check lets through)."""
    lo, hi = (b.item() if isinstance(b, np.generic) else b for b in (lo, hi))  # (weak too)
    out = np.result_type(dtype, *(b for b in (lo, hi) if b is not None))
    name = _CLAMP_C_INTS.get(str(out))
    if name is None or out != dtype:
        return out, lo, hi
    top = int(np.iinfo(out).max)
    bottom = -top if out.kind == "u" else int(np.iinfo(out).min)
    bounds = []
    for b in (lo, hi):
        if b is not None:
            if not bottom <= int(b) <= top:
                raise RuntimeError(f"value cannot be converted to type {name} without overflow")
            b = int(b) % (top + 1) if out.kind == "u" else int(b)
        bounds.append(b)
    return out, bounds[0], bounds[1]
