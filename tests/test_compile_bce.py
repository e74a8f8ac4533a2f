"""tg.compile of F.binary_cross_entropy (probabilities in): a step with a sigmoid output and
this loss ran eagerly. Replayed (one trace) with eager's and PyTorch's values and gradients,
PyTorch's finite derivative at probabilities of exactly 0 and 1 (on the tracing call too),
against finite differences to second order; an input outside [0, 1] gives eager's error.
binary_cross_entropy_with_logits with pos_weight replays too."""

import warnings

import numpy as np
import pytest

import tapegrad as tg
import tapegrad.nn.functional as F

torch = pytest.importorskip("torch")
from compiled_steps import assert_adam_steps_agree  # noqa: E402


def _mlp(lib):
    lib.manual_seed(0)
    nn = lib.nn
    return nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3)).double()


@pytest.mark.parametrize("loss", ["bce", "bce_weight_sum", "logits_pos_weight"])
def test_adam_step_replays_as_eager_and_torch(loss):
    rng = np.random.default_rng(2)
    w0, pw0 = rng.uniform(0.5, 2.0, size=3), rng.uniform(0.5, 3.0, size=3)

    def make_loss(lib):
        Fn, w, pw = lib.nn.functional, lib.tensor(w0), lib.tensor(pw0)
        if loss == "bce":
            return lambda z, y: Fn.binary_cross_entropy(lib.sigmoid(z), y)
        if loss == "bce_weight_sum":
            return lambda z, y: Fn.binary_cross_entropy(lib.sigmoid(z), y, weight=w,
                                                        reduction="sum")
        return lambda z, y: Fn.binary_cross_entropy_with_logits(z, y, pos_weight=pw)

    assert_adam_steps_agree(_mlp, make_loss,
                            lambda lib, rng: (lib.tensor(rng.normal(size=(6, 5))),
                                              lib.tensor(rng.uniform(size=(6, 3)))))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_probabilities_of_0_and_1_as_torch_on_every_call(reduction):
    x0 = np.array([0.0, 1.0, 0.3, 1.0, 0.0, 0.5])
    t0 = np.array([1.0, 0.0, 0.2, 1.0, 0.0, 0.7])
    coef = np.arange(1.0, 7.0)
    c = tg.tensor(coef)

    def f(x, t):
        out = F.binary_cross_entropy(x, t, reduction=reduction)
        return (out * c).sum() if reduction == "none" else out

    compiled = tg.compile(f, fullgraph=True)
    tx, tt = (torch.tensor(a, requires_grad=True) for a in (x0, t0))
    tout = torch.nn.functional.binary_cross_entropy(tx, tt, reduction=reduction)
    (tout * torch.tensor(coef) if reduction == "none" else tout).sum().backward()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(2):  # (the tracing call, then a replay)
            x, t = (tg.tensor(a, requires_grad=True) for a in (x0, t0))
            out = compiled(x, t)
            out.backward()
            np.testing.assert_allclose(out.item(), (tout * torch.tensor(coef)).sum().item()
                                       if reduction == "none" else tout.item(), rtol=1e-12)
            np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)
            np.testing.assert_array_equal(t.grad.numpy(), tt.grad.numpy())
    assert compiled._count == 1


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_gradcheck_and_gradgradcheck_in_input_target_and_weight(reduction):
    rng = np.random.default_rng(4)
    c = tg.tensor(rng.normal(size=(3, 4)))

    def f(x, t, w):
        out = F.binary_cross_entropy(x, t, weight=w, reduction=reduction)
        return (out * c).sum() if reduction == "none" else out

    compiled = tg.compile(f, fullgraph=True)
    args = [tg.tensor(rng.uniform(0.1, 0.9, size=(3, 4)), requires_grad=True),
            tg.tensor(rng.uniform(0.0, 1.0, size=(3, 4)), requires_grad=True),
            tg.tensor(rng.uniform(0.5, 2.0, size=4), requires_grad=True)]
    assert tg.autograd.gradcheck(compiled, args)
    assert tg.autograd.gradgradcheck(compiled, args)
    np.testing.assert_allclose(compiled(*args).item(), f(*args).item(), rtol=1e-12)
    assert compiled._count == 1


def test_input_outside_0_1_fails_a_guard_and_raises_eagers_error():
    compiled = tg.compile(lambda x, t: F.binary_cross_entropy(x, t))
    t = tg.tensor(np.array([0.0, 1.0]))
    assert compiled(tg.tensor(np.array([0.2, 0.7])), t).item() == pytest.approx(
        -(np.log(0.8) + np.log(0.7)) / 2, rel=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
            compiled(tg.tensor(np.array([0.2, 1.5])), t)
