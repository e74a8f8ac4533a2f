"""``masked_fill_``, ``index_fill_`` and ``index_put_`` on a view that repeats elements
(``b.expand(2, 3)``): PyTorch writes them into the repeated memory, with a deprecation warning,
where the other in-place ops raise its internal-overlap error. Here the elements written are
mapped to the positions of the view's storage base they live at, and written there with one
``index_put_`` (repeats of one element get the same value; ``accumulate`` adds each)."""

import numpy as np

from .. import grad_mode as _gm
from .. import ops as _ops
from ..ops.expanded_writes import overlaps, warn_expanded
from ..ops.inference_saves import refuse_saved_key, refuse_saved_mask
from ..ops.inplace import _rebind, check_inplace, storage_base, view_positions
from ._common import const
from ..tensor import Tensor
from .shapes import _dim_mask, _put_positions, index_fill, index_put


def repeats(x):
    """Whether ``x`` is a CPU view whose elements repeat memory, written through here."""
    d = x._data
    return type(d) is np.ndarray and not d.flags.writeable and x._base is not None and \
        d.size > 1 and overlaps(d) and storage_base(x) is not x and \
        storage_base(x)._data.flags.writeable


def _write(x, name, chosen, values, accumulate=False):
    """Write ``values`` (broadcast to ``chosen``'s shape) at the elements ``chosen`` (flat
    C-order positions in ``x``) of the repeating view ``x``, through its storage base."""
    recorded = x._rg and _gm.is_grad_enabled()
    if recorded:
        check_inplace(x)  # (a view of a leaf requiring grad: PyTorch's error first)
    warn_expanded(name, 3)
    base = storage_base(x)
    pos = view_positions(x, base)[chosen.reshape(-1)]
    key = tuple(const(i) for i in np.unravel_index(pos, base.shape)) if base.ndim else \
        (const(np.zeros(pos.size, np.int64)),)
    v = values if isinstance(values, Tensor) else const(np.asarray(values, x.dtype))
    if v.dtype != x.dtype:
        v = v.to(x.dtype)
    v = _ops.reshape(_ops.broadcast_to(v, chosen.shape), (-1,))
    if not base.ndim:
        v = _ops.reshape(v, (-1,))
    if not recorded:
        base.index_put_(key, v, accumulate)
        return x
    # x requires grad: PyTorch writes, and its CopySlices (the view's geometry repeats
    # elements) raises the overlap error when a backward reaches it, the one way a value
    # requiring grad would get a gradient from here
    with _gm.no_grad():
        base.index_put_(key, v, accumulate)
    _rebind(x, const(np.array(x._data)))
    return x


def masked_fill_(x, mask, value):
    with _gm.no_grad():  # (its checks and errors: the mask's dtype and shape, the value's)
        _ops.masked_fill(x.detach(), mask, value)
    refuse_saved_mask(mask, x, value)  # (its backward saves the mask)
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    return _write(x, "masked_fill_", np.flatnonzero(np.broadcast_to(m, x.shape)), value)


def index_fill_(x, dim, index, value):
    with _gm.no_grad():
        index_fill(x.detach(), dim, index, value)
    _, mask = _dim_mask(x, dim, index, "index_fill")
    return _write(x, "index_fill_", np.flatnonzero(np.broadcast_to(mask, x.shape)), value)


def index_put_(x, indices, values, accumulate=False):
    with _gm.no_grad():
        index_put(x.detach(), indices, values, accumulate)
    refuse_saved_key(x, tuple(indices), values)  # (before the inference tensor's error)
    return _write(x, "index_put_", _put_positions(x, indices), values, accumulate)
