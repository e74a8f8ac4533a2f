"""The convolution op (ops/convolution.py): one record with im2col/BLAS forward and backward,
checked against the composition of ops it replaces on the CPU (and still used for CUDA,
complex and vmap), against finite differences in forward mode, and against PyTorch."""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.nn import convolution as nnconv
from tapegrad.ops import convolution as conv_op

F = tg.nn.functional
RNG = np.random.default_rng(11)

# (input shape, weight shape, keywords): strides, dilations, groups, asymmetric 'same' padding
CASES = [
    ((2, 4, 7, 6), (6, 2, 3, 2), dict(stride=(2, 1), padding=1, dilation=(1, 2), groups=2)),
    ((3, 2, 9), (4, 2, 3), dict(stride=2, padding=2, dilation=2)),
    ((2, 3, 8, 8), (4, 3, 4, 3), dict(padding="same")),
    ((1, 2, 5, 5, 4), (3, 2, 2, 3, 2), dict(padding=1, stride=(1, 2, 1))),
    ((3, 6, 6), (4, 3, 3, 3), dict(padding="valid")),
    ((2, 4, 6, 6), (4, 1, 3, 3), dict(groups=4, padding=1)),
]


def _conv(x, w, b, kw):
    return getattr(F, f"conv{w.ndim - 2}d")(x, w, b, **kw)


def _composed(x, w, b, kw):
    """The same convolution through the composition of ops (what CUDA tensors run)."""
    real = nnconv._one_op
    nnconv._one_op = lambda *ts: False
    try:
        return _conv(x, w, b, kw)
    finally:
        nnconv._one_op = real


def _graph_names(y):
    """The grad_fn names of the graph behind ``y``."""
    names, todo = [], [y.grad_fn]
    while todo:
        fn = todo.pop()
        if fn is not None:
            names.append(fn.name())
            todo += [f for f, _ in fn.next_functions]
    return names


def _grads(fn, arrays, dtype=np.float64, seed=None):
    ts = [tg.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
    y = fn(*ts)
    g = np.random.default_rng(1).standard_normal(y.shape).astype(dtype)
    (y * tg.tensor(g)).sum().backward()
    return y, [t.grad.numpy() for t in ts]


@pytest.mark.parametrize("xs,ws,kw", CASES, ids=[str(c[2]) for c in CASES])
def test_one_record_equals_the_composition(xs, ws, kw):
    x, w, b = RNG.standard_normal(xs), RNG.standard_normal(ws), RNG.standard_normal(ws[0])
    y, grads = _grads(lambda *t: _conv(*t, kw), [x, w, b])
    names = _graph_names(y)
    assert names.count("ConvolutionBackward0") == 1 and "EinsumBackward0" not in names
    yc, gc = _grads(lambda *t: _composed(*t, kw), [x, w, b])
    np.testing.assert_allclose(y.detach().numpy(), yc.detach().numpy(), rtol=1e-12, atol=1e-12)
    for g1, g2 in zip(grads, gc):
        np.testing.assert_allclose(g1, g2, rtol=1e-12, atol=1e-12)


def test_batch_chunks_give_the_same_values(monkeypatch):
    x, w = RNG.standard_normal((5, 3, 6, 6)), RNG.standard_normal((4, 3, 3, 3))
    y, grads = _grads(lambda a, c: F.conv2d(a, c, padding=1, stride=2), [x, w])
    monkeypatch.setattr(conv_op, "_CHUNK_ELEMENTS", 100)  # one batch element per chunk
    y2, grads2 = _grads(lambda a, c: F.conv2d(a, c, padding=1, stride=2), [x, w])
    np.testing.assert_allclose(y.detach().numpy(), y2.detach().numpy(), rtol=1e-14, atol=0)
    for g1, g2 in zip(grads, grads2):
        np.testing.assert_allclose(g1, g2, rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("xs,ws,kw", CASES, ids=[str(c[2]) for c in CASES])
def test_weight_gradient_per_sample_or_as_one_product(xs, ws, kw, monkeypatch):
    """dW as one product per (sample, group) summed (small weights) or as one product over
    the whole chunk: the same gradients up to the order of the sums."""
    x, w, b = RNG.standard_normal(xs), RNG.standard_normal(ws), RNG.standard_normal(ws[0])
    _, grads = _grads(lambda *t: _conv(*t, kw), [x, w, b])
    monkeypatch.setattr(conv_op, "_PER_SAMPLE_DW", 0)
    _, grads2 = _grads(lambda *t: _conv(*t, kw), [x, w, b])
    for g1, g2 in zip(grads, grads2):
        np.testing.assert_allclose(g1, g2, rtol=1e-13, atol=1e-13)


def test_only_the_inputs_that_require_grad_get_one():
    x = tg.tensor(RNG.standard_normal((2, 3, 5, 5)))
    w = tg.tensor(RNG.standard_normal((4, 3, 3, 3)), requires_grad=True)
    F.conv2d(x, w).sum().backward()
    assert x.grad is None and w.grad.shape == (4, 3, 3, 3)
    x.requires_grad_(True)
    w2 = tg.tensor(w.detach().numpy())
    F.conv2d(x, w2, padding=1).sum().backward()
    assert w2.grad is None
    # d sum(conv)/dx at an interior input: the weight summed over outputs and kernel taps
    np.testing.assert_allclose(x.grad.numpy()[0, :, 2, 2], w2.numpy().sum((0, 2, 3)))


def test_float32_stays_float32_and_matches_float64():
    x, w, b = RNG.standard_normal((2, 3, 6, 6)), RNG.standard_normal((4, 3, 3, 3)), \
        RNG.standard_normal(4)
    y32, g32 = _grads(lambda *t: F.conv2d(*t, padding=1), [x, w, b], np.float32)
    y64, g64 = _grads(lambda *t: F.conv2d(*t, padding=1), [x, w, b])
    assert y32.dtype == tg.float32 and all(g.dtype == np.float32 for g in g32)
    np.testing.assert_allclose(y32.detach().numpy(), y64.detach().numpy(), rtol=1e-4, atol=1e-4)
    for a, c in zip(g32, g64):
        np.testing.assert_allclose(a, c, rtol=1e-4, atol=1e-4)


def test_second_order_and_forward_mode_by_finite_differences():
    x = tg.tensor(RNG.standard_normal((2, 4, 5, 5)), requires_grad=True)
    w = tg.tensor(RNG.standard_normal((6, 2, 3, 3)), requires_grad=True)
    b = tg.tensor(RNG.standard_normal(6), requires_grad=True)

    def f(a, c, d):
        return F.conv2d(a, c, d, stride=2, padding=1, groups=2, dilation=(1, 2))

    assert tg.autograd.gradcheck(f, (x, w, b)) and tg.autograd.gradgradcheck(f, (x, w, b))
    primals = tuple(t.detach() for t in (x, w, b))
    tangents = tuple(tg.tensor(RNG.standard_normal(t.shape)) for t in primals)
    _, jv = tg.func.jvp(f, primals, tangents)
    eps = 1e-6
    fd = (f(*[p + eps * t for p, t in zip(primals, tangents)]) -
          f(*[p - eps * t for p, t in zip(primals, tangents)])) / (2 * eps)
    np.testing.assert_allclose(jv.numpy(), fd.numpy(), rtol=1e-7, atol=1e-7)


def test_hessian_vector_product_equals_the_composition():
    x = RNG.standard_normal((1, 2, 5, 5))
    w = tg.tensor(RNG.standard_normal((3, 2, 3, 3)))
    v = tg.tensor(RNG.standard_normal(x.shape))

    def hvp(conv):
        xt = tg.tensor(x, requires_grad=True)
        (g,) = tg.autograd.grad((tg.tanh(conv(xt, w, None, {"padding": 1})) ** 2).sum(), xt,
                                create_graph=True)
        return tg.autograd.grad((g * v).sum(), xt)[0].numpy()

    np.testing.assert_allclose(hvp(_conv), hvp(_composed), rtol=1e-11, atol=1e-12)


def test_vmap_runs_the_composition_per_example():
    w = tg.tensor(RNG.standard_normal((4, 3, 3)))
    xs = tg.tensor(RNG.standard_normal((5, 2, 3, 7)))
    got = tg.vmap(lambda a: F.conv1d(a, w, padding=1))(xs)
    want = tg.stack([F.conv1d(xs[i], w, padding=1) for i in range(5)])
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-13, atol=1e-13)


def test_saved_input_changed_in_place_raises():
    x = tg.tensor(RNG.standard_normal((1, 2, 4, 4)))
    w = tg.tensor(RNG.standard_normal((3, 2, 3, 3)), requires_grad=True)
    y = F.conv2d(x, w)
    x.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_matches_pytorch_on_a_network_sized_layer():
    torch = pytest.importorskip("torch")
    x, w, b = RNG.standard_normal((8, 6, 12, 12)), RNG.standard_normal((10, 3, 3, 3)), \
        RNG.standard_normal(10)
    g = RNG.standard_normal((8, 10, 6, 6))
    kw = dict(stride=2, padding=1, groups=2)
    ts = [tg.tensor(a, requires_grad=True) for a in (x, w, b)]
    (F.conv2d(*ts, **kw) * tg.tensor(g)).sum().backward()
    qs = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    (torch.nn.functional.conv2d(*qs, **kw) * torch.tensor(g)).sum().backward()
    for t, q in zip(ts, qs):
        np.testing.assert_allclose(t.grad.numpy(), q.grad.numpy(), rtol=1e-11, atol=1e-11)


# ---- max pooling: the maxima's positions by a compiled loop, the values one gather ----------

POOLS = [
    ((2, 3, 7, 6), dict(kernel_size=2)),
    ((2, 3, 7, 6), dict(kernel_size=3, stride=2, padding=1)),
    ((1, 2, 9, 8), dict(kernel_size=3, stride=2, padding=1, dilation=2, ceil_mode=True)),
    ((3, 6, 5), dict(kernel_size=2, stride=1, ceil_mode=True)),
    ((2, 3, 10), dict(kernel_size=3, stride=2, padding=1)),
]


def _pool(x, kw, **more):
    return getattr(F, f"max_pool{1 if x.ndim == 3 and x.shape[-1] == 10 else 2}d")(x, **kw,
                                                                                **more)


def _edge_values(shape):
    """Normal values with ties, a NaN and a window of -inf, which the rule must honour."""
    x = RNG.standard_normal(shape)
    flat = x.reshape(-1)
    flat[3] = flat[4]  # a tie: the first of the two is the maximum
    flat[7] = np.nan  # NaN wins its windows
    flat[-4:] = -np.inf
    return x


@pytest.mark.parametrize("xs,kw", POOLS, ids=[str(p[1]) for p in POOLS])
def test_max_pool_equals_the_composition(xs, kw):
    x = _edge_values(xs)
    fast = tg.tensor(x, requires_grad=True)
    y, idx = _pool(fast, kw, return_indices=True)
    assert "EinsumBackward0" not in _graph_names(y) and "MaxBackward0" not in _graph_names(y)
    real = nnconv._one_op
    nnconv._one_op = lambda *ts: False
    try:
        slow = tg.tensor(x, requires_grad=True)
        y2, idx2 = _pool(slow, kw, return_indices=True)
    finally:
        nnconv._one_op = real
    np.testing.assert_array_equal(y.detach().numpy(), y2.detach().numpy())
    np.testing.assert_array_equal(idx.numpy(), idx2.numpy())
    g = tg.tensor(np.where(np.isnan(y.detach().numpy()), 0.0,
                           RNG.standard_normal(y.shape)))
    for t, out in ((fast, y), (slow, y2)):
        (tg.where(tg.isnan(out), 0.0, out) * g).sum().backward()
    # (overlapping windows add their gradients in another order)
    np.testing.assert_allclose(fast.grad.numpy(), slow.grad.numpy(), rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_two_by_two_windows_pick_as_the_general_loop(dtype):
    """``max_positions_2x2`` (2x2 windows every 2, all inside) against the general loop: ties
    (the first), NaNs (the last), infinities, odd sizes (a row and a column unused)."""
    kernels = conv_op.window_kernels()
    x = np.round(RNG.standard_normal((3, 4, 9, 11)) * 2).astype(dtype)  # many ties
    flat = x.reshape(-1)
    flat[RNG.integers(0, flat.size, 60)] = np.nan
    flat[RNG.integers(0, flat.size, 20)] = np.inf
    flat[RNG.integers(0, flat.size, 20)] = -np.inf
    fast = np.empty((3, 4, 4, 5), np.int64)
    kernels.max_positions_2x2(x, fast)
    general = np.empty((3, 4, 1, 4, 5), np.int64)
    kernels.max_positions(x.reshape(3, 4, 1, 9, 11), general, (1, 2, 2), (1, 1, 1), (0, 0, 0),
                          (1, 2, 2))
    np.testing.assert_array_equal(fast, general.reshape(fast.shape))
    assert np.array_equal(conv_op.max_positions(x, (2, 2), (2, 2), (1, 1), ((0, 0), (0, 0)),
                                                (4, 5)), fast)


def test_max_pool_second_order_and_float32():
    x = tg.tensor(RNG.standard_normal((2, 2, 6, 6)), requires_grad=True)
    assert tg.autograd.gradgradcheck(lambda a: F.max_pool2d(a * a, 3, 2, 1) ** 2, (x,))
    y32 = F.max_pool2d(tg.tensor(x.detach().numpy().astype(np.float32)), 2)
    assert y32.dtype == tg.float32


@pytest.mark.parametrize("xs,kw", POOLS, ids=[str(p[1]) for p in POOLS])
def test_max_pool_matches_pytorch(xs, kw):
    torch = pytest.importorskip("torch")
    x = _edge_values(xs)
    t = tg.tensor(x, requires_grad=True)
    q = torch.tensor(x, requires_grad=True)
    y, idx = _pool(t, kw, return_indices=True)
    fn = getattr(torch.nn.functional, f"max_pool{1 if len(xs) == 3 and xs[-1] == 10 else 2}d")
    qy, qidx = fn(q, **kw, return_indices=True)
    np.testing.assert_array_equal(y.detach().numpy(), qy.detach().numpy())
    np.testing.assert_array_equal(idx.numpy(), qidx.numpy())
    g = np.where(np.isnan(qy.detach().numpy()), 0.0, RNG.standard_normal(tuple(qy.shape)))
    (tg.where(tg.isnan(y), 0.0, y) * tg.tensor(g)).sum().backward()
    (torch.where(torch.isnan(qy), 0.0, qy) * torch.tensor(g)).sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), q.grad.numpy())


def test_float16_takes_the_composition():
    x = tg.tensor(RNG.standard_normal((1, 2, 5, 5)).astype(np.float16))
    w = tg.tensor(RNG.standard_normal((3, 2, 3, 3)).astype(np.float16))
    want = _conv(x.to(tg.float64), w.to(tg.float64), None, {"padding": 1}).numpy()
    got = _conv(x, w, None, {"padding": 1})
    assert got.dtype == tg.float16
    np.testing.assert_allclose(got.numpy().astype(np.float64), want, rtol=2e-2, atol=5e-2)
    assert F.max_pool2d(x, 2).dtype == tg.float16
