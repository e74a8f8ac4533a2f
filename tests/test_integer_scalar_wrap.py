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
    }


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
