"""tg.compile of erf and erfc (and so of GELU with approximate='none'): replayed (fullgraph:
no fallback, no second trace) with eager's values and gradients, against finite differences
(gradcheck, second order too) and PyTorch; 0-d values, float32 and arrays large enough for the
chunked replay too."""

import numpy as np
import pytest

import tapegrad as tg
import tapegrad.nn as nn


def _program(lib):
    def f(x):
        return (lib.erf(x) * x).sum() + (lib.erfc(x * 0.5) ** 2).sum()
    return f


def test_erf_erfc_gradcheck_second_order_and_eager():
    compiled = tg.compile(_program(tg), fullgraph=True)
    rng = np.random.default_rng(0)
    for _ in range(2):
        x = tg.tensor(rng.normal(size=(3, 4)) * 1.5, requires_grad=True)
        assert tg.autograd.gradcheck(compiled, (x,))
        assert tg.autograd.gradgradcheck(compiled, (x,))
        xe = tg.tensor(x.detach().numpy(), requires_grad=True)
        ge, = tg.autograd.grad(_program(tg)(xe), xe)
        gc, = tg.autograd.grad(compiled(x), x)
        np.testing.assert_allclose(gc.numpy(), ge.numpy(), rtol=1e-13)


def test_erf_of_a_number_and_float32_against_torch():
    torch = pytest.importorskip("torch")

    def f(lib, x, s):
        return lib.erf(x).sum() * lib.erfc(s)  # s: 0-d (a Python float in the replay)

    compiled = tg.compile(lambda x, s: f(tg, x, s), fullgraph=True)
    for v, dt in ((0.3, np.float64), (-1.7, np.float64), (0.9, np.float32)):
        x0 = np.linspace(-2, 3, 5).astype(dt) * v
        x, s = tg.tensor(x0, requires_grad=True), tg.tensor(dt(v), requires_grad=True)
        out = compiled(x, s)
        out.backward()
        tx, ts = torch.tensor(x0, requires_grad=True), torch.tensor(dt(v), requires_grad=True)
        tout = f(torch, tx, ts)
        tout.backward()
        tol = 1e-13 if dt is np.float64 else 1e-6
        assert out.dtype == dt and x.grad.dtype == dt
        for a, b in ((out, tout), (x.grad, tx.grad), (s.grad, ts.grad)):
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=tol)
    assert compiled._count == 2  # (float64 and float32)


@pytest.mark.parametrize("shape", [(8, 5), (300, 256)])
def test_gelu_none_mlp_step_replays_as_eager_and_torch(shape):
    torch = pytest.importorskip("torch")
    tg.manual_seed(1)
    n, d = shape
    mk = lambda: nn.Sequential(nn.Linear(d, d, dtype=tg.float64), nn.GELU(),  # noqa: E731
                               nn.Linear(d, 1, dtype=tg.float64))
    a, b = mk(), mk()
    b.load_state_dict(a.state_dict())
    t = torch.nn.Sequential(torch.nn.Linear(d, d), torch.nn.GELU(), torch.nn.Linear(d, 1))
    t = t.double()
    t.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in a.state_dict().items()})

    def step(model, opt):
        def f(x):
            opt.zero_grad()
            loss = model(x).pow(2).mean()
            loss.backward()
            opt.step()
            return loss.detach()
        return f

    compiled = tg.compile(step(a, tg.optim.SGD(a.parameters(), lr=0.1, momentum=0.9)),
                          fullgraph=True)
    eager = step(b, tg.optim.SGD(b.parameters(), lr=0.1, momentum=0.9))
    ref = step(t, torch.optim.SGD(t.parameters(), lr=0.1, momentum=0.9))
    rng = np.random.default_rng(2)
    for _ in range(3):
        x = rng.normal(size=(n, d))
        lc, le, lt = compiled(tg.tensor(x)).item(), eager(tg.tensor(x)).item(), \
            ref(torch.tensor(x)).item()
        np.testing.assert_allclose(lc, le, rtol=1e-12)
        np.testing.assert_allclose(lc, lt, rtol=1e-10)
    assert compiled._count == 1
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-12,
                                   atol=1e-15)
