"""Writes through the views of an expanded tensor.

``expand`` repeats elements with a stride of 0, and its NumPy array is read-only so that an
in-place op writing a repeated element raises PyTorch's internal-overlap error. NumPy passes
that flag on to every view taken of it, also to the views that repeat nothing (``w[0]`` of
``w = b.expand(2, 3)``), which PyTorch writes through to ``b``. Such a write goes through a
writeable alias of the same memory, made here when the tensor's storage is writeable.
"""

import warnings

import numpy as np

OVERLAP_MSG = ("unsupported operation: more than one element of the written-to tensor refers to a "
               "single memory location. Please clone() the tensor before performing the operation.")
WARNING = ("Use of {} on expanded tensors is deprecated. Please clone() the tensor before "
           "performing this operation. This also applies to advanced indexing e.g. {}")


def warn_expanded(name, stacklevel):
    """PyTorch's deprecation warning of ``name`` (masked_fill_, index_fill_, index_put_)
    writing into a tensor that repeats elements."""
    warnings.warn(WARNING.format(name, "tensor[indices] = tensor" if name == "index_put_"
                                 else "tensor[mask] = scalar"), UserWarning,
                  stacklevel=stacklevel + 1)


def overlaps(a):
    """Whether ``a`` reaches one memory element from two or more of its indices: a stride of
    0 over two or more elements (PyTorch's ``has_internal_overlap``), or windows that share
    elements (``unfold`` with a step under its size), which PyTorch writes to in an order
    of its own and tapegrad refuses."""
    if any(st == 0 and n > 1 for n, st in zip(a.shape, a.strides)):
        return True
    if a.size < 2 or a.flags.c_contiguous or a.flags.f_contiguous:
        return False
    offsets = np.zeros((), np.int64)
    for n, st in zip(a.shape, a.strides):
        offsets = np.add.outer(offsets, np.arange(n, dtype=np.int64) * st)
    return np.unique(offsets).size < a.size


def repeats_at_backward(d, positions=None, key=None):
    """Whether the backward of an in-place write into the view ``d`` raises PyTorch's overlap
    error (its ``CopySlices`` copies the gradient into the view's geometry, which refuses a
    stride of 0 over two or more elements): ``d`` written whole (fill_, zero_), or by a
    ``key`` holding arrays, where the part its other indices select repeats (``index_put_``);
    a key of basic indices only writes a view of its own, refused at the write if it repeats."""
    if type(d) is not np.ndarray:
        return False
    if positions is not None:
        basic, arrays = _basic_part(key)
        if not arrays:
            return False
        d = d[basic]
    return any(st == 0 and n > 1 for n, st in zip(d.shape, d.strides))


def _basic_part(key):
    """The basic indices of ``key`` (its arrays as whole slices), and its arrays."""
    basic, arrays = [], []
    for k in key if type(key) is tuple else (key,):
        if type(k) is np.ndarray and (k.ndim or k.dtype.kind == "b"):
            arrays.append(k)
            basic.extend([slice(None)] * k.ndim if k.dtype.kind == "b" else [slice(None)])
        elif isinstance(k, (bool, np.bool_)):
            arrays.append(k)
            basic.append(None)
        else:  # (an integer, a 0-d integer array: PyTorch selects first; a slice, None, ...)
            basic.append(int(k) if type(k) is np.ndarray else k)
    return tuple(basic), arrays


class _Memory:
    """An ``__array_interface__`` for NumPy that keeps the array owning the memory alive."""

    __slots__ = ("__array_interface__", "base")

    def __init__(self, interface, base):
        self.__array_interface__ = interface
        self.base = base


def writeable_alias(d, root, overlap_ok=False):
    """``d`` (a read-only view of ``root``'s memory) as a writeable array, or None where it
    must stay read-only: ``root`` (the storage's own array) is read-only, or ``d`` repeats an
    element and the write is not one value for all of them (``overlap_ok``: fill_, zero_)."""
    if type(d) is not np.ndarray or type(root) is not np.ndarray or d is root or \
            not root.flags.writeable or (not overlap_ok and overlaps(d)) or \
            not np.may_share_memory(d, root):
        return None
    face = dict(d.__array_interface__)
    face["data"] = (face["data"][0], False)
    return np.asarray(_Memory(face, root))


def store_through(error, xd, key, root, store, x, value):
    """``store(x, alias, key, value)`` for ``x[key] = value`` where writing ``xd`` (``x``'s
    array) raised ``error``: True where it wrote (``xd`` a read-only view of expand's whose
    ``key`` reaches no element twice); False, nothing written, where the error stands."""
    if "read-only" not in str(error):
        return False
    alias = writeable_alias(xd, root, overlap_ok=True)
    if alias is None:
        return False
    target = alias[key]  # (a copy for an integer-array key: PyTorch's index_put_ writes)
    if isinstance(target, np.ndarray) and np.may_share_memory(target, alias) and \
            overlaps(target):
        return False
    _index_put_warnings(alias, key, value)
    store(x, alias, key, value)
    return True


def _index_put_warnings(alias, key, value):
    """PyTorch's warnings of an index_put_ (an index holding arrays) into the part of
    ``alias`` its other indices select, where that part repeats elements: index_put_'s, and
    masked_fill_'s too for one mask and one value (``w[[0]] = 5``, ``w[mask] = 5``)."""
    basic, arrays = _basic_part(key)
    if arrays and overlaps(alias[basic]):
        # (at the user's write: here, store_through, inplace.setitem, index_put_nodes.setitem)
        warn_expanded("index_put_", 5)
        if len(arrays) == 1 and type(arrays[0]) is np.ndarray and \
                arrays[0].dtype.kind == "b" and np.size(value) == 1:
            warn_expanded("masked_fill_", 5)
