"""``nll_loss`` of a CPU (N, C) input is one op (``ops/nll.py``): the composition's values bit
for bit (the same loss of an (N, C, 1) input still takes the composition), PyTorch's gradients
for every reduction, weights and ignored targets, tangents, and nan with a zero gradient where
nothing is left to average."""

import numpy as np
import pytest

import tapegrad as tg

F = tg.nn.functional
CASES = [(r, w, ig) for r in ("mean", "sum", "none") for w in (False, True) for ig in (-100, 2)]


def _loss(L, x, t, weight, ignore, reduction, through=False):
    if through:  # (N, C, 1): the composition of ops
        x, t = x.reshape(x.shape + (1,)), t.reshape(t.shape + (1,))
    y = L.nn.functional.cross_entropy(x, t, weight=weight, ignore_index=ignore,
                                      reduction=reduction)
    return y.reshape(-1) if through and reduction == "none" else y


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("reduction,weighted,ignore", CASES)
def test_one_op_gives_the_compositions_values_and_pytorchs_gradients(reduction, weighted,
                                                                     ignore, dtype):
    r = np.random.default_rng(7)
    x0 = r.standard_normal((9, 5)).astype(dtype)
    t0 = r.integers(0, 5, 9)
    t0[:2] = 2
    w0 = r.random(5).astype(dtype) if weighted else None
    v = np.arange(1.0, 10.0, dtype=dtype)
    grads = []
    for through in (False, True):
        x = tg.tensor(x0, requires_grad=True)
        y = _loss(tg, x, tg.tensor(t0), None if w0 is None else tg.tensor(w0), ignore,
                  reduction, through)
        assert through or type(y.grad_fn).__name__ == "NllLossBackward0"
        (y * tg.tensor(v)).sum().backward() if reduction == "none" else y.backward()
        grads.append((y.detach().numpy(), x.grad.numpy()))
    np.testing.assert_array_equal(grads[0][0], grads[1][0])
    np.testing.assert_array_equal(grads[0][1], grads[1][1])
    torch = pytest.importorskip("torch")
    xt = torch.tensor(x0, requires_grad=True)
    yt = _loss(torch, xt, torch.tensor(t0), None if w0 is None else torch.tensor(w0), ignore,
               reduction)
    (yt * torch.tensor(v)).sum().backward() if reduction == "none" else yt.backward()
    tol = dict(rtol=1e-12, atol=1e-15) if dtype == np.float64 else dict(rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(grads[0][0], yt.detach().numpy(), **tol)
    np.testing.assert_allclose(grads[0][1], xt.grad.numpy(), **tol)


def test_nothing_to_average_is_nan_with_a_zero_gradient():
    x = tg.tensor(np.ones((3, 4)), requires_grad=True)
    y = F.nll_loss(x, tg.tensor([1, 1, 1]), ignore_index=1)
    assert np.isnan(y.item())
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((3, 4)))


def test_tangents_and_second_order():
    r = np.random.default_rng(3)
    x0, t0 = r.standard_normal((6, 4)), r.standard_normal((6, 4))
    tg_t = tg.tensor([3, 0, 1, 1, 2, 0])
    for reduction in ("mean", "sum", "none"):
        def f(a):
            return F.nll_loss(tg.log_softmax(a, 1), tg_t, reduction=reduction)
        _, tangent = tg.func.jvp(f, (tg.tensor(x0),), (tg.tensor(t0),))
        h = 1e-6
        fd = (f(tg.tensor(x0 + h * t0)).numpy() - f(tg.tensor(x0 - h * t0)).numpy()) / (2 * h)
        np.testing.assert_allclose(tangent.numpy(), fd, rtol=1e-6, atol=1e-9)
        assert tg.autograd.gradgradcheck(f, (tg.tensor(x0, requires_grad=True),))


def test_targets_out_of_range_and_weights_of_another_dtype():
    x = tg.tensor(np.zeros((3, 4), np.float32), requires_grad=True)
    for bad in (4, -1, -101):
        with pytest.raises(IndexError, match=f"Target {bad} is out of bounds."):
            F.nll_loss(x, tg.tensor([0, bad, 1]))
    # an ignored target may be any value, in range or not; float64 weights for a float32 input
    y = F.nll_loss(x - tg.tensor(np.arange(4.0, dtype=np.float32)), tg.tensor([3, 1, 1]),
                   weight=tg.tensor([1.0, 2.0, 3.0, 4.0]), ignore_index=1)
    assert y.dtype == np.float32 and y.item() == 3.0
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy()[:, 3], [-1.0, 0.0, 0.0])


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("shape", [(4, 5, 6), (3, 5, 2, 4)])
def test_cross_entropy_over_class_dim_1_as_pytorch_with_second_order(shape, reduction):
    """(N, C, d1...) with integer targets: log_softmax and the loss on the rows, the 'none'
    loss in the targets' shape (no reshape recorded after); PyTorch's values, first and
    second derivatives, an ignored target among them."""
    torch = pytest.importorskip("torch")
    r = np.random.default_rng(5)
    x0 = r.standard_normal(shape)
    t0 = r.integers(0, shape[1], (shape[0],) + shape[2:])
    t0.reshape(-1)[1] = -100
    res = []
    for L in (tg, torch):
        x = L.tensor(x0, requires_grad=True)
        y = L.nn.functional.cross_entropy(x, L.tensor(t0), reduction=reduction)
        g = L.tensor(np.arange(1.0, 1.0 + y.numel()).reshape(tuple(y.shape)))
        gx = L.autograd.grad(y, x, g, create_graph=True)[0]
        res.append([y.detach().numpy(), gx.detach().numpy(),
                    L.autograd.grad((gx ** 2).sum(), x)[0].numpy()])
    for a, c in zip(*res):
        assert a.shape == c.shape
        np.testing.assert_allclose(a, c, rtol=1e-10, atol=1e-12)
