"""tg.compile of flip: a step reversing a sequence (a backward pass over time, a symmetrised
prediction) ran eagerly ('flip is not supported by tg.compile yet'). Replayed (fullgraph: one
trace) with eager's values and gradients bit for bit and PyTorch's (dims as an int, several
positional, a tuple, dims=, negative), to second order against finite differences, and in a
training step with Adam against eager and PyTorch."""

import warnings

import numpy as np
import pytest

import tapegrad as tg

from compiled_steps import assert_adam_steps_agree

torch = pytest.importorskip("torch")


def _f(lib, x):
    return (x.flip(0), x.flip(1, 2), lib.flip(x, (0, -1)), x.flip(dims=[2]), x[0, 0].flip(0))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_against_eager_and_torch(dtype):
    rng = np.random.default_rng(0)
    ws = [rng.normal(size=s).astype(dtype) for s in [(2, 3, 4)] * 4 + [(4,)]]

    def loss(lib, x):
        return sum(((o * lib.tensor(w)) ** 2).sum() for o, w in zip(_f(lib, x), ws))

    compiled = tg.compile(lambda x: tuple(o * 1 for o in _f(tg, x)), fullgraph=True)
    for _ in range(2):
        x0 = rng.normal(size=(2, 3, 4)).astype(dtype)
        x, xe, tx = (tg.tensor(x0, requires_grad=True), tg.tensor(x0, requires_grad=True),
                     torch.tensor(x0, requires_grad=True))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            outs = compiled(x)
        for o, e, t in zip(outs, _f(tg, xe), _f(torch, tx)):
            assert o.dtype == e.dtype and o.shape == e.shape
            np.testing.assert_array_equal(o.detach().numpy(), e.detach().numpy())
            np.testing.assert_array_equal(o.detach().numpy(), t.detach().numpy())
        sum(((o * tg.tensor(w)) ** 2).sum() for o, w in zip(outs, ws)).backward()
        loss(tg, xe).backward()
        loss(torch, tx).backward()
        np.testing.assert_array_equal(x.grad.numpy(), xe.grad.numpy())
        tol = 1e-12 if dtype == np.float64 else 1e-5
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=tol, atol=tol)
    assert compiled._count == 1


def test_gradcheck_second_order():
    compiled = tg.compile(lambda x: sum((o * o.tanh()).sum() * (i + 1) for i, o in
                                        enumerate(_f(tg, x))), fullgraph=True)
    x = tg.tensor(np.random.default_rng(1).normal(size=(2, 3, 4)), requires_grad=True)
    assert tg.autograd.gradcheck(compiled, (x,))
    assert tg.autograd.gradgradcheck(compiled, (x,))


def test_adam_step_both_directions():
    def make_model(lib):
        lib.manual_seed(0)
        return lib.nn.Linear(6, 6, dtype=lib.float64)

    def make_loss(lib):
        return lambda out, y: ((out + out.flip(1).cumsum(1).flip(1) * 0.1 - y) ** 2).mean()

    def batch(lib, rng):
        return lib.tensor(rng.normal(size=(5, 6))), lib.tensor(rng.normal(size=(5, 6)))

    assert_adam_steps_agree(make_model, make_loss, batch)
