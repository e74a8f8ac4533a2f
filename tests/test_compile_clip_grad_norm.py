"""tg.compile of a training step with nn.utils.clip_grad_norm_: it wrote the gradients through
NumPy, unseen, so the step ran eagerly ('a tensor was changed by code tg.compile does not
see'); traced whole it replays (fullgraph: one trace) with eager's parameters and norms, and
PyTorch's, whether the norm is above max_norm or not; what it cannot replay runs eagerly with
eager's results."""

import warnings

import numpy as np
import pytest

import tapegrad as tg
import tapegrad.nn as nn


def _model(lib, dtype):
    lib.manual_seed(0)
    m = lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.Tanh(), lib.nn.Linear(8, 2))
    return m.double() if dtype == np.float64 else m.float()


def _step(lib, m, opt, max_norm, as_list=False):
    def step(x, y):
        opt.zero_grad()
        loss = ((m(x) - y) ** 2).mean()
        loss.backward()
        ps = list(m.parameters()) if as_list else m.parameters()
        norm = lib.nn.utils.clip_grad_norm_(ps, max_norm)
        opt.step()
        return loss.detach(), norm
    return step


@pytest.mark.parametrize("dtype, as_list", [(np.float64, False), (np.float64, True),
                                            (np.float32, False)])
def test_clipped_step_replays_as_eager_and_torch(dtype, as_list):
    torch = pytest.importorskip("torch")
    ma, mb, mt = _model(tg, dtype), _model(tg, dtype), _model(torch, dtype)
    mb.load_state_dict(ma.state_dict())
    mt.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in ma.state_dict().items()})
    max_norm = 0.5
    compiled = tg.compile(_step(tg, ma, tg.optim.SGD(ma.parameters(), 0.1, momentum=0.9),
                                max_norm, as_list), fullgraph=True)
    eager = _step(tg, mb, tg.optim.SGD(mb.parameters(), 0.1, momentum=0.9), max_norm, as_list)
    ref = _step(torch, mt, torch.optim.SGD(mt.parameters(), 0.1, momentum=0.9), max_norm,
                as_list)
    rng = np.random.default_rng(1)
    tol = 1e-12 if dtype == np.float64 else 1e-6
    clipped = set()
    for scale in (5.0, 0.01, 3.0, 0.02):  # norms above and below max_norm
        x, y = rng.normal(size=(6, 4)).astype(dtype), rng.normal(size=(6, 2)).astype(dtype) * scale
        got = compiled(tg.tensor(x), tg.tensor(y))
        want = eager(tg.tensor(x), tg.tensor(y))
        tw = ref(torch.tensor(x), torch.tensor(y))
        clipped.add(want[1].item() > max_norm)
        for a, b, c in zip(got, want, tw):
            assert a.dtype == b.dtype
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=tol)
            np.testing.assert_allclose(a.numpy(), c.detach().numpy(), rtol=tol * 100)
    assert clipped == {True, False}
    assert compiled._count == 1
    for p, q in zip(ma.parameters(), mb.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=tol, atol=tol)


def test_what_it_cannot_replay_runs_eagerly_with_eagers_results():
    cases = {
        "a generator": lambda m: (p for p in m.parameters()),
        "inf norm": None,
        "a tensor max_norm": None,
    }
    for why, params in cases.items():
        ma, mb = _model(tg, np.float64), _model(tg, np.float64)

        def step(m, params=params, why=why):
            def f(x):
                m.zero_grad()
                m(x).pow(2).sum().backward()
                if why == "inf norm":
                    return nn.utils.clip_grad_norm_(m.parameters(), 0.1, norm_type=float("inf"))
                if why == "a tensor max_norm":
                    return nn.utils.clip_grad_norm_(m.parameters(), tg.tensor(0.1))
                return nn.utils.clip_grad_norm_(params(m), 0.1)
            return f

        compiled = tg.compile(step(ma))
        x = tg.tensor(np.random.default_rng(2).normal(size=(3, 4)))
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            got = [compiled(x) for _ in range(2)]
        want = [step(mb)(x) for _ in range(2)]
        assert any("clip_grad_norm_" in str(w.message) for w in seen), why
        for a, b in zip(got, want):
            assert a.item() == b.item()
        for p, q in zip(ma.parameters(), mb.parameters()):
            np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())
