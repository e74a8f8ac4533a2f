"""vmap's ``randomness`` ('error', 'different', 'same', as torch.func) and ``chunk_size``
(vmap, jacrev), and jacfwd's ``randomness``."""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.func import randomness

X = tg.ones(5, 3)
DRAWS = {
    "rand": lambda v: v * tg.rand(3),
    "randn": lambda v: v * tg.randn(3),
    "randint": lambda v: v * tg.randint(0, 1000, (3,)),
    "rand_like": lambda v: v * tg.rand_like(v),
    "randn_like": lambda v: v * tg.randn_like(v),
    "dropout": lambda v: tg.nn.functional.dropout(v, 0.5),
    "Dropout": lambda v: tg.nn.Dropout(0.3)(v),
    "bernoulli": lambda v: tg.bernoulli(v * 0.5),
    "bernoulli_method": lambda v: (v * 0.5).bernoulli(),
    "normal": lambda v: tg.normal(v, 2.0),
    "normal_std": lambda v: tg.normal(0.0, v),
}


@pytest.mark.parametrize("name", list(DRAWS))
def test_error_is_the_default(name):
    with pytest.raises(RuntimeError, match="randomness error mode"):
        tg.vmap(DRAWS[name])(X)
    with pytest.raises(RuntimeError, match="randomness error mode"):
        tg.vmap(DRAWS[name], randomness="error")(X)


def test_error_message_is_torchs(torch):
    with pytest.raises(RuntimeError) as theirs:
        torch.func.vmap(lambda v: v * torch.rand(3))(torch.ones(5, 3))
    assert str(theirs.value) == randomness.ERROR_MSG


@pytest.mark.parametrize("name", list(DRAWS))
def test_same_shares_one_draw(name):
    out = tg.vmap(DRAWS[name], randomness="same")(X).numpy()
    assert np.all(out == out[0])


@pytest.mark.parametrize("name", ["rand", "randn", "randint", "rand_like", "randn_like",
                                  "normal", "normal_std"])
def test_different_draws_per_example(name):
    tg.manual_seed(7)
    out = tg.vmap(DRAWS[name], randomness="different")(X).numpy()
    assert out.shape == (5, 3)
    assert len({tuple(r) for r in out}) == 5  # five distinct rows
    tg.manual_seed(7)
    again = tg.vmap(DRAWS[name], randomness="different")(X).numpy()
    np.testing.assert_array_equal(out, again)  # the seed makes it reproducible


def test_bernoulli_and_normal_of_batched_tensors_draw_per_example():
    # each example its own probabilities and its own draws: the frequencies follow each row
    tg.manual_seed(11)
    probs = tg.tensor(np.linspace(0.1, 0.9, 5)).reshape(5, 1) * tg.ones(5, 4000)
    freq = tg.vmap(tg.bernoulli, randomness="different")(probs).mean(1).numpy()
    np.testing.assert_allclose(freq, np.linspace(0.1, 0.9, 5), atol=0.03)
    assert tg.vmap(lambda p: tg.bernoulli(p, 0.3), randomness="different")(
        tg.zeros(5, 3, dtype=tg.float32)).dtype == tg.float32
    scales = tg.tensor([0.5, 1.0, 4.0])
    draws = tg.vmap(lambda s: tg.normal(tg.zeros(3000) + 1.0, s), randomness="different")(scales)
    np.testing.assert_allclose(draws.numpy().std(1), [0.5, 1.0, 4.0], rtol=0.06)
    np.testing.assert_allclose(draws.numpy().mean(1), [1.0, 1.0, 1.0], atol=0.25)
    with pytest.raises(RuntimeError, match="Expected p_in >= 0"):
        tg.vmap(tg.bernoulli, randomness="different")(tg.full((2, 2), 1.5))
    with pytest.raises(RuntimeError, match="std >= 0.0"):
        tg.vmap(lambda s: tg.normal(0.0, s), randomness="different")(tg.full((2, 2), -1.0))


def test_different_is_one_batch_draw():
    tg.manual_seed(3)
    out = tg.vmap(lambda v: v * tg.rand(3), randomness="different")(X)
    tg.manual_seed(3)
    np.testing.assert_array_equal(out.numpy(), tg.rand(5, 3).numpy())


def test_dropout_different_masks_and_gradients():
    tg.manual_seed(0)
    x = tg.tensor(np.arange(1.0, 41.0).reshape(4, 10), requires_grad=True)
    out = tg.vmap(lambda v: tg.nn.functional.dropout(v, 0.25), randomness="different")(x)
    mask = (out.detach().numpy() != 0) / 0.75
    np.testing.assert_allclose(out.detach().numpy(), x.detach().numpy() * mask, rtol=1e-15)
    assert len({tuple(r) for r in mask}) > 1  # not one mask for every example
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), mask)
    ev = tg.vmap(lambda v: tg.nn.functional.dropout(v, 0.25, training=False))(x)
    np.testing.assert_array_equal(ev.detach().numpy(), x.detach().numpy())  # no draw


def test_nested_levels():
    inner = tg.vmap(lambda v: v + tg.rand(()), randomness="different")
    out = tg.vmap(inner, randomness="same")(tg.zeros(4, 3)).numpy()
    assert np.all(out == out[0]) and len(set(out[0])) == 3
    out = tg.vmap(tg.vmap(lambda v: v + tg.rand(()), randomness="same"),
                  randomness="different")(tg.zeros(4, 3)).numpy()
    assert np.all(out == out[:, :1]) and len(set(out[:, 0])) == 4
    with pytest.raises(RuntimeError, match="randomness error mode"):
        tg.vmap(inner)(tg.zeros(4, 3))


def test_random_op_without_per_example_form():
    w = tg.zeros(3)
    with pytest.raises(RuntimeError, match="randomness error mode"):
        tg.vmap(lambda v: v + tg.nn.init.normal_(w))(X)
    with pytest.raises(RuntimeError, match="no per-example form"):
        tg.vmap(lambda v: v + tg.nn.init.normal_(w), randomness="different")(X)
    out = tg.vmap(lambda v: v + tg.nn.init.normal_(w), randomness="same")(X).numpy()
    assert np.all(out == out[0])
    tg.nn.init.normal_(w)  # outside vmap nothing is checked


def test_chunk_size_gives_the_same_result():
    rng = np.random.default_rng(0)
    a = tg.tensor(rng.standard_normal((3, 7)))
    b = tg.tensor(rng.standard_normal(4))

    def f(u, v):
        return {"s": (u * v[0]).sum(), "m": tg.outer(u, v)}

    full = tg.vmap(f, in_dims=(1, None), out_dims={"s": 0, "m": 1})(a, b)
    for c in (1, 2, 3, 7, 50):
        part = tg.vmap(f, in_dims=(1, None), out_dims={"s": 0, "m": 1}, chunk_size=c)(a, b)
        for key in ("s", "m"):
            assert part[key].shape == full[key].shape
            np.testing.assert_allclose(part[key].numpy(), full[key].numpy(), rtol=1e-15)
    for bad in (0, -2):
        with pytest.raises(ValueError, match="chunk_size should be None or greater than 0"):
            tg.vmap(f, chunk_size=bad)


def test_chunk_size_and_randomness():
    out = tg.vmap(lambda v: v * tg.rand(3), randomness="same", chunk_size=2)(X).numpy()
    assert np.all(out == out[0])  # every chunk replays the same draw
    out = tg.vmap(lambda v: v * tg.rand(3), randomness="different", chunk_size=2)(X).numpy()
    assert len({tuple(r) for r in out}) == 5


def test_chunked_gradients_through_vmap():
    x = tg.tensor(np.linspace(0.1, 1.0, 6).reshape(6, 1) * np.ones((6, 2)), requires_grad=True)
    out = tg.vmap(lambda v: (v.sin() * v).sum(), chunk_size=4)(x)
    out.sum().backward()
    xv = x.detach().numpy()
    np.testing.assert_allclose(x.grad.numpy(), np.cos(xv) * xv + np.sin(xv), rtol=1e-14)


def test_jacrev_chunk_size():
    x = tg.tensor(np.linspace(-1.0, 1.0, 7))

    def f(a):
        return (a[:, None] * a[None, :]).tanh()

    full = tg.func.jacrev(f)(x)
    for c in (1, 3, 100):
        np.testing.assert_allclose(tg.func.jacrev(f, chunk_size=c)(x).numpy(), full.numpy(),
                                   rtol=1e-15, atol=1e-15)
    inner = tg.func.jacrev(lambda a: (a ** 3).sum(), chunk_size=1)
    H = tg.func.jacrev(inner)(x)  # chunked rows that stay differentiable (vmap path)
    np.testing.assert_allclose(H.numpy(), np.diag(6 * x.numpy()), rtol=1e-14)
    with pytest.raises(ValueError, match="chunk_size"):
        tg.func.jacrev(f, chunk_size=0)


def test_jacfwd_randomness():
    x = tg.tensor([0.5, 1.0])
    with pytest.raises(RuntimeError, match="randomness error mode"):
        tg.func.jacfwd(lambda a: a * tg.rand(2))(x)
    tg.manual_seed(1)
    J = tg.func.jacfwd(lambda a: a * tg.rand(2), randomness="same")(x)
    tg.manual_seed(1)
    np.testing.assert_array_equal(J.numpy(), np.diag(tg.rand(2).numpy()))
    with pytest.raises(RuntimeError, match="Only allowed values for randomness"):
        tg.func.jacfwd(lambda a: a, randomness="sometimes")
