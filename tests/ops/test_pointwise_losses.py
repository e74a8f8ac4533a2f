"""``mse_loss``, ``huber_loss`` and ``smooth_l1_loss`` of CPU float tensors of one shape are one
record per element (``ops/pointwise_losses.py``) before their reduction: PyTorch's values,
first and second derivatives for input and target, special values and the kinks included, at
sizes the compiled sweep handles and at sizes NumPy's formulas do; the composition elsewhere,
with the same numbers."""

import numpy as np
import pytest

import tapegrad as tg
from tests.op_checks import needs_torch, torch

F = tg.nn.functional
LOSSES = {"mse": ("mse_loss", {}, "MseLossBackward0"),
          "huber": ("huber_loss", dict(delta=0.75), "HuberLossBackward0"),
          "huber_1": ("huber_loss", {}, "HuberLossBackward0"),
          "smooth_l1": ("smooth_l1_loss", dict(beta=0.625), "SmoothL1LossBackward0"),
          "smooth_l1_1": ("smooth_l1_loss", {}, "SmoothL1LossBackward0")}


def _data(n, dtype, bound=0.75):
    """Differences exactly at the bounds ``bound`` and 1 (dyadic: exact in float32 too)."""
    r = np.random.default_rng(n)
    x, y = r.standard_normal(n) * 1.5, r.standard_normal(n)
    y[3:8] = 0.5
    x[:8] = [np.nan, np.inf, -np.inf, 0.5, 0.5 + bound, 0.5 - bound, 1.5, -0.5]
    return x.astype(dtype), y.astype(dtype), r.standard_normal(n).astype(dtype)


def _loss(L, name, x, y, **kw):
    fname, options, _ = LOSSES[name]
    return getattr(L.nn.functional, fname)(x, y, **options, **kw)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n", [9, 20000])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", sorted(LOSSES))
def test_one_record_with_pytorchs_values_and_gradients(name, reduction, n, dtype):
    torch = pytest.importorskip("torch")
    x0, y0, w = _data(n, dtype)
    x, y = tg.tensor(x0, requires_grad=True), tg.tensor(y0, requires_grad=True)
    loss = _loss(tg, name, x, y, reduction=reduction)
    node = loss.grad_fn
    while node.next_functions and type(node).__name__ != LOSSES[name][2]:
        node = node.next_functions[0][0]  # (mean: a scale and a sum above it)
    assert type(node).__name__ == LOSSES[name][2]
    with np.errstate(invalid="ignore"):  # (inf - inf, nan in the weighted sum)
        (loss * tg.tensor(w) if reduction == "none" else loss).sum().backward()
    xt, yt = torch.tensor(x0, requires_grad=True), torch.tensor(y0, requires_grad=True)
    lt = _loss(torch, name, xt, yt, reduction=reduction)
    (lt * torch.tensor(w) if reduction == "none" else lt).sum().backward()
    assert loss.dtype == x.grad.dtype == y.grad.dtype == tg.tensor(x0).dtype
    tol = dict(rtol=1e-13, atol=1e-300) if dtype == np.float64 else dict(rtol=3e-6, atol=1e-30)
    for ours, theirs in ((loss.detach(), lt.detach()), (x.grad, xt.grad), (y.grad, yt.grad)):
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), equal_nan=True, **tol)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_second_derivatives_as_pytorchs_also_at_the_kinks(name):
    """Second derivatives of both inputs against PyTorch's double backward, with differences
    exactly at the bounds (where the second derivative is PyTorch's zero) and a NaN."""
    torch = pytest.importorskip("torch")
    x0, y0, w = _data(12, np.float64, bound=LOSSES[name][1].get("delta",
                                                                 LOSSES[name][1].get("beta", 1)))
    x0[:3] = [np.nan, 2.0, -2.0]
    outs = []
    for L in (tg, torch):
        x, y = L.tensor(x0, requires_grad=True), L.tensor(y0, requires_grad=True)
        gx, gy = L.autograd.grad((_loss(L, name, x, y, reduction="none") * L.tensor(w)).sum(),
                                 (x, y), create_graph=True)
        hx, hy = L.autograd.grad((gx * gx + 3.0 * gy).sum(), (x, y))
        outs.append([t.detach().numpy() for t in (gx, gy, hx, hy)])
    for ours, theirs in zip(*outs):
        np.testing.assert_allclose(ours, theirs, rtol=1e-13, atol=1e-300, equal_nan=True)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_gradcheck_and_gradgradcheck(name):
    r = np.random.default_rng(5)
    x = tg.tensor(r.standard_normal((3, 4)) * 1.5, requires_grad=True)
    y = tg.tensor(r.standard_normal((3, 4)), requires_grad=True)
    f = lambda a, b: _loss(tg, name, a, b, reduction="none")  # noqa: E731
    assert tg.autograd.gradcheck(f, (x, y)) and tg.autograd.gradgradcheck(f, (x, y))


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_compositions_elsewhere_give_the_same_numbers(name):
    """A broadcast target, a view, ``tg.compile``'s tracer and vmap's batched tensors take the
    composition: the same values and gradients as the record; forward mode agrees with
    reverse mode."""
    r = np.random.default_rng(8)
    x0, y0 = r.standard_normal((4, 5)) * 1.5, r.standard_normal((4, 5))

    def grads(make_y, f=lambda a, b: _loss(tg, name, a, b)):
        x = tg.tensor(x0, requires_grad=True)
        loss = f(x, make_y())
        loss.backward()
        return loss.item(), x.grad.numpy()

    ref = grads(lambda: tg.tensor(y0))
    view = grads(lambda: tg.tensor(np.concatenate([y0, y0], 1))[:, :5])
    compiled = tg.compile(lambda a, b: _loss(tg, name, a, b))
    traced = grads(lambda: tg.tensor(y0), compiled)
    traced_again = grads(lambda: tg.tensor(y0), compiled)
    for other in (view, traced, traced_again):
        np.testing.assert_allclose(other[0], ref[0], rtol=1e-14)
        np.testing.assert_allclose(other[1], ref[1], rtol=1e-14, atol=1e-300)
    with pytest.warns(UserWarning, match="different to the input size"):
        row = grads(lambda: tg.tensor(y0[:1]))
    x = tg.tensor(x0, requires_grad=True)
    _loss(tg, name, x, tg.tensor(np.broadcast_to(y0[:1], x0.shape).copy())).backward()
    np.testing.assert_allclose(row[1], x.grad.numpy(), rtol=1e-14, atol=1e-300)
    per_row = tg.func.vmap(lambda a, b: _loss(tg, name, a, b, reduction="none"))(
        tg.tensor(x0), tg.tensor(y0))
    np.testing.assert_allclose(per_row.numpy(), _loss(tg, name, tg.tensor(x0), tg.tensor(y0),
                                                       reduction="none").numpy(), rtol=1e-15)
    f = lambda a: _loss(tg, name, a, tg.tensor(y0), reduction="none")  # noqa: E731
    np.testing.assert_allclose(tg.func.jacfwd(f)(tg.tensor(x0)).numpy(),
                               tg.func.jacrev(f)(tg.tensor(x0)).numpy(), rtol=1e-14)


def test_target_alone_requires_grad_and_no_grad_records_nothing():
    torch = pytest.importorskip("torch")
    r = np.random.default_rng(9)
    x0, y0 = r.standard_normal(30), r.standard_normal(30)
    for name in sorted(LOSSES):
        y = tg.tensor(y0, requires_grad=True)
        _loss(tg, name, tg.tensor(x0), y).backward()
        yt = torch.tensor(y0, requires_grad=True)
        _loss(torch, name, torch.tensor(x0), yt).backward()
        np.testing.assert_allclose(y.grad.numpy(), yt.grad.numpy(), rtol=1e-13)
        with tg.no_grad():
            out = _loss(tg, name, tg.tensor(x0, requires_grad=True), y, reduction="none")
        assert out.grad_fn is None and not out.requires_grad


_LOSSES = ("mse_loss", "huber_loss", "smooth_l1_loss")


def _zero_d_loss(L, name, dtype, reduction, a=0.9, b=-0.2):
    x = L.from_numpy(np.array(a, dtype)).requires_grad_()
    y = L.from_numpy(np.array(b, dtype)).requires_grad_()
    loss = getattr(L.nn.functional, name)(x, y, reduction=reduction)
    loss.backward()
    return (tuple(loss.shape), str(loss.dtype).split(".")[-1], loss.item(), x.grad.item(),
            y.grad.item(), loss.grad_fn.name())


@pytest.mark.parametrize("name", _LOSSES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_pointwise_losses_of_zero_d_arrays(name, dtype, reduction):
    shape, dt, value, gx, gy, node = _zero_d_loss(tg, name, dtype, reduction, 0.5, 0.25)
    assert shape == () and dt == np.dtype(dtype).name
    assert node in ("MseLossBackward0", "HuberLossBackward0", "SmoothL1LossBackward0")
    d = 0.25  # below huber's delta and smooth_l1's beta: both are 0.5 d^2 there
    assert value == pytest.approx(d * d if name == "mse_loss" else 0.5 * d * d)
    assert gx == pytest.approx(2 * d if name == "mse_loss" else d) == -gy


@needs_torch
@pytest.mark.parametrize("name", _LOSSES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["none", "mean"])
def test_pointwise_losses_of_zero_d_arrays_match_torch(name, dtype, reduction):
    for a, b in ((0.9, -0.2), (0.1, 0.3)):
        assert _zero_d_loss(tg, name, dtype, reduction, a, b) == \
            _zero_d_loss(torch, name, dtype, reduction, a, b)
