"""linalg.ldl_factor/ldl_factor_ex/ldl_solve and geqrf: LAPACK's outputs as PyTorch returns
them (the LDL ones through SciPy's LAPACK, when installed), and their refusals."""
import numpy as np
import pytest

import tapegrad as tg
from tests.outcome import dtypes_and_shapes, outcome

torch = pytest.importorskip("torch")

MATS = [np.array([[4.0, 1, 2], [1, -3, 0.5], [2, 0.5, 7]]),
        np.array([[0.0, 1, 2], [1, 0, 3], [2, 3, 0]]),  # 2x2 pivots
        np.random.default_rng(0).standard_normal((2, 5, 5))]


@pytest.mark.parametrize("k", range(len(MATS)))
def test_ldl_factor_and_solve_match_torch(k):
    pytest.importorskip("scipy")
    a = MATS[k] + np.swapaxes(MATS[k], -1, -2)
    LD, piv = tg.linalg.ldl_factor(tg.tensor(a))
    tLD, tpiv = torch.linalg.ldl_factor(torch.tensor(a))
    np.testing.assert_allclose(LD.numpy(), tLD.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(piv.numpy(), tpiv.numpy())
    assert piv.dtype == tg.int32
    r = tg.linalg.ldl_factor_ex(tg.tensor(a))
    np.testing.assert_array_equal(r.info.numpy(), torch.linalg.ldl_factor_ex(
        torch.tensor(a)).info.numpy())
    b = np.arange(a.shape[-1] * 2, dtype=np.float64).reshape(a.shape[-1], 2)
    x = tg.linalg.ldl_solve(LD, piv, tg.tensor(b))
    np.testing.assert_allclose(x.numpy(), np.linalg.solve(a, b), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(x.numpy(), torch.linalg.ldl_solve(tLD, tpiv, torch.tensor(b)),
                               rtol=1e-10, atol=1e-12)


def _outcome(L, f):
    return outcome(lambda: f(L), dtypes_and_shapes, first_line=True)


@pytest.mark.parametrize("f", [
    lambda L: L.linalg.ldl_factor(L.ones(2, 2, dtype=L.int64)),
    lambda L: L.linalg.ldl_factor(L.ones(2, dtype=L.float64)),
    lambda L: L.linalg.ldl_factor(L.ones(2, 3, dtype=L.float64)),
    lambda L: L.linalg.ldl_factor(L.ones(0, 0, dtype=L.float64)),
    lambda L: L.linalg.ldl_factor(L.eye(3, dtype=L.float64).expand(2, 3, 3)),
    lambda L: L.linalg.ldl_factor_ex(L.zeros(2, 2, dtype=L.float64)),
    lambda L: L.geqrf(L.ones(2, 2, dtype=L.int64)),
    lambda L: L.geqrf(L.ones(2, dtype=L.float64)),
    lambda L: L.geqrf(L.ones(4, 3, 2, dtype=L.float64)),
    lambda L: L.geqrf(L.ones(2, 3, dtype=L.float64)),
    lambda L: L.geqrf(L.ones(0, 3, dtype=L.float64)),
])
def test_shapes_and_refusals_as_torch(f):
    pytest.importorskip("scipy")
    assert _outcome(tg, f) == _outcome(torch, f)


@pytest.mark.parametrize("shape", [(4, 3), (3, 4), (2, 5, 3)])
def test_geqrf_matches_torch(shape):
    a = np.random.default_rng(1).standard_normal(shape)
    got, want = tg.geqrf(tg.tensor(a)), torch.geqrf(torch.tensor(a))
    for x, y in zip(got, want):
        np.testing.assert_allclose(x.numpy(), y.numpy(), rtol=1e-12, atol=1e-14)


def test_no_derivative_as_torch():
    a = tg.tensor(MATS[0] + MATS[0].T, requires_grad=True)
    h, tau = tg.geqrf(a)
    assert h.requires_grad and tau.requires_grad
    with pytest.raises(NotImplementedError, match="the derivative for 'geqrf' is not "
                                                  "implemented"):
        h.sum().backward()
    pytest.importorskip("scipy")
    LD, piv = tg.linalg.ldl_factor(a)
    with pytest.raises(RuntimeError, match="derivative for aten::linalg_ldl_factor_ex is not "
                                           "implemented"):
        LD.sum().backward()


@pytest.mark.parametrize("which", ["LD", "B"])
def test_ldl_solve_output_requires_grad_without_derivative_as_torch(which):
    """PyTorch's ldl_solve of an input requiring grad gives an output requiring grad whose
    backward raises (it has no derivative formula), not a silently constant result."""
    pytest.importorskip("scipy")
    a = MATS[0] + MATS[0].T
    for lib in (tg, torch):
        LD, piv = lib.linalg.ldl_factor(lib.tensor(a))
        B = lib.ones(3, 2, dtype=lib.float64)
        (LD if which == "LD" else B).requires_grad_()
        X = lib.linalg.ldl_solve(LD, piv, B)
        assert X.requires_grad
        with pytest.raises(RuntimeError, match="derivative for aten::linalg_ldl_solve is not "
                                               "implemented"):
            X.sum().backward()


def test_without_scipy_a_clear_not_implemented_error(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "scipy.linalg", None)  # (import fails as if absent)
    with pytest.raises(NotImplementedError, match=r"tapegrad\.linalg\.ldl_factor needs SciPy"):
        tg.linalg.ldl_factor(tg.eye(2, dtype=tg.float64))
    h, tau = tg.geqrf(tg.eye(2, dtype=tg.float64))  # (NumPy's: no SciPy needed)
    assert tuple(h.shape) == (2, 2) and tuple(tau.shape) == (2,)


# Each case builds ldl_solve's arguments from a good (LD, piv, B) for 3x3 systems.
_SOLVE_CASES = [
    lambda L, LD, piv, B: (LD, piv[..., :2], B),
    lambda L, LD, piv, B: (LD, piv, L.ones(4, 2, dtype=L.float64)),
    lambda L, LD, piv, B: (LD, piv.float(), B),
    lambda L, LD, piv, B: (LD, piv.bool(), B),
    lambda L, LD, piv, B: (LD, piv[0, 0], B),
    lambda L, LD, piv, B: (LD[..., :2, :2], piv, B),
    lambda L, LD, piv, B: (LD.float(), piv.float(), B),
    lambda L, LD, piv, B: (LD, piv[..., :2], B.float()),
    lambda L, LD, piv, B: (LD.half(), piv, B.half()),
    lambda L, LD, piv, B: (LD, piv, L.ones(5, 3, 2, dtype=L.float64)),
    lambda L, LD, piv, B: (LD, piv.to(L.int16), B),
]


def _solve_case(lib, k):
    LD, piv = lib.linalg.ldl_factor(lib.eye(3, dtype=lib.float64).expand(4, 3, 3) + 0)
    return _SOLVE_CASES[k](lib, LD, piv, lib.ones(3, 2, dtype=lib.float64))


@pytest.mark.parametrize("k", range(len(_SOLVE_CASES)))
def test_ldl_solve_checks_pivots_and_rows_as_torch(k):
    """Pivots of the wrong shape or dtype and B of the wrong row count raise PyTorch's errors
    (LAPACK took them: a silently wrong X, or SciPy's ValueError)."""
    pytest.importorskip("scipy")

    def solved(lib):
        return np.round(lib.linalg.ldl_solve(*_solve_case(lib, k)).numpy(), 10).tolist()

    assert outcome(lambda: solved(tg), lambda r: r) == outcome(lambda: solved(torch), lambda r: r)
