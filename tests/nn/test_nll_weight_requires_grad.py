"""nll_loss and cross_entropy (class-index targets) with a weight requiring grad: PyTorch's
kernels have no derivative for it and refuse it at the call (with grad on); probability
targets and no_grad compute."""

import itertools

import numpy as np
import pytest

import tapegrad as tg
import tapegrad.nn.functional as F

torch = pytest.importorskip("torch")

SHAPES = [(4,), (3, 4), (2, 4, 3), (2, 4, 2, 3), (2, 4, 1, 2, 2)]


def _call(lib, F_, name, shape, probs, no_grad, smoothing):
    rng = np.random.default_rng(len(shape))
    x = lib.tensor(rng.standard_normal(shape), requires_grad=True)
    cshape = shape[:1] + shape[2:] if len(shape) > 1 else ()
    if probs:
        p = rng.random(shape)
        t = lib.tensor(p / p.sum(axis=1 if len(shape) > 1 else 0, keepdims=True))
    else:
        t = lib.tensor(rng.integers(0, 4, cshape))
    w = lib.tensor(rng.random(4) + 0.5, requires_grad=True)
    kw = {"label_smoothing": smoothing} if name == "cross_entropy" else {}
    try:
        with (lib.no_grad() if no_grad else lib.enable_grad()):
            if name == "nll_loss":
                return F_.nll_loss(F_.log_softmax(x, 1 if len(shape) > 1 else 0), t, w)
            return F_.cross_entropy(x, t, w, **kw)
    except RuntimeError as e:
        return str(e)


@pytest.mark.parametrize("shape,name,probs,no_grad,smoothing", [
    c for c in itertools.product(SHAPES, ["nll_loss", "cross_entropy"], [False, True],
                                 [False, True], [0.0, 0.2])
    if not (c[1] == "nll_loss" and (c[2] or c[4]))])
def test_weight_requiring_grad_as_pytorch(shape, name, probs, no_grad, smoothing):
    want = _call(torch, torch.nn.functional, name, shape, probs, no_grad, smoothing)
    got = _call(tg, F, name, shape, probs, no_grad, smoothing)
    if isinstance(want, str):
        assert got == want
    else:
        assert not isinstance(got, str), got
        np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-12)
