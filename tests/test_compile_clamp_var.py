"""tg.compile of clamp / clip with number bounds and of var / std: steps using them ran eagerly
('clamp is not supported by tg.compile yet', 'var ...', 'std ...'). Replayed (fullgraph: one
trace) with eager's and PyTorch's values and gradients (NaN, values on the bounds, a constant
row's std), against finite differences to second order."""

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

X = np.array([[-2.0, -1.0, 0.3, 1.0, 2.5], [np.nan, 0.5, -0.2, 1.0, -1.0],
              [0.7, 0.7, 0.7, 0.7, 0.7]])


def _clamps(lib, x):
    return (lib.clamp(x, -1.0, 1.0) * 2 + x.clamp(min=0.5) + lib.clip(x, max=0.0) ** 2).sum()


def _stats(lib, x):
    return (x.var(1) * 3).sum() + x.std(1, keepdim=True).sum() + \
        lib.var(x, 0, correction=0).sum() + x.std() * 2 + x.var(unbiased=False)


@pytest.mark.parametrize("f", [_clamps, _stats])
def test_against_eager_and_torch(f):
    compiled = tg.compile(lambda x: f(tg, x), fullgraph=True)
    for shift in (0.0, 0.25):
        x0 = X + shift if f is _clamps else np.nan_to_num(X) + shift
        x, xe, tx = (tg.tensor(x0, requires_grad=True), tg.tensor(x0, requires_grad=True),
                     torch.tensor(x0, requires_grad=True))
        out, oute, tout = compiled(x), f(tg, xe), f(torch, tx)
        for o in (out, oute, tout):
            o.backward()
        np.testing.assert_allclose(out.item(), oute.item(), rtol=1e-13, equal_nan=True)
        np.testing.assert_allclose(out.item(), tout.item(), rtol=1e-12, equal_nan=True)
        np.testing.assert_allclose(x.grad.numpy(), xe.grad.numpy(), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-14)
    assert compiled._count == 1


@pytest.mark.parametrize("f", [_clamps, _stats])
def test_gradcheck_second_order(f):
    compiled = tg.compile(lambda x: f(tg, x), fullgraph=True)
    x = tg.tensor(np.random.default_rng(0).normal(size=(3, 5)), requires_grad=True)
    assert tg.autograd.gradcheck(compiled, (x,))
    assert tg.autograd.gradgradcheck(compiled, (x,))
