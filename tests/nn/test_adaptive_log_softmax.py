"""``nn.AdaptiveLogSoftmaxWithLoss`` against PyTorch's: the same weights train to the same
parameters (outputs, loss, log_prob and predict along the way), and its argument errors."""

import numpy as np
import pytest

import tapegrad as tg


def _copy(tm, gm):
    gm.load_state_dict({k: tg.tensor(v.detach().numpy().copy())
                        for k, v in tm.state_dict().items()})


def test_trains_as_torch_and_finite_differences():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((12, 8)) * 2, rng.integers(0, 20, 12)
    y[:2] = [19, 3]  # (the last cluster and the head both present)
    kw = dict(in_features=8, n_classes=20, cutoffs=[4, 10, 15], div_value=2.0, head_bias=True)
    tm = torch.nn.AdaptiveLogSoftmaxWithLoss(**kw).double()
    gm = tg.nn.AdaptiveLogSoftmaxWithLoss(**kw)
    _copy(tm, gm)
    assert repr(gm) == repr(tm)
    topt = torch.optim.Adam(tm.parameters(), lr=0.05)
    gopt = tg.optim.Adam(gm.parameters(), lr=0.05)
    for _ in range(5):
        outs = []
        for lib, m, opt in ((torch, tm, topt), (tg, gm, gopt)):
            opt.zero_grad()
            res = m(lib.tensor(X), lib.tensor(y))
            res.loss.backward()
            opt.step()
            single = m(lib.tensor(X[0]), lib.tensor(y[0]))
            outs.append([res.output.detach().numpy(), res.loss.item(), single.output.item(),
                         m.log_prob(lib.tensor(X)).detach().numpy(),
                         m.predict(lib.tensor(X)).numpy()]
                        + [p.detach().numpy() for p in m.parameters()])
        for a, b in zip(*outs):
            np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12)
    m = tg.nn.AdaptiveLogSoftmaxWithLoss(4, 6, [2, 4], div_value=1.0)
    x = tg.tensor(rng.standard_normal((5, 4)), requires_grad=True)
    assert tg.autograd.gradcheck(lambda x: m(x, tg.tensor([0, 5, 2, 3, 1])).output, (x,))


def _errors(lib):
    m = lib.nn.AdaptiveLogSoftmaxWithLoss(8, 20, [4, 10])
    calls = [lambda: m(lib.ones(2, 8), lib.tensor([[1], [2]])),
             lambda: m(lib.ones(2, 8), lib.tensor([1, 20])),
             lambda: m(lib.ones(3, 8), lib.tensor([1, 2])),
             lambda: m(lib.ones(2, 2, 8), lib.tensor([1, 2])),
             lambda: lib.nn.AdaptiveLogSoftmaxWithLoss(8, 20, []),
             lambda: lib.nn.AdaptiveLogSoftmaxWithLoss(8, 20, [5, 20])]
    out = []
    for call in calls:
        try:
            call()
            out.append("ok")
        except (RuntimeError, ValueError) as e:
            out.append(f"{type(e).__name__}: {e}")
    return out


def test_errors_as_torch():
    torch = pytest.importorskip("torch")
    assert _errors(tg) == _errors(torch)
