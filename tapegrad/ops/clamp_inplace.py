"""In-place clamp (``Tensor.clamp_``, ``clamp_min_``, ``clamp_max_``, ``clip_``).

PyTorch's kernel for number bounds refuses a bound the tensor's dtype cannot hold in the words
of its C type ('result type Float can't be cast to the desired output type long int'); with a
tensor bound the refusal names the dtype ('... output type Long'), as other in-place ops do.
"""

from . import elementwise as E
from . import inplace as _inplace  # (imported by it: its ``apply`` is read when called)
from .shapes import torch_dtype_name
from ..tensor import Tensor

_C_NAMES = {"int64": "long int", "int32": "int", "int16": "short int", "int8": "signed char",
            "uint8": "unsigned char", "bool": "bool", "uint16": "short unsigned int",
            "uint32": "unsigned int", "uint64": "long unsigned int"}


def _clamp(a, lo, hi):
    return E.clamp(a, lo, hi)


def clamp_(x, min=None, max=None):  # noqa: A002 (PyTorch's argument names)
    """In place clamp to ``[min, max]``."""
    try:
        return _inplace.apply(x, _clamp, min, max)
    except RuntimeError as e:
        raise _in_c_words(e, x, (min, max)) from None  # (PyTorch's one error, no chain)


def in_c_words(f):
    """The in-place method ``f`` (``clamp_min_``, ``clip_``) refusing in C type names (``f``:
    the closure's name vmap's refusals read, as of the methods made from ops)."""
    def method(self, *args, **kwargs):
        try:
            return f(self, *args, **kwargs)
        except RuntimeError as e:
            raise _in_c_words(e, self, args + tuple(kwargs.values())) from None

    method.__name__ = method.__qualname__ = f.__name__
    return method


def _in_c_words(e, x, bounds):
    """``e``, or for number bounds its cast refusal naming ``x``'s C type."""
    dtype_word = f" output type {torch_dtype_name(x.dtype)}"
    c_name = _C_NAMES.get(str(x.dtype))
    if c_name is None or not str(e).endswith(dtype_word) or \
            any(isinstance(b, Tensor) for b in bounds):
        return e
    return RuntimeError(str(e)[:-len(dtype_word)] + f" output type {c_name}")
