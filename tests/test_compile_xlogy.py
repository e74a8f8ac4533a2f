"""tg.compile of xlogy and special.xlog1py: replayed (fullgraph), with the eager op's values
and gradients, edges included (x = 0 against y = 0, -1, inf, NaN), as inputs change."""

import warnings

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

EDGE_X = np.array([0.0, 0.0, 0.0, 0.0, 0.5, -1.0, 2.0, 0.0])
EDGE_Y = np.array([0.0, -1.0, np.inf, np.nan, 2.0, 0.5, -0.5, 1.0])


def _fn(lib, name):
    return lib.xlogy if name == "xlogy" else lib.special.xlog1py


def _program(lib, name):
    def f(x, y):
        return (_fn(lib, name)(x, y) * 1.5 + _fn(lib, name)(2.0, y.abs())).sum()
    return f


def _grads(lib, f, x, y):
    X = lib.tensor(x, requires_grad=True)
    Y = lib.tensor(y, requires_grad=True)
    out = f(X, Y)
    out.backward()
    return [v.detach().numpy() for v in (out, X.grad, Y.grad)]


@pytest.mark.parametrize("name", ["xlogy", "xlog1py"])
def test_compiled_matches_eager_and_torch(name):
    compiled = tg.compile(_program(tg, name), fullgraph=True)
    rng = np.random.default_rng(3)
    cases = [(EDGE_X, EDGE_Y)] + [(rng.uniform(-1, 1, 8), rng.uniform(0.1, 3, 8))
                                  for _ in range(2)]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # (no eager fallback)
        for x, y in cases:
            ours = _grads(tg, compiled, x, y)
            for a, b in zip(ours, _grads(tg, _program(tg, name), x, y)):
                np.testing.assert_allclose(a, b, rtol=1e-13, equal_nan=True)
            for a, b in zip(ours, _grads(torch, _program(torch, name), x, y)):
                np.testing.assert_allclose(a, b, rtol=1e-12, equal_nan=True)


@pytest.mark.parametrize("name", ["xlogy", "xlog1py"])
def test_compiled_broadcast_and_float32(name):
    def f(x, y):
        return _fn(tg, name)(x, y)

    compiled = tg.compile(f, fullgraph=True)
    x = tg.tensor(np.array([[0.0], [1.5]], np.float32), requires_grad=True)
    y = tg.tensor(np.array([0.5, 2.0, 0.0], np.float32), requires_grad=True)
    out = compiled(x, y)
    out.sum().backward()
    got = [out.detach().numpy(), x.grad.numpy(), y.grad.numpy()]
    tx = torch.tensor(x.detach().numpy(), requires_grad=True)
    ty = torch.tensor(y.detach().numpy(), requires_grad=True)
    tout = _fn(torch, name)(tx, ty)
    tout.sum().backward()
    for a, b in zip(got, [tout.detach().numpy(), tx.grad.numpy(), ty.grad.numpy()]):
        assert a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=1e-6, equal_nan=True)
