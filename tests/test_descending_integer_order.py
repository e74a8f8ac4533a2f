"""Descending order of integer and bool tensors: sort(descending=True, stable=True) and
topk(largest=True) ordered unsigned integers (and int64's minimum) by their negation, which
wraps; they now follow PyTorch."""

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "int64", "bool"])
def test_stable_descending_sort_and_topk(dtype):
    rng = np.random.default_rng(0)
    info = None if dtype == "bool" else np.iinfo(dtype)
    for _ in range(20):
        shape = (3, int(rng.integers(1, 200)))
        if info is None:
            a = rng.random(shape) < 0.5
        else:
            a = rng.integers(0, 4, shape).astype(dtype)
            a[rng.random(shape) < 0.1] = info.min
            a[rng.random(shape) < 0.1] = info.max
        x, t = tg.tensor(a), torch.tensor(a)
        for dim in (0, 1):
            v, i = x.sort(dim=dim, descending=True, stable=True)
            tv, ti = t.sort(dim=dim, descending=True, stable=True)
            np.testing.assert_array_equal(v.numpy(), tv.numpy())
            np.testing.assert_array_equal(i.numpy(), ti.numpy())
            if dtype != "bool":  # (PyTorch: no CPU topk of bools)
                k = int(rng.integers(0, a.shape[dim] + 1))
                np.testing.assert_array_equal(x.topk(k, dim).values.numpy(),
                                              t.topk(k, dim).values.numpy())
                np.testing.assert_array_equal(x.topk(k, dim, largest=False).values.numpy(),
                                              t.topk(k, dim, largest=False).values.numpy())


def test_gradient_of_descending_float_sort_unchanged():
    y = tg.tensor(np.random.default_rng(3).standard_normal((4, 9)), requires_grad=True)
    assert tg.autograd.gradcheck(lambda t: t.sort(dim=1, descending=True, stable=True).values,
                                 (y,))
    assert tg.autograd.gradcheck(lambda t: t.topk(3, dim=1).values, (y,))
