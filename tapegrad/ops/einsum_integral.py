"""PyTorch's einsum on integer and bool operands. Its einsum first sums each operand over the
letters no other operand and not the output has, with ``sum`` (so integer and bool operands
become int64 there: ``einsum('ij->i', int8)`` counts to 300 where a product kept in int8 would
wrap), then contracts what is left with ``bmm``, which refuses bool operands."""

import numpy as np

from .shapes import bool_kernel_error


def _private_letters(sub, others, out_sub):
    return {c for c in sub if c not in out_sub and all(c not in o for o in others)}


def prepare(subs, out_sub, arrays):
    """``(subs, arrays)`` with each integer/bool operand summed (in int64) over its private
    letters; PyTorch's refusal when bool operands still share a summed letter."""
    subs, arrays = list(subs), list(arrays)
    for k, (sub, a) in enumerate(zip(subs, arrays)):
        private = _private_letters(sub, subs[:k] + subs[k + 1:], out_sub)
        if private and a.dtype.kind in "biu":
            kept = "".join(dict.fromkeys(c for c in sub if c not in private))
            arrays[k] = np.einsum(f"{sub}->{kept}", a, dtype=np.int64)
            subs[k] = kept
    shared_sums = {c for c in "".join(subs) if c not in out_sub}
    bools = [a.dtype == np.bool_ for a in arrays]
    if len(arrays) > 1 and shared_sums and all(bools):
        raise bool_kernel_error("bmm")  # PyTorch's einsum contracts with bmm
    return subs, arrays
