"""torch.special's Bessel functions (``bessel_j0``... ``spherical_bessel_j0``): values as
PyTorch's, derivatives (PyTorch has none) against finite differences to the second order and
against the derivative identities, near 0 included, and PyTorch's refusal of complex input."""

import numpy as np
import pytest

import tapegrad as tg

NAMES = ["bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_i0",
         "modified_bessel_i1", "modified_bessel_k0", "modified_bessel_k1",
         "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "spherical_bessel_j0"]
WHOLE_LINE = {"bessel_j0", "bessel_j1", "modified_bessel_i0", "modified_bessel_i1",
              "spherical_bessel_j0"}  # (defined below 0 too)
MPMATH = {"bessel_j0": lambda m, x: m.besselj(0, x), "bessel_j1": lambda m, x: m.besselj(1, x),
          "bessel_y0": lambda m, x: m.bessely(0, x), "bessel_y1": lambda m, x: m.bessely(1, x),
          "modified_bessel_k0": lambda m, x: m.besselk(0, x),
          "modified_bessel_k1": lambda m, x: m.besselk(1, x),
          "scaled_modified_bessel_k1": lambda m, x: m.exp(x) * m.besselk(1, x),
          "spherical_bessel_j0": lambda m, x: m.sin(x) / x if x else m.mpf(1)}
X = np.array([-7.5, -2.0, -0.5, 0.0, 1e-3, 0.3, 0.5, 1.5, 3.0, 12.0, 40.0])


@pytest.mark.parametrize("name", NAMES)
def test_values_as_pytorchs(name):
    torch = pytest.importorskip("torch")
    ours = getattr(tg.special, name)(tg.tensor(X)).numpy()
    theirs = getattr(torch.special, name)(torch.tensor(X)).numpy()
    # (PyTorch's own kernels are off by up to ~1e-7 relative: J1(-7.5))
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-14)
    if name in MPMATH:
        mpmath = pytest.importorskip("mpmath")
        exact = [float(MPMATH[name](mpmath, mpmath.mpf(v))) if (v > 0 or name in WHOLE_LINE)
                 else o for v, o in zip(X, ours)]
        np.testing.assert_allclose(ours, exact, rtol=1e-13, atol=1e-300)
    x32 = getattr(tg.special, name)(tg.tensor(X.astype(np.float32)))
    assert x32.dtype == np.float32


@pytest.mark.parametrize("name", NAMES)
def test_derivatives_first_and_second_order(name):
    f = getattr(tg.special, name)
    pts = [0.3, 0.9, 1.7, 4.0, 11.0] + ([-2.5, -0.6] if name in WHOLE_LINE else [])
    x = tg.tensor(np.array(pts), requires_grad=True)
    assert tg.autograd.gradcheck(f, (x,))
    assert tg.autograd.gradgradcheck(f, (x,))


def test_derivative_identities():
    S = tg.special
    x = tg.tensor(np.array([0.2, 0.8, 2.5, 7.0]), requires_grad=True)

    def d(f):
        return tg.autograd.grad(f(x).sum(), x)[0].numpy()

    xs = x.detach()
    np.testing.assert_allclose(d(S.bessel_j0), -S.bessel_j1(xs).numpy(), rtol=1e-12)
    np.testing.assert_allclose(d(S.bessel_y0), -S.bessel_y1(xs).numpy(), rtol=1e-12)
    np.testing.assert_allclose(d(S.modified_bessel_k0), -S.modified_bessel_k1(xs).numpy(),
                               rtol=1e-12)
    e = np.exp(xs.numpy())
    np.testing.assert_allclose(d(S.scaled_modified_bessel_k1),
                               e * (-S.modified_bessel_k0(xs).numpy()
                                    - S.modified_bessel_k1(xs).numpy() / xs.numpy())
                               + S.scaled_modified_bessel_k1(xs).numpy(), rtol=1e-12)
    # Bessel's equation x^2 y'' + x y' + (x^2 - 1) y = 0 for J1
    g, = tg.autograd.grad(S.bessel_j1(x).sum(), x, create_graph=True)
    h, = tg.autograd.grad(g.sum(), x)
    xv, y = xs.numpy(), S.bessel_j1(xs).numpy()
    np.testing.assert_allclose(xv ** 2 * h.numpy() + xv * g.detach().numpy(), -(xv ** 2 - 1) * y,
                               rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("name, d1, d2", [
    ("bessel_j0", 0.0, -0.5), ("bessel_j1", 0.5, 0.0), ("modified_bessel_i0", 0.0, 0.5),
    ("modified_bessel_i1", 0.5, 0.0), ("spherical_bessel_j0", 0.0, -1.0 / 3.0)])
def test_derivatives_at_zero(name, d1, d2):
    x = tg.tensor(np.array([0.0, 1e-12]), requires_grad=True)
    g, = tg.autograd.grad(getattr(tg.special, name)(x).sum(), x, create_graph=True)
    h, = tg.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(g.detach().numpy(), [d1, d1], atol=1e-11)
    np.testing.assert_allclose(h.numpy(), [d2, d2], rtol=1e-10, atol=1e-11)


@pytest.mark.parametrize("name", NAMES)
def test_complex_refused_as_pytorch(name):
    with pytest.raises(NotImplementedError) as e:
        getattr(tg.special, name)(tg.ones(2, dtype=tg.complex128))
    assert str(e.value) == f"\"{name}_cpu\" not implemented for 'ComplexDouble'"


@pytest.mark.parametrize("name", ["j0", "j1", "y0", "y1", "k0", "k1", "k0e", "k1e"])
def test_scipy_ufuncs_on_tensors(name):
    sp = pytest.importorskip("scipy.special")
    f = getattr(sp, name)
    x = tg.tensor(np.array([0.3, 1.2, 2.5, 7.0]), requires_grad=True)
    y = f(x)
    assert isinstance(y, tg.Tensor) and y.requires_grad
    np.testing.assert_allclose(y.detach().numpy(), f(x.detach().numpy()), rtol=1e-14)
    assert tg.autograd.gradcheck(f, (x,))
    assert tg.autograd.gradgradcheck(f, (x,))
