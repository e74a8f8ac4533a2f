"""tg.compile of conv1d and conv3d (nn.Conv1d, nn.Conv3d): a step with either ran eagerly
('conv1d is not supported by tg.compile yet'). Replayed (one trace, no fallback warning) by
eager's array functions: eager's values to the last bit, PyTorch's to 1e-12, gradients of first
and second order against finite differences, an Adam training step as eager's and PyTorch's."""


import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")
from compiled_steps import assert_adam_steps_agree, assert_replay_agrees  # noqa: E402

# (function name, input shape, weight shape, keyword arguments)
CASES = [("conv1d", (2, 3, 9), (4, 3, 3), dict(padding=1)),
         ("conv1d", (2, 4, 11), (6, 2, 3), dict(groups=2, stride=2, dilation=2)),
         ("conv1d", (3, 8), (4, 3, 2), dict(padding="same")),
         ("conv3d", (2, 2, 5, 4, 5), (3, 2, 2, 3, 2), dict(padding=(1, 0, 1), stride=(1, 2, 1))),
         ("conv3d", (2, 4, 5, 5, 4), (4, 2, 3, 2, 2), dict(groups=2, dilation=(1, 2, 1),
                                                          padding="same")),
         ("conv3d", (2, 4, 4, 5), (3, 2, 2, 2, 2), dict(padding="valid"))]


def _f(lib, fn, x, w, b, kw, c):
    return getattr(lib.nn.functional, fn)(x, w, b, **kw) * c


@pytest.mark.parametrize("fn, xs, ws, kw", CASES)
def test_against_eager_torch_and_gradcheck(fn, xs, ws, kw):
    rng = np.random.default_rng(1)
    x0, w0, b0 = rng.normal(size=xs), rng.normal(size=ws), rng.normal(size=ws[0])
    c0 = rng.normal(size=getattr(torch.nn.functional, fn)(
        torch.tensor(x0), torch.tensor(w0), **kw).shape)
    c, tc = tg.tensor(c0), torch.tensor(c0)  # (closure cells: the tracer reads them)
    assert_replay_agrees(lambda lib, x, w, b: _f(lib, fn, x, w, b, kw, (c if lib is tg else tc)), (x0, w0, b0))
    small = [tg.tensor(a, requires_grad=True) for a in (x0[:1] if len(xs) == len(ws) else x0,
                                                        w0, b0)]
    g = tg.compile(lambda x, w, b: (_f(tg, fn, x, w, b, kw, 1.0) ** 2).sum(), fullgraph=True)
    assert tg.autograd.gradcheck(g, small)
    assert tg.autograd.gradgradcheck(g, small)
    assert g._count == 1


def _net1d(lib):
    lib.manual_seed(0)
    nn = lib.nn
    return nn.Sequential(nn.Conv1d(2, 4, 3, padding=1), nn.Tanh(),
                         nn.Conv1d(4, 4, 3, groups=2, dilation=2), nn.Tanh(),
                         nn.Flatten(), nn.Linear(4 * 6, 3)).double()


def _net3d(lib):
    lib.manual_seed(0)
    nn = lib.nn
    return nn.Sequential(nn.Conv3d(1, 3, 2, padding=1), nn.Tanh(),
                         nn.Conv3d(3, 3, (1, 2, 2), groups=3, stride=(1, 2, 2)), nn.Tanh(),
                         nn.Flatten(), nn.Linear(3 * 5 * 2 * 2, 3)).double()


@pytest.mark.parametrize("make, shape", [(_net1d, (4, 2, 10)), (_net3d, (4, 1, 4, 4, 4))])
def test_conv1d_and_conv3d_steps_replay_as_eager_and_torch(make, shape):
    assert_adam_steps_agree(
        make, lambda lib: lib.nn.functional.cross_entropy,
        lambda lib, rng: (lib.tensor(rng.normal(size=shape)),
                          lib.tensor(rng.integers(0, 3, 4))))
