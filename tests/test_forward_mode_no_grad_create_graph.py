"""``autograd.grad(..., create_graph=True)`` called under ``no_grad`` inside forward mode
records its graph with grad mode on, as outside forward mode: reverse mode differentiates the
gradient again (its records are not forward-only)."""

import numpy as np

import tapegrad as tg
from tapegrad.func import jvp

X = [1.0, 2.0]
V = [1.0, 0.5]


def _second_derivative(x):
    return 2 * np.cos(x) - x * np.sin(x)


def test_gradient_made_under_no_grad_is_differentiable_again():
    seen = {}

    def f(x):
        w = x * 1
        y = (w.sin() * w).sum()
        with tg.no_grad():
            g, = tg.autograd.grad(y, w, create_graph=True)
        seen["requires_grad"] = g.requires_grad
        seen["again"], = tg.autograd.grad(g.sum(), w, allow_unused=True, retain_graph=True)
        return g

    _, t = jvp(f, (tg.tensor(X),), (tg.tensor(V),))
    assert seen["requires_grad"]
    assert seen["again"] is not None
    np.testing.assert_allclose(seen["again"].numpy(), _second_derivative(np.array(X)), rtol=1e-6)
    np.testing.assert_allclose(t.numpy(), _second_derivative(np.array(X)) * V, rtol=1e-6)


def test_records_after_it_under_no_grad_stay_forward_only():
    # (the no_grad block continues after the backward: reverse mode sees a constant there)
    def f(x):
        w = x * 1
        y = (w * w).sum()
        with tg.no_grad():
            g, = tg.autograd.grad(y, w, create_graph=True)
            c = w * 3
        assert tg.autograd.grad((c * w).sum(), w, retain_graph=True)[0].tolist() == \
            (3 * w).tolist()
        return g + c

    _, t = jvp(f, (tg.tensor(X),), (tg.tensor(V),))
    np.testing.assert_allclose(t.numpy(), 5 * np.array(V))
