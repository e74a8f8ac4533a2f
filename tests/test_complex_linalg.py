"""solve, inv, det and slogdet of complex matrices (tg.linalg and np.linalg on tensors):
values, gradients and second order against finite differences and PyTorch."""

import numpy as np
import pytest

import tapegrad as tg
from complex_checks import check_complex, rand

A = rand((3, 3)) + 3 * np.eye(3)
B = rand((3, 2), seed=2)
A_BATCH = rand((2, 3, 3), seed=3) + 3 * np.eye(3)

CASES = {
    "solve": (lambda L, a, b: L.linalg.solve(a, b), [A, B]),
    "solve_vector": (lambda L, a, b: L.linalg.solve(a, b[:, 0]), [A, B]),
    "solve_left_false": (lambda L, a, b: L.linalg.solve(a, b.mT, left=False), [A, B]),
    "inv": (lambda L, a: L.linalg.inv(a), [A]),
    "inv_batch": (lambda L, a: L.linalg.inv(a), [A_BATCH]),
    "det": (lambda L, a: L.linalg.det(a), [A]),
    "det_batch": (lambda L, a: L.linalg.det(a), [A_BATCH]),
    "logabsdet": (lambda L, a: L.linalg.slogdet(a)[1], [A]),
    "sign": (lambda L, a: L.linalg.slogdet(a)[0], [A]),
    "slogdet_both": (lambda L, a: L.linalg.slogdet(a)[0] * L.linalg.slogdet(a)[1], [A_BATCH]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_complex_linalg(name):
    fn, arrays = CASES[name]
    check_complex(fn, arrays)


@pytest.mark.parametrize("real", [0, 1])
def test_solve_with_one_real_operand(real):
    """NumPy promotes a real operand (PyTorch wants equal dtypes): checked numerically."""
    arrays = [A, B]
    arrays[real] = arrays[real].real.copy()
    check_complex(lambda L, a, b: L.linalg.solve(a, b), arrays, torch_check=False)


def test_numpy_linalg_on_complex_tensors():
    a = tg.tensor(A, requires_grad=True)
    b = tg.tensor(B[:, 0])
    np.testing.assert_allclose(np.linalg.solve(a, b).detach().numpy(),
                               np.linalg.solve(A, B[:, 0]))
    np.testing.assert_allclose(np.linalg.inv(a).detach().numpy(), np.linalg.inv(A))
    np.testing.assert_allclose(np.linalg.det(a).detach().numpy(), np.linalg.det(A))
    sign, logabs = np.linalg.slogdet(a)
    np.testing.assert_allclose(sign.detach().numpy(), np.linalg.slogdet(A)[0])
    assert logabs.dtype == tg.float64
    logabs.backward()
    np.testing.assert_allclose(a.grad.numpy(), np.linalg.inv(A).conj().T)  # d log|det| = A^-H


def test_singular_and_non_square_complex_matrices_refused():
    z = tg.tensor(np.zeros((2, 2), complex), requires_grad=True)
    with pytest.raises(RuntimeError, match="singular"):
        tg.linalg.inv(z)
    with pytest.raises(RuntimeError, match="singular"):
        tg.linalg.solve(z, tg.tensor(np.ones((2, 1), complex)))
    with pytest.raises(RuntimeError, match="square"):
        tg.linalg.det(tg.tensor(np.zeros((2, 3), complex), requires_grad=True))


@pytest.mark.parametrize("A", [
    np.ones((2, 2)) * (1 + 1j),  # rank 1 (n - 1): the adjugate is not 0
    np.array([[1 + 1j, 2 - 1j, 0], [2 + 2j, 1 - 3j, 0], [1j, 1, 0]]),  # rank 2 of 3
    np.ones((3, 3)) * 1j,  # rank 1 of 3: the adjugate is 0
])
def test_det_gradient_at_singular_complex_matrices_is_the_adjugate(A):
    """(the backward's solve raised NumPy's LinAlgError; PyTorch 2.13 gives 0 for the rank-1
    2x2 matrix, where det(A + eps E) changes by eps times the cofactor)"""
    x = tg.tensor(A, requires_grad=True)
    assert tg.autograd.gradcheck(lambda a: tg.linalg.det(a), (x,))
    if A.shape == (2, 2):  # the adjugate spelled out: g = conj(w) adj(A)^H for Re(w det)
        g, = tg.autograd.grad((tg.linalg.det(x) * (1 + 2j)).real, x)
        adj = np.array([[A[1, 1], -A[0, 1]], [-A[1, 0], A[0, 0]]])
        np.testing.assert_allclose(g.numpy(), (1 - 2j) * adj.conj().T, atol=1e-12)
