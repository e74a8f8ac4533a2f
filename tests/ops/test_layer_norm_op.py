"""``layer_norm`` of CPU float tensors is one record (``ops/layer_norm.py``), as PyTorch's
``NativeLayerNormBackward0``: PyTorch's values and gradients with and without the affine
parameters, over one and two normalized dims, both float dtypes, each subset of inputs
requiring grad; finite differences at first and second order, forward mode, vmap and the
composition (CUDA's, the tracer's) with the same numbers."""

import numpy as np
import pytest

import tapegrad as tg
from op_checks import check_forward_equals_reverse

F = tg.nn.functional
RNG = np.random.default_rng(12)
SHAPES = [((6, 8), (8,)), ((2, 3, 4, 5), (4, 5)), ((5,), (5,)), ((3, 200), (200,))]


def _grads(L, x0, ns, w0, b0, g0, needs):
    x = L.tensor(x0, requires_grad=bool(needs[0]))
    w = None if w0 is None else L.tensor(w0, requires_grad=bool(needs[1]))
    b = None if b0 is None else L.tensor(b0, requires_grad=bool(needs[2]))
    y = L.nn.functional.layer_norm(x, ns, w, b, 1e-5)
    (y * L.tensor(g0)).sum().backward()
    return y, [None if t is None or t.grad is None else t.grad.numpy() for t in (x, w, b)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("affine", [(True, True), (True, False), (False, True), (False, False)])
@pytest.mark.parametrize("shape,ns", SHAPES)
def test_one_record_with_pytorchs_values_and_gradients(shape, ns, affine, dtype):
    x0, g0 = (RNG.standard_normal(shape) * 3 + 1).astype(dtype), RNG.standard_normal(shape)
    w0 = RNG.standard_normal(ns).astype(dtype) if affine[0] else None
    b0 = RNG.standard_normal(ns).astype(dtype) if affine[1] else None
    g0 = g0.astype(dtype)
    y, grads = _grads(tg, x0, ns, w0, b0, g0, (1, 1, 1))
    assert type(y.grad_fn).__name__ == "NativeLayerNormBackward0"
    assert y.dtype == dtype and all(g is None or g.dtype == dtype for g in grads)
    # against the formula in float64
    x2 = x0.astype(np.float64).reshape(-1, int(np.prod(ns)))
    xhat = ((x2 - x2.mean(1, keepdims=True)) / np.sqrt(x2.var(1, keepdims=True) + 1e-5))
    want = xhat * (1.0 if w0 is None else w0.reshape(-1)) + (0.0 if b0 is None else b0.reshape(-1))
    tol = dict(rtol=1e-12, atol=1e-12) if dtype == np.float64 else dict(rtol=2e-5, atol=2e-5)
    np.testing.assert_allclose(y.detach().numpy(), want.reshape(shape), **tol)
    torch = pytest.importorskip("torch")
    yt, grads_t = _grads(torch, x0, ns, w0, b0, g0, (1, 1, 1))
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), **tol)
    for a, c in zip(grads, grads_t):
        assert (a is None) == (c is None)
        if a is not None:
            np.testing.assert_allclose(a, c, **tol)


@pytest.mark.parametrize("needs", [(0, 1, 1), (1, 0, 0), (0, 0, 1), (0, 1, 0)])
def test_inputs_that_need_no_gradient_get_none(needs):
    x0, g0 = RNG.standard_normal((4, 6)), RNG.standard_normal((4, 6))
    w0, b0 = RNG.standard_normal(6), RNG.standard_normal(6)
    _, grads = _grads(tg, x0, (6,), w0, b0, g0, needs)
    _, full = _grads(tg, x0, (6,), w0, b0, g0, (1, 1, 1))
    for n, a, c in zip(needs, grads, full):
        if n:
            np.testing.assert_array_equal(a, c)
        else:
            assert a is None


def test_first_and_second_order_and_forward_mode():
    x0, w0, b0 = RNG.standard_normal((3, 4)), RNG.standard_normal(4), RNG.standard_normal(4)
    ts = tuple(tg.tensor(a, requires_grad=True) for a in (x0, w0, b0))

    def f(x, w, b):
        return F.layer_norm(x, (4,), w, b)

    assert tg.autograd.gradcheck(f, ts)
    assert tg.autograd.gradgradcheck(f, ts)
    assert tg.autograd.gradgradcheck(lambda x: F.layer_norm(x, (4,)) ** 3, ts[:1])
    plain = tuple(t.detach() for t in ts)
    check_forward_equals_reverse(f, plain, (0, 1, 2, (0, 1, 2)))
    rows = tg.vmap(lambda r: F.layer_norm(r, (4,), plain[1], plain[2]))(plain[0])
    np.testing.assert_allclose(rows.numpy(), f(*plain).numpy(), rtol=1e-13, atol=1e-15)


def test_second_derivatives_match_pytorchs():
    torch = pytest.importorskip("torch")
    x0, w0, b0 = RNG.standard_normal((3, 5)), RNG.standard_normal(5), RNG.standard_normal(5)
    res = []
    for L in (tg, torch):
        x, w, b = (L.tensor(a, requires_grad=True) for a in (x0, w0, b0))
        y = (L.nn.functional.layer_norm(x, (5,), w, b) ** 3).sum()
        gx, gw = L.autograd.grad(y, (x, w), create_graph=True)
        res.append([a.detach().numpy() for a in
                    L.autograd.grad((gx ** 2).sum() + (gw ** 2).sum(), (x, w, b))])
    for a, c in zip(*res):
        np.testing.assert_allclose(a, c, rtol=1e-10, atol=1e-12)


def test_module_under_the_tracer_and_bad_shapes():
    ln = tg.nn.LayerNorm(4).double()
    x0 = RNG.standard_normal((3, 4))
    assert type(ln(tg.tensor(x0)).grad_fn).__name__ == "NativeLayerNormBackward0"
    step = tg.compile(lambda x: (ln(x) ** 2).sum())
    x = tg.tensor(x0, requires_grad=True)
    step(x).backward()
    x2 = tg.tensor(x0, requires_grad=True)
    (ln(x2) ** 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), x2.grad.numpy(), rtol=1e-12, atol=1e-14)
    with pytest.raises(RuntimeError, match=r"Given normalized_shape=\[5\], expected input"):
        F.layer_norm(tg.tensor(x0), (5,))
