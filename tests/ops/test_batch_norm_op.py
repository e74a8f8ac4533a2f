"""``batch_norm`` of CPU float tensors is one record (``ops/batch_norm.py``), as PyTorch's
``NativeBatchNormBackward0``: PyTorch's values, gradients and running statistics in training and
evaluation, with and without the affine parameters, for (N, C), (N, C, L) and (N, C, H, W)
inputs in both float dtypes, each subset of inputs requiring grad; finite differences at first
and second order, PyTorch's second derivatives, forward mode and the composition (the tracer's,
a running statistic that requires grad) with the same numbers."""

import numpy as np
import pytest

import tapegrad as tg
from op_checks import check_forward_equals_reverse

F = tg.nn.functional
RNG = np.random.default_rng(21)
SHAPES = [(16, 5), (4, 3, 7), (3, 4, 5, 6), (2, 1)]


def _running(c, dtype):
    r = np.random.default_rng(c)
    return r.standard_normal(c).astype(dtype), r.uniform(0.5, 2.0, c).astype(dtype)


def _run(L, x0, w0, b0, g0, training, needs=(1, 1, 1), stats=True, momentum=0.1):
    c = x0.shape[1]
    x = L.tensor(x0, requires_grad=bool(needs[0]))
    w = None if w0 is None else L.tensor(w0, requires_grad=bool(needs[1]))
    b = None if b0 is None else L.tensor(b0, requires_grad=bool(needs[2]))
    rm, rv = (L.tensor(s) for s in _running(c, x0.dtype)) if stats else (None, None)
    y = L.nn.functional.batch_norm(x, rm, rv, w, b, training, momentum, 1e-5)
    (y * L.tensor(g0)).sum().backward()
    grads = [None if t is None or t.grad is None else t.grad.numpy() for t in (x, w, b)]
    return y, grads, [None if t is None else t.numpy() for t in (rm, rv)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", SHAPES)
def test_one_record_with_pytorchs_values_gradients_and_running_statistics(shape, training,
                                                                           affine, dtype):
    if training and shape == (2, 1):
        shape = (3, 2)  # (two values per channel at least)
    x0 = (RNG.standard_normal(shape) * 3 + 1).astype(dtype)
    g0 = RNG.standard_normal(shape).astype(dtype)
    w0 = RNG.standard_normal(shape[1]).astype(dtype) if affine else None
    b0 = RNG.standard_normal(shape[1]).astype(dtype) if affine else None
    y, grads, stats = _run(tg, x0, w0, b0, g0, training)
    assert type(y.grad_fn).__name__ == "NativeBatchNormBackward0"
    assert y.dtype == dtype and all(g is None or g.dtype == dtype for g in grads)
    # the output against the formula in float64
    dims = (0,) + tuple(range(2, len(shape)))
    x64 = x0.astype(np.float64)
    view = (1, -1) + (1,) * (len(shape) - 2)
    if training:
        mean, var = x64.mean(dims, keepdims=True), x64.var(dims, keepdims=True)
    else:
        mean, var = (s.astype(np.float64).reshape(view) for s in _running(shape[1], dtype))
    want = (x64 - mean) / np.sqrt(var + 1e-5)
    if affine:
        want = want * w0.reshape(view) + b0.reshape(view)
    tol = dict(rtol=1e-12, atol=1e-12) if dtype == np.float64 else dict(rtol=3e-5, atol=3e-5)
    np.testing.assert_allclose(y.detach().numpy(), want, **tol)
    torch = pytest.importorskip("torch")
    yt, grads_t, stats_t = _run(torch, x0, w0, b0, g0, training)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), **tol)
    for a, c in zip(grads + stats, grads_t + stats_t):
        assert (a is None) == (c is None)
        if a is not None:
            np.testing.assert_allclose(a, c, **tol)


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("needs", [(0, 1, 1), (1, 0, 0), (0, 0, 1), (0, 1, 0)])
def test_inputs_that_need_no_gradient_get_none(needs, training):
    x0, g0 = RNG.standard_normal((5, 3, 2)), RNG.standard_normal((5, 3, 2))
    w0, b0 = RNG.standard_normal(3), RNG.standard_normal(3)
    _, grads, _ = _run(tg, x0, w0, b0, g0, training, needs)
    _, full, _ = _run(tg, x0, w0, b0, g0, training)
    for n, a, c in zip(needs, grads, full):
        if n:
            np.testing.assert_array_equal(a, c)
        else:
            assert a is None


@pytest.mark.parametrize("training", [True, False])
def test_first_and_second_order_and_forward_mode(training):
    x0, w0, b0 = RNG.standard_normal((4, 3, 2)), RNG.standard_normal(3), RNG.standard_normal(3)
    rm, rv = tg.tensor(RNG.standard_normal(3)), tg.tensor(RNG.uniform(0.5, 2.0, 3))
    ts = tuple(tg.tensor(a, requires_grad=True) for a in (x0, w0, b0))

    def f(x, w, b):
        return F.batch_norm(x, None if training else rm, None if training else rv, w, b,
                            training)

    assert tg.autograd.gradcheck(f, ts)
    assert tg.autograd.gradgradcheck(f, ts)
    assert tg.autograd.gradgradcheck(lambda x: f(x, None, None) ** 3, ts[:1])
    plain = tuple(t.detach() for t in ts)
    check_forward_equals_reverse(f, plain, (0, 1, 2, (0, 1, 2)))


@pytest.mark.parametrize("training", [True, False])
def test_second_derivatives_match_pytorchs(training):
    torch = pytest.importorskip("torch")
    x0, w0, b0 = RNG.standard_normal((6, 3, 2)), RNG.standard_normal(3), RNG.standard_normal(3)
    rm0, rv0 = RNG.standard_normal(3), RNG.uniform(0.5, 2.0, 3)
    res = []
    for L in (tg, torch):
        x, w, b = (L.tensor(a, requires_grad=True) for a in (x0, w0, b0))
        y = L.nn.functional.batch_norm(x, L.tensor(rm0), L.tensor(rv0), w, b, training)
        gx, gw = L.autograd.grad((y ** 3).sum(), (x, w), create_graph=True)
        res.append([a.detach().numpy() for a in
                    L.autograd.grad((gx ** 2).sum() + (gw ** 2).sum(), (x, w, b))])
    for a, c in zip(*res):
        np.testing.assert_allclose(a, c, rtol=1e-10, atol=1e-12)


def test_modules_train_and_eval_as_pytorchs_and_the_compositions_agree():
    """BatchNorm1d/2d over steps in training (running statistics, a cumulative average), then
    in evaluation, against PyTorch; the tracer's composition and a running statistic that
    requires grad (the composition) give the record's numbers."""
    torch = pytest.importorskip("torch")
    x0 = RNG.standard_normal((8, 4, 3, 3))
    outs = []
    for L in (tg, torch):
        bn = L.nn.BatchNorm2d(4, momentum=None).double()
        ys = [bn(L.tensor(x0 * (k + 1))).detach().numpy() for k in range(3)]
        bn.eval()
        ys.append(bn(L.tensor(x0)).detach().numpy())
        outs.append(ys + [bn.running_mean.numpy(), bn.running_var.numpy()])
    for a, c in zip(*outs):
        np.testing.assert_allclose(a, c, rtol=1e-12, atol=1e-12)
    bn = tg.nn.BatchNorm1d(3).double()
    step = tg.compile(lambda x: (bn(x) ** 2).sum())
    x0 = RNG.standard_normal((5, 3))
    grads = []
    for run in (step, lambda x: (bn(x) ** 2).sum()):
        x = tg.tensor(x0 ** 3, requires_grad=True)
        run(x).backward()
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12, atol=1e-14)
    rm = tg.tensor(np.zeros(3), requires_grad=True)  # (the composition: a leaf requiring grad)
    y1 = F.batch_norm(tg.tensor(x0), rm, tg.tensor(np.ones(3)), training=False)
    y2 = F.batch_norm(tg.tensor(x0), tg.tensor(np.zeros(3)), tg.tensor(np.ones(3)))
    assert type(y1.grad_fn).__name__ != "NativeBatchNormBackward0"
    np.testing.assert_allclose(y1.detach().numpy(), y2.numpy(), rtol=1e-14)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        F.batch_norm(tg.tensor(np.ones((1, 3))), None, None, training=True)
    with pytest.raises(RuntimeError, match="running_mean must be defined in evaluation mode"):
        F.batch_norm(tg.tensor(np.ones((2, 3))), None, None, training=False)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_group_norm_is_one_record_with_pytorchs_values_and_derivatives(dtype):
    """``group_norm``: the op on the input read as (1, N G, -1), recorded on the input itself
    (``NativeGroupNormBackward0``, no reshapes); PyTorch's values, first and second
    derivatives; finite differences and forward mode."""
    torch = pytest.importorskip("torch")
    x0, g0 = (RNG.standard_normal((3, 6, 4, 2)).astype(dtype) for _ in range(2))
    w0, b0 = (RNG.standard_normal(6).astype(dtype) for _ in range(2))
    res = []
    for L in (tg, torch):
        x, w, b = (L.tensor(a, requires_grad=True) for a in (x0, w0, b0))
        for y in (L.nn.functional.group_norm(x, 3), L.nn.functional.group_norm(x, 2, w, b)):
            gx = L.autograd.grad(y, x, L.tensor(g0), create_graph=True)[0]
            res.append([y.detach().numpy(), gx.detach().numpy(),
                        L.autograd.grad((gx ** 2).sum(), x)[0].numpy()])
        if L is tg:
            assert type(L.nn.functional.group_norm(x, 3).grad_fn).__name__ == \
                "NativeGroupNormBackward0"
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-9, atol=1e-10)
    for a, c in zip(sum(res[:2], []), sum(res[2:], [])):
        np.testing.assert_allclose(a, c, **tol)
    if dtype == np.float64:
        x = tg.tensor(x0[:2, :, :2], requires_grad=True)
        assert tg.autograd.gradcheck(lambda t: F.group_norm(t, 3), (x,))
        assert tg.autograd.gradgradcheck(lambda t: F.group_norm(t, 3) ** 3, (x,))
        check_forward_equals_reverse(lambda t: F.group_norm(t, 3), (x.detach(),), (0,))
