"""Large products in the numeric sweep (``engine.numpy_records``): a product (or ``exp``) seeded
by a full sum hands the saved factor on as its gradient, without a pass (``1.0 * v`` is ``v``),
and ``x * x`` writes or adds both of its gradients in one pass. The values must be exactly what
the formulas give one by one (and PyTorch's), the forward's values untouched, and every
``.grad`` a private, writable array."""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.engine import sweep

BIG = 1 << 19  # arenas of a few such records hold adjoints apart
MID = 1 << 13  # a large record in a small arena: gradients written into the arena
SIZES = pytest.mark.parametrize("n", [BIG, MID], ids=["held", "arena"])
DTYPES = pytest.mark.parametrize("dtype", [np.float64, np.float32])


def _leaves(n, dtype, k, seed):
    r = np.random.default_rng(seed)
    return [tg.tensor(r.standard_normal(n).astype(dtype), requires_grad=True) for _ in range(k)]


def _private(*tensors):
    arrays = [t.grad.numpy() for t in tensors]
    for i, a in enumerate(arrays):
        assert a.flags.writeable and a.flags.c_contiguous
        assert not any(np.shares_memory(a, t.detach().numpy()) for t in tensors)
        assert not any(np.shares_memory(a, b) for b in arrays[i + 1:])


@SIZES
@DTYPES
def test_a_summed_product_gives_each_factor_the_other(n, dtype):
    x, y = _leaves(n, dtype, 2, 1)
    x0, y0 = x.detach().numpy().copy(), y.detach().numpy().copy()
    (x * y).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y0)
    np.testing.assert_array_equal(y.grad.numpy(), x0)
    assert x.grad.dtype == x.dtype
    _private(x, y)
    x.grad += 1.0  # a .grad of its own: the factors stay as they were
    np.testing.assert_array_equal(y.detach().numpy(), y0)
    np.testing.assert_array_equal(x.detach().numpy(), x0)


@SIZES
@DTYPES
def test_factors_handed_on_are_read_not_written(n, dtype):
    """The gradients of ``c`` and ``d`` are ``d`` and ``c`` themselves: the records below read
    them, add into them (a total of their own) and leave the forward's values alone."""
    x, y = _leaves(n, dtype, 2, 2)
    c, d = tg.exp(x), tg.sin(y)
    e = c * d + c * 0.5  # c reached twice: its total must not be written into d's memory
    c0, d0 = c.detach().numpy().copy(), d.detach().numpy().copy()
    e.sum().backward()
    np.testing.assert_array_equal(c.detach().numpy(), c0)
    np.testing.assert_array_equal(d.detach().numpy(), d0)
    gc = d0 + np.array(0.5, dtype)
    np.testing.assert_array_equal(x.grad.numpy(), gc * c0)  # exp's formula: g * out
    cos = tg.cos(tg.tensor(y.detach().numpy())).numpy()  # (tapegrad's cos, as sin's VJP)
    np.testing.assert_allclose(y.grad.numpy(), c0 * cos, rtol=4 * np.finfo(dtype).eps)
    _private(x, y)


def test_the_factor_is_handed_on_without_a_pass(monkeypatch):
    seen = {}
    vjp = sweep.Sweep._numpy_vjp

    def watching(self, r, code):
        seen[r] = self.grad_of(r)
        return vjp(self, r, code)

    monkeypatch.setattr(sweep.Sweep, "_numpy_vjp", watching)
    (x,) = _leaves(BIG, np.float64, 1, 3)
    c = tg.exp(x)
    d = tg.sin(x)
    (c * d).sum().backward()
    assert np.shares_memory(seen[c._rec], d.detach().numpy())
    assert np.shares_memory(seen[d._rec], c.detach().numpy())


def _twice(g, x):
    t = g * x
    return t + t


@SIZES
@DTYPES
def test_a_square_by_itself_in_one_pass(n, dtype):
    x, w = _leaves(n, dtype, 2, 4)
    x0, w0 = x.detach().numpy(), w.detach().numpy()
    (x * x).sum().backward()  # g all ones: x + x
    np.testing.assert_array_equal(x.grad.numpy(), x0 + x0)
    x.grad = None
    ((x * x) * w).sum().backward()  # g = w: (w x) + (w x), written where x's gradient goes
    np.testing.assert_array_equal(x.grad.numpy(), _twice(w0, x0))
    np.testing.assert_array_equal(w.grad.numpy(), x0 * x0)
    _private(x, w)


@SIZES
@DTYPES
def test_a_square_added_to_a_gradient_so_far(n, dtype):
    x, w = _leaves(n, dtype, 2, 5)
    x0, w0 = x.detach().numpy(), w.detach().numpy()
    a = x * x
    b = x * 3.0  # swept before the square: x holds w * 3 when x * x adds its two products
    ((a + b) * w).sum().backward()
    t = w0 * x0
    np.testing.assert_array_equal(x.grad.numpy(), (w0 * np.array(3.0, dtype) + t) + t)
    _private(x, w)


@SIZES
def test_products_match_torch(n):
    torch = pytest.importorskip("torch")
    r = np.random.default_rng(6)
    xs = [r.standard_normal(n), r.standard_normal(n)]

    def f(T, x, y):
        a = x * x
        return (T.sin(x) * T.exp(-a)).sum() + (x * y).sum() + (a * y).sum() + \
            (T.exp(y) * (x * 3.0)).sum()

    mine = [tg.tensor(v, requires_grad=True) for v in xs]
    theirs = [torch.tensor(v, requires_grad=True) for v in xs]
    f(tg, *mine).backward()
    f(torch, *theirs).backward()
    for a, b in zip(mine, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-13, atol=1e-14)


@SIZES
def test_a_square_takes_the_one_pass_loops(n, monkeypatch):
    from tapegrad.engine import _self_product_kernels as K, chains

    monkeypatch.setattr(chains, "CHUNK", 1 << 62)  # (passes over whole arrays: one call each)
    calls = []
    for name in ("product_twice", "product_twice_over_g", "add_product_twice"):
        loop = getattr(K, name)
        monkeypatch.setattr(K, name, lambda *a, _f=loop, _n=name: (calls.append(_n), _f(*a)))
    x, w = _leaves(n, np.float64, 2, 7)
    ((x * x) * w).sum().backward()
    ((x * x + x * 3.0) * w).sum().backward()
    assert len(calls) == 2 and calls[1] == "add_product_twice"


SELECTS = {  # formulas NumPy evaluates as a select: swept by their compiled loops instead
    "relu": (lambda T, x, y: T.relu(x), lambda x, y: [np.where(x > 0, 1.0, 0.0), None]),
    "clamp": (lambda T, x, y: T.clamp(x, -0.5, 0.5),
              lambda x, y: [np.where((x >= -0.5) & (x <= 0.5), 1.0, 0.0), None]),
    "maximum": (lambda T, x, y: T.maximum(x, y),
                lambda x, y: [np.where(x > y, 1.0, 0.0), np.where(y > x, 1.0, 0.0)]),
    "abs times 3": (lambda T, x, y: abs(x) * 3.0,
                    lambda x, y: [np.where(x > 0, 3.0, -3.0), None]),
}


@SIZES
@DTYPES
@pytest.mark.parametrize("name", sorted(SELECTS))
def test_a_select_seeded_by_a_sum(name, n, dtype):
    f, want = SELECTS[name]
    x, y = _leaves(n, dtype, 2, 8)
    f(tg, x, y).sum().backward()
    for t, w in zip((x, y), want(x.detach().numpy(), y.detach().numpy())):
        if w is None:
            assert t.grad is None
        else:
            np.testing.assert_array_equal(t.grad.numpy(), w.astype(dtype))
    x.grad = None
    (f(tg, x, y).sum() * 2.0 + x.sum()).backward()  # a seed of 2, then x's own sum added
    np.testing.assert_array_equal(
        x.grad.numpy(), (want(x.detach().numpy(), y.detach().numpy())[0] * 2.0 + 1.0)
        .astype(dtype))
