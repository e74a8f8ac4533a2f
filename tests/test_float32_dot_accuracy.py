"""Dot products of float32 vectors (tg.dot, tg.inner, 1-D @, einsum 'i,i->') are summed in
float64 and rounded once: at least as accurate as PyTorch's (BLAS's float32 sum was a few
times less accurate on 1e5 values). float64 products are NumPy's, bit for bit."""
import warnings

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

PRODUCTS = {
    "dot": lambda L, a, b: L.dot(a, b), "inner": lambda L, a, b: L.inner(a, b),
    "matmul": lambda L, a, b: a @ b, "einsum": lambda L, a, b: L.einsum("i,i->", a, b),
}


def _ulp_error(v, ref):
    return abs(float(v) - ref) / float(np.spacing(np.float32(abs(ref))))


@pytest.mark.parametrize("name", list(PRODUCTS))
@pytest.mark.parametrize("gen", ["uniform", "standard_normal"])
def test_as_accurate_as_torch(name, gen):
    rng = np.random.default_rng(7)
    fn, ours, theirs = PRODUCTS[name], [], []
    for _ in range(12):
        a, b = (getattr(rng, gen)(size=100_000).astype(np.float32) for _ in range(2))
        ref = float(np.dot(a.astype(np.float64), b.astype(np.float64)))
        v = fn(tg, tg.tensor(a), tg.tensor(b))
        assert v.dtype == np.float32 and v.shape == ()
        ours.append(_ulp_error(v.item(), ref))
        theirs.append(_ulp_error(fn(torch, torch.tensor(a), torch.tensor(b)).item(), ref))
    assert max(ours) <= 0.5 + 1e-6  # (the float64 sum rounded once: correctly rounded)
    assert np.median(ours) <= np.median(theirs)


@pytest.mark.parametrize("name", list(PRODUCTS))
def test_edges_and_gradients(name):
    fn = PRODUCTS[name]
    big = np.float32(3e38)
    cases = [np.zeros(0, np.float32), np.array([1.5], np.float32),
             np.array([np.inf, 1.0], np.float32), np.array([np.nan, 1.0], np.float32),
             np.array([big, big], np.float32), np.arange(12, dtype=np.float32)[::3]]
    for a in cases:
        b = np.ones_like(a) * np.float32(0.5)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            got = fn(tg, tg.tensor(a), tg.tensor(b)).item()
        want = fn(torch, torch.tensor(a), torch.tensor(b)).item()
        assert got == want or (np.isnan(got) and np.isnan(want))
    x = np.random.default_rng(1).standard_normal(50).astype(np.float32)
    y = x[::-1].copy()
    ta, tb = tg.tensor(x, requires_grad=True), tg.tensor(y, requires_grad=True)
    base = tg.tensor(np.arange(100, dtype=np.float32), requires_grad=True)
    strided = base[::2]  # (a view: strided memory)
    fn(tg, ta, tb).backward()
    (fn(tg, strided, tb) * 2).backward()
    qa, qb = torch.tensor(x, requires_grad=True), torch.tensor(y, requires_grad=True)
    fn(torch, qa, qb).backward()
    np.testing.assert_array_equal(ta.grad.numpy(), qa.grad.numpy())
    np.testing.assert_allclose(tb.grad.numpy(), qb.grad.numpy() + 2 * np.arange(0, 100, 2))
    np.testing.assert_array_equal(base.grad.numpy()[::2], 2 * y)
    assert fn(tg, strided, tb).item() == np.float32(np.dot(np.arange(0, 100, 2.0), y))


def test_float64_unchanged():
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal(10_000), rng.standard_normal(10_000)
    for fn in PRODUCTS.values():
        assert fn(tg, tg.tensor(a), tg.tensor(b)).item() == np.dot(a, b)
    x64 = tg.tensor(a[:100], requires_grad=True)
    assert tg.autograd.gradcheck(lambda t: tg.dot(t, t[::-1]), (x64,))
