"""F.interpolate and the Upsample layers: finite differences to second order, PyTorch's values
and gradients over modes, sizes, scale factors and align_corners, and its errors."""

import numpy as np
import pytest

import tapegrad as tg
import tapegrad.nn.functional as F
from tests.op_checks import check_op

LINEAR = {1: "linear", 2: "bilinear", 3: "trilinear"}
SHAPES = [(2, 3, 5), (1, 2, 4, 7), (1, 2, 3, 4, 3), (1, 1, 1)]


def _cases():
    for shape in SHAPES:
        k = len(shape) - 2
        for mode in ("nearest", "nearest-exact", LINEAR[k], "area") + (("bicubic",) if k == 2
                                                                       else ()):
            if mode == "area" and k == 3:
                continue
            for ac in ((None,) if mode in ("nearest", "nearest-exact", "area") else
                       (False, True)):
                for how in ({"size": tuple(2 * s - 1 if s > 1 else 2 for s in shape[2:])},
                            {"size": tuple(s // 2 + 1 for s in shape[2:])},
                            {"scale_factor": 1.7}, {"scale_factor": 0.6}, {"scale_factor": 2},
                            {"scale_factor": 1.1}, {"scale_factor": 2.1},
                            {"scale_factor": 1.7, "recompute_scale_factor": True}):
                    if "scale_factor" in how and min(shape[2:]) * how["scale_factor"] < 1:
                        continue
                    yield shape, mode, ac, how


CASES = list(_cases())


@pytest.mark.parametrize("shape,mode,ac,how", CASES[::7])
def test_interpolate_finite_differences(shape, mode, ac, how):
    x = np.random.default_rng(0).standard_normal(shape)
    check_op(lambda x: F.interpolate(x, mode=mode, align_corners=ac, **how), [x], order=2)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_interpolate_matches_pytorch(dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    for shape, mode, ac, how in CASES:
        x = rng.standard_normal(shape).astype(dtype)
        xt, xg = torch.tensor(x, requires_grad=True), tg.tensor(x, requires_grad=True)
        a = torch.nn.functional.interpolate(xt, mode=mode, align_corners=ac, **how)
        b = F.interpolate(xg, mode=mode, align_corners=ac, **how)
        assert b.shape == tuple(a.shape) and b.dtype == np.dtype(dtype), (shape, mode, how)
        w = rng.standard_normal(b.shape).astype(dtype)
        (a * torch.tensor(w)).sum().backward()
        (b * tg.tensor(w)).sum().backward()
        tol = dict(rtol=1e-5, atol=1e-6) if dtype == "float32" else dict(rtol=1e-12, atol=1e-14)
        if mode == "bicubic" and dtype == "float32":  # (PyTorch's build fuses its weights'
            tol["atol"] = 5e-6                        # polynomials into FMAs: other roundings)
        msg = f"{shape} {mode} align_corners={ac} {how}"
        np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), err_msg=msg, **tol)
        if mode == "nearest" and len(shape) != 4 and any(
                o in (n, 2 * n) for n, o in zip(shape[2:], b.shape[2:])) and \
                "scale_factor" in how:
            continue  # PyTorch's backward and forward pick other pixels there (see docs)
        if mode == "bicubic" and b.shape == x.shape and "scale_factor" in how:
            continue  # PyTorch's backward copies a same-size gradient, its forward blends
        np.testing.assert_allclose(xg.grad.numpy(), xt.grad.numpy(), err_msg=msg, **tol)


def test_upsample_layers():
    x = tg.tensor(np.arange(8.0).reshape(1, 1, 2, 4), requires_grad=True)
    up = tg.nn.Upsample(scale_factor=2, mode="nearest")
    y = up(x)
    np.testing.assert_array_equal(y.detach().numpy()[0, 0, :2, :4], [[0, 0, 1, 1]] * 2)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full((1, 1, 2, 4), 4.0))  # 2x2 copies each
    corners = tg.nn.UpsamplingBilinear2d(size=(3, 7))(x).detach().numpy()[0, 0]
    np.testing.assert_allclose(corners[[0, 0, -1, -1], [0, -1, 0, -1]], [0, 3, 4, 7])
    assert repr(up) == "Upsample(scale_factor=2.0, mode='nearest')"
    torch = pytest.importorskip("torch")
    for ours, theirs in ((up, torch.nn.Upsample(scale_factor=2, mode="nearest")),
                         (tg.nn.UpsamplingNearest2d(size=(3, 4)),
                          torch.nn.UpsamplingNearest2d(size=(3, 4))),
                         (tg.nn.Upsample(size=5, mode="linear", align_corners=True),
                          torch.nn.Upsample(size=5, mode="linear", align_corners=True))):
        assert repr(ours) == repr(theirs)


def test_interpolate_errors_are_pytorchs():
    x = tg.zeros((1, 1, 4, 4))
    with pytest.raises(ValueError, match="only one of size or scale_factor should be defined"):
        F.interpolate(x, size=2, scale_factor=2)
    with pytest.raises(ValueError, match="either size or scale_factor should be defined"):
        F.interpolate(x)
    with pytest.raises(ValueError, match="align_corners option can only be set with the "
                                         "interpolating modes"):
        F.interpolate(x, scale_factor=2, align_corners=True)
    with pytest.raises(NotImplementedError, match="Got 4D input, but linear mode needs 3D input"):
        F.interpolate(x, scale_factor=2, mode="linear")
    with pytest.raises(NotImplementedError, match=r"Only 3D, 4D and 5D input Tensors supported "
                                                  r"\(got 3D\) .* \(got bicubic\)"):
        F.interpolate(x[0], scale_factor=2, mode="bicubic")
    with pytest.raises(NotImplementedError, match="antialias=True is not supported"):
        F.interpolate(x, scale_factor=2, mode="bicubic", antialias=True)
    with pytest.raises(ValueError, match=r"Input and output must have the same number of "
                                         r"spatial dimensions, but got input with spatial "
                                         r"dimensions of \[4, 4\] and output size of \(2, 2, 2\)"):
        F.interpolate(x, size=(2, 2, 2))
    with pytest.raises(RuntimeError, match=r"Input and output sizes should be greater than 0, "
                                           r"but got input \(H: 4, W: 4\) output \(H: 0, W: 0\)"):
        F.interpolate(x, scale_factor=0.1)
