"""hypot's node lists one next function per input, as PyTorch's HypotBackward0 (None for an
input that requires no grad), not the records of its composition; gradients unchanged."""

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


def _build(L, rg1, rg2, through):
    a = L.tensor([3.0, -4.0, 0.5], dtype=L.float64, requires_grad=rg1)
    b = L.tensor([4.0, 3.0, -2.0], dtype=L.float64, requires_grad=rg2)
    x1, x2 = (a * 2, b.exp()) if through else (a, b)
    return a, b, L.hypot(x1, x2)


def _shape(node):
    return None if node is None else (
        node.name(), tuple(_shape(f) for f, _ in node.next_functions))


@pytest.mark.parametrize("rg", [(True, True), (True, False), (False, True)])
@pytest.mark.parametrize("through", [False, True])
def test_hypot_graph_as_pytorch(rg, through):
    (ta, tb, ty), (ga, gb, gy) = _build(torch, *rg, through), _build(tg, *rg, through)
    assert _shape(gy.grad_fn) == _shape(ty.grad_fn)
    for (gf, _), (tf, _), leaf in zip(gy.grad_fn.next_functions, ty.grad_fn.next_functions,
                                      (ga, gb)):
        if tf is not None and tf.name() == "AccumulateGrad":
            assert gf.variable is leaf
    want = [t for t in (ta, tb) if t.requires_grad]
    got = [t for t in (ga, gb) if t.requires_grad]
    tw = torch.autograd.grad(ty.sum(), want)
    gw = tg.autograd.grad(gy.sum(), got)
    for g, w in zip(gw, tw):
        np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-13)


def test_hypot_gradcheck():
    a = tg.tensor([3.0, -4.0, 0.5], dtype=tg.float64, requires_grad=True)
    b = tg.tensor([4.0, 3.0, -2.0], dtype=tg.float64, requires_grad=True)
    assert tg.autograd.gradcheck(tg.hypot, (a, b))
    assert tg.autograd.gradgradcheck(tg.hypot, (a, b))
