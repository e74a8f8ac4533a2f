"""Sampling with PyTorch's functions: ``normal``, ``bernoulli``, ``multinomial``, ``poisson``
and ``Generator`` (``generator=`` of ``rand``/``randn``/``randint``/``randperm``): shapes,
dtypes, distributions, zero gradients and PyTorch's errors."""

import numpy as np
import pytest

import tapegrad as tg


def test_generator_reproduces_its_draws():
    g = tg.Generator().manual_seed(3)
    first = [tg.randn(4, generator=g), tg.rand(2, generator=g), tg.randint(9, (3,), generator=g),
             tg.randperm(5, generator=g), tg.normal(0.0, 1.0, size=(2,), generator=g)]
    g.manual_seed(3)
    again = [tg.randn(4, generator=g), tg.rand(2, generator=g), tg.randint(9, (3,), generator=g),
             tg.randperm(5, generator=g), tg.normal(0.0, 1.0, size=(2,), generator=g)]
    assert all(a.tolist() == b.tolist() for a, b in zip(first, again))
    assert g.initial_seed() == 3
    tg.manual_seed(0)
    x = tg.randn(3)
    tg.manual_seed(0)
    tg.randn(5, generator=tg.Generator().manual_seed(1))  # does not advance the default one
    assert tg.randn(3).tolist() == x.tolist()


def test_normal_shapes_dtypes_moments_and_zero_gradient():
    tg.manual_seed(1)
    z = tg.normal(2.0, 3.0, size=(20000,))
    assert z.dtype == tg.float64 and abs(z.mean().item() - 2.0) < 0.1
    assert abs(z.std().item() - 3.0) < 0.1
    assert tg.normal(tg.zeros(2, 3, dtype=tg.float32), 1.0).dtype == tg.float32
    assert tg.normal(1.0, tg.ones(4)).shape == (4,)
    m = tg.tensor([0.0, 10.0], requires_grad=True)
    s = tg.tensor([1.0, 2.0], requires_grad=True)
    y = tg.normal(m, s)
    assert y.requires_grad
    y.sum().backward()
    assert m.grad.tolist() == [0.0, 0.0] and s.grad.tolist() == [0.0, 0.0]


def test_bernoulli_poisson_and_multinomial_distributions():
    tg.manual_seed(2)
    b = tg.bernoulli(tg.full((20000,), 0.3))
    assert b.dtype == tg.float64 and set(np.unique(b.numpy())) <= {0.0, 1.0}
    assert abs(b.mean().item() - 0.3) < 0.02
    assert tg.bernoulli(tg.zeros(3), p=1.0).tolist() == [1.0, 1.0, 1.0]
    assert tg.tensor([0.0, 1.0]).bernoulli().tolist() == [0.0, 1.0]
    p = tg.poisson(tg.full((20000,), 4.0))
    assert abs(p.mean().item() - 4.0) < 0.1 and p.dtype == tg.float64
    counts = np.bincount(tg.multinomial(tg.tensor([1.0, 3.0]), 8000, replacement=True).numpy())
    assert abs(counts[1] / 8000 - 0.75) < 0.03
    draw = tg.multinomial(tg.tensor([0.2, 0.8, 0.0]), 3)  # zero weights come last
    assert draw.dtype == tg.int64 and draw[2].item() == 2 and sorted(draw.tolist()) == [0, 1, 2]
    assert tg.multinomial(tg.tensor([[0.2, 0.8, 0.0], [1.0, 0.0, 0.0]]), 4,
                          replacement=True).shape == (2, 4)
    assert tg.tensor([0.0, 5.0]).multinomial(1).tolist() == [1]


SAMPLING_ERRORS = {
    "multinomial too many": lambda T: T.multinomial(T.tensor([0.2, 0.8]), 3),
    "multinomial negative": lambda T: T.multinomial(T.tensor([-1.0, 2.0]), 1),
    "multinomial zero sum": lambda T: T.multinomial(T.zeros(2), 1),
    "bernoulli p > 1": lambda T: T.bernoulli(T.tensor([1.5])),
    "normal negative std number": lambda T: T.normal(0.0, -1.0, size=(2,)),
    "normal negative std tensor": lambda T: T.normal(T.zeros(2), T.tensor([-1.0, 1.0])),
    "poisson negative rate": lambda T: T.poisson(T.tensor([-1.0])),
}


@pytest.mark.parametrize("name", sorted(SAMPLING_ERRORS))
def test_sampling_errors_match_torch(torch, name):
    def error(lib):
        with pytest.raises(RuntimeError) as info:
            SAMPLING_ERRORS[name](lib)
        return str(info.value)

    assert error(tg) == error(torch)


def test_sampling_under_vmap_draws_per_example_or_refuses():
    out = tg.vmap(lambda r: r + tg.normal(0.0, 1.0, size=(2,)), randomness="same")(
        tg.zeros(3, 2))
    assert out.shape == (3, 2) and (out[0] == out[1]).all().item()
    tg.manual_seed(2)
    draws = tg.vmap(lambda r: tg.bernoulli(r), randomness="different")(tg.full((400, 2), 0.5))
    assert set(np.unique(draws.numpy())) == {0.0, 1.0} and 0.4 < draws.mean().item() < 0.6
    # multinomial draws per example too (torch.func's does), a category index per row
    picks = tg.vmap(lambda r: tg.multinomial(r, 1), randomness="different")(tg.full((3, 2), 0.5))
    assert picks.shape == (3, 1) and set(picks.numpy().ravel()) <= {0, 1}
    with pytest.raises(RuntimeError, match="randomness"):  # no per-example form
        tg.vmap(lambda r: r + tg.nn.init.normal_(tg.empty(2)), randomness="different")(
            tg.zeros(3, 2))
