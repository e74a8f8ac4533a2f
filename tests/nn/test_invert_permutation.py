"""nn.utils.rnn.invert_permutation (it was missing): values, None, and PyTorch's errors."""

import numpy as np
import pytest

import tapegrad as tg


def _outcome(lib, perm):
    p = None if perm is None else lib.tensor(perm)
    try:
        out = lib.nn.utils.rnn.invert_permutation(p)
    except RuntimeError as e:
        return str(e)
    return None if out is None else (out.numpy().tolist(), str(out.dtype).split(".")[-1])


@pytest.mark.parametrize("perm", [np.array([2, 0, 1]), np.arange(5)[::-1].copy(), np.array([0]),
                                  None, np.array([0, 3, 1]), np.array([1, 0], np.int32)])
def test_invert_permutation_as_torch(torch, perm):
    assert _outcome(tg, perm) == _outcome(torch, perm)


def test_inverts_packed_sequence_order():
    seqs = [tg.ones(n, 2) for n in (2, 4, 3)]
    packed = tg.nn.utils.rnn.pack_sequence(seqs, enforce_sorted=False)
    inv = tg.nn.utils.rnn.invert_permutation(packed.sorted_indices)
    assert inv.tolist() == packed.unsorted_indices.tolist()
