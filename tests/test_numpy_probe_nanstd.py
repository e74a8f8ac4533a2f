"""np.nanstd on tensors where the spread is 0 (constant data, a single non-NaN value): the
gradient is 0 there, as np.std's and PyTorch's std (std_backward), not NaN."""

import warnings

import numpy as np
import pytest

import tapegrad as tg

A = np.array([[2.0, 2.0, 2.0, 2.0], [1.0, np.nan, 1.0, np.nan], [1.0, 2.0, 4.0, 0.5],
              [np.nan, 3.0, np.nan, np.nan]])


@pytest.mark.parametrize("keepdims", [False, True])
def test_zero_spread_gradient_is_zero(keepdims):
    t = tg.tensor(A, requires_grad=True)
    r = np.nanstd(t, axis=1, keepdims=keepdims)
    np.testing.assert_allclose(r.detach().numpy(), np.nanstd(A, axis=1, keepdims=keepdims),
                               rtol=1e-15)
    (g,) = tg.autograd.grad(r.sum(), [t])
    g = g.numpy()
    assert not np.isnan(g).any()
    np.testing.assert_array_equal(g[[0, 1, 3]], 0.0)
    # the row with a spread: d std / dx = (x - mean) / (n std)
    row = A[2]
    np.testing.assert_allclose(g[2], (row - row.mean()) / (4 * row.std()), rtol=1e-14)


def test_matches_np_std_and_torch():
    torch = pytest.importorskip("torch")
    data = np.array([[3.0, 3.0, 3.0], [0.5, -1.0, 2.0]])
    t, s = tg.tensor(data, requires_grad=True), tg.tensor(data, requires_grad=True)
    u = torch.tensor(data, requires_grad=True)
    w = np.array([1.5, -0.7])
    (np.nanstd(t, axis=1) * tg.tensor(w)).sum().backward()
    (np.std(s, axis=1) * tg.tensor(w)).sum().backward()
    (u.std(1, correction=0) * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), u.grad.numpy(), rtol=1e-14)
    np.testing.assert_allclose(t.grad.numpy(), s.grad.numpy(), rtol=1e-14)


def test_gradcheck_with_nans_and_constant_rows():
    t = tg.tensor(A[[0, 1, 2]], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert tg.autograd.gradcheck(lambda t: np.nanstd(t, axis=1, ddof=1), (t,))
        assert tg.autograd.gradcheck(lambda t: np.nanstd(t), (t,))
