"""A matrix product of a complex and a real tensor raises PyTorch's error (its kernels take one
dtype; NumPy would promote), whichever operand is complex and whether or not either requires
grad; complex with complex and the elementwise products still promote."""

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

PRODUCTS = {
    "matmul": lambda L, a, b: a @ b, "mm": lambda L, a, b: L.mm(a, b),
    "bmm": lambda L, a, b: L.bmm(a[None], b[None]), "batched": lambda L, a, b: a[None] @ b[None],
    "mv": lambda L, a, b: L.mv(a, b[0]), "vecmat": lambda L, a, b: a[0] @ b,
    "dot": lambda L, a, b: L.dot(a[0], b[0]), "vec@vec": lambda L, a, b: a[0] @ b[0],
    "vdot": lambda L, a, b: L.vdot(a[0], b[0]), "inner": lambda L, a, b: L.inner(a, b),
    "tensordot": lambda L, a, b: L.tensordot(a, b, 1),
    "einsum": lambda L, a, b: L.einsum("ij,jk->ik", a, b),
    "einsum_dot": lambda L, a, b: L.einsum("i,i->", a[0], b[0]),
    "linear": lambda L, a, b: L.nn.functional.linear(a, b),
    "multi_dot": lambda L, a, b: L.linalg.multi_dot([a, b, a]),
}


def _error(L, fn, a, b):
    with pytest.raises(RuntimeError) as info:
        fn(L, a, b)
    return str(info.value)


@pytest.mark.parametrize("name", sorted(PRODUCTS))
@pytest.mark.parametrize("complex_first", [True, False])
@pytest.mark.parametrize("grad", [False, True])
@pytest.mark.parametrize("width", [64, 32])
def test_complex_with_real_raises_as_torch(name, complex_first, grad, width):
    rng = np.random.default_rng(0)
    z = (rng.standard_normal((3, 3)) + 1j * rng.standard_normal((3, 3))).astype(f"complex{2 * width}")
    r = rng.standard_normal((3, 3)).astype(f"float{width}")
    a, b = (z, r) if complex_first else (r, z)
    fn = PRODUCTS[name]
    want = _error(torch, fn, torch.tensor(a, requires_grad=grad), torch.tensor(b))
    got = _error(tg, fn, tg.tensor(a, requires_grad=grad), tg.tensor(b))
    assert got == want


def test_complex_products_still_compute():
    rng = np.random.default_rng(1)
    z = rng.standard_normal((2, 3)) + 1j * rng.standard_normal((2, 3))
    r = rng.standard_normal((2, 3))
    for a, b in ((z, r), (r, z)):
        for L in (torch, tg):  # elementwise products promote in both
            assert np.allclose(np.asarray((L.tensor(a) * L.tensor(b)).detach()), a * b)
        assert np.allclose(tg.outer(tg.tensor(a[0]), tg.tensor(b[0])).numpy(),
                           torch.outer(torch.tensor(a[0]), torch.tensor(b[0])).numpy())
    x = tg.tensor(z, requires_grad=True)
    y = x @ tg.tensor(z.T.copy())
    assert np.allclose(y.detach().numpy(), z @ z.T)


@pytest.mark.parametrize("fn", [
    lambda a, b: np.matmul(a, b), lambda a, b: np.dot(a, b), lambda a, b: np.inner(a, b),
    lambda a, b: np.einsum("ij,jk->ik", a, b), lambda a, b: np.tensordot(a, b, 1)])
def test_numpy_functions_keep_numpys_promotion(fn):
    """The NumPy functions on tensors promote a real and a complex operand as NumPy does, with
    the real operand's gradient the real part of its cotangent (finite differences)."""
    rng = np.random.default_rng(2)
    z = rng.standard_normal((3, 3)) + 1j * rng.standard_normal((3, 3))
    r = rng.standard_normal((3, 3))
    for a, b in ((z, r), (r, z)):
        got = fn(tg.tensor(a), tg.tensor(b))
        assert got.dtype == np.complex128 and np.allclose(got.numpy(), fn(a, b))
        ta, tb = tg.tensor(a, requires_grad=True), tg.tensor(b, requires_grad=True)
        assert tg.autograd.gradcheck(lambda p, q: fn(p, q).abs(), (ta, tb))
    i = np.arange(9).reshape(3, 3)
    assert np.allclose(fn(tg.tensor(r), tg.tensor(i)).numpy(), fn(r, i))
