"""Creating tensors: from data, from NumPy, and the factory functions (NumPy dtype rules)."""

import builtins
import numbers
import threading
import warnings

import numpy as np

from . import grad_mode as _gm
from . import promotion as _promotion
from .promotion import fill_number
from .device import cuda_api, is_cuda, to_device
from .size import int_sizes, keyword_size, randint_args, type_name
from .tensor import DEFAULT_DTYPE, Tensor, _make, _wrap

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
float16 = np.dtype(np.float16)
complex64 = np.dtype(np.complex64)
complex128 = np.dtype(np.complex128)
cfloat, cdouble = complex64, complex128
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
int16, int8, uint8 = np.dtype(np.int16), np.dtype(np.int8), np.dtype(np.uint8)
bool = np.dtype(np.bool_)  # noqa: A001 (tg.bool, like torch.bool)
double, float, long = float64, float32, int64  # noqa: A001
half, short = float16, int16  # torch's aliases (tg.int, like torch.int, is in __init__)

_rng = None  # the default generator's NumPy generator (set by default_generator below)


def _check_device(device):
    """True for a CUDA device (RuntimeError if CUDA cannot be used), False for the CPU."""
    if device is None or device == "cpu":
        return False
    if is_cuda(device):  # parses; RuntimeError for other device types
        cuda_api()  # numba-cuda and a GPU (or its simulator), else a clear RuntimeError
        return True
    return False


def _on(device, t):
    """``t`` (a new CPU leaf) moved to ``device`` when that is CUDA (a host-made copy)."""
    if device is None or not _check_device(device):
        return t
    out = _make(to_device(np.asarray(t._data)))
    out._rg = t._rg
    out._inference = t._inference
    return out


def check_dtype(arr):
    """TypeError (PyTorch's words) for arrays a tensor cannot hold: objects, strings, dates..."""
    kind, size = arr.dtype.kind, arr.dtype.itemsize
    if kind in "biu" or kind == "f" and size <= 8 or kind == "c" and size <= 16:
        return arr
    name = "object_" if kind == "O" else arr.dtype.type.__name__
    raise TypeError(f"can't convert np.ndarray of type numpy.{name}. The only supported types "
                    "are: float64, float32, float16, complex64, complex128, int64, int32, int16, "
                    "int8, uint64, uint32, uint16, uint8, and bool.")


def _default():
    return DEFAULT_DTYPE[0]


def set_default_dtype(d):
    """The floating dtype of factories (zeros, rand, ...) and of tensors made from Python
    floats: float64 (tapegrad's default) or float32."""
    d = np.dtype(d)
    if d not in (float32, float64):
        raise TypeError("only floating-point types are supported as the default type")
    DEFAULT_DTYPE[0] = d


def get_default_dtype():
    return DEFAULT_DTYPE[0]


def _python_floats(data, arr, dtype):
    """``arr`` (from Python data) in the default dtype where NumPy made it float64."""
    if dtype is None and arr.dtype == float64 and DEFAULT_DTYPE[0] != float64 and \
            not isinstance(data, (np.ndarray, np.generic)):
        return arr.astype(DEFAULT_DTYPE[0])
    return arr


def _finish(arr, requires_grad, wrap=True):
    t = _make(_wrap(arr) if wrap else arr)
    if requires_grad:
        if arr.dtype.kind not in "fc":
            raise RuntimeError("Only Tensors of floating point and complex dtype can require "
                               "gradients")
        t._set_rg(True)
    if _gm.is_inference_mode_enabled():
        t._inference = True
    return t


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new leaf tensor holding a copy of ``data`` (Python floats become float64).

    Example:
        >>> import tapegrad as tg
        >>> tg.tensor([1.0, 2.0], requires_grad=True)
        tensor([1., 2.], requires_grad=True)
    """
    if isinstance(data, Tensor):  # (warned here, before the device's copy: at the caller)
        warnings.warn("To copy construct from a tensor, it is recommended to use "
                      "sourceTensor.detach().clone() or sourceTensor.detach().clone()"
                      ".requires_grad_(True), rather than torch.tensor(sourceTensor).",
                      UserWarning, stacklevel=2)
        if device is None and data.is_cuda:
            device = data.device
        data = data._data if not data.is_cuda else data.detach().cpu()._data
    elif isinstance(data, (list, tuple)) and any(isinstance(d, Tensor) for d in _flat(data)):
        data = _nested_values(data)
    if _check_device(device):
        return _on(device, tensor(data, dtype, "cpu", requires_grad))
    if isinstance(data, (str, bytes)):
        raise TypeError("new(): invalid data type 'str'")
    try:
        arr = _promotion.data_array(data, dtype)  # (PyTorch's errors for big ints)
    except ValueError:
        if isinstance(data, (list, tuple)):
            _sequence_error(data)
        raise
    if arr.dtype.kind in "US":
        raise TypeError("new(): invalid data type 'str'")
    if arr.dtype.kind == "O" and not isinstance(data, np.ndarray):  # (None, a dict...)
        _sequence_error(data if isinstance(data, (list, tuple)) else [data])
    arr = _python_floats(data, arr, dtype)
    return _finish(check_dtype(arr), requires_grad)


def _is_sequence(v):
    return isinstance(v, (list, tuple)) or (isinstance(v, np.ndarray) and v.ndim > 0)


def _sequence_error(data):
    """PyTorch's error for nested sequences that make no array: an element of no numeric type
    (its dtype cannot be inferred), then ragged lengths, a number where a sequence is due, or
    a sequence where a number is. The shape is read along the first elements, as PyTorch."""
    for v in _flat(data):
        if isinstance(v, (str, bytes)):
            raise TypeError("new(): invalid data type 'str'")
        if not isinstance(v, (numbers.Number, np.generic, np.ndarray)):
            raise RuntimeError(f"Could not infer dtype of {type(v).__name__}")
    shape, s = [], data
    while _is_sequence(s):
        shape.append(len(s))
        if not len(s):
            break
        s = s[0]

    def check(s, d):
        if d == len(shape):
            if _is_sequence(s):
                raise TypeError(f"'{type(s).__name__}' object cannot be interpreted as an "
                                "integer")
            return
        if not _is_sequence(s):
            raise TypeError("not a sequence")
        if len(s) != shape[d]:
            raise ValueError(f"expected sequence of length {shape[d]} at dim {d} "
                             f"(got {len(s)})")
        for e in s:
            check(e, d + 1)

    check(data, 0)


def _flat(seq):
    for s in seq:
        if isinstance(s, (list, tuple)):
            yield from _flat(s)
        else:
            yield s


def _nested_values(seq):
    # (Python's conversion of each tensor, as PyTorch's: ValueError for more than one element)
    return [(_nested_values(s) if isinstance(s, (list, tuple)) else
             (s._scalar() if isinstance(s, Tensor) else s)) for s in seq]


def as_tensor(data, dtype=None, device=None):
    """A tensor sharing memory with ``data`` when it is already an ndarray of that dtype."""
    if _check_device(device):
        t = as_tensor(data, dtype)
        return t if t.device == device else t.to(device)
    if isinstance(data, Tensor):
        return data if dtype is None or data.dtype == dtype else data.to(dtype)
    if isinstance(data, (list, tuple)) and any(isinstance(d, Tensor) for d in _flat(data)):
        data = _nested_values(data)  # (as tensor()'s: not NumPy's stacking of the tensors)
    if isinstance(data, (str, bytes)):
        raise TypeError("new(): invalid data type 'str'")
    arr = np.asarray(data, dtype=dtype)
    if arr.dtype.kind == "O" and not isinstance(data, np.ndarray):  # (None, a dict...)
        _sequence_error(data if isinstance(data, (list, tuple)) else [data])
    arr = _python_floats(data, check_dtype(arr), dtype)
    return _make(arr if isinstance(data, np.ndarray) else _wrap(arr))


def from_numpy(arr):
    """A tensor sharing memory with the ndarray ``arr`` (writes show on both sides)."""
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(arr).__name__})")
    return _make(check_dtype(arr))


def _factory(np_fn, name):
    def fn(*sizes, size=None, dtype=None, device=None, requires_grad=False, out=None):
        sizes = sizes if size is None else keyword_size(name, sizes, size)  # zeros(size=...)
        shape = int_sizes(name, sizes)
        _check_sizes(shape, name)
        return _on(device, _finish(np_fn(shape, dtype or _default()), requires_grad))

    fn.__name__ = name
    return fn


def _check_sizes(shape, name):
    """A negative size: PyTorch's error (zeros words it its own way)."""
    for s in shape:
        if s < 0:
            if name == "zeros":
                raise RuntimeError("zeros: Dimension size must be non-negative.")
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: "
                               f"{list(shape)}")


zeros = _factory(np.zeros, "zeros")
ones = _factory(np.ones, "ones")
empty = _factory(np.zeros, "empty")  # NOTE: zero-filled: uninitialised memory buys nothing


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    shape = int_sizes("full", (size,))
    _check_sizes(shape, "full")
    value = fill_number(fill_value, dtype)  # (a NumPy scalar number: a Python number)
    arr = _python_floats(value, np.full(shape, value, dtype=dtype), dtype)
    return _on(device, _finish(arr, requires_grad))


def arange(start=None, end=None, step=1, dtype=None, device=None, requires_grad=False):
    if start is None:  # arange(end=5): PyTorch's keyword for the one bound
        if end is None:
            raise TypeError("arange() missing 1 required positional argument: 'end'")
        start, end = end, None
    lo, hi = (0, start) if end is None else (start, end)
    if step == 0 or step != step:  # (a NaN step too, as PyTorch)
        raise RuntimeError("step must be nonzero")
    if not (np.isfinite(lo) and np.isfinite(hi)):  # (NumPy: a ValueError of its own)
        raise RuntimeError(f"unsupported range: {lo:g} -> {hi:g}")
    if (hi - lo) * step < 0:  # (NumPy: an empty array)
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    arr = np.arange(start, end, step, dtype=dtype) if end is not None else \
        np.arange(start, dtype=dtype)
    arr = _python_floats(start, arr, dtype)
    return _on(device, _finish(arr, requires_grad, wrap=False))


def linspace_values(start, end, steps, dtype):
    """PyTorch's linspace values: the first half counted up from ``start``, the second down
    from ``end`` (symmetric rounding; NumPy counts all from ``start``)."""
    steps = int(steps)
    if steps <= 1:
        return np.full(steps, start, dtype)
    dt = np.dtype(dtype)
    calc = dt if dt.kind in "fc" else np.dtype(np.float64)
    start, end = calc.type(start), calc.type(end)
    step = (end - start) / calc.type(steps - 1)
    k = np.arange(steps)
    i = k.astype(calc)
    values = np.where(k < steps // 2, start + step * i, end - step * (steps - 1 - i))
    return values.astype(dt)


def range_dtype(start, end, dtype, name):
    """The dtype of linspace/logspace: the default complex dtype for a complex bound (which
    another ``dtype`` refuses, as PyTorch), else ``dtype`` or the default."""
    if not (np.iscomplexobj(start) or np.iscomplexobj(end)):
        return dtype or _default()
    inferred = np.dtype(np.complex128 if _default() == np.float64 else np.complex64)
    if dtype is not None and np.dtype(dtype).kind != "c":
        from .tensor import _DTYPE_NAMES

        raise RuntimeError(f"torch.{name}(): inferred dtype {_DTYPE_NAMES[inferred.name][0]} "
                           f"can't be safely cast to passed dtype "
                           f"{_DTYPE_NAMES[np.dtype(dtype).name][1]}")
    return dtype or inferred


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    if isinstance(steps, (builtins.bool, builtins.float)) or not hasattr(steps, "__index__"):
        sig = ("{} end, int steps, *, Tensor out = None, torch.dtype dtype = None, torch.layout "
               "layout = None, torch.device device = None, bool pin_memory = False, bool "
               "requires_grad = False)")  # (PyTorch's words: steps is never truncated)
        raise TypeError("linspace() received an invalid combination of arguments - got (" +
                        ", ".join(map(type_name, (start, end, steps))) + "), but expected one "
                        "of:" + "".join(f"\n * ({a} start, " + sig.format(b) for b in
                                        ("Tensor", "Number") for a in ("Tensor", "Number")) + "\n")
    if int(steps) < 0:
        raise RuntimeError("number of steps must be non-negative")
    dtype = range_dtype(start, end, dtype, "linspace")
    return _on(device, _finish(linspace_values(start, end, steps, dtype), requires_grad))


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    for name, size in (("n", n), ("m", m)):
        if size is not None and size < 0:  # (NumPy: "negative dimensions are not allowed")
            raise RuntimeError(f"{name} must be greater or equal to 0, got {size}")
    return _on(device, _finish(np.eye(n, m, dtype=dtype or _default()), requires_grad))


def manual_seed(seed):
    """Seed the default generator (the one behind ``rand``/``randn``/``randint``, on every
    device: CUDA tensors' values are drawn on the host); returns it, as PyTorch."""
    return default_generator.manual_seed(int(seed))


def seed():
    """Seed the default generator from fresh entropy; returns the new seed."""
    return default_generator.seed()


def initial_seed():
    """The seed the default generator was last seeded with (``manual_seed``, ``seed``, or
    the entropy drawn at import)."""
    return default_generator.initial_seed()


def get_rng_state():
    """The default generator's state as a uint8 tensor (``set_rng_state`` restores it)."""
    return default_generator.get_state()


def set_rng_state(new_state):
    """Restore the default generator to a state ``get_rng_state`` returned."""
    default_generator.set_state(new_state)


def _state_tensor(rng):
    import json

    blob = json.dumps(rng.bit_generator.state).encode()
    return tensor(np.frombuffer(blob, np.uint8).copy())


def _restore(rng, state):
    import json

    arr = state.numpy() if hasattr(state, "numpy") else np.asarray(state)
    if arr.dtype != np.uint8:
        raise TypeError(f"expected a torch.ByteTensor-like uint8 state, got {arr.dtype}")
    rng.bit_generator.state = json.loads(bytes(arr).decode())


def checked_shape(size, name):
    """``size`` (ints, or one sequence of them) as a shape, PyTorch's errors for the rest."""
    shape = int_sizes(name, size)
    _check_sizes(shape, name)
    return shape


class Generator:
    """A random number generator of its own, for the ``generator=`` argument of the random
    functions (``tg.manual_seed`` seeds the default one)."""

    def __init__(self, device="cpu"):
        self.device = device
        self.seed()

    def manual_seed(self, seed):
        self._initial_seed = _seed_value(seed)
        self._rng = np.random.default_rng(self._initial_seed)
        return self

    def seed(self):
        """Reseed from fresh entropy; the new seed."""
        self.manual_seed(int(np.random.SeedSequence().entropy) % (1 << 63))
        return self._initial_seed

    def initial_seed(self):
        return self._initial_seed

    def get_state(self):
        return _state_tensor(self._rng)

    def set_state(self, new_state):
        _restore(self._rng, new_state)
        return self


def _seed_value(seed):
    """``seed`` as PyTorch's generators take it: an integer in [-2**63, 2**64), a negative one
    read as its unsigned 64-bit pattern."""
    if isinstance(seed, builtins.bool) or not isinstance(seed, numbers.Integral):
        raise RuntimeError(f"manual_seed expected a long, but got {type(seed).__name__}")
    seed = int(seed)
    if not -(1 << 63) <= seed < 1 << 64:
        raise ValueError("Overflow when unpacking long long")
    return seed & ((1 << 64) - 1)


class _DefaultGenerator(Generator):
    """``tg.default_generator``: its NumPy generator is this module's ``_rng``, which the
    random functions read (and vmap's guard wraps), so seeding it seeds them."""

    @property
    def _rng(self):
        return _rng

    @_rng.setter
    def _rng(self, rng):
        global _rng
        _rng = rng


default_generator = _DefaultGenerator()


class _StateWanted(threading.local):
    """Per thread: the checkpoints whose function is running and has not drawn yet, each a
    list ``[None]`` that the first draw from the default generator fills with the state
    before it (``utils/checkpoint``: the state to restore for a recomputation; reading it
    costs µs, and most functions draw nothing)."""

    slots = ()


state_wanted = _StateWanted()


def draws(generator=None):
    """The NumPy generator a random function draws from: ``generator``'s, else the default."""
    if generator is None or generator is default_generator:
        slots = state_wanted.slots
        if slots:
            state = _rng.bit_generator.state
            for slot in slots:
                if slot[0] is None:
                    slot[0] = state
            state_wanted.slots = ()
        return _rng
    if not isinstance(generator, Generator):
        raise TypeError(f"generator must be a tapegrad.Generator, not "
                        f"{type(generator).__name__}")
    return generator._rng


def _draw(draw, shape, dtype, part_scale):
    """``draw(shape)`` in ``dtype``; a complex dtype draws both parts, each scaled by
    ``part_scale`` (PyTorch's complex randn has variance 1: 1/2 per part)."""
    dtype = _promotion.drawn_dtype(dtype or _default(), draw)
    if dtype.kind != "c":
        return draw(shape).astype(dtype, copy=False)
    parts = draw(tuple(shape) + (2,)) * part_scale
    return (parts[..., 0] + 1j * parts[..., 1]).astype(dtype, copy=False)


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False):
    a = _draw(draws(generator).random, checked_shape(size, "rand"), dtype, 1.0)
    below = _BELOW_ONE.get(a.dtype)  # a float64 draw within 2**-25 of 1 rounds up to 1.0 in
    if below is not None:  # float32 (and complex64's parts): kept in [0, 1), as PyTorch's rand
        np.minimum(a.real, below, out=a.real)
        if a.dtype.kind == "c":
            np.minimum(a.imag, below, out=a.imag)
    return _on(device, _finish(a, requires_grad))


_BELOW_ONE = {np.dtype(c): np.nextafter(r(1), r(0)) for c, r in (
    (np.float32, np.float32), (np.float16, np.float16), (np.complex64, np.float32))}


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False):
    return _on(device, _finish(_draw(draws(generator).standard_normal, checked_shape(size, "randn"),
                                     dtype, np.sqrt(0.5)), requires_grad))


def randint(low=0, high=None, size=None, *, generator=None, dtype=None, device=None,
            requires_grad=False):
    """Integers drawn uniformly from ``[low, high)``: ``randint(high, size)`` or
    ``randint(low, high, size)``, as PyTorch's overloads."""
    low, high, size = randint_args(low, high, size)
    size = checked_shape((size,), "randint")
    _promotion.randint_bounds(low, high, dtype or int64)
    return _on(device, _make(draws(generator).integers(low, high, size=size).astype(
        dtype or int64)))


def _like(np_fn, name):
    def fn(input, dtype=None, device=None, requires_grad=False, memory_format=None):
        return _on(_like_device(input, device, name),
                   _finish(np_fn(input.shape, dtype or input.dtype), requires_grad))

    fn.__name__ = name
    return fn


zeros_like = _like(np.zeros, "zeros_like")
ones_like = _like(np.ones, "ones_like")
empty_like = _like(np.zeros, "empty_like")


def full_like(input, fill_value, dtype=None, device=None, requires_grad=False):
    return _on(_like_device(input, device, "full_like"),
               _finish(np.full(input.shape, fill_number(fill_value, dtype or input.dtype),
                               dtype or input.dtype), requires_grad))


def rand_like(input, dtype=None, device=None, requires_grad=False):
    device = _like_device(input, device, "rand_like")
    return rand(*input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad,
                device=device)


def randn_like(input, dtype=None, device=None, requires_grad=False):
    device = _like_device(input, device, "randn_like")
    return randn(*input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad,
                 device=device)


def _like_device(t, device, name):
    """``*_like``: the device of ``t`` unless one is given (as PyTorch); ``t`` a tensor."""
    if not isinstance(t, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type_name(t)}")
    return device if device is not None or not t.is_cuda else "cuda"


# ---- dtype queries (torch.finfo, torch.promote_types, ...) ----------------------------------

class finfo:  # noqa: N801 (torch.finfo)
    """Machine limits of a floating dtype (the default dtype when omitted) as Python
    numbers: ``bits``, ``eps``, ``max``, ``min``, ``tiny`` (= ``smallest_normal``),
    ``resolution``, ``dtype``."""

    def __init__(self, type=None):  # noqa: A002 (torch's argument name)
        f = np.finfo(get_default_dtype() if type is None else type)
        self.bits, self.dtype = int(f.bits), str(f.dtype)
        num = builtins.float  # (float is tg.float in this module)
        self.eps, self.max, self.min = num(f.eps), num(f.max), num(f.min)
        self.tiny = self.smallest_normal = num(f.smallest_normal)
        self.resolution = 10.0 ** -f.precision  # exact decimal, as PyTorch gives it

    def __repr__(self):
        return (f"finfo(resolution={self.resolution}, min={self.min}, max={self.max}, "
                f"eps={self.eps}, smallest_normal={self.tiny}, tiny={self.tiny}, "
                f"dtype={self.dtype})")


class iinfo:  # noqa: N801 (torch.iinfo)
    """Limits of an integer dtype as Python ints: ``bits``, ``max``, ``min``, ``dtype``."""

    def __init__(self, type):  # noqa: A002 (torch's argument name)
        i = np.iinfo(type)
        self.bits, self.max, self.min, self.dtype = int(i.bits), int(i.max), int(i.min), \
            str(i.dtype)

    def __repr__(self):
        return f"iinfo(min={self.min}, max={self.max}, dtype={self.dtype})"


def is_tensor(obj):
    return isinstance(obj, Tensor)


def is_floating_point(input):
    return input.dtype.kind == "f"


def is_complex(input):
    return input.dtype.kind == "c"


def is_nonzero(input):
    """The truth of a one-element tensor (PyTorch's errors for others)."""
    return input.__bool__()


def promote_types(type1, type2):
    """The dtype of an operation on tensors of these dtypes (PyTorch's: an integer meeting a
    float takes the float's dtype, unwidened)."""
    return _promotion.promote_types(np.dtype(type1), np.dtype(type2))


def can_cast(from_, to):
    """Whether PyTorch's casting rule allows ``from_`` -> ``to`` (no cast to a lower category:
    float64 -> float32 and int64 -> uint8 yes, float -> int no)."""
    return _promotion.can_cast(from_, to)


def result_type(tensor1, tensor2):
    """The dtype ``tensor1 op tensor2`` gives: PyTorch's promotion, where a 0-d tensor or a
    Python number changes a tensor's dtype only from a higher category (``promotion.py``)."""
    if not isinstance(tensor1, Tensor):
        tensor1, tensor2 = tensor2, tensor1
    if not isinstance(tensor2, Tensor):
        if not isinstance(tensor1, Tensor):
            return np.result_type(tensor1, tensor2)
        return _promotion.number_dtype(tensor1.dtype, tensor2)
    return _promotion.result_dtype(tensor1.dtype, tensor1.ndim == 0, tensor2.dtype,
                                   tensor2.ndim == 0)


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False):
    """A 0-d tensor holding the number ``s`` (the default dtype unless given)."""
    return tensor(s, dtype=dtype or get_default_dtype(), device=device,
                  requires_grad=requires_grad)
