"""The eager einsum and its gradient over big operands: a two-operand contraction runs as one
(batched) matmul (``ops/einsum_plan.py``), everything else as ``np.einsum``. Values equal
NumPy's to rounding, gradients equal the einsum VJP formula, finite differences and PyTorch."""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.ops import einsum_plan
from tapegrad.ops.blas_operands import blas_ready

R = np.random.default_rng(11)

# equation, operand shapes, whether the matmul plan takes it (operands of >= 4096 elements)
CASES = [
    ("ij,jk->ik", (90, 60), (60, 70), True),
    ("ij,jk", (90, 60), (60, 70), True),  # implicit output
    ("i j , j k -> i k", (90, 60), (60, 70), True),  # spaces
    ("bij,bjk->bik", (8, 30, 40), (8, 40, 20), True),
    ("kij,nkj->nki", (25, 10, 10), (600, 25, 10), True),  # GMM's forward and its gradients
    ("nki,nkj->kij", (600, 25, 10), (600, 25, 10), True),
    ("nki,kij->nkj", (600, 25, 10), (25, 10, 10), True),
    ("ij,kj->ik", (100, 64), (90, 64), True),
    ("i,i->", (5000,), (5000,), True),  # a dot product: a 0-d result
    ("ij,ij->j", (100, 64), (100, 64), True),  # hadamard and sum: j a batch letter
    ("ij,j->i", (100, 64), (64,), True),
    ("ijk,kjl->li", (40, 30, 5), (5, 30, 20), True),  # two summed letters, output transposed
    ("iab,bj->ija", (30, 20, 10), (10, 40), True),  # grouped letters interleave in the output
    ("abij,bajk->abik", (3, 4, 20, 30), (4, 3, 30, 10), True),  # two batch letters
    ("...ij,...jk->...ik", (2, 3, 30, 40), (2, 3, 40, 20), True),  # ellipsis, equal batch
    ("...ij,jk->...ik", (6, 30, 40), (40, 20), True),  # ellipsis on one operand only
    ("...ij,...jk->...ik", (2, 30, 80), (1, 80, 20), False),  # ellipsis broadcast
    ("bij,bjk->bik", (1, 30, 200), (4, 200, 20), False),  # b broadcast
    ("ij,ij->ij", (100, 64), (100, 64), False),  # no summed letter: np.einsum is faster
    ("i,j->ij", (4096,), (16,), False),  # outer product
    ("ij,jk->k", (100, 64), (64, 30), False),  # i summed over one operand only
    ("ii,ij->j", (80, 80), (80, 60), False),  # a repeated letter: the diagonal
    ("bii,bi->b", (40, 20, 20), (40, 20), False),  # a batched diagonal
    ("ij,jk->ik", (20, 20), (20, 20), False),  # small: np.einsum's own loop
]


def _close(got, want, rel):
    """Equal to rounding: within ``rel`` of the largest entry (cancellation makes entries near
    zero that no relative test per entry can hold)."""
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=rel, atol=rel * max(np.abs(want).max(), 1e-300))


@pytest.fixture
def plans_used(monkeypatch):
    """Counts the einsums the matmul plan ran."""
    used = []
    real = einsum_plan.cached

    def spy(spec, a, b):
        p = real(spec, a, b)
        if p is not None:
            used.append(spec)
        return p

    monkeypatch.setattr(einsum_plan, "cached", spy)
    return used


@pytest.mark.parametrize("eq,sa,sb,planned", CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_values_equal_numpy(eq, sa, sb, planned, dtype, plans_used):
    a, b = R.standard_normal(sa).astype(dtype), R.standard_normal(sb).astype(dtype)
    out = tg.einsum(eq, tg.tensor(a), tg.tensor(b)).numpy()
    assert bool(plans_used) == planned
    want = np.einsum(eq.replace(" ", ""), a, b)
    assert out.dtype == want.dtype
    assert out.flags.c_contiguous or not planned  # planned: in the output's own order
    _close(out, want, 1e-12 if dtype == np.float64 else 2e-6)


def _vjp_reference(eq, a, b, g):
    """d sum(einsum(eq, a, b) * g) by the einsum VJP formula, for equations with an explicit
    output, no repeated letter and no broadcasting."""
    lhs, out = eq.replace(" ", "").split("->")
    ta, tb = lhs.split(",")
    return np.einsum(f"{out},{tb}->{ta}", g, b), np.einsum(f"{out},{ta}->{tb}", g, a)


@pytest.mark.parametrize("eq,sa,sb", [c[:3] for c in CASES if c[3] and "->" in c[0]
                                      and "..." not in c[0]])
def test_gradients_equal_the_vjp_formula(eq, sa, sb, plans_used):
    a, b = R.standard_normal(sa), R.standard_normal(sb)
    ta, tb = tg.tensor(a, requires_grad=True), tg.tensor(b, requires_grad=True)
    y = tg.einsum(eq, ta, tb)
    g = R.standard_normal(y.shape)
    (y * tg.tensor(g)).sum().backward()
    assert plans_used[0] == eq.replace(" ", "")  # the forward (a gradient without a summed letter or with
    # operands under 4096 elements is np.einsum's)
    ga, gb = _vjp_reference(eq, a, b, g)
    _close(ta.grad.numpy(), ga, 1e-12)
    _close(tb.grad.numpy(), gb, 1e-12)


@pytest.mark.parametrize("eq,sa,sb", [("kij,nkj->nki", (25, 10, 10), (600, 25, 10)),
                                      ("bij,bjk->bik", (8, 30, 40), (8, 40, 20))])
def test_float32_gradients_stay_float32(eq, sa, sb, plans_used):
    a, b = R.standard_normal(sa), R.standard_normal(sb)
    ta = tg.tensor(a.astype(np.float32), requires_grad=True)
    tb = tg.tensor(b.astype(np.float32), requires_grad=True)
    y = tg.einsum(eq, ta, tb)
    g = R.standard_normal(y.shape)
    (y * tg.tensor(g.astype(np.float32))).sum().backward()
    assert len(plans_used) == 3  # the forward and both gradients, in float32
    assert ta.grad.dtype == tg.float32 and tb.grad.dtype == tg.float32
    ga, gb = _vjp_reference(eq, a.astype(np.float32).astype(np.float64),
                            b.astype(np.float32).astype(np.float64), g.astype(np.float32))
    _close(ta.grad.numpy(), ga, 2e-5)
    _close(tb.grad.numpy(), gb, 2e-5)


def test_gradient_through_the_plan_matches_finite_differences(plans_used):
    # a small factor with a big constant operand: the forward and the factor's gradient planned
    L = tg.tensor(R.standard_normal((3, 4, 4)), requires_grad=True)
    x = tg.tensor(R.standard_normal((400, 3, 4)))
    f = lambda L: (tg.einsum("kij,nkj->nki", L, x) ** 2).sum()  # noqa: E731
    assert tg.autograd.gradcheck(f, (L,))
    assert tg.autograd.gradgradcheck(f, (L,))
    assert "kij,nkj->nki" in plans_used and "nki,nkj->kij" in plans_used


def _gmm_products_through_the_plan(L, x, plans_used):
    """GMM's ``"kij,nkj->nki"`` of ``L`` and ``x`` and its two gradients, each by the plan,
    against NumPy's einsum and the VJP formula."""
    tl, tx = tg.tensor(L, requires_grad=True), tg.tensor(x, requires_grad=True)
    y = tg.einsum("kij,nkj->nki", tl, tx)
    _close(y.detach().numpy(), np.einsum("kij,nkj->nki", L, x), 1e-12)
    g = R.standard_normal(y.shape)
    (y * tg.tensor(g)).sum().backward()
    ga, gb = _vjp_reference("kij,nkj->nki", L, x, g)
    _close(tl.grad.numpy(), ga, 1e-12)
    _close(tx.grad.numpy(), gb, 1e-12)
    assert plans_used == ["kij,nkj->nki", "nki,nkj->kij", "nki,kij->nkj"]


def test_strided_operands_as_gmm_gathers_them(plans_used):
    # GMM's triangular factor, gathered by an index: no axis of its matrices has unit stride
    L = R.standard_normal((10, 10, 25)).transpose(2, 0, 1)  # strides (8, 2000, 200)
    x = R.standard_normal((1000, 25, 10))[:, :, ::-1]
    _gmm_products_through_the_plan(L, x, plans_used)


def test_small_matrices_stored_by_columns_are_copied_to_rows(plans_used):
    # GMM with its factor L a C-contiguous (K, d, d): the plan's right operand is L's matrices
    # transposed, small matrices stored by columns, which OpenBLAS multiplies slowly
    by_columns = R.standard_normal((25, 10, 10)).transpose(0, 2, 1)
    ready = blas_ready(by_columns)
    assert ready.flags.c_contiguous and np.array_equal(ready, by_columns)
    large = R.standard_normal((100, 32, 32)).transpose(0, 2, 1)  # large: read as it is
    assert blas_ready(large) is large
    rows = R.standard_normal((25, 10, 10))[:, ::2]  # unit stride along rows: kept
    assert blas_ready(rows) is rows
    _gmm_products_through_the_plan(R.standard_normal((25, 10, 10)),
                                   R.standard_normal((1000, 25, 10)), plans_used)


@pytest.mark.parametrize("eq,sa,sb", [("bij,bjk->bik", (4, 30, 40), (4, 40, 20)),
                                      ("ij,jk->ik", (90, 60), (60, 70))])
def test_complex_operands(eq, sa, sb, plans_used):
    a = R.standard_normal(sa) + 1j * R.standard_normal(sa)
    b = R.standard_normal(sb) + 1j * R.standard_normal(sb)
    _close(tg.einsum(eq, tg.tensor(a), tg.tensor(b)).numpy(), np.einsum(eq, a, b), 1e-12)
    assert not plans_used  # complex without grad: np.einsum
    ta, tb = tg.tensor(a, requires_grad=True), tg.tensor(b, requires_grad=True)
    y = tg.einsum(eq, ta, tb)  # with grad: real einsums of the parts, each planned
    _close(y.detach().numpy(), np.einsum(eq, a, b), 1e-12)
    assert plans_used
    torch = pytest.importorskip("torch")
    y.abs().sum().backward()
    pa, pb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    torch.einsum(eq, pa, pb).abs().sum().backward()
    _close(ta.grad.numpy(), pa.grad.numpy(), 1e-10)
    _close(tb.grad.numpy(), pb.grad.numpy(), 1e-10)


@pytest.mark.parametrize("eq,sa,sb,planned", CASES)
def test_gradients_match_torch(eq, sa, sb, planned):
    torch = pytest.importorskip("torch")
    a, b = R.standard_normal(sa), R.standard_normal(sb)
    ta, tb = tg.tensor(a, requires_grad=True), tg.tensor(b, requires_grad=True)
    pa, pb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    y, z = tg.einsum(eq, ta, tb), torch.einsum(eq, pa, pb)
    g = R.standard_normal(tuple(z.shape))
    (y * tg.tensor(g)).sum().backward()
    (z * torch.tensor(g)).sum().backward()
    _close(y.detach().numpy(), z.detach().numpy(), 1e-12)
    _close(ta.grad.numpy(), pa.grad.numpy(), 1e-12)
    _close(tb.grad.numpy(), pb.grad.numpy(), 1e-12)
