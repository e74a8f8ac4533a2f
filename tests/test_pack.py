"""The tape's list-to-array conversion (``tapegrad._pack``)."""

import math

import numpy as np
import pytest

from tapegrad import _pack


def _numpy_conversion(values, dtype):
    out = np.zeros(len(values), dtype)
    out[:] = values
    return out


@pytest.mark.parametrize("repeat", [1, 3])  # short lists: NumPy's assignment; longer: struct
def test_ints_are_numpys_conversion(repeat):
    values = [0, -1, 1, 255, 256, -5, 2**62, -(2**63), 2**63 - 1, np.int64(-7), np.int32(9),
              True, False] * repeat
    out = np.full(len(values) + 2, 99, np.int64)
    _pack.fill(out, values, "int64")
    assert out[: len(values)].tolist() == _numpy_conversion(values, np.int64).tolist()
    assert out[-2:].tolist() == [99, 99]  # nothing written past the values


@pytest.mark.parametrize("repeat", [1, 3])
def test_floats_are_numpys_conversion_bit_for_bit(repeat):
    values = [0.0, -0.0, math.inf, -math.inf, math.nan, 5e-324, 1.7976931348623157e308, 1 / 3,
              np.float32(0.1), np.float64(-2.5), 3, 2**60 + 1] * repeat
    out = np.zeros(len(values), np.float64)
    _pack.fill(out, values, "float64")
    expect = _numpy_conversion(values, np.float64)
    assert out.view(np.int64).tolist() == expect.view(np.int64).tolist()


@pytest.mark.parametrize("rows", [2, 5])
def test_into_a_view_and_a_records_buffer(rows):
    buf = np.zeros(40)
    values = [k + 0.5 for k in range(6 * rows)]
    _pack.fill(buf, values, "float64", 4)  # at an offset
    assert buf.tolist() == [0] * 4 + values + [0] * (36 - len(values))
    view = np.zeros(40)
    _pack.fill(view[3:], values, "float64", 1)  # into a view
    assert view.tolist() == [0] * 4 + values + [0] * (36 - len(values))
    recs = np.empty((rows, 6), np.int64)
    _pack.fill(recs, list(range(6 * rows)), "int64")
    assert recs.tolist() == [list(range(6 * k, 6 * k + 6)) for k in range(rows)]


def test_values_struct_refuses_go_to_numpy():
    out = np.zeros(30, np.int64)
    _pack.fill(out, [1, 2.0] + [3] * 28, "int64")  # a float among ints: NumPy's conversion
    assert out.tolist() == [1, 2] + [3] * 28
    with pytest.raises(OverflowError):  # out of range: NumPy's error, not struct's
        _pack.fill(np.zeros(30, np.int64), [1] * 29 + [2**64], "int64")


def test_many_lengths_keep_the_cache_bounded():
    for n in range(1, 1200):
        out = np.empty(n, np.int64)
        _pack.fill(out, list(range(n)), "int64")
        assert out[-1] == n - 1
    assert len(_pack._packers) <= _pack._MAX_PACKERS
