"""Tensor.unfold's node is PyTorch's UnfoldBackward0 (it showed the strided gather's
AsStridedBackward0); values and gradients as PyTorch's."""

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("shape,dim,size,step", [((3, 7), 1, 2, 1), ((3, 7), 1, 3, 2),
                                                  ((5, 2), 0, 5, 1), ((), 0, 1, 1)])
def test_unfold_node_and_gradient(shape, dim, size, step):
    a = np.random.default_rng(0).standard_normal(shape)
    out = []
    for lib in (tg, torch):
        x = lib.tensor(a, requires_grad=True)
        for base in (x, x * 2):
            u = base.unfold(dim, size, step)
            out.append((u.grad_fn.name(),
                        [type(f).__name__ for f, _ in u.grad_fn.next_functions]))
        u = x.unfold(dim, size, step)
        (u * u).sum().backward()
        out.append(x.grad.numpy())
    assert out[0] == out[3] and out[1] == out[4]
    assert out[0][0] == "UnfoldBackward0"
    np.testing.assert_allclose(out[2], out[5], rtol=1e-14)
    y = tg.tensor(a, requires_grad=True)
    assert tg.autograd.gradcheck(lambda t: t.unfold(dim, size, step).sin(), (y,))
