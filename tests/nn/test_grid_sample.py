"""F.affine_grid and F.grid_sample: PyTorch's values and gradients (image and grid) for every
mode, padding mode and align_corners, and finite differences to second order."""

import numpy as np
import pytest

import tapegrad as tg
import tapegrad.nn.functional as F
from tests.op_checks import check_op

CASES = [(mode, pad, align) for mode in ("bilinear", "nearest", "bicubic")
         for pad in ("zeros", "border", "reflection") for align in (False, True)]


@pytest.mark.parametrize("pad,align", [(p, a) for m, p, a in CASES if m == "bilinear"])
def test_grid_sample_finite_differences(pad, align):
    rng = np.random.default_rng(0)
    x, g = rng.standard_normal((1, 2, 4, 3)), rng.uniform(-1.3, 1.3, (1, 3, 2, 2))
    check_op(lambda x, g: F.grid_sample(x, g, padding_mode=pad, align_corners=align), [x, g],
             order=2)
    theta = rng.standard_normal((2, 2, 3))
    check_op(lambda t: F.affine_grid(t, (2, 1, 3, 4), align_corners=align), [theta], order=1)


@pytest.mark.parametrize("mode,pad,align", CASES)
def test_grid_sample_matches_pytorch(mode, pad, align):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x, g = rng.standard_normal((2, 3, 5, 4)), rng.uniform(-1.4, 1.4, (2, 6, 7, 2))
    xt, gt = torch.tensor(x, requires_grad=True), torch.tensor(g, requires_grad=True)
    xg, gg = tg.tensor(x, requires_grad=True), tg.tensor(g, requires_grad=True)
    a = torch.nn.functional.grid_sample(xt, gt, mode=mode, padding_mode=pad, align_corners=align)
    b = F.grid_sample(xg, gg, mode=mode, padding_mode=pad, align_corners=align)
    np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=1e-12, atol=1e-13)
    w = rng.standard_normal(b.shape)
    (a * torch.tensor(w)).sum().backward()
    (b * tg.tensor(w)).sum().backward()
    np.testing.assert_allclose(xg.grad.numpy(), xt.grad.numpy(), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(gg.grad.numpy(), gt.grad.numpy(), rtol=1e-10, atol=1e-12)
    theta = rng.standard_normal((2, 2, 3))
    np.testing.assert_allclose(
        F.affine_grid(tg.tensor(theta), (2, 3, 5, 4), align_corners=align).numpy(),
        torch.nn.functional.affine_grid(torch.tensor(theta), (2, 3, 5, 4),
                                        align_corners=align).numpy(), rtol=1e-13, atol=1e-15)


def test_identity_warp_and_errors():
    x = tg.randn(1, 2, 4, 5)
    grid = F.affine_grid(tg.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]]), (1, 2, 4, 5))
    np.testing.assert_allclose(F.grid_sample(x, grid).numpy(), x.numpy(), atol=1e-12)
    with pytest.raises(ValueError, match="expected padding_mode to be 'zeros', 'border', or "
                                         "'reflection'"):
        F.grid_sample(x, grid, padding_mode="wrap")
    with pytest.raises(ValueError, match=r"Expected a batch of 2D affine matrices of shape "
                                         r"Nx2x3"):
        F.affine_grid(tg.zeros((1, 3, 3)), (1, 2, 4, 5))
