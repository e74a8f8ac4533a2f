"""tg.compile of rsqrt: an RMSNorm step (x * rsqrt(mean(x^2) + eps)) ran eagerly ('rsqrt is
not supported by tg.compile yet'). Replayed (fullgraph: one trace) as eager composes it,
1 / sqrt(x), with eager's and PyTorch's values and gradients (0 gives inf, a negative number
nan, float32), to second order against finite differences, and in an RMSNorm step with Adam
against eager and PyTorch."""

import warnings

import numpy as np
import pytest

import tapegrad as tg

from compiled_steps import assert_adam_steps_agree

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_against_eager_and_torch(dtype):
    compiled = tg.compile(lambda x: (x.rsqrt(), tg.rsqrt(x * x + 1)), fullgraph=True)
    rng = np.random.default_rng(0)
    for i in range(3):
        x0 = rng.uniform(0.1, 3.0, size=(3, 4)).astype(dtype)
        if i == 2:
            x0[0, :2] = (0.0, -1.0)
        x, xe, tx = (tg.tensor(x0, requires_grad=True), tg.tensor(x0, requires_grad=True),
                     torch.tensor(x0, requires_grad=True))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            res = compiled(x)
        rese, rest = (xe.rsqrt(), tg.rsqrt(xe * xe + 1)), (tx.rsqrt(), torch.rsqrt(tx * tx + 1))
        for a, b, t in zip(res, rese, rest):
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
            np.testing.assert_allclose(a.detach().numpy(), t.detach().numpy(), rtol=1e-6)
        for r in (res, rese, rest):
            (r[0][1:].sum() + r[1].sum()).backward()
        tol = 1e-12 if dtype == np.float64 else 1e-5
        # (x reaches the loss twice: its gradient's two terms may be added in another order)
        np.testing.assert_allclose(x.grad.numpy(), xe.grad.numpy(), rtol=tol * 1e-2)
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=tol, atol=tol)
    assert compiled._count == 1


def test_gradcheck_second_order():
    compiled = tg.compile(lambda x: (tg.rsqrt(x * x + 0.5) * x).sum(), fullgraph=True)
    x = tg.tensor(np.random.default_rng(1).normal(size=(3, 4)), requires_grad=True)
    assert tg.autograd.gradcheck(compiled, (x,))
    assert tg.autograd.gradgradcheck(compiled, (x,))


def test_adam_step_rms_norm():
    def make_model(lib):
        lib.manual_seed(0)
        nn = lib.nn

        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.a = nn.Linear(6, 8, dtype=lib.float64)
                self.g = nn.Parameter(lib.ones(8, dtype=lib.float64))
                self.b = nn.Linear(8, 3, dtype=lib.float64)

            def forward(self, x):
                h = self.a(x)
                h = h * lib.rsqrt(h.pow(2).mean(-1, keepdim=True) + 1e-6) * self.g
                return self.b(h)
        return M()

    def make_loss(lib):
        return lambda out, y: ((out - y) ** 2).mean()

    def batch(lib, rng):
        return lib.tensor(rng.normal(size=(5, 6))), lib.tensor(rng.normal(size=(5, 3)))

    assert_adam_steps_agree(make_model, make_loss, batch)
