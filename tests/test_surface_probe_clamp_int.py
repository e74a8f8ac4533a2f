"""``clamp`` of a narrow integer tensor by number bounds, against PyTorch: a bound the dtype
cannot hold raises "value cannot be converted to type uint8_t without overflow" (tapegrad
clipped by it, e.g. ``uint8.clamp(0, 300)`` passed), and a negative bound of an unsigned tensor
wraps as PyTorch converts it (``uint8.clamp(min=-1)`` is 255 everywhere); float bounds still
make the result floating."""
import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

BOUNDS = [(-1, 300), (0, 200), (-200, 5), (2.5, 7.5), (0, 2 ** 40), (-1, None), (None, 300),
          (-255, None), (-256, None), (3, 2), (None, -3), (0, 255), (-128, 127), (True, None),
          (np.int64(2), np.int64(7)), (-2 ** 31, 2 ** 31 - 1), (-2 ** 31 - 1, None)]


@pytest.fixture(autouse=True)
def torch_float64():  # (tapegrad's default dtype: a float bound gives float64 in both)
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


def outcome(M, dtype, lo, hi, inplace):
    x = M.tensor([0, 1, 5, 10, 100], dtype=getattr(M, dtype))
    try:
        r = x.clamp_(lo, hi) if inplace else M.clamp(x, lo, hi)
    except RuntimeError as e:
        return "error", str(e)
    return str(r.dtype).replace("torch.", ""), r.tolist()


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "int64"])
@pytest.mark.parametrize("lo,hi", BOUNDS)
def test_clamp_as_torch(dtype, lo, hi):
    expected = outcome(torch, dtype, lo, hi, False)
    assert outcome(tg, dtype, lo, hi, False) == expected
    got = outcome(tg, dtype, lo, hi, True)
    if expected[0] == dtype or "overflow" in str(expected[1]):  # (clamp_ keeps the dtype)
        assert got == outcome(torch, dtype, lo, hi, True)
    else:  # a float result cannot be written back into the integer tensor
        assert got[0] == "error" and "can't be cast to the desired output type" in got[1]
