"""Values and derivatives at the edges PyTorch defines: logit at 0, 1 and outside, logaddexp
with infinities, clamp with NaN tensor bounds, lerp at weight 1 and infinities, lgamma(-inf)."""

import numpy as np
import pytest

import tapegrad as tg


def _grads(f, *values):
    xs = [tg.tensor(v, requires_grad=True) for v in values]
    out = f(*xs)
    out.sum().backward()
    return out.detach().numpy(), [x.grad.numpy() for x in xs]


def test_logit_derivative_at_and_outside_the_edges():
    out, (g,) = _grads(tg.logit, np.array([0.0, 1.0, -1.0, 2.0, 0.25]))
    np.testing.assert_array_equal(g[:2], [np.inf, np.inf])
    assert np.isnan(g[2:4]).all() and np.isnan(out[2:4]).all()
    assert g[4] == pytest.approx(1 / (0.25 * 0.75))


def test_logaddexp_with_infinities():
    x = np.array([np.inf, -np.inf, 1.0, np.inf, 2.0])
    y = np.array([1.0, 1.0, np.inf, np.inf, 2.0])
    for f, ln2 in ((tg.logaddexp, 1.0), (tg.logaddexp2, np.log(2.0))):
        out, (gx, gy) = _grads(f, x, y)
        np.testing.assert_allclose(out[:4], [np.inf, 1.0, np.inf, np.inf])
        np.testing.assert_allclose(gx[[0, 1, 2, 4]], [1.0, 0.0, 0.0, 0.5])
        np.testing.assert_allclose(gy[[0, 1, 2, 4]], [0.0, 1.0, 1.0, 0.5])


def test_clamp_nan_tensor_bound_lerp_and_lgamma():
    nan = tg.tensor([np.nan])
    assert np.isnan(tg.clamp(tg.tensor([0.5]), min=nan).numpy()).all()
    assert np.isnan(tg.clamp(tg.tensor([0.5]), max=nan).numpy()).all()
    np.testing.assert_array_equal(tg.clamp(tg.tensor([0.5, 2.0]), min=tg.tensor([1.0, 1.0]),
                                           max=tg.tensor([1.5, 1.5])).numpy(), [1.0, 1.5])
    assert tg.lerp(tg.tensor([1e17]), tg.tensor([3.0]), 1.0).item() == 3.0
    assert tg.lerp(tg.tensor([np.inf]), tg.tensor([1.0]), 0.7).item() == np.inf
    w = tg.tensor([0.2, 0.9])
    np.testing.assert_allclose(tg.lerp(tg.tensor([0.0, 0.0]), tg.tensor([10.0, 10.0]), w)
                               .numpy(), [2.0, 9.0])
    assert tg.lgamma(tg.tensor(-np.inf)).item() == np.inf
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    a, b, c = rng.standard_normal(50), rng.standard_normal(50), rng.random(50)
    _, ours = _grads(tg.lerp, a, b, c)
    ts = [torch.tensor(v, requires_grad=True) for v in (a, b, c)]
    torch.lerp(*ts).sum().backward()
    for g, t in zip(ours, ts):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-14)



@pytest.mark.parametrize("which", ["min", "max"])
def test_clamp_by_one_tensor_bound_gives_no_gradient_at_nan(which):
    """PyTorch's rule for one tensor bound: x's gradient where x >= min (x <= max), the
    bound's where x < min (x > max), neither where x or the bound is NaN (was: the whole
    gradient to one of them); float32 stays float32 beside a 0-d float64 bound."""
    x0 = np.array([np.nan, 1.0, -1.0, 0.0, 0.5, np.inf, -np.inf, np.nan])
    b0 = np.array([0.0, np.nan, 0.0, 0.0, 0.0, 0.0, 0.0, np.nan])
    x, b = tg.tensor(x0, requires_grad=True), tg.tensor(b0, requires_grad=True)
    for out in (tg.clamp(x, **{which: b}), getattr(x, f"clamp_{which}")(b)):
        gx, gb = tg.autograd.grad((out * tg.arange(8.0)).sum(), (x, b))
        clipped = np.maximum(x0, b0) if which == "min" else np.minimum(x0, b0)
        np.testing.assert_array_equal(out.detach().numpy(), clipped)
        with np.errstate(invalid="ignore"):
            keep = x0 >= b0 if which == "min" else x0 <= b0
            take = x0 < b0 if which == "min" else x0 > b0
        np.testing.assert_array_equal(gx.numpy(), np.where(keep, np.arange(8.0), 0.0))
        np.testing.assert_array_equal(gb.numpy(), np.where(take, np.arange(8.0), 0.0))
    x32 = tg.tensor([0.1, 0.5], dtype=tg.float32, requires_grad=True)
    assert tg.clamp(x32, **{which: tg.tensor(0.2)}).dtype == np.float32
    xg = tg.tensor([0.3, -1.2, 2.0], requires_grad=True)
    bg = tg.tensor([0.1, 0.4, 1.0], requires_grad=True)
    assert tg.autograd.gradcheck(lambda x, b: tg.clamp(x, **{which: b}), (xg, bg))

def test_cummax_cummin_take_the_latest_nan():
    x = tg.tensor([1.0, np.nan, 3.0, np.nan], requires_grad=True)
    values, indices = tg.cummax(x, 0)
    assert indices.tolist() == [0, 1, 1, 3]  # (PyTorch's: each NaN becomes the extreme)
    values.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 2.0, 0.0, 1.0])
    torch = pytest.importorskip("torch")
    v = np.random.default_rng(1).choice([1.0, 2.0, np.nan, -1.0], size=(4, 7))
    for name in ("cummax", "cummin"):
        for dim in (0, 1):
            a, b = getattr(torch, name)(torch.tensor(v), dim), getattr(tg, name)(tg.tensor(v), dim)
            assert a.indices.tolist() == b.indices.tolist()


@pytest.mark.parametrize("dtype,big,tiny", [(np.float64, 1e300, 1e-300),
                                            (np.float32, 1e30, 1e-30)])
def test_hypot_neither_overflows_nor_underflows(dtype, big, tiny):
    """hypot of values whose squares overflow or underflow (NumPy's ``np.hypot`` too): the
    value, and the derivatives ``x / hypot`` and ``y**2 / hypot**3``, of the right size."""
    x0 = np.array([big, tiny, -3 * big, 3.0], dtype)
    y0 = np.array([big, tiny, 4 * big, 4.0], dtype)
    h = np.hypot(x0.astype(np.float64), y0.astype(np.float64))
    for f in (tg.hypot, np.hypot):
        x, y = tg.tensor(x0, requires_grad=True), tg.tensor(y0, requires_grad=True)
        out = f(x, y)
        gx, gy = tg.autograd.grad(out.sum(), (x, y), create_graph=True)
        gxx, = tg.autograd.grad(gx.sum(), x)
        assert out.dtype == dtype and gx.dtype == dtype
        np.testing.assert_allclose(out.detach().numpy(), h, rtol=1e-6)
        np.testing.assert_allclose(gx.detach().numpy(), x0 / h, rtol=1e-6)
        np.testing.assert_allclose(gy.detach().numpy(), y0 / h, rtol=1e-6)
        np.testing.assert_allclose(gxx.numpy(), (y0.astype(np.float64) / h) ** 2 / h,
                                   rtol=1e-5)
    x = tg.tensor([0.3, -1.2, 0.0], requires_grad=True)
    y = tg.tensor([0.5, 0.1, 2.0], requires_grad=True)
    assert tg.autograd.gradcheck(tg.hypot, (x, y))
    assert tg.autograd.gradgradcheck(tg.hypot, (x, y))


def test_hypot_at_the_origin_infinities_and_nan_as_pytorch():
    """PyTorch's ``x / hypot``: nan at the origin and for an infinite input, 0 for a finite
    one beside an infinity."""
    out, (gx, gy) = _grads(tg.hypot, np.array([0.0, np.inf, 2.0, np.nan]),
                           np.array([0.0, 1.0, -np.inf, 1.0]))
    np.testing.assert_array_equal(out, [0.0, np.inf, np.inf, np.nan])
    np.testing.assert_array_equal(gx, [np.nan, np.nan, 0.0, np.nan])
    np.testing.assert_array_equal(gy, [np.nan, 0.0, np.nan, np.nan])
