"""``b[key] = value`` inside ``vmap`` on a tensor batched by the vmap, with integer index
tensors batched there too (``b[i] = v``, ``b[i, :, j] = 1.0``, ``b[k] += 1``): one write into
the batch instead of running the whole function once per example. Each case leaves what
writing each example alone leaves (values and gradients of the tensor and of the value,
against PyTorch's eager indexing example by example), with no fallback warning; a key the
rule does not take still falls back, its warning naming index_put_."""

import warnings

import numpy as np
import pytest

import tapegrad as tg

_RNG = np.random.default_rng(0)
X = _RNG.standard_normal((3, 4, 5, 6))
I2 = _RNG.integers(-4, 4, (3, 2))
J2 = _RNG.integers(0, 6, (3, 2))
K0 = _RNG.integers(0, 4, (3,))
V = _RNG.standard_normal((3, 2, 5, 6))
W = _RNG.standard_normal((3, 5, 2))

CASES = {
    "b[i] = 0": lambda b, i, j, k, v, w: b.__setitem__(i, 0.0),
    "b[i] = v": lambda b, i, j, k, v, w: b.__setitem__(i, v),
    "b[i] = v[0]": lambda b, i, j, k, v, w: b.__setitem__(i, v[0]),
    "b[0, :, j] = w": lambda b, i, j, k, v, w: b.__setitem__((0, slice(None), j), w),
    "b[i, :, j] = 1": lambda b, i, j, k, v, w: b.__setitem__((i, slice(None), j), 1.0),
    "b[i, :, j] = w.T": lambda b, i, j, k, v, w: b.__setitem__((i, slice(None), j), w.T),
    "b[:, k] = w[:4, :1]": lambda b, i, j, k, v, w: b.__setitem__((slice(None), k), w[:4, :1]),
    "b[k] += 1": lambda b, i, j, k, v, w: b.__setitem__(k, b[k] + 1),
    "b[i] += v": lambda b, i, j, k, v, w: b.__setitem__(i, b[i] + v),
    "b[..., j] = w[0]": lambda b, i, j, k, v, w: b.__setitem__((Ellipsis, j), w[0]),
    "b[:, 1:3, j] = 7": lambda b, i, j, k, v, w: b.__setitem__((slice(None), slice(1, 3), j),
                                                               7.0),
}


def _written(write):
    def f(x, i, j, k, v, w):
        b = x.clone()
        write(b, i, j, k, v, w)
        return b
    return f


def _grads(m, out, *leaves):
    weights = m.tensor(np.cos(np.arange(out.numel())).reshape(tuple(out.shape)))
    (out * weights).sum().backward()
    return [out.detach().numpy()] + [np.zeros(tuple(t.shape)) if t.grad is None else
                                     t.grad.numpy() for t in leaves]


def _vmapped(write):
    x, v, w = (tg.tensor(a, requires_grad=True) for a in (X, V, W))
    i, j, k = (tg.tensor(a) for a in (I2, J2, K0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (no "performance drop": no loop over the examples)
        out = tg.func.vmap(_written(write))(x, i, j, k, v, w)
    return _grads(tg, out, x, v, w)


def _per_example(m, write):
    x, v, w = (m.tensor(a, requires_grad=True) for a in (X, V, W))
    f = _written(write)
    out = m.stack([f(x[b], m.tensor(I2[b]), m.tensor(J2[b]), m.tensor(K0[b]), v[b], w[b])
                   for b in range(3)])
    return _grads(m, out, x, v, w)


def _same(got, want):
    for g, h in zip(got, want):
        assert np.shape(g) == np.shape(h)
        np.testing.assert_allclose(g, h, rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", list(CASES))
def test_batched_write_matches_each_example(name):
    _same(_vmapped(CASES[name]), _per_example(tg, CASES[name]))


@pytest.mark.parametrize("name", list(CASES))
def test_batched_write_against_torch(name):
    torch = pytest.importorskip("torch")
    _same(_vmapped(CASES[name]), _per_example(torch, CASES[name]))


def test_gradients_against_finite_differences():
    i, k = tg.tensor(I2 % 2), tg.tensor(K0 % 2)
    x = tg.tensor(X[:, :2, :2, :3], requires_grad=True)
    v = tg.tensor(V[:, :, :2, :3], requires_grad=True)

    def f(x, v):
        def one(xb, ib, kb, vb):
            b = xb.sin()
            b[ib] = vb * b[kb]
            return b
        return tg.func.vmap(one)(x, i, k, v)

    assert tg.autograd.gradcheck(f, (x, v))
    assert tg.autograd.gradgradcheck(f, (x, v))


def test_key_left_to_the_loop_names_index_put():
    """(Two batched index arrays with a None between them: each example alone.)"""
    x, i = tg.tensor(X), tg.tensor(I2 % 4)

    def f(xb, ib):
        b = xb.clone()
        b[None, ib] = 0.0
        return b

    with pytest.warns(UserWarning, match="the batching rule for index_put_. tapegrad runs"):
        out = tg.func.vmap(f)(x, i)
    want = X.copy()
    for b in range(3):
        want[b][I2[b] % 4] = 0.0
    np.testing.assert_array_equal(out.numpy(), want)


def test_nested_vmap():
    """Keys batched by the inner and by the outer vmap, against each example written alone."""
    rng = np.random.default_rng(3)
    xs, ids, outer = rng.standard_normal((2, 3, 4, 5)), rng.integers(0, 4, (3, 2)), \
        rng.integers(0, 4, (2, 2))

    def inner(xb, ib, ob):
        b = xb.clone()
        b[ib] = 0.0
        b[ob, 1] = 5.0
        return b

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = tg.func.vmap(lambda xa, oa: tg.func.vmap(inner, in_dims=(0, 0, None))(
            xa, tg.tensor(ids), oa))(tg.tensor(xs), tg.tensor(outer))
    want = xs.copy()
    for a in range(2):
        for b in range(3):
            want[a, b][ids[b]] = 0.0
            want[a, b][outer[a], 1] = 5.0
    np.testing.assert_array_equal(out.numpy(), want)
