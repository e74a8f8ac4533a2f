"""grid_sample and interpolate as one compiled op each (ops/grid_sample.py, ops/resize.py):
PyTorch's values and gradients over modes, paddings, align_corners, dtypes and shapes; the
composition they replace (still used for other tensors) as the reference for NaN and inf
grids, second derivatives and forward mode; finite differences in float64."""

import contextlib

import numpy as np
import pytest

import tapegrad as tg
import tapegrad.nn.functional as F
import tapegrad.nn.interpolate as nn_interpolate
import tapegrad.ops.grid_sample as grid_op
from tapegrad.registry import REGISTRY, Op
from tests.op_checks import check_op, needs_torch, torch
TF = torch.nn.functional if torch is not None else None

PADS = ("zeros", "border", "reflection")
GRID_CASES = [(m, p, a) for m in ("bilinear", "nearest", "bicubic") for p in PADS
              for a in (False, True)]
# (input shape, grid shape): square, one-pixel rows and columns, a larger batch
GRID_SHAPES = [((2, 3, 5, 4), (2, 6, 7, 2)), ((1, 2, 1, 6), (1, 3, 4, 2)),
               ((3, 1, 7, 1), (3, 2, 5, 2)), ((4, 8, 9, 11), (4, 5, 6, 2))]


@contextlib.contextmanager
def composition():
    """The composition of ops for every tensor (the path CUDA tensors and vmap take)."""
    with pytest.MonkeyPatch.context() as m:
        m.setattr(grid_op, "takes", lambda x, grid: False)
        m.setattr(nn_interpolate, "fusable_array", lambda x: False)
        yield


def _sample(L, x, g, mode, pad, align, rx=True, rg=True):
    xt, gt = L.tensor(x, requires_grad=rx), L.tensor(g, requires_grad=rg)
    out = L.nn.functional.grid_sample(xt, gt, mode=mode, padding_mode=pad, align_corners=align)
    w = np.cos(np.arange(out.numel())).reshape(tuple(out.shape)).astype(x.dtype)
    wanted = [t for t in (xt, gt) if t.requires_grad]
    grads = L.autograd.grad((out * L.tensor(w)).sum(), wanted)
    return [np.asarray(out.detach())] + [np.asarray(t) for t in grads]


@needs_torch
@pytest.mark.parametrize("mode,pad,align", GRID_CASES)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_grid_sample_matches_pytorch(mode, pad, align, dtype):
    rng = np.random.default_rng(3)
    tol = dict(rtol=1e-12, atol=1e-12) if dtype == "float64" else dict(rtol=2e-5, atol=2e-5)
    for xs, gs in GRID_SHAPES:
        x = rng.standard_normal(xs).astype(dtype)
        g = rng.uniform(-1.5, 1.5, gs).astype(dtype)
        g.reshape(-1)[:4] = [-1.0, 1.0, 0.0, 1.0]  # exactly on the corners and the centre
        for rx, rg in ((True, True), (True, False), (False, True)):
            ours = _sample(tg, x, g, mode, pad, align, rx, rg)
            theirs = _sample(torch, x, g, mode, pad, align, rx, rg)
            assert ours[0].dtype == np.dtype(dtype) and all(o.dtype == np.dtype(dtype)
                                                            for o in ours)
            for a, b in zip(ours, theirs):
                np.testing.assert_allclose(a, b, err_msg=f"{xs} {rx} {rg}", **tol)


def test_grid_sample_is_one_record():
    x = tg.tensor(np.ones((1, 2, 4, 4)), requires_grad=True)
    out = F.grid_sample(x, tg.zeros((1, 3, 3, 2), dtype=x.dtype), align_corners=False)
    assert type(out.grad_fn).__name__ == "GridSampler2DBackward0"
    before = out._seg.n
    F.grid_sample(x, tg.zeros((1, 3, 3, 2), dtype=x.dtype), align_corners=False)
    assert out._seg.n == before + 1


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # (NaN and inf grids)
@pytest.mark.parametrize("mode,pad,align", GRID_CASES)
def test_grid_sample_equals_the_composition(mode, pad, align):
    """Values and first derivatives (the compiled VJP), and the derivatives of a function of
    the first derivatives (the re-taped VJP), equal the composition's, also where the grid
    holds NaN, inf and huge values."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 4, 5))
    g = rng.uniform(-1.4, 1.4, (2, 4, 6, 2))
    g.reshape(-1)[:12] = [np.nan, 0.2, 0.3, np.inf, -np.inf, 0.1, 1e30, 0.2, -3e20, np.nan,
                          1.0, -1.0]

    def run():
        xt, gt = tg.tensor(x, requires_grad=True), tg.tensor(g, requires_grad=True)
        out = F.grid_sample(xt, gt, mode=mode, padding_mode=pad, align_corners=align)
        w = tg.tensor(np.cos(np.arange(out.numel())).reshape(out.shape))
        first = tg.autograd.grad((out * w).sum(), (xt, gt), retain_graph=True)
        dx, dg = tg.autograd.grad((out * w).sum(), (xt, gt), create_graph=True)
        # a finite second order: through the grid's finite samples only
        finite = tg.tensor(np.isfinite(dg.detach().numpy()).astype(float))
        loss = (dx * dx).sum() + (tg.where(finite > 0, dg, 0.0) ** 2 * finite).sum()
        second = tg.autograd.grad(loss, (xt, gt), allow_unused=True)
        return [out.detach().numpy()] + [t.numpy() for t in first] + \
            [None if t is None else t.numpy() for t in second]

    fast = run()
    assert grid_op.takes(tg.tensor(x), tg.tensor(g))
    with composition():
        assert not grid_op.takes(tg.tensor(x), tg.tensor(g))
        slow = run()
    np.testing.assert_array_equal(fast[0], slow[0])  # (the same operations, in order)
    for k, (a, b) in enumerate(zip(fast, slow)):
        assert (a is None) == (b is None), k
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, equal_nan=True,
                                       err_msg=str(k))


@needs_torch
def test_nan_grid_in_zeros_padding_as_pytorch():
    """A NaN coordinate samples NaN and sends no gradient to any pixel (PyTorch's masks)."""
    x = np.arange(12.0).reshape(1, 1, 3, 4) + 1
    g = np.array([[[[np.nan, 0.2], [0.3, np.nan], [0.1, 0.2]]]])
    for align in (False, True):
        ours = _sample(tg, x, g, "bilinear", "zeros", align)
        theirs = _sample(torch, x, g, "bilinear", "zeros", align)
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a, b, equal_nan=True, rtol=1e-12)
        assert np.isnan(ours[0]).sum() == 2 and np.isfinite(ours[1]).all()


@pytest.mark.parametrize("pad", PADS)
@pytest.mark.parametrize("align", [False, True])
def test_grid_sample_finite_differences(pad, align):
    rng = np.random.default_rng(11)
    x, g = rng.standard_normal((2, 2, 4, 3)), rng.uniform(-1.3, 1.3, (2, 3, 2, 2))
    check_op(lambda x, g: F.grid_sample(x, g, padding_mode=pad, align_corners=align), [x, g],
             order=2)
    check_op(lambda g: F.grid_sample(tg.tensor(x), g, padding_mode=pad, align_corners=align),
             [g], order=2)
    # nearest: piecewise constant in the grid, linear in the image
    check_op(lambda x: F.grid_sample(x, tg.tensor(g), mode="nearest", padding_mode=pad,
                                     align_corners=align), [x], order=2)


@pytest.mark.parametrize("pad", PADS)
@pytest.mark.parametrize("align", [False, True])
def test_bicubic_grid_sample_finite_differences(pad, align):
    """Bicubic in the image and the grid, to second order: taps moved by the padding one by one,
    the weights' slopes unclipped (near and past the borders: the grid spans [-1.6, 1.6])."""
    rng = np.random.default_rng(12)
    x, g = rng.standard_normal((1, 2, 4, 3)), rng.uniform(-1.6, 1.6, (1, 3, 2, 2))
    check_op(lambda x, g: F.grid_sample(x, g, mode="bicubic", padding_mode=pad,
                                        align_corners=align), [x, g], order=2)


@needs_torch
def test_bicubic_grid_sample_second_order_as_pytorch():
    """The gradient of a function of both first derivatives (the re-taped VJP) equals
    PyTorch's double backward, for the image and the grid."""
    rng = np.random.default_rng(13)
    x, g = rng.standard_normal((2, 2, 5, 4)), rng.uniform(-1.4, 1.4, (2, 3, 4, 2))
    w = np.cos(np.arange(2 * 2 * 3 * 4)).reshape(2, 2, 3, 4)
    results = []
    for L in (tg, torch):
        for pad in PADS:
            xt, gt = L.tensor(x, requires_grad=True), L.tensor(g, requires_grad=True)
            out = L.nn.functional.grid_sample(xt, gt, mode="bicubic", padding_mode=pad,
                                              align_corners=False)
            dx, dg = L.autograd.grad((out * L.tensor(w)).sum(), (xt, gt), create_graph=True)
            second = L.autograd.grad((dx * dx).sum() + (dg * dg).sum(), (xt, gt))
            results.append([np.asarray(t.detach()) for t in (dx, dg) + tuple(second)])
    for ours, theirs in zip(results[:3], results[3:]):
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("mode,pad,align", GRID_CASES)
def test_grid_sample_forward_mode(mode, pad, align, monkeypatch):
    """Forward mode runs the op's own JVP (no fallback) and agrees with reverse mode."""
    calls = []
    rule = REGISTRY[Op.GRID_SAMPLE].jvp_np
    monkeypatch.setattr(REGISTRY[Op.GRID_SAMPLE], "jvp_np",
                        lambda *a, **k: calls.append(1) or rule(*a, **k))
    rng = np.random.default_rng(2)
    x, g = rng.standard_normal((2, 3, 6, 5)), rng.uniform(-1.3, 1.3, (2, 7, 8, 2))
    tx, tgr = rng.standard_normal(x.shape), rng.standard_normal(g.shape)

    def f(a, b):
        return F.grid_sample(a, b, mode=mode, padding_mode=pad, align_corners=align)

    out, tangent = tg.func.jvp(f, (tg.tensor(x), tg.tensor(g)), (tg.tensor(tx), tg.tensor(tgr)))
    assert calls and tangent.shape == out.shape
    v = np.sin(np.arange(out.numel())).reshape(out.shape)
    _, pull = tg.func.vjp(f, tg.tensor(x), tg.tensor(g))
    gx, gg = pull(tg.tensor(v))
    np.testing.assert_allclose((tangent.numpy() * v).sum(),
                               (gx.numpy() * tx).sum() + (gg.numpy() * tgr).sum(), rtol=1e-10)


@needs_torch
@pytest.mark.filterwarnings("ignore:There is a performance drop:UserWarning")
def test_grid_sample_transforms_and_views():
    """vmap over images (the composition, per example), a non-contiguous image and a float32
    grid of a float64 image (the composition: PyTorch refuses mixed dtypes) keep working."""
    rng = np.random.default_rng(4)
    x, g = rng.standard_normal((3, 2, 5, 6)), rng.uniform(-1, 1, (3, 4, 4, 2))
    one = tg.func.vmap(lambda a: F.grid_sample(a[None], tg.tensor(g[:1]),
                                               align_corners=True)[0])(tg.tensor(x))
    whole = F.grid_sample(tg.tensor(x), tg.tensor(np.repeat(g[:1], 3, 0)), align_corners=True)
    np.testing.assert_allclose(one.numpy(), whole.numpy(), rtol=1e-13)
    xt = tg.tensor(np.ascontiguousarray(x.transpose(0, 1, 3, 2)), requires_grad=True)
    view = xt.transpose(2, 3)
    out = F.grid_sample(view, tg.tensor(g), align_corners=False)
    ref = TF.grid_sample(torch.tensor(x), torch.tensor(g), align_corners=False)
    np.testing.assert_allclose(out.detach().numpy(), ref.numpy(), rtol=1e-12)
    out.sum().backward()
    xr = torch.tensor(x, requires_grad=True)
    TF.grid_sample(xr, torch.tensor(g), align_corners=False).sum().backward()
    np.testing.assert_allclose(xt.grad.numpy(), xr.grad.numpy().transpose(0, 1, 3, 2),
                               rtol=1e-12)
    mixed = F.grid_sample(tg.tensor(x), tg.tensor(g.astype(np.float32)), align_corners=False)
    np.testing.assert_allclose(mixed.numpy(), ref.numpy(), rtol=1e-6, atol=1e-6)


# ---- interpolate ------------------------------------------------------------------------------

INTERP_CASES = [
    ((2, 3, 9), "linear", {"scale_factor": 2.5}), ((2, 3, 9), "nearest", {"size": 4}),
    ((2, 3, 9), "nearest-exact", {"size": 20}),
    ((2, 3, 7, 5), "bilinear", {"scale_factor": 2}), ((2, 3, 7, 5), "bilinear", {"size": (3, 11)}),
    ((2, 3, 7, 5), "bilinear", {"size": (7, 9)}), ((1, 2, 16, 16), "bilinear", {"scale_factor": 0.5}),
    ((2, 3, 7, 5), "nearest", {"scale_factor": 2}), ((2, 3, 7, 5), "nearest", {"size": (10, 3)}),
    ((2, 3, 7, 5), "nearest-exact", {"scale_factor": 1.7}),
    ((1, 2, 3, 4, 5), "trilinear", {"scale_factor": 2}),
    ((1, 2, 3, 4, 5), "trilinear", {"size": (5, 4, 2)}),
    ((1, 2, 3, 4, 5), "nearest", {"size": (6, 3, 7)}),
    ((2, 3, 7, 5), "bicubic", {"scale_factor": 2}), ((2, 3, 7, 5), "bicubic", {"size": (3, 11)}),
    ((1, 2, 16, 16), "bicubic", {"scale_factor": 0.5}),
    ((2, 1, 4, 6), "bicubic", {"size": (4, 9)}),  # (an unchanged dim: still blended)
]


def _resize(L, x, mode, align, how):
    xt = L.tensor(x, requires_grad=True)
    out = L.nn.functional.interpolate(xt, mode=mode, align_corners=align, **how)
    w = np.cos(np.arange(out.numel())).reshape(tuple(out.shape)).astype(x.dtype)
    (grad,) = L.autograd.grad((out * L.tensor(w)).sum(), xt)
    return np.asarray(out.detach()), np.asarray(grad)


def _aligns(mode):
    return (None,) if mode.startswith("nearest") else (False, True)


@needs_torch
@pytest.mark.parametrize("shape,mode,how", INTERP_CASES)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_interpolate_matches_pytorch(shape, mode, how, dtype):
    x = np.random.default_rng(6).standard_normal(shape).astype(dtype)
    tol = dict(rtol=1e-12, atol=1e-13) if dtype == "float64" else dict(rtol=1e-5, atol=1e-5)
    for align in _aligns(mode):
        ours, theirs = _resize(tg, x, mode, align, how), _resize(torch, x, mode, align, how)
        assert ours[0].dtype == ours[1].dtype == np.dtype(dtype)
        np.testing.assert_allclose(ours[0], theirs[0], **tol)
        if mode == "nearest" and len(shape) != 4 and "scale_factor" in how:
            continue  # (PyTorch's backward picks other pixels there: docs)
        np.testing.assert_allclose(ours[1], theirs[1], **tol)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # (an inf pixel)
@pytest.mark.parametrize("shape,mode,how", INTERP_CASES[::2])
def test_interpolate_equals_the_composition(shape, mode, how):
    """Values bit for bit (the same blends in the same order), gradients, second order and
    forward mode as the composition's."""
    x = np.random.default_rng(8).standard_normal(shape)
    x.reshape(-1)[0] = np.inf  # an infinite pixel stays where an unchanged dim copies it

    def run(align):
        xt = tg.tensor(x, requires_grad=True)
        out = F.interpolate(xt, mode=mode, align_corners=align, **how)
        w = tg.tensor(np.cos(np.arange(out.numel())).reshape(out.shape))
        (g,) = tg.autograd.grad((out * out * w).sum(), xt, create_graph=True)
        (h,) = tg.autograd.grad((g * g * tg.tensor(np.sin(np.arange(g.numel()))
                                                   .reshape(g.shape))).sum(), xt)
        t = tg.func.jvp(lambda a: F.interpolate(a, mode=mode, align_corners=align, **how),
                        (tg.tensor(np.nan_to_num(x, posinf=3.0)),),
                        (tg.tensor(np.sin(np.arange(x.size)).reshape(shape)),))[1]
        return [out.detach().numpy(), g.detach().numpy(), h.numpy(), t.numpy()]

    for align in _aligns(mode):
        assert nn_interpolate.fusable_array(tg.tensor(x))  # (else both runs take one path)
        fast = run(align)
        with composition():
            slow = run(align)
        np.testing.assert_array_equal(fast[0], slow[0])
        for a, b in zip(fast[1:], slow[1:]):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, equal_nan=True)


@pytest.mark.parametrize("shape,mode,how", INTERP_CASES[1::3])
def test_interpolate_finite_differences(shape, mode, how):
    x = np.random.default_rng(9).standard_normal(shape)
    for align in _aligns(mode):
        check_op(lambda x: F.interpolate(x, mode=mode, align_corners=align, **how), [x],
                 order=2)


@needs_torch
def test_interpolate_records_and_views():
    x = tg.tensor(np.random.default_rng(1).standard_normal((2, 3, 6, 4)), requires_grad=True)
    out = F.interpolate(x, scale_factor=2, mode="bilinear")
    assert out._seg.records()[out._rec, 0] & 0xFFFF == int(Op.INTERPOLATE)
    with tg.no_grad():
        assert F.interpolate(x, scale_factor=2, mode="bilinear").grad_fn is None
    view = x.transpose(2, 3)  # a non-contiguous input
    ref = TF.interpolate(torch.tensor(x.detach().numpy()).transpose(2, 3), size=(5, 9),
                         mode="bilinear", align_corners=True)
    np.testing.assert_allclose(F.interpolate(view, size=(5, 9), mode="bilinear",
                                             align_corners=True).detach().numpy(),
                               ref.numpy(), rtol=1e-12)


@pytest.mark.parametrize("shape,mode", [((1, 1, 4), "nearest"), ((1, 1, 4), "linear"),
                                        ((1, 1, 4, 4), "nearest-exact"),
                                        ((1, 1, 4, 4), "bilinear"), ((1, 1, 4, 4), "bicubic"),
                                        ((1, 1, 2, 2, 2), "nearest"),
                                        ((1, 1, 2, 2, 2), "trilinear")])
def test_resize_nodes_are_named_per_mode_as_pytorch(shape, mode):
    torch = pytest.importorskip("torch")
    v = np.random.default_rng(0).standard_normal(shape)
    ours = tg.nn.functional.interpolate(tg.tensor(v, requires_grad=True), scale_factor=2,
                                        mode=mode)
    theirs = torch.nn.functional.interpolate(torch.tensor(v, requires_grad=True),
                                             scale_factor=2, mode=mode)
    assert ours.grad_fn.name() == theirs.grad_fn.name()
    # the create_graph gradient is the resize's backward node itself (no view node on top),
    # of one input (the output's gradient), and its own gradient is PyTorch's
    grads = []
    for L in (tg, torch):
        x = L.tensor(v, requires_grad=True)
        y = L.nn.functional.interpolate(x, scale_factor=2, mode=mode)
        g, = L.autograd.grad((y * y).sum(), x, create_graph=True)
        grads.append((g, L.autograd.grad((g * g).sum(), x)[0]))
    (g, h), (tg_, th) = grads
    assert g.grad_fn.name() == tg_.grad_fn.name() == theirs.grad_fn.name()[:-1] + "Backward0"
    assert len(g.grad_fn.next_functions) == len(tg_.grad_fn.next_functions) == 1
    np.testing.assert_allclose(g.detach().numpy(), tg_.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(h.numpy(), th.numpy(), rtol=1e-12)
