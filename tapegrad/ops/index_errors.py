"""NumPy's IndexErrors of ``x[key]`` in PyTorch's words (ops/movement.py's getitem)."""

import numpy as np

from ..size import type_name

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
    return IndexError(msg.replace(" for axis ", " for dimension "))


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
