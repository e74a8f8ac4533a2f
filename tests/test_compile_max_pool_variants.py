"""tg.compile of max pooling with padding, dilation or ceil_mode=True, of max_pool1d and
max_pool3d, and of unbatched input: a step with any of them ran eagerly ('max_pool2d of 3-d
input, with padding, dilation, ceil_mode or indices', 'max_pool1d is not supported'). Replayed
(one trace, no fallback warning) with eager's positions (the first largest value, the last NaN;
a dilated window of padding only gives -inf, its gradient where PyTorch sends it): eager's
values to the last bit, PyTorch's, gradients of first and second order against finite
differences, Adam steps as eager's and PyTorch's."""

import warnings

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")
from compiled_steps import assert_adam_steps_agree  # noqa: E402

# (function name, input shape, keyword arguments)
CASES = [("max_pool2d", (2, 3, 7, 6), dict(kernel_size=3, stride=2, padding=1)),
         ("max_pool2d", (2, 3, 8, 7), dict(kernel_size=(3, 2), stride=2, ceil_mode=True)),
         ("max_pool2d", (2, 2, 9, 8), dict(kernel_size=2, dilation=(2, 3), padding=1,
                                           ceil_mode=True)),
         ("max_pool2d", (2, 6, 7), dict(kernel_size=3, stride=(1, 2), padding=(1, 0))),
         ("max_pool2d", (2, 1, 3, 1), dict(kernel_size=(1, 2), padding=(0, 1),
                                           dilation=(1, 2))),  # (windows of padding only:)
         ("max_pool1d", (2, 3, 9), dict(kernel_size=3, stride=2, padding=1, dilation=2)),
         ("max_pool1d", (3, 10), dict(kernel_size=4, stride=3, ceil_mode=True)),
         ("max_pool1d", (2, 2, 1), dict(kernel_size=2, padding=1, dilation=2, stride=1)),
         ("max_pool3d", (2, 2, 5, 6, 5), dict(kernel_size=2, stride=(1, 2, 2), ceil_mode=True,
                                              padding=1)),
         ("max_pool3d", (2, 5, 4, 5), dict(kernel_size=(3, 2, 2), padding=(1, 0, 1),
                                           dilation=(1, 2, 1)))]


def _outside(fn, x, kw):
    """Whether a window of padding only has its index past its plane's end: PyTorch's backward
    adds its gradient there, in the next plane's memory; eager (and so the replay) drops it."""
    nd = int(fn[8])
    where = getattr(tg.nn.functional, fn)(tg.tensor(x), **kw, return_indices=True)[1]
    return bool((where.numpy() >= np.prod(x.shape[-nd:])).any())


def _data(rng, xs):
    x = rng.normal(size=xs)
    x.reshape(-1)[::5] = 0.5  # (ties within windows: the first is chosen)
    return x


@pytest.mark.parametrize("fn, xs, kw", CASES)
def test_against_eager_torch_and_gradcheck(fn, xs, kw):
    rng = np.random.default_rng(4)
    x0 = _data(rng, xs)
    c0 = rng.normal(size=getattr(torch.nn.functional, fn)(torch.tensor(x0), **kw).shape)
    c = tg.tensor(c0)

    def f(x):
        y = getattr(tg.nn.functional, fn)(x, **kw)
        return y, tg.autograd.grad((y * c).sum(), x)[0]

    compiled = tg.compile(f, fullgraph=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compiled(tg.tensor(x0, requires_grad=True))  # (the recording call)
        for shift in (0.0, 0.3):
            x = tg.tensor(x0[::-1].copy() + shift, requires_grad=True)
            got, want = compiled(x), f(x)
            for a, e in zip(got, want):
                np.testing.assert_array_equal(a.detach().numpy(), e.detach().numpy())
            tx = torch.tensor(x0[::-1].copy() + shift, requires_grad=True)
            ty = getattr(torch.nn.functional, fn)(tx, **kw)
            tgrad = torch.autograd.grad((ty * torch.tensor(c0)).sum(), tx)[0]
            np.testing.assert_array_equal(got[0].detach().numpy(), ty.detach().numpy())
            if not _outside(fn, x0, kw):
                np.testing.assert_array_equal(got[1].numpy(), tgrad.numpy())
    assert compiled._count == 1
    small = tg.tensor(rng.normal(size=xs), requires_grad=True)  # (no ties: differentiable)
    y = getattr(tg.nn.functional, fn)(small, **kw)
    finite = tg.tensor(np.isfinite(y.detach().numpy()) * 1.0)
    c2 = tg.tensor(rng.normal(size=y.shape))

    def g(x):
        y = getattr(tg.nn.functional, fn)(x, **kw)
        return (tg.where(finite > 0, y, 0.0) ** 2 * c2).sum()

    g = tg.compile(g, fullgraph=True)
    assert tg.autograd.gradcheck(g, [small])
    assert tg.autograd.gradgradcheck(g, [small])
    assert g._count == 1


def test_nan_in_padded_and_dilated_windows_as_torch():
    x0 = np.array([[[[1.0, np.nan, 0.0, 2.0, 1.0], [np.nan, 0.5, 2.0, 2.0, 3.0],
                     [5.0, 3.0, np.nan, 4.0, 4.0], [np.nan, 0.0, 4.0, 1.0, 1.0]]]])
    kw = dict(kernel_size=2, stride=1, padding=1, dilation=2, ceil_mode=True)
    compiled = tg.compile(lambda x: tg.nn.functional.max_pool2d(x, **kw) * 1.0, fullgraph=True)
    for _ in range(2):
        x, tx = tg.tensor(x0, requires_grad=True), torch.tensor(x0, requires_grad=True)
        out, tout = compiled(x), torch.nn.functional.max_pool2d(tx, **kw)
        cot = np.arange(1.0, 1.0 + out.numel()).reshape(out.shape)
        out.backward(tg.tensor(cot))
        tout.backward(torch.tensor(cot))
        np.testing.assert_array_equal(out.detach().numpy(), tout.detach().numpy())
        np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())
    assert compiled._count == 1


def _net2d(lib):
    lib.manual_seed(0)
    nn = lib.nn
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.Tanh(),
                         nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True),
                         nn.MaxPool2d(2, stride=1, dilation=2, padding=1),
                         nn.Flatten(), nn.Linear(4 * 4 * 4, 3)).double()


def _net1d(lib):
    lib.manual_seed(0)
    nn = lib.nn
    return nn.Sequential(nn.Conv1d(2, 4, 3), nn.Tanh(), nn.MaxPool1d(3, 2, padding=1),
                         nn.Flatten(), nn.Linear(4 * 4, 3)).double()


def _net3d(lib):
    lib.manual_seed(0)
    nn = lib.nn
    return nn.Sequential(nn.Conv3d(1, 3, 2), nn.Tanh(), nn.MaxPool3d(2, ceil_mode=True),
                         nn.Flatten(), nn.Linear(3 * 8, 3)).double()


@pytest.mark.parametrize("make, shape", [(_net2d, (4, 1, 9, 9)), (_net1d, (4, 2, 9)),
                                         (_net3d, (4, 1, 4, 4, 4))])
def test_max_pool_steps_replay_as_eager_and_torch(make, shape):
    assert_adam_steps_agree(
        make, lambda lib: lib.nn.functional.cross_entropy,
        lambda lib, rng: (lib.tensor(rng.normal(size=shape)),
                          lib.tensor(rng.integers(0, 3, 4))))
