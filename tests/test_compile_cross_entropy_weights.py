"""tg.compile of F.cross_entropy with class weights and label smoothing: such a step ran eagerly
('cross_entropy with class weights', '... label smoothing'). Replayed (one trace) with eager's
values and PyTorch's; the weighted nll node and its VJP against finite differences to second
order; a mean over all-ignored targets is nan with a zero gradient as eager's."""


import numpy as np
import pytest

import tapegrad as tg
import tapegrad.nn.functional as F

torch = pytest.importorskip("torch")
from compiled_steps import assert_adam_steps_agree  # noqa: E402

CASES = [dict(label_smoothing=0.1), dict(weight=True), dict(weight=True, label_smoothing=0.2),
         dict(weight=True, reduction="sum", label_smoothing=0.3),
         dict(weight=True, reduction="none", label_smoothing=0.25, ignore_index=1),
         dict(label_smoothing=0.15, ignore_index=2)]


def _kw(lib, kw, w):
    out = dict(kw)
    if out.get("weight"):
        out["weight"] = lib.tensor(w)
    return out


def _mlp(lib):
    lib.manual_seed(0)
    nn = lib.nn
    return nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 4)).double()


@pytest.mark.parametrize("kw", CASES)
def test_adam_step_replays_as_eager_and_torch(kw):
    w = np.random.default_rng(2).uniform(0.5, 2.0, size=4)

    def make_loss(lib):
        args = _kw(lib, kw, w)
        return lambda out, y: lib.nn.functional.cross_entropy(out, y, **args).sum()

    assert_adam_steps_agree(_mlp, make_loss,
                            lambda lib, rng: (lib.tensor(rng.normal(size=(6, 5))),
                                              lib.tensor(rng.integers(0, 4, 6))))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_weighted_smoothed_loss_gradcheck_and_gradgradcheck(reduction):
    rng = np.random.default_rng(4)
    w = tg.tensor(rng.uniform(0.5, 2.0, size=3))
    t = tg.tensor(np.array([0, 2, 1, 2, 0]))
    c = tg.tensor(rng.normal(size=5))

    def f(x):
        loss = F.cross_entropy(x, t, weight=w, reduction=reduction, label_smoothing=0.2,
                               ignore_index=1)
        return (loss * c).sum() if reduction == "none" else loss

    def g(x):  # (the nll node alone: its VJP and its VJP's VJP)
        return F.nll_loss(x, t, weight=w, reduction=reduction).sum()

    x = tg.tensor(rng.normal(size=(5, 3)), requires_grad=True)
    for fn in (f, g):
        compiled = tg.compile(fn, fullgraph=True)
        assert tg.autograd.gradcheck(compiled, [x])
        assert tg.autograd.gradgradcheck(compiled, [x])
        np.testing.assert_allclose(compiled(x).item(), fn(x).item(), rtol=1e-12)


def test_changed_weights_and_all_ignored_targets_as_eager():
    w = tg.tensor(np.array([1.0, 2.0, 0.5]))

    def f(x, t):
        return F.cross_entropy(x, t, weight=w, label_smoothing=0.1, ignore_index=1)

    compiled = tg.compile(f, fullgraph=True)
    rng = np.random.default_rng(5)
    x0 = rng.normal(size=(4, 3))
    for t0, scale in (([0, 2, 2, 1], 1.0), ([0, 2, 2, 1], 3.0), ([1, 1, 1, 1], 1.0)):
        with tg.no_grad():
            w.mul_(scale)
        t = tg.tensor(np.array(t0))
        xs = [tg.tensor(x0, requires_grad=True) for _ in range(2)]
        got, want = compiled(xs[0], t), f(xs[1], t)
        got.backward()
        want.backward()
        tx = torch.tensor(x0, requires_grad=True)
        tout = torch.nn.functional.cross_entropy(tx, torch.tensor(t0), weight=torch.tensor(
            w.numpy()), label_smoothing=0.1, ignore_index=1)
        tout.backward()
        np.testing.assert_allclose(got.item(), want.item(), rtol=1e-12)
        np.testing.assert_allclose(got.item(), tout.item(), rtol=1e-10)
        np.testing.assert_allclose(xs[0].grad.numpy(), xs[1].grad.numpy(), rtol=1e-12,
                                   atol=1e-15)
        np.testing.assert_allclose(xs[0].grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-14)
    assert compiled._count == 1
