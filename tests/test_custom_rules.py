"""Custom derivative rules: Function's setup_context style (checked against PyTorch), and the
custom_vjp / custom_jvp decorators through grad, jvp, jacrev, hessian and vmap."""

import warnings

import numpy as np
import pytest

import tapegrad as tg


def _np(t):
    return np.asarray(t.detach().numpy())


class SinSetup(tg.autograd.Function):
    @staticmethod
    def forward(x, scale=1.0):
        return x.sin() * scale

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, scale = inputs
        ctx.save_for_backward(x)
        ctx.scale = scale

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * x.cos() * ctx.scale, None


def test_setup_context_style_first_and_second_order():
    x = tg.tensor([0.3, -1.2, 2.0], requires_grad=True)
    y = SinSetup.apply(x, scale=2.0)
    g, = tg.autograd.grad(y.sum(), x, create_graph=True)
    np.testing.assert_allclose(_np(y), 2 * np.sin(_np(x)))
    np.testing.assert_allclose(_np(g), 2 * np.cos(_np(x)))
    h, = tg.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(_np(h), -2 * np.sin(_np(x)))
    # forward mode through the custom backward (double-vjp trick)
    _, jv = tg.func.jvp(lambda a: SinSetup.apply(a, 2.0), (x.detach(),), (tg.ones(3),))
    np.testing.assert_allclose(_np(jv), 2 * np.cos(_np(x)))


def test_setup_context_matches_torch():
    torch = pytest.importorskip("torch")

    class TSin(torch.autograd.Function):
        @staticmethod
        def forward(x, scale=1.0):
            return x.sin() * scale

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(inputs[0])
            ctx.scale = inputs[1]

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return g * x.cos() * ctx.scale, None

    v = np.array([0.3, -1.2, 2.0])
    tx = torch.tensor(v, requires_grad=True)
    x = tg.tensor(v, requires_grad=True)
    (TSin.apply(tx, 3.0) ** 2).sum().backward()
    (SinSetup.apply(x, 3.0) ** 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


def test_custom_vjp_rule_is_used():
    @tg.custom_vjp
    def clip_grad(x):
        return x * 1.0

    clip_grad.defvjp(lambda x: (x * 1.0, None), lambda res, g: (tg.clamp(g, -1.0, 1.0),))
    x = tg.tensor([1.0, 2.0])
    g = tg.func.grad(lambda a: (clip_grad(a) * tg.tensor([5.0, 0.5])).sum())(x)
    np.testing.assert_allclose(g.numpy(), [1.0, 0.5])
    j = tg.func.jacrev(lambda a: clip_grad(a) * 3.0)(x)
    np.testing.assert_allclose(j.numpy(), np.eye(2))
    with pytest.raises(AttributeError, match="defvjp"):
        tg.custom_vjp(lambda a: a)(x)


def test_custom_jvp_rule_drives_forward_and_reverse():
    @tg.custom_jvp
    def f(x, y):
        return x.sin() * y

    f.defjvp(lambda p, t: (f(*p), p[0].cos() * p[1] * t[0] + p[0].sin() * t[1]))
    x, y = tg.tensor([0.4, 1.3]), tg.tensor([2.0, -1.0])
    _, jv = tg.func.jvp(f, (x, y), (tg.ones(2), tg.zeros(2)))
    np.testing.assert_allclose(jv.numpy(), np.cos(x.numpy()) * y.numpy())
    gx, gy = tg.func.grad(lambda a, b: f(a, b).sum(), argnums=(0, 1))(x, y)
    np.testing.assert_allclose(gx.numpy(), np.cos(x.numpy()) * y.numpy())
    np.testing.assert_allclose(gy.numpy(), np.sin(x.numpy()))
    h = tg.func.hessian(lambda a: f(a, y).sum())(x)
    np.testing.assert_allclose(h.numpy(), np.diag(-np.sin(x.numpy()) * y.numpy()), atol=1e-12)
    with warnings.catch_warnings():  # batched op by op (generate_vmap_rule): no loop
        warnings.simplefilter("error")
        per = tg.vmap(tg.func.grad(lambda a: f(a, y).sum()))(
            tg.tensor([[0.4, 1.3], [0.1, 0.2]]))
    np.testing.assert_allclose(per.numpy(), np.cos([[0.4, 1.3], [0.1, 0.2]]) * y.numpy())
