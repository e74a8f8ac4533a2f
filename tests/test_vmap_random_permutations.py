"""``randperm`` and ``multinomial`` inside ``vmap(randomness='different')`` draw per example,
as torch.func's do (they raised "randomness='different' has no per-example form")."""
import numpy as np
import pytest

import tapegrad as tg


def test_randperm_different_gives_each_example_its_own_permutation():
    tg.manual_seed(3)
    out = tg.func.vmap(lambda a: tg.randperm(6) + a, randomness="different")(
        tg.zeros(40, 6, dtype=tg.int64)).numpy()
    assert out.shape == (40, 6) and out.dtype == np.int64
    assert all(sorted(r) == list(range(6)) for r in out.tolist())  # permutations
    assert len({tuple(r) for r in out.tolist()}) > 1


def test_randperm_same_shares_one_and_error_mode_refuses():
    out = tg.func.vmap(lambda a: tg.randperm(5) + a, randomness="same")(
        tg.zeros(4, 5, dtype=tg.int64)).numpy()
    assert (out == out[0]).all() and sorted(out[0].tolist()) == list(range(5))
    with pytest.raises(RuntimeError, match="randomness error mode"):
        tg.func.vmap(lambda a: tg.randperm(5) + a)(tg.zeros(4, 5, dtype=tg.int64))


def test_multinomial_of_batched_probabilities_follows_each_example():
    tg.manual_seed(5)
    probs = tg.tensor([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    for f in (lambda q: tg.multinomial(q, 1), lambda q: q.multinomial(1)):
        out = tg.func.vmap(f, randomness="different")(probs)
        np.testing.assert_array_equal(out.numpy(), [[1], [0], [2]])
    rows = tg.func.vmap(lambda q: tg.multinomial(q, 4, replacement=True),
                        randomness="different")(tg.ones(3, 2, 5))
    assert tuple(rows.shape) == (3, 2, 4)


def test_multinomial_of_shared_probabilities_draws_per_example():
    tg.manual_seed(9)
    p = tg.tensor([0.25, 0.25, 0.25, 0.25])
    out = tg.func.vmap(lambda a: tg.multinomial(p, 4) + a, randomness="different")(
        tg.zeros(30, 4, dtype=tg.int64)).numpy()
    assert all(sorted(r) == [0, 1, 2, 3] for r in out.tolist())  # without replacement
    assert len({tuple(r) for r in out.tolist()}) > 1


def test_multinomial_method_of_shared_probabilities_draws_per_example():
    tg.manual_seed(11)
    p = tg.tensor([0.25, 0.25, 0.25, 0.25])
    out = tg.func.vmap(lambda a: p.multinomial(4) + a, randomness="different")(
        tg.zeros(30, 4, dtype=tg.int64)).numpy()
    assert all(sorted(r) == [0, 1, 2, 3] for r in out.tolist())
    assert len({tuple(r) for r in out.tolist()}) > 1
    same = tg.func.vmap(lambda a: p.multinomial(4) + a, randomness="same")(
        tg.zeros(5, 4, dtype=tg.int64)).numpy()
    assert (same == same[0]).all()
    with pytest.raises(RuntimeError, match="randomness error mode"):
        tg.func.vmap(lambda a: p.multinomial(4) + a)(tg.zeros(5, 4, dtype=tg.int64))


def test_matches_torch_func_in_shape_and_dtype():
    torch = pytest.importorskip("torch")

    def f(lib):
        return lib.func.vmap(lambda q: (lib.multinomial(q, 2), lib.randperm(3)),
                             randomness="different")(lib.ones(4, 3))
    mine, theirs = f(tg), f(torch)
    for a, b in zip(mine, theirs):
        assert tuple(a.shape) == tuple(b.shape) and str(a.dtype) == str(b.dtype).split(".")[-1]
