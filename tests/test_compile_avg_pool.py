"""tg.compile of F.avg_pool2d (nn.AvgPool2d too): a CNN step with average pooling ran eagerly
('unfold is not supported'). Replayed (one trace) with eager's and PyTorch's values and
gradients for kernel, stride, padding, count_include_pad and divisor_override, against finite
differences to second order; float16 still runs eagerly with eager's values."""

import warnings

import numpy as np
import pytest

import tapegrad as tg
import tapegrad.nn.functional as F

torch = pytest.importorskip("torch")
from compiled_steps import assert_adam_steps_agree  # noqa: E402

SETTINGS = [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
            dict(kernel_size=(3, 2), stride=(1, 2), padding=(1, 1), count_include_pad=False),
            dict(kernel_size=3, padding=1, divisor_override=5),
            dict(kernel_size=(2, 3), stride=1, padding=(1, 0), count_include_pad=False)]


@pytest.mark.parametrize("kw", SETTINGS)
def test_avg_pool_against_torch_and_gradcheck(kw):
    rng = np.random.default_rng(0)
    x0 = rng.normal(size=(2, 3, 7, 6))
    coef = rng.normal(size=torch.nn.functional.avg_pool2d(torch.tensor(x0), **kw).shape)
    c = tg.tensor(coef)
    compiled = tg.compile(lambda x: (F.avg_pool2d(x, **kw) * c).sum(), fullgraph=True)
    for shift in (0.0, 0.4):
        x, tx = tg.tensor(x0 + shift, requires_grad=True), torch.tensor(x0 + shift,
                                                                       requires_grad=True)
        out = compiled(x)
        out.backward()
        tout = (torch.nn.functional.avg_pool2d(tx, **kw) * torch.tensor(coef)).sum()
        tout.backward()
        np.testing.assert_allclose(out.item(), tout.item(), rtol=1e-12)
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-15)
    assert compiled._count == 1
    small = tg.tensor(x0[:1, :2, :5, :4], requires_grad=True)
    c2 = tg.tensor(rng.normal(size=F.avg_pool2d(small, **kw).shape))
    g = tg.compile(lambda x: (F.avg_pool2d(x, **kw) ** 2 * c2).sum(), fullgraph=True)
    assert tg.autograd.gradcheck(g, [small])
    assert tg.autograd.gradgradcheck(g, [small])


def _cnn(lib):
    lib.manual_seed(0)
    nn = lib.nn
    m = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.Tanh(),
                      nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False),
                      nn.Flatten(), nn.Linear(4 * 16, 3)).double()
    return m


def test_small_cnn_step_with_avg_pool_replays_as_eager_and_torch():
    assert_adam_steps_agree(
        _cnn, lambda lib: lib.nn.functional.cross_entropy,
        lambda lib, rng: (lib.tensor(rng.normal(size=(4, 1, 8, 8))),
                          lib.tensor(rng.integers(0, 3, 4))))


def test_half_input_still_runs_eagerly_with_eagers_values():
    x = tg.tensor(np.random.default_rng(3).normal(size=(1, 2, 5, 5)).astype(np.float16))

    def f(x):
        return F.avg_pool2d(x, 2, ceil_mode=True).sum()

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        got = tg.compile(f)(x)
    assert any("avg_pool2d" in str(s.message) for s in seen)
    assert got.item() == f(x).item()


@pytest.mark.parametrize("kw", SETTINGS)
def test_replay_computes_exactly_what_eager_does(kw):
    # (the replay's primitives are eager's array functions: the same values to the last bit)
    rng = np.random.default_rng(5)
    x0 = rng.normal(size=(3, 2, 9, 8))
    coef = tg.tensor(rng.normal(size=F.avg_pool2d(tg.tensor(x0), **kw).shape))

    def f(x):
        y = F.avg_pool2d(x, **kw)
        return y, tg.autograd.grad(y, x, coef)[0]

    compiled = tg.compile(f, fullgraph=True)
    compiled(tg.tensor(x0, requires_grad=True))  # (the recording call: eager under the tracer)
    for shift in (0.0, 0.7):
        x = tg.tensor(x0 + shift, requires_grad=True)
        for got, want in zip(compiled(x), f(x)):
            np.testing.assert_array_equal(got.detach().numpy(), want.detach().numpy())
    assert compiled._count == 1
