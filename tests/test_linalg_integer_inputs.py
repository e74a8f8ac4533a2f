"""Integer and bool inputs to the linear-algebra ops: PyTorch's exception type and words (a
kernel's NotImplementedError, a LAPACK wrapper's RuntimeError, or the op it runs on)."""

import pytest

import tapegrad as tg

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
    try:
        f()
    except Exception as e:  # noqa: BLE001 (the type is what is compared)
        return type(e).__name__, str(e)
    return "ok", ""


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
@pytest.mark.parametrize("name", sorted(OPS))
def test_integer_input_errors_are_pytorchs(name, dtype):
    data = [[2, 1, 0], [1, 2, 1], [0, 1, 2]]
    got = _outcome(lambda: OPS[name](tg, tg.tensor(data, dtype=getattr(tg, dtype))))
    want = _outcome(lambda: OPS[name](torch, torch.tensor(data, dtype=getattr(torch, dtype))))
    assert got == want
