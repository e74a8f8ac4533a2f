"""float32 sums over a long outer axis (x.sum(0), a bias's gradient over a large batch) are
as accurate as PyTorch's cascade sums, measured against float64 sums of the same values;
NumPy's row-after-row float32 accumulation was ~30x further off."""

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

N = 500000


def _data(shape, seed):
    return (np.random.default_rng(seed).standard_normal(shape) + 1).astype(np.float32)


def _rel(got, exact):
    return np.abs(np.asarray(got, np.float64) - exact).max() / np.abs(exact).max()


@pytest.mark.parametrize("shape, dim", [((N, 4), 0), ((20000, 3, 5), 0), ((4, 50000, 3), 1),
                                        ((1000, 1000), 0)])
def test_forward_sum_over_outer_axis(shape, dim):
    x = _data(shape, 0)
    exact = x.astype(np.float64).sum(dim)
    got = tg.tensor(x).sum(dim)
    assert got.dtype == tg.float32
    assert _rel(got.numpy(), exact) <= max(_rel(torch.from_numpy(x).sum(dim).numpy(), exact),
                                           2.0 ** -24)


def _bias_grad(m, case, x, g):
    b = m.tensor(np.linspace(0.5, 1.5, 4).astype(x.dtype), requires_grad=True)
    xt, gt = m.tensor(x), m.tensor(g)
    if case == "add":
        (xt + b).backward(gt)
    elif case == "sub":
        ((xt - b) * gt).sum().backward()
    elif case == "mul":
        (xt * b * gt).sum().backward()
    elif case == "row":
        ((xt + b.reshape(1, 4)) * gt).sum().backward()
    elif case == "linear":
        w = m.tensor(np.eye(4, dtype=x.dtype))
        (m.nn.functional.linear(xt, w, b) * gt).sum().backward()
    return b.grad.numpy()


@pytest.mark.parametrize("case", ["add", "sub", "mul", "row", "linear"])
def test_bias_gradient_over_long_batch(case):
    x, g = _data((N, 4), 1), _data((N, 4), 2)
    exact = _bias_grad(tg, case, x.astype(np.float64), g.astype(np.float64))
    got = _bias_grad(tg, case, x, g)
    assert got.dtype == np.float32
    assert _rel(got, exact) <= max(_rel(_bias_grad(torch, case, x, g), exact), 2.0 ** -24)


def test_product_bias_gradient_over_3000_rows():
    x = tg.tensor(_data((3000, 8), 3))
    b = tg.zeros(8, dtype=tg.float32, requires_grad=True)
    (x * b).sum().backward()
    exact = x.numpy().astype(np.float64).sum(0)
    assert _rel(b.grad.numpy(), exact) < 1e-7


def test_non_finite_sums_keep_numpys_values_and_warnings():
    x = np.ones((1000, 20), np.float32)
    x[3, 2] = np.inf
    x[5, 7] = np.nan
    np.testing.assert_array_equal(tg.tensor(x).sum(0).numpy(), x.sum(0))
