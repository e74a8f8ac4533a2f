"""tg.compile of conv2d with groups, dilation, padding='same'/'valid' and unbatched input: a
step using any of them ran eagerly ("conv2d of 3-d input, with groups, dilation or
padding='same'"). Replayed (one trace, no fallback warning) by eager's array functions: the
same values as eager to the last bit, PyTorch's to 1e-12, gradients of first and second order
against finite differences, a training step with Adam as eager's and PyTorch's."""


import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")
from compiled_steps import assert_adam_steps_agree, assert_replay_agrees  # noqa: E402

# (input shape, weight shape, keyword arguments)
CASES = [((2, 4, 7, 6), (6, 2, 3, 2), dict(groups=2, stride=(2, 1), padding=1)),
         ((2, 3, 9, 8), (4, 3, 3, 3), dict(dilation=2, padding=(2, 1))),
         ((2, 3, 7, 6), (4, 3, 3, 2), dict(dilation=(2, 1), padding="same")),
         ((2, 4, 6, 6), (4, 1, 2, 3), dict(groups=4, padding="same")),
         ((2, 2, 6, 5), (3, 2, 3, 3), dict(padding="valid", stride=2)),
         ((3, 7, 6), (4, 3, 3, 3), dict(padding=1)),
         ((4, 7, 6), (4, 2, 2, 2), dict(groups=2, dilation=(1, 2), padding="same"))]


def _f(lib, x, w, b, kw, c):
    return lib.nn.functional.conv2d(x, w, b, **kw) * c


@pytest.mark.parametrize("xs, ws, kw", CASES)
def test_against_eager_torch_and_gradcheck(xs, ws, kw):
    rng = np.random.default_rng(0)
    x0, w0, b0 = rng.normal(size=xs), rng.normal(size=ws), rng.normal(size=ws[0])
    c0 = rng.normal(size=torch.nn.functional.conv2d(
        torch.tensor(x0), torch.tensor(w0), **kw).shape)
    c, tc = tg.tensor(c0), torch.tensor(c0)  # (closure cells: the tracer reads them)
    assert_replay_agrees(lambda lib, x, w, b: _f(lib, x, w, b, kw, (c if lib is tg else tc)), (x0, w0, b0))
    small = [tg.tensor(a, requires_grad=True) for a in (x0[:1] if len(xs) == 4 else x0,
                                                        w0, b0)]
    g = tg.compile(lambda x, w, b: (_f(tg, x, w, b, kw, 1.0) ** 2).sum(), fullgraph=True)
    assert tg.autograd.gradcheck(g, small)
    assert tg.autograd.gradgradcheck(g, small)
    assert g._count == 1


def _cnn(lib):
    lib.manual_seed(0)
    nn = lib.nn
    return nn.Sequential(nn.Conv2d(2, 4, 3, padding="same", dilation=2), nn.Tanh(),
                         nn.Conv2d(4, 4, 3, groups=2, padding="valid"), nn.Tanh(),
                         nn.Conv2d(4, 4, (1, 3), groups=4, padding=(0, 1)),
                         nn.Flatten(), nn.Linear(4 * 6 * 6, 3)).double()


def test_grouped_dilated_same_cnn_step_replays_as_eager_and_torch():
    assert_adam_steps_agree(
        _cnn, lambda lib: lib.nn.functional.cross_entropy,
        lambda lib, rng: (lib.tensor(rng.normal(size=(4, 2, 8, 8))),
                          lib.tensor(rng.integers(0, 3, 4))))
