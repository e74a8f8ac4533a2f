"""The 2-norm of CPU float tensors is one record (``ops/vector_norm.py``), as PyTorch's
``LinalgVectorNormBackward0``: PyTorch's values, first and second derivatives over every dim, some
dims, with and without ``keepdim``, in both float dtypes; the gradient at a zero vector is 0, as
PyTorch's; finite differences, forward mode and vmap; ``normalize`` and
``cosine_similarity``, built on it, as PyTorch's."""

import numpy as np
import pytest

import tapegrad as tg

F = tg.nn.functional
CASES = [((4, 5), None, False), ((4, 5), 1, True), ((4, 5), -1, False), ((3, 4, 5), (0, 2), False),
         ((3, 4, 5), (2, 1), True), ((6,), 0, False), ((70, 80), 0, False)]


def _derivatives(L, x0, dim, keepdim, seed=1):
    x = L.tensor(x0, requires_grad=True)
    y = L.linalg.vector_norm(x, 2, dim, keepdim)
    w = np.random.default_rng(seed).standard_normal(tuple(y.shape)).astype(x0.dtype)
    gx, = L.autograd.grad((y * L.tensor(w)).sum(), x, create_graph=True)
    hx, = L.autograd.grad((gx * gx * x).sum(), x)
    return y, [t.detach().numpy() for t in (y, gx, hx)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape,dim,keepdim", CASES)
def test_one_record_with_pytorchs_values_and_derivatives(shape, dim, keepdim, dtype):
    x0 = np.random.default_rng(len(shape)).standard_normal(shape).astype(dtype)
    y, ours = _derivatives(tg, x0, dim, keepdim)
    assert type(y.grad_fn).__name__ == "LinalgVectorNormBackward0"
    assert all(a.dtype == dtype for a in ours)
    torch = pytest.importorskip("torch")
    _, theirs = _derivatives(torch, x0, dim, keepdim)
    tol = dict(rtol=1e-12, atol=1e-13) if dtype == np.float64 else dict(rtol=3e-5, atol=3e-5)
    for a, c in zip(ours, theirs):
        assert a.shape == c.shape
        np.testing.assert_allclose(a, c, **tol)


def test_zero_vectors_get_a_zero_gradient_as_pytorchs():
    x0 = np.random.default_rng(2).standard_normal((4, 5))
    x0[1] = 0.0
    x = tg.tensor(x0, requires_grad=True)
    tg.norm(x, dim=1).sum().backward()
    want = x0 / np.maximum(np.linalg.norm(x0, axis=1, keepdims=True), 1e-300)
    np.testing.assert_allclose(x.grad.numpy(), want, rtol=1e-14)
    assert not np.isnan(x.grad.numpy()).any()
    torch = pytest.importorskip("torch")
    xt = torch.tensor(x0, requires_grad=True)
    torch.norm(xt, dim=1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-14)


def test_a_zero_dim_tensor_and_a_one_element_array():
    for shape in ((), (1, 1)):
        x = tg.tensor(np.full(shape, -3.0), requires_grad=True)
        y = tg.linalg.vector_norm(x)
        y.backward()
        assert y.item() == 3.0 and np.all(x.grad.numpy() == -1.0)


def test_finite_differences_forward_mode_and_vmap():
    x0 = np.random.default_rng(3).standard_normal((3, 4))
    for dim, keepdim in ((None, False), (1, True), (0, False)):
        def f(a):
            return tg.linalg.vector_norm(a, 2, dim, keepdim)

        x = tg.tensor(x0, requires_grad=True)
        assert tg.autograd.gradcheck(f, (x,)) and tg.autograd.gradgradcheck(f, (x,))
        np.testing.assert_allclose(tg.func.jacfwd(f)(tg.tensor(x0)).numpy(),
                                   tg.func.jacrev(f)(tg.tensor(x0)).numpy(), rtol=1e-13)
    rows = tg.func.vmap(lambda r: tg.linalg.vector_norm(r))(tg.tensor(x0))
    np.testing.assert_allclose(rows.numpy(), np.linalg.norm(x0, axis=1), rtol=1e-14)


@pytest.mark.parametrize("shapes", [((6, 7), (6, 7)), ((6, 7), (1, 7)), ((2, 3, 4), (2, 3, 4))])
def test_normalize_and_cosine_similarity_as_pytorchs(shapes):
    torch = pytest.importorskip("torch")
    r = np.random.default_rng(4)
    a0, b0 = r.standard_normal(shapes[0]), r.standard_normal(shapes[1])
    a0[0] *= 1e-9  # (a norm below cosine_similarity's eps: its clamp)
    res = []
    for L in (tg, torch):
        a, b = L.tensor(a0, requires_grad=True), L.tensor(b0, requires_grad=True)
        c = L.nn.functional.cosine_similarity(a, b, dim=-1)
        n = L.nn.functional.normalize(a, dim=1)
        ga, gb = L.autograd.grad((c ** 3).sum() + (n * L.tensor(a0)).sum(), (a, b),
                                 create_graph=True)
        h = L.autograd.grad((ga ** 2).sum() + (gb ** 2).sum(), (a, b))
        res.append([t.detach().numpy() for t in (c, n, ga, gb) + tuple(h)])
    for x, y in zip(*res):
        np.testing.assert_allclose(x, y, rtol=1e-11, atol=1e-12)
