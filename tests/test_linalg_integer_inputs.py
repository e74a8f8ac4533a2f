"""Bad inputs to the linear-algebra ops: integer and bool tensors get PyTorch's exception type
and words (a kernel's NotImplementedError, a LAPACK wrapper's RuntimeError, or the op it runs
on); np.linalg.* on tensors that are not matrices gets NumPy's LinAlgError."""

import math

import numpy as np
import pytest

import tapegrad as tg
from tests.outcome import outcome

torch = pytest.importorskip("torch")

OPS = {
    "eigh": lambda L, x: L.linalg.eigh(x),
    "eigvalsh": lambda L, x: L.linalg.eigvalsh(x),
    "eig": lambda L, x: L.linalg.eig(x),
    "eigvals": lambda L, x: L.linalg.eigvals(x),
    "svdvals": lambda L, x: L.linalg.svdvals(x),
    "matrix_rank": lambda L, x: L.linalg.matrix_rank(x),
    "cond": lambda L, x: L.linalg.cond(x),
    "cond 1": lambda L, x: L.linalg.cond(x, 1),
    "lstsq": lambda L, x: L.linalg.lstsq(x, x),
    "solve_triangular": lambda L, x: L.linalg.solve_triangular(x, x, upper=True),
    "triangular_solve": lambda L, x: L.triangular_solve(x, x),
    "matrix_power -1": lambda L, x: L.linalg.matrix_power(x, -1),
    "matrix_power 2": lambda L, x: L.linalg.matrix_power(x, 2),
    "householder_product": lambda L, x: L.linalg.householder_product(x, x[:, 0]),
    "cholesky_solve": lambda L, x: L.cholesky_solve(x, x),
    "cholesky_inverse": lambda L, x: L.cholesky_inverse(x),
    "vecdot": lambda L, x: L.linalg.vecdot(x, x),
    "cross": lambda L, x: L.linalg.cross(x, x),
    "solve": lambda L, x: L.linalg.solve(x, x),
    "inv": lambda L, x: L.linalg.inv(x),
    "svd": lambda L, x: L.linalg.svd(x),
}


def _outcome(f):
    return outcome(f, lambda _: ("ok", ""))


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
@pytest.mark.parametrize("name", sorted(OPS))
def test_integer_input_errors_are_pytorchs(name, dtype):
    data = [[2, 1, 0], [1, 2, 1], [0, 1, 2]]
    got = _outcome(lambda: OPS[name](tg, tg.tensor(data, dtype=getattr(tg, dtype))))
    want = _outcome(lambda: OPS[name](torch, torch.tensor(data, dtype=getattr(torch, dtype))))
    assert got == want


_NP_LINALG = {
    "inv": np.linalg.inv, "det": np.linalg.det, "slogdet": np.linalg.slogdet,
    "eigh": np.linalg.eigh, "eigvalsh": np.linalg.eigvalsh, "cholesky": np.linalg.cholesky,
    "eig": np.linalg.eig, "eigvals": np.linalg.eigvals, "svd": np.linalg.svd,
    "svd hermitian": lambda a: np.linalg.svd(a, hermitian=True), "qr": np.linalg.qr,
    "pinv": np.linalg.pinv, "pinv hermitian": lambda a: np.linalg.pinv(a, hermitian=True),
    "svdvals": np.linalg.svdvals, "matrix_power": lambda a: np.linalg.matrix_power(a, 2),
    "matrix_power -1": lambda a: np.linalg.matrix_power(a, -1),
    "solve": lambda a: np.linalg.solve(a, np.ones(a.shape[:-1] if a.ndim > 1 else 1)),
}


@pytest.mark.parametrize("shape", [(2, 3), (3,), (2, 2, 3)])
@pytest.mark.parametrize("name", sorted(_NP_LINALG))
def test_numpy_linalg_on_tensors_raises_numpys_errors(name, shape):
    # np.linalg.* on a tensor that is not a (stack of square) matrices: NumPy's LinAlgError
    # and words, as np.linalg.lstsq/cond on tensors already raised, not tapegrad's RuntimeError
    data = np.ones(shape)
    want = _outcome(lambda: _NP_LINALG[name](data))
    got = _outcome(lambda: _NP_LINALG[name](tg.tensor(data)))
    assert got == want



def _exponent(n, lib):
    """``n``, or for "tensor x" a 0-d tensor of ``lib`` (an array for NumPy) holding x."""
    if isinstance(n, str) and n.startswith("tensor "):
        x = float(n[7:]) if "." in n else int(n[7:])
        return np.asarray(x) if lib is np else lib.tensor(x)
    return n


@pytest.mark.parametrize("n", [2.0, True, None, "2", 3, -1, "tensor 2", "tensor 2.0"])
@pytest.mark.parametrize("how", ["linalg", "torch", "numpy"])
def test_matrix_power_exponent_checks(how, n):
    # PyTorch's parser words (NumPy's for np.linalg.matrix_power on a tensor); an index-like
    # exponent (a 0-d integer tensor) works
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    if how == "numpy":
        got = _outcome(lambda: np.linalg.matrix_power(tg.tensor(a), _exponent(n, np)))
        want = _outcome(lambda: np.linalg.matrix_power(a, _exponent(n, np)))
    else:
        f, g = {"linalg": (tg.linalg.matrix_power, torch.linalg.matrix_power),
                "torch": (tg.matrix_power, torch.matrix_power)}[how]
        got = _outcome(lambda: f(tg.tensor(a), _exponent(n, tg)))
        want = _outcome(lambda: g(torch.tensor(a), _exponent(n, torch)))
    assert got == want


@pytest.mark.parametrize("p", [None, "fro", "nuc", 2, -2, 1, -1, math.inf])
@pytest.mark.parametrize("shape", [(3, 3), (3,), (2, 3), (0, 3), (2, 0, 0)])
@pytest.mark.parametrize("dtype", ["int64", "bool", "float64"])
def test_cond_checks_shape_before_dtype(dtype, shape, p):
    # PyTorch checks the dimensions, the norm and squareness before the dtype (whose error is
    # svd's for the spectral and nuclear norms), and returns 0 of the input's dtype for empty
    # matrices, integer ones included
    data = np.eye(*shape, dtype=dtype) if len(shape) == 2 else np.ones(shape, dtype)
    got = _outcome(lambda: tg.linalg.cond(tg.tensor(data), p))
    assert got == _outcome(lambda: torch.linalg.cond(torch.tensor(data), p))
    if got[0] == "ok":
        v, w = tg.linalg.cond(tg.tensor(data), p), torch.linalg.cond(torch.tensor(data), p)
        assert str(v.dtype) == str(w.dtype).split(".")[-1]
        np.testing.assert_allclose(v.numpy(), w.numpy())


_SHAPE_FIRST = {"inv": lambda L, A: L.linalg.inv(A), "det": lambda L, A: L.linalg.det(A),
                "cholesky": lambda L, A: L.linalg.cholesky(A),
                "slogdet": lambda L, A: L.linalg.slogdet(A),
                "eigh": lambda L, A: L.linalg.eigh(A),
                "eigvalsh": lambda L, A: L.linalg.eigvalsh(A),
                "matrix_power 2": lambda L, A: L.linalg.matrix_power(A, 2),
                "matrix_power -1": lambda L, A: L.linalg.matrix_power(A, -1),
                "solve": lambda L, A: L.linalg.solve(A, A)}


@pytest.mark.parametrize("shape", [(3,), (2, 3), (3, 3)])
@pytest.mark.parametrize("dtype", ["int64", "bool"])
@pytest.mark.parametrize("name", sorted(_SHAPE_FIRST))
def test_shape_errors_come_before_dtype_errors(name, dtype, shape):
    # PyTorch's square-matrix ops check dimensions and squareness before the dtype (solve the
    # dtype first), and eigvalsh's errors name eigh
    data = np.ones(shape, dtype)
    f = _SHAPE_FIRST[name]
    assert _outcome(lambda: f(tg, tg.tensor(data))) == _outcome(lambda: f(torch, torch.tensor(data)))


@pytest.mark.parametrize("n", [-2, 0, 2, 3])
def test_matrix_power_of_empty_and_complex_matrices(n):
    # an empty bool batch has nothing to multiply (PyTorch returns it); complex inverses work
    got = tg.linalg.matrix_power(tg.zeros(0, 3, 3, dtype=tg.bool), n) if n >= 0 else None
    if got is not None:
        assert tuple(got.shape) == (0, 3, 3) and got.dtype == tg.bool
    a = np.array([[1.0, 2.0], [3.0, 5.0]]) + 1j
    np.testing.assert_allclose(tg.linalg.matrix_power(tg.tensor(a), n).numpy(),
                               torch.linalg.matrix_power(torch.tensor(a), n).numpy())


@pytest.mark.parametrize("n", [0, 1, 2, 3, -1])
def test_matrix_power_of_float16_matrices(n):
    # non-negative powers are products, which PyTorch computes in float16; inverses refuse
    a = np.array([[1.0, 2.0], [3.0, 4.5]], np.float16)
    got = _outcome(lambda: tg.linalg.matrix_power(tg.tensor(a), n))
    assert got == _outcome(lambda: torch.linalg.matrix_power(torch.tensor(a), n))
    if got[0] == "ok":
        v = tg.linalg.matrix_power(tg.tensor(a), n)
        assert v.dtype == tg.float16
        np.testing.assert_array_equal(v.numpy(), torch.linalg.matrix_power(torch.tensor(a), n).numpy())
