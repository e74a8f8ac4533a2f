"""``logsumexp`` of CPU float arrays is one op (``ops/fused_softmax.py``): values bit for bit
those of the composition it replaces, PyTorch's gradient (``grad * exp(x - result)``) and node
name, tangents, higher orders and batching."""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.ops.reduce import composed_logsumexp

CASES = [((6,), 0), ((6,), None), ((4, 7), 1), ((4, 7), 0), ((4, 7), (0, 1)), ((3, 4, 5), -1),
         ((3, 4, 5), (0, 2)), ((3, 4, 5), (1, 2)), ((1000, 25), 1), ((25, 1000), 0),
         ((300, 500), 1)]


def _dims(shape, dim):
    if dim is None:
        return tuple(range(len(shape)))
    return tuple(sorted(d % len(shape) for d in ((dim,) if type(dim) is int else dim)))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape,dim", CASES)
@pytest.mark.parametrize("keepdim", [False, True])
def test_values_are_the_compositions_and_gradients_pytorchs(shape, dim, keepdim, dtype):
    r = np.random.default_rng(sum(shape) + (0 if dim is None else len(str(dim))))
    x0 = (r.standard_normal(shape) * 4).astype(dtype)
    x = tg.tensor(x0, requires_grad=True)
    y = tg.logsumexp(x, dim, keepdim=keepdim)
    assert type(y.grad_fn).__name__ == "LogsumexpBackward0" and y.dtype == dtype
    want = composed_logsumexp(tg.tensor(x0), _dims(shape, dim), keepdim)
    assert y.shape == want.shape
    np.testing.assert_array_equal(y.detach().numpy(), want.numpy())
    with tg.no_grad():  # the same value without a record
        np.testing.assert_array_equal(tg.logsumexp(x, dim, keepdim=keepdim).numpy(), want.numpy())
    w = r.standard_normal(y.shape).astype(dtype)
    (y * tg.tensor(w)).sum().backward()
    xc = tg.tensor(x0, requires_grad=True)  # the composition's gradient
    (composed_logsumexp(xc, _dims(shape, dim), keepdim) * tg.tensor(w)).sum().backward()
    tol = dict(rtol=1e-12, atol=1e-14) if dtype == np.float64 else dict(rtol=2e-5, atol=2e-6)
    np.testing.assert_allclose(x.grad.numpy(), xc.grad.numpy(), **tol)
    torch = pytest.importorskip("torch")
    xt = torch.tensor(x0, requires_grad=True)
    yt = torch.logsumexp(xt, tuple(range(len(shape))) if dim is None else dim, keepdim=keepdim)
    (yt * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), **tol)
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), **tol)


def test_infinite_and_nan_rows_as_the_composition_and_pytorch():
    x0 = np.array([[0.0, -np.inf, 1.0], [-np.inf, -np.inf, -np.inf], [np.inf, 0.0, 1.0],
                   [np.nan, 0.0, 1.0], [1e308, 1e308, 0.0]])
    x = tg.tensor(x0, requires_grad=True)
    with np.errstate(invalid="ignore", over="ignore"):
        y = tg.logsumexp(x, 1)
        np.testing.assert_array_equal(y.detach().numpy(),
                                      composed_logsumexp(tg.tensor(x0), (1,), False).numpy())
        y.sum().backward()
    torch = pytest.importorskip("torch")
    xt = torch.tensor(x0, requires_grad=True)
    torch.logsumexp(xt, 1).sum().backward()
    np.testing.assert_array_equal(y.detach().numpy(), torch.logsumexp(xt, 1).detach().numpy())
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-15, equal_nan=True)


def test_gradient_along_a_direction_matches_finite_differences_at_every_order():
    r = np.random.default_rng(1)
    x0, v = r.standard_normal((5, 6)), r.standard_normal((5, 6))
    for dim, keepdim in ((1, False), (0, True), ((0, 1), False)):
        w = r.standard_normal(tg.logsumexp(tg.tensor(x0), dim, keepdim=keepdim).shape)

        def f(a):
            return (tg.logsumexp(a, dim, keepdim=keepdim) * tg.tensor(w)).sum()

        x = tg.tensor(x0, requires_grad=True)
        f(x).backward()
        h = 1e-6
        fd = (f(tg.tensor(x0 + h * v)).item() - f(tg.tensor(x0 - h * v)).item()) / (2 * h)
        assert float(np.sum(x.grad.numpy() * v)) == pytest.approx(fd, rel=1e-7)
        args = (tg.tensor(x0, requires_grad=True),)
        assert tg.autograd.gradcheck(lambda t: tg.logsumexp(t, dim, keepdim=keepdim), args)
        assert tg.autograd.gradgradcheck(lambda t: tg.logsumexp(t, dim, keepdim=keepdim), args)


def test_second_order_matches_pytorch():
    torch = pytest.importorskip("torch")
    r = np.random.default_rng(3)
    x0, v = r.standard_normal((4, 5)), r.standard_normal((4, 5))
    x = tg.tensor(x0, requires_grad=True)
    (g,) = tg.autograd.grad(tg.logsumexp(x * x, 1).sum(), x, create_graph=True)
    (hv,) = tg.autograd.grad(g, x, tg.tensor(v))
    xt = torch.tensor(x0, requires_grad=True)
    (gt,) = torch.autograd.grad(torch.logsumexp(xt * xt, 1).sum(), xt, create_graph=True)
    (hvt,) = torch.autograd.grad(gt, xt, torch.tensor(v))
    np.testing.assert_allclose(hv.numpy(), hvt.numpy(), rtol=1e-12, atol=1e-14)


def test_tangents_and_batching():
    r = np.random.default_rng(2)
    x0, t0 = r.standard_normal((4, 5)), r.standard_normal((4, 5))
    for dim, keepdim in ((1, False), (1, True), ((0, 1), False)):
        def f(a):
            return tg.logsumexp(a, dim, keepdim=keepdim)

        _, tangent = tg.func.jvp(f, (tg.tensor(x0),), (tg.tensor(t0),))
        h = 1e-6
        fd = (f(tg.tensor(x0 + h * t0)).numpy() - f(tg.tensor(x0 - h * t0)).numpy()) / (2 * h)
        np.testing.assert_allclose(tangent.numpy(), fd, rtol=1e-6, atol=1e-8)
    batched = tg.func.vmap(lambda row: tg.logsumexp(row, 0))(tg.tensor(x0))
    np.testing.assert_array_equal(batched.numpy(), tg.logsumexp(tg.tensor(x0), 1).numpy())


def test_other_inputs_keep_the_composition():
    x = tg.tensor(np.arange(6.0).reshape(2, 3).astype(np.float16), requires_grad=True)
    assert type(tg.logsumexp(x, 1).grad_fn).__name__ != "LogsumexpBackward0"
    i = tg.logsumexp(tg.tensor([[1, 2], [3, 4]]), 1)  # integers: float64, as PyTorch
    assert i.dtype == np.float64
    np.testing.assert_allclose(i.numpy(), np.log(np.exp([1, 3]) + np.exp([2, 4])), rtol=1e-15)
