"""tg.compile's sums take eager's values: a float32 sum over many rows that are not the
innermost accumulated in float64 (vecmath/wide_sums), float16 in float32. The replay used
NumPy's float32 row-after-row total: compiled ``x.sum(0)`` of a (500000, 4) float32 array
was ~9e-6 relative off where eager is ~1e-8 and PyTorch ~2.6e-7."""

import warnings

import numpy as np
import pytest

import tapegrad as tg

R = np.random.default_rng(11)


def _rel(got, x64, axes):
    want = x64.sum(axes)
    return float(np.max(np.abs(got.astype(np.float64) - want) / np.abs(x64).sum(axes)))


@pytest.mark.parametrize("shape,dims", [((500000, 4), 0), ((500000, 4), -2),
                                        ((30, 5000, 8), 1), ((5000, 30, 8), (0, 1)),
                                        ((1000, 1000), 0), ((300, 7), (0, 1))])
def test_compiled_sum_equals_eager_sum(shape, dims):
    x = (R.standard_normal(shape) + 1).astype(np.float32)
    c = tg.compile(lambda t: t.sum(dims) * 1.0)
    for _ in range(3):  # (trace, then replays)
        got = c(tg.tensor(x)).numpy()
        assert np.array_equal(got, tg.tensor(x).sum(dims).numpy())
    if shape[0] >= 5000:
        assert _rel(got, x.astype(np.float64), dims) < 1e-7


def test_compiled_float16_sum_and_mean_equal_eager():
    x = (R.standard_normal((5000, 2, 3)) + 1).astype(np.float16)
    for f in (lambda t: t.sum(0) * 1.0, lambda t: t.sum((0, 1)) * 1.0,
              lambda t: t.mean(0) * 1.0):
        c = tg.compile(f)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # (replayed, not run eagerly)
            for _ in range(3):
                assert np.array_equal(c(tg.tensor(x)).numpy(), f(tg.tensor(x)).numpy())


@pytest.mark.parametrize("shape,dims", [((5, 200, 200), (0, 1)), ((200, 3, 5), (0, 1)),
                                        ((2, 1, 20000), (0, 1)), ((3, 4000), 1)])
def test_compiled_float16_sum_of_products_equals_eager_and_pytorch(shape, dims):
    # (the fused sum(a * b) was one float16 einsum: (5, 200, 200) 1.7e-2 relative off,
    # eager and PyTorch 4.5e-4)
    torch = pytest.importorskip("torch")
    x = (R.standard_normal(shape) + 1).astype(np.float16)
    y = (R.standard_normal(shape) + 1).astype(np.float16)
    f = lambda a, b: (a * b).sum(dims) * 1.0  # noqa: E731
    c = tg.compile(f)
    eager = f(tg.tensor(x), tg.tensor(y)).numpy()
    for _ in range(3):
        assert np.array_equal(c(tg.tensor(x), tg.tensor(y)).numpy(), eager)
    want = (torch.tensor(x) * torch.tensor(y)).sum(dims).float().numpy()
    x64 = x.astype(np.float64) * y.astype(np.float64)
    assert _rel(eager, x64, dims) <= 2 * _rel(want, x64, dims) + 1e-6


@pytest.mark.parametrize("op", ["add", "mul"])
def test_compiled_broadcast_gradient_over_many_rows_equals_eager(op):
    x = (R.standard_normal((200000, 4)) + 1).astype(np.float32)
    b0 = (R.standard_normal(4) + 1).astype(np.float32)
    g = (R.standard_normal((200000, 4)) + 1).astype(np.float32)

    def step(xt, bt, gt):
        y = xt + bt if op == "add" else xt * bt
        (y * gt).sum().backward()

    grads = []
    for f in (step, tg.compile(step)):
        for _ in range(3):
            b = tg.tensor(b0, requires_grad=True)
            f(tg.tensor(x), b, tg.tensor(g))
        grads.append(b.grad.numpy())
    terms = g.astype(np.float64) * (1.0 if op == "add" else x.astype(np.float64))
    assert _rel(grads[1], terms, 0) < 1e-7
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-7)


def test_compiled_fused_sum_of_products_over_many_rows():
    x = (R.standard_normal((200000, 4)) + 1).astype(np.float32)
    y = (R.standard_normal((200000, 4)) + 1).astype(np.float32)
    c = tg.compile(lambda a, b: (a * b).sum(0) + 0.0)
    for _ in range(3):
        got = c(tg.tensor(x), tg.tensor(y)).numpy()
    assert np.array_equal(got, (tg.tensor(x) * tg.tensor(y)).sum(0).numpy())
    assert _rel(got, (x * y).astype(np.float64), 0) < 1e-7


def test_compiled_bias_gradient_of_a_linear_layer_over_many_rows():
    X = R.standard_normal((50000, 8)).astype(np.float32)
    W0 = R.standard_normal((4, 8)).astype(np.float32)
    G = (R.standard_normal((50000, 4)) + 1).astype(np.float32)

    def step(xt, w, b):
        (tg.nn.functional.linear(xt, w, b) * tg.tensor(G)).sum().backward()

    grads = []
    for f in (step, tg.compile(step)):
        for _ in range(3):
            w = tg.tensor(W0, requires_grad=True)
            b = tg.tensor(np.zeros(4, np.float32), requires_grad=True)
            f(tg.tensor(X), w, b)
        grads.append((w.grad.numpy(), b.grad.numpy()))
    assert _rel(grads[1][1], G.astype(np.float64), 0) < 1e-7
    assert np.array_equal(grads[0][1], grads[1][1])
    np.testing.assert_allclose(grads[1][0], grads[0][0], rtol=1e-5)
