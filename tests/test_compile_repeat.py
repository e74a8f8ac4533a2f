"""tg.compile of x.repeat(...) and repeat_interleave with number repeats: a step tiling a
tensor (a grid of queries, heads repeated for grouped attention) ran eagerly ('repeat is not
supported by tg.compile yet'). Replayed (fullgraph: one trace) with eager's values and
gradients bit for bit (one op) and PyTorch's, to second order against finite differences, and
in a training step with Adam against eager and PyTorch."""

import warnings

import numpy as np
import pytest

import tapegrad as tg

from compiled_steps import assert_adam_steps_agree

torch = pytest.importorskip("torch")

FORMS = [lambda lib, x: x.repeat(2, 1), lambda lib, x: x.repeat(2, 1, 3),
         lambda lib, x: x[0].repeat(repeats=(2,)), lambda lib, x: x.repeat_interleave(2, dim=1),
         lambda lib, x: lib.repeat_interleave(x, 3), lambda lib, x: x.repeat_interleave(2, 0)]


@pytest.mark.parametrize("form", range(len(FORMS)))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_against_eager_and_torch(form, dtype):
    op = FORMS[form]
    rng = np.random.default_rng(form)
    compiled = tg.compile(lambda x, g: (lambda o: (o.detach(), tg.autograd.grad(o, x, g)[0]))(
        op(tg, x)), fullgraph=True)
    for _ in range(2):
        x0 = rng.normal(size=(3, 4)).astype(dtype)
        x, tx = tg.tensor(x0, requires_grad=True), torch.tensor(x0, requires_grad=True)
        oe = op(tg, x)
        g0 = rng.normal(size=oe.shape).astype(dtype)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            out, dx = compiled(x, tg.tensor(g0))
        dxe = tg.autograd.grad(oe, x, tg.tensor(g0))[0]
        ot = op(torch, tx)
        ot.backward(torch.tensor(g0))
        np.testing.assert_array_equal(out.numpy(), oe.detach().numpy())
        np.testing.assert_array_equal(dx.numpy(), dxe.numpy())
        np.testing.assert_array_equal(out.numpy(), ot.detach().numpy())
        tol = 1e-12 if dtype == np.float64 else 1e-5
        np.testing.assert_allclose(dx.numpy(), tx.grad.numpy(), rtol=tol, atol=tol)
    assert compiled._count == 1


def test_gradcheck_second_order():
    compiled = tg.compile(lambda x: sum((f(tg, x) ** 3).sum() for f in FORMS), fullgraph=True)
    x = tg.tensor(np.random.default_rng(9).normal(size=(3, 4)), requires_grad=True)
    assert tg.autograd.gradcheck(compiled, (x,))
    assert tg.autograd.gradgradcheck(compiled, (x,))


def test_adam_step_tiled_features():
    def make_model(lib):
        lib.manual_seed(0)
        return lib.nn.Linear(6, 3, dtype=lib.float64)

    def make_loss(lib):
        def loss(out, y):  # (each prediction scored against every target of its group)
            return ((out.repeat(1, 2) - y.repeat_interleave(2, dim=1)) ** 2).mean()
        return loss

    def batch(lib, rng):
        return lib.tensor(rng.normal(size=(5, 6))), lib.tensor(rng.normal(size=(5, 3)))

    assert_adam_steps_agree(make_model, make_loss, batch)
