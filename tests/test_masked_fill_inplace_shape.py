"""masked_fill_ with a mask that does not broadcast: PyTorch's in-place error names the input
first (out of place, the mask is named first); a broadcasting mask still fills in place."""

import numpy as np
import pytest

import tapegrad as tg


@pytest.mark.parametrize("xs,ms", [((2, 3), (2,)), ((3,), (4,)), ((2, 3), (3, 3))])
def test_mismatched_mask_message_as_pytorch(xs, ms):
    torch = pytest.importorskip("torch")
    m = np.zeros(ms, dtype=bool)
    messages = []
    for lib, inplace in ((torch, True), (tg, True), (torch, False), (tg, False)):
        x = lib.zeros(xs)
        with pytest.raises(RuntimeError) as info:
            (x.masked_fill_ if inplace else x.masked_fill)(lib.tensor(m), 1.0)
        messages.append(str(info.value))
    assert messages[1] == messages[0]
    assert messages[3] == messages[2]


def test_broadcasting_mask_fills_in_place_with_gradient():
    torch = pytest.importorskip("torch")
    m = np.array([True, False, True])
    results = []
    for lib in (torch, tg):
        w = lib.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
        x = w * 2
        x.masked_fill_(lib.tensor(m), -1.0)
        (x * x).sum().backward()
        results.append((x.detach().numpy(), w.grad.numpy()))
    np.testing.assert_allclose(results[1][0], results[0][0])
    np.testing.assert_allclose(results[1][1], results[0][1])
