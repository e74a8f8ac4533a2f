"""float16 and empty integer inputs to linalg, compared with PyTorch: norms of entries compute
(accumulated in float32, rounded once); LAPACK-backed functions raise PyTorch's exception
type and words; an empty integer (or float16) lu_factor returns empty factors."""

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

A = np.random.default_rng(0).standard_normal((40, 40)) * 30  # a float16 sum of squares: inf

NORMS = ["m.linalg.norm(x)", "m.linalg.norm(x[0])", "m.linalg.vector_norm(x, 3)",
         "m.linalg.vector_norm(x, float('inf'))", "m.linalg.vector_norm(x, 2, dim=0)",
         "m.linalg.matrix_norm(x, 1)", "m.linalg.matrix_norm(x, -float('inf'))",
         "m.linalg.norm(x, 'fro')", "m.linalg.vector_norm(x, 0.5)",
         # torch.norm and Tensor.norm: their own path (overflowed to inf)
         "m.norm(x)", "x.norm()", "m.norm(x, 'fro')", "m.norm(x, 3)", "x.norm(2, dim=1)",
         "x.norm(p=1, dim=0, keepdim=True)"]


@pytest.mark.parametrize("expr", NORMS)
def test_float16_norms_match_torch(expr):
    got, want = (eval(expr, {"m": m, "x": m.tensor(A, dtype=m.float16)}) for m in (tg, torch))
    assert got.dtype == tg.float16 and tuple(got.shape) == tuple(want.shape)
    np.testing.assert_array_equal(np.asarray(got.tolist()), np.asarray(want.tolist()))


def test_float16_norm_gradient_dtype_and_values():
    grads = []
    for m in (tg, torch):
        x = m.tensor(A[:4, :4], dtype=m.float16, requires_grad=True)
        m.linalg.vector_norm(x).backward()
        assert x.grad.dtype == m.float16
        grads.append(np.asarray(x.grad.tolist()))
    np.testing.assert_allclose(grads[0], grads[1], rtol=2e-3)


REFUSED = ["m.linalg.matrix_norm(x, 2)", "m.linalg.norm(x, 'nuc')", "m.linalg.eig(x)",
           "m.linalg.eigvals(x)", "m.linalg.eigh(x)", "m.linalg.eigvalsh(x)", "m.linalg.svd(x)",
           "m.linalg.svdvals(x)", "m.linalg.qr(x)", "m.linalg.cholesky(x)", "m.linalg.det(x)",
           "m.linalg.solve(x, x[0])", "m.linalg.matrix_rank(x)", "m.linalg.lstsq(x, x)",
           "m.linalg.cond(x)", "m.linalg.solve_triangular(x, x, upper=True)",
           "m.linalg.householder_product(x, x[0, :2])", "m.linalg.lu_factor(x)",
           "m.linalg.inv(x)"]


def _error(m, expr):
    x = m.tensor(np.eye(3) * 2 + 0.5, dtype=m.float16)
    try:
        eval(expr, {"m": m, "x": x})
    except Exception as e:  # noqa: BLE001 (the type is what is compared)
        return type(e), str(e)
    return None


@pytest.mark.parametrize("expr", REFUSED)
def test_float16_linalg_refusals_match_torch(expr):
    want = _error(torch, expr)
    assert want is not None
    assert _error(tg, expr) == want


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool", "float16"])
@pytest.mark.parametrize("shape", [(0, 0), (2, 0, 0), (3, 0)])
def test_empty_lu_of_any_dtype_matches_torch(dtype, shape):
    def run(m):
        a = m.zeros(shape, dtype=getattr(m, dtype))
        lu, piv, info = m.linalg.lu_factor_ex(a)
        p, low, up = m.linalg.lu(a)
        return [(str(t.dtype).split(".")[-1], tuple(t.shape)) for t in (lu, piv, info, p, low, up)]

    assert run(tg) == run(torch)


def test_non_empty_integer_lu_still_refused_as_torch():
    for m in (tg, torch):
        with pytest.raises(NotImplementedError, match="\"lu_cpu\" not implemented for 'Long'"):
            m.linalg.lu_factor(m.ones(2, 2, dtype=m.int64))
