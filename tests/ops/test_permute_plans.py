"""``permute`` keeps a plan per (input shape, dims): the second call with the same arguments
skips the checks and the stride arithmetic. Every spelling of the dims, the errors and the
gradients must be what the first call gives, and PyTorch's."""

import numpy as np
import pytest

import tapegrad as tg


@pytest.mark.parametrize("spell", [
    lambda t: t.permute(2, 0, 1), lambda t: t.permute((2, 0, 1)), lambda t: t.permute([2, 0, 1]),
    lambda t: t.permute(-1, 0, -2), lambda t: tg.permute(t, (np.int64(2), 0, 1)),
])
def test_each_spelling_twice_gives_the_same_view_and_gradient(spell):
    x0 = np.random.default_rng(0).standard_normal((2, 3, 4))
    w = np.random.default_rng(1).standard_normal((4, 2, 3))
    for _ in range(2):  # the second call reads the kept plan
        x = tg.tensor(x0, requires_grad=True)
        y = spell(x)
        assert y.shape == (4, 2, 3)
        np.testing.assert_array_equal(y.detach().numpy(), x0.transpose(2, 0, 1))
        (y * tg.tensor(w)).sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), w.transpose(1, 2, 0))


def test_transpose_and_T_share_storage_and_version():
    x = tg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    for _ in range(2):
        for v in (x.T, x.transpose(0, 1), x.t(), x.mT):
            np.testing.assert_array_equal(v.detach().numpy(), np.arange(6.0).reshape(2, 3).T)
            assert v._base is x


@pytest.mark.parametrize("dims, message", [
    ((0, 1), "number of dimensions in the tensor input does not match the length of the desired "
             "ordering of dimensions i.e. input.dim() = 3 is not equal to len(dims) = 2"),
    ((0, 1, 1), "permute(): duplicate dims are not allowed."),
    ((0, 1, -3), "permute(): duplicate dims are not allowed."),
])
def test_bad_dims_raise_every_time(dims, message):
    x = tg.tensor(np.zeros((2, 3, 4)), requires_grad=True)
    for _ in range(2):  # nothing kept for a call that raised
        with pytest.raises(RuntimeError) as e:
            x.permute(*dims)
        assert message in str(e.value)
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.permute(0, 1, 3)


def test_against_torch_and_finite_differences():
    torch = pytest.importorskip("torch")
    x0 = np.random.default_rng(2).standard_normal((3, 4, 5))
    for dims in [(1, 2, 0), (2, 1, 0), (0, 2, 1)]:
        for _ in range(2):
            x = tg.tensor(x0, requires_grad=True)
            y = x.permute(*dims)
            (tg.sin(y) * tg.arange(y.numel(), dtype=tg.float64).reshape(y.shape)).sum().backward()
            xt = torch.tensor(x0, requires_grad=True)
            yt = xt.permute(*dims)
            (torch.sin(yt) * torch.arange(yt.numel(), dtype=torch.float64).reshape(yt.shape)) \
                .sum().backward()
            np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-14)
    assert tg.autograd.gradcheck(lambda t: tg.tanh(t.permute(2, 0, 1)) * 2.0,
                                 (tg.tensor(x0, requires_grad=True),))
