"""tg.compile of F.embedding_bag / nn.EmbeddingBag of 2-D input (one bag per row, 'sum' or
'mean'): a bag-of-words classifier step ran eagerly ('cpu is not supported by tg.compile
yet': eager reads the positions into NumPy). Replayed whole (fullgraph: one trace, new
positions read by the replay) with eager's and PyTorch's values and gradients, an
out-of-range position raising eager's error, and in a classifier step with Adam against eager
and PyTorch."""

import warnings

import numpy as np
import pytest

import tapegrad as tg

from compiled_steps import assert_adam_steps_agree

torch = pytest.importorskip("torch")


def _f(lib, idx, w, mode):
    return lib.nn.functional.embedding_bag(idx, w, mode=mode)


@pytest.mark.parametrize("mode", ["sum", "mean"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_against_eager_and_torch(mode, dtype):
    rng = np.random.default_rng(0)
    w0, g0 = rng.normal(size=(10, 4)).astype(dtype), rng.normal(size=(3, 4)).astype(dtype)
    compiled = tg.compile(lambda i, w, g: (_f(tg, i, w, mode) * g).sum(), fullgraph=True)
    for _ in range(3):
        i0 = rng.integers(0, 10, size=(3, 5))  # (repeats within and across bags)
        w, we, tw = (tg.tensor(w0, requires_grad=True), tg.tensor(w0, requires_grad=True),
                     torch.tensor(w0, requires_grad=True))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            out = compiled(tg.tensor(i0), w, tg.tensor(g0))
        oute = (_f(tg, tg.tensor(i0), we, mode) * tg.tensor(g0)).sum()
        tout = (_f(torch, torch.tensor(i0), tw, mode) * torch.tensor(g0)).sum()
        for o in (out, oute, tout):
            o.backward()
        tol = 1e-12 if dtype == np.float64 else 1e-5
        assert w.grad.dtype == we.grad.dtype
        np.testing.assert_allclose(out.item(), oute.item(), rtol=tol * 1e-2)
        np.testing.assert_allclose(w.grad.numpy(), we.grad.numpy(), rtol=tol * 1e-2,
                                   atol=tol * 1e-3)
        np.testing.assert_allclose(out.item(), tout.item(), rtol=tol)
        np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=tol, atol=tol)
    assert compiled._count == 1


def test_out_of_range_position_raises_as_eager():
    w = tg.tensor(np.ones((4, 2)), requires_grad=True)
    compiled = tg.compile(lambda i: _f(tg, i, w, "mean").sum())
    compiled(tg.tensor([[0, 1], [2, 3]]))
    with pytest.raises(IndexError) as got:
        compiled(tg.tensor([[0, 1], [2, 4]]))
    with pytest.raises(IndexError) as want:
        _f(tg, tg.tensor([[0, 1], [2, 4]]), w, "mean")
    assert str(got.value) == str(want.value)


@pytest.mark.parametrize("mode", ["sum", "mean"])
def test_gradcheck_second_order(mode):
    i = tg.tensor([[0, 2, 2], [1, 3, 0]])
    compiled = tg.compile(lambda w: (_f(tg, i, w, mode) ** 2).sum(), fullgraph=True)
    w = tg.tensor(np.random.default_rng(1).normal(size=(4, 3)), requires_grad=True)
    assert tg.autograd.gradcheck(compiled, (w,))
    assert tg.autograd.gradgradcheck(compiled, (w,))


def test_adam_step_bag_of_words_classifier():
    def make_model(lib):
        lib.manual_seed(0)
        nn = lib.nn

        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.bag = nn.EmbeddingBag(20, 8, mode="mean", dtype=lib.float64)
                self.head = nn.Linear(8, 3, dtype=lib.float64)

            def forward(self, x):
                return self.head(self.bag(x))
        return M()

    def make_loss(lib):
        return lib.nn.functional.cross_entropy

    def batch(lib, rng):
        return lib.tensor(rng.integers(0, 20, (6, 5))), lib.tensor(rng.integers(0, 3, (6,)))

    assert_adam_steps_agree(make_model, make_loss, batch)
