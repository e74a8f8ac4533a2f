"""Batching rules of the lookups: ``embedding`` (one table or one per example: per-sample
gradients), ``one_hot``, ``searchsorted`` and ``bucketize``."""

import numpy as np

from ..ops import elementwise as _E
from ..tensor import Tensor, _make
from .batched import RULES, BatchedTensor, _call, _reshape, _unwrap, dispatch
from .batching_rules import _batched_at, _batched_list, _simple


def _rule_embedding(level, name, raw, input, weight, padding_idx=None, max_norm=None,
                    norm_type=2.0, scale_grad_by_freq=False, sparse=False):
    """Rows of ``weight`` picked by ``input``. A shared table: the batch of indices is one more
    index dim (one lookup). A table per example (``vmap(grad)`` of a model's weights): the
    tables stacked into one, each example's indices offset to its own. ``max_norm`` and
    frequency scaling (they act across the examples' lookups): the loop."""
    idx, ib = _unwrap(level, input)
    w, wb = _unwrap(level, weight)
    if max_norm is not None or scale_grad_by_freq or not (ib or wb):
        return NotImplemented
    if not wb:
        return BatchedTensor(dispatch(name, raw, (idx, weight, padding_idx),
                                      {"sparse": sparse}), level)
    iv = idx._data if type(idx) is Tensor else np.asarray(idx)
    size, n = w.shape[0], w.shape[1]
    if type(iv) is not np.ndarray or iv.dtype.kind not in "iu" or len(w.shape) != 3 or \
            (iv.size and (iv.min() < 0 or iv.max() >= n)) or \
            (padding_idx is not None and not -n <= padding_idx < n):
        return NotImplemented  # (the loop raises the call's own error)
    shape = (size,) + (iv.shape[1:] if ib else iv.shape)
    rows = np.broadcast_to(iv, shape)
    offset = rows + (np.arange(size) * n).reshape((size,) + (1,) * (len(shape) - 1))
    out = dispatch(name, raw, (_make(offset), _reshape(w, (size * n, w.shape[2]))),
                   {"sparse": sparse})
    if padding_idx is not None:  # (the padding row of each table gets no gradient)
        keep = _make(np.ascontiguousarray((rows != padding_idx % n)[..., None]))
        out = _call("where", _E.where, keep, out, out.detach())
    return BatchedTensor(out, level)


def _rule_one_hot(level, name, raw, tensor, num_classes=-1):
    """A batch of class indices is one more leading dim; ``num_classes=-1`` (read from each
    example's values): the loop."""
    idx, batched = _unwrap(level, tensor)
    if not batched or num_classes == -1:
        return NotImplemented
    return BatchedTensor(dispatch(name, raw, (idx, num_classes), {}), level)


def _rule_searchsorted(level, name, raw, sorted_sequence, input, **kwargs):
    """Each example's sequence(s) and values: PyTorch's N-D form, whose leading dims pair
    sequences with rows of values; a 1-D sequence per example takes its values flattened."""
    if kwargs.get("sorter") is not None or not isinstance(sorted_sequence, Tensor) or \
            not isinstance(input, Tensor) or sorted_sequence.ndim == 0:
        return NotImplemented
    if not _batched_at(level, [sorted_sequence]) and sorted_sequence.ndim == 1:
        return BatchedTensor(dispatch(name, raw, (sorted_sequence, _unwrap(level, input)[0]),
                                      kwargs), level)  # (one sequence for any values)
    seq, v = _batched_list(level, [sorted_sequence, input])
    if sorted_sequence.ndim > 1:
        return BatchedTensor(dispatch(name, raw, (seq, v), kwargs), level)
    out = dispatch(name, raw, (seq, _reshape(v, (v.shape[0], -1))), kwargs)
    return BatchedTensor(_reshape(out, tuple(v.shape)), level)


def _rule_bucketize(level, name, raw, input, boundaries, **kwargs):
    """Shared boundaries: the batch of values at once; boundaries per example: the loop."""
    if _batched_at(level, [boundaries]) or not _batched_at(level, [input]):
        return NotImplemented
    return BatchedTensor(dispatch(name, raw, (input._phys, boundaries), kwargs), level)


RULES.update(embedding=_simple(_rule_embedding), one_hot=_simple(_rule_one_hot),
             searchsorted=_simple(_rule_searchsorted), bucketize=_simple(_rule_bucketize))
