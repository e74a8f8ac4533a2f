"""np.reshape / np.ravel with order='F' (Fortran order, as code ported from MATLAB writes it)
on tensors: NumPy's values, and the gradient (gradcheck, PyTorch's permute+reshape)."""

import numpy as np
import pytest

import tapegrad as tg

A = np.random.default_rng(0).standard_normal((2, 3, 4))


@pytest.mark.parametrize("f", [
    lambda a: np.ravel(a, order="F"),
    lambda a: np.reshape(a, (4, -1), order="F"),
    lambda a: np.reshape(a, 24, order="F"),
    lambda a: np.reshape(np.transpose(a)[1:], (3, 2, 3), order="F"),
    lambda a: np.reshape(a[:, ::2], (4, 2, 2), order="F"),
])
def test_values_and_gradcheck(f):
    t = tg.tensor(A, requires_grad=True)
    np.testing.assert_array_equal(f(t).detach().numpy(), f(A))
    assert tg.autograd.gradcheck(lambda t: f(t) ** 2, (t,))


def test_against_torch():
    torch = pytest.importorskip("torch")
    w = np.random.default_rng(1).standard_normal((6, 4))
    t = tg.tensor(A, requires_grad=True)
    (np.reshape(t, (6, 4), order="F") * tg.tensor(w)).sum().backward()
    u = torch.tensor(A, requires_grad=True)
    (u.permute(2, 1, 0).reshape(4, 6).T * torch.tensor(w)).sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), u.grad.numpy())


def test_other_orders_name_the_argument():
    t = tg.tensor(A, requires_grad=True)
    with pytest.raises(TypeError, match="numpy.reshape with order='A'"):
        np.reshape(t, -1, order="A")
    np.testing.assert_array_equal(np.ravel(t.detach(), order="K").numpy(), np.ravel(A, order="K"))
