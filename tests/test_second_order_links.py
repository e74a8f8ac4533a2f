"""Gradients taken with ``create_graph=True`` stay linked to the inputs as PyTorch's do.

PyTorch records the derivative of many ops as one op of the op's inputs
(``softshrink_backward(grad, self)``, ``max_pool2d_with_indices_backward(grad, self, ...)``),
so the gradient of a constant seed requires grad whenever the input does, and differentiates
again (to zeros, for piecewise linear ops) instead of raising. Each case compares
``requires_grad``, ``grad_fn is not None`` and the second derivative with PyTorch's.
"""

import zlib

import numpy as np
import pytest

import tapegrad as tg
import tapegrad.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def _long(L, v):
    return L.tensor(v)


# name -> (f(F, L, x), input shape, whether PyTorch's double backward exists)
CASES = {
    "softshrink": (lambda F, L, x: F.softshrink(x, 0.3), (6,), True),
    "hardshrink": (lambda F, L, x: F.hardshrink(x, 0.3), (6,), True),
    "threshold": (lambda F, L, x: F.threshold(x, 0.1, 20.0), (6,), True),
    "Softshrink_module": (lambda F, L, x: L.nn.Softshrink(0.2)(x), (2, 3), True),
    "relu": (lambda F, L, x: F.relu(x), (6,), True),
    "leaky_relu": (lambda F, L, x: F.leaky_relu(x, 0.1), (6,), True),
    "hardtanh": (lambda F, L, x: F.hardtanh(x, -0.5, 0.5), (6,), True),
    "rrelu_eval": (lambda F, L, x: F.rrelu(x, training=False), (6,), True),
    "rrelu_train": (lambda F, L, x: F.rrelu(x, 0.1, 0.1, training=True), (6,), True),
    "prelu_input": (lambda F, L, x: F.prelu(x, L.tensor([0.25], dtype=x.dtype)), (6,), True),
    "hardsigmoid": (lambda F, L, x: F.hardsigmoid(3 * x), (6,), False),
    "hardswish": (lambda F, L, x: F.hardswish(3 * x), (6,), True),
    "elu": (lambda F, L, x: F.elu(x), (6,), True),
    "smooth_l1": (lambda F, L, x: F.smooth_l1_loss(x, 0.1 * x.detach(), beta=0.01), (6,),
                  True),
    "nll": (lambda F, L, x: F.nll_loss(x, _long(L, [0, 1, 2])), (3, 4), True),
    "nll_weight": (lambda F, L, x: F.nll_loss(x, _long(L, [0, 1, 2]), weight=L.tensor(
        [1.0, 2.0, 3.0, 4.0], dtype=x.dtype)), (3, 4), True),
    "nll_none": (lambda F, L, x: F.nll_loss(x, _long(L, [0, 1, 2]), reduction="none"),
                 (3, 4), True),
    "nll_1d": (lambda F, L, x: F.nll_loss(x, _long(L, 1)), (4,), True),
    "nll_2d": (lambda F, L, x: F.nll_loss(x, _long(L, [[[0, 1], [2, 0]]])), (1, 3, 2, 2),
               True),
    "cross_entropy": (lambda F, L, x: F.cross_entropy(x, _long(L, [0, 1, 2])), (3, 4), True),
    "max_pool1d": (lambda F, L, x: F.max_pool1d(x, 2), (1, 2, 6), True),
    "max_pool2d": (lambda F, L, x: F.max_pool2d(x, 2), (1, 2, 4, 4), True),
    "max_pool2d_unbatched": (lambda F, L, x: F.max_pool2d(x, 2), (2, 4, 4), True),
    "max_pool2d_indices": (lambda F, L, x: F.max_pool2d(x, 2, return_indices=True)[0],
                           (1, 2, 4, 4), True),
    "max_pool2d_ceil": (lambda F, L, x: F.max_pool2d(x, 2, 1, 1, ceil_mode=True),
                        (1, 1, 5, 5), True),
    "max_pool3d": (lambda F, L, x: F.max_pool3d(x, 2), (1, 1, 4, 4, 4), True),
    "max_pool2d_float32": (lambda F, L, x: F.max_pool2d(x.float(), 2), (1, 2, 4, 4), True),
    "max_unpool2d": (lambda F, L, x: F.max_unpool2d(*F.max_pool2d(x, 2, return_indices=True),
                                                    2), (1, 1, 4, 4), True),
    "avg_pool1d": (lambda F, L, x: F.avg_pool1d(x, 2), (1, 2, 6), True),
    "avg_pool2d": (lambda F, L, x: F.avg_pool2d(x, 2), (1, 2, 4, 4), True),
    "avg_pool2d_ceil": (lambda F, L, x: F.avg_pool2d(x, 2, 2, 1, ceil_mode=True,
                                                     count_include_pad=False), (1, 1, 5, 5),
                        True),
    "avg_pool3d": (lambda F, L, x: F.avg_pool3d(x, 2), (1, 1, 4, 4, 4), True),
    "adaptive_avg_pool1d": (lambda F, L, x: F.adaptive_avg_pool1d(x, 2), (1, 2, 4), True),
    "adaptive_avg_pool2d": (lambda F, L, x: F.adaptive_avg_pool2d(x, 2), (1, 2, 4, 4), True),
    "adaptive_avg_pool3d": (lambda F, L, x: F.adaptive_avg_pool3d(x, 2), (1, 1, 4, 4, 4),
                            True),
    "adaptive_avg_pool2d_global": (lambda F, L, x: F.adaptive_avg_pool2d(x, 1), (1, 2, 4, 4),
                                   True),
    "adaptive_max_pool1d": (lambda F, L, x: F.adaptive_max_pool1d(x, 2), (1, 2, 4), True),
    "adaptive_max_pool2d": (lambda F, L, x: F.adaptive_max_pool2d(x, 2), (1, 2, 4, 4), True),
    "adaptive_max_pool3d": (lambda F, L, x: F.adaptive_max_pool3d(x, 2), (1, 1, 4, 4, 4),
                            True),
    "interpolate_area": (lambda F, L, x: F.interpolate(x, size=(2, 2), mode="area"),
                         (1, 2, 4, 4), True),
    "lp_pool2d": (lambda F, L, x: F.lp_pool2d(x, 2, 2), (1, 2, 4, 4), True),
    "reflect1d": (lambda F, L, x: F.pad(x, (1, 2), mode="reflect"), (1, 2, 6), True),
    "reflect2d": (lambda F, L, x: F.pad(x, (1, 2, 1, 1), mode="reflect"), (1, 2, 4, 4), True),
    "reflect3d": (lambda F, L, x: F.pad(x, (1, 2, 1, 1, 1, 1), mode="reflect"),
                  (1, 1, 4, 4, 4), True),
    "replicate1d": (lambda F, L, x: F.pad(x, (1, 2), mode="replicate"), (1, 2, 6), True),
    "replicate2d": (lambda F, L, x: F.pad(x, (1, 2, 1, 1), mode="replicate"), (1, 2, 4, 4),
                    True),
    "replicate3d": (lambda F, L, x: F.pad(x, (1, 2, 1, 1, 1, 1), mode="replicate"),
                    (1, 1, 4, 4, 4), True),
    "grid_sample": (lambda F, L, x: F.grid_sample(x, L.zeros(1, 2, 2, 2, dtype=x.dtype) + 0.3,
                                                  align_corners=False), (1, 1, 4, 4), True),
    "grid_sample_nearest": (lambda F, L, x: F.grid_sample(
        x, L.zeros(1, 2, 2, 2, dtype=x.dtype) + 0.3, mode="nearest", align_corners=False),
        (1, 1, 4, 4), True),
    "grid_sample_bicubic": (lambda F, L, x: F.grid_sample(
        x, L.zeros(1, 2, 2, 2, dtype=x.dtype) + 0.3, mode="bicubic", align_corners=False),
        (1, 1, 4, 4), True),
    # one node of several inputs: a gradient linear in the seed differentiates to None
    "conv_input": (lambda F, L, x: F.conv2d(x, L.ones(2, 1, 2, 2, dtype=x.dtype),
                                            L.ones(2, dtype=x.dtype)), (1, 1, 4, 4), True),
    "conv_weight": (lambda F, L, w: F.conv2d(L.ones(1, 1, 4, 4, dtype=w.dtype), w),
                    (2, 1, 2, 2), True),
    "conv_transpose_input": (lambda F, L, x: F.conv_transpose2d(
        x, L.ones(1, 2, 2, 2, dtype=x.dtype)), (1, 1, 3, 3), True),
    "layer_norm_bias": (lambda F, L, b: F.layer_norm(
        L.arange(6.0, dtype=b.dtype).reshape(2, 3), (3,), None, b), (3,), True),
    "layer_norm_weight": (lambda F, L, w: F.layer_norm(
        L.arange(6.0, dtype=w.dtype).reshape(2, 3), (3,), w, None), (3,), True),
    "batch_norm_weight": (lambda F, L, w: F.batch_norm(
        L.arange(12.0, dtype=w.dtype).reshape(4, 3) ** 1.5, None, None, w, None,
        training=True), (3,), True),
    "batch_norm_eval_input": (lambda F, L, x: F.batch_norm(
        x, L.zeros(3, dtype=x.dtype), L.ones(3, dtype=x.dtype), None, None), (4, 3), True),
    # PyTorch's gradient has no graph: neither has tapegrad's
    "circular2d": (lambda F, L, x: F.pad(x, (1, 2, 1, 1), mode="circular"), (1, 2, 4, 4), True),
    "constant_pad": (lambda F, L, x: F.pad(x, (1, 2)), (1, 2, 6), True),
    "clamp": (lambda F, L, x: x.clamp(-0.5, 0.5), (6,), True),
    "where": (lambda F, L, x: L.where(x > 0, x, 0.0), (6,), True),
    "amax": (lambda F, L, x: x.amax(0), (5, 3), True),
    "max_dim": (lambda F, L, x: x.max(0)[0], (5, 3), True),
    "sort": (lambda F, L, x: x.sort()[0], (6,), True),
    "index_select": (lambda F, L, x: x.index_select(0, _long(L, [0, 0, 2])), (6,), True),
    "cumsum": (lambda F, L, x: x.cumsum(0), (6,), True),
    "interpolate_nearest": (lambda F, L, x: F.interpolate(x, scale_factor=2), (1, 2, 3, 3),
                            True),
    "interpolate_bilinear": (lambda F, L, x: F.interpolate(x, scale_factor=2, mode="bilinear"),
                             (1, 2, 3, 3), True),
    "interpolate_bicubic": (lambda F, L, x: F.interpolate(x, size=(4, 5), mode="bicubic"),
                            (1, 2, 3, 3), True),
    "embedding": (lambda F, L, x: F.embedding(_long(L, [0, 2]), x), (4, 3), True),
    "unfold": (lambda F, L, x: F.unfold(x, 2), (1, 2, 4, 4), True),
    "masked_fill": (lambda F, L, x: x.masked_fill(x > 0, 0.0), (6,), True),
    "hinge_embedding": (lambda F, L, x: F.hinge_embedding_loss(x, L.tensor(
        [1.0, -1, 1, -1, 1, 1], dtype=x.dtype)), (6,), True),
}


def _first(L, FF, f, x0):
    x = L.tensor(x0, requires_grad=True)
    g, = L.autograd.grad(f(FF, L, x).sum(), x, create_graph=True)
    return x, g


def _second(L, x, g, v):
    """The gradient of ``sum(g * g * v)`` (None where it does not reach x)."""
    h, = L.autograd.grad((g * g * L.tensor(v)).sum(), x, allow_unused=True)
    return None if h is None else h.detach().numpy()


@pytest.mark.parametrize("name", list(CASES))
def test_gradient_linked_as_pytorchs(name):
    f, shape, double = CASES[name]
    r = np.random.default_rng(zlib.crc32(name.encode()))  # (the same inputs every run)
    x0 = r.standard_normal(shape)
    tx, tgr = _first(torch, TF, f, x0)
    x, g = _first(tg, F, f, x0)
    assert g.requires_grad == tgr.requires_grad
    assert (g.grad_fn is not None) == (tgr.grad_fn is not None)
    np.testing.assert_allclose(g.detach().numpy(), tgr.detach().numpy(), rtol=1e-6, atol=1e-6)
    if not tgr.requires_grad:
        with pytest.raises(RuntimeError, match="does not require grad"):
            tg.autograd.grad(g.sum(), x)
        return
    v = r.standard_normal(tuple(g.shape))
    ours = _second(tg, x, g, v)
    if not double:  # PyTorch's double backward raises: the derivative of a constant, zeros
        assert ours is not None and not ours.any()
        return
    theirs = _second(torch, tx, tgr, v)
    assert (ours is None) == (theirs is None)
    if ours is not None:
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-6)


def test_the_reported_case():
    x = tg.randn(5, requires_grad=True)
    g, = tg.autograd.grad(F.softshrink(x).sum(), x, create_graph=True)
    assert g.requires_grad and g.grad_fn is not None
    h, = tg.autograd.grad(g.sum(), x)
    assert h.shape == (5,) and not h.numpy().any()


@pytest.mark.parametrize("name", [
    "softshrink", "hardshrink", "threshold", "rrelu_train", "prelu_input", "max_pool1d",
    "max_pool2d", "max_pool3d", "avg_pool2d", "adaptive_max_pool1d",
    "adaptive_max_pool2d", "adaptive_avg_pool2d", "reflect1d", "reflect2d", "replicate3d",
    "nll", "nll_1d", "grid_sample"])
def test_forward_node_names_are_pytorchs(name):
    """An op built of several records is named as PyTorch's one node (its gradient's node
    is the last op of the composition's derivative, not named after PyTorch's)."""
    f, shape, _ = CASES[name]
    x0 = np.random.default_rng(0).standard_normal(shape)
    names = [type(f(FF, L, L.tensor(x0, requires_grad=True)).grad_fn).__name__
             for L, FF in ((torch, TF), (tg, F))]
    assert names[0] == names[1]


def test_unused_second_derivative_raises_as_pytorchs():
    """grid_sample's double backward gives its input None: the error without allow_unused."""
    f = CASES["grid_sample"][0]
    x0 = np.random.default_rng(1).standard_normal((1, 1, 4, 4))
    msgs = []
    for L, FF in ((torch, TF), (tg, F)):
        x, g = _first(L, FF, f, x0)
        with pytest.raises(RuntimeError) as e:
            L.autograd.grad(g.sum(), x)
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1]


@pytest.mark.parametrize("name", ["softshrink", "hardshrink", "threshold", "max_pool2d",
                                  "max_pool3d", "avg_pool1d", "adaptive_max_pool2d",
                                  "reflect2d", "replicate2d", "nll", "nll_1d", "rrelu_train",
                                  "prelu_input", "max_unpool2d"])
def test_gradgradcheck(name):
    f, shape, _ = CASES[name]
    # values away from the kinks (shrink thresholds at +-0.3, 0.1; ties of the maxima)
    r = np.random.default_rng(7)
    x0 = (r.permutation(np.prod(shape)).reshape(shape) + 0.5) / np.prod(shape) * 4 - 2
    x0 = np.where(np.abs(np.abs(x0) - 0.3) < 0.05, x0 + 0.1, x0)
    x = tg.tensor(x0, requires_grad=True)
    if name == "rrelu_train":  # the same noise at every evaluation
        def fn(t):
            tg.manual_seed(0)
            return f(F, tg, t)
    else:
        def fn(t):
            return f(F, tg, t)
    assert tg.autograd.gradcheck(fn, (x,))
    assert tg.autograd.gradgradcheck(fn, (x,))


def test_a_gradient_penalty_through_pooling_and_padding():
    """The WGAN-GP pattern: a penalty on the input gradient of a conv net, differentiated for
    the weights; the pooling's and padding's links carry no gradient of their own."""
    r = np.random.default_rng(3)
    x0, w0 = r.standard_normal((2, 1, 6, 6)), r.standard_normal((2, 1, 3, 3))
    res = []
    for L, FF in ((torch, TF), (tg, F)):
        x = L.tensor(x0, requires_grad=True)
        w = L.tensor(w0, requires_grad=True)
        h = FF.conv2d(FF.pad(x, (1, 1, 1, 1), mode="reflect"), w)
        y = FF.max_pool2d(FF.softshrink(h, 0.1), 2).sum()
        g, = L.autograd.grad(y, x, create_graph=True)
        pen = (g * g).sum()
        gw, gx = L.autograd.grad(pen, (w, x))
        res.append((gw.detach().numpy(), gx.detach().numpy()))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_third_order_of_a_linked_gradient():
    x0 = np.random.default_rng(4).standard_normal((1, 1, 4, 4))
    out = []
    for L, FF in ((torch, TF), (tg, F)):
        x = L.tensor(x0, requires_grad=True)
        g, = L.autograd.grad((FF.max_pool2d(x, 2) ** 3).sum(), x, create_graph=True)
        h, = L.autograd.grad(g.sum(), x, create_graph=True)
        k, = L.autograd.grad(h.sum(), x)
        out.append([t.detach().numpy() for t in (g, h, k)])
    for a, b in zip(*out):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
