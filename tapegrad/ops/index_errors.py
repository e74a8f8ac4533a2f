"""NumPy's IndexErrors of ``x[key]`` in PyTorch's words (ops/movement.py's getitem)."""

import numpy as np

from ..size import type_name
from .view_rebase import WOKEN

_ZERO_D_INDEX = ("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                 "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number")


def index_error(e, shape=(), key=()):
    """NumPy's IndexError for ``x[key]`` (``x`` of ``shape``) in PyTorch's words: out of
    bounds for a "dimension", not an "axis"; too many indices for the tensor's dimension (an
    int or a slice of a 0-d tensor: PyTorch's own errors); a mask that does not fit."""
    msg = str(e)
    first = (key if isinstance(key, tuple) else (key,))[:1]
    if msg.startswith("too many indices for array: array is "):
        nd = msg[len("too many indices for array: array is "):].split("-", 1)[0]
        if nd == "0" and first and isinstance(first[0], (int, np.integer)) and \
                not isinstance(first[0], bool):
            return IndexError(_ZERO_D_INDEX)
        if nd == "0" and first and isinstance(first[0], slice):
            return IndexError("slice() cannot be applied to a 0-dim tensor.")
        return IndexError(f"too many indices for tensor of dimension {nd}")
    if msg.startswith("only integers, slices"):  # (NumPy's; PyTorch names the bad item)
        bad = [k for k in (key if isinstance(key, tuple) else (key,)) if not isinstance(
            k, (int, np.integer, slice, type(Ellipsis), type(None), np.ndarray, list))]
        if bad and isinstance(bad[0], str):  # (PyTorch reads a string as tensor data)
            return TypeError("new(): invalid data type 'str'")
        if bad:
            return IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or "
                              f"byte Variables are valid indices (got {type_name(bad[0])})")
    if msg.startswith("boolean index did not match"):
        mismatch = mask_mismatch(shape, key if isinstance(key, tuple) else (key,))
        if mismatch is not None:
            return IndexError(mismatch)
    if " for axis " in msg:  # (PyTorch numbers the index arrays: see _dimension_named)
        head, rest = msg.split(" for axis ", 1)
        axis, tail = rest.split(" ", 1)
        items = key if isinstance(key, tuple) else (key,)
        return IndexError(f"{head} for dimension {_dimension_named(items, shape, axis)} {tail}")
    return IndexError(msg)


def _dimension_named(items, shape, axis):
    """The dimension PyTorch's out-of-bounds message names for ``x[items]`` (``x`` of
    ``shape``): the dim of an int out of range; for an integer index array out of range, its
    place among the index tensors PyTorch's advanced indexing takes (a boolean mask counts
    once per dim it spans, a bool once; an int or a 0-d index is a select of its own). NumPy's
    ``axis`` where no item is found out of range."""
    def as_array(k):
        if isinstance(k, (list, np.ndarray)) or hasattr(k, "_data"):
            a = np.asarray(getattr(k, "_data", k))
            return None if a.ndim == 0 and a.dtype != np.bool_ else a
        return None

    arrays = [as_array(k) for k in items]
    spans = [a.ndim if a is not None and a.dtype == np.bool_ else
             int(k is not None and k is not Ellipsis and not isinstance(k, (bool, np.bool_)))
             for k, a in zip(items, arrays)]
    pos, nth = 0, 0
    for k, a, span in zip(items, arrays, spans):
        if k is Ellipsis:
            pos += max(len(shape) - sum(spans), 0)
            continue
        n = shape[pos] if pos < len(shape) else 0
        if a is not None and a.dtype != np.bool_:
            if a.size and (a.min() < -n or a.max() >= n):
                return nth
            nth += 1
        elif a is not None or isinstance(k, (bool, np.bool_)):
            nth += max(span, 1)  # (a mask: one index tensor per dim; a bool: one)
        elif isinstance(k, (int, np.integer)) and not -n <= k < n:
            return pos
        pos += span
    return axis


def mask_mismatch(shape, items):
    """PyTorch's words for the first boolean mask among ``items`` that does not fit the dims
    it indexes, or None."""
    masks = [isinstance(k, np.ndarray) and k.dtype == np.bool_ for k in items]
    # the dims of x the items other than Ellipsis index: Ellipsis spans the others
    consumed = sum(k.ndim if m else int(k is not None and k is not Ellipsis)
                   for k, m in zip(items, masks))
    dims, pos = list(shape), 0
    for k, is_mask in zip(items, masks):
        if k is Ellipsis:
            pos += len(shape) - consumed if len(shape) > consumed else 0
        elif is_mask:
            for j, n in enumerate(k.shape):
                if pos + j < len(dims) and dims[pos + j] != n:
                    return (f"The shape of the mask {list(k.shape)} at index {j} does not match "
                            f"the shape of the indexed tensor {dims} at index {pos + j}")
            pos += k.ndim
        elif isinstance(k, (int, np.integer)):  # (PyTorch selects first: the dim goes)
            dims.pop(pos)
        elif k is None:  # (PyTorch's tensor has the new dim by then)
            dims.insert(pos, 1)
            pos += 1
        else:
            pos += 1
    return None


def writes_view(x, key):
    """Whether PyTorch writes ``x[key] = v`` through a view of ``x`` (its leaf error then names
    "a view of a leaf Variable"): an int, None or bool, a 0-d index tensor, or a slice short of
    its whole dim makes one; full slices, Ellipsis, masks and index tensors write into ``x``
    itself (index_put_). A view made before its base got a history (view_rebase.WOKEN) counts
    as one too."""
    if x._bseg is WOKEN:
        return True
    items = key if isinstance(key, tuple) else (key,)
    if any(k is None or isinstance(k, (bool, int, np.integer, np.bool_)) or
           getattr(k, "ndim", None) == 0 for k in items):
        return True
    used = [getattr(k, "ndim", 1) if getattr(k, "dtype", None) == np.bool_ else 1
            for k in items]
    e = next((i for i, k in enumerate(items) if k is Ellipsis), len(items))
    dims = [sum(used[:i]) if i < e else x.ndim - sum(used[i:]) for i in range(len(items))]
    return any(isinstance(k, slice) and (d >= x.ndim or
                                         k.indices(x.shape[d]) != (0, x.shape[d], 1))
               for k, d in zip(items, dims))
