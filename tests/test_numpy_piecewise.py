"""``np.piecewise`` on a tensor: NumPy's values (later conditions override, an "otherwise"
function, constants, 0-d and integer inputs), the gradient through the selected functions to
the second order, NumPy's error for a wrong number of functions."""

import numpy as np
import pytest

import tapegrad as tg

X = np.linspace(-2.0, 2.0, 9) + 0.01  # (no element on a boundary)
CASES = {
    "two": (lambda x: [x < 0, x >= 0], [lambda v: -v, lambda v: v ** 2]),
    "otherwise_constant": (lambda x: [x < -1, (x >= -1) & (x < 1)],
                           [lambda v: v * 3, np.sin, 2.5]),
    "one_array_condition": (lambda x: x > 0, [lambda v: v ** 3, 0.5]),
    "override": (lambda x: [x > 0, x > 1], [np.exp, lambda v: np.tanh(v) * 7]),
    "nothing_selected": (lambda x: [x > 10], [np.exp]),
}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("tensor_conditions", [False, True])
def test_values_and_gradients(name, tensor_conditions):
    cf, funcs = CASES[name]
    x = tg.tensor(X, requires_grad=True)
    conds = cf(x if tensor_conditions else X)
    got = np.piecewise(x, conds, funcs)
    np.testing.assert_allclose(got.detach().numpy(), np.piecewise(X, cf(X), funcs), rtol=1e-14)
    assert tg.autograd.gradcheck(lambda a: np.piecewise(a, cf(X), funcs), (x,))
    assert tg.autograd.gradgradcheck(lambda a: np.piecewise(a, cf(X), funcs), (x,))


def test_two_dimensional_zero_dimensional_and_integer_inputs():
    a = np.arange(6.0).reshape(2, 3)
    got = np.piecewise(tg.tensor(a, requires_grad=True), [a > 2], [lambda v: v ** 2, -1.0])
    np.testing.assert_array_equal(got.detach().numpy(),
                                  np.piecewise(a, [a > 2], [lambda v: v ** 2, -1.0]))
    s = tg.tensor(np.float64(0.5), requires_grad=True)
    out = np.piecewise(s, True, [lambda v: v * 2])
    out.backward()
    assert out.item() == 1.0 and s.grad.item() == 2.0
    i = np.arange(4)
    np.testing.assert_array_equal(np.piecewise(tg.tensor(i), [i > 1], [lambda v: v * 1.5]).numpy(),
                                  np.piecewise(i, [i > 1], [lambda v: v * 1.5]))


def test_wrong_number_of_functions():
    with pytest.raises(ValueError, match=r"with 1 condition\(s\), either 1 or 2 functions are "
                       "expected"):
        np.piecewise(tg.tensor(X, requires_grad=True), [X > 0], [np.sin, np.cos, np.exp])


@pytest.mark.parametrize("v", [-0.5, 1.5])
def test_zero_dimensional_tensor_condition(v):
    # (x < 0 of a 0-d tensor is a 0-d tensor; NumPy's is a scalar, one condition)
    funcs = [lambda t: -t ** 3, lambda t: 3 * t]
    x = tg.tensor(v, requires_grad=True)
    got = np.piecewise(x, x < 0, funcs)
    assert got.item() == np.piecewise(np.float64(v), np.float64(v) < 0, funcs)
    assert tg.autograd.gradcheck(lambda a: np.piecewise(a, x.detach() < 0, funcs), (x,))
    assert tg.autograd.gradgradcheck(lambda a: np.piecewise(a, x.detach() < 0, funcs), (x,))
