"""cumsum's compiled running sums (``ops/_cumulative_kernels.py``): NumPy's values bit for bit
along every axis, both dtypes, strided inputs; gradients against finite differences and
PyTorch in both dtypes."""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.autograd.gradcheck import gradcheck, gradgradcheck
from tapegrad.ops.cumulative import running

SHAPES = [(64, 128), (8192,), (3, 4, 5), (1,), (0, 5), (5, 0), (30, 7, 9), (7, 300), (6, 5),
          (9, 2, 1)]


def _values(r, shape, dtype):
    v = r.standard_normal(shape) * 10
    if v.size > 4:
        v.reshape(-1)[:4] = [1e16, -1e16, 0.5, np.inf]  # cancellation: the order of additions
    return v.astype(dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", SHAPES)
def test_running_sums_are_numpys_in_both_directions(shape, dtype):
    r = np.random.default_rng(len(shape) * 31 + sum(shape))
    a = _values(r, shape, dtype)
    for d in range(a.ndim):
        got = running(a, d)
        want = np.cumsum(a, axis=d)
        assert got.dtype == want.dtype == dtype
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(running(a, d, reverse=True),
                                      np.flip(np.cumsum(np.flip(a, d), axis=d), d))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_strided_and_transposed_inputs(dtype):
    r = np.random.default_rng(1)
    a = _values(r, (40, 60), dtype)
    for view in (a.T, a[::2, 1::3], a[:, ::-1]):
        for d in range(2):
            np.testing.assert_array_equal(running(view, d), np.cumsum(view, axis=d))
            np.testing.assert_array_equal(tg.cumsum(tg.tensor(view), d).numpy(),
                                          np.cumsum(view, axis=d))


def test_tensor_cumsum_uses_numpys_values_and_dtypes():
    r = np.random.default_rng(2)
    for dtype in (np.float64, np.float32):
        a = _values(r, (16, 33), dtype)
        for d in (0, 1, -1):
            np.testing.assert_array_equal(tg.tensor(a).cumsum(d).numpy(), np.cumsum(a, axis=d))
    i = np.arange(12).reshape(3, 4)
    assert tg.tensor(i).cumsum(1).dtype == np.int64
    np.testing.assert_array_equal(tg.tensor(i).cumsum(1).numpy(), np.cumsum(i, 1))
    x = tg.tensor(np.ones((4, 16)))  # to another dtype: NumPy's summation in that dtype
    np.testing.assert_array_equal(tg.cumsum(x, 1, dtype=tg.float32).numpy(),
                                  np.cumsum(np.ones((4, 16)), 1, dtype=np.float32))


@pytest.mark.parametrize("shape,dim", [((8, 16), 1), ((8, 16), 0), ((4, 5, 6), 1), ((70,), 0)])
def test_gradients_by_finite_differences(shape, dim):
    x = tg.tensor(np.random.default_rng(3).standard_normal(shape), requires_grad=True)
    w = tg.tensor(np.random.default_rng(4).standard_normal(shape))
    assert gradcheck(lambda t: (tg.cumsum(t, dim) * w).sum(), (x,))
    assert gradgradcheck(lambda t: (tg.cumsum(t, dim) ** 2 * w).sum(), (x,))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("shape,dim", [((64, 128), 1), ((64, 128), 0), ((3, 50, 7), 1),
                                       ((8192,), 0)])
def test_against_pytorch(shape, dim, dtype):
    torch = pytest.importorskip("torch")
    r = np.random.default_rng(5)
    a, w = (r.standard_normal(shape).astype(dtype) for _ in range(2))
    x = tg.tensor(a, requires_grad=True)
    xt = torch.tensor(a, requires_grad=True)
    y, yt = tg.cumsum(x, dim), torch.cumsum(xt, dim)
    (y * tg.tensor(w)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    tol = dict(rtol=1e-4, atol=1e-3) if dtype == "float32" else dict(rtol=1e-12, atol=1e-10)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), **tol)
    assert x.grad.dtype == a.dtype
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), **tol)
