"""A reverse-mode transform (grad, jacrev, vjp) called under ``no_grad`` inside forward mode:
its gradient is a function of the input that the forward mode differentiates (a
Hessian-vector product), as torch.func's transforms ignore an enclosing no_grad."""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.func import grad, jacfwd, jacrev, jvp, vjp

X = [1.0, 2.0, 3.0]
V = [1.0, 0.5, 0.25]


def _f(x):
    return (x.sin() * x).sum()


def grad_off(lib):
    def h(x):
        with lib.no_grad():
            return lib.func.grad(_f)(x)
    return h


def jacrev_off(lib):
    def h(x):
        with lib.no_grad():
            return lib.func.jacrev(lambda a: a.sin() * a.sum())(x)
    return h


def vjp_off(lib):
    def h(x):
        with lib.no_grad():
            out, pull = lib.func.vjp(lambda a: a.exp() * a, x)
            return pull(lib.ones_like(out))[0]
    return h


def test_gradient_value_and_its_tangent():
    # d/dx (x sin x) = sin x + x cos x; its derivative 2 cos x - x sin x
    x, v = np.array(X), np.array(V)
    g, t = jvp(grad_off(tg), (tg.tensor(X, dtype=tg.float64),), (tg.tensor(V, dtype=tg.float64),))
    np.testing.assert_allclose(g.numpy(), np.sin(x) + x * np.cos(x))
    np.testing.assert_allclose(t.numpy(), (2 * np.cos(x) - x * np.sin(x)) * v)
    h = jacfwd(grad_off(tg))(tg.tensor(X, dtype=tg.float64))
    np.testing.assert_allclose(h.numpy(), np.diag(2 * np.cos(x) - x * np.sin(x)), atol=1e-12)
    assert tg.is_grad_enabled()


def test_same_gradient_as_outside_forward_mode():
    x = tg.tensor(X, dtype=tg.float64)
    g, _ = jvp(grad_off(tg), (x,), (tg.tensor(V, dtype=tg.float64),))
    np.testing.assert_allclose(g.numpy(), grad(_f)(x).numpy())
    np.testing.assert_allclose(jvp(jacrev_off(tg), (x,), (x,))[0].numpy(),
                               jacrev(lambda a: a.sin() * a.sum())(x).numpy())
    out, pull = vjp(lambda a: a.exp() * a, x)
    np.testing.assert_allclose(jvp(vjp_off(tg), (x,), (x,))[0].numpy(),
                               pull(tg.ones_like(out))[0].numpy())


@pytest.mark.parametrize("case", [grad_off, jacrev_off, vjp_off])
def test_matches_torch(case):
    torch = pytest.importorskip("torch")
    want = torch.func.jacfwd(case(torch))(torch.tensor(X, dtype=torch.float64))
    got = jacfwd(case(tg))(tg.tensor(X, dtype=tg.float64))
    np.testing.assert_allclose(got.numpy(), want.numpy(), atol=1e-12)
