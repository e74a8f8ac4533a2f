"""tg.linalg.lu / lu_factor / lu_factor_ex / lu_solve, the deprecated tg.lu, tg.lu_unpack,
tg.lu_solve and Tensor.lu: values, pivots and info as LAPACK's, gradients against finite
differences (first and second order) and PyTorch's values, gradients and errors."""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.autograd import gradcheck, gradgradcheck
from tapegrad.ops import linalg_lu
from tests.op_checks import needs_torch, torch

SHAPES = [(4, 4), (2, 3, 3), (3, 5), (5, 3), (2, 3, 5), (2, 5, 3), (1, 1), (1, 4), (4, 1)]


def _rand(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _leaf(a):
    return tg.tensor(np.array(a), requires_grad=True)


def _check_factors(a, P, L, U):
    m, n = a.shape[-2:]
    k = min(m, n)
    assert P.shape == a.shape[:-2] + (m, m) and L.shape == a.shape[:-2] + (m, k)
    assert U.shape == a.shape[:-2] + (k, n)
    np.testing.assert_allclose(P @ L @ U, a, atol=1e-12)
    np.testing.assert_array_equal(np.tril(L, -1) + np.eye(m, k), L)
    np.testing.assert_array_equal(np.triu(U), U)
    assert np.all(np.abs(np.tril(L, -1)) <= 1)  # partial pivoting: multipliers of modulus <= 1


@pytest.mark.parametrize("shape", SHAPES)
def test_factors_reassemble(shape):
    a = _rand(shape)
    P, L, U = (t.numpy() for t in tg.linalg.lu(tg.tensor(a)))
    _check_factors(a, P, L, U)
    LU, piv = tg.linalg.lu_factor(tg.tensor(a))
    k = min(shape[-2:])
    assert piv.dtype == np.int32 and piv.shape == shape[:-2] + (k,)
    assert piv.numpy().min() >= 1 and piv.numpy().max() <= shape[-2]
    np.testing.assert_array_equal(LU.numpy()[..., :k, :], np.triu(LU.numpy())[..., :k, :] +
                                  np.tril(LU.numpy(), -1)[..., :k, :])


def test_result_types():
    a = tg.tensor(_rand((3, 3)))
    r = tg.linalg.lu(a)
    assert type(r).__name__ == "linalg_lu" and r._fields == ("P", "L", "U")
    r = tg.linalg.lu_factor(a)
    assert type(r).__name__ == "linalg_lu_factor" and r._fields == ("LU", "pivots")
    r = tg.linalg.lu_factor_ex(a)
    assert type(r).__name__ == "linalg_lu_factor_ex" and r._fields == ("LU", "pivots", "info")
    assert r.info.dtype == np.int32 and r.info.shape == ()
    r = tg.lu_unpack(*tg.linalg.lu_factor(a))
    assert type(r).__name__ == "lu_unpack" and r._fields == ("P", "L", "U")


def test_without_scipy_same_factors(monkeypatch):
    """The batched NumPy elimination (no SciPy) gives LAPACK's factors, pivots and info."""
    a = np.stack([_rand((4, 6), 1)[:, :6], np.zeros((4, 6)), _rand((4, 6), 2)])
    a[2, :, 1] = 0  # a zero on U's diagonal: info 2
    tall = _rand((3, 6, 4), 3)
    with_scipy = [linalg_lu.getrf_np(x) for x in (a, tall)]
    monkeypatch.setattr(linalg_lu, "routine", lambda name, dtype: None)
    for x, expect in zip((a, tall), with_scipy):
        for got, e in zip(linalg_lu.getrf_np(x), expect):
            np.testing.assert_allclose(got, e, atol=1e-12)
    assert list(with_scipy[0][2]) == [0, 1, 2]
    # lu_solve without getrs: the triangular solves
    LU, piv = tg.linalg.lu_factor(tg.tensor(_rand((2, 4, 4), 4)))
    B = _rand((2, 4, 3), 5)
    for left, adjoint in ((True, False), (True, True), (False, False), (False, True)):
        b = B if left else np.swapaxes(B, -1, -2)[..., :4]
        A = _rand((2, 4, 4), 4)
        A = np.swapaxes(A, -1, -2) if adjoint else A
        X = tg.linalg.lu_solve(LU, piv, tg.tensor(b), left=left, adjoint=adjoint).numpy()
        np.testing.assert_allclose(A @ X if left else X @ A, b, atol=1e-12)


@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4), (3, 5), (5, 3), (2, 2, 4), (2, 4, 2)])
def test_lu_gradients(shape):
    a = _rand(shape, 7)
    assert gradcheck(lambda x: tg.linalg.lu(x)[1:], (_leaf(a),))
    assert gradcheck(lambda x: tg.linalg.lu_factor(x).LU, (_leaf(a),))
    assert gradgradcheck(lambda x: tg.linalg.lu(x)[1:], (_leaf(a),))


def test_lu_gradient_of_one_factor():
    """Only L or only U used: the other's cotangent is zero (PyTorch's undefined gradient)."""
    for shape in ((3, 3), (3, 5), (5, 3)):
        a = _rand(shape, 8)
        assert gradcheck(lambda x: tg.linalg.lu(x).L, (_leaf(a),))
        assert gradcheck(lambda x: tg.linalg.lu(x).U, (_leaf(a),))


_CASES = [(True, False), (True, True), (False, False), (False, True)]


def _rhs(left, batch=(2,), n=4, k=3, seed=9):
    return _rand(batch + ((n, k) if left else (k, n)), seed)


@pytest.mark.parametrize("left,adjoint", _CASES)
def test_lu_solve_values(left, adjoint):
    a = _rand((2, 4, 4), 10)
    b = _rhs(left)
    LU, piv = tg.linalg.lu_factor(tg.tensor(a))
    X = tg.linalg.lu_solve(LU, piv, tg.tensor(b), left=left, adjoint=adjoint).numpy()
    A = np.swapaxes(a, -1, -2) if adjoint else a
    np.testing.assert_allclose(A @ X if left else X @ A, b, atol=1e-12)
    # the recorded path (the gradient's) gives the same values
    Xg = tg.linalg.lu_solve(LU, piv, _leaf(b), left=left, adjoint=adjoint)
    np.testing.assert_allclose(Xg.detach().numpy(), X, atol=1e-12)
    # one matrix against a batch of right-hand sides (broadcast)
    LU1, piv1 = tg.linalg.lu_factor(tg.tensor(a[0]))
    X1 = tg.linalg.lu_solve(LU1, piv1, _leaf(b), left=left, adjoint=adjoint).detach().numpy()
    np.testing.assert_allclose(A[0] @ X1 if left else X1 @ A[0], b, atol=1e-12)


@pytest.mark.parametrize("left,adjoint", _CASES)
@pytest.mark.parametrize("batched", [False, True])
def test_lu_solve_gradients(left, adjoint, batched):
    batch = (2,) if batched else ()
    a, b = _rand(batch + (4, 4), 11), _rhs(left, batch)

    def through_A(A, B):
        return tg.linalg.lu_solve(*tg.linalg.lu_factor(A), B, left=left, adjoint=adjoint)

    assert gradcheck(through_A, (_leaf(a), _leaf(b)))
    assert gradgradcheck(through_A, (_leaf(a), _leaf(b)))
    LU, piv = tg.linalg.lu_factor(tg.tensor(a))

    def through_LU(LU, B):
        return tg.linalg.lu_solve(LU, piv, B, left=left, adjoint=adjoint)

    assert gradcheck(through_LU, (_leaf(LU.numpy()), _leaf(b)))
    assert gradgradcheck(through_LU, (_leaf(LU.numpy()), _leaf(b)))


def test_singular():
    a = np.stack([np.eye(3), np.zeros((3, 3))])
    with pytest.raises(tg.linalg.LinAlgError, match=r"\(Batch element 1\): U\[1,1\] is zero"):
        tg.linalg.lu_factor(tg.tensor(a))
    LU, piv, info = tg.linalg.lu_factor_ex(tg.tensor(a))
    assert info.numpy().tolist() == [0, 1]
    with pytest.raises(RuntimeError, match=r"^torch.linalg.lu_factor_ex: \(Batch element 1\)"):
        tg.linalg.lu_factor_ex(tg.tensor(a), check_errors=True)
    P, L, U = tg.linalg.lu(tg.tensor(a))  # no error: the factors exist
    _check_factors(a, P.numpy(), L.numpy(), U.numpy())


def test_refusals():
    a = tg.tensor(_rand((3, 3)))
    for f in (tg.linalg.lu, tg.linalg.lu_factor, tg.linalg.lu_factor_ex):
        with pytest.raises(RuntimeError, match="LU without pivoting is not implemented"):
            f(a, pivot=False)
    with pytest.raises(NotImplementedError, match="complex tensors are not supported"):
        tg.linalg.lu_factor(tg.tensor(np.eye(2) * (1 + 1j)))


def test_deprecated_names():
    a, b = _rand((2, 4, 4), 12), _rand((2, 4, 2), 13)
    A = tg.tensor(a)
    LU, piv = A.lu()
    assert len(A.lu(get_infos=True)) == 3
    X = tg.lu_solve(tg.tensor(b), LU, piv)
    np.testing.assert_allclose(a @ X.numpy(), b, atol=1e-12)
    np.testing.assert_allclose(tg.tensor(b).lu_solve(LU, piv).numpy(), X.numpy())
    P, L, U = tg.lu_unpack(LU, piv)
    _check_factors(a, P.numpy(), L.numpy(), U.numpy())
    r = tg.lu_unpack(LU, piv, unpack_data=False, unpack_pivots=False)
    assert [tuple(t.shape) for t in r] == [(0,), (0,), (0,)]
    assert gradgradcheck(lambda x: tg.lu_unpack(*x.lu())[1:], (_leaf(a),))


# ---- against PyTorch ---------------------------------------------------------------------------

def _t(a):
    return torch.tensor(a, requires_grad=True)


@needs_torch
@pytest.mark.parametrize("shape", SHAPES + [(0, 3, 3), (2, 0, 3)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lu_torch(shape, dtype):
    a = _rand(shape, 14).astype(dtype)
    for got, want in zip(tg.linalg.lu(tg.tensor(a)), torch.linalg.lu(torch.tensor(a))):
        assert got.dtype == a.dtype and tuple(got.shape) == tuple(want.shape)
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)
    got, want = tg.linalg.lu_factor_ex(tg.tensor(a)), torch.linalg.lu_factor_ex(torch.tensor(a))
    np.testing.assert_allclose(got.LU.numpy(), want.LU.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(got.pivots.numpy(), want.pivots.numpy())
    np.testing.assert_array_equal(got.info.numpy(), want.info.numpy())


@needs_torch
@pytest.mark.parametrize("shape", [(4, 4), (2, 3, 3), (3, 5), (5, 3), (2, 3, 5), (2, 5, 3)])
def test_lu_gradients_torch(shape):
    a = _rand(shape, 15)
    x, tx = _leaf(a), _t(a)
    _, L, U = tg.linalg.lu(x)
    _, tL, tU = torch.linalg.lu(tx)
    wL, wU = _rand(L.shape, 16), _rand(U.shape, 17)
    ((L * tg.tensor(wL)).sum() + (U * tg.tensor(wU)).sum()).backward()
    ((tL * torch.tensor(wL)).sum() + (tU * torch.tensor(wU)).sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    x, tx = _leaf(a), _t(a)
    w = _rand(a.shape, 18)
    (tg.linalg.lu_factor(x).LU * tg.tensor(w)).sum().backward()
    (torch.linalg.lu_factor(tx).LU * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)


@needs_torch
@pytest.mark.parametrize("left,adjoint", _CASES)
@pytest.mark.parametrize("pivots_batched", [False, True])
def test_lu_solve_torch(left, adjoint, pivots_batched):
    a = _rand((2, 4, 4) if pivots_batched else (4, 4), 19)
    b = _rhs(left, (3, 2) if pivots_batched else (3,))
    LU = tg.linalg.lu_factor(tg.tensor(a))
    tLU = torch.linalg.lu_factor(torch.tensor(a))
    lu, B, tlu, tB = _leaf(LU.LU.numpy()), _leaf(b), _t(LU.LU.numpy()), _t(b)
    X = tg.linalg.lu_solve(lu, LU.pivots, B, left=left, adjoint=adjoint)
    tX = torch.linalg.lu_solve(tlu, tLU.pivots, tB, left=left, adjoint=adjoint)
    np.testing.assert_allclose(X.detach().numpy(), tX.detach().numpy(), rtol=1e-10, atol=1e-12)
    w = _rand(tuple(X.shape), 20)
    (X * tg.tensor(w)).sum().backward()
    (tX * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(lu.grad.numpy(), tlu.grad.numpy(), rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(B.grad.numpy(), tB.grad.numpy(), rtol=1e-9, atol=1e-11)
    # without gradients (LAPACK's getrs): the same values
    X = tg.linalg.lu_solve(LU.LU, LU.pivots, tg.tensor(b), left=left, adjoint=adjoint)
    np.testing.assert_allclose(X.numpy(), tX.detach().numpy(), rtol=1e-10, atol=1e-12)


@needs_torch
def test_deprecated_torch():
    a, b = _rand((2, 5, 3), 21), _rand((2, 3, 3), 22)
    for got, want in zip(tg.lu_unpack(*tg.linalg.lu_factor(tg.tensor(a))),
                         torch.lu_unpack(*torch.linalg.lu_factor(torch.tensor(a)))):
        np.testing.assert_allclose(got.numpy(), want.numpy(), atol=1e-12)
    LU, piv = tg.tensor(b).lu()
    tLU, tpiv = torch.linalg.lu_factor(torch.tensor(b))
    np.testing.assert_allclose(tg.lu_solve(tg.tensor(a[:, :3]), LU, piv).numpy(),
                               torch.linalg.lu_solve(tLU, tpiv, torch.tensor(a[:, :3])).numpy(),
                               atol=1e-12)


def _message(f):
    try:
        f()
    except Exception as e:  # noqa: BLE001 (the message is what is compared)
        # (tapegrad's LinAlgError is a RuntimeError, as PyTorch's raise here)
        return "RuntimeError" if isinstance(e, RuntimeError) else type(e).__name__, str(e)
    return None


@needs_torch
def test_errors_torch():
    a = _rand((3, 3), 23)
    piv = np.array([2, 3, 3], np.int32)
    calls = [
        lambda m, A, P, B: m.linalg.lu_factor(A(_rand(3))),
        lambda m, A, P, B: m.linalg.lu(A(_rand(3))),
        lambda m, A, P, B: m.linalg.lu_factor_ex(A(_rand(3))),
        lambda m, A, P, B: m.linalg.lu(A(np.ones((3, 3), np.int64))),
        lambda m, A, P, B: m.linalg.lu(A(a), pivot=False),
        lambda m, A, P, B: m.linalg.lu_factor(A(np.zeros((3, 3)))),
        lambda m, A, P, B: m.linalg.lu_factor(A(np.zeros((2, 3, 3)))),
        lambda m, A, P, B: m.linalg.lu_solve(A(a), P(piv), B(_rand((4, 2)))),
        lambda m, A, P, B: m.linalg.lu_solve(A(a), P(piv), B(_rand((2, 4))), left=False),
        lambda m, A, P, B: m.linalg.lu_solve(A(a), P(piv), B(_rand(3))),
        lambda m, A, P, B: m.linalg.lu_solve(A(a), P(piv.astype(np.int64)), B(_rand((3, 2)))),
        lambda m, A, P, B: m.linalg.lu_solve(A(a[:2]), P(piv), B(_rand((3, 2)))),
        lambda m, A, P, B: m.linalg.lu_solve(A(a), P(piv[None]), B(_rand((3, 2)))),
        lambda m, A, P, B: m.linalg.lu_solve(A(a), P(piv), B(_rand((3, 2)).astype(np.float32))),
        lambda m, A, P, B: m.linalg.lu_solve(A(_rand(3)), P(piv), B(_rand((3, 2)))),
        lambda m, A, P, B: m.lu_unpack(A(a), P(piv.astype(np.int64))),
        lambda m, A, P, B: m.lu_unpack(A(a), P(np.array([0, 5, 5], np.int32))),
    ]
    for call in calls:
        got = _message(lambda: call(tg, tg.tensor, tg.tensor, tg.tensor))
        want = _message(lambda: call(torch, torch.tensor, torch.tensor, torch.tensor))
        assert got is not None and got == want, (got, want)
