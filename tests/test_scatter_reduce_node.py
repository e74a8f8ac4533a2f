"""scatter_reduce's node is PyTorch's ScatterReduceBackward0, its next functions (input, src)
(None for one requiring no grad), not the last op of its composition; gradients, to second
order, unchanged and PyTorch's."""

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

REDUCES = ["sum", "prod", "mean", "amax", "amin"]


def _shape(node):
    return None if node is None else (
        node.name(), tuple(_shape(f) for f, _ in node.next_functions))


def _run(L, reduce, include_self, rg, form, zero_d):
    r = np.random.default_rng(3)
    xv, sv = r.standard_normal(5 if not zero_d else ()), r.standard_normal(7 if not zero_d else ())
    iv = r.integers(0, 5, 7) if not zero_d else np.array(0)
    x = L.tensor(xv, requires_grad=rg[0])
    s = L.tensor(sv, requires_grad=rg[1])
    xi, si = (x * 2, s.exp()) if form == "through" else (x, s)
    idx = L.tensor(iv)
    if form == "inplace":
        xi = x.clone()
        y = xi.scatter_reduce_(0, idx, si, reduce, include_self=include_self)
    elif form == "method":
        y = xi.scatter_reduce(0, idx, si, reduce, include_self=include_self)
    else:
        y = L.scatter_reduce(xi, 0, idx, si, reduce, include_self=include_self)
    want = [t for t in (x, s) if t.requires_grad]
    gs = L.autograd.grad((y * y).sum(), want, create_graph=True)
    second = L.autograd.grad(sum((g * g).sum() for g in gs), want, allow_unused=True)
    return _shape(y.grad_fn), [g.detach().numpy() for g in gs], \
        [None if g is None else g.numpy() for g in second]


@pytest.mark.parametrize("reduce", REDUCES)
@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("rg", [(True, True), (True, False), (False, True)])
@pytest.mark.parametrize("form", ["function", "method", "inplace", "through"])
@pytest.mark.parametrize("zero_d", [False, True])
def test_scatter_reduce_node_as_pytorch(reduce, include_self, rg, form, zero_d):
    got = _run(tg, reduce, include_self, rg, form, zero_d)
    want = _run(torch, reduce, include_self, rg, form, zero_d)
    assert got[0] == want[0]
    for g, w in zip(got[1] + got[2], want[1] + want[2]):
        assert (g is None) == (w is None)
        if w is not None:
            np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)
