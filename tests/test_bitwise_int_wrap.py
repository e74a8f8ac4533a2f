"""A Python int beside an integer tensor in a bitwise op or shift is cast into the tensor's
dtype as PyTorch casts it (modulo its range); NumPy 2 raised OverflowError for one out of range."""

import numpy as np
import pytest

import tapegrad as tg

CASES = [
    ("uint8", lambda t: t & 300), ("uint8", lambda t: 300 & t), ("uint8", lambda t: t | -1),
    ("uint8", lambda t: t ^ 256), ("uint8", lambda t: t.bitwise_and(300)),
    ("uint8", lambda t: t.bitwise_and_(300)), ("uint8", lambda t: t << 300),
    ("uint8", lambda t: t >> 300), ("int8", lambda t: t & 200), ("int8", lambda t: t | -200),
    ("int8", lambda t: t >> 200), ("int16", lambda t: t ^ 70000),
    ("int8", lambda t: t.bitwise_xor(-129)), ("uint8", lambda t: t[0] & 300),
]
NUMPY = {  # the same with the int wrapped first, in NumPy
    0: lambda a: a & np.uint8(44), 1: lambda a: np.uint8(44) & a, 2: lambda a: a | np.uint8(255),
    3: lambda a: a ^ np.uint8(0), 4: lambda a: a & np.uint8(44), 5: lambda a: a & np.uint8(44),
    8: lambda a: a & np.int8(-56), 9: lambda a: a | np.int8(56), 11: lambda a: a ^ np.int16(4464),
    12: lambda a: a ^ np.int8(127), 13: lambda a: a[0] & np.uint8(44),
}


@pytest.mark.parametrize("case", range(len(CASES)))
def test_wraps_like_torch(case):
    dtype, f = CASES[case]
    r = f(tg.tensor([1, -2, 3] if dtype != "uint8" else [1, 2, 3]).to(getattr(tg, dtype)))
    assert r.dtype == getattr(tg, dtype)
    if case in NUMPY:
        a = np.array([1, -2, 3] if dtype != "uint8" else [1, 2, 3], dtype)
        np.testing.assert_array_equal(r.numpy(), NUMPY[case](a))
    torch = pytest.importorskip("torch")
    t = f(torch.tensor([1, -2, 3] if dtype != "uint8" else [1, 2, 3]).to(getattr(torch, dtype)))
    np.testing.assert_array_equal(r.numpy(), t.numpy())
