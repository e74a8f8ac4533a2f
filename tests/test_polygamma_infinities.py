"""``polygamma``/``trigamma`` at the infinities, and their gradients there, as PyTorch's:
trigamma(-inf) and polygamma(n >= 2, +inf) are NaN (float32 and float64)."""

import math

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.autograd.gradcheck import gradcheck

torch = pytest.importorskip("torch")

POINTS = [math.inf, -math.inf, 0.5, -2.5, 3.0, 12.0]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n", range(6))
def test_polygamma_at_infinities_as_torch(n, dtype):
    x = tg.tensor(POINTS, dtype=getattr(tg, dtype), requires_grad=True)
    t = torch.tensor(POINTS, dtype=getattr(torch, dtype), requires_grad=True)
    y, u = tg.polygamma(n, x), torch.polygamma(n, t)
    np.testing.assert_allclose(y.detach().numpy(), u.detach().numpy(), rtol=2e-5)
    y.sum().backward()
    u.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=2e-5)
    if n == 1:
        np.testing.assert_allclose(tg.special.polygamma(1, x).detach().numpy(),
                                   torch.special.polygamma(1, t).detach().numpy(), rtol=2e-5)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_polygamma_gradient_finite_differences(n):
    x = tg.tensor([0.7, 2.5, -1.3, 30.0], dtype=tg.float64, requires_grad=True)
    assert gradcheck(lambda v: tg.polygamma(n, v), (x,))
