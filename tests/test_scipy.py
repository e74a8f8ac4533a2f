"""SciPy's solvers driven by tapegrad's derivatives, as a user writes them: arrays in and out,
the gradient, Hessian, Hessian-vector product or Jacobian computed by tapegrad, each solver's
result equal to the one it reaches with SciPy's own (analytic) derivatives."""

import numpy as np
import pytest

import tapegrad as tg

so = pytest.importorskip("scipy.optimize")


def rosen(x):  # written for arrays; runs on tensors through NumPy's protocols
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


X0 = np.array([-1.2, 1.0, 0.8, 0.5])


def _hess(x):
    return tg.autograd.functional.hessian(rosen, tg.tensor(x)).numpy()


def _hessp(x, p):
    return tg.autograd.functional.hvp(rosen, tg.tensor(x), tg.tensor(p))[1].numpy()


def test_derivatives_equal_scipys_analytic_rosenbrock():
    x = np.random.default_rng(0).standard_normal(6)
    p = np.random.default_rng(1).standard_normal(6)
    np.testing.assert_allclose(tg.grad(rosen)(x), so.rosen_der(x), rtol=1e-13)
    np.testing.assert_allclose(_hess(x), so.rosen_hess(x), rtol=1e-13, atol=1e-12)
    np.testing.assert_allclose(_hessp(x, p), so.rosen_hess_prod(x, p), rtol=1e-12)
    np.testing.assert_allclose(tg.func.hessian(rosen)(tg.tensor(x)).numpy(), so.rosen_hess(x),
                               rtol=1e-13, atol=1e-12)


@pytest.mark.parametrize("method,second", [
    ("Newton-CG", "hess"), ("Newton-CG", "hessp"), ("trust-ncg", "hess"),
    ("trust-krylov", "hessp"), ("trust-exact", "hess"), ("trust-constr", "hess"),
    ("dogleg", "hess")])
def test_second_order_minimizers(method, second):
    ours = {"hess": _hess, "hessp": _hessp}[second]
    theirs = {"hess": so.rosen_hess, "hessp": so.rosen_hess_prod}[second]
    want = so.minimize(so.rosen, X0, jac=so.rosen_der, method=method, **{second: theirs})
    got = so.minimize(rosen, X0, jac=tg.grad(rosen), method=method, **{second: ours})
    assert got.success and want.success
    np.testing.assert_allclose(got.x, want.x, atol=1e-6)
    if method != "trust-constr":  # its trust radius ends on rounding-sized steps (xtol)
        assert got.nit == want.nit  # the same iterates: the derivatives agree to rounding


def test_least_squares_with_a_tapegrad_jacobian():
    t = np.linspace(0.0, 3.0, 30)
    y = 2.5 * np.exp(-1.3 * t) + 0.01 * np.sin(7 * t)

    def residual(p):  # NumPy code; p is an array for SciPy, a tensor for the Jacobian
        return p[0] * np.exp(-p[1] * t) - y

    def jac(p):
        return tg.autograd.functional.jacobian(residual, tg.tensor(p)).numpy()

    def jac_exact(p):
        e = np.exp(-p[1] * t)
        return np.stack([e, -p[0] * t * e], axis=1)

    p = np.array([1.0, 0.7])
    np.testing.assert_allclose(jac(p), jac_exact(p), rtol=1e-13)
    got = so.least_squares(residual, [1.0, 1.0], jac=jac)
    want = so.least_squares(residual, [1.0, 1.0], jac=jac_exact)
    assert got.success
    np.testing.assert_allclose(got.x, want.x, rtol=1e-10)


def test_root_and_stiff_ode_with_tapegrad_jacobians():
    def F(x):
        return tg.stack([x[0] + 0.5 * (x[0] - x[1]) ** 3 - 1.0, 0.5 * (x[1] - x[0]) ** 3 + x[1]])

    def jac(x):
        return tg.autograd.functional.jacobian(F, tg.tensor(x)).numpy()

    r = so.root(lambda x: F(tg.tensor(x)).numpy(), [0.0, 0.0], jac=jac, method="hybr")
    assert r.success
    np.testing.assert_allclose(F(tg.tensor(r.x)).numpy(), 0.0, atol=1e-12)

    si = pytest.importorskip("scipy.integrate")

    def rober(y):  # Robertson's stiff chemical kinetics
        return tg.stack([-0.04 * y[0] + 1e4 * y[1] * y[2],
                         0.04 * y[0] - 1e4 * y[1] * y[2] - 3e7 * y[1] ** 2, 3e7 * y[1] ** 2])

    def jac_exact(t, y):
        return np.array([[-0.04, 1e4 * y[2], 1e4 * y[1]],
                         [0.04, -1e4 * y[2] - 6e7 * y[1], -1e4 * y[1]],
                         [0.0, 6e7 * y[1], 0.0]])

    def rhs(t, y):
        return rober(tg.tensor(y)).numpy()

    def jac(t, y):
        return tg.autograd.functional.jacobian(rober, tg.tensor(y)).numpy()

    y = np.array([0.9, 2e-5, 0.1])
    np.testing.assert_allclose(jac(0.0, y), jac_exact(0.0, y), rtol=1e-14)
    got = si.solve_ivp(rhs, (0.0, 40.0), [1.0, 0.0, 0.0], method="BDF", jac=jac)
    want = si.solve_ivp(rhs, (0.0, 40.0), [1.0, 0.0, 0.0], method="BDF", jac=jac_exact)
    assert got.success
    np.testing.assert_allclose(got.y[:, -1], want.y[:, -1], rtol=1e-10)
