"""kthvalue among equal values: the index (and so the place the gradient goes) is the one
PyTorch's CPU quickselect returns, NaN ranked largest."""

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("dtype", ["float64", "float32", "float16", "int64", "uint8"])
def test_kthvalue_ties_follow_pytorch(dtype):
    rng = np.random.default_rng(7)
    for _ in range(60):
        n = int(rng.integers(1, 90))
        a = rng.integers(0, int(rng.integers(1, 5)), (3, n)).astype(dtype)
        if dtype.startswith("float") and rng.random() < 0.3:
            a[rng.random(a.shape) < 0.1] = np.nan
        k = int(rng.integers(1, n + 1))
        v, i = tg.tensor(a).kthvalue(k, dim=1)
        tv, ti = torch.tensor(a).kthvalue(k, dim=1)
        np.testing.assert_array_equal(i.numpy(), ti.numpy())
        np.testing.assert_array_equal(v.numpy(), tv.numpy())


@pytest.mark.parametrize("dim,keepdim", [(0, False), (1, True), (-1, False)])
def test_kthvalue_ties_gradient(dim, keepdim):
    a = np.array([[[3., 1., 3., 2., 1.], [2., 2., 2., 0., 5.], [1., 4., 4., 4., 1.]],
                  [[0., 0., 0., 0., 0.], [1., 1., 2., 2., 1.], [7., 7., 7., 7., 3.]]])
    g = np.random.default_rng(2).standard_normal(
        torch.tensor(a).kthvalue(2, dim, keepdim).values.shape)
    x = tg.tensor(a, requires_grad=True)
    tx = torch.tensor(a, requires_grad=True)
    v, i = x.kthvalue(2, dim, keepdim)
    tv, ti = tx.kthvalue(2, dim, keepdim)
    np.testing.assert_array_equal(i.numpy(), ti.numpy())
    (v * tg.tensor(g)).sum().backward()
    (tv * torch.tensor(g)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())
    # away from ties the selection is smooth: finite differences in float64
    y = tg.tensor(np.random.default_rng(3).standard_normal(a.shape), requires_grad=True)
    assert tg.autograd.gradcheck(lambda t: t.kthvalue(2, dim, keepdim).values, (y,))


def test_bool_inputs_refused_as_pytorch():
    for lib in (tg, torch):
        b = lib.tensor([[True, False, True]])
        with pytest.raises(NotImplementedError, match="\"kthvalue_cpu\" not implemented for 'Bool'"):
            b.kthvalue(1)
        with pytest.raises(RuntimeError, match="topk does not support bool dtypes on CPU"):
            b.topk(1)
