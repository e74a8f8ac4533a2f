"""Arrays at odd addresses (views of a byte buffer, as arrays unpickled from a message frame
are) give the same gradients as aligned ones: the sweep reads saved values by address."""

import numpy as np
import pytest

import tapegrad as tg


def _unaligned(values, dtype):
    values = np.asarray(values, dtype)
    buf = np.zeros(values.nbytes + 1, np.uint8)
    a = np.ndarray(values.shape, dtype, buffer=buf, offset=1)
    a[...] = values
    assert not a.flags.aligned
    return a


def _f(x):
    y = tg.sin(x) * tg.exp(-x * x) + tg.tanh(x) * x ** 3
    return (y / (1.0 + x * x)).sum() + tg.sqrt(x * x + 1.0).mean()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n", [6, 64, 5000])  # plain kernel, vectorised loops, NumPy path
def test_unaligned_inputs_give_the_aligned_gradient(dtype, n):
    values = np.linspace(-1.5, 2.0, n)
    got = tg.from_numpy(_unaligned(values, dtype)).requires_grad_()  # shares the memory
    want = tg.tensor(values.astype(dtype), requires_grad=True)
    assert not got._data.flags.aligned  # the tensor really holds the odd-address array
    _f(got).backward()
    _f(want).backward()
    assert got.grad.dtype == want.grad.dtype
    np.testing.assert_array_equal(got.grad.numpy(), want.grad.numpy())


def test_unaligned_matrix_through_matmul_and_broadcast():
    rng = np.random.default_rng(0)
    w_values, b_values = rng.standard_normal((4, 3)), rng.standard_normal(3)
    x = tg.tensor(rng.standard_normal((5, 4)))
    grads = []
    for w_arr, b_arr in [(_unaligned(w_values, np.float64), _unaligned(b_values, np.float64)),
                         (w_values, b_values)]:
        w = tg.from_numpy(w_arr).requires_grad_()
        b = tg.from_numpy(b_arr).requires_grad_()
        (tg.tanh(x @ w + b) ** 2).sum().backward()
        grads.append((w.grad.numpy(), b.grad.numpy()))
    for g, r in zip(*grads):
        np.testing.assert_array_equal(g, r)
