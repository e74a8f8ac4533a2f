"""tg.set_printoptions, tg.set_default_dtype / get_default_dtype, float16 printing."""

import warnings

import numpy as np
import pytest

import tapegrad as tg

try:
    import torch
except ImportError:
    torch = None


@pytest.fixture
def restore():
    yield
    tg.set_printoptions(profile="default")
    tg.set_default_dtype(tg.float64)
    if torch is not None:
        torch.set_printoptions(profile="default")


@pytest.mark.parametrize("values", [[1.23456, 2.0], [0.5, -3.25, 7.125], [1.0, 2.0]])
def test_precision_like_torch(restore, values):
    for p in (2, 6):
        tg.set_printoptions(precision=p)
        got = repr(tg.tensor(values))
        if torch is not None:
            torch.set_printoptions(precision=p)
            assert got == repr(torch.tensor(values))
        else:
            assert got.count(".") == len(values)
    tg.set_printoptions(profile="default")
    assert repr(tg.tensor([1.23456])) == "tensor([1.2346])"


def test_float16_prints_without_overflow_warning():
    x = tg.tensor(np.array([1.5, 60000.0, np.inf, -2.0], np.float16))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = repr(x)
    assert "dtype=float16" in s and "inf" in s


def test_default_dtype_float32(restore):
    assert tg.get_default_dtype() == tg.float64
    tg.set_default_dtype(tg.float32)
    assert tg.get_default_dtype() == tg.float32
    for t in (tg.tensor([1.0, 2.0]), tg.tensor(2.0), tg.zeros(2), tg.ones(2, 3), tg.rand(2),
              tg.randn(2), tg.full((2,), 1.5), tg.arange(0.0, 3.0), tg.linspace(0, 1, 3),
              tg.eye(2), tg.as_tensor([1.5])):
        assert t.dtype == np.float32, t
    # integers, NumPy arrays and explicit dtypes keep theirs
    assert tg.tensor([1, 2]).dtype == np.int64
    assert tg.tensor(np.ones(2)).dtype == np.float64
    assert tg.zeros(2, dtype=tg.float64).dtype == np.float64
    assert repr(tg.tensor([1.5])) == "tensor([1.5000])"
    assert repr(tg.tensor(np.ones(1))) == "tensor([1.], dtype=float64)"
    x = tg.tensor([1.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.numpy().tolist() == [2.0, 6.0]
    with pytest.raises(TypeError, match="only floating-point types"):
        tg.set_default_dtype(tg.int64)
    if torch is not None:
        assert torch.get_default_dtype() == torch.float32  # PyTorch's default, for reference
    tg.set_default_dtype(tg.float64)
    assert tg.tensor(1.0).dtype == np.float64 and tg.zeros(1).dtype == np.float64


def test_values_are_laid_out_as_pytorch_lays_them_out():
    """One width from the nonzero finite values, integers with a point, scientific notation
    past a 1000x spread, summaries and line breaks at PyTorch's places."""
    nan, inf = float("nan"), float("inf")
    assert repr(tg.tensor([nan, 0.0])) == "tensor([nan, 0.])"
    assert repr(tg.tensor([inf, 0.0, 1.0])) == "tensor([inf, 0., 1.])"
    assert repr(tg.tensor([nan, 10.0, 1e5])) == "tensor([       nan, 1.0000e+01, 1.0000e+05])"
    assert repr(tg.tensor([123456.0, 1.0])) == "tensor([1.2346e+05, 1.0000e+00])"
    assert repr(tg.tensor([True, False])) == "tensor([ True, False])"
    assert repr(tg.zeros(0, 2)) == "tensor([], size=(0, 2))"
    assert repr(tg.arange(2000.0)) == ("tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., "
                                       "1.9970e+03, 1.9980e+03,\n        1.9990e+03])")


def test_printing_matches_pytorch():
    torch = pytest.importorskip("torch")
    import re

    rng = np.random.default_rng(1)
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        for dt in ("float32", "float64", "int64", "int32", "bool", "complex128", "complex64",
                   "float16"):
            for shape in [(), (3,), (2, 3), (0,), (0, 2), (3, 1, 2), (1500,), (40, 40),
                          (5, 300)]:
                a = rng.standard_normal(shape) * rng.choice([1, 100, 1e-5, 1e4])
                if dt.startswith("complex"):
                    a = a + 1j * rng.standard_normal(shape)
                a = (np.round(a) if dt.startswith("int") else a > 0 if dt == "bool" else a)
                a = a.astype(dt)
                for rg in (False, True) if a.dtype.kind in "fc" else (False,):
                    want = re.sub(r"dtype=torch\.", "dtype=", repr(torch.tensor(
                        a, requires_grad=rg)))
                    assert repr(tg.tensor(a, requires_grad=rg)) == want
    finally:
        torch.set_default_dtype(old)


def test_format_spec_of_a_0d_tensor_formats_its_number():
    loss = (tg.tensor([1.5, 2.0], requires_grad=True) ** 2).sum()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (PyTorch's format does not warn, as item() does not)
        assert f"loss {loss:.3f}" == "loss 6.250"
        assert f"{loss:>8}" == "    6.25"
    assert format(tg.tensor(3), "d") == "3"
    assert format(tg.tensor(1 + 2j), ".1f") == "1.0+2.0j"
    x = tg.tensor([1.5, 2.0], requires_grad=True)
    assert format(x, "") == repr(x)  # more than one value: the repr, or PyTorch's TypeError
    with pytest.raises(TypeError, match="unsupported format string passed to Tensor.__format__"):
        format(x, ".2f")
    with pytest.raises(TypeError, match="Parameter.__format__"):
        format(tg.nn.Parameter(tg.tensor(1.5)), ".2f")  # (PyTorch's: subclasses do not)


def test_format_matches_pytorch():
    torch = pytest.importorskip("torch")
    for spec in ("", ".2f", "e", ">10", "+.1%"):
        for v in (1.25, -3.0, 7):
            assert format(tg.tensor(v), spec) == format(torch.tensor(v), spec)
