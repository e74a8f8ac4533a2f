"""Writes through the views of an expanded tensor.

``expand`` repeats elements with a stride of 0, and its NumPy array is read-only so that an
in-place op writing a repeated element raises PyTorch's internal-overlap error. NumPy passes
that flag on to every view taken of it, also to the views that repeat nothing (``w[0]`` of
``w = b.expand(2, 3)``), which PyTorch writes through to ``b``. Such a write goes through a
writeable alias of the same memory, made here when the tensor's storage is writeable.
"""

import numpy as np


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


def store_through(error, xd, key, root, store):
    """``store(alias)`` for ``x[key] = v`` where writing ``xd`` raised ``error``: True where
    it wrote (``xd`` a read-only view of expand's whose ``key`` reaches no element twice);
    False, nothing written, where the error stands."""
    if "read-only" not in str(error):
        return False
    alias = writeable_alias(xd, root, overlap_ok=True)
    if alias is None:
        return False
    target = alias[key]  # (a copy for an integer-array key: PyTorch's index_put_ writes)
    if isinstance(target, np.ndarray) and np.may_share_memory(target, alias) and \
            overlaps(target):
        return False
    store(alias)
    return True
