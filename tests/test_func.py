"""tg.grad / tg.value_and_grad: function transforms that compose."""

import math

import numpy as np
import pytest

import tapegrad as tg


def test_tg_grad_is_the_transform():
    assert tg.grad is not tg.autograd.grad
    assert tg.grad(lambda a: a ** 2)(3.0) == 6.0


def test_grad_of_grad():
    assert tg.grad(tg.grad(lambda a: a ** 3))(2.0) == 12.0
    assert tg.grad(tg.grad(lambda a: a ** 3))(tg.tensor(2.0)) == 12.0
    assert tg.grad(tg.grad(tg.grad(lambda a: a ** 3)))(2.0) == 6.0


def test_third_derivative_sin_x_cubed():
    v = 0.9
    s, c = math.sin(v), math.cos(v)
    want = -c * v ** 3 - 9 * s * v ** 2 + 18 * c * v + 6 * s
    got = float(tg.grad(tg.grad(tg.grad(lambda a: tg.sin(a) * a ** 3)))(v))
    assert math.isclose(got, want, rel_tol=1e-12)


def test_inputs_numbers_arrays_tensors():
    f = lambda a: (a ** 2).sum()  # noqa: E731
    for x in ([1.0, 2.0], np.array([1.0, 2.0]), tg.tensor([1.0, 2.0])):
        g = tg.grad(f)(np.asarray(x) if isinstance(x, list) else x)
        np.testing.assert_allclose(np.asarray(g), [2.0, 4.0])
        # arrays in, arrays out (as NumPy, so SciPy takes them); tensors in, tensors out
        assert isinstance(g, tg.Tensor) == isinstance(x, tg.Tensor)
        assert not getattr(g, "requires_grad", False)
    assert tg.grad(lambda a: a * 3)(2) == 3.0  # ints become float64


def test_argnums_and_value_and_grad():
    f = lambda a, b, c: a * b + c ** 2  # noqa: E731
    assert tg.grad(f, argnums=1)(2.0, 3.0, 4.0) == 2.0
    g = tg.grad(f, argnums=(0, 2))(2.0, 3.0, 4.0)
    assert isinstance(g, tuple) and list(g) == [3.0, 8.0]
    assert tg.grad(f, argnums=-1)(2.0, 3.0, 4.0) == 8.0
    val, g = tg.value_and_grad(f)(2.0, 3.0, 4.0)  # numbers in: numbers out
    assert (val, g) == (22.0, 3.0) and type(val) is float and type(g) is float
    val, g = tg.value_and_grad(f)(tg.tensor(2.0), 3.0, 4.0)  # tensors in: tensors out
    assert val.item() == 22.0 and g.item() == 3.0 and not val.requires_grad
    (val, aux), g = tg.value_and_grad(lambda a: (a ** 2, "aux"), has_aux=True)(3.0)
    assert aux == "aux" and g == 6.0
    g, aux = tg.grad(lambda a: (a ** 2, a * 0 + 1), has_aux=True)(3.0)
    assert g == 6.0 and aux.item() == 1.0


def test_errors():
    with pytest.raises(RuntimeError, match="Expected f\\(\\*args\\) to return a scalar Tensor"):
        tg.grad(lambda a: a * 2)(tg.tensor([1.0, 2.0]))
    with pytest.raises(RuntimeError, match="Expected f\\(\\*args\\) to return a Tensor"):
        tg.grad(lambda a: 3.0)(1.0)
    with pytest.raises(RuntimeError, match="but only 1 positional inputs"):
        tg.grad(lambda a: a, argnums=1)(1.0)
    with pytest.raises(RuntimeError, match="argnums must be int or Tuple"):
        tg.grad(lambda a: a, argnums=[0])(1.0)


def test_independent_output_gives_zero():
    assert tg.grad(lambda a: tg.tensor(1.0))(2.0) == 0.0
    assert tg.grad(lambda a, b: a * 2, argnums=1)(tg.tensor(2.0), 5.0) == 0.0


def test_closures_compose():
    # inner gradient w.r.t. y is x: the outer level differentiates through the closure
    assert tg.grad(lambda x: tg.grad(lambda y: x * y)(2.0))(3.0) == 1.0
    assert tg.grad(lambda x: tg.grad(lambda y: x * x * y * y)(2.0))(3.0) == 24.0


def test_composes_with_autograd():
    x = tg.tensor(2.0, requires_grad=True)
    g = tg.grad(lambda a: a ** 3)(x)  # x has history: the result keeps it
    assert g.item() == 12.0 and g.requires_grad
    g.backward()
    assert x.grad.item() == 12.0
    assert x.grad is not None and tg.is_grad_enabled()


def test_under_no_grad():
    with tg.no_grad():
        assert tg.grad(lambda a: a ** 3)(2.0) == 12.0
        assert not tg.is_grad_enabled()


def test_matches_torch_func(torch):
    from torch.func import grad as tgrad

    rng = np.random.default_rng(0)
    A = rng.standard_normal((3, 3))
    x0 = rng.standard_normal(3)
    ours = np.asarray(tg.grad(lambda a: (tg.tanh(tg.tensor(A) @ a) ** 2).sum())(x0))
    theirs = tgrad(lambda a: (torch.tanh(torch.tensor(A) @ a) ** 2).sum())(torch.tensor(x0))
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-12)


# ---- a closure over an outer tensor stays differentiable for the outer level -----------------

def _closure_cases(lib, grad, value_and_grad):
    """Each case: (name, function of the outer tensors -> scalar to differentiate)."""
    t2 = lib.tensor(2.0)
    v = lib.tensor([0.5, -1.0, 2.0])
    return [
        ("issue example", lambda x, w: x * grad(lambda t: x * t)(t2)),
        ("nonlinear", lambda x, w: x.sin() * grad(lambda t: (x * t).exp())(t2)),
        ("grad of grad", lambda x, w: grad(grad(lambda t: x * t ** 3))(lib.tensor(1.5)) * x),
        ("vector closure", lambda x, w: (grad(lambda t: (w * t).sin().sum())(v) ** 2).sum()),
        ("value_and_grad", lambda x, w: sum(value_and_grad(lambda t: (x * t).tanh())(t2))),
        ("nonleaf closure", lambda x, w: grad(lambda t: (x * x) * t * t)(t2)),
        ("two levels of closure", lambda x, w: grad(
            lambda a: grad(lambda b: x * a * b * b)(t2) * a)(lib.tensor(0.7))),
    ]


@pytest.mark.parametrize("case", range(7))
def test_closure_over_outer_tensor_matches_torch_func(torch, case):
    import torch.func as tf

    x0, w0 = 0.8, np.array([0.3, -0.6, 1.1])
    torch.set_default_dtype(torch.float64)
    try:
        xt = torch.tensor(x0, requires_grad=True)
        wt = torch.tensor(w0, requires_grad=True)
        name, f_t = _closure_cases(torch, tf.grad, tf.grad_and_value)[case]
        if name == "value_and_grad":  # torch.func spells it grad_and_value: (grad, value)
            f_t = lambda x, w: sum(tf.grad_and_value(lambda t: (x * t).tanh())(  # noqa: E731
                torch.tensor(2.0)))
        yt = f_t(xt, wt)
        ref = torch.autograd.grad(yt, (xt, wt), allow_unused=True, materialize_grads=True)
    finally:
        torch.set_default_dtype(torch.float32)
    x = tg.tensor(x0, requires_grad=True)
    w = tg.tensor(w0, requires_grad=True)
    y = _closure_cases(tg, tg.grad, tg.value_and_grad)[case][1](x, w)
    assert y.requires_grad
    np.testing.assert_allclose(y.item(), yt.item(), rtol=1e-13)
    got = tg.autograd.grad(y, (x, w), allow_unused=True, materialize_grads=True)
    for g, r in zip(got, ref):
        np.testing.assert_allclose(g.numpy(), r.numpy(), rtol=1e-12, atol=1e-15)


def test_closure_grad_is_plain_when_nothing_outside_requires_grad(torch):
    """No outer tensor requires grad (or grad mode is off): the result carries no history,
    as with torch.func."""
    c = tg.tensor(3.0)
    assert not tg.grad(lambda t: c * t * t)(tg.tensor(2.0)).requires_grad
    assert not torch.func.grad(lambda t: torch.tensor(3.0) * t * t)(
        torch.tensor(2.0)).requires_grad
    x = tg.tensor(3.0, requires_grad=True)
    with tg.no_grad():
        g = tg.grad(lambda t: x * t * t)(tg.tensor(2.0))
    assert g.item() == 12.0 and not g.requires_grad


def test_scipy_optimizers_take_value_and_grad():
    """Arrays in, arrays out: SciPy's minimizers use ``value_and_grad(f)`` as ``jac=True``
    (they crashed on tensors), and the gradient equals SciPy's own Rosenbrock derivative."""
    so = pytest.importorskip("scipy.optimize")
    f = lambda x: (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()  # noqa: E731
    x = np.random.default_rng(0).standard_normal(5)
    np.testing.assert_allclose(tg.grad(f)(x), so.rosen_der(x), rtol=1e-13)
    x0 = np.array([-1.2, 1.0, 0.8])
    expected = so.minimize(so.rosen, x0, jac=so.rosen_der, method="BFGS").x
    for method in ("BFGS", "L-BFGS-B", "CG"):
        res = so.minimize(tg.value_and_grad(f), x0, jac=True, method=method)
        assert res.success, method
        np.testing.assert_allclose(res.x, expected, atol=1e-4)
