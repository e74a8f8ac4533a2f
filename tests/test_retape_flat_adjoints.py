"""The re-taping sweep's adjoints of records of 1, 2, 3 and more elements (real and complex):
a Hessian-vector product of ``(tanh(A @ x) ** 2).sum()`` and of a complex function equal
PyTorch's, and their second derivative agrees with finite differences."""

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


def _hvp(lib, A, x, v):
    At, xt, vt = (lib.tensor(a) for a in (A, x, v))
    xt.requires_grad_()
    y = (lib.tanh(At @ xt) ** 2).sum()
    (g,) = lib.autograd.grad(y, xt, create_graph=True)
    (h,) = lib.autograd.grad(g, xt, vt)
    return g.detach().numpy(), h.numpy()


@pytest.mark.parametrize("n", [1, 2, 3, 7, 200])
def test_tanh_square_hvp_matches_torch(n):
    r = np.random.default_rng(n)
    A = r.standard_normal((n, n)) / np.sqrt(n)
    x, v = r.standard_normal(n), r.standard_normal(n)
    g, h = _hvp(tg, A, x, v)
    gt, ht = _hvp(torch, A, x, v)
    np.testing.assert_allclose(g, gt, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(h, ht, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_complex_hvp_matches_torch(n):
    r = np.random.default_rng(10 + n)
    z = r.standard_normal(n) + 1j * r.standard_normal(n)
    c = r.standard_normal(n) + 1j * r.standard_normal(n)
    v = r.standard_normal(n) + 1j * r.standard_normal(n)
    out = []
    for lib in (tg, torch):
        zt, ct, vt = (lib.tensor(a) for a in (z, c, v))
        zt.requires_grad_()
        y = (lib.abs(zt * ct + lib.sin(zt)) ** 2).sum()
        (g,) = lib.autograd.grad(y, zt, create_graph=True)
        (h,) = lib.autograd.grad(g, zt, vt)
        out.append((g.detach().numpy(), h.numpy()))
    np.testing.assert_allclose(out[0][0], out[1][0], rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(out[0][1], out[1][1], rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("n", [1, 2, 5])
def test_gradgradcheck_tanh_square(n):
    r = np.random.default_rng(20 + n)
    A = tg.tensor(r.standard_normal((n, n)))
    x = tg.tensor(r.standard_normal(n), requires_grad=True)
    assert tg.autograd.gradgradcheck(lambda x: (tg.tanh(A @ x) ** 2).sum(), (x,))
