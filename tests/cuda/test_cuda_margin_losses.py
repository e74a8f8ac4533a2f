"""F.multi_margin_loss and F.multilabel_margin_loss (and their modules) on CUDA tensors: the
CPU's values and gradients, PyTorch's values; on numba-cuda's simulator (see conftest.py)."""

import numpy as np
import pytest

from conftest import HAS_NUMBA_CUDA

if not HAS_NUMBA_CUDA:
    pytest.skip("numba-cuda is not installed (pip install 'tapegrad[cuda]'); CUDA tensors "
                "are optional", allow_module_level=True)

import tapegrad as tg
import tapegrad.nn.functional as F

RNG = np.random.default_rng(3)
X = RNG.normal(size=(3, 4))
Y = np.array([0, 3, 1])
MULTI = np.array([[0, 2, -1, 1], [3, -1, 0, 0], [1, 0, 2, 3]])
W = np.array([0.5, 1.0, 2.0, 1.5])

CASES = {
    "multi_margin": (lambda x, y, w: F.multi_margin_loss(x, y), Y),
    "multi_margin_p2_weight": (lambda x, y, w: F.multi_margin_loss(
        x, y, p=2, margin=0.7, weight=w, reduction="sum"), Y),
    "multi_margin_none": (lambda x, y, w: F.multi_margin_loss(x, y, reduction="none"), Y),
    "multi_margin_1d": (lambda x, y, w: F.multi_margin_loss(x[1], y[1]), Y),
    "multi_margin_module": (lambda x, y, w: tg.nn.MultiMarginLoss(weight=w)(x, y), Y),
    "multilabel_margin": (lambda x, y, w: F.multilabel_margin_loss(x, y), MULTI),
    "multilabel_margin_none": (lambda x, y, w: F.multilabel_margin_loss(
        x, y, reduction="none"), MULTI),
}
TORCH = {
    "multi_margin": lambda t, x, y, w: t.nn.functional.multi_margin_loss(x, y),
    "multi_margin_p2_weight": lambda t, x, y, w: t.nn.functional.multi_margin_loss(
        x, y, p=2, margin=0.7, weight=w, reduction="sum"),
    "multi_margin_none": lambda t, x, y, w: t.nn.functional.multi_margin_loss(
        x, y, reduction="none"),
    "multi_margin_1d": lambda t, x, y, w: t.nn.functional.multi_margin_loss(x[1], y[1]),
    "multi_margin_module": lambda t, x, y, w: t.nn.MultiMarginLoss(weight=w)(x, y),
    "multilabel_margin": lambda t, x, y, w: t.nn.functional.multilabel_margin_loss(x, y),
    "multilabel_margin_none": lambda t, x, y, w: t.nn.functional.multilabel_margin_loss(
        x, y, reduction="none"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_cpu_and_torch(name):
    torch = pytest.importorskip("torch")
    f, y = CASES[name]
    got = {}
    for dev in ("cpu", "cuda"):
        x = tg.tensor(X, device=dev, requires_grad=True)
        loss = f(x, tg.tensor(y, device=dev), tg.tensor(W, device=dev))
        (g,) = tg.autograd.grad(loss.sum(), x)
        assert loss.device == g.device == dev
        got[dev] = loss.detach().cpu().numpy(), g.cpu().numpy()
    np.testing.assert_allclose(got["cuda"][0], got["cpu"][0], rtol=1e-12)
    np.testing.assert_allclose(got["cuda"][1], got["cpu"][1], rtol=1e-12)
    tx = torch.tensor(X, requires_grad=True)
    want = TORCH[name](torch, tx, torch.tensor(y), torch.tensor(W))
    (tg_,) = torch.autograd.grad(want.sum(), tx)
    np.testing.assert_allclose(got["cuda"][0], want.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(got["cuda"][1], tg_.numpy(), rtol=1e-10, atol=1e-12)


def test_mixed_devices_refused():
    with pytest.raises(RuntimeError, match="same device"):
        F.multi_margin_loss(tg.tensor(X, device="cuda"), tg.tensor(Y))
