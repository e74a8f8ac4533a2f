"""NumPy's keyword names on PyTorch-style ops: ``axis=``/``keepdims=`` for ``dim=``/``keepdim=``
(PyTorch's functions and methods accept both), and ``ddof=`` for ``var``/``std``'s
``correction=`` (NumPy's method style, ``x.std(axis=0, ddof=1)``); and PyTorch's ``input=`` for
the tensor of those whose first parameter is named otherwise."""

import functools

_ALIASES = {"axis": "dim", "keepdims": "keepdim", "ddof": "correction"}


def torch_keywords(kwargs, name="op"):
    """``kwargs`` with NumPy's names replaced by PyTorch's (the dict itself when none is used)."""
    if not ("axis" in kwargs or "keepdims" in kwargs or "ddof" in kwargs):
        return kwargs
    out = {}
    for k, v in kwargs.items():
        t = _ALIASES.get(k, k)
        if t in out:
            raise TypeError(f"{name}() got multiple values for argument '{t}'")
        out[t] = v
    return out


def numpy_keywords(f):
    """``f`` also accepting NumPy's keyword names (one dict test when keywords are given)."""

    @functools.wraps(f)
    def op(*args, **kwargs):
        if kwargs:
            kwargs = torch_keywords(kwargs, f.__name__)
            if "input" in kwargs and not args:  # tg.sum(input=x): PyTorch's name for the tensor
                args = (kwargs.pop("input"),)
        return f(*args, **kwargs)

    op.raw = f  # what tg.compile's tracer names (this wrapper's code is shared by many ops)
    return op
