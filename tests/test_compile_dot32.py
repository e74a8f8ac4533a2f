"""tg.compile of the product of two vectors: eager sums two float32 vectors in float64
(``ops/accurate_dot``) while the replay multiplied a row by a column with ``np.matmul``
(float32 BLAS), so a compiled ``a @ b`` of two float32 1e5 vectors differed from eager in the
last bits from the second call on. The replay now takes eager's product: equal bit for bit
(values and gradients) on every call, as accurate as PyTorch's, with matrix products and other
dtypes unchanged; second order against finite differences."""

import warnings

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


PRODUCTS = {"a @ b": lambda a, b, m: a @ b, "scaled": lambda a, b, m: (a * 2.0) @ (b + 1.0),
            "vector @ matrix": lambda a, b, m: a @ m.T, "matrix @ vector": lambda a, b, m: m @ b}


@pytest.mark.parametrize("name", sorted(PRODUCTS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_vector_products_as_eager_bit_for_bit(dtype, name):
    f = PRODUCTS[name]
    rng = np.random.default_rng(0)
    n = 100_000
    compiled = tg.compile(f, fullgraph=True)
    for _ in range(4):  # (the first call records; the others replay)
        a0, b0 = (rng.standard_normal(n).astype(dtype) for _ in range(2))
        m0 = rng.standard_normal((3, n)).astype(dtype)
        ins = [[tg.tensor(v, requires_grad=True) for v in (a0, b0, m0)] for _ in range(2)]
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            got = compiled(*ins[0])
        want = f(*ins[1])
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got.detach().numpy(), want.detach().numpy())
        got.sum().backward()
        want.sum().backward()
        for x, y in zip(ins[0], ins[1]):
            assert (x.grad is None) == (y.grad is None)
            if x.grad is not None:
                np.testing.assert_array_equal(x.grad.numpy(), y.grad.numpy())
        if name == "a @ b":
            exact = np.dot(a0.astype(np.float64), b0.astype(np.float64))
            t = torch.dot(torch.tensor(a0), torch.tensor(b0)).item()
            # as PyTorch's CPU dot, or within float32's rounding of the exact sum
            assert abs(got.item() - exact) <= max(abs(t - exact), abs(exact) * 2 ** -23)
    assert compiled._count == 1


def test_gradcheck_second_order():
    compiled = tg.compile(lambda a, b: (a @ b) * (a.sin() @ b), fullgraph=True)
    rng = np.random.default_rng(1)
    a, b = (tg.tensor(rng.normal(size=5), requires_grad=True) for _ in range(2))
    assert tg.autograd.gradcheck(compiled, (a, b))
    assert tg.autograd.gradgradcheck(compiled, (a, b))
