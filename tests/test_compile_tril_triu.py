"""tg.compile of tril / triu: a step building a causal mask (ones(L, L).tril()) or keeping a
triangle of a matrix (a Cholesky-style parametrisation) ran eagerly ('check_dtype is not
supported by tg.compile yet': eager's mask is made inside the op). Replayed (fullgraph: one
trace) with eager's and PyTorch's values and gradients (diagonals -1, 0, 1, 2, batched,
float32, bool and integer input), to second order against finite differences, and in an
attention step with Adam against eager and PyTorch."""

import warnings

import numpy as np
import pytest

import tapegrad as tg

from compiled_steps import assert_adam_steps_agree

torch = pytest.importorskip("torch")


def _f(lib, x):
    return (x.tril() * 2 + lib.triu(x, 1) ** 2 + x.tril(-1).exp() + lib.tril(x, diagonal=2)
            * x).sum()


def _masks(lib, x):
    causal = lib.ones(x.shape[-2], x.shape[-1], dtype=lib.bool).tril()
    ints = (x > 0).long().triu(-1)
    return (lib.where(causal, x, 0.5 * x) * ints.to(x.dtype)).sum(), causal, ints


@pytest.mark.parametrize("shape", [(4, 4), (2, 3, 5)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_against_eager_and_torch(shape, dtype):
    compiled = tg.compile(lambda x: (_f(tg, x),) + _masks(tg, x), fullgraph=True)
    rng = np.random.default_rng(0)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    for _ in range(3):
        x0 = rng.normal(size=shape).astype(dtype)
        x, xe, tx = (tg.tensor(x0, requires_grad=True), tg.tensor(x0, requires_grad=True),
                     torch.tensor(x0, requires_grad=True))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            res = compiled(x)
        rese = (_f(tg, xe),) + _masks(tg, xe)
        rest = (_f(torch, tx),) + _masks(torch, tx)
        for r in (res, rese, rest):
            (r[0] + r[1]).backward()
        for a, b, t in zip(res, rese, rest):
            assert a.dtype == b.dtype
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=tol * 1e-1)
            np.testing.assert_allclose(a.detach().numpy(), t.detach().numpy(), rtol=tol)
        np.testing.assert_allclose(x.grad.numpy(), xe.grad.numpy(), rtol=tol * 1e-1)
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=tol, atol=tol * 1e-2)
    assert compiled._count == 1


def test_gradcheck_second_order():
    compiled = tg.compile(lambda x: _f(tg, x), fullgraph=True)
    x = tg.tensor(np.random.default_rng(1).normal(size=(2, 3, 4)), requires_grad=True)
    assert tg.autograd.gradcheck(compiled, (x,))
    assert tg.autograd.gradgradcheck(compiled, (x,))


def test_adam_step_attention_with_a_tril_mask():
    def make_model(lib):
        lib.manual_seed(0)
        return lib.nn.Linear(6, 6, dtype=lib.float64)

    def make_loss(lib):
        def loss(out, y):  # (causal attention written out: scores masked by a tril)
            s = out @ out.transpose(-2, -1) / 6 ** 0.5
            keep = lib.ones(s.shape[-2], s.shape[-1], dtype=lib.bool).tril()
            a = lib.softmax(s.masked_fill(~keep, float("-inf")), -1) @ out
            return ((a - y) ** 2).mean()
        return loss

    def batch(lib, rng):
        return lib.tensor(rng.normal(size=(2, 5, 6))), lib.tensor(rng.normal(size=(2, 5, 6)))

    assert_adam_steps_agree(make_model, make_loss, batch)
