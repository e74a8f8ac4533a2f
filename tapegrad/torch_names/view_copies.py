"""PyTorch's ``*_copy`` variants of the view ops (``transpose_copy``, ``select_copy``,
``split_copy``, ...): the view's values in fresh contiguous storage with its own version
counter, differentiable as the view; and ``unsafe_split``/``unsafe_chunk``/
``unsafe_split_with_sizes``, which are the plain ones here."""

from .. import ops as _ops
from ..ops import layout as _layout
from ..tensor import norm_dim
from . import more, shapes
from ._common import dims_of

__all__ = ["view_copy", "t_copy", "transpose_copy", "permute_copy", "squeeze_copy",
           "unsqueeze_copy", "expand_copy", "diagonal_copy", "select_copy", "slice_copy",
           "split_copy", "split_with_sizes_copy", "unbind_copy", "unfold_copy", "alias_copy",
           "detach_copy", "narrow_copy", "view_as_real_copy", "view_as_complex_copy",
           "as_strided_copy", "unsafe_split", "unsafe_chunk", "unsafe_split_with_sizes"]


def _fresh(view):
    """``view``'s values in storage of their own (row-major, as PyTorch's copies)."""
    out = view.contiguous()
    return view.clone() if out is view else out


def view_copy(input, size):
    """``input.view(size)`` copied (any layout: the values in row-major order)."""
    return _fresh(_ops.reshape(input, dims_of(size)))


def t_copy(input):
    return _fresh(shapes.t(input))


def transpose_copy(input, dim0, dim1):
    return _fresh(_ops.transpose(input, dim0, dim1))


def permute_copy(input, dims):
    return _fresh(_ops.permute(input, *dims_of(dims)))


def squeeze_copy(input, dim=None):
    return _fresh(_ops.squeeze(input, dim if dim is None else dims_of(dim)))


def unsqueeze_copy(input, dim):
    return _fresh(_ops.unsqueeze(input, dim))


def expand_copy(input, size, *, implicit=False):
    return _fresh(_ops.expand(input, dims_of(size)))


def diagonal_copy(input, offset=0, dim1=0, dim2=1):
    return _fresh(_ops.diagonal(input, offset, dim1, dim2))


def select_copy(input, dim, index):
    return _fresh(shapes.select(input, dim, index))


def slice_copy(input, dim=0, start=None, end=None, step=1):
    """``input[..., start:end:step, ...]`` along ``dim``, copied (bounds clamped, as
    PyTorch's ``slice``)."""
    if step <= 0:
        raise RuntimeError("slice step must be positive")
    d = norm_dim(dim, input.ndim)
    return _fresh(input[(slice(None),) * d + (slice(start, end, step),)])


def split_copy(input, split_size, dim=0):
    return tuple(_fresh(v) for v in _ops.split(input, split_size, dim))


def split_with_sizes_copy(input, split_sizes, dim=0):
    return tuple(_fresh(v) for v in more.split_with_sizes(input, split_sizes, dim))


def unbind_copy(input, dim=0):
    return tuple(_fresh(v) for v in _ops.unbind(input, dim))


def unfold_copy(input, dimension, size, step):
    return _fresh(_layout.unfold(input, dimension, size, step))


def alias_copy(input):
    """A copy of ``input`` (the alias of a tensor is the tensor; its copy is a clone)."""
    return input.clone()


def detach_copy(input):
    """A copy of ``input`` without history."""
    return input.detach().clone()


def narrow_copy(input, dim, start, length):
    return _fresh(shapes.narrow(input, dim, start, length))


def view_as_real_copy(input):
    return _fresh(shapes.view_as_real(input))


def view_as_complex_copy(input):
    return _fresh(shapes.view_as_complex(input))


def as_strided_copy(input, size, stride, storage_offset=None):
    return _fresh(more.as_strided(input, size, stride, storage_offset))


def unsafe_split(tensor, split_size_or_sections, dim=0):
    """``split`` (PyTorch's version skips the checks on in-place changes of its outputs)."""
    return _ops.split(tensor, split_size_or_sections, dim)


def unsafe_chunk(input, chunks, dim=0):
    return _ops.chunk(input, chunks, dim)


def unsafe_split_with_sizes(input, split_sizes, dim=0):
    return more.split_with_sizes(input, split_sizes, dim)
