"""``full``/``full_like``/``new_full``/``fill_``/``x[i] = v`` and ``tensor(...)`` with NumPy
scalar numbers and Python ints that 64 bits cannot hold, as PyTorch 2.13: a NumPy scalar
number is a Python number (``full((2,), np.float32(1.5))`` has the default dtype,
``np.int32(3)`` makes int64); an int past uint64 or below int64 raises PyTorch's
OverflowError where a number is taken, one in [2**63, 2**64) fills float and bool tensors and
refuses integer ones; ``tensor(2**63)`` raises "Overflow when unpacking long long" unless the
dtype is floating; an int out of a small integer dtype raises PyTorch's overflow error (uint8
wraps -1..-255, as PyTorch). NumPy made uint64 or object arrays of these before. (A list mixing
such an int with smaller ones, ``[1, 2 ** 63]``, is float64 in NumPy and stays so: telling it
apart would cost every list of floats a pass.)"""
import numpy as np
import pytest

import tapegrad as tg
from tests.outcome import dtype_name, outcome

torch = pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def _same_default_dtype():
    """Both libraries' default float dtype float32 (PyTorch's), then restored."""
    before, tbefore = tg.get_default_dtype(), torch.get_default_dtype()
    tg.set_default_dtype(tg.float32)
    torch.set_default_dtype(torch.float32)
    yield
    tg.set_default_dtype(before)
    torch.set_default_dtype(tbefore)


def _outcome(f):
    return outcome(f, lambda r: (dtype_name(r), r.tolist()), first_line=True)


_BIG = [2 ** 63 - 1, 2 ** 63, -2 ** 63, -2 ** 63 - 1, 2 ** 64 - 1, 2 ** 64, 2 ** 70, -2 ** 70]
_DTYPES = [None, "float32", "float64", "int64", "int32", "uint8", "bool", "complex128"]


@pytest.mark.parametrize("v", _BIG)
@pytest.mark.parametrize("dt", _DTYPES)
@pytest.mark.parametrize("how", ["full", "fill_", "full_like", "new_full", "tensor",
                                 "tensor list"])
def test_big_python_ints_as_torch(v, dt, how):
    def run(L):
        d = None if dt is None else getattr(L, dt)
        d_or = d if d is not None else L.float64
        calls = {"full": lambda: L.full((2,), v, dtype=d),
                 "fill_": lambda: L.zeros(2, dtype=d_or).fill_(v),
                 "full_like": lambda: L.full_like(L.zeros(2, dtype=d_or), v),
                 "new_full": lambda: L.zeros(2, dtype=d_or).new_full((2,), v),
                 "tensor": lambda: L.tensor(v, dtype=d),
                 "tensor list": lambda: L.tensor([[v], [v]], dtype=d)}
        return _outcome(calls[how])

    assert run(tg) == run(torch)


@pytest.mark.parametrize("v", [2 ** 63, 2 ** 64, 2 ** 70, -2 ** 63 - 1])
def test_setitem_of_a_big_int_as_torch(v):
    def run(L):
        return _outcome(lambda: L.zeros(3, dtype=L.float64).__setitem__(0, v))

    assert run(tg) == run(torch)


@pytest.mark.parametrize("v", [256, -1, -129, -255, -256, 128, 2 ** 31, -2 ** 31 - 1, 2 ** 40])
@pytest.mark.parametrize("dt", ["uint8", "int8", "int16", "int32", "bool"])
def test_ints_out_of_a_small_dtype_as_torch(v, dt):
    def run(L):
        d = getattr(L, dt)
        return [_outcome(lambda: L.tensor(v, dtype=d)), _outcome(lambda: L.tensor([v, 1], dtype=d)),
                _outcome(lambda: L.full((2,), v, dtype=d))]

    assert run(tg) == run(torch)


@pytest.mark.parametrize("v", [np.float32(1.5), np.float64(2.5), np.float16(1.5), np.int8(3),
                               np.int32(3), np.int64(3), np.uint8(3)])
@pytest.mark.parametrize("how", ["full", "full_like", "new_full", "fill_", "tensor"])
def test_numpy_scalar_numbers_as_torch(v, how):
    def run(L):
        calls = {"full": lambda: L.full((2,), v),
                 "full_like": lambda: L.full_like(L.zeros(2, dtype=L.int64), v),
                 "new_full": lambda: L.zeros(2, dtype=L.float64).new_full((2,), v),
                 "fill_": lambda: L.zeros(2, dtype=L.int32).fill_(v),
                 "tensor": lambda: L.tensor(v)}
        return _outcome(calls[how])

    assert run(tg) == run(torch)


@pytest.mark.parametrize("v", [np.float64(1e300), np.float64(np.inf), np.float32(3e38)])
def test_numpy_float_into_float32_and_float16_as_torch(v):
    def run(L):
        return [_outcome(lambda: L.zeros(2, dtype=L.float32).fill_(v)),
                _outcome(lambda: L.full((2,), v, dtype=L.float32)),
                _outcome(lambda: L.zeros(2, dtype=L.float16).fill_(v))]

    assert run(tg) == run(torch)


def test_fill_keeps_its_gradient():
    x = tg.tensor([0.5, -1.0, 2.0], dtype=tg.float64, requires_grad=True)
    assert tg.autograd.gradcheck(lambda x: (x * 2).fill_(np.float64(1.5)) + x, (x,))
