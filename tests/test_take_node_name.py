"""``take`` (recorded as a flatten and an indexed gather) is named as PyTorch's node:
TakeBackward0, whose next function is the input's node; values and gradients unchanged."""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.autograd.gradcheck import gradcheck

torch = pytest.importorskip("torch")

SOURCES = [lambda x: x, lambda x: x * 2, lambda x: x.t() if x.ndim == 2 else x[::1]]


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("index", [[0, 1], 1, [[0, 1], [1, 0]]])
@pytest.mark.parametrize("data", [[[0.3, 0.6], [0.2, 0.4]], [0.3, 0.6]])
def test_take_node_as_torch(data, index, source):
    got = []
    for L in (tg, torch):
        x = L.tensor(data, dtype=L.float64, requires_grad=True)
        y = L.take(source(x), L.tensor(index))
        (y * L.tensor(1.5, dtype=L.float64)).sum().backward()
        got.append((y.grad_fn.name(), type(y.grad_fn).__name__,
                    [type(f[0]).__name__ for f in y.grad_fn.next_functions],
                    np.asarray(y.detach()).tolist(), np.asarray(x.grad).tolist()))
    assert got[0] == got[1]


def test_take_gradient_finite_differences():
    x = tg.tensor([[0.3, 0.6], [0.2, 0.4]], dtype=tg.float64, requires_grad=True)
    assert gradcheck(lambda v: tg.take(v * v, tg.tensor([3, 0, 3])), (x,))
