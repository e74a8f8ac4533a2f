"""Python's divmod on tensors, as NumPy code writes it for arrays: NumPy's (floor_divide,
remainder) pair; the remainder's gradient is PyTorch's (1 for the dividend, -floor(a / b) for the
divisor), the quotient's 0."""

import numpy as np
import pytest

import tapegrad as tg

A = np.array([2.5, -1.2, 3.0, -4.1])
B = np.array([0.7, 0.7, -1.3, 2.0])


def test_values_as_numpy():
    for a, b in ((tg.tensor(A), 0.7), (2.0, tg.tensor(B)), (tg.tensor(A), tg.tensor(B)),
                 (tg.tensor([7, -7]), 3)):
        q, r = divmod(a, b)
        qn, rn = divmod(a.numpy() if isinstance(a, tg.Tensor) else a,
                        b.numpy() if isinstance(b, tg.Tensor) else b)
        assert q.dtype == qn.dtype and r.dtype == rn.dtype
        np.testing.assert_array_equal(q.numpy(), qn)
        np.testing.assert_allclose(r.numpy(), rn, rtol=1e-15)


def test_gradients_against_torch():
    torch = pytest.importorskip("torch")
    a, b = tg.tensor(A, requires_grad=True), tg.tensor(B, requires_grad=True)
    q, r = divmod(a, b)
    (q * 3.0 + r * tg.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    ta, tb = torch.tensor(A, requires_grad=True), torch.tensor(B, requires_grad=True)
    tq, tr = torch.div(ta, tb, rounding_mode="floor"), torch.remainder(ta, tb)
    (tq * 3.0 + tr * torch.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-15)
    np.testing.assert_allclose(b.grad.numpy(), tb.grad.numpy(), rtol=1e-15)
    x = tg.tensor([0.8, -1.1, 2.2, -4.1], requires_grad=True)  # (5 / x not at an integer)
    assert tg.autograd.gradcheck(lambda x: divmod(5.0, x)[1], (x,))
