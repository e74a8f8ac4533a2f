"""F.unfold/F.fold inputs of the wrong rank or with an empty non-batch dim: PyTorch's im2col and
col2im checks, in their order and words (after the window checks; unfold reads size(1) and
size(2) first, so fewer dims raise IndexError), where tapegrad raised NotImplementedError
'Input Error: Only 3D or 4D input Tensors are supported' or returned an empty result."""
import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

SHAPES = [(), (2,), (3, 4), (0, 4), (4, 0), (4, 1), (8, 4), (0, 4, 1), (1, 4, 0), (1, 0, 1),
          (0, 3, 3), (2, 3, 3), (2, 0, 3), (0, 2, 3, 3), (2, 0, 3, 3), (2, 3, 0, 3),
          (1, 1, 1, 3, 4)]
CALLS = {
    "unfold": lambda F, x: F.unfold(x, 2),
    "unfold kernel 0": lambda F, x: F.unfold(x, 0),
    "unfold padded": lambda F, x: F.unfold(x, 2, padding=1, stride=2),
    "fold": lambda F, x: F.fold(x, (2, 2), 2, stride=2),
    "fold stride 0": lambda F, x: F.fold(x, (2, 2), 2, stride=0),
    "fold 3x3": lambda F, x: F.fold(x, (3, 3), 2),
}


def _outcome(L, call, shape):
    x = L.tensor(np.cos(np.arange(float(np.prod(shape)))).reshape(shape))
    try:  # (the errors of an input without grad: PyTorch's autograd wrapper reads sizes first)
        CALLS[call](L.nn.functional, x)
    except Exception as e:  # noqa: BLE001 (the class and words are compared)
        return type(e).__name__, str(e)
    x.requires_grad_(True)
    y = CALLS[call](L.nn.functional, x)
    (y * L.tensor(np.sin(np.arange(float(y.numel()))).reshape(tuple(y.shape)))).sum().backward()
    return tuple(y.shape), y.detach().numpy(), x.grad.numpy()


@pytest.mark.parametrize("call", list(CALLS))
@pytest.mark.parametrize("shape", SHAPES)
def test_outcome_as_torch(call, shape):
    got, want = _outcome(tg, call, shape), _outcome(torch, call, shape)
    assert got[0] == want[0]
    if isinstance(want[1], str):
        assert got[1] == want[1]
    else:
        np.testing.assert_allclose(got[1], want[1], rtol=1e-12)
        np.testing.assert_allclose(got[2], want[2], rtol=1e-12, atol=1e-15)
