"""The aux output of torch.func's transforms (has_aux=True): a tensor computed from the
transform's own inputs comes out requiring no grad; one that reads a tensor requiring grad
from outside keeps its graph to it (and its gradient there), as torch.func's."""

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

TRANSFORMS = {
    "jvp": lambda m, f, x: m.func.jvp(f, (x,), (m.ones_like(x),), has_aux=True)[2],
    "vjp": lambda m, f, x: m.func.vjp(f, x, has_aux=True)[2],
    "grad": lambda m, f, x: m.func.grad(lambda x: (f(x)[0].sum(), f(x)[1]), has_aux=True)(x)[1],
    "jacrev": lambda m, f, x: m.func.jacrev(f, has_aux=True)(x)[1],
    "jacfwd": lambda m, f, x: m.func.jacfwd(f, has_aux=True)(x)[1],
}

AUX = {  # (y = sin(x * w), w outside requiring grad, or a constant)
    "inputs_only": lambda x, y, w: x.cos(),
    "through_w": lambda x, y, w: y * 2,
    "w_alone": lambda x, y, w: w.exp(),
    "mixed_tuple": lambda x, y, w: (y * x, x * x, (x + 1).detach()),
    "dict": lambda x, y, w: {"a": x.exp(), "b": (y + w).sum()},
}


def _flat(tree):
    if isinstance(tree, dict):
        return [t for k in sorted(tree) for t in _flat(tree[k])]
    if isinstance(tree, (tuple, list)):
        return [t for v in tree for t in _flat(v)]
    return [tree]


@pytest.mark.parametrize("outer", [True, False])
@pytest.mark.parametrize("aux", sorted(AUX))
@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_aux_requires_grad_as_torch_func(name, aux, outer):
    def run(m):
        w = m.tensor([1.5, -2.0], dtype=m.float64, requires_grad=outer)
        x = m.tensor([0.3, 0.7], dtype=m.float64)

        def f(x):
            y = (x * w).sin()
            return y, AUX[aux](x, y, w)

        leaves = [t for t in _flat(TRANSFORMS[name](m, f, x))
                  if isinstance(t, m.Tensor)]
        flags = [(t.requires_grad, t.grad_fn is not None) for t in leaves]
        values = [t.detach().numpy() for t in leaves]
        reached = [t for t in leaves if t.requires_grad]
        grads = []
        if reached:
            grads = [g.numpy() for g in m.autograd.grad(sum(t.sum() for t in reached), w)]
        return flags, values, grads

    (f1, v1, g1), (f2, v2, g2) = run(tg), run(torch)
    assert f1 == f2
    assert len(v1) == len(v2) and len(g1) == len(g2)
    for a, b in zip(v1 + g1, v2 + g2):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)
