"""PyTorch's ``inplace=`` option of the functional activations and dropouts."""

import functools
import inspect

from ..ops import inplace as _inplace
from ..ops.record import as_tensor as _t


def in_place_capable(f):
    """``f`` whose ``inplace=True`` (keyword or positional) writes the result into the input
    and returns it, as PyTorch's: other references to the input see the new values, and the
    write is checked like any in-place op (a leaf that requires grad refuses it, a value saved
    for backward is then stale)."""
    at = list(inspect.signature(f).parameters).index("inplace")

    @functools.wraps(f)
    def fn(*args, **kwargs):
        if "inplace" in kwargs:
            if not kwargs.pop("inplace"):
                return f(*args, **kwargs)
        elif len(args) <= at or not args[at]:
            return f(*args, **kwargs)
        else:
            args = args[:at] + args[at + 1:]
        x, rest = (_t(args[0]), args[1:]) if args else (_t(kwargs.pop("input")), ())
        if hasattr(type(x), "_inplace_by"):  # (vmap's batched tensor: into its examples)
            return x._inplace_by(lambda t: f(t, *rest, **kwargs), f.__name__)
        def into_x(t):
            return f(t, *rest, **kwargs)

        into_x.__name__ = f.__name__ + "_"  # (the op's name in the captured-tensor error)
        return _inplace.apply(x, into_x)

    return fn
