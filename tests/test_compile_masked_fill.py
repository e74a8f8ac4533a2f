"""tg.compile of masked_fill and the logical ops: a step filling masked activations (an
attention's -inf, a dead unit's 0) or using F.hardtanh (whose composition reads logical_and)
ran eagerly ('masked_fill is not supported by tg.compile yet', 'logical_and ...'). Replayed
(fullgraph: one trace) with eager's values and gradients and PyTorch's, to second
order against finite differences, and in an Adam training step against eager and PyTorch."""

import warnings

import numpy as np
import pytest

import tapegrad as tg

from compiled_steps import assert_adam_steps_agree

torch = pytest.importorskip("torch")

X = np.array([[-2.0, -1.0, 0.3, 1.0, 2.5], [0.1, 0.5, -0.2, 1.0, -1.0],
              [0.7, -0.7, 0.0, 3.0, -3.0]])


def _fill_number(lib, x):
    return (x.masked_fill(x < -0.5, 0.0) * x).sum() + lib.masked_fill(x, x > 2.0, -1.5).sum()


def _fill_inf_softmax(lib, x):  # (a causal mask of -inf before a softmax, as attention)
    s = x[:, :3] @ x[:, :3].T
    mask = lib.arange(3)[:, None] < lib.arange(3)[None, :]
    return (lib.softmax(s.masked_fill(mask, float("-inf")), -1) * s).sum()


def _fill_broadcast(lib, x):  # (a mask of more dims than the input: the input broadcast)
    mask = lib.logical_and((x > 0)[None, :, :], lib.tensor([[[True]], [[False]]]))
    return (x.masked_fill(mask, 2.0) ** 2).sum()


def _fill_tensor_value(lib, x):  # (a 0-d tensor value gets the masked places' gradient)
    v = (x[0, 0] * x[1, 1]).tanh()
    return (x.masked_fill(x.abs() < 0.6, v) * x).sum()


def _logical(lib, x):
    F = lib.nn.functional
    keep = lib.logical_or(x > 1.0, lib.logical_not(x > -0.5))
    odd = lib.logical_and(x > 0, lib.logical_not(x > 0.5))
    return (F.hardtanh(x * 0.8) * 3 + lib.where(keep, x, 0.5 * x) + lib.where(odd, x ** 2, x)
            + F.relu6(x * 3)).sum()


CASES = [_fill_number, _fill_inf_softmax, _fill_broadcast, _fill_tensor_value, _logical]


@pytest.mark.parametrize("f", CASES)
def test_against_eager_and_torch(f):
    compiled = tg.compile(lambda x: f(tg, x), fullgraph=True)
    for shift in (0.0, 0.25, -0.4):
        x0 = X + shift
        x, xe, tx = (tg.tensor(x0, requires_grad=True), tg.tensor(x0, requires_grad=True),
                     torch.tensor(x0, requires_grad=True))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            out = compiled(x)
        oute, tout = f(tg, xe), f(torch, tx)
        for o in (out, oute, tout):
            o.backward()
        np.testing.assert_allclose(out.item(), oute.item(), rtol=1e-14)  # (softmax: last bits)
        np.testing.assert_allclose(x.grad.numpy(), xe.grad.numpy(), rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(out.item(), tout.item(), rtol=1e-12)
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-14)
    assert compiled._count == 1


def test_float32_fill_and_mask_results():
    def f(lib, x):
        return x.masked_fill(x > 0.2, 1.1), lib.logical_and(x > 0, x < 1.0)

    compiled = tg.compile(lambda x: f(tg, x), fullgraph=True)
    x0 = X.astype(np.float32)
    out, mask = compiled(tg.tensor(x0))
    oute, maske = f(tg, tg.tensor(x0))
    tout, tmask = f(torch, torch.tensor(x0))
    assert out.dtype == tg.float32 and mask.dtype == tg.bool
    np.testing.assert_array_equal(out.numpy(), oute.numpy())
    np.testing.assert_array_equal(out.numpy(), tout.numpy())
    np.testing.assert_array_equal(mask.numpy(), tmask.numpy())
    assert not mask.requires_grad and compiled._count == 1


@pytest.mark.parametrize("f", [_fill_number, _fill_tensor_value, _logical])
def test_gradcheck_second_order(f):
    compiled = tg.compile(lambda x: f(tg, x), fullgraph=True)
    x = tg.tensor(X + 0.05, requires_grad=True)  # (no value on a mask's edge)
    assert tg.autograd.gradcheck(compiled, (x,))
    assert tg.autograd.gradgradcheck(compiled, (x,))


def test_adam_step_masked_activations():
    def make_model(lib):
        lib.manual_seed(0)
        nn = lib.nn

        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.a = nn.Linear(6, 8, dtype=lib.float64)
                self.b = nn.Linear(8, 3, dtype=lib.float64)

            def forward(self, x):
                h = lib.nn.functional.hardtanh(self.a(x), -0.8, 0.9)
                h = h.masked_fill(h < -0.5, 0.0).masked_fill(x[:, :1] > 1.0, 0.25)
                return self.b(h)
        return M()

    def make_loss(lib):
        return lambda out, y: ((out - y) ** 2).mean()

    def batch(lib, rng):
        return lib.tensor(rng.normal(size=(5, 6))), lib.tensor(rng.normal(size=(5, 3)))

    assert_adam_steps_agree(make_model, make_loss, batch)
