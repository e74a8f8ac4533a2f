"""vmap of F.grid_sample over its grids, its images or both (func/batching_sampling.py): one
call for the whole batch, no per-example loop; values, gradients of the batch, vmap(grad) and
nested vmaps against torch.func, and finite differences of first and second order."""

import warnings

import numpy as np
import pytest

import tapegrad as tg

from tests.op_checks import needs_torch, torch

rng = np.random.default_rng(12)
B, N, C, H, W, HO, WO = 3, 2, 3, 5, 4, 4, 3
X = rng.standard_normal((N, C, H, W))
XS = rng.standard_normal((B, N, C, H, W))
# (a little beyond [-1, 1]: taps outside the image, and the padding modes' clamps and folds)
GRIDS = rng.uniform(-1.15, 1.15, (B, N, HO, WO, 2))

OPTIONS = [dict(), dict(mode="nearest"), dict(padding_mode="border"),
           dict(padding_mode="reflection"), dict(align_corners=True),
           dict(mode="nearest", padding_mode="reflection", align_corners=True),
           dict(mode="bicubic", padding_mode="reflection")]


def _sampler(L, which, opts):
    """The vmapped function of the batched arguments ``which`` ('grid', 'x' or 'both')."""
    opts = dict(dict(align_corners=False), **opts)
    F = L.nn.functional
    x, grid = L.tensor(X), L.tensor(GRIDS[0])
    f = {"grid": lambda g: F.grid_sample(x, g, **opts),
         "x": lambda a: F.grid_sample(a, grid, **opts),
         "both": lambda a, g: F.grid_sample(a, g, **opts)}[which]
    return L.func.vmap(f)


def _inputs(L, which, requires_grad=False):
    xs, gs = (L.tensor(a, requires_grad=requires_grad) for a in (XS, GRIDS))
    return {"grid": (gs,), "x": (xs,), "both": (xs, gs)}[which]


def _no_loop(f, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the per-example fallback warns
        return f(*args)


@needs_torch
@pytest.mark.parametrize("opts", OPTIONS)
@pytest.mark.parametrize("which", ["grid", "x", "both"])
def test_values_and_gradients_match_torch_func_vmap(which, opts):
    ins, tins = _inputs(tg, which, True), _inputs(torch, which, True)
    out = _no_loop(_sampler(tg, which, opts), *ins)
    ref = _sampler(torch, which, opts)(*tins)
    assert out.shape == tuple(ref.shape) == (B, N, C, HO, WO)
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-12,
                               atol=1e-13)
    weights = rng.standard_normal(out.shape)
    grads = tg.autograd.grad((out * tg.tensor(weights)).sum(), ins)
    tgrads = torch.autograd.grad((ref * torch.tensor(weights)).sum(), tins)
    for mine, theirs in zip(grads, tgrads):
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-11, atol=1e-12)


@needs_torch
@pytest.mark.parametrize("argnum", [0, 1])
def test_vmap_of_grad_per_example(argnum):
    def make(L):
        F = L.nn.functional

        def loss(a, g):
            return (F.grid_sample(a, g, align_corners=False) ** 2).sum()

        return L.func.vmap(L.func.grad(loss, argnums=argnum))

    mine = _no_loop(make(tg), tg.tensor(XS), tg.tensor(GRIDS))
    ref = make(torch)(torch.tensor(XS), torch.tensor(GRIDS))
    np.testing.assert_allclose(mine.numpy(), ref.numpy(), rtol=1e-11, atol=1e-12)


@needs_torch
@pytest.mark.parametrize("which", ["grid", "x", "both"])
def test_nested_vmap_and_other_in_dims(which):
    grids = rng.uniform(-1.1, 1.1, (2, B, N, HO, WO, 2))
    xs = rng.standard_normal((2, B, N, C, H, W))

    def make(L):
        F = L.nn.functional
        x, g = L.tensor(X), L.tensor(GRIDS[0])
        f = {"grid": lambda gg: F.grid_sample(x, gg, align_corners=True),
             "x": lambda a: F.grid_sample(a, g, align_corners=True),
             "both": lambda a, gg: F.grid_sample(a, gg, align_corners=True)}[which]
        n_in = 2 if which == "both" else 1
        inner = L.func.vmap(f, in_dims=(1,) * n_in)  # (the batch on dim 1 of each input)
        return L.func.vmap(inner, in_dims=(0,) * n_in)

    def args(L):
        xt = L.tensor(np.moveaxis(xs, 1, 2))  # (2, N, B, C, H, W): in_dims=1 within
        gt = L.tensor(np.moveaxis(grids, 1, 2))
        return {"grid": (gt,), "x": (xt,), "both": (xt, gt)}[which]

    mine = _no_loop(make(tg), *args(tg))
    ref = make(torch)(*args(torch))
    assert mine.shape == tuple(ref.shape) == (2, B, N, C, HO, WO)
    np.testing.assert_allclose(mine.numpy(), ref.numpy(), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("opts", [dict(), dict(padding_mode="border")])
@pytest.mark.parametrize("which", ["grid", "x", "both"])
def test_finite_differences(which, opts):
    x, grid = tg.tensor(X[:1]), tg.tensor(GRIDS[0, :1])  # (one image: small Jacobians)
    xs = tg.tensor(XS[:2, :1], requires_grad=True)
    grids = tg.tensor(GRIDS[:2, :1], requires_grad=True)

    def sample(a, g):
        return tg.nn.functional.grid_sample(a, g, align_corners=False, **opts)

    f, ins = {"grid": (tg.func.vmap(lambda g: sample(x, g)), (grids,)),
              "x": (tg.func.vmap(lambda a: sample(a, grid)), (xs,)),
              "both": (tg.func.vmap(sample), (xs, grids))}[which]
    assert tg.autograd.gradcheck(f, ins)
    assert tg.autograd.gradgradcheck(f, ins)


@needs_torch
@pytest.mark.parametrize("call", [
    lambda L, g: L.nn.functional.grid_sample(L.tensor(X), g, mode="cubic", align_corners=False),
    lambda L, g: L.nn.functional.grid_sample(L.tensor(X), g, padding_mode="wrap",
                                             align_corners=False),
    lambda L, g: L.nn.functional.grid_sample(L.tensor(X), g[..., :1], align_corners=False),
    lambda L, g: L.nn.functional.grid_sample(L.tensor(X[:1]), g, align_corners=False),
    lambda L, g: L.nn.functional.grid_sample(L.tensor(X[0]), g[0], align_corners=False),
    lambda L, g: L.nn.functional.grid_sample(L.tensor(X), g[..., None], align_corners=False),
    lambda L, g: L.nn.functional.grid_sample(L.tensor(X[..., :0]), g, align_corners=False),
])
def test_errors_as_torch_func_vmap(call):
    """PyTorch's error for each example's call, without running a per-example loop first (the
    sizes it names are those of its own batching rule's call: not compared)."""
    with pytest.raises(Exception) as ref:
        torch.func.vmap(lambda g: call(torch, g))(torch.tensor(GRIDS))
    with pytest.raises(type(ref.value)) as mine:
        _no_loop(tg.func.vmap(lambda g: call(tg, g)), tg.tensor(GRIDS))
    assert str(mine.value).split(", but")[0] == str(ref.value).split(", but")[0]
