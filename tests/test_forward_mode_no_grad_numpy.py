"""NumPy functions on tensors under ``no_grad`` inside forward mode refuse what they refuse
with grad mode on (a NumPy fallback or an ndarray ``out=`` would drop the tangent), instead of
computing a constant silently as under a plain ``no_grad``."""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.func import jvp

X = [0.3, 1.2, 2.5]


def _under_no_grad(fn):
    def f(x):
        with tg.no_grad():
            return tg.as_tensor(fn(x)) * 1
    return f


@pytest.mark.parametrize("fn, error", [
    (lambda x: np.sin(x, out=np.empty(3)), TypeError),
    (lambda x: np.roots(x), TypeError),
])
def test_refused_as_with_grad_mode_on(fn, error):
    with pytest.raises(error):
        jvp(lambda x: tg.as_tensor(fn(x)) * 1, (tg.tensor(X),), (tg.ones(3),))
    with pytest.raises(error):
        jvp(_under_no_grad(fn), (tg.tensor(X),), (tg.ones(3),))
    with tg.no_grad():  # (outside forward mode: NumPy computes the values)
        fn(tg.tensor(X, requires_grad=True))


def test_supported_function_keeps_its_tangent():
    _, t = jvp(_under_no_grad(lambda x: np.cumsum(np.sin(x))), (tg.tensor(X),), (tg.ones(3),))
    np.testing.assert_allclose(t.numpy(), np.cumsum(np.cos(X)), rtol=1e-6)


def test_heaviside_values_keep_their_tangent():
    x = tg.tensor([0.0, 1.0, -1.0, 0.0])  # (h's tangent reaches the result where x is 0)
    _, t = jvp(_under_no_grad(lambda h: np.heaviside(x, h)), (tg.tensor([0.3, 0.5, 0.7, 0.9]),),
               (tg.ones(4),))
    np.testing.assert_array_equal(t.numpy(), [1.0, 0.0, 0.0, 1.0])
