"""A custom Function with a ``jvp`` staticmethod called on dual tensors (``forward_ad``):
``ctx.needs_input_grad`` reports what reverse mode needs, as PyTorch's: False for a dual that
requires no grad, True for an input that requires grad (in ``forward``/``setup_context`` and in
``jvp``). Without a ``jvp`` staticmethod tapegrad computes the tangent through ``backward``
(PyTorch raises), so there a dual's flag stays True for ``backward`` to give its part."""
import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


def _function(L, log, split):
    def body_setup(ctx, x, y):
        log.append(("setup", tuple(ctx.needs_input_grad)))
        ctx.save_for_backward(x, y)
        ctx.save_for_forward(x, y)

    def jvp(ctx, tx, ty):
        log.append(("jvp", tuple(ctx.needs_input_grad)))
        x, y = ctx.saved_tensors
        return tx * y.sin() + ty * x * y.cos()

    def backward(ctx, g):
        x, y = ctx.saved_tensors
        return g * y.sin(), g * x * y.cos()

    if split:
        ns = {"forward": staticmethod(lambda x, y: x * y.sin()),
              "setup_context": staticmethod(lambda ctx, inputs, out: body_setup(ctx, *inputs))}
    else:
        def forward(ctx, x, y):
            body_setup(ctx, x, y)
            return x * y.sin()
        ns = {"forward": staticmethod(forward)}
    ns.update(jvp=staticmethod(jvp), backward=staticmethod(backward))
    return type("F", (L.autograd.Function,), ns)


def _case(L, split, dual, grad):
    """``F(x, y)`` with the inputs in ``dual`` made duals and those in ``grad`` requiring
    grad: the flags logged and the output's tangent."""
    log = []
    F = _function(L, log, split)
    fw = L.autograd.forward_ad
    x = L.tensor([1.0, -2.0, 0.5], dtype=L.float64)
    y = L.tensor([0.5, 0.3, -1.2], dtype=L.float64)
    with fw.dual_level():
        args = []
        for name, v in (("x", x), ("y", y)):
            v = v.clone().requires_grad_() if name in grad else v
            args.append(fw.make_dual(v, L.ones_like(v)) if name in dual else v)
        out = F.apply(*args)
        tangent = fw.unpack_dual(out).tangent
    return log, np.asarray(tangent.tolist())


@pytest.mark.parametrize("split", [False, True])
@pytest.mark.parametrize("dual,grad", [("x", ""), ("y", ""), ("xy", ""), ("x", "x"),
                                       ("x", "y"), ("xy", "xy"), ("y", "x")])
def test_needs_input_grad_and_tangent_as_torch(split, dual, grad):
    (tlog, tt), (glog, gt) = _case(torch, split, dual, grad), _case(tg, split, dual, grad)
    assert glog == tlog
    np.testing.assert_allclose(gt, tt, rtol=1e-12)
    # the tangent is the directional derivative: central differences in float64
    x0 = np.array([1.0, -2.0, 0.5])
    y0 = np.array([0.5, 0.3, -1.2])
    dx, dy = float("x" in dual), float("y" in dual)
    h = 1e-6
    fd = ((x0 + h * dx) * np.sin(y0 + h * dy) - (x0 - h * dx) * np.sin(y0 - h * dy)) / (2 * h)
    np.testing.assert_allclose(gt, fd, rtol=1e-7, atol=1e-9)


def test_without_jvp_the_tangent_comes_by_backward():
    class G(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return g * 3 * x ** 2 if ctx.needs_input_grad[0] else None

    x = tg.tensor([1.0, -2.0, 0.5], dtype=tg.float64)
    fw = tg.autograd.forward_ad
    with fw.dual_level():
        t = fw.unpack_dual(G.apply(fw.make_dual(x, tg.ones_like(x)))).tangent
    np.testing.assert_allclose(t.tolist(), (3 * x ** 2).tolist())
    xr = x.clone().requires_grad_()
    assert tg.autograd.gradcheck(G.apply, (xr,))
