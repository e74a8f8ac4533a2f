"""``exp2`` (recorded as ``2 ** x``) is named as PyTorch's node: Exp2Backward0, whose next
function is the input's; values and gradients unchanged."""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.autograd.gradcheck import gradcheck

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("call", [lambda L, x: L.exp2(x), lambda L, x: L.exp2(x * 2),
                                  lambda L, x: L.special.exp2(x), lambda L, x: x.exp2()])
def test_exp2_node_as_torch(call, dtype):
    got = []
    for L in (tg, torch):
        x = L.tensor([0.5, -1.0, 3.0], dtype=getattr(L, dtype), requires_grad=True)
        y = call(L, x)
        y.sum().backward()
        got.append((y.grad_fn.name(), type(y.grad_fn).__name__,
                    [type(f[0]).__name__ for f in y.grad_fn.next_functions],
                    np.asarray(y.detach()).tolist(), np.asarray(x.grad).tolist()))
    assert got[0][:3] == got[1][:3]
    np.testing.assert_allclose(got[0][3:], got[1][3:], rtol=1e-6)


def test_exp2_gradient_finite_differences():
    x = tg.tensor([0.5, -1.0, 3.0], dtype=tg.float64, requires_grad=True)
    assert gradcheck(tg.exp2, (x,))
