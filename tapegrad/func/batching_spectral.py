"""Batching rules of ``tg.fft``: each transform acts on the dims it names, so a batch of
examples is one more dim in front that none names: the dims move one place right, and a dim
left to the default "all of them" (``fftn`` without ``s``, ``fftshift``) becomes the example's
dims, listed."""

from .batched import RULES, _unwrap, _wrap, dispatch
from .batching_rules import _batched_at, _shift

# name -> (position of dim, its default); ``None``: every dim, or the last len(s) with ``s``
_ONE = {n: (2, -1) for n in "fft ifft rfft irfft hfft ihfft".split()}
_TWO = {n + "2": (2, (-2, -1)) for n in "fft ifft rfft irfft hfft ihfft".split()}
_N = {n + "n": (2, None) for n in "fft ifft rfft irfft hfft ihfft".split()}
_SHIFT = {"fftshift": (1, None), "ifftshift": (1, None)}


def _rule_spectral(level, name, raw, args, kwargs):
    x, batched = _unwrap(level, args[0]) if args else (None, False)
    if not batched or _batched_at(level, list(args[1:]) + list(kwargs.values())):
        return NotImplemented
    nd = len(x.shape) - 1
    if nd == 0:
        return NotImplemented  # (the loop: the function's own error)
    pos, default = _SPEC[name[4:]]
    args, kwargs = list(args), dict(kwargs)
    dim = kwargs["dim"] if "dim" in kwargs else args[pos] if len(args) > pos else default
    if dim is None:
        s = kwargs.get("s", args[1] if len(args) > 1 and pos == 2 else None)
        dim = tuple(range(nd - len(s), nd)) if s is not None else tuple(range(nd))
    dim = _shift(dim, nd) if isinstance(dim, int) else tuple(_shift(d, nd) for d in dim)
    if "dim" in kwargs or len(args) <= pos:
        kwargs["dim"] = dim
    else:
        args[pos] = dim
    args[0] = x
    return _wrap(level, dispatch(name, raw, tuple(args), kwargs))


_SPEC = {**_ONE, **_TWO, **_N, **_SHIFT}
for _n in _SPEC:
    RULES["fft." + _n] = _rule_spectral
