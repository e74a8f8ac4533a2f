"""householder_product (and orgqr) is one node as PyTorch's LinalgHouseholderProductBackward0,
next functions (A, tau); with no reflector or an empty batch the result is on the graph and A
and tau get no gradient (None), as PyTorch's; other gradients, to second order, unchanged."""

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

SHAPES = [((0, 3, 3), (0, 3)), ((2, 0, 3, 3), (2, 0, 3)), ((3, 3, 0), (3, 0)),
          ((0, 0, 0), (0, 0)), ((2, 3, 2), (2, 2)), ((2, 3, 2), (2, 0)), ((3, 2), (0,)),
          ((0, 3, 2), (0, 1)), ((3, 0), (0,)), ((4, 3), (2,))]


def _shape(node):
    return None if node is None else (
        node.name(), tuple(_shape(f) for f, _ in node.next_functions))


def _run(L, shapes, rg, fn):
    r = np.random.default_rng(5)
    A = L.tensor(r.standard_normal(shapes[0]) * 0.5, requires_grad=rg[0])
    tau = L.tensor(r.uniform(0.5, 1.5, shapes[1]), requires_grad=rg[1])
    q = L.linalg.householder_product(A, tau) if fn == "linalg" else L.orgqr(A, tau)
    ins = [t for t in (A, tau) if t.requires_grad]
    gs = L.autograd.grad((q * q * q).sum(), ins, allow_unused=True, create_graph=True)
    live = [g for g in gs if g is not None]
    second = L.autograd.grad(sum((g * g).sum() for g in live), ins, allow_unused=True) \
        if live and any(g.requires_grad for g in live) else ()
    as_np = [None if g is None else g.detach().numpy() for g in gs + tuple(second)]
    return _shape(q.grad_fn), q.detach().numpy(), as_np


@pytest.mark.parametrize("shapes", SHAPES, ids=str)
@pytest.mark.parametrize("rg", [(True, True), (True, False), (False, True)])
@pytest.mark.parametrize("fn", ["linalg", "orgqr"])
def test_householder_product_node_as_pytorch(shapes, rg, fn):
    got, want = _run(tg, shapes, rg, fn), _run(torch, shapes, rg, fn)
    assert got[0] == want[0]
    np.testing.assert_allclose(got[1], want[1], rtol=1e-12, atol=1e-14)
    assert len(got[2]) == len(want[2])
    for g, w in zip(got[2], want[2]):
        assert (g is None) == (w is None)
        if w is not None:
            np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)
