"""``Tensor.untyped_storage()`` and ``Tensor.storage()``: the memory a tensor shares with its
views, as PyTorch's storages. Programs compare ``data_ptr()`` of two storages to ask whether
two tensors share memory (the Tensor Views page does); a view's storage is its base's.

The storage of a tensor is the array of the tensor it views (``ops.inplace.storage_base``), or
its own; ``storage()`` is PyTorch's deprecated typed form (its warning), counted in elements.
"""

import warnings

import numpy as np

from ..ops.inplace import storage_base
from ..tensor import _make

__all__ = ["UntypedStorage", "TypedStorage", "untyped_storage", "storage"]

_TYPED_DEPRECATED = (
    "TypedStorage is deprecated. It will be removed in the future and UntypedStorage will be "
    "the only storage class. This should only matter to you if you are using storages "
    "directly.  To access UntypedStorage directly, use tensor.untyped_storage() instead of "
    "tensor.storage()")


class UntypedStorage:
    """The bytes of a tensor's storage."""

    def __init__(self, base):
        self._owner = base  # the tensor whose array is the storage

    def _array(self):
        return self._owner._arr()

    def data_ptr(self):
        """The address of the storage's first byte."""
        return self._owner.data_ptr()  # (the owner's array starts the storage)

    def nbytes(self):
        return int(self._array().nbytes)

    def size(self):
        return self.nbytes()

    def __len__(self):
        return self.nbytes()

    def element_size(self):
        return 1

    @property
    def device(self):
        return self._owner.device

    def tolist(self):
        """The bytes, as ints."""
        return np.ascontiguousarray(self._array()).view(np.uint8).reshape(-1).tolist()

    def __repr__(self):
        return "\n".join([f" {b}" for b in self.tolist()] + [
            f"[tapegrad.storage.UntypedStorage(device={self.device}) of size {self.nbytes()}]"])


class TypedStorage:
    """A tensor's storage counted in elements of its dtype (PyTorch's deprecated form)."""

    def __init__(self, base):
        self._untyped = UntypedStorage(base)
        self.dtype = base.dtype

    def untyped(self):
        return self._untyped

    def data_ptr(self):
        return self._untyped.data_ptr()

    def element_size(self):
        return np.dtype(self.dtype).itemsize

    def nbytes(self):
        return self._untyped.nbytes()

    def size(self):
        return self.nbytes() // self.element_size()

    def __len__(self):
        return self.size()

    @property
    def device(self):
        return self._untyped.device

    def tolist(self):
        return np.ascontiguousarray(self._untyped._array()).reshape(-1).tolist()

    def __getitem__(self, i):
        return self.tolist()[i]

    def __repr__(self):
        return "\n".join([f" {v}" for v in self.tolist()] + [
            f"[tapegrad.storage.TypedStorage(dtype=tapegrad.{np.dtype(self.dtype)}, device="
            f"{self.device}) of size {self.size()}]"])


def storage_root(x):
    """The tensor whose storage ``x`` shares: its view base, or for ``detach()``, ``.data`` or
    a ``Parameter`` of a view (no view, as in PyTorch, but the same memory) a tensor of that
    view's storage array."""
    base = storage_base(x)
    s = base._store  # (the array only: holding the base tensor would hold its history)
    if type(s) is np.ndarray and type(base._data) is np.ndarray and \
            np.may_share_memory(s, base._data):
        return _make(s)
    return base


def untyped_storage(self):
    """The storage ``self`` shares with its views, as bytes."""
    return UntypedStorage(storage_root(self))


def storage(self):
    """The storage of ``self`` in elements of its dtype (deprecated in PyTorch: its warning)."""
    warnings.warn(_TYPED_DEPRECATED, UserWarning, stacklevel=2)
    return TypedStorage(storage_root(self))

