"""PyTorch's positional and tensor-valued arguments of tg.linalg functions (pinv's rcond and
hermitian, per-matrix tolerances): values against torch, gradients by finite differences."""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.autograd import gradcheck, gradgradcheck

R = np.random.default_rng(11)


def _spectrum(s, m=4, n=3):
    """An m x n matrix with singular values ``s``."""
    U = np.linalg.qr(R.standard_normal((m, m)))[0][:, :n]
    V = np.linalg.qr(R.standard_normal((n, n)))[0]
    return (U * np.asarray(s)) @ V.T


def test_pinv_positional_rcond_is_relative():
    A = _spectrum([3.0, 1.5, 0.5])  # rcond 0.3 drops 0.5 (< 0.9; atol 0.3 would keep it)
    U, S, Vh = np.linalg.svd(A, full_matrices=False)
    want = (Vh[:2].T / S[:2]) @ U[:, :2].T
    np.testing.assert_allclose(tg.linalg.pinv(tg.tensor(A), 0.3).numpy(), want, atol=1e-12)
    np.testing.assert_allclose(tg.linalg.pinv(tg.tensor(A), rcond=0.3).numpy(), want, atol=1e-12)
    S = A.T @ A
    w, V = np.linalg.eigh(S)
    keep = w > 0.3 * w.max()
    want_h = (V[:, keep] / w[keep]) @ V[:, keep].T
    got = tg.linalg.pinv(tg.tensor(S), tg.tensor(0.3), True)
    np.testing.assert_allclose(got.numpy(), want_h, atol=1e-12)


def test_pinv_rcond_with_atol_refused():
    with pytest.raises(TypeError):
        tg.linalg.pinv(tg.tensor(_spectrum([3.0, 1.5, 0.5])), 0.3, atol=0.1)


def test_pinv_per_matrix_atol():
    A = np.stack([_spectrum([3.0, 1.5, 0.5]), _spectrum([3.0, 1.5, 0.5])])
    got = tg.linalg.pinv(tg.tensor(A), atol=tg.tensor([0.0, 1.0])).numpy()
    np.testing.assert_allclose(got[0], np.linalg.pinv(A[0]), atol=1e-12)
    U, S, Vh = np.linalg.svd(A[1], full_matrices=False)
    np.testing.assert_allclose(got[1], (Vh[:2].T / S[:2]) @ U[:, :2].T, atol=1e-12)


def test_pinv_rcond_gradients():
    x = tg.tensor(R.standard_normal((4, 3)), requires_grad=True)
    assert gradcheck(lambda a: tg.linalg.pinv(a, 1e-3), (x,))
    assert gradgradcheck(lambda a: tg.linalg.pinv(a, 1e-3), (x,))


def test_pinv_overloads_match_torch():
    torch = pytest.importorskip("torch")
    A = _spectrum([3.0, 1.5, 0.5])
    S = A.T @ A
    for args, kw in [((0.3,), {}), ((), {"rcond": 0.3}), ((0.05, True), {}),
                     ((), {"atol": 1.0}), ((), {"atol": 0.0}), ((), {"rtol": 0.2, "atol": 0.5})]:
        m = S if len(args) > 1 else A
        ours = tg.linalg.pinv(tg.tensor(m), *args, **kw).numpy()
        theirs = torch.linalg.pinv(torch.tensor(m), *args, **kw).numpy()
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
    Ab = np.stack([A, A])
    for atol in ([0.0, 1.0], [0.1, 2.0]):
        ours = tg.linalg.pinv(tg.tensor(Ab), atol=tg.tensor(atol)).numpy()
        theirs = torch.linalg.pinv(torch.tensor(Ab), atol=torch.tensor(atol)).numpy()
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def test_matrix_rank_positional_hermitian_and_per_matrix_atol():
    D = np.diag([3.0, 1e-15, 2.0])
    assert int(tg.linalg.matrix_rank(tg.tensor(D), 1.0, True)) == 2
    assert int(tg.linalg.matrix_rank(tg.tensor(D), 1e-16, True)) == 3
    # atol 0 keeps the default rtol (eps * n * 3 drops 1e-15); a positive atol sets rtol to 0
    got = tg.linalg.matrix_rank(tg.tensor(np.stack([D, D])), atol=tg.tensor([0.0, 1e-20]))
    assert got.tolist() == [2, 3]


def test_matrix_rank_overloads_match_torch():
    torch = pytest.importorskip("torch")
    D = np.stack([np.diag([3.0, 1e-15, 2.0]), np.diag([3.0, 0.5, 2.0])])
    for args, kw in [((1.0, True), {}), ((1e-16,), {"hermitian": True}), ((), {"atol": 0.6}),
                     ((), {"atol": [0.0, 1e-20]}), ((), {"atol": [0.0, 0.6], "rtol": [0.1, 0.1]})]:
        ours = tg.linalg.matrix_rank(tg.tensor(D), *args, **{
            k: tg.tensor(v) if isinstance(v, list) else v for k, v in kw.items()})
        theirs = torch.linalg.matrix_rank(torch.tensor(D), *args, **{
            k: torch.tensor(v) if isinstance(v, list) else v for k, v in kw.items()})
        assert ours.tolist() == theirs.tolist(), (args, kw)


@pytest.mark.parametrize("x", [np.ones(3), np.ones((3, 3), np.int32), np.ones((3, 3), np.float16),
                               np.ones(3, np.complex128)])
def test_pinv_input_message(x):
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError) as theirs:
        torch.linalg.pinv(torch.tensor(x))
    for f in (tg.linalg.pinv, tg.pinverse):
        with pytest.raises(RuntimeError) as ours:
            f(tg.tensor(x))
        assert str(ours.value) == str(theirs.value)
    assert "expected a tensor with 2 or more dimensions of float" in str(theirs.value)
