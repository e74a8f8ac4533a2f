"""``loss.backward()`` of one segment (``driver.backward_plain``): leaves reached through the
arena and through slots held apart (a large arena), with and without hooks and ``.grad``."""

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("n", [64, 1 << 17])
@pytest.mark.parametrize("hooked", [False, True])
def test_plain_backward_leaves_match_torch(n, hooked):
    r = np.random.default_rng(3)
    av, bv = r.standard_normal(n), r.standard_normal(n)
    a, b = tg.tensor(av, requires_grad=True), tg.tensor(bv, requires_grad=True)
    ta, tb = torch.tensor(av, requires_grad=True), torch.tensor(bv, requires_grad=True)
    if hooked:
        a.register_hook(lambda g: g * 2)
        ta.register_hook(lambda g: g * 2)
    for _ in range(3):  # a new .grad, then added into (the same segment path each time)
        (a * b).sum().backward()
        (ta * tb).sum().backward()
        np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-12)
        np.testing.assert_allclose(b.grad.numpy(), tb.grad.numpy(), rtol=1e-12)
