"""NumPy's functions on small-integer tensors use NumPy's float loops: np.sin of an int8,
uint8 or bool tensor is float16, of an int16/uint16 one float32, as on arrays; the torch API
(tg.sin, t.sin()) keeps PyTorch's rule, the default float dtype."""

import numpy as np
import pytest

import tapegrad as tg

UNARY = [np.sin, np.cos, np.tan, np.exp, np.expm1, np.exp2, np.log, np.log1p, np.log2,
         np.log10, np.sqrt, np.cbrt, np.tanh, np.sinh, np.cosh, np.arctan, np.arcsinh,
         np.arcsin, np.arccos, np.arctanh, np.arccosh, np.fabs, np.deg2rad, np.rad2deg,
         np.degrees, np.radians]
BINARY = [np.arctan2, np.hypot, np.divide, np.add, np.multiply, np.logaddexp]
DTYPES = ["int8", "uint8", "bool", "int16", "uint16", "int32", "int64"]


def _array(dt):
    return (np.arange(6) % 2).astype(dt) if dt == "bool" else np.array([0, 1, 2, 5, 9, 100], dt)


def _ulps(want):
    return 4 * np.finfo(want.dtype).eps if want.dtype.kind == "f" else 0


@pytest.mark.parametrize("dt", DTYPES)
def test_unary_float_loops_as_numpy(dt):
    a = _array(dt)
    t = tg.tensor(a)
    for f in UNARY:
        with np.errstate(all="ignore"):
            want, got = f(a), f(t)
        assert got.dtype == want.dtype, (f.__name__, dt)
        # (within a few of the dtype's ulps: a composite such as deg2rad rounds once more)
        np.testing.assert_allclose(got.numpy(), want, rtol=_ulps(want), err_msg=f.__name__)


@pytest.mark.parametrize("dt", DTYPES)
def test_binary_float_loops_as_numpy(dt):
    a = _array(dt)
    t = tg.tensor(a)
    for f in BINARY:
        for other, other_np in ((t, a), (3, 3), (a, a), (tg.tensor(a[::-1].copy()), a[::-1])):
            with np.errstate(all="ignore"):
                want, got = f(a, other_np), f(t, other)
            assert got.dtype == want.dtype, (f.__name__, dt, type(other))
            np.testing.assert_allclose(got.numpy(), want, rtol=_ulps(want), err_msg=f.__name__)


def test_torch_api_keeps_the_default_float_dtype():
    t = tg.tensor(np.array([1, 2], np.int8))
    assert tg.sin(t).dtype == t.sin().dtype == tg.get_default_dtype()
    torch = pytest.importorskip("torch")
    assert torch.sin(torch.tensor([1, 2], dtype=torch.int8)).dtype == torch.get_default_dtype()
    assert np.sin(t).dtype == np.float16 and np.sin(t.float()).dtype == np.float32


@pytest.mark.parametrize("dt", DTYPES)
def test_integer_reciprocal_and_bool_square_as_numpy(dt):
    a = _array(dt)
    t = tg.tensor(a)
    for f in (np.reciprocal, np.square):
        with np.errstate(all="ignore"):
            want, got = f(a), f(t)
        assert got.dtype == want.dtype, (f.__name__, dt)
        np.testing.assert_array_equal(got.numpy(), want)
    x = tg.tensor([0.5, -4.0], requires_grad=True)
    (np.reciprocal(x).sum() + np.square(x).sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), -1 / np.array([0.5, -4.0]) ** 2 + 2 * np.array(
        [0.5, -4.0]))


def test_reciprocal_handler_of_a_plain_number():
    from tapegrad.numpy_dispatch import ufunc_handler

    np.testing.assert_allclose(np.asarray(ufunc_handler(np.reciprocal)(4.0).numpy()), 0.25)
    np.testing.assert_allclose(ufunc_handler(np.reciprocal)([2.0, 4.0]).numpy(), [0.5, 0.25])


@pytest.mark.parametrize("dt", DTYPES)
def test_python_bool_operand_as_numpy(dt):
    a = _array(dt)
    t = tg.tensor(a)
    for f in BINARY:
        for args, args_np in (((t, True), (a, True)), ((False, t), (False, a))):
            with np.errstate(all="ignore"):
                want, got = f(*args_np), f(*args)
            assert got.dtype == want.dtype, (f.__name__, dt, args_np)
            np.testing.assert_allclose(got.numpy(), want, rtol=_ulps(want), err_msg=f.__name__)
