"""Lists of tensors and numbers among the arrays ``np.concatenate``/``np.stack``/``np.vstack``/
``np.hstack``/``np.column_stack``/``np.append``/``np.insert`` join
(``np.concatenate([y, [y.sum(), y.std()]])``): NumPy's values and dtypes, and the gradient
through the tensors in the list."""

import numpy as np
import pytest

import tapegrad as tg

Y = np.array([1.0, 2.0, 4.0])
JOINS = {
    "concatenate": lambda y: np.concatenate([np.cumsum(y), [np.linalg.norm(y), np.std(y)]]),
    "stack": lambda y: np.stack([y, [y[0] * y[1], 1.5, y[2]]]),
    "vstack": lambda y: np.vstack([y, [np.exp(y[0]), 2, 3]]),
    "hstack": lambda y: np.hstack([y, [y.prod()]]),
    "column_stack": lambda y: np.column_stack([y, [y[0], (y[1], 1.0)[0], 3.0]]),
    "append": lambda y: np.append(y, [np.linalg.norm(y), y.max()]),
    "append_axis": lambda y: np.append(y[None], [[y[2], 1.0, y[0] * y[1]]], axis=0),
    "append_to_list": lambda y: np.append([y.sum(), 2], y),
    "insert": lambda y: np.insert(y, 1, [y[2] * y[0], 2.0]),
    "insert_axis": lambda y: np.insert(y[None], 0, [[y[1], y[2] ** 2, 1.0]], axis=0),
    "nested": lambda y: np.concatenate([y[None], [[y[2], y[1] ** 2, 0.5]]]),
}


@pytest.mark.parametrize("name", sorted(JOINS))
def test_values_and_gradient(name):
    f = JOINS[name]
    y = tg.tensor(Y, requires_grad=True)
    got = f(y)
    assert isinstance(got, tg.Tensor) and got.requires_grad
    np.testing.assert_allclose(got.detach().numpy(), f(Y), rtol=1e-14)
    assert tg.autograd.gradcheck(f, (y,))
    assert tg.autograd.gradgradcheck(f, (y,))


def test_dtypes_as_numpys():
    y32 = tg.tensor(Y.astype(np.float32), requires_grad=True)
    for parts in ([y32, [y32[0], 2]], [y32, [y32[0], y32[1]]], [y32, [1, 2]]):
        ref = np.concatenate([p.detach().numpy() if isinstance(p, tg.Tensor) else
                              [e.detach().numpy() if isinstance(e, tg.Tensor) else e for e in p]
                              for p in parts])
        assert np.concatenate(parts).dtype == ref.dtype
