"""tg.compile of conv2d (nn.Conv2d too) and max_pool2d: a small CNN step (convolution, ReLU,
max pooling, dropout in eval, a linear head, Adam) ran eagerly ('ConvolutionBackward0 ... not
supported'). Replayed (fullgraph: one trace) with eager's and PyTorch's values and gradients,
against finite differences to second order, ties and NaN in a pooling window as PyTorch."""

import warnings

import numpy as np
import pytest

import tapegrad as tg
import tapegrad.nn.functional as F

torch = pytest.importorskip("torch")
from compiled_steps import assert_adam_steps_agree  # noqa: E402


def _net(lib, x, w, b, stride, padding, pool_stride):
    y = lib.nn.functional.conv2d(x, w, b, stride=stride, padding=padding)
    return lib.nn.functional.max_pool2d(lib.tanh(y), 2, pool_stride)


@pytest.mark.parametrize("stride, padding, pool_stride", [(1, 0, None), (2, 1, 1),
                                                          ((1, 2), (2, 1), (2, 1))])
def test_conv_pool_against_torch_and_gradcheck(stride, padding, pool_stride):
    rng = np.random.default_rng(0)
    x0, w0, b0 = rng.normal(size=(2, 3, 7, 6)), rng.normal(size=(4, 3, 3, 2)), rng.normal(size=4)
    coef = rng.normal(size=_net(torch, *[torch.tensor(a) for a in (x0, w0, b0)], stride,
                                padding, pool_stride).shape)
    c = tg.tensor(coef)

    def f(x, w, b):
        return (_net(tg, x, w, b, stride, padding, pool_stride) * c).sum()

    compiled = tg.compile(f, fullgraph=True)
    for shift in (0.0, 0.3):
        args = [tg.tensor(a + shift, requires_grad=True) for a in (x0, w0, b0)]
        out = compiled(*args)
        out.backward()
        targs = [torch.tensor(a + shift, requires_grad=True) for a in (x0, w0, b0)]
        tout = (_net(torch, *targs, stride, padding, pool_stride) * torch.tensor(coef)).sum()
        tout.backward()
        np.testing.assert_allclose(out.item(), tout.item(), rtol=1e-12)
        for a, t in zip(args, targs):
            np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-11, atol=1e-13)
    assert compiled._count == 1
    small = [tg.tensor(a, requires_grad=True) for a in (x0[:1, :, :5, :5], w0, b0)]
    c2 = tg.tensor(rng.normal(size=_net(tg, *small, stride, padding, pool_stride).shape))
    g = tg.compile(lambda x, w, b: (_net(tg, x, w, b, stride, padding, pool_stride) * c2).sum(),
                   fullgraph=True)
    assert tg.autograd.gradcheck(g, small)
    assert tg.autograd.gradgradcheck(g, small)


def test_pool_ties_and_nan_as_torch():
    x0 = np.array([[[[1.0, 1.0, 0.0, 2.0], [1.0, 0.5, 2.0, 2.0],
                     [np.nan, 3.0, 4.0, 4.0], [np.nan, 0.0, 4.0, 1.0]]]])
    compiled = tg.compile(lambda x: F.max_pool2d(x, 2) * 1.0, fullgraph=True)
    x, tx = tg.tensor(x0, requires_grad=True), torch.tensor(x0, requires_grad=True)
    out, tout = compiled(x), torch.nn.functional.max_pool2d(tx, 2)
    out.backward(tg.tensor(np.arange(1.0, 5.0).reshape(1, 1, 2, 2)))
    tout.backward(torch.tensor(np.arange(1.0, 5.0).reshape(1, 1, 2, 2)))
    np.testing.assert_array_equal(out.detach().numpy(), tout.detach().numpy())
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


def _cnn(lib):
    lib.manual_seed(0)
    nn = lib.nn
    m = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                      nn.Dropout(0.3), nn.Flatten(), nn.Linear(4 * 16, 3)).double()
    m.eval()
    return m


def test_small_cnn_step_in_eval_replays_as_eager_and_torch():
    assert_adam_steps_agree(
        _cnn, lambda lib: lib.nn.functional.cross_entropy,
        lambda lib, rng: (lib.tensor(rng.normal(size=(4, 1, 8, 8))),
                          lib.tensor(rng.integers(0, 3, 4))))


def test_half_convolution_still_runs_eagerly_with_eagers_values():
    rng = np.random.default_rng(3)
    w = tg.tensor(rng.normal(size=(4, 1, 3, 3)).astype(np.float16), requires_grad=True)

    def f(x):
        return F.conv2d(x, w, groups=2).sum()

    x = tg.tensor(rng.normal(size=(1, 2, 5, 5)).astype(np.float16))
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        got = tg.compile(f)(x)
    assert any("conv2d" in str(s.message) for s in seen)
    assert got.item() == f(x).item()
