"""``np.apply_along_axis`` on a tensor: NumPy's values and result layout, the gradient through
whatever the 1-D function does (finite differences to the second order), NumPy's errors."""

import numpy as np
import pytest

import tapegrad as tg

A = np.random.default_rng(3).standard_normal((3, 4, 5))
FUNCS = {
    "scalar": lambda r: np.sum(r ** 2) + np.max(r),
    "vector": lambda r: np.cumsum(r[::-1]) * r,
    "matrix": lambda r: np.outer(r, np.tanh(r)),
    "tuple": lambda r: (np.mean(r), np.std(r)),
}


@pytest.mark.parametrize("axis", [0, 1, 2, -2])
@pytest.mark.parametrize("name", sorted(FUNCS))
def test_values_layout_and_gradient(name, axis):
    f = FUNCS[name]
    x = tg.tensor(A, requires_grad=True)
    got = np.apply_along_axis(f, axis, x)
    assert isinstance(got, tg.Tensor) and got.requires_grad
    ref = np.apply_along_axis(f, axis, A)
    assert got.shape == ref.shape
    np.testing.assert_allclose(got.detach().numpy(), ref, rtol=1e-12, atol=1e-14)
    small = tg.tensor(A[:2, :3, :3], requires_grad=True)
    assert tg.autograd.gradcheck(lambda t: np.apply_along_axis(f, axis, t), (small,))
    assert tg.autograd.gradgradcheck(lambda t: np.apply_along_axis(f, axis, t), (small,))


def test_extra_arguments_and_constant_results():
    x = tg.tensor(A, requires_grad=True)
    np.apply_along_axis(lambda r, p, scale=1.0: scale * np.sum(np.abs(r) ** p), 1, x, 3,
                        scale=2.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 6.0 * np.abs(A) ** 2 * np.sign(A), rtol=1e-12)
    const = np.apply_along_axis(lambda r: 1.5, 0, x)
    np.testing.assert_array_equal(const.numpy(), np.full((4, 5), 1.5))


def test_numpy_errors():
    x = tg.tensor(A, requires_grad=True)
    with pytest.raises(np.exceptions.AxisError, match="axis 3 is out of bounds for array of "
                       "dimension 3"):
        np.apply_along_axis(np.sum, 3, x)
    with pytest.raises(ValueError, match="Cannot apply_along_axis when any iteration "
                       "dimensions are 0"):
        np.apply_along_axis(np.sum, 1, tg.zeros((0, 3), requires_grad=True))
