"""The values of PyTorch's legacy constructor, ``Tensor(2, 3)``/``Tensor([1, 2])``: sizes give
a tensor of that shape, a sequence gives its values, both in the default dtype."""

import numbers

import numpy as np

from .size import Size, type_name

_SIGNATURES = ("\n * (*, torch.device device = None)\n * (torch.Storage storage)\n"
               " * (Tensor other)\n * (tuple of ints size, *, torch.device device = None)\n"
               " * (object data, *, torch.device device = None)\n")


def _is_size(v):
    return isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_))


def legacy_array(args, dtype):
    """The array of ``Tensor(*args)`` in ``dtype``: zeros for sizes (PyTorch leaves that memory
    uninitialised), the values of one sequence, an empty 1-D array for no argument."""
    if not args:
        return np.empty(0, dtype)
    first = args[0]
    if all(_is_size(a) for a in args) or (len(args) == 1 and type(first) is Size):
        shape = tuple(int(a) for a in (first if type(first) is Size else args))
        if any(s < 0 for s in shape):
            raise RuntimeError(f"Trying to create tensor with negative dimension "
                               f"{min(shape)}: {list(shape)}")
        return np.zeros(shape, dtype)
    if len(args) > 1:
        if _is_size(first):
            raise TypeError("new(): argument 'size' failed to unpack the object at pos "
                            f"{next(i for i, a in enumerate(args) if not _is_size(a)) + 1} "
                            "with error \"type must be tuple of ints,but got "
                            f"{type(next(a for a in args if not _is_size(a))).__name__}\"")
        got = ", ".join(type(a).__name__ for a in args)
        raise TypeError(f"new() received an invalid combination of arguments - got ({got}), "
                        "but expected one of:" + _SIGNATURES)
    if isinstance(first, str):
        raise TypeError("new(): invalid data type 'str'")
    if not isinstance(first, (list, tuple, np.ndarray)) and not hasattr(first, "__len__"):
        raise TypeError(f"new(): data must be a sequence (got {type_name(first)})")
    return np.array(first, dtype=dtype)
