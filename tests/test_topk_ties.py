"""topk among equal values: the indices PyTorch's CPU topk returns (std::partial_sort where
64 k <= n, else std::nth_element and a sort of the first k - 1), so the gradient goes to the
same entries."""

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("dtype", ["float64", "float32", "float16", "int64", "uint8"])
def test_topk_ties_follow_pytorch(dtype):
    rng = np.random.default_rng(3)
    for _ in range(40):
        shape = (int(rng.integers(1, 4)), int(rng.integers(1, 400)))
        a = rng.integers(0, int(rng.integers(1, 7)), shape).astype(dtype)
        if dtype.startswith("float") and rng.random() < 0.3:
            a[rng.random(shape) < 0.1] = np.nan
        for dim in (1, 0):
            n = a.shape[dim]
            k = int(rng.integers(0, n + 1)) if rng.random() < 0.5 else \
                int(rng.integers(1, max(2, n // 64 + 1)))  # (partial_sort's range)
            for largest in (True, False):
                for ordered in (True, False):
                    v, i = tg.tensor(a).topk(k, dim, largest, ordered)
                    tv, ti = torch.tensor(a).topk(k, dim, largest, ordered)
                    np.testing.assert_array_equal(i.numpy(), ti.numpy())
                    np.testing.assert_array_equal(v.numpy(), tv.numpy())


def test_topk_ties_gradient():
    a = np.tile(np.array([[3., 1., 3., 2., 1.], [2., 2., 2., 0., 5.], [1., 4., 4., 4., 1.]]),
                (1, 30))
    for k in (1, 2, 7):
        g = np.random.default_rng(k).standard_normal((3, k))
        x = tg.tensor(a, requires_grad=True)
        tx = torch.tensor(a, requires_grad=True)
        (x.topk(k, 1).values * tg.tensor(g)).sum().backward()
        (tx.topk(k, 1).values * torch.tensor(g)).sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())
    # away from ties topk picks and orders entries: finite differences in float64
    y = tg.tensor(np.random.default_rng(3).standard_normal((3, 150)), requires_grad=True)
    assert tg.autograd.gradcheck(lambda t: t.topk(2, 1).values, (y,))
    assert tg.autograd.gradcheck(lambda t: t.topk(2, 0, largest=False).values, (y,))
