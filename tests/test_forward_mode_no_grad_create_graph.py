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


def test_backward_inside_forward_mode_keeps_grad_mode_off_after_a_hook():
    # (the hook's set_grad_enabled(False) set FORWARD_ONLY, on for the rest of the sweep: the
    # custom backward below recorded, and the jvp's primal came back with a grad_fn)
    modes = []

    class Square(tg.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a * a

        @staticmethod
        def backward(ctx, g):
            modes.append(tg.is_grad_enabled() or tg.grad_mode._state.grad_enabled)
            a, = ctx.saved_tensors
            return 2 * a * g

    def f(x):
        w = tg.tensor([1.0, 2.0], requires_grad=True)
        y = Square.apply(w * x)
        y.register_hook(lambda g: g * 1)
        (y * 3).sum().backward()
        np.testing.assert_allclose(w.grad.numpy(), [6.0, 12.0])
        return x * 1

    # (a forward-AD level, not jvp: backward() inside a function transform is PyTorch's error)
    fwad = tg.autograd.forward_ad
    with fwad.dual_level():
        out, t = fwad.unpack_dual(f(fwad.make_dual(tg.ones(2), tg.ones(2))))
    assert modes == [False]
    assert out.grad_fn is None and not out.requires_grad
    np.testing.assert_allclose(t.numpy(), [1.0, 1.0])
