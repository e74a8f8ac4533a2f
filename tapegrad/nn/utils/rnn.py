"""``pad_sequence`` and ``unpad_sequence``, as ``torch.nn.utils.rnn``'s: sequences of
different lengths batched for the recurrent layers, and back; packed sequences come from
``packed.py``."""

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
        raise ValueError(f"Expected padding_side to be one of left or right, but got "
                         f"{padding_side}.")
    seqs = [as_tensor(s) for s in sequences]
    if not seqs:
        raise RuntimeError("received an empty list of sequences")
    longest = max(s.shape[0] for s in seqs)
    from ..functional import pad

    padded = []
    for s in seqs:
        extra = longest - s.shape[0]
        amounts = [0, 0] * (s.ndim - 1) + ([0, extra] if padding_side == "right" else [extra, 0])
        padded.append(pad(s, amounts, value=padding_value) if extra else s)
    return O.stack(padded, 0 if batch_first else 1)


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
