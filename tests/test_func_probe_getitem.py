"""``x[key]`` inside ``vmap`` with integer index tensors batched by the vmap (``xi[ii]``,
``xi[:, ii]``, ``xi[ii, :, jj]``, integers and Ellipsis beside them) is one indexing of the
batch, not a Python loop over the examples: each case gives what indexing each example alone
gives (values and gradients, against PyTorch's eager indexing example by example), with no
per-example fallback warning, and its gradients pass finite differences."""

import warnings

import numpy as np
import pytest

import tapegrad as tg

_RNG = np.random.default_rng(0)
X = _RNG.standard_normal((3, 4, 5, 6))
I2 = _RNG.integers(-4, 4, (3, 2))
J2 = _RNG.integers(0, 6, (3, 2))
K0 = _RNG.integers(0, 4, (3,))
I23 = _RNG.integers(0, 4, (3, 2, 3))
U31 = _RNG.integers(0, 5, (3, 1))

# f(x, i, j, k, ii, u): i, j (2,), k 0-d and ii (2, 3) batched; u (3, 1) shared
CASES = {
    "x[i]": lambda x, i, j, k, ii, u: x[i],
    "x[:, j % 5]": lambda x, i, j, k, ii, u: x[:, j % 5],
    "x[i, :, j]": lambda x, i, j, k, ii, u: x[i, :, j],
    "x[0, i]": lambda x, i, j, k, ii, u: x[0, i],
    "x[i, 0]": lambda x, i, j, k, ii, u: x[i, 0],
    "x[:, 0, j]": lambda x, i, j, k, ii, u: x[:, 0, j],
    "x[0, :, j]": lambda x, i, j, k, ii, u: x[0, :, j],
    "x[i, 1:3, j]": lambda x, i, j, k, ii, u: x[i, 1:3, j],
    "x[..., j]": lambda x, i, j, k, ii, u: x[..., j],
    "x[i, ...]": lambda x, i, j, k, ii, u: x[i, ...],
    "x[k]": lambda x, i, j, k, ii, u: x[k],
    "x[:, k]": lambda x, i, j, k, ii, u: x[:, k],
    "x[k, :, j]": lambda x, i, j, k, ii, u: x[k, :, j],
    "x[:, k, j]": lambda x, i, j, k, ii, u: x[:, k, j],
    "x[ii]": lambda x, i, j, k, ii, u: x[ii],
    "x[:, u, i % 5]": lambda x, i, j, k, ii, u: x[:, u, i % 5],
    "x[[0, 1], i % 5]": lambda x, i, j, k, ii, u: x[[0, 1], i % 5],
    "x[i, [[1], [2]], :]": lambda x, i, j, k, ii, u: x[i, [[1], [2]], :],
    "x[1:, k, ::2]": lambda x, i, j, k, ii, u: x[1:, k, ::2],
    "x[:, :, k]": lambda x, i, j, k, ii, u: x[:, :, k],
}


def _weights(shape):
    return np.cos(np.arange(int(np.prod(shape)))).reshape(shape)


def _tg_vmapped(f):
    x = tg.tensor(X, requires_grad=True)
    i, j, k, ii, u = (tg.tensor(a) for a in (I2, J2, K0, I23, U31))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (no "performance drop": no loop over the examples)
        out = tg.func.vmap(lambda xb, ib, jb, kb, iib: f(xb, ib, jb, kb, iib, u))(x, i, j, k, ii)
    (out * tg.tensor(_weights(out.shape))).sum().backward()
    return out.detach().numpy(), x.grad.numpy()


def _per_example(m, f):
    """Each example indexed alone, stacked: the values vmap must give."""
    x = m.tensor(X, requires_grad=True)
    u = m.tensor(U31)
    outs = [f(x[b], m.tensor(I2[b]), m.tensor(J2[b]), m.tensor(K0[b]), m.tensor(I23[b]), u)
            for b in range(X.shape[0])]
    out = m.stack(outs)
    (out * m.tensor(_weights(tuple(out.shape)))).sum().backward()
    return out.detach().numpy(), x.grad.numpy()


@pytest.mark.parametrize("name", list(CASES))
def test_batched_index_matches_each_example(name):
    got, grad = _tg_vmapped(CASES[name])
    want, want_grad = _per_example(tg, CASES[name])
    assert got.shape == want.shape
    np.testing.assert_array_equal(got, want)
    np.testing.assert_allclose(grad, want_grad, rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", list(CASES))
def test_batched_index_against_torch(name):
    torch = pytest.importorskip("torch")
    got, grad = _tg_vmapped(CASES[name])
    want, want_grad = _per_example(torch, CASES[name])
    assert got.shape == want.shape
    np.testing.assert_array_equal(got, want)
    np.testing.assert_allclose(grad, want_grad, rtol=0, atol=1e-12)


def test_per_sample_gradients_against_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x, idx, w = rng.standard_normal((5, 7, 3)), rng.integers(0, 7, (5, 4)), \
        rng.standard_normal((3, 2))

    def run(m):
        def loss(wb, xb, ib):
            return (xb[ib] @ wb).tanh().sum()
        g = m.func.vmap(m.func.grad(loss), in_dims=(None, 0, 0))(
            m.tensor(w), m.tensor(x), m.tensor(idx))
        return g.detach().numpy()

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = run(tg)
    np.testing.assert_allclose(got, run(torch), rtol=1e-12, atol=1e-12)


def test_nested_vmap_and_chunks():
    """A key batched by the inner vmap into a tensor batched by the outer one, and one
    batched by both levels, against the examples one by one."""
    rng = np.random.default_rng(2)
    xs, ids = rng.standard_normal((2, 3, 4, 5, 6)), rng.integers(0, 4, (3, 2))
    outer = rng.integers(0, 6, (2, 2))
    x, i, o = tg.tensor(xs), tg.tensor(ids), tg.tensor(outer)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = tg.func.vmap(lambda xa, oa: tg.func.vmap(lambda xb, ib: xb[ib, :, oa])(xa, i))(x, o)
        chunked = tg.func.vmap(lambda xb, ib: xb[:, ib], chunk_size=2)(x[0], i)
    want = np.stack([np.stack([xs[a, b][ids[b], :, outer[a]] for b in range(3)])
                     for a in range(2)])
    np.testing.assert_array_equal(got.numpy(), want)
    np.testing.assert_array_equal(chunked.numpy(), np.stack([xs[0, b][:, ids[b]]
                                                              for b in range(3)]))


def test_gradients_against_finite_differences():
    i, k = tg.tensor(I2[:, :1] % 4), tg.tensor(K0)
    x = tg.tensor(X[:, :, :2, :3], requires_grad=True)
    assert tg.autograd.gradcheck(
        lambda x: tg.func.vmap(lambda xb, ib, kb: xb[ib, :, kb % 3].exp().sum(-1) * xb[kb, 1])(x, i, k),
        (x,))
    assert tg.autograd.gradgradcheck(
        lambda x: tg.func.vmap(lambda xb, ib: xb[:, ib % 2].sin())(x, i), (x,))


def test_out_of_range_is_each_examples_error():
    """(Such a key falls back to the examples one by one, so the error names each example's
    dims.)"""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(IndexError,
                           match="index 9 is out of bounds for dimension 0 with size 4"):
            tg.func.vmap(lambda xb, ib: xb[ib])(tg.tensor(X),
                                                tg.tensor([[0, 1], [2, 9], [1, 1]]))


def test_uint8_key_is_a_mask_not_indices():
    """A batched uint8 key is a mask to PyTorch (and to tapegrad's indexing): the rule leaves
    it to each example, which reads it as one (the physical key is a valid mask here too, of
    other elements)."""
    mask = np.array([[1, 0, 1], [0, 1, 1], [1, 1, 0]], dtype=np.uint8)
    x = X[:, :3, :3, 0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = tg.func.vmap(lambda xb, mb: xb[mb])(tg.tensor(x), tg.tensor(mask))
    np.testing.assert_array_equal(out.numpy(), np.stack([x[b][mask[b].astype(bool)]
                                                         for b in range(3)]))
