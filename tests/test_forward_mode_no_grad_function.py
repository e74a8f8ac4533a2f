"""A custom ``autograd.Function`` called under ``no_grad`` inside forward mode gives the same
tangent as with grad mode on (its jvp, or forward mode through its backward): its call is
recorded (forward-only), and the ops of its forward body leave no records of their own."""

import numpy as np

import tapegrad as tg
import tapegrad.autograd.forward_ad as fwAD
from tapegrad.func import jacfwd, jacrev, jvp

X = [0.4, 1.6, 2.5]
V = [1.0, 0.5, 0.25]


class StraightThrough(tg.autograd.Function):
    """round forward, the slope 3 backward (the forward's own ops would give 0)."""

    @staticmethod
    def forward(ctx, x):
        return x.round()

    @staticmethod
    def backward(ctx, g):
        return g * 3


class NumpyExp(tg.autograd.Function):
    """A forward computed outside tapegrad: no op records its tangent."""

    @staticmethod
    def forward(ctx, x):
        y = tg.tensor(np.exp(x.detach().numpy()))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        return g * y


def _under_no_grad(fn):
    def f(x):
        with tg.no_grad():
            return fn.apply(x * 1)
    return f


def _tangent(f):
    _, t = jvp(f, (tg.tensor(X),), (tg.tensor(V),))
    return t.numpy()


def test_backward_rule_gives_the_tangent():
    np.testing.assert_allclose(_tangent(_under_no_grad(StraightThrough)), np.multiply(V, 3))
    np.testing.assert_allclose(_tangent(_under_no_grad(NumpyExp)), np.exp(X) * V)


def test_same_tangent_as_with_grad_mode_on():
    for fn in (StraightThrough, NumpyExp):
        np.testing.assert_allclose(_tangent(_under_no_grad(fn)),
                                   _tangent(lambda x, fn=fn: fn.apply(x * 1)))


def test_dual_tensor_under_no_grad():
    with fwAD.dual_level():
        d = fwAD.make_dual(tg.tensor(X), tg.tensor(V))
        with tg.no_grad():
            y = StraightThrough.apply(d)
        np.testing.assert_allclose(fwAD.unpack_dual(y).tangent.numpy(), np.multiply(V, 3))


def test_jacfwd_of_jacrev_reverse_sees_a_constant():
    # reverse mode: the gradient of sum(c * a) is c = round(a) (c a constant); forward mode
    # differentiates c through the backward rule: 3 I
    def f(a):
        with tg.no_grad():
            c = StraightThrough.apply(a)
        return (c * a).sum()

    h = jacfwd(jacrev(f))(tg.tensor(X))
    np.testing.assert_allclose(h.numpy(), 3 * np.eye(3))
    np.testing.assert_allclose(jacrev(f)(tg.tensor(X)).numpy(), np.round(X))


class InnerGradient(tg.autograd.Function):
    """A forward that takes a gradient of its own under enable_grad (an implicit layer)."""

    @staticmethod
    def forward(ctx, x):
        with tg.enable_grad():
            a = x.detach().requires_grad_()
            g, = tg.autograd.grad((a.sin() * a).sum(), a)
        ctx.save_for_backward(x)
        return g

    @staticmethod
    def backward(ctx, go):
        x, = ctx.saved_tensors
        return go * (2 * x.cos() - x * x.sin())


def test_forward_body_taking_a_gradient_under_enable_grad():
    # (its records under enable_grad are plain: the body's own backward reaches its leaf)
    x = np.array(X)
    g, t = jvp(_under_no_grad(InnerGradient), (tg.tensor(X),), (tg.tensor(V),))
    np.testing.assert_allclose(g.numpy(), np.sin(x) + x * np.cos(x), rtol=1e-6)
    np.testing.assert_allclose(t.numpy(), (2 * np.cos(x) - x * np.sin(x)) * V, rtol=1e-6)
