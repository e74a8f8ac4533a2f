"""A mask of another dtype than bool: masked_fill(_) and masked_select raise PyTorch's words
(masked_fill names the dtype as its C++ type, masked_select names none)."""
import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

DTYPES = ["int8", "uint8", "int16", "int32", "int64", "float16", "float32", "float64",
          "complex64", "complex128"]


def _message(f):
    with pytest.raises(RuntimeError) as e:
        f()
    return str(e.value)


@pytest.mark.parametrize("dt", DTYPES)
def test_masked_fill_non_bool_mask_as_torch(dt):
    m = np.zeros(3, dt)
    for name in ("masked_fill", "masked_fill_"):
        ours = _message(lambda: getattr(tg.zeros(3), name)(tg.tensor(m), 1.0))
        theirs = _message(lambda: getattr(torch.zeros(3), name)(torch.tensor(m), 1.0))
        assert ours == theirs
    ours = _message(lambda: tg.zeros(3).masked_fill(tg.tensor(m), tg.tensor(2.0)))
    assert ours == _message(lambda: torch.zeros(3).masked_fill(torch.tensor(m), torch.tensor(2.0)))


@pytest.mark.parametrize("dt", ["uint8", "int64", "float32"])
def test_masked_select_non_bool_mask_as_torch(dt):
    m = np.zeros(3, dt)
    ours = _message(lambda: tg.masked_select(tg.zeros(3), tg.tensor(m)))
    assert ours == _message(lambda: torch.masked_select(torch.zeros(3), torch.tensor(m)))


def test_bool_mask_still_fills_and_selects():
    x = np.array([1.0, -2.0, 3.0])
    ours = tg.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    for t in (ours, theirs):
        (t.masked_fill(t < 0, 5.0) * 2 + t.masked_select(t > 2).sum()).sum().backward()
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())
