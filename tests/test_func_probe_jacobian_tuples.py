"""``autograd.functional.jacobian`` returns tuples for tuple inputs and outputs in both
strategies (PyTorch's vectorized forward mode returns lists there: a documented difference);
the blocks agree with PyTorch's and with finite differences."""

import numpy as np
import pytest

import tapegrad as tg

X, Y = np.array([0.3, -1.2, 0.7]), np.array([1.5, -0.4])


def _f(a, b):
    return a.exp() * b.sum(), (a.sum() * b).tanh()


@pytest.mark.parametrize("strategy", ["reverse-mode", "forward-mode"])
def test_tuple_of_tuples_against_finite_differences(strategy):
    x, y = tg.tensor(X), tg.tensor(Y)
    jac = tg.autograd.functional.jacobian(_f, (x, y), vectorize=True, strategy=strategy)
    assert type(jac) is tuple and all(type(row) is tuple for row in jac)
    e = 1e-6
    for j, base in enumerate((X, Y)):
        for k in range(base.size):
            step = np.zeros(base.size)
            step[k] = e
            args_p = [tg.tensor(X), tg.tensor(Y)]
            args_m = [tg.tensor(X), tg.tensor(Y)]
            args_p[j] = tg.tensor(base + step)
            args_m[j] = tg.tensor(base - step)
            outs_p, outs_m = _f(*args_p), _f(*args_m)
            for i in range(2):
                fd = (outs_p[i].numpy() - outs_m[i].numpy()) / (2 * e)
                np.testing.assert_allclose(jac[i][j].numpy()[..., k], fd, rtol=1e-6, atol=1e-9)


def test_blocks_against_torch():
    torch = pytest.importorskip("torch")
    got = tg.autograd.functional.jacobian(_f, (tg.tensor(X), tg.tensor(Y)), vectorize=True,
                                          strategy="forward-mode")
    want = torch.autograd.functional.jacobian(_f, (torch.tensor(X), torch.tensor(Y)),
                                              vectorize=True, strategy="forward-mode")
    assert type(want) is list  # (PyTorch's)
    for i in range(2):
        for j in range(2):
            np.testing.assert_allclose(got[i][j].numpy(), want[i][j].numpy(), rtol=1e-14)
