"""tg.compile of F.scaled_dot_product_attention: a step with a causal or boolean mask ran
eagerly ('where: a tensor computed by something the tracer does not see reached an op': the
mask became a NumPy array inside the function). Replayed whole (fullgraph: one trace) with
eager's and PyTorch's values and gradients (causal with L != S, a boolean padding mask with a
row that allows nothing, a float mask, scale=, float32), to second order against finite
differences, and in a multi-head self-attention step with Adam against eager and PyTorch."""

import warnings

import numpy as np
import pytest

import tapegrad as tg

from compiled_steps import assert_adam_steps_agree

torch = pytest.importorskip("torch")

B, H, L, S, D = 2, 3, 4, 5, 6


def _qkv(x):
    return x[..., :L, :], x, x * 0.5


def _causal(lib, x):
    q, k, v = _qkv(x)
    return lib.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)


def _padding(lib, x):  # (batch 1's query 0 may attend to nothing: zeros there)
    q, k, v = _qkv(x)
    keep = lib.arange(S)[None, None, None, :] < lib.tensor([3, 5]).reshape(B, 1, 1, 1)
    keep = lib.logical_and(keep, lib.logical_not(
        lib.logical_and(lib.arange(B).reshape(B, 1, 1, 1) == 1,
                        lib.arange(L).reshape(1, 1, L, 1) == 0)))
    return lib.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=keep)


def _float_mask(lib, x):
    q, k, v = _qkv(x)
    bias = (lib.arange(S)[None, :] - lib.arange(L)[:, None]).to(x.dtype) * -0.3
    return lib.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=bias, scale=0.7)


CASES = [_causal, _padding, _float_mask]


@pytest.mark.parametrize("f", CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_against_eager_and_torch(f, dtype):
    compiled = tg.compile(lambda x, w: (f(tg, x) * w).sum(), fullgraph=True)
    rng = np.random.default_rng(0)
    w0 = rng.normal(size=(B, H, L, D)).astype(dtype)
    tol = 1e-12 if dtype == np.float64 else 1e-4
    for _ in range(3):
        x0 = rng.normal(size=(B, H, S, D)).astype(dtype)
        x, xe, tx = (tg.tensor(x0, requires_grad=True), tg.tensor(x0, requires_grad=True),
                     torch.tensor(x0, requires_grad=True))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            out = compiled(x, tg.tensor(w0))
        oute, tout = (f(tg, xe) * tg.tensor(w0)).sum(), (f(torch, tx) * torch.tensor(w0)).sum()
        for o in (out, oute, tout):
            o.backward()
        assert out.dtype == oute.dtype and x.grad.dtype == xe.grad.dtype
        np.testing.assert_allclose(out.item(), oute.item(), rtol=tol * 1e-1, atol=tol * 1e-2)
        np.testing.assert_allclose(x.grad.numpy(), xe.grad.numpy(), rtol=tol, atol=tol * 1e-2)
        np.testing.assert_allclose(out.item(), tout.item(), rtol=tol, atol=tol * 1e-2)
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=tol, atol=tol * 1e-2)
    assert compiled._count == 1


def test_fully_masked_row_is_zero_as_torch():
    x0 = np.random.default_rng(1).normal(size=(B, H, S, D))
    compiled = tg.compile(lambda x: _padding(tg, x), fullgraph=True)
    out, tout = compiled(tg.tensor(x0)), _padding(torch, torch.tensor(x0))
    assert np.all(out.numpy()[1, :, 0] == 0)
    np.testing.assert_allclose(out.numpy(), tout.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("f", CASES)
def test_gradcheck_second_order(f):
    compiled = tg.compile(lambda x: (f(tg, x) ** 2).sum(), fullgraph=True)
    x = tg.tensor(np.random.default_rng(2).normal(size=(B, H, S, D)), requires_grad=True)
    assert tg.autograd.gradcheck(compiled, (x,))
    assert tg.autograd.gradgradcheck(compiled, (x,))


def test_adam_step_causal_self_attention():
    def make_model(lib):
        lib.manual_seed(0)
        nn = lib.nn

        class Attn(nn.Module):
            def __init__(self):
                super().__init__()
                # (no bias: a key's bias shifts each row's scores alike, so its gradient is
                # rounding noise that Adam's normalised step would amplify)
                self.qkv = nn.Linear(8, 24, bias=False, dtype=lib.float64)
                self.out = nn.Linear(8, 3, dtype=lib.float64)

            def forward(self, x):
                b, t, _ = x.shape
                q, k, v = (z.reshape(b, t, 2, 4).transpose(1, 2)
                           for z in self.qkv(x).chunk(3, -1))
                a = lib.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
                return self.out(a.transpose(1, 2).reshape(b, t, 8))
        return Attn()

    def make_loss(lib):
        return lambda out, y: ((out - y) ** 2).mean()

    def batch(lib, rng):
        return lib.tensor(rng.normal(size=(3, 5, 8))), lib.tensor(rng.normal(size=(3, 5, 3)))

    assert_adam_steps_agree(make_model, make_loss, batch)
