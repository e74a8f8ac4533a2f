"""``nn.Linear`` / ``F.linear`` on a batch with a bias is one record (``ops/linear.py``), as
PyTorch's ``addmm``: PyTorch's values and gradients for the input, the weight and the bias,
each subset of them requiring grad, both float dtypes; finite differences at first and second
order, forward mode, and the composition (other shapes, no bias, the tracer, vmap) with the
same numbers."""

import numpy as np
import pytest

import tapegrad as tg

F = tg.nn.functional
RNG = np.random.default_rng(11)


def _arrays(dtype, n=7, i=5, o=3):
    return (RNG.standard_normal((n, i)).astype(dtype), RNG.standard_normal((o, i)).astype(dtype),
            RNG.standard_normal(o).astype(dtype), RNG.standard_normal((n, o)).astype(dtype))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("needs", [(1, 1, 1), (0, 1, 1), (1, 0, 0), (0, 0, 1), (1, 1, 0)])
def test_one_record_with_pytorchs_values_and_gradients(needs, dtype):
    x0, w0, b0, g0 = _arrays(dtype)
    ts = [tg.tensor(a, requires_grad=bool(n)) for a, n in zip((x0, w0, b0), needs)]
    y = F.linear(*ts)
    assert type(y.grad_fn).__name__ == "AddmmBackward0"
    assert y.dtype == dtype
    (y * tg.tensor(g0)).sum().backward()
    np.testing.assert_array_equal(y.detach().numpy(), x0 @ w0.T + b0)
    tol = dict(rtol=1e-13) if dtype == np.float64 else dict(rtol=2e-6, atol=2e-6)
    want = (g0 @ w0, g0.T @ x0, g0.sum(0))
    for t, n, wa in zip(ts, needs, want):
        if n:
            assert t.grad.dtype == dtype
            np.testing.assert_allclose(t.grad.numpy(), wa, **tol)
        else:
            assert t.grad is None
    torch = pytest.importorskip("torch")
    tt = [torch.tensor(a, requires_grad=bool(n)) for a, n in zip((x0, w0, b0), needs)]
    yt = torch.nn.functional.linear(*tt)
    (yt * torch.tensor(g0)).sum().backward()
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), **tol)
    for t, u, n in zip(ts, tt, needs):
        if n:
            np.testing.assert_allclose(t.grad.numpy(), u.grad.numpy(), **tol)


def test_a_module_is_one_record_and_trains_as_pytorchs():
    """Two steps of SGD on a small net: the same parameters as PyTorch's, to rounding."""
    torch = pytest.importorskip("torch")
    x0 = RNG.standard_normal((16, 4))
    nets = []
    for L in (tg, torch):
        L.manual_seed(0)
        nets.append(L.nn.Sequential(L.nn.Linear(4, 8), L.nn.Tanh(), L.nn.Linear(8, 2)).double())
    for a, b in zip(nets[0].parameters(), nets[1].parameters()):
        a.data = tg.tensor(b.detach().numpy().copy())
    for net, L in zip(nets, (tg, torch)):
        opt = L.optim.SGD(net.parameters(), lr=0.1)
        for _ in range(2):
            opt.zero_grad()
            out = net(L.tensor(x0))
            (out ** 2).mean().backward()
            opt.step()
    assert type(nets[0](tg.tensor(x0)).grad_fn).__name__ == "AddmmBackward0"
    for a, b in zip(nets[0].parameters(), nets[1].parameters()):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12)


def test_first_and_second_order_by_finite_differences():
    x0, w0, b0, _ = _arrays(np.float64, 4, 3, 2)
    ts = tuple(tg.tensor(a, requires_grad=True) for a in (x0, w0, b0))
    assert tg.autograd.gradcheck(F.linear, ts)
    # second order: the product makes the Hessian nonzero between the input and the weight
    assert tg.autograd.gradgradcheck(lambda x, w, b: F.linear(x, w, b) ** 2, ts)
    assert tg.autograd.gradgradcheck(F.linear, ts)


def test_second_derivatives_match_pytorchs():
    torch = pytest.importorskip("torch")
    x0, w0, b0, _ = _arrays(np.float64, 4, 3, 2)
    res = []
    for L in (tg, torch):
        x, w, b = (L.tensor(a, requires_grad=True) for a in (x0, w0, b0))
        y = (L.tanh(L.nn.functional.linear(x, w, b)) ** 2).sum()
        gx, gw = L.autograd.grad(y, (x, w), create_graph=True)
        res.append([a.detach().numpy() for a in
                    L.autograd.grad((gx ** 2).sum() + (gw * gw).sum(), (x, w, b))])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_forward_mode_and_vmap_agree_with_reverse_mode():
    x0, w0, b0, _ = _arrays(np.float64, 4, 3, 2)
    x, w, b = (tg.tensor(a) for a in (x0, w0, b0))
    for argnums in (0, 1, 2, (0, 1, 2)):
        jf = tg.func.jacfwd(F.linear, argnums=argnums)(x, w, b)
        jr = tg.func.jacrev(F.linear, argnums=argnums)(x, w, b)
        for a, c in zip(jf if isinstance(jf, tuple) else (jf,),
                        jr if isinstance(jr, tuple) else (jr,)):
            np.testing.assert_allclose(a.numpy(), c.numpy(), rtol=1e-13, atol=1e-15)
    jw = tg.func.jacrev(F.linear, argnums=1)(x, w, b).numpy()  # d y[i, o] / d w[p, q]
    np.testing.assert_allclose(jw, np.einsum("op,iq->iopq", np.eye(2), x0), atol=1e-15)
    batched = tg.vmap(lambda r: F.linear(r, w, b))(tg.tensor(x0[:, None, :]))
    np.testing.assert_allclose(batched.numpy()[:, 0], x0 @ w0.T + b0, rtol=1e-14)


def test_other_cases_keep_the_composition_with_pytorchs_messages():
    x0, w0, b0, _ = _arrays(np.float64)
    w, b = tg.tensor(w0, requires_grad=True), tg.tensor(b0, requires_grad=True)
    y3 = F.linear(tg.tensor(x0[None]), w, b)  # 3-D input
    np.testing.assert_allclose(y3.detach().numpy()[0], x0 @ w0.T + b0, rtol=1e-14)
    y1 = F.linear(tg.tensor(x0[0]), w)  # 1-D input, no bias
    np.testing.assert_allclose(y1.detach().numpy(), x0[0] @ w0.T, rtol=1e-14)
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied"):
        F.linear(tg.tensor(x0[:, :4]), w, b)
    compiled = tg.compile(lambda x: F.linear(x, w, b).sum())
    xs = tg.tensor(x0, requires_grad=True)
    compiled(xs).backward()
    np.testing.assert_allclose(xs.grad.numpy(), np.ones((7, 3)) @ w0, rtol=1e-14)
