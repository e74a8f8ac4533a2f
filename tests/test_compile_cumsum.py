"""tg.compile of cumsum: a step with a running sum (a cumulative return, positions counted
from a mask, a monotone output) ran eagerly ('cumsum is not supported by tg.compile yet').
Replayed (fullgraph: one trace) with eager's values and gradients (bit for bit for the op itself) and PyTorch's
(small arrays summed by NumPy, large ones by eager's compiled running sums; float32; dtype=;
an integer mask's positions), to second order against finite differences, and in an Adam
training step against eager and PyTorch."""

import warnings

import numpy as np
import pytest

import tapegrad as tg

from compiled_steps import assert_adam_steps_agree

torch = pytest.importorskip("torch")


def _rows(lib, x):
    return (lib.cumsum(x, 1) * x).sum() + (x.cumsum(0) ** 2).sum() + \
        lib.cumsum(x, dim=-1)[:, -1].sum()


def _positions(lib, x):  # (an integer cumsum of a mask: positions, no gradient)
    pos = (x > 0).long().cumsum(1)
    return (x * pos.to(x.dtype)).sum() + lib.cumsum(x.tanh(), 0, dtype=lib.float64).sum()


def _scalar(lib, x):
    return lib.cumsum(x.sum(), 0) * 2 + lib.cumsum(x[0], 0).sum()


@pytest.mark.parametrize("shape", [(3, 5), (40, 60)])  # (NumPy's sums; the compiled ones)
@pytest.mark.parametrize("f", [_rows, _positions, _scalar])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_against_eager_and_torch(f, shape, dtype):
    compiled = tg.compile(lambda x: f(tg, x), fullgraph=True)
    rng = np.random.default_rng(0)
    for _ in range(2):
        x0 = rng.normal(size=shape).astype(dtype)
        x, xe, tx = (tg.tensor(x0, requires_grad=True), tg.tensor(x0, requires_grad=True),
                     torch.tensor(x0, requires_grad=True))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            out = compiled(x)
        oute, tout = f(tg, xe), f(torch, tx)
        for o in (out, oute, tout):
            o.backward()
        tol = 1e-12 if dtype == np.float64 else 1e-4
        assert out.dtype == oute.dtype and x.grad.dtype == xe.grad.dtype
        # (a tensor used several times: its gradients' terms may be added in another order)
        np.testing.assert_allclose(out.item(), oute.item(), rtol=tol * 1e-2)
        np.testing.assert_allclose(x.grad.numpy(), xe.grad.numpy(), rtol=tol * 1e-1,
                                   atol=tol * 1e-2)
        np.testing.assert_allclose(out.item(), tout.item(), rtol=tol)
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=tol, atol=tol)
    assert compiled._count == 1


@pytest.mark.parametrize("shape", [(3, 5), (40, 60)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_values_and_gradient_bit_for_bit(shape, dtype):
    rng = np.random.default_rng(2)
    x0, g0 = rng.normal(size=shape).astype(dtype), rng.normal(size=shape).astype(dtype)
    for dim in (0, 1):
        def f(x, g):
            out = tg.cumsum(x, dim)
            return out.detach(), tg.autograd.grad(out, x, g)[0]

        compiled = tg.compile(f, fullgraph=True)
        for _ in range(2):
            x, g = tg.tensor(x0, requires_grad=True), tg.tensor(g0)
            (out, dx), (oute, dxe) = compiled(x, g), f(x, g)
            np.testing.assert_array_equal(out.numpy(), oute.numpy())
            np.testing.assert_array_equal(dx.numpy(), dxe.numpy())
            assert out.dtype == dx.dtype == dtype
        assert compiled._count == 1


@pytest.mark.parametrize("f", [_rows, _positions])
def test_gradcheck_second_order(f):
    def g(x):  # (a nonlinear use, so the second derivative goes through cumsum's VJP)
        return f(tg, x) ** 2 + (tg.cumsum(x, 1) * tg.cumsum(x, 0)).sum()

    compiled = tg.compile(g, fullgraph=True)
    x = tg.tensor(np.random.default_rng(1).normal(size=(3, 4)) + 0.05, requires_grad=True)
    assert tg.autograd.gradcheck(compiled, (x,))
    assert tg.autograd.gradgradcheck(compiled, (x,))


def test_adam_step_cumulative_output():
    def make_model(lib):
        lib.manual_seed(0)
        return lib.nn.Sequential(lib.nn.Linear(6, 8, dtype=lib.float64), lib.nn.Tanh(),
                                 lib.nn.Linear(8, 5, dtype=lib.float64))

    def make_loss(lib):  # (a monotone prediction: the running sum of softplus increments)
        return lambda out, y: ((lib.nn.functional.softplus(out).cumsum(1) - y) ** 2).mean()

    def batch(lib, rng):
        return (lib.tensor(rng.normal(size=(7, 6))),
                lib.tensor(np.cumsum(rng.uniform(size=(7, 5)), 1)))

    assert_adam_steps_agree(make_model, make_loss, batch)
