"""F.layer_norm of an empty input (an empty batch or an empty normalized shape): PyTorch
returns an empty result and zero or empty gradients; its one-op path raised a reshape error."""

import numpy as np
import pytest

import tapegrad as tg
import tapegrad.nn.functional as F

torch = pytest.importorskip("torch")

SHAPES = [((2, 0, 4, 1), 4), ((3, 0), 1), ((0, 3), 1), ((2, 0, 3), 2), ((0,), 1),
          ((4, 0, 2), 1)]


def _run(lib, F_, a, ns, w, b):
    x = lib.tensor(a, requires_grad=True)
    wt = None if w is None else lib.tensor(w, requires_grad=True)
    bt = None if b is None else lib.tensor(b, requires_grad=True)
    y = F_.layer_norm(x, ns, wt, bt)
    wrt = [t for t in (x, wt, bt) if t is not None]
    gs = lib.autograd.grad(y, wrt, lib.ones(tuple(y.shape), dtype=lib.float64),
                           create_graph=True)
    return y, gs


@pytest.mark.parametrize("shape,k", SHAPES)
@pytest.mark.parametrize("affine", [0, 1, 2])
def test_empty_layer_norm_as_pytorch(shape, k, affine):
    rng = np.random.default_rng(0)
    ns = shape[len(shape) - k:]
    a = rng.standard_normal(shape)
    w = rng.standard_normal(ns) if affine else None
    b = rng.standard_normal(ns) if affine == 2 else None
    yt, gts = _run(torch, torch.nn.functional, a, ns, w, b)
    yg, ggs = _run(tg, F, a, ns, w, b)
    assert tuple(yg.shape) == tuple(yt.shape)
    for gg, gt in zip(ggs, gts):
        np.testing.assert_array_equal(gg.detach().numpy(), gt.detach().numpy())
