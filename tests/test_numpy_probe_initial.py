"""np.max/np.min with ``initial=`` (and the where= fill) given as a tensor that requires grad: it
raised (np.asarray of the tensor); the gradient now reaches it, as np.sum's initial= did."""

import numpy as np
import pytest

import tapegrad as tg

X = np.array([0.5, 2.0, 3.0, -1.0])


@pytest.mark.parametrize("f", [
    lambda x: np.max(x[:3], initial=x[3] * 10),  # the data's max wins
    lambda x: np.max(x[:3], initial=-x[3] * 10),  # initial wins
    lambda x: np.min(x, initial=x[1] - 1.0, where=x > 0.6),
    lambda x: np.max(np.reshape(x, (2, 2)), axis=0, initial=x[0] + 1.0),
])
def test_values_and_gradcheck(f):
    x = tg.tensor(X, requires_grad=True)
    np.testing.assert_array_equal(f(x).detach().numpy(), f(X))
    assert tg.autograd.gradcheck(f, (x,))


def test_against_torch():
    torch = pytest.importorskip("torch")
    x = tg.tensor(X, requires_grad=True)
    (np.max(x[:3], initial=-x[3] * 10) + np.min(x, initial=x[1] - 1.0, where=x > 0.6)).backward()
    u = torch.tensor(X, requires_grad=True)
    (torch.maximum(u[:3].max(), -u[3] * 10)
     + torch.minimum(torch.where(u > 0.6, u, u[1] - 1.0).min(), u[1] - 1.0)).backward()
    np.testing.assert_allclose(x.grad.numpy(), u.grad.numpy(), rtol=1e-15)
