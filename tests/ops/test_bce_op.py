"""``binary_cross_entropy`` of CPU tensors is one op (``ops/bce.py``) with PyTorch's derivatives:
finite (±~1e12, never nan) at probabilities of exactly 0 and 1, PyTorch's values at first and
second order there and inside (0, 1), for the probabilities and the targets, with weights and
every reduction; finite differences to the third order, forward mode and vmap."""

import warnings

import numpy as np
import pytest

import tapegrad as tg

F = tg.nn.functional
P = [0.0, 1.0, 0.0, 1.0, 1e-10, 0.3, 0.5, 1.0 - 1e-9]
T = [0.0, 1.0, 1.0, 0.0, 0.0, 0.7, 0.2, 1.0]


def _derivatives(L, p, t, reduction, weight=None, target_grad=True, dtype=np.float64):
    x = L.tensor(np.array(p, dtype), requires_grad=True)
    y = L.tensor(np.array(t, dtype), requires_grad=target_grad)
    kw = {} if weight is None else {"weight": L.tensor(np.array(weight, dtype))}
    loss = L.nn.functional.binary_cross_entropy(x, y, reduction=reduction, **kw)
    ins = (x, y) if target_grad else (x,)
    grads = L.autograd.grad(loss.sum(), ins, create_graph=True)
    w = L.tensor(np.arange(1.0, len(p) + 1).astype(dtype))
    second = L.autograd.grad((grads[0] * w).sum(), ins)
    return [a.detach().numpy() for a in (loss,) + grads + second]


@pytest.mark.parametrize("reduction,weight,target_grad", [
    ("sum", None, True), ("mean", [1, 2, 3, 4, 5, 6, 7, 8], True), ("none", None, False)])
def test_pytorchs_values_and_derivatives_at_zero_one_and_inside(reduction, weight, target_grad):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (no divide-by-zero warnings at 0 and 1)
        ours = _derivatives(tg, P, T, reduction, weight, target_grad)
    assert not any(np.isnan(a).any() for a in ours)
    # (x = 0 at target 1: -1 / PyTorch's bound, the float 1e-12; weighted and averaged)
    bound = float(np.float32(1e-12))
    assert ours[1][2] == pytest.approx(-1.0 / bound * (3 / 8 if weight else 1), rel=1e-15)
    torch = pytest.importorskip("torch")
    theirs = _derivatives(torch, P, T, reduction, weight, target_grad)
    for a, c in zip(ours, theirs):
        np.testing.assert_allclose(a, c, rtol=1e-12, atol=0)


def test_float32_saturated_sigmoid_gets_a_zero_gradient_not_nan():
    z0 = np.array([20.0, -120.0, 0.5], np.float32)
    z = tg.tensor(z0, requires_grad=True)
    F.binary_cross_entropy(tg.sigmoid(z), tg.tensor(np.array([1.0, 0.0, 1.0], np.float32))
                           ).backward()
    assert z.grad.dtype == tg.float32
    np.testing.assert_array_equal(z.grad.numpy()[:2], [0.0, 0.0])
    torch = pytest.importorskip("torch")
    zt = torch.tensor(z0, requires_grad=True)
    torch.nn.functional.binary_cross_entropy(torch.sigmoid(zt), torch.tensor(
        np.array([1.0, 0.0, 1.0], np.float32))).backward()
    np.testing.assert_allclose(z.grad.numpy(), zt.grad.numpy(), rtol=1e-6)
    ours = _derivatives(tg, P[:7], T[:7], "mean", dtype=np.float32)
    theirs = _derivatives(torch, P[:7], T[:7], "mean", dtype=np.float32)
    for a, c in zip(ours, theirs):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, c, rtol=2e-6)


def test_finite_differences_to_the_third_order_and_forward_mode():
    r = np.random.default_rng(7)
    x = tg.tensor(r.uniform(0.05, 0.95, (3, 4)), requires_grad=True)
    t = tg.tensor(r.uniform(size=(3, 4)), requires_grad=True)
    w = tg.tensor(r.uniform(0.5, 2.0, (3, 4)))

    def f(a, b):
        return F.binary_cross_entropy(a, b, weight=w)

    assert tg.autograd.gradcheck(f, (x, t)) and tg.autograd.gradgradcheck(f, (x, t))
    g = tg.tensor(r.standard_normal((3, 4)), requires_grad=True)
    from tapegrad.ops.bce import bce_backward  # the first derivative's op, differentiated

    assert tg.autograd.gradcheck(bce_backward, (g, x, t))
    assert tg.autograd.gradgradcheck(bce_backward, (g, x, t))
    for fn in (f, lambda a, b: F.binary_cross_entropy(a, b, reduction="none")):
        fwd = tg.func.jacfwd(fn, argnums=(0, 1))(x.detach(), t.detach())
        rev = tg.func.jacrev(fn, argnums=(0, 1))(x.detach(), t.detach())
        for a, c in zip(fwd, rev):
            np.testing.assert_allclose(a.numpy(), c.numpy(), rtol=1e-12)


def test_one_record_and_vmap():
    r = np.random.default_rng(8)
    p, t = r.uniform(0.01, 0.99, (4, 5)), r.uniform(size=(4, 5))
    x = tg.tensor(p, requires_grad=True)
    loss = F.binary_cross_entropy(x, tg.tensor(t), reduction="none")
    assert type(loss.grad_fn).__name__ == "BinaryCrossEntropyBackward0"
    want = (t - 1) * np.log1p(-p) - t * np.log(p)
    np.testing.assert_allclose(loss.detach().numpy(), want, rtol=1e-15)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # its batching rule: no loop over the examples
        rows = tg.func.vmap(lambda a, b: F.binary_cross_entropy(a, b))(tg.tensor(p),
                                                                       tg.tensor(t))
    np.testing.assert_allclose(rows.numpy(), want.mean(1), rtol=1e-14)


def test_errors_as_pytorchs():
    with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
        F.binary_cross_entropy(tg.tensor([1.5, 0.2]), tg.tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match="Using a target size"):
        F.binary_cross_entropy(tg.tensor([0.5, 0.2]), tg.tensor([1.0]))
