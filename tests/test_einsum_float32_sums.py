"""A one-operand float32 einsum that sums (``'ab->a'``, ``'abc->ca'``, a diagonal's sum) adds
as ``sum`` does (pairwise, or in float64 over many rows), as accurate as PyTorch's einsum:
``np.einsum`` adds the terms one after another (20-100x PyTorch's error over a million
terms). float64 and the permutations and diagonals without a sum are unchanged."""
import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

_CASES = [((4, 1_000_000), "ab->a"), ((1_000_000, 4), "ab->b"), ((1000, 1000), "ab->b"),
          ((1000, 1000), "ab->"), ((100, 100, 100), "abc->a"), ((3, 500, 700), "abc->ca"),
          ((2, 1000, 1000), "abb->a"), ((1000, 1000), "aa->"), ((50, 60, 70), "...c->c...")]


def _rel(v, truth):
    return float(np.max(np.abs(np.asarray(v, np.float64) - truth) / np.abs(truth)))


@pytest.mark.parametrize("shape,eq", _CASES)
def test_float32_sums_as_accurate_as_torch(shape, eq):
    x = (np.random.default_rng(7).random(shape) + 0.1).astype(np.float32)
    truth = np.einsum(eq, x.astype(np.float64))
    ours = tg.einsum(eq, tg.tensor(x))
    theirs = torch.einsum(eq, torch.from_numpy(x))
    assert ours.dtype == tg.float32 and tuple(ours.shape) == tuple(theirs.shape)
    assert ours.numpy().flags.c_contiguous
    # PyTorch's error, with float32's resolution as the floor (a few ulps)
    assert _rel(ours.numpy(), truth) <= max(1.5 * _rel(theirs.numpy(), truth), 3e-7)


def test_float32_sums_equal_sum_and_keep_gradients():
    x = tg.tensor((np.random.default_rng(1).random((30, 40, 50)) - 0.5).astype(np.float32),
                  requires_grad=True)
    y = tg.einsum("abc->cb", x)
    np.testing.assert_array_equal(y.detach().numpy(), x.sum(0).detach().numpy().T)
    w = tg.tensor(np.random.default_rng(2).random((50, 40)).astype(np.float32))
    (g,) = tg.autograd.grad((y * w).sum(), x)
    xt = torch.from_numpy(x.detach().numpy()).requires_grad_()
    (gt,) = torch.autograd.grad((torch.einsum("abc->cb", xt) * torch.from_numpy(w.numpy())).sum(),
                                xt)
    np.testing.assert_allclose(g.numpy(), gt.numpy(), rtol=1e-6)


@pytest.mark.parametrize("eq,shape", [("abc->ca", (3, 4, 5)), ("aab->b", (4, 4, 3)),
                                      ("ab->", (3, 4)), ("ab->ba", (3, 4))])
def test_gradients_by_finite_differences(eq, shape):
    x = tg.tensor(np.random.default_rng(3).standard_normal(shape), requires_grad=True)
    assert tg.autograd.gradcheck(lambda x: tg.einsum(eq, x), (x,))


@pytest.mark.parametrize("eq,shape", [("ab->ba", (3, 4)), ("aa->a", (4, 4)), ("aab->ba", (3, 3, 2))])
def test_without_a_sum_the_values_are_numpys(eq, shape):
    x = np.random.default_rng(4).random(shape).astype(np.float32)
    np.testing.assert_array_equal(tg.einsum(eq, tg.tensor(x)).numpy(), np.einsum(eq, x))
