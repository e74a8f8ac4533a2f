"""Sampler argument checks as PyTorch's: ``WeightedRandomSampler`` draws with ``multinomial``
when iterated (a zero weight may still be drawn once the others are used up without
replacement; too many samples or negative weights raise then, not when made), and
``BatchSampler`` wants a boolean ``drop_last``."""

import pytest

import tapegrad as tg


def _program(lib):
    D = lib.utils.data
    out = [sorted(D.WeightedRandomSampler([1.0, 0.0, 2.0], 3, replacement=False))]
    for args in (([1.0, 2.0], 5, False), ([-1.0, 2.0], 1, True), ([0.0, 0.0], 1, True)):
        sampler = D.WeightedRandomSampler(*args)  # made without complaint
        with pytest.raises(RuntimeError) as info:
            list(sampler)
        out.append(str(info.value))
    with pytest.raises(ValueError) as info:
        D.BatchSampler(range(3), 2, "no")
    out.append(str(info.value))
    return out


def test_sampler_checks():
    assert _program(tg) == [
        [0, 1, 2], "cannot sample n_sample > prob_dist.size(-1) samples without replacement",
        "probability tensor contains either `inf`, `nan` or element < 0",
        "invalid multinomial distribution (sum of probabilities <= 0)",
        "drop_last should be a boolean value, but got drop_last=no"]


def test_sampler_checks_match_torch(torch):
    assert _program(tg) == _program(torch)


def test_weighted_draws_follow_the_generator():
    def draw():
        g = tg.Generator().manual_seed(7)
        return list(tg.utils.data.WeightedRandomSampler([0.1, 0.5, 0.4], 20, generator=g))

    assert draw() == draw()
