"""tg.compile of max(x, dim) / min(x, dim) (values and indices): a step taking a max over a
dim (max pooling over time, x.max(1).values, torch.max(x, 1)) ran eagerly ('max over a dim
(values and indices)'). Replayed (fullgraph: one trace) with eager's values, indices and
gradients bit for bit and PyTorch's (ties: the gradient to the first extremum; NaN; keepdim;
negative dims; 0-d), to second order against finite differences, and in a sequence
classifier step with Adam against eager and PyTorch."""

import warnings

import numpy as np
import pytest

import tapegrad as tg

from compiled_steps import assert_adam_steps_agree

torch = pytest.importorskip("torch")


def _f(lib, x):
    a = x.max(1)
    b = lib.min(x, 0, keepdim=True)
    c = lib.max(x * x, dim=-1, keepdim=False)
    d = x[0, 0].max(0)
    return a.values, a.indices, b.values, b.indices, c[0], c[1], d.values, d.indices


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_against_eager_and_torch(dtype):
    rng = np.random.default_rng(0)
    ws = [rng.normal(size=s).astype(dtype) for s in [(3, 4), (1, 4, 4), (3, 4), ()]]
    compiled = tg.compile(lambda x: _f(tg, x), fullgraph=True)
    for i in range(3):
        x0 = rng.integers(-2, 3, size=(3, 4, 4)).astype(dtype)  # (ties)
        if i == 2:
            x0[1, 2, 3] = np.nan
        x, xe, tx = (tg.tensor(x0, requires_grad=True), tg.tensor(x0, requires_grad=True),
                     torch.tensor(x0, requires_grad=True))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            res = compiled(x)
        for r, lib, t in ((res, tg, x), (_f(tg, xe), tg, xe), (_f(torch, tx), torch, tx)):
            sum((v * lib.tensor(w)).nansum() for v, w in zip(r[::2], ws)).backward()
        for a, b, t in zip(res, _f(tg, xe), _f(torch, tx)):
            assert a.dtype == b.dtype and a.shape == b.shape == tuple(t.shape)
            np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
            np.testing.assert_array_equal(a.detach().numpy(), t.detach().numpy())
        np.testing.assert_array_equal(x.grad.numpy(), xe.grad.numpy())
        np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())
    assert compiled._count == 1


def test_gradcheck_second_order():
    def g(x):
        r = _f(tg, x)
        return sum((v * v.sin()).sum() * (i + 1) for i, v in enumerate(r[::2]))

    compiled = tg.compile(g, fullgraph=True)
    x = tg.tensor(np.random.default_rng(1).normal(size=(3, 4, 4)), requires_grad=True)
    assert tg.autograd.gradcheck(compiled, (x,))
    assert tg.autograd.gradgradcheck(compiled, (x,))


def test_adam_step_max_over_time():
    def make_model(lib):
        lib.manual_seed(0)
        nn = lib.nn

        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.a = nn.Linear(6, 8, dtype=lib.float64)
                self.b = nn.Linear(8, 3, dtype=lib.float64)

            def forward(self, x):  # (batch, time, features): max-pooled over time
                return self.b(lib.max(self.a(x).tanh(), 1).values)
        return M()

    def make_loss(lib):
        return lib.nn.functional.cross_entropy

    def batch(lib, rng):
        return lib.tensor(rng.normal(size=(4, 7, 6))), lib.tensor(rng.integers(0, 3, (4,)))

    assert_adam_steps_agree(make_model, make_loss, batch)
