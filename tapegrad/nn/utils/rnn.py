"""``pad_sequence`` and ``unpad_sequence``, as ``torch.nn.utils.rnn``'s: sequences of
different lengths batched for the recurrent layers, and back; packed sequences come from
``packed.py``."""

import numpy as np

from ... import creation
from ... import ops as O
from ...ops.record import as_tensor
from .packed import (PackedSequence, pack_padded_sequence, pack_sequence, pad_packed_sequence,
                     unpack_sequence)

__all__ = ["pad_sequence", "unpad_sequence", "PackedSequence", "pack_padded_sequence",
           "pad_packed_sequence", "pack_sequence", "unpack_sequence", "invert_permutation"]


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack tensors of shape (L_i, *) into (L_max, B, *) (``batch_first``: (B, L_max, *)),
    padded with ``padding_value`` after (or, ``padding_side="left"``, before) each one."""
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got "
                           f"{padding_side}.")
    seqs = [as_tensor(s) for s in sequences]
    if not seqs:
        raise RuntimeError("received an empty list of sequences")
    # each sequence is copied into a slot of the first one's trailing shape, as PyTorch's
    seqs = [_fit(s, (s.shape[0],) + tuple(seqs[0].shape[1:])) if s.ndim else s for s in seqs]
    longest = max(s.shape[0] for s in seqs)
    from ..functional import pad

    padded = []
    for s in seqs:
        extra = longest - s.shape[0]
        amounts = [0, 0] * (s.ndim - 1) + ([0, extra] if padding_side == "right" else [extra, 0])
        padded.append(pad(s, amounts, value=padding_value) if extra else s)
    return O.stack(padded, 0 if batch_first else 1)


def _fit(s, want):
    """``s`` broadcast to ``want`` as ``copy_`` broadcasts it, with PyTorch's errors."""
    have = tuple(s.shape)
    if have == want:
        return s
    n = max(len(want), len(have))
    for i in range(n - 1, -1, -1):
        a = want[i - n + len(want)] if i - n + len(want) >= 0 else 1
        b = have[i - n + len(have)] if i - n + len(have) >= 0 else 1
        if a != b and a != 1 and b != 1:
            raise RuntimeError(f"The size of tensor a ({a}) must match the size of tensor b "
                               f"({b}) at non-singleton dimension {i}")
    shape = tuple(np.broadcast_shapes(want, have))
    if shape != want:
        raise RuntimeError(f"output with shape {list(want)} doesn't match the broadcast shape "
                           f"{list(shape)}")
    return O.expand(s, want)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The sequences ``pad_sequence`` stacked, cut to ``lengths``."""
    x = padded_sequences if batch_first else O.transpose(padded_sequences, 0, 1)
    return [x[i, : int(n)] for i, n in enumerate(lengths)]


def invert_permutation(permutation):
    """The inverse of ``permutation`` (a 1-D tensor of indices), or None for None: converts
    between a PackedSequence's sorted and unsorted indices."""
    if permutation is None:
        return None
    output = creation.empty_like(permutation)
    output.scatter_(0, permutation, creation.arange(0, permutation.numel(),
                                                    device=permutation.device))
    return output
