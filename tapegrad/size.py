"""``tg.Size``: a tuple of sizes, as ``torch.Size``.

``Tensor.shape`` and ``Tensor.size()`` return plain tuples (NumPy's), unlike PyTorch's: a Size
made on every read more than doubles the cost of reading ``x.shape`` (74 ns -> 175 ns, even
unchecked), and compositions read it per call. A Size equals the tuple of the same sizes, so
comparing shapes with Sizes holds either way; ``tg.Size(x.shape).numel()`` is ``x.numel()``.

Also the factories' size arguments: ``*sizes``, ``size=``, ``randint``'s overloads.
"""

import math
import operator

import numpy as np


class Size(tuple):
    """A tuple of ints with ``numel()``; slicing, ``+`` and ``*`` keep the type.

    Example:
        >>> import tapegrad as tg
        >>> s = tg.Size([2, 3])
        >>> s, s.numel(), s == (2, 3)
        (tapegrad.Size([2, 3]), 6, True)
    """

    __slots__ = ()

    def __new__(cls, sizes=()):
        items = tuple(sizes)
        for k, s in enumerate(items):
            if isinstance(s, float) or not hasattr(type(s), "__index__"):
                raise TypeError(f"tapegrad.Size() takes an iterable of 'int' (item {k} is "
                                f"'{type(s).__name__}')")
        return super().__new__(cls, [int(operator.index(s)) for s in items])

    def numel(self):
        """The number of elements of a tensor of this shape."""
        return math.prod(self)

    def __getitem__(self, key):
        out = tuple.__getitem__(self, key)
        return Size(out) if isinstance(key, slice) else out

    def __add__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple.__add__(self, other))

    def __radd__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple.__add__(other, self))

    def __mul__(self, n):
        out = tuple.__mul__(self, n)
        return out if out is NotImplemented else Size(out)

    __rmul__ = __mul__

    def __repr__(self):
        return f"tapegrad.Size({list(self)})"

    def __reduce__(self):
        return Size, (tuple(self),)


def keyword_size(name, sizes, size, keyword="size"):
    """The sizes of a call that gives them by PyTorch's keyword, ``zeros(size=(2, 3))``,
    ``x.reshape(shape=(3, 2))``, where the positional form takes them as ``*sizes``."""
    if sizes:
        raise TypeError(f"{name}() got multiple values for argument '{keyword}'")
    return (size,)


def type_name(v):
    """The name PyTorch's messages give ``v``'s type: Python's own name of it (``list``,
    ``numpy.int64``, ``numpy.ndarray``); a class written in Python by its bare name (``Tensor``,
    ``Foo``), as its ``tp_name`` has no module."""
    t = type(v)
    if t.__module__ == "builtins" or t.__flags__ & _HEAP_TYPE:
        return t.__name__
    return f"{t.__module__}.{t.__name__}"


_HEAP_TYPE = 1 << 9  # (Py_TPFLAGS_HEAPTYPE: a class made by a class statement)


def int_sizes(name, sizes, arg="size"):
    """A factory's ``*sizes`` (ints, or one sequence of them) as a tuple of ints. Anything
    else, a float above all (never truncated), gets PyTorch's TypeError, whose words depend on
    where the bad value stands (its argument parser checks the first element's type itself)."""
    packed = len(sizes) == 1 and isinstance(sizes[0], (tuple, list))
    seq = tuple(sizes[0]) if packed else sizes
    if all(type(s) is int for s in seq):
        return seq
    out = []
    for k, s in enumerate(seq):
        try:
            if k == 0 and isinstance(s, bool):
                raise TypeError
            out.append(operator.index(s))
        except TypeError:
            what = type_name(s)
            if k:
                raise TypeError(f"{name}(): argument '{arg}' failed to unpack the object at pos "
                                f'{k + 1} with error "type must be tuple of ints,but got '
                                f'{what}"') from None
            raise TypeError(f"{name}(): argument '{arg}' (position 1) must be tuple of ints, " +
                            (f"not {what}" if len(sizes) == 1 and not packed else
                             f"but found element of type {what} at pos 0")) from None
    return tuple(out)


_RANDINT_FORMS = "".join(
    f"\n * ({a}tuple of ints size, *, {g}Tensor out = None, torch.dtype dtype = None, "
    "torch.layout layout = None, torch.device device = None, bool pin_memory = False, "
    "bool requires_grad = False)" for a in ("int high, ", "int low, int high, ")
    for g in ("torch.Generator generator, ", "")) + "\n"


def _is_int(v):
    return hasattr(v, "__index__") and not isinstance(v, (bool, np.bool_))


def randint_args(low, high, size):
    """``(low, high, size)`` from either of ``randint``'s overloads, checked as PyTorch does."""
    if size is None and isinstance(high, (tuple, list)):  # randint(high, size)
        if not _is_int(low):
            raise TypeError("randint(): argument 'high' (position 1) must be int, not "
                            f"{type_name(low)}")
        low, high, size = 0, low, high
    elif size is None and high is not None:  # (PyTorch reads randint(0, 10) so)
        raise TypeError("randint(): argument 'size' (position 2) must be tuple of ints, not "
                        f"{type_name(high)}")
    if size is None or not (_is_int(low) and _is_int(high)):
        got = ", ".join(type_name(v) for v in (low, high, size) if v is not None)
        raise TypeError(f"randint() received an invalid combination of arguments - got ({got}), "
                        f"but expected one of:{_RANDINT_FORMS}")
    low, high = operator.index(low), operator.index(high)
    if not (-2 ** 63 <= low < 2 ** 63 and -2 ** 63 <= high < 2 ** 63):
        raise ValueError("Overflow when unpacking long long")
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= "
                           f"to={high}")
    return low, high, (int(size),) if isinstance(size, (int, np.integer)) else tuple(size)
