"""sort/argsort without stable=True: among equal values, the order PyTorch's CPU sort
(std::sort) leaves, so indices and the places gradients go match PyTorch's; stable=True keeps
index order."""

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("dtype", ["float64", "float32", "float16", "int64", "int32", "uint8",
                                   "bool"])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_ties_follow_pytorch(dtype, descending):
    rng = np.random.default_rng(11)
    for _ in range(25):
        shape = (int(rng.integers(1, 4)), int(rng.integers(1, 300)))
        a = rng.integers(0, int(rng.integers(1, 6)), shape).astype(dtype)
        if dtype.startswith("float") and rng.random() < 0.3:
            a[rng.random(shape) < 0.1] = np.nan
        for dim in (1, 0):
            v, i = tg.tensor(a).sort(dim=dim, descending=descending)
            tv, ti = torch.tensor(a).sort(dim=dim, descending=descending)
            np.testing.assert_array_equal(i.numpy(), ti.numpy())
            np.testing.assert_array_equal(v.numpy(), tv.numpy())
            np.testing.assert_array_equal(
                tg.argsort(tg.tensor(a), dim, descending).numpy(),
                torch.argsort(torch.tensor(a), dim, descending).numpy())
            sv, si = tg.tensor(a).sort(dim=dim, descending=descending, stable=True)
            tsv, tsi = torch.tensor(a).sort(dim=dim, descending=descending, stable=True)
            np.testing.assert_array_equal(si.numpy(), tsi.numpy())


def test_sort_large_and_ordered_inputs():
    rng = np.random.default_rng(4)
    for a in (np.arange(3000.0), np.arange(3000.0)[::-1].copy(), np.zeros(3000),
              np.r_[np.arange(1500.0), np.arange(1500.0)[::-1]],
              rng.integers(0, 40, 20000).astype(float)):
        for descending in (False, True):
            np.testing.assert_array_equal(
                tg.tensor(a).sort(descending=descending).indices.numpy(),
                torch.tensor(a).sort(descending=descending).indices.numpy())


def test_sort_ties_gradient():
    a = np.array([[3., 1., 3., 2., 1.] * 4, [2., 2., 2., 0., 5.] * 4, [1., 4., 4., 4., 1.] * 4])
    g = np.random.default_rng(2).standard_normal(a.shape)
    x = tg.tensor(a, requires_grad=True)
    tx = torch.tensor(a, requires_grad=True)
    (x.sort(dim=1, descending=True).values * tg.tensor(g)).sum().backward()
    (tx.sort(dim=1, descending=True).values * torch.tensor(g)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())
    # away from ties sorting is a permutation: finite differences in float64
    y = tg.tensor(np.random.default_rng(3).standard_normal((3, 20)), requires_grad=True)
    assert tg.autograd.gradcheck(lambda t: t.sort(dim=1).values, (y,))
    assert tg.autograd.gradcheck(lambda t: t.sort(dim=0, descending=True).values, (y,))


@pytest.mark.parametrize("stable", [False, True])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_nan_infinities_and_signed_zeros_in_pytorch_order(stable, dtype):
    # descending, NaN ranks above +inf (it was put after it); -0.0 and 0.0 are equal values;
    # rows with and without ties side by side, along either dim
    rng = np.random.default_rng(7)
    vals = np.array([0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, 2.5])
    for _ in range(40):
        n = int(rng.integers(1, 45))
        a = np.stack([rng.choice(vals, n), rng.permutation(n) + 0.5]).astype(dtype)
        for dim, b in ((1, a), (0, a.T.copy())):
            for descending in (False, True):
                x, tx = tg.tensor(b, requires_grad=True), torch.tensor(b, requires_grad=True)
                v, i = x.sort(dim=dim, descending=descending, stable=stable)
                tv, ti = tx.sort(dim=dim, descending=descending, stable=stable)
                np.testing.assert_array_equal(i.numpy(), ti.numpy())
                g = rng.standard_normal(b.shape).astype(dtype)
                v.backward(tg.tensor(g))
                tv.backward(torch.tensor(g))
                np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())
