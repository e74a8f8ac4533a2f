"""A Python number written into a tensor it does not fit (fill_, x[i] = v, x[a:] = v, full,
masked_fill_, index_fill_): PyTorch's overflow error where PyTorch raises, the written value
(inf and nan into a floating dtype, a rounded one for float16 by indexing) where it does not;
arithmetic with such a number is left as it is (inf)."""
import math

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

DTYPES = ["float32", "float16", "int8", "uint8", "int16", "int32", "int64"]
VALUES = [1e300, -1e300, math.inf, -math.inf, math.nan, 3.5e38, 65504.0, 65520.0, 300, -129,
          300.0, 127.5, -0.5, -256, 70000, 2.0**31]


def _ops(lib, dtype, value):
    def made():
        return lib.zeros(4, dtype=dtype)

    def setitem():
        t = made()
        t[0] = value
        return t

    def setslice():
        t = made()
        t[1:] = value
        return t

    mask = lib.tensor([True, False, True, False])
    index = lib.tensor([1])
    return {"fill_": lambda: made().fill_(value), "setitem": setitem, "setslice": setslice,
            "full": lambda: lib.full((3,), value, dtype=dtype),
            "masked_fill_": lambda: made().masked_fill_(mask, value),
            "index_fill_": lambda: made().index_fill_(0, index, value)}


def _run(f):
    try:
        return f().detach().numpy()
    except RuntimeError as e:
        return str(e)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_number_written_matches_torch(dtype, value):
    ours, theirs = _ops(tg, getattr(tg, dtype), value), _ops(torch, getattr(torch, dtype), value)
    for name in ours:
        expected = _run(theirs[name])
        got = _run(ours[name])
        if isinstance(expected, str):
            assert got == expected, (name, got, expected)
        else:
            assert not isinstance(got, str), (name, got)
            np.testing.assert_array_equal(got, expected, err_msg=name)


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_arithmetic_with_a_large_number_stays_inf(dtype):
    x = tg.ones(3, dtype=getattr(tg, dtype))
    ref = torch.ones(3, dtype=getattr(torch, dtype))
    for f in (lambda t: t * 1e300, lambda t: t + 1e300, lambda t: t - 1e300):
        np.testing.assert_array_equal(f(x).detach().numpy(), f(ref).numpy())
