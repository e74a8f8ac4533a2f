"""tg.compile of dtype conversions (x.double(), x.float(), x.half(), x.to(dtype), x.type(dtype),
x.to("cpu")): a step converting a float32 output to float64 for its loss, or a mask to float,
ran eagerly ('double is not supported by tg.compile yet'). Replayed (fullgraph: one trace)
with eager's and PyTorch's values, dtypes and gradients; finite differences through a copy."""

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


def _f(lib, x, w):
    y = x @ w
    mask = (y > 0).float()
    return ((y.double() - 0.5) ** 2).mean() + (mask * y).to(lib.float64).sum() + \
        y.half().float().sum() + y.to("cpu").type(lib.float64).sum()


def test_conversions_against_eager_and_torch():
    compiled = tg.compile(lambda x, w: _f(tg, x, w), fullgraph=True)
    rng = np.random.default_rng(0)
    w0 = rng.normal(size=(4, 3)).astype(np.float32)
    for _ in range(2):
        x0 = rng.normal(size=(5, 4)).astype(np.float32)
        w, we, tw = (tg.tensor(w0, requires_grad=True), tg.tensor(w0, requires_grad=True),
                     torch.tensor(w0, requires_grad=True))
        out, oute, tout = compiled(tg.tensor(x0), w), _f(tg, tg.tensor(x0), we), \
            _f(torch, torch.tensor(x0), tw)
        for o in (out, oute, tout):
            o.backward()
        assert out.dtype == oute.dtype == np.float64 and w.grad.dtype == np.float32
        np.testing.assert_allclose(out.item(), oute.item(), rtol=1e-13)
        np.testing.assert_allclose(out.item(), tout.item(), rtol=1e-5)
        np.testing.assert_allclose(w.grad.numpy(), we.grad.numpy(), rtol=1e-6)
        np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=1e-5)
    assert compiled._count == 1


def test_gradcheck_through_a_copy_and_an_identity_conversion():
    def f(x):
        return (x.to(tg.float64, copy=True).sin() * x.double()).sum()

    compiled = tg.compile(f, fullgraph=True)
    x = tg.tensor(np.random.default_rng(1).normal(size=(3, 2)), requires_grad=True)
    assert tg.autograd.gradcheck(compiled, (x,))
    assert tg.autograd.gradgradcheck(compiled, (x,))
