"""tg.compile of gather: a step picking one entry per row (the log-probability of the taken
action, a target's score) ran eagerly ('gather is not supported by tg.compile yet'). Replayed
(fullgraph: one trace, new positions read by the replay) with eager's values and gradients
bit for bit and PyTorch's (repeated positions accumulate; dims 0, 1, -1; an index narrower
than the input), an out-of-range position raising eager's error, to second order against
finite differences, and in a policy-gradient step with Adam against eager and PyTorch."""

import warnings

import numpy as np
import pytest

import tapegrad as tg

from compiled_steps import assert_adam_steps_agree

torch = pytest.importorskip("torch")


def _f(lib, x, i, j):
    return x.gather(1, i), lib.gather(x, 0, j), x.gather(-1, i[:, :1])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_against_eager_and_torch(dtype):
    rng = np.random.default_rng(0)
    ws = [rng.normal(size=s).astype(dtype) for s in [(4, 3), (2, 5), (4, 1)]]
    compiled = tg.compile(lambda x, i, j: _f(tg, x, i, j), fullgraph=True)
    for _ in range(3):
        x0 = rng.normal(size=(4, 5)).astype(dtype)
        i0, j0 = rng.integers(0, 5, size=(4, 3)), rng.integers(0, 4, size=(2, 5))
        x, xe, tx = (tg.tensor(x0, requires_grad=True), tg.tensor(x0, requires_grad=True),
                     torch.tensor(x0, requires_grad=True))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            res = compiled(x, tg.tensor(i0), tg.tensor(j0))
        rese, rest = _f(tg, xe, tg.tensor(i0), tg.tensor(j0)), \
            _f(torch, tx, torch.tensor(i0), torch.tensor(j0))
        for a, b, t in zip(res, rese, rest):
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
            np.testing.assert_array_equal(a.detach().numpy(), t.detach().numpy())
        for r, lib in ((res, tg), (rese, tg), (rest, torch)):
            sum((v * lib.tensor(w)).sum() for v, w in zip(r, ws)).backward()
        tol = 1e-12 if dtype == np.float64 else 1e-5
        # (x reaches the loss three times: its gradient's terms may be added in another order)
        np.testing.assert_allclose(x.grad.numpy(), xe.grad.numpy(), rtol=tol * 1e-2)
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=tol, atol=tol)
    assert compiled._count == 1


def test_one_gather_bit_for_bit_and_out_of_range_raises_as_eager():
    x = tg.tensor(np.random.default_rng(1).normal(size=(3, 4)), requires_grad=True)
    g = tg.tensor(np.random.default_rng(2).normal(size=(3, 2)))

    def f(i):
        out = x.gather(1, i)
        return out.detach(), tg.autograd.grad(out, x, g)[0]

    compiled = tg.compile(f)
    for i in ([[0, 0], [3, 1], [2, 2]], [[1, 1], [1, 1], [0, 3]]):
        (a, da), (b, db) = compiled(tg.tensor(i)), f(tg.tensor(i))
        np.testing.assert_array_equal(a.numpy(), b.numpy())
        np.testing.assert_array_equal(da.numpy(), db.numpy())
    with pytest.raises(RuntimeError) as got:
        compiled(tg.tensor([[0, 4], [0, 0], [0, 0]]))
    with pytest.raises(RuntimeError) as want:
        f(tg.tensor([[0, 4], [0, 0], [0, 0]]))
    assert str(got.value) == str(want.value)


def test_gradcheck_second_order():
    i = tg.tensor([[0, 2, 2], [1, 3, 0], [3, 3, 1]])
    compiled = tg.compile(lambda x: (x.gather(1, i) ** 3).sum(), fullgraph=True)
    x = tg.tensor(np.random.default_rng(3).normal(size=(3, 4)), requires_grad=True)
    assert tg.autograd.gradcheck(compiled, (x,))
    assert tg.autograd.gradgradcheck(compiled, (x,))


def test_adam_step_policy_gradient():
    def make_model(lib):
        lib.manual_seed(0)
        return lib.nn.Sequential(lib.nn.Linear(6, 8, dtype=lib.float64), lib.nn.Tanh(),
                                 lib.nn.Linear(8, 4, dtype=lib.float64))

    def make_loss(lib):
        def loss(out, y):  # (y: the taken action and its return)
            logp = lib.nn.functional.log_softmax(out, 1)
            taken = logp.gather(1, y[:, :1].long())
            return -(taken.squeeze(1) * y[:, 1]).mean()
        return loss

    def batch(lib, rng):
        y = np.stack([rng.integers(0, 4, 7).astype(float), rng.normal(size=7)], 1)
        return lib.tensor(rng.normal(size=(7, 6))), lib.tensor(y)

    assert_adam_steps_agree(make_model, make_loss, batch)
