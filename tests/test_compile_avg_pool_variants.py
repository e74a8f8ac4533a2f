"""tg.compile of avg_pool with ceil_mode=True, of avg_pool1d and avg_pool3d, and of unbatched
input: a step with any of them ran eagerly ('avg_pool2d of 3-d input or with ceil_mode',
'avg_pool1d is not supported by tg.compile yet'). Replayed (one trace, no fallback warning) by
eager's array functions with eager's output sizes: eager's values to the last bit, PyTorch's to
1e-12, gradients of first and second order against finite differences, Adam steps as eager's
and PyTorch's."""


import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")
from compiled_steps import assert_adam_steps_agree, assert_replay_agrees  # noqa: E402

# (function name, input shape, keyword arguments)
CASES = [("avg_pool2d", (2, 3, 7, 6), dict(kernel_size=3, stride=2, ceil_mode=True)),
         ("avg_pool2d", (2, 3, 8, 7), dict(kernel_size=(3, 2), stride=2, padding=1,
                                           ceil_mode=True, count_include_pad=False)),
         ("avg_pool2d", (2, 6, 7), dict(kernel_size=2, padding=1, ceil_mode=True,
                                        divisor_override=3)),
         ("avg_pool1d", (2, 3, 9), dict(kernel_size=3, stride=2, padding=1)),
         ("avg_pool1d", (3, 10), dict(kernel_size=4, stride=3, ceil_mode=True,
                                      count_include_pad=False)),
         ("avg_pool3d", (2, 2, 5, 6, 5), dict(kernel_size=2, stride=(1, 2, 2), ceil_mode=True)),
         ("avg_pool3d", (2, 5, 4, 5), dict(kernel_size=(3, 2, 3), padding=1,
                                           count_include_pad=False, divisor_override=4))]


@pytest.mark.parametrize("fn, xs, kw", CASES)
def test_against_eager_torch_and_gradcheck(fn, xs, kw):
    rng = np.random.default_rng(2)
    x0 = rng.normal(size=xs)
    c0 = rng.normal(size=getattr(torch.nn.functional, fn)(torch.tensor(x0), **kw).shape)
    c, tc = tg.tensor(c0), torch.tensor(c0)  # (closure cells: the tracer reads them)
    assert_replay_agrees(lambda lib, x: getattr(lib.nn.functional, fn)(x, **kw) * (c if lib is tg else tc), (x0,),
                         atol=1e-14)
    small = tg.tensor(x0[:1], requires_grad=True)
    c2 = tg.tensor(rng.normal(size=getattr(tg.nn.functional, fn)(small, **kw).shape))
    g = tg.compile(lambda x: (getattr(tg.nn.functional, fn)(x, **kw) ** 2 * c2).sum(),
                   fullgraph=True)
    assert tg.autograd.gradcheck(g, [small])
    assert tg.autograd.gradgradcheck(g, [small])
    assert g._count == 1


def _net2d(lib):
    lib.manual_seed(0)
    nn = lib.nn
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.Tanh(),
                         nn.AvgPool2d(2, ceil_mode=True, count_include_pad=False),
                         nn.Flatten(), nn.Linear(4 * 4 * 4, 3)).double()


def _net1d(lib):
    lib.manual_seed(0)
    nn = lib.nn
    return nn.Sequential(nn.Conv1d(2, 4, 3), nn.Tanh(), nn.AvgPool1d(3, 2, padding=1),
                         nn.Flatten(), nn.Linear(4 * 4, 3)).double()


def _net3d(lib):
    lib.manual_seed(0)
    nn = lib.nn
    return nn.Sequential(nn.Conv3d(1, 3, 2), nn.Tanh(), nn.AvgPool3d(2, ceil_mode=True),
                         nn.Flatten(), nn.Linear(3 * 8, 3)).double()


@pytest.mark.parametrize("make, shape", [(_net2d, (4, 1, 9, 9)), (_net1d, (4, 2, 9)),
                                         (_net3d, (4, 1, 4, 4, 4))])
def test_avg_pool_steps_replay_as_eager_and_torch(make, shape):
    assert_adam_steps_agree(
        make, lambda lib: lib.nn.functional.cross_entropy,
        lambda lib, rng: (lib.tensor(rng.normal(size=shape)),
                          lib.tensor(rng.integers(0, 3, 4))))
