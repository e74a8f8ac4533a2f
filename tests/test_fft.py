"""tapegrad.fft and np.fft on tensors: values against NumPy, gradients against finite
differences (first and second order) and PyTorch's torch.fft."""

import numpy as np
import pytest

import tapegrad as tg
from complex_checks import check_complex, rand

C = rand((4, 5))
R = rand((4, 5), cplx=False)
R6 = rand((6,), cplx=False)

CASES = {
    "fft": (lambda L, x: L.fft.fft(x), [C]),
    "fft_real_input": (lambda L, x: L.fft.fft(x, dim=0), [R]),
    "fft_pad": (lambda L, x: L.fft.fft(x, n=7), [C]),
    "fft_truncate_ortho": (lambda L, x: L.fft.fft(x, n=3, dim=0, norm="ortho"), [C]),
    "ifft": (lambda L, x: L.fft.ifft(x), [C]),
    "ifft_forward": (lambda L, x: L.fft.ifft(x, n=6, norm="forward"), [C]),
    "rfft": (lambda L, x: L.fft.rfft(x), [R]),
    "rfft_even": (lambda L, x: L.fft.rfft(x, norm="ortho"), [R6]),
    "rfft_n": (lambda L, x: L.fft.rfft(x, n=8, dim=0, norm="forward"), [R]),
    "irfft": (lambda L, x: L.fft.irfft(x), [C]),
    "irfft_odd": (lambda L, x: L.fft.irfft(x, n=9), [C]),
    "irfft_short": (lambda L, x: L.fft.irfft(x, n=4, dim=0, norm="ortho"), [C]),
    "fft2": (lambda L, x: L.fft.fft2(x), [C]),
    "ifft2_s": (lambda L, x: L.fft.ifft2(x, s=(3, 6)), [C]),
    "fftn": (lambda L, x: L.fft.fftn(x, norm="ortho"), [C]),
    "ifftn_dim": (lambda L, x: L.fft.ifftn(x, dim=(0,)), [C]),
    "rfftn": (lambda L, x: L.fft.rfftn(x), [R]),
    "rfft2_s": (lambda L, x: L.fft.rfft2(x, s=(5, 4)), [R]),
    "irfftn": (lambda L, x: L.fft.irfftn(x), [C]),
    "irfft2_s": (lambda L, x: L.fft.irfft2(x, s=(4, 7), norm="forward"), [C]),
    "fftshift": (lambda L, x: L.fft.fftshift(x * x), [C]),
    "ifftshift_dim": (lambda L, x: L.fft.ifftshift(x * x, dim=1), [C]),
    "roundtrip": (lambda L, x: L.fft.irfft(L.fft.rfft(x) * L.fft.rfft(x), n=6), [R6]),
    "power_spectrum": (lambda L, x: (L.fft.fft(x).abs() ** 2).sum(dim=1), [C]),
    "hfft": (lambda L, x: L.fft.hfft(x), [C]),
    "hfft_odd_ortho": (lambda L, x: L.fft.hfft(x, n=9, dim=0, norm="ortho"), [C]),
    "hfft_real_input": (lambda L, x: L.fft.hfft(x, n=7, norm="forward"), [R]),
    "ihfft": (lambda L, x: L.fft.ihfft(x), [R]),
    "ihfft_n_forward": (lambda L, x: L.fft.ihfft(x, n=7, dim=0, norm="forward"), [R]),
    "hfft2_s": (lambda L, x: L.fft.hfft2(x, s=(3, 7)), [C]),
    "hfftn": (lambda L, x: L.fft.hfftn(x, norm="ortho"), [C]),
    "ihfft2": (lambda L, x: L.fft.ihfft2(x), [R]),
    "ihfftn_s": (lambda L, x: L.fft.ihfftn(x, s=(5, 6), norm="forward"), [R]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_fft_against_fd_and_torch(name):
    fn, arrays = CASES[name]
    check_complex(fn, arrays)


NUMPY = [
    (lambda np_, x: np_.fft.fft(x, 7), C), (lambda np_, x: np_.fft.ifft(x, axis=0), C),
    (lambda np_, x: np_.fft.rfft(x, norm="ortho"), R), (lambda np_, x: np_.fft.irfft(x, 7), C),
    (lambda np_, x: np_.fft.fft2(x, s=(3, 3)), C), (lambda np_, x: np_.fft.ifft2(x), C),
    (lambda np_, x: np_.fft.fftn(x, axes=(1,)), C), (lambda np_, x: np_.fft.ifftn(x), C),
    (lambda np_, x: np_.fft.rfftn(x), R), (lambda np_, x: np_.fft.irfftn(x, s=(4, 6), axes=(0, 1)), C),
    (lambda np_, x: np_.fft.rfft2(x), R), (lambda np_, x: np_.fft.irfft2(x), C),
    (lambda np_, x: np_.fft.fftshift(x), C), (lambda np_, x: np_.fft.ifftshift(x, axes=0), C),
]


@pytest.mark.parametrize("k", range(len(NUMPY)))
def test_numpy_fft_on_tensors(k):
    """``np.fft.*`` on a tensor runs tapegrad.fft: NumPy's value, a gradient checked by
    finite differences."""
    f, a = NUMPY[k]
    x = tg.tensor(a, requires_grad=True)
    out = f(np, x)
    assert isinstance(out, tg.Tensor)
    np.testing.assert_allclose(out.detach().numpy(), f(np, a), rtol=1e-12, atol=1e-12)

    def loss(v):
        o = f(np, v)
        return (o * o).real.sum() if o.dtype.kind == "c" else (o * o).sum()

    assert tg.autograd.gradcheck(loss, (x,))


def test_numpy_fft_without_grad_gives_numpy_values():
    out = np.fft.fft(tg.tensor(C))
    np.testing.assert_allclose(out.numpy(), np.fft.fft(C))


def test_fft_bad_arguments():
    x = tg.tensor(C)
    with pytest.raises(RuntimeError, match="Invalid normalization mode"):
        tg.fft.fft(x, norm="bogus")
    with pytest.raises(RuntimeError, match="Invalid number of data points"):
        tg.fft.fft(x, n=0)
    with pytest.raises(RuntimeError, match="rfft expects a real input tensor"):
        tg.fft.rfft(x)
    with pytest.raises(IndexError, match="Dimension out of range"):
        tg.fft.fft(x, dim=2)
    with pytest.raises(RuntimeError, match="^When given, dim and shape arguments must have the "
                       "same length$"):
        tg.fft.fftn(tg.ones(4, 4), s=(2,), dim=(0, 1))


def test_fftfreq():
    np.testing.assert_allclose(tg.fft.fftfreq(5, 0.1).numpy(), np.fft.fftfreq(5, 0.1))
    np.testing.assert_allclose(tg.fft.rfftfreq(6).numpy(), np.fft.rfftfreq(6))


def test_hermitian_transforms_against_numpy():
    """hfft/ihfft: NumPy's values (its n-dimensional forms are ours composed: irfftn/rfftn of
    the conjugate with the dual normalisation, checked by the inverse pair)."""
    for norm in (None, "ortho", "forward"):
        np.testing.assert_allclose(tg.fft.hfft(tg.tensor(C), n=9, norm=norm).numpy(),
                                   np.fft.hfft(C, n=9, norm=norm), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(tg.fft.ihfft(tg.tensor(R), dim=0, norm=norm).numpy(),
                                   np.fft.ihfft(R, axis=0, norm=norm), rtol=1e-12, atol=1e-12)
        y = tg.fft.ihfftn(tg.tensor(R), norm=norm)
        np.testing.assert_allclose(tg.fft.hfftn(y, s=R.shape, norm=norm).numpy(), R,
                                   rtol=1e-12, atol=1e-12)
    assert tg.fft.ihfft(tg.tensor(R.astype(np.float32))).dtype == np.complex64
    with pytest.raises(RuntimeError, match="ihfft expects a real input tensor, but got "
                       "ComplexDouble"):
        tg.fft.ihfft(tg.tensor(C))
    with pytest.raises(RuntimeError, match="Only supports floating-point dtypes, but found: "
                       "ComplexDouble"):
        tg.fft.ihfft2(tg.tensor(C))


def test_fft_of_empty_and_0d_inputs_raise_pytorchs_errors():
    for f in (tg.fft.fft, tg.fft.ifft, tg.fft.rfft, tg.fft.fftn, tg.fft.rfftn, tg.fft.irfftn,
              tg.fft.ihfft):
        with pytest.raises(RuntimeError, match=r"Invalid number of data points \(0\) "
                           "specified"):
            f(tg.zeros(0))
    with pytest.raises(RuntimeError, match=r"Invalid number of data points \(-2\)"):
        tg.fft.irfft(tg.zeros(0, dtype=tg.complex128))
    with pytest.raises(IndexError, match="Dimension specified as -1 but tensor has no "
                       "dimensions"):
        tg.fft.fft(tg.tensor(1.0))
    with pytest.raises(RuntimeError, match="rfftn expects a real-valued input tensor"):
        tg.fft.rfft2(tg.tensor(C), dim=(0, 0))


def test_fftfreq_of_zero_points():
    assert tg.fft.fftfreq(0).shape == (0,)
    assert np.isnan(tg.fft.rfftfreq(0).numpy()).tolist() == [True]  # (0 * 1/0, as PyTorch)
