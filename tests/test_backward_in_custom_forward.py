"""backward() inside a custom autograd.Function's forward runs under grad/jvp/vmap as in
PyTorch (its custom_function_call runs forward with the transforms lowered): only a forward
that runs vmapped (generate_vmap_rule) or a transform started inside it refuses it."""

import numpy as np
import pytest

import tapegrad as tg
from tests.doubling_function import doubling_function

IN_TRANSFORM = r"backward\(\) called inside a functorch transform"


def _function(L, with_vmap_rule, inner=None):
    w = L.tensor([1.0, 2.0, 3.0], dtype=L.float64, requires_grad=True)

    def fit_inside(x):
        with L.enable_grad():
            loss = (w * w).sum() if inner is None else inner(L, w)
            loss.backward()  # (a fit or a line search inside the forward)

    vmap = (lambda info, in_dims, x: (F.apply(x), in_dims[0])) if with_vmap_rule else None
    F = doubling_function(L, fit_inside, jvp=True, vmap=vmap, generate_vmap_rule=not with_vmap_rule)
    return F, w


def _x(L):
    return L.tensor(np.linspace(-1.0, 1.0, 6).reshape(2, 3), dtype=L.float64)


@pytest.mark.parametrize("transform", ["grad", "vjp", "jvp", "vmap_rule"])
def test_backward_inside_forward_accumulates_as_outside(transform):
    F, w = _function(tg, with_vmap_rule=True)
    x = _x(tg)
    if transform == "grad":
        got = tg.func.grad(lambda v: F.apply(v).sum())(x[0])
        np.testing.assert_allclose(got.numpy(), [2.0, 2.0, 2.0])
    elif transform == "vjp":
        out, fn = tg.func.vjp(F.apply, x[0])
        np.testing.assert_allclose(fn(tg.ones(3, dtype=tg.float64))[0].numpy(), [2.0] * 3)
    elif transform == "jvp":
        _, t = tg.func.jvp(F.apply, (x[0],), (tg.ones(3, dtype=tg.float64),))
        np.testing.assert_allclose(t.numpy(), [2.0] * 3)
    else:
        np.testing.assert_allclose(tg.vmap(F.apply)(x).numpy(), 2 * x.numpy())
    if transform != "jvp":  # (tapegrad's jvp runs a custom forward more than once)
        np.testing.assert_allclose(w.grad.numpy(), 2 * w.detach().numpy())


def test_forward_run_vmapped_or_a_transform_inside_still_refuses():
    F, _ = _function(tg, with_vmap_rule=False)  # generate_vmap_rule: forward runs vmapped
    with pytest.raises(RuntimeError, match=IN_TRANSFORM):
        tg.vmap(F.apply)(_x(tg))

    def inner(L, w):
        def g(v):
            (v * w).sum().backward()
            return v
        tg.vmap(g)(_x(tg))
        return (w * w).sum()

    F, _ = _function(tg, with_vmap_rule=True, inner=inner)
    with pytest.raises(RuntimeError, match=IN_TRANSFORM):
        F.apply(_x(tg)[0])


def test_as_torch_func():
    torch = pytest.importorskip("torch")
    for L in (torch, tg):
        F, w = _function(L, with_vmap_rule=True)
        g = L.func.grad(lambda v: (F.apply(v) ** 2).sum())(_x(L)[1])
        v = L.func.vmap(F.apply)(_x(L))
        if L is torch:
            want = (g.numpy(), v.numpy(), w.grad.numpy())
    np.testing.assert_allclose(g.numpy(), want[0])
    np.testing.assert_allclose(v.numpy(), want[1])
    np.testing.assert_allclose(w.grad.numpy(), want[2])
