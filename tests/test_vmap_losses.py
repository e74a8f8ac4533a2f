"""vmap of nn.functional losses and activations: compositions batch op by op, the class-index
losses by their rule; each example's value and gradient, with no per-example loop."""

import warnings

import numpy as np
import pytest

import tapegrad as tg
from tests.op_checks import needs_torch, torch

F = tg.nn.functional
rng = np.random.default_rng(11)
B, N, C = 4, 3, 5
X = rng.standard_normal((B, N, C))
T = rng.integers(0, C, (B, N))
T[2] = 1  # with ignore_index=1: an example with nothing to average (nan, as PyTorch)
W = np.array([1.0, 2.0, 0.5, 3.0, 1.5])

LOSS_KW = [{}, {"reduction": "sum"}, {"reduction": "none"}, {"weight": W}, {"ignore_index": 1},
           {"weight": W, "ignore_index": 1, "reduction": "mean"}, {"label_smoothing": 0.2},
           {"weight": W, "label_smoothing": 0.1}]


def _kw(kw):
    return {k: tg.tensor(v) if k == "weight" else v for k, v in kw.items()}


def _no_loop(f, *args, in_dims=0):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the per-example fallback warns
        return tg.vmap(f, in_dims=in_dims)(*args)


# (label_smoothing is a cross_entropy parameter only)
LOSS_CASES = [(n, kw) for n in ("nll_loss", "cross_entropy") for kw in LOSS_KW
              if n == "cross_entropy" or "label_smoothing" not in kw]


@pytest.mark.parametrize("name,kw", LOSS_CASES, ids=[f"{n}-{sorted(k)}" for n, k in LOSS_CASES])
def test_class_index_losses(name, kw):
    loss = getattr(F, name)
    f = (lambda x, t: loss(x, t, **_kw(kw))) if name == "cross_entropy" else \
        (lambda x, t: loss(F.log_softmax(x, 1), t, **_kw(kw)))
    x = tg.tensor(X, requires_grad=True)
    out = _no_loop(f, x, tg.tensor(T))
    want = [f(tg.tensor(X[i]), tg.tensor(T[i])) for i in range(B)]
    np.testing.assert_allclose(out.detach().numpy(), np.stack([w.numpy() for w in want]),
                               rtol=1e-13, atol=1e-14)
    g, = tg.autograd.grad(tg.nan_to_num(out, 0.0).sum(), x)
    for i in range(B):
        xi = tg.tensor(X[i], requires_grad=True)
        gi, = tg.autograd.grad(tg.nan_to_num(f(xi, tg.tensor(T[i])), 0.0).sum(), xi)
        np.testing.assert_allclose(g[i].numpy(), gi.numpy(), rtol=1e-12, atol=1e-14)


def test_per_sample_gradients_of_cross_entropy_match_torch():
    torch = pytest.importorskip("torch")
    w0, xs, ys = rng.standard_normal((C, 3)), rng.standard_normal((8, C)), rng.integers(0, 3, 8)

    def loss(L, FF):
        return lambda w, x, y: FF.cross_entropy((x @ w)[None], y[None], label_smoothing=0.1)

    ours = _no_loop(tg.func.grad(loss(tg, F)), tg.tensor(w0), tg.tensor(xs), tg.tensor(ys),
                    in_dims=(None, 0, 0))
    theirs = torch.func.vmap(torch.func.grad(loss(torch, torch.nn.functional)),
                             in_dims=(None, 0, 0))(torch.tensor(w0), torch.tensor(xs),
                                                   torch.tensor(ys))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-15)


def test_unbatched_targets_and_unbatched_logits():
    t0 = tg.tensor(T[0])
    out = _no_loop(lambda x: F.cross_entropy(x, t0), tg.tensor(X))
    np.testing.assert_allclose(out.numpy(), [F.cross_entropy(tg.tensor(X[i]), t0).item()
                                             for i in range(B)], rtol=1e-13)
    x0 = tg.tensor(X[0])
    out = _no_loop(lambda t: F.cross_entropy(x0, t), tg.tensor(T))
    np.testing.assert_allclose(out.numpy(), [F.cross_entropy(x0, tg.tensor(T[i])).item()
                                             for i in range(B)], rtol=1e-13)


ACTIVATIONS = [
    ("leaky_relu", lambda a: F.leaky_relu(a, 0.1)), ("elu", lambda a: F.elu(a)),
    ("hardtanh", lambda a: F.hardtanh(a)), ("mish", lambda a: F.mish(a)),
    ("glu", lambda a: F.glu(a[:, :4])), ("smooth_l1", lambda a: F.smooth_l1_loss(a, a * 0.5)),
    ("huber", lambda a: F.huber_loss(a, a * 0, delta=0.5)),
    ("bce_logits", lambda a: F.binary_cross_entropy_with_logits(a, a.sigmoid())),
    ("kl_div", lambda a: F.kl_div(a.log_softmax(-1), a.softmax(0), reduction="batchmean")),
    ("cosine_similarity", lambda a: F.cosine_similarity(a, a + 1)),
    ("probability_targets", lambda a: F.cross_entropy(a, a.softmax(1))),
    ("vector_norm", lambda a: tg.linalg.vector_norm(a, dim=-1)),
    ("matrix_norm", lambda a: tg.linalg.matrix_norm(a)),
    ("hardsigmoid", lambda a: F.hardsigmoid(a * 3)), ("hardswish", lambda a: F.hardswish(a * 3)),
    ("softshrink", lambda a: F.softshrink(a)), ("hardshrink", lambda a: F.hardshrink(a, 0.3)),
]


@pytest.mark.parametrize("name,f", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_compositions_batch_op_by_op(name, f):
    x = tg.tensor(X, requires_grad=True)
    out = _no_loop(f, x)
    np.testing.assert_allclose(out.detach().numpy(),
                               np.stack([f(tg.tensor(X[i])).numpy() for i in range(B)]),
                               rtol=1e-13, atol=1e-14)


# their constant branches are tapegrad ops on the detached input: batched, no value read
PIECEWISE = ["hardsigmoid", "hardswish", "softshrink", "hardshrink"]


@needs_torch
@pytest.mark.parametrize("name", PIECEWISE)
def test_piecewise_activations_and_their_gradients_match_torch_func(name):
    # (not NaN: PyTorch's gradient there differs between its vectorized loop and the tail)
    v = np.concatenate([X.reshape(B, -1) * 3, np.tile([-3.0, 3.0, -0.5, 0.5, 0.0, -np.inf],
                                                      (B, 1))], axis=1)
    ours, theirs = getattr(F, name), getattr(torch.nn.functional, name)
    out = _no_loop(ours, tg.tensor(v))
    want = torch.func.vmap(theirs)(torch.tensor(v))
    np.testing.assert_allclose(out.numpy(), want.numpy(), rtol=1e-15, atol=0)
    g = _no_loop(tg.func.grad(lambda a: ours(a).sum()), tg.tensor(v))
    gw = torch.func.vmap(torch.func.grad(lambda a: theirs(a).sum()))(torch.tensor(v))
    np.testing.assert_allclose(g.numpy(), gw.numpy(), rtol=1e-13, atol=1e-16)


BCE_KW = [{}, {"reduction": "sum"}, {"reduction": "none"}, {"weight": W}]
BCE_CASES = [(kw, dims) for kw in BCE_KW for dims in (0, (0, None), (None, 0))]
P = rng.uniform(0.05, 0.95, (B, N, C))  # probabilities, and their targets
Q = rng.uniform(0.0, 1.0, (B, N, C))


def _bce(lib, kw):
    kw = {k: lib.tensor(v) if k == "weight" else v for k, v in kw.items()}
    return lambda p, q: lib.nn.functional.binary_cross_entropy(p, q, **kw)


def _examples(dims):
    return (P if dims in (0, (0, None)) else P[0]), (Q if dims in (0, (None, 0)) else Q[0])


@pytest.mark.parametrize("kw,dims", BCE_CASES, ids=[f"{sorted(k)}-{d}" for k, d in BCE_CASES])
def test_binary_cross_entropy_batches_with_each_examples_reduction(kw, dims):
    """The range check reads the whole batch; one elementwise call, each example reduced."""
    p, q = _examples(dims)
    f = _bce(tg, kw)
    out = _no_loop(f, tg.tensor(p), tg.tensor(q), in_dims=dims)
    d = (0, 0) if dims == 0 else dims
    want = [f(tg.tensor(p[i] if d[0] == 0 else p), tg.tensor(q[i] if d[1] == 0 else q))
            for i in range(B)]
    np.testing.assert_allclose(out.numpy(), np.stack([w.numpy() for w in want]), rtol=1e-13)
    if d[0] == 0:
        g = _no_loop(tg.func.grad(lambda a, b: f(a, b).sum()), tg.tensor(p), tg.tensor(q),
                     in_dims=dims)
        for i in (0, B - 1):
            gi = tg.func.grad(lambda a: f(a, tg.tensor(q[i] if d[1] == 0 else q)).sum())(
                tg.tensor(p[i]))
            np.testing.assert_allclose(g[i].numpy(), gi.numpy(), rtol=1e-13)
    with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
        tg.vmap(f, in_dims=dims)(tg.tensor(p + 1.0), tg.tensor(q))


@needs_torch
@pytest.mark.parametrize("kw,dims", BCE_CASES, ids=[f"{sorted(k)}-{d}" for k, d in BCE_CASES])
def test_binary_cross_entropy_matches_torch_func(kw, dims):
    p, q = _examples(dims)
    out = _no_loop(_bce(tg, kw), tg.tensor(p), tg.tensor(q), in_dims=dims)
    want = torch.func.vmap(_bce(torch, kw), in_dims=dims)(torch.tensor(p), torch.tensor(q))
    np.testing.assert_allclose(out.numpy(), want.numpy(), rtol=1e-13)
