"""A complex number minus a bool tensor (or the reverse) is refused as PyTorch refuses any
subtraction with a bool operand; complex numbers beside other dtypes still subtract."""

import numpy as np
import pytest

import tapegrad as tg

MSG = "Subtraction, the `-` operator, with a bool tensor is not supported"
CASES = [
    lambda L, b: b - 1j,
    lambda L, b: 1j - b,
    lambda L, b: b[0] - (2 + 1j),
    lambda L, b: b - np.complex128(1j),
    lambda L, b: np.complex64(1j) - b,
]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_bool_minus_complex_refused(case):
    b = tg.tensor([True, False, True])
    with pytest.raises(RuntimeError, match=MSG):
        CASES[case](tg, b)


@pytest.mark.parametrize("case", range(len(CASES)))
def test_same_as_torch(case):
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError, match=MSG):
        CASES[case](torch, torch.tensor([True, False, True]))


@pytest.mark.parametrize("dtype", ["int64", "float32", "complex64"])
def test_other_dtypes_still_subtract(dtype):
    x = tg.tensor([1, 0, 2]).to(getattr(tg, dtype))
    a = x.numpy()
    np.testing.assert_allclose((x - 1j).numpy(), a - 1j)
    np.testing.assert_allclose((1j - x).numpy(), 1j - a)
