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
