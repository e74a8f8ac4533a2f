"""A Python int outside an integer tensor's range (``uint8_tensor + (-1)``, ``int8 * 1000``) is
cast to the tensor's dtype as PyTorch casts it (modulo the range); NumPy 2 raises OverflowError.
A negative exponent of an integer tensor is PyTorch's error, not a wrapped power."""
import numpy as np
import pytest

import tapegrad as tg


def _programs(L):
    u = L.tensor([3, 2, 5], dtype=L.uint8)
    i8 = L.tensor([3, -2, 5], dtype=L.int8)
    return {
        "add": lambda: u + (-3), "mul": lambda: u * -1, "rsub": lambda: -3 - u,
        "int8_add": lambda: i8 + 300, "int8_mul": lambda: i8 * 1000,
        "floordiv": lambda: u // -3, "mod": lambda: u % -3, "fmod": lambda: L.fmod(u, -3),
        "rremainder": lambda: L.remainder(-3, u), "view": lambda: u[::2] + (-3),
        "0d": lambda: L.tensor(3, dtype=L.uint8) - (-5), "sub_alpha": lambda: u.add(-3, alpha=2),
        "add_": lambda: u.clone().add_(-1), "mul_": lambda: u.clone().mul_(-3),
        "full": lambda: L.full((2,), -1, dtype=L.uint8), "fill_": lambda: u.clone().fill_(-1),
        "index_fill": lambda: u.index_fill(0, L.tensor([1]), -1),
    }


def _overflowing_fills(L):
    return {
        "full": lambda: L.full((2,), 300, dtype=L.uint8),
        "full_int8": lambda: L.full((2,), 200, dtype=L.int8),
        "fill_": lambda: L.zeros(2, dtype=L.int8).fill_(-129),
        "fill_unsigned": lambda: L.zeros(2, dtype=L.uint8).fill_(-256),
        "masked_fill_": lambda: L.zeros(2, dtype=L.int8).masked_fill_(L.tensor([True, False]),
                                                                      200),
        "index_fill_": lambda: L.zeros(2, dtype=L.int8).index_fill_(0, L.tensor([0]), 200),
        "setitem": lambda: L.zeros(2, dtype=L.int8).__setitem__(0, 200),
        "int32": lambda: L.zeros(2, dtype=L.int32).fill_(2 ** 31),
    }


@pytest.mark.parametrize("case", list(_overflowing_fills(tg)))
def test_fills_out_of_range_raise(case):
    # fills check the value (PyTorch's checked conversion), arithmetic wraps it
    with pytest.raises(RuntimeError, match="value cannot be converted to type .* without "
                                           "overflow"):
        _overflowing_fills(tg)[case]()


@pytest.mark.parametrize("case", list(_overflowing_fills(tg)))
def test_fill_errors_match_torch(case):
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError) as theirs:
        _overflowing_fills(torch)[case]()
    with pytest.raises(RuntimeError) as mine:
        _overflowing_fills(tg)[case]()
    assert str(mine.value) == str(theirs.value)


def _wrapped(v, dt):
    return np.array(v).astype(dt)  # C's (and PyTorch's) cast


def test_out_of_range_ints_wrap():
    p = _programs(tg)
    u8 = np.array([3, 2, 5], np.uint8)
    assert p["add"]().tolist() == (u8 + _wrapped(-3, np.uint8)).tolist() == [0, 255, 2]
    assert p["int8_mul"]().tolist() == (np.array([3, -2, 5], np.int8)
                                        * _wrapped(1000, np.int8)).tolist()
    assert p["floordiv"]().tolist() == [0, 0, 0] and p["mod"]().tolist() == [3, 2, 5]
    assert p["full"]().tolist() == [255, 255] and p["add_"]().tolist() == [2, 1, 4]
    for name, f in p.items():
        assert f().dtype in (np.uint8, np.int8), name


@pytest.mark.parametrize("dt", ["uint8", "int8", "int32", "int64"])
def test_negative_integer_power_raises(dt):
    with pytest.raises(RuntimeError, match="Integers to negative integer powers are not allowed"):
        tg.tensor([2, 3], dtype=getattr(tg, dt)) ** -1


@pytest.mark.parametrize("name", list(_programs(tg)))
def test_matches_torch(name):
    torch = pytest.importorskip("torch")
    mine, theirs = _programs(tg)[name](), _programs(torch)[name]()
    assert mine.tolist() == theirs.tolist()
    assert str(mine.dtype) == str(theirs.dtype).split(".")[-1]
