"""The 0-"norm" (count of non-zeros) has no gradient in PyTorch: its node gives none (None,
not zeros), so x.grad stays None, autograd.grad raises the unused-input error unless
allow_unused, and another path's gradient is left as it is; func transforms see zeros.
tapegrad gave a zero gradient."""
import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

A = np.array([[1.0, 0.0, -2.0], [0.0, 0.0, 3.0]])

CALLS = {
    "vector_norm": lambda L, x: L.linalg.vector_norm(x, 0),
    "vector_norm dim": lambda L, x: L.linalg.vector_norm(x, 0, dim=1).sum(),
    "linalg.norm": lambda L, x: L.linalg.norm(x[0], 0),
    "Tensor.norm": lambda L, x: x.norm(p=0),
    "torch.norm dim": lambda L, x: L.norm(x, 0, dim=0).sum(),
}


@pytest.mark.parametrize("call", list(CALLS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_no_gradient_as_torch(call, dtype):
    got = []
    for lib in (tg, torch):
        x = lib.tensor(A.astype(dtype), requires_grad=True)
        y = CALLS[call](lib, x)
        name = y.grad_fn.name()
        y.backward()
        alone = x.grad
        x.grad = None
        (CALLS[call](lib, x) + (x * 2).sum()).backward()
        with pytest.raises(RuntimeError) as e:
            lib.autograd.grad(CALLS[call](lib, x), x)
        unused, = lib.autograd.grad(CALLS[call](lib, x), x, allow_unused=True)
        transformed = lib.func.grad(lambda t: CALLS[call](lib, t))(x.detach())
        got.append((float(y), name, alone, x.grad.tolist(), str(e.value), unused,
                    transformed.tolist()))
    assert got[0] == got[1]


def test_second_order_through_another_path():
    x = tg.tensor(A, requires_grad=True)
    g, = tg.autograd.grad(tg.linalg.vector_norm(x, 0, dim=1).sum() + (x ** 3).sum(), x,
                          create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), 3 * A ** 2)
    h, = tg.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), 6 * A)
