"""``relu6``/``hardtanh`` and ``elu`` at their kinks, at +-inf and NaN: values and gradients as
PyTorch's (the gradient of a clamp-like activation is 0 at its bounds; ``relu6(inf)`` is 6)."""

import numpy as np
import pytest

import tapegrad as tg

POINTS = [np.nan, np.inf, -np.inf, -1.0, 0.0, 0.5, 1.0, 3.0, 6.0, 7.0]

ACTIVATIONS = {
    "relu6": lambda T: T.nn.functional.relu6,
    "ReLU6": lambda T: T.nn.ReLU6(),
    "hardtanh": lambda T: T.nn.functional.hardtanh,
    "hardtanh -2..6": lambda T: (lambda t: T.nn.functional.hardtanh(t, -2.0, 6.0)),
    "Hardtanh 0..1": lambda T: T.nn.Hardtanh(0.0, 1.0),
    "elu": lambda T: T.nn.functional.elu,
    "elu alpha": lambda T: (lambda t: T.nn.functional.elu(t, 0.5)),
}


def _run(lib, name):
    x = lib.tensor(POINTS, dtype=lib.float64, requires_grad=True)
    y = ACTIVATIONS[name](lib)(x)
    y.sum().backward()
    return np.asarray(y.tolist()), np.asarray(x.grad.tolist())


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_bounds_match_torch(torch, name):
    for a, b in zip(_run(tg, name), _run(torch, name)):
        np.testing.assert_array_equal(a, b)


def test_bounds_without_torch():
    y, g = _run(tg, "relu6")
    np.testing.assert_array_equal(y[1:], [6.0, 0.0, 0.0, 0.0, 0.5, 1.0, 3.0, 6.0, 6.0])
    np.testing.assert_array_equal(g, [0, 0, 0, 0, 0, 1, 1, 1, 0, 0])
    _, g = _run(tg, "elu")
    assert g[0] == 1.0  # NaN takes the identity branch
    x = tg.tensor([0.5, 2.0], dtype=tg.float64, requires_grad=True)
    assert tg.autograd.gradgradcheck(lambda t: tg.nn.functional.hardtanh(t * t, 0.0, 1.0), (x,))
    with pytest.raises(ValueError, match="max_val must be greater than min_val"):
        tg.nn.Hardtanh(1.0, 0.0)
