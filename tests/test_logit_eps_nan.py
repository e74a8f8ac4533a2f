"""logit with eps clamps its input, but its gradient is PyTorch's LogitBackward: NaN at a NaN
input (the clamp alone passes none there), 0 where the clamp bites, 1 / (x (1 - x)) inside."""
import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

POINTS = [float("nan"), -1.0, 0.0, 1e-3, 0.05, 0.3, 0.5, 0.97, 1.0, 2.0]


@pytest.mark.parametrize("eps", [None, 0.0, 1e-6, 0.1])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_logit_values_and_gradients_as_torch(eps, dtype):
    x = np.array(POINTS, dtype)
    results = []
    for lib in (tg, torch):
        t = lib.tensor(x, requires_grad=True)
        y = lib.special.logit(t, eps=eps)
        u = t.logit(eps)  # (the method too)
        (y * 2 + u).sum().backward()
        results.append((y.detach().numpy(), t.grad.numpy()))
    (ours, ours_g), (theirs, theirs_g) = results
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, equal_nan=True)
    np.testing.assert_allclose(ours_g, theirs_g, rtol=1e-6, equal_nan=True)
    assert ours_g.dtype == theirs_g.dtype == np.dtype(dtype)


def test_logit_eps_gradient_by_finite_differences():
    x = tg.tensor([0.02, 0.3, 0.5, 0.8], dtype=tg.float64, requires_grad=True)
    assert tg.autograd.gradcheck(lambda t: tg.special.logit(t, eps=0.1), (x,))
    assert tg.autograd.gradgradcheck(lambda t: tg.special.logit(t, eps=0.1), (x,))
    n = tg.tensor([float("nan"), 0.3], dtype=tg.float64, requires_grad=True)
    g, = tg.autograd.grad(tg.special.logit(n, eps=0.1).sum(), n)
    assert np.isnan(g[0].item()) and g[1].item() == pytest.approx(1 / 0.21)
