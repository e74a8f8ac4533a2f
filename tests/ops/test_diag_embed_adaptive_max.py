"""diag_embed and adaptive max pooling's one-record CPU forms (cached positions, a compiled
search for the cells' maxima) beside PyTorch: values, indices (first maximum, last NaN),
gradients at first and second order (create_graph) and forward-mode tangents."""

import numpy as np
import pytest

import tapegrad as tg
import tapegrad.autograd.forward_ad as tfwd


def _check(torch, fn, a, tol=1e-12):
    """Values (and indices), a weighted square's gradient under create_graph, its gradient
    again (w.r.t. the input and the weights) and a jvp, against PyTorch's."""
    rng = np.random.default_rng(3)
    xg, xt = tg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    yg, yt = fn(tg, xg), fn(torch, xt)
    if isinstance(yt, tuple):
        np.testing.assert_array_equal(yg[1].numpy(), yt[1].numpy())
        yg, yt = yg[0], yt[0]
    np.testing.assert_allclose(yg.detach().numpy(), yt.detach().numpy(), rtol=tol)
    w = rng.standard_normal(tuple(yt.shape)).astype(a.dtype)
    wg, wt = tg.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    gg, = tg.autograd.grad((yg * yg * wg).sum(), xg, create_graph=True)
    gt, = torch.autograd.grad((yt * yt * wt).sum(), xt, create_graph=True)
    np.testing.assert_allclose(gg.detach().numpy(), gt.detach().numpy(), rtol=tol, atol=tol)
    v = rng.standard_normal(a.shape).astype(a.dtype)
    hg = tg.autograd.grad((gg * tg.tensor(v)).sum(), [xg, wg])
    ht = torch.autograd.grad((gt * torch.tensor(v)).sum(), [xt, wt])
    for p, q in zip(hg, ht):
        np.testing.assert_allclose(p.numpy(), q.numpy(), rtol=tol, atol=tol)
    with tfwd.dual_level():
        o = fn(tg, tfwd.make_dual(tg.tensor(a), tg.tensor(v)))
        jg = tfwd.unpack_dual(o[0] if isinstance(o, tuple) else o).tangent
    import torch.autograd.forward_ad as pfwd
    with pfwd.dual_level():
        o = fn(torch, pfwd.make_dual(torch.tensor(a), torch.tensor(v)))
        jt = pfwd.unpack_dual(o[0] if isinstance(o, tuple) else o).tangent
    np.testing.assert_allclose(jg.numpy(), jt.numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("shape,offset,dims", [((6, 5), 0, (-2, -1)), ((2, 3, 4), 1, (0, 2)),
                                               ((4,), -2, (1, 0)), ((3, 0), 1, (-2, -1))])
def test_diag_embed_matches_pytorch(torch, shape, offset, dims):
    a = np.random.default_rng(0).standard_normal(shape)
    _check(torch, lambda L, x: L.diag_embed(x, offset, *dims), a)
    _check(torch, lambda L, x: L.diag_embed(x.mT if x.ndim > 1 else x, offset, *dims), a)


@pytest.mark.parametrize("size", [(4, 4), (9, 9), (1, 1), (7, 3), (20, 17), 5, (None, 3)])
def test_adaptive_max_pool2d_nan_ties_match_pytorch(torch, size):
    a = np.random.default_rng(1).standard_normal((3, 4, 9, 9))
    a[0, 0, 3, 3] = np.nan
    a[1, 2, 0, :] = np.nan
    a[2, 1] = np.round(a[2, 1])  # ties: the first maximum
    _check(torch, lambda L, x: L.nn.functional.adaptive_max_pool2d(x, size, True), a)
    _check(torch, lambda L, x: L.nn.functional.adaptive_max_pool2d(x[0].transpose(1, 2), size,
                                                                   True), a)


def test_adaptive_max_pool_1d_3d_float32_match_pytorch(torch):
    rng = np.random.default_rng(2)
    _check(torch, lambda L, x: L.nn.functional.adaptive_max_pool1d(x, 4, True),
           rng.standard_normal((3, 5, 13)))
    _check(torch, lambda L, x: L.nn.functional.adaptive_max_pool3d(x, (2, 3, 4), True),
           rng.standard_normal((2, 3, 5, 7, 9)))
    _check(torch, lambda L, x: L.nn.functional.adaptive_max_pool2d(x, (4, 3), True),
           rng.standard_normal((2, 3, 11, 7)).astype(np.float32), 1e-5)
