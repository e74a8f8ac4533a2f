"""Dilated max pooling whose window holds padding only: PyTorch's value there is -inf, its
index the first tap moved past the padding, and its backward sends the gradient to that
index. (Where that index lies past the plane PyTorch's backward writes into the next plane's
gradient; tapegrad sends it nowhere, so those gradients are not compared.)"""

import itertools

import numpy as np
import pytest

import tapegrad as tg
import tapegrad.nn.functional as F

torch = pytest.importorskip("torch")

CASES = [  # (shape, kernel, stride, padding, dilation, ceil_mode)
    ((2, 2, 5, 1), 2, None, 1, (1, 2), True),
    ((1, 1, 3, 1), (2, 2), (1, 3), 1, 2, True),
    ((1, 1, 2, 1), 2, 2, 1, 2, True),
    ((1, 2, 1, 2), (1, 2), 1, (0, 1), (1, 3), False),
    ((1, 2, 1), 2, 1, 1, 2, True),
    ((1, 1, 2, 2, 1), 2, (2, 2, 1), 1, (1, 1, 2), False),
]


def _pool(lib, F_, x, shape, kernel, stride, padding, dilation, ceil_mode):
    fn = {3: F_.max_pool1d, 4: F_.max_pool2d, 5: F_.max_pool3d}[len(shape)]
    if len(shape) == 3:
        kernel, stride, padding, dilation = (v[0] if isinstance(v, tuple) else v
                                             for v in (kernel, stride, padding, dilation))
    return fn(x, kernel, stride, padding, dilation, ceil_mode, return_indices=True)


@pytest.mark.parametrize("case,seed", list(itertools.product(CASES, range(2))))
def test_padding_only_windows_as_pytorch(case, seed):
    shape = case[0]
    a = np.random.default_rng(seed).standard_normal(shape)
    xt = torch.tensor(a, requires_grad=True)
    xg = tg.tensor(a, requires_grad=True)
    yt, it = _pool(torch, torch.nn.functional, xt, *case)
    yg, ig = _pool(tg, F, xg, *case)
    assert np.isneginf(yt.detach().numpy()).any()  # the case has such a window
    np.testing.assert_array_equal(yg.detach().numpy(), yt.detach().numpy())
    np.testing.assert_array_equal(ig.numpy(), it.numpy())
    if (it.numpy() >= np.prod(shape[2:])).any():
        return
    g = np.random.default_rng(seed + 1).standard_normal(tuple(yt.shape))
    (gt,) = torch.autograd.grad(yt, xt, torch.tensor(g), create_graph=True)
    (gg,) = tg.autograd.grad(yg, xg, tg.tensor(g), create_graph=True)
    np.testing.assert_allclose(gg.detach().numpy(), gt.detach().numpy(), rtol=0, atol=1e-12)
    assert gg.requires_grad == gt.requires_grad


def test_padding_only_windows_gradcheck():
    x = tg.tensor(np.random.default_rng(3).standard_normal((1, 2, 5, 3)), requires_grad=True)
    assert tg.autograd.gradcheck(
        lambda t: F.max_pool2d(t, 2, None, 1, (1, 2), True).clamp(-5, 5), (x,))
