"""The address tables the compiled sweep reads saved arrays through: the one-pass reading of
array objects gives what NumPy reports for every kind of array a segment saves."""

import numpy as np

from tapegrad.engine import addresses as A


def _expected(arrays):
    return [0 if a is None else a.ctypes.data | (a.dtype is np.dtype(np.float32))
            for a in arrays]


def _mixed():
    rng = np.random.default_rng(0)
    base = rng.standard_normal((6, 5))
    return [base, None, base.astype(np.float32), base[1:, ::2], base.T,
            np.arange(7), np.zeros(0), np.float32(2.0) * np.ones(3, np.float32)[::-1],
            np.asarray(3.0), None]


def test_the_array_layout_is_recognised_here():
    # where it is not, ``addresses`` still works (per-array calls): this says which path runs
    assert A._layout_holds()


def test_one_pass_gives_each_arrays_address_and_float32_mark():
    arrays = _mixed()
    out = np.full(len(arrays) + 3, -5, np.int64)
    A.addresses(arrays, 2, len(arrays), out)
    assert out[2 : len(arrays)].tolist() == _expected(arrays[2:])
    assert out[:2].tolist() == [-5, -5] and out[len(arrays) :].tolist() == [-5] * 3


def test_unaligned_arrays_are_replaced_by_aligned_copies():
    buf = np.zeros(8 * 4 + 1, np.uint8)
    odd = np.ndarray((4,), np.float64, buffer=buf, offset=1)
    odd[...] = [1.0, 2.0, 3.0, 4.0]
    arrays = [np.ones(2), odd, np.ones(3, np.float32)]
    out = np.zeros(3, np.int64)
    A.addresses(arrays, 0, 3, out)
    assert arrays[1] is not odd and arrays[1].flags.aligned  # the table's own copy
    np.testing.assert_array_equal(arrays[1], odd)
    assert out.tolist() == _expected(arrays)


def test_the_per_array_path_gives_the_same_table():
    arrays = _mixed()
    fast, slow = np.zeros(len(arrays), np.int64), np.zeros(len(arrays), np.int64)
    A.addresses(arrays, 0, len(arrays), fast)
    A._one_by_one(arrays, 0, len(arrays), slow)
    assert fast.tolist() == slow.tolist()
