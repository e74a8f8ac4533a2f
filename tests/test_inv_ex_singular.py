"""``linalg.inv_ex`` of a singular matrix: PyTorch's result (LAPACK's solve on the LU factors,
with the infinities and NaN of the division by the zero pivot) and its ``info``."""

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

SINGULAR = [[[1.0, 2.0], [2.0, 4.0]], [[0.0, 0.0], [0.0, 0.0]], [[1.0, 1.0], [0.0, 0.0]],
            [[[1.0, 2.0], [2.0, 4.0]], [[2.0, 1.0], [1.0, 3.0]]],
            [[0.0, 1.0, 2.0], [0.0, 3.0, 4.0], [0.0, 5.0, 7.0]]]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("a", SINGULAR)
def test_inv_ex_of_singular_matrices_as_torch(a, dtype):
    t = torch.linalg.inv_ex(torch.tensor(a, dtype=getattr(torch, dtype)))
    g = tg.linalg.inv_ex(tg.tensor(a, dtype=getattr(tg, dtype)))
    np.testing.assert_allclose(g.inverse.detach().numpy(), t.inverse.numpy(), rtol=1e-6)
    np.testing.assert_array_equal(np.asarray(g.info), t.info.numpy())
    assert g.inverse.dtype == getattr(tg, dtype)


def test_inv_ex_of_an_invertible_matrix_keeps_its_gradient():
    a = [[[1.0, 2.0], [2.0, 4.0]], [[2.0, 1.0], [1.0, 3.0]]]
    x = tg.tensor(a, requires_grad=True)
    t = torch.tensor(a, dtype=torch.float64, requires_grad=True)
    g, u = tg.linalg.inv_ex(x).inverse[1].sum(), torch.linalg.inv_ex(t).inverse[1].sum()
    g.backward()
    u.backward()
    np.testing.assert_allclose(x.grad.numpy()[1], t.grad.numpy()[1], rtol=1e-12)
