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


KINKS = np.array([0.0, -0.0, 1e-3, -1e-3, -2.0, 3.0, np.inf, -np.inf, np.nan, 5.0, 10.0, 2.5])
SMOOTH_AT_KINKS = {
    "elu": lambda F, x: F.elu(x), "elu 0.7": lambda F, x: F.elu(x, 0.7),
    "selu": lambda F, x: F.selu(x),
    "celu": lambda F, x: F.celu(x), "softplus": lambda F, x: F.softplus(x),
    "softplus beta 2, threshold 10": lambda F, x: F.softplus(x, beta=2, threshold=10),
}


def _second(lib, name):
    x = lib.tensor(KINKS, dtype=lib.float64, requires_grad=True)
    y = SMOOTH_AT_KINKS[name](lib.nn.functional, x)
    (g,) = lib.autograd.grad(y.sum(), x, create_graph=True)
    (h,) = lib.autograd.grad(g.sum(), x)
    return [np.asarray(t.tolist()) for t in (y, g, h)]


@pytest.mark.parametrize("name", sorted(SMOOTH_AT_KINKS))
def test_second_derivatives_at_kinks_and_infinities(name):
    """PyTorch's double backward of elu (selu, celu) masks ``x < 0`` and of softplus
    ``beta x < threshold``: the second derivative is 0 at 0 and at the threshold, and finite
    (0) at +inf, where the first derivative takes the other branch; the re-taped first
    derivative is the compiled sweep's (to the last bit of a sigmoid)."""
    y, g, h = _second(tg, name)
    kink = 5.0 if "threshold" in name else None if name == "softplus" else 0.0
    assert np.all(h[KINKS == kink] == 0.0) and h[KINKS == np.inf][0] == 0.0
    x = tg.tensor(KINKS, requires_grad=True)
    SMOOTH_AT_KINKS[name](tg.nn.functional, x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), g, rtol=1e-15)  # (sigmoid's last bit)
    torch = pytest.importorskip("torch")
    for ours, theirs in zip((y, g, h), _second(torch, name)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-13, atol=0, equal_nan=True)
