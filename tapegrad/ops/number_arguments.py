"""PyTorch's argument parser's refusal of a non-number where a function takes a Number: its words
depend on how the argument was passed (``(position 2)`` only for a positional one), which only
a wrapper that sees the call's arguments can tell."""

import functools
import numbers

import numpy as np

from ..size import type_name
from ..tensor import Tensor

_NUMBERS = (numbers.Number, np.generic, Tensor)


def number_argument(fname, name, position):
    """Decorator: ``f``'s argument ``name`` (``position``, 1-based, when passed positionally)
    must be a number (a Python or NumPy number, or a tensor), else PyTorch's TypeError."""

    def wrap(f):
        @functools.wraps(f)
        def checked(*args, **kwargs):
            if len(args) >= position:
                v, where = args[position - 1], f" (position {position})"
            elif name in kwargs:
                v, where = kwargs[name], ""
            else:
                return f(*args, **kwargs)
            if not isinstance(v, _NUMBERS):
                raise TypeError(f"{fname}(): argument '{name}'{where} must be Number, not "
                                f"{type_name(v)}")
            return f(*args, **kwargs)

        return checked

    return wrap
