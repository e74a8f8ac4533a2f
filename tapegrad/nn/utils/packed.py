"""``PackedSequence`` and its conversions, as ``torch.nn.utils.rnn``'s: a batch of sequences
of different lengths as one ``data`` tensor of the valid steps, time-major, the longest
sequences first (``batch_sizes[t]``: how many sequences have a step ``t``).

Packing and unpacking are index selections of the padded batch (and of ``data`` with one row
of padding appended), so gradients flow through them by ``index_select``'s own rule. The
recurrent layers take a ``PackedSequence`` and return one (``nn/recurrent.py``).
"""

from collections import namedtuple

import numpy as np

from ... import creation
from ... import ops as O
from ...device import host_array
from ...ops.record import as_tensor
from ...tensor import Tensor

__all__ = ["PackedSequence", "pack_padded_sequence", "pad_packed_sequence", "pack_sequence",
           "unpack_sequence"]


class PackedSequence(namedtuple("PackedSequence",
                                ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """``data`` (sum of lengths, *): the valid steps, time-major; ``batch_sizes`` (int64, one
    per step); ``sorted_indices``: the batch order of ``data`` (None when the batch came
    sorted), ``unsorted_indices`` its inverse."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = _inverse(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        data = self.data.to(*args, **kwargs)
        return self if data is self.data else type(self)(data, *self[1:])

    def cpu(self):
        return self.to("cpu")

    def double(self):
        return self.to(dtype=creation.float64)

    def float(self):
        return self.to(dtype=creation.float32)

    @property
    def is_cuda(self):
        return self.data.is_cuda


def _inverse(perm):
    p = np.asarray(perm._arr() if isinstance(perm, Tensor) else perm, np.int64)
    inv = np.empty_like(p)
    inv[p] = np.arange(p.size)
    return creation.tensor(inv)


def _lengths_array(lengths):
    a = host_array(lengths._arr() if isinstance(lengths, Tensor) else lengths)
    return a.astype(np.int64, copy=False).reshape(-1)


def _steps(lengths):
    """Row ``t * n + b`` of the time-major (L, n) batch for each valid step, in ``data``'s
    order (``lengths`` sorted, longest first)."""
    batch_sizes = (lengths[None, :] > np.arange(lengths[0])[:, None]).sum(1)
    n = lengths.size
    rows = np.concatenate([t * n + np.arange(k) for t, k in enumerate(batch_sizes)])
    return rows, batch_sizes


def _lengths_of(batch_sizes):
    """Each sequence's length (sorted, longest first) from ``batch_sizes`` (host int64)."""
    return (batch_sizes[None, :] > np.arange(int(batch_sizes[0]))[:, None]).sum(1)


def _packed_data(x, lens):
    """``data`` and ``batch_sizes`` of the time-major padded batch ``x`` whose sequences have
    these ``lens`` (sorted, longest first)."""
    rows, batch_sizes = _steps(lens)
    flat = O.reshape(x[: int(lens[0])], (-1,) + tuple(x.shape[2:]))
    return O.index_select(flat, 0, creation.tensor(rows)), batch_sizes


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch (L, B, *) (``batch_first``: (B, L, *)) of sequences of these
    lengths; ``enforce_sorted=False`` sorts the batch by length (and remembers the order)."""
    x = as_tensor(input)
    lens = _lengths_array(lengths)
    if lens.size != x.shape[0 if batch_first else 1]:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got "
                           f"{lens.size} (batch_size={x.shape[0 if batch_first else 1]})")
    sorted_indices = None
    if enforce_sorted:
        if np.any(lens[1:] > lens[:-1]):
            raise RuntimeError("`lengths` array must be sorted in decreasing order when "
                               "`enforce_sorted` is True. You can pass `enforce_sorted=False` "
                               "to pack_padded_sequence and/or pack_sequence to sidestep this "
                               "requirement if you do not need ONNX exportability.")
    else:
        order = np.argsort(-lens, kind="stable")
        lens = lens[order]
        sorted_indices = creation.tensor(order)
        x = O.index_select(x, 0 if batch_first else 1, sorted_indices)
    if lens.size and lens[-1] <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an "
                           "element in 'lengths' that is <= 0")
    if batch_first:
        x = O.transpose(x, 0, 1)
    if lens.size and lens[0] > x.shape[0]:
        raise RuntimeError(f"Expected sequence length to be larger than or equal to "
                           f"{lens[0]}, but got {x.shape[0]}")
    data, batch_sizes = _packed_data(x, lens)
    return PackedSequence(data, creation.tensor(batch_sizes), sorted_indices)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """``(padded, lengths)``: the packed batch back as (T, B, *) (``batch_first``: (B, T, *)),
    in its original order, ``T`` the longest length or ``total_length``."""
    data, batch_sizes = sequence.data, _lengths_array(sequence.batch_sizes)
    steps, n = batch_sizes.size, int(batch_sizes[0])
    if total_length is not None:
        if total_length < steps:
            raise ValueError(f"Expected total_length to be at least the length of the longest "
                             f"sequence in input, but got total_length={total_length} and max "
                             f"sequence length being {steps}")
        steps = int(total_length)
    lens = _lengths_of(batch_sizes)
    rows, _ = _steps(lens)
    pick = np.full(steps * n, data.shape[0], np.int64)  # (the padding row, appended below)
    pick[rows] = np.arange(rows.size)
    pad_row = creation.full((1,) + tuple(data.shape[1:]), padding_value, dtype=data.dtype,
                            device=data.device)
    padded = O.index_select(O.cat([data, pad_row], 0), 0, creation.tensor(pick))
    padded = O.reshape(padded, (steps, n) + tuple(data.shape[1:]))
    lengths = creation.tensor(lens)
    if sequence.unsorted_indices is not None:
        padded = O.index_select(padded, 1, sequence.unsorted_indices)
        lengths = creation.tensor(lens[_lengths_array(sequence.unsorted_indices)])
    return (O.transpose(padded, 0, 1) if batch_first else padded), lengths


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of (L_i, *) tensors (``enforce_sorted``: longest first)."""
    from .rnn import pad_sequence

    lengths = [as_tensor(s).shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """The list of tensors ``pack_sequence`` packed, in their original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return [padded[i, : int(n)] for i, n in enumerate(lengths.tolist())]


def packed_like(padded, like):
    """``padded`` (T, B, *), in the batch's original order, packed as ``like`` is (the
    recurrent layers' output for a packed input)."""
    x = padded if like.sorted_indices is None else O.index_select(padded, 1,
                                                                   like.sorted_indices)
    data, _ = _packed_data(x, _lengths_of(_lengths_array(like.batch_sizes)))
    return PackedSequence(data, like.batch_sizes, like.sorted_indices, like.unsorted_indices)


def step_masks(lengths, steps, device=None):
    """One (B, 1) bool tensor per step: which sequences of these lengths have that step."""
    lens = _lengths_array(lengths)
    return [creation.tensor((t < lens)[:, None], device=device) for t in range(steps)]
