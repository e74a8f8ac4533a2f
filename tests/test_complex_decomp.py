"""svd/svdvals, eigh/eigvalsh, qr, cholesky, pinv, matrix norms, matrix_power, cond and
logsumexp of complex tensors: values, gradients and second order against finite differences
(real and imaginary parts perturbed) and PyTorch, through tg.linalg and np.linalg.

Losses of singular vectors / eigenvectors are gauge invariant (unchanged when a vector is
multiplied by e^{i phi}): only those have a gradient; the others raise PyTorch's error.
"""

import math

import numpy as np
import pytest

import tapegrad as tg
from complex_checks import check_complex, rand

TOL = dict(rtol=1e-10, atol=1e-10)
TALL, SQUARE, WIDE = rand((4, 3), seed=1), rand((3, 3), seed=2), rand((3, 4), seed=3)
BATCH = rand((2, 3, 2), seed=4)


def _svd_polar(L, a):
    U, S, Vh = L.linalg.svd(a, full_matrices=False)
    return U @ Vh


def _svd_mixed(L, a):
    """Projectors, moduli and the singular values: all unchanged by the vectors' phases."""
    U, S, Vh = L.linalg.svd(a, full_matrices=False)
    k = S.shape[-1]
    Pu = U[..., :, :1] @ U[..., :, :1].mH
    Pv = Vh[..., :1, :].mH @ Vh[..., :1, :]
    return Pu.sum(-1)[..., :k] * S[..., :1] + Pv.sum(-1)[..., :k] + (U.abs() ** 2).sum(-2) * S


def _svd_full(L, a):
    U, S, Vh = L.linalg.svd(a, full_matrices=True)
    k = S.shape[-1]
    return (U[..., :, :k] * S[..., None, :]) @ Vh[..., :k, :] + U[..., :, :k] @ Vh[..., :k, :]


def _eigh_function(L, a):
    """A matrix function ``V f(L) V^H`` and the eigenvectors' moduli."""
    a = a + a.mH
    w, V = L.linalg.eigh(a)
    return (V * L.exp(w * 0.3)[..., None, :]) @ V.mH + V.abs()


def _qr(L, a):
    Q, R = L.linalg.qr(a)
    return Q.sum(-2) + R.sum(-1) * 1j


def _cholesky(L, a, upper=False):
    n = a.shape[-1]
    eye = (tg if L is tg else L).tensor(np.eye(n) * 3.0)
    return L.linalg.cholesky(a @ a.mH + eye, upper=upper)


CASES = {
    "svd_polar_tall": (_svd_polar, [TALL]),
    "svd_polar_square": (_svd_polar, [SQUARE]),
    "svd_polar_wide": (_svd_polar, [WIDE]),
    "svd_mixed_tall": (_svd_mixed, [TALL]),
    "svd_mixed_wide": (_svd_mixed, [WIDE]),
    "svd_mixed_batch": (_svd_mixed, [BATCH]),
    "svd_full_tall": (_svd_full, [TALL]),
    "svd_full_wide": (_svd_full, [WIDE]),
    "svd_S": (lambda L, a: L.linalg.svd(a)[1], [TALL]),
    "svdvals": (lambda L, a: L.linalg.svdvals(a), [WIDE]),
    "svdvals_batch": (lambda L, a: L.linalg.svdvals(a), [BATCH]),
    "eigh": (_eigh_function, [SQUARE]),
    "eigh_batch": (_eigh_function, [rand((2, 3, 3), seed=5)]),
    "eigh_upper": (lambda L, a: L.linalg.eigh(a + a.mH, UPLO="U")[1].abs(), [SQUARE]),
    "eigvalsh": (lambda L, a: L.linalg.eigvalsh(a + a.mH), [SQUARE]),
    "qr_tall": (_qr, [TALL]),
    "qr_square": (_qr, [SQUARE]),
    "qr_wide": (_qr, [WIDE]),
    "qr_batch": (_qr, [BATCH]),
    "qr_complete_wide": (lambda L, a: L.linalg.qr(a, mode="complete")[0], [WIDE]),
    "cholesky": (_cholesky, [SQUARE]),
    "cholesky_upper": (lambda L, a: _cholesky(L, a, upper=True), [SQUARE]),
    "cholesky_batch": (_cholesky, [rand((2, 3, 3), seed=6)]),
    "pinv_tall": (lambda L, a: L.linalg.pinv(a), [TALL]),
    "pinv_wide": (lambda L, a: L.linalg.pinv(a), [WIDE]),
    "pinv_batch": (lambda L, a: L.linalg.pinv(a), [BATCH]),
    "pinv_hermitian": (lambda L, a: L.linalg.pinv(a @ a.mH, hermitian=True), [SQUARE]),
    "matrix_power_3": (lambda L, a: L.linalg.matrix_power(a, 3), [SQUARE]),
    "matrix_power_-2": (lambda L, a: L.linalg.matrix_power(a, -2), [SQUARE]),
    "logsumexp": (lambda L, z: L.logsumexp(z, 1), [TALL]),
    "logsumexp_keepdim": (lambda L, z: L.logsumexp(z * 300.0, (0, 1), keepdim=True), [BATCH]),
}
for _ord in ["fro", "nuc", 2, -2, 1, -1, math.inf, -math.inf]:
    CASES[f"norm_{_ord}_tall"] = (lambda L, a, o=_ord: L.linalg.norm(a, o), [TALL])
    CASES[f"matrix_norm_{_ord}_batch"] = (
        lambda L, a, o=_ord: L.linalg.matrix_norm(a, o, dim=(0, 2), keepdim=True), [BATCH])
for _p in [None, "fro", "nuc", 2, -2, 1, math.inf]:
    CASES[f"cond_{_p}"] = (lambda L, a, p=_p: L.linalg.cond(a, p), [SQUARE])


# PyTorch 2.13 cannot differentiate these (its inv output is modified in place):
# finite differences only
NO_TORCH = {"cond_1", "cond_fro", "cond_inf"}


@pytest.mark.parametrize("name", sorted(CASES))
def test_complex_decomposition(name):
    fn, arrays = CASES[name]
    check_complex(fn, arrays, torch_check=name not in NO_TORCH, **TOL)


@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_gradient_treats_the_input_as_hermitian(upper):
    """The raw gradient (not through ``a a^H``) is PyTorch's, which reads A as Hermitian."""
    a = _herm_np(SQUARE)
    check_complex(lambda L, x: L.linalg.cholesky(x, upper=upper), [a], fd=False, **TOL)


def test_eigh_gradient_treats_the_input_as_hermitian():
    check_complex(lambda L, x: L.linalg.eigh(x)[0], [_herm_np(SQUARE)], fd=False, **TOL)


def _herm_np(a):
    return a @ a.conj().T + 3 * np.eye(a.shape[-1])


@pytest.mark.parametrize("loss", ["svd_U", "svd_Vh", "eigh_V"])
def test_a_loss_of_the_vectors_phases_has_no_gradient(loss):
    a = tg.tensor(SQUARE, requires_grad=True)
    if loss == "eigh_V":
        out = tg.linalg.eigh(a + a.mH)[1][1, 0].real
        msg = r"linalg_eigh_backward: The eigenvectors in the complex case are specified up to"
    else:
        U, S, Vh = tg.linalg.svd(a)
        out = (U if loss == "svd_U" else Vh)[0, 0].imag
        msg = r"svd_backward: The singular vectors in the complex case .* e\^\{i phi\}"
    with pytest.raises(RuntimeError, match=msg):
        out.backward()


def test_values_and_dtypes_match_numpy():
    a = tg.tensor(TALL, requires_grad=True)
    U, S, Vh = tg.linalg.svd(a, full_matrices=False)
    u, s, vh = np.linalg.svd(TALL, full_matrices=False)
    np.testing.assert_allclose(U.detach().numpy(), u)
    np.testing.assert_allclose(S.detach().numpy(), s)
    np.testing.assert_allclose(Vh.detach().numpy(), vh)
    assert S.dtype == tg.float64 and U.dtype == tg.complex128
    w, V = tg.linalg.eigh(tg.tensor(_herm_np(SQUARE), requires_grad=True))
    assert w.dtype == tg.float64 and V.dtype == tg.complex128
    np.testing.assert_allclose(w.detach().numpy(), np.linalg.eigvalsh(_herm_np(SQUARE)))
    Q, R = tg.linalg.qr(a)
    q, r = np.linalg.qr(TALL)
    np.testing.assert_allclose(Q.detach().numpy(), q)
    np.testing.assert_allclose(R.detach().numpy(), r)
    assert tg.linalg.qr(a, mode="r")[1].shape == (3, 3)
    assert tg.linalg.matrix_norm(a, "nuc").dtype == tg.float64
    s32 = tg.linalg.svdvals(tg.tensor(TALL.astype(np.complex64), requires_grad=True))
    assert s32.dtype == tg.float32


def test_numpy_linalg_on_complex_tensors_reaches_the_rules():
    a = tg.tensor(TALL, requires_grad=True)
    h = tg.tensor(_herm_np(SQUARE), requires_grad=True)
    pairs = [
        (lambda: np.linalg.svd(a, full_matrices=False)[1],
         lambda: tg.linalg.svdvals(a)),
        (lambda: np.linalg.svd(a, compute_uv=False), lambda: tg.linalg.svdvals(a)),
        (lambda: np.linalg.norm(a, "nuc"), lambda: tg.linalg.matrix_norm(a, "nuc")),
        (lambda: np.linalg.norm(a, 2), lambda: tg.linalg.matrix_norm(a, 2)),
        (lambda: np.linalg.norm(a), lambda: tg.linalg.vector_norm(a)),
        (lambda: np.linalg.norm(a, axis=0), lambda: tg.linalg.vector_norm(a, dim=0)),
        (lambda: np.linalg.matrix_norm(a, ord=-1), lambda: tg.linalg.matrix_norm(a, -1)),
        (lambda: np.linalg.eigvalsh(h), lambda: tg.linalg.eigvalsh(h)),
        (lambda: np.linalg.eigh(h)[0], lambda: tg.linalg.eigh(h)[0]),
        (lambda: np.linalg.cholesky(h).abs(), lambda: tg.linalg.cholesky(h).abs()),
        (lambda: np.linalg.qr(a)[1].abs(), lambda: tg.linalg.qr(a)[1].abs()),
        (lambda: np.linalg.pinv(a).abs(), lambda: tg.linalg.pinv(a).abs()),
        (lambda: np.linalg.cond(h), lambda: tg.linalg.cond(h)),
    ]
    for via_numpy, via_tg in pairs:
        x, y = via_numpy(), via_tg()
        assert isinstance(x, tg.Tensor)
        np.testing.assert_allclose(x.detach().numpy(), y.detach().numpy(), **TOL)
        leaves = [a, h]
        gx = tg.autograd.grad(x.sum(), leaves, allow_unused=True)
        gy = tg.autograd.grad(y.sum(), leaves, allow_unused=True)
        for p, q in zip(gx, gy):
            assert (p is None) == (q is None)
            if p is not None:
                np.testing.assert_allclose(p.numpy(), q.numpy(), **TOL)
    np.testing.assert_allclose(np.linalg.norm(a, "nuc").detach().numpy(),
                               np.linalg.norm(TALL, "nuc"))


def test_logsumexp_of_complex_values():
    z = tg.tensor([[1e3 + 1j, 1e3 + 2j], [-np.inf + 0j, -np.inf + 0j]])
    got = tg.logsumexp(z, 1).numpy()
    np.testing.assert_allclose(got[0], 1e3 + np.log(np.exp(1j) + np.exp(2j)))
    assert got[1] == -np.inf


def test_qr_complete_tall_has_no_derivative():
    a = tg.tensor(TALL, requires_grad=True)
    Q, R = tg.linalg.qr(a, mode="complete")
    with pytest.raises(RuntimeError, match="mode='complete' and nrows > ncols"):
        Q.abs().sum().backward()


def test_bad_complex_input_gets_pytorch_errors():
    with pytest.raises(RuntimeError, match="not positive-definite"):
        tg.linalg.cholesky(tg.tensor(-np.eye(2) * (1 + 0j), requires_grad=True))
    with pytest.raises(RuntimeError, match="square matrices"):
        tg.linalg.eigh(tg.tensor(TALL, requires_grad=True))
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        tg.linalg.svd(tg.tensor(TALL[0], requires_grad=True))
