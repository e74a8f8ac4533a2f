"""``linalg.solve_ex`` with singular matrices: PyTorch's result (LAPACK's solve on A's LU
factors, with the infinities and NaN of the division by the zero pivot, for ``left`` and
``X A = B``, vector and matrix right-hand sides, batches that broadcast) and its ``info``;
the invertible matrices of the batch keep their (finite-difference checked) gradient."""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.autograd.gradcheck import gradcheck

torch = pytest.importorskip("torch")

S2, R2 = [[1.0, 2.0], [2.0, 4.0]], [[2.0, 1.0], [1.0, 3.0]]
CASES = [  # (A, B, left)
    (S2, [1.0, 1.0], True),
    (S2, [[1.0, 0.0], [1.0, 2.0]], True),
    ([[1.0, 2.0], [4.0, 8.0]], [[1.0, -1.0], [2.0, 5.0]], False),
    ([[2.0, 1.0], [4.0, 2.0]], [[1.0, -1.0], [2.0, 5.0]], True),
    ([[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [1.0, 1.0]], True),
    ([[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [1.0, 1.0]], False),
    ([[0.0, 0.0], [0.0, 0.0]], [1.0, 1.0], True),
    ([[1.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 1.0]], [1.0, 2.0, 3.0], True),
    ([S2, R2], [[1.0, 1.0], [1.0, 1.0]], True),
    ([S2, R2], [[[1.0, 1.0], [1.0, 3.0]], [[1.0, 1.0], [2.0, 1.0]]], False),
    ([R2, S2], [[[[1.0, 2.0], [3.0, 4.0]]], [[[-1.0, 0.5], [2.0, 1.0]]]], True),  # B broadcasts
]


def _same(g, t):
    g, t = np.asarray(g), t.numpy()
    np.testing.assert_array_equal(np.isfinite(g), np.isfinite(t))
    np.testing.assert_array_equal(g[~np.isfinite(g)], t[~np.isfinite(t)])  # the same inf / NaN
    np.testing.assert_allclose(g[np.isfinite(g)], t[np.isfinite(t)], rtol=1e-6)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("a,b,left", CASES)
def test_solve_ex_of_singular_matrices_as_torch(a, b, left, dtype):
    t = torch.linalg.solve_ex(torch.tensor(a, dtype=getattr(torch, dtype)),
                              torch.tensor(b, dtype=getattr(torch, dtype)), left=left)
    g = tg.linalg.solve_ex(tg.tensor(a, dtype=getattr(tg, dtype)),
                           tg.tensor(b, dtype=getattr(tg, dtype)), left=left)
    assert tuple(g.result.shape) == tuple(t.result.shape) and g.result.dtype == getattr(tg, dtype)
    _same(g.result.detach().numpy(), t.result)
    np.testing.assert_array_equal(np.asarray(g.info), t.info.numpy())


def test_solve_ex_of_a_complex_singular_matrix_as_torch():
    a, b = np.array(S2, complex) * (1 + 1j), np.ones(2, complex)
    t = torch.linalg.solve_ex(torch.tensor(a), torch.tensor(b))
    g = tg.linalg.solve_ex(tg.tensor(a), tg.tensor(b))
    _same(g.result.detach().numpy().view(np.float64), t.result.view(torch.float64))
    np.testing.assert_array_equal(np.asarray(g.info), t.info.numpy())


@pytest.mark.parametrize("left", [True, False])
def test_solve_ex_invertible_members_keep_their_gradient(left):
    a = tg.tensor([S2, R2], dtype=tg.float64)
    b = tg.tensor([[[1.0, 0.5], [-2.0, 1.0]]] * 2, dtype=tg.float64, requires_grad=True)
    assert gradcheck(lambda b: tg.linalg.solve_ex(a, b, left=left).result[1], (b,))
    r = tg.linalg.solve_ex(a, b, left=left).result[1].sum()
    r.backward()
    tb = torch.tensor(b.detach().numpy(), requires_grad=True)
    torch.linalg.solve_ex(torch.tensor(a.numpy()), tb, left=left).result[1].sum().backward()
    np.testing.assert_allclose(b.grad.numpy()[1], tb.grad.numpy()[1], rtol=1e-12)
