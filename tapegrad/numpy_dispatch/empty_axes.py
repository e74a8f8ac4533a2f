"""NumPy's reductions over no axis (``axis=()``): each result element reduces the one element at
its place, so ``np.sum(x, axis=())`` is ``x``, ``np.max`` is ``x``, ``np.var`` zeros, and the
shape is ``x``'s. tapegrad's ops read ``dim=()`` as PyTorch does (every axis), so such a call
runs as the same reduction over a new trailing axis of length 1: the same arithmetic, one element
at a time. Generic code writes ``axis=()`` without meaning to: ``axis=tuple(range(1, x.ndim))``
of a 1-D ``x``.
"""

import inspect

import numpy as np

from ..ops.record import as_tensor as _t
from ..tensor import Tensor
from . import _NV, _op

_REDUCTIONS = (
    np.sum, np.mean, np.max, np.amax, np.min, np.amin, np.prod, np.std, np.var, np.ptp,
    np.average, np.nansum, np.nanmean, np.nanmax, np.nanmin, np.nanstd, np.nanvar, np.nanprod,
    np.median, np.nanmedian, np.quantile, np.percentile, np.nanquantile, np.nanpercentile,
    np.linalg.vector_norm,
)


def _ufunc_reduce(array, axis=0, dtype=None, out=None, keepdims=False, initial=_NV,
                  where=True):
    """``ufunc.reduce``'s signature (the method itself has none to inspect)."""


def _no_axes(axis):
    return isinstance(axis, (tuple, list)) and len(axis) == 0


def _unit_axis_added(v):
    if isinstance(v, Tensor):
        return _op("unsqueeze")(v, -1)
    return np.asarray(v)[..., None]


def _unit_axis_dropped(r):
    if isinstance(r, tuple):  # (np.average(..., returned=True))
        return type(r)(_unit_axis_dropped(v) for v in r)
    return _op("reshape")(r, tuple(r.shape[:-1]))


def over_empty_axes(np_f, handler):
    """``handler`` of reduction ``np_f``, which reads ``axis=()`` as NumPy does."""
    sig = inspect.signature(np_f)
    params = list(sig.parameters.values())
    pos = next((k for k, p in enumerate(params) if p.name == "axis" and
                p.kind is p.POSITIONAL_OR_KEYWORD), None)

    def wrapped(*args, **kwargs):
        axis = kwargs.get("axis", args[pos] if pos is not None and len(args) > pos else None)
        if not _no_axes(axis):
            return handler(*args, **kwargs)
        bound = sig.bind(*args, **kwargs)
        arg = bound.arguments
        arg[params[0].name] = _unit_axis_added(_t(arg[params[0].name]))
        arg["axis"] = -1
        for name in ("where", "weights"):
            v = arg.get(name)
            if v is not None and v is not _NV and np.ndim(getattr(v, "_data", v)) > 0:
                arg[name] = _unit_axis_added(v)
        r = handler(*bound.args, **bound.kwargs)
        keepdims = arg.get("keepdims", False)
        return _unit_axis_dropped(r) if keepdims is not _NV and keepdims else r

    return wrapped


def reduce_over_empty_axes(handler):
    """A ``ufunc.reduce`` handler that reads ``axis=()`` as NumPy does."""
    return None if handler is None else over_empty_axes(_ufunc_reduce, handler)


def function_handlers():
    """The reductions' handlers (already in the table) wrapped by ``over_empty_axes``."""
    from . import _FUNC_HANDLERS

    return {f: over_empty_axes(f, _FUNC_HANDLERS[f]) for f in _REDUCTIONS
            if f in _FUNC_HANDLERS}
