"""An int exponent of an integer tensor that the tensor's dtype cannot hold raises PyTorch's
overflow error (PyTorch converts it with a check); NumPy would wrap it and compute."""

import numpy as np
import pytest

import tapegrad as tg

CASES = [("uint8", 300), ("uint8", 256), ("int8", 128), ("int16", 40000), ("int32", 2**31)]
CALLS = [lambda t, c: t ** c, lambda t, c: t.pow(c), lambda t, c: t.pow_(c),
         lambda t, c: t[1:] ** c]
C_NAMES = {"uint8": "uint8_t", "int8": "int8_t", "int16": "int16_t", "int32": "int"}


@pytest.mark.parametrize("dtype,c", CASES)
@pytest.mark.parametrize("call", range(len(CALLS)))
def test_exponent_out_of_range(dtype, c, call):
    t = tg.tensor([1, 2, 3]).to(getattr(tg, dtype))
    msg = f"value cannot be converted to type {C_NAMES[dtype]} without overflow"
    with pytest.raises(RuntimeError, match=msg):
        CALLS[call](t, c)
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError, match=msg):
        CALLS[call](torch.tensor([1, 2, 3]).to(getattr(torch, dtype)), c)


@pytest.mark.parametrize("dtype,c", [("uint8", 255), ("int8", 127), ("int16", 7)])
def test_exponent_in_range_wraps_the_result(dtype, c):
    a = np.array([1, 2, 3], dtype=dtype)
    np.testing.assert_array_equal((tg.tensor(a) ** c).numpy(), a ** np.array(c, dtype))


def test_negative_exponent_error_first():
    with pytest.raises(RuntimeError, match="Integers to negative integer powers"):
        tg.tensor([1, 2], dtype=tg.int8) ** -129
