"""tg.compile of F.one_hot: a step building one-hot targets (a soft-label loss, a masked
score) ran eagerly ('one_hot is not supported by tg.compile yet'). Replayed (one trace per
width, new classes read by the replay) with eager's and PyTorch's int64 values; a class out of
range raises eager's error; without num_classes a new largest class records again; and in a
classifier step with Adam against eager and PyTorch."""

import warnings

import numpy as np
import pytest

import tapegrad as tg

from compiled_steps import assert_adam_steps_agree

torch = pytest.importorskip("torch")


def _f(lib, x, y):
    F = lib.nn.functional
    return (x * F.one_hot(y, 5)).sum(), F.one_hot(y, num_classes=6), F.one_hot(y)


def test_against_eager_and_torch_and_widths():
    x0 = np.random.default_rng(0).normal(size=(4, 5))
    x = tg.tensor(x0, requires_grad=True)
    compiled = tg.compile(lambda x, y: _f(tg, x, y))
    for n, y0 in enumerate(([0, 1, 2, 3], [3, 1, 0, 0], [4, 1, 0, 2], [4, 4, 4, 4])):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            res = compiled(x, tg.tensor(y0))
        rese, rest = _f(tg, x, tg.tensor(y0)), _f(torch, torch.tensor(x0), torch.tensor(y0))
        assert res[0].item() == rese[0].item()
        np.testing.assert_allclose(res[0].item(), rest[0].item(), rtol=1e-12)
        for a, b, t in zip(res[1:], rese[1:], rest[1:]):
            assert a.dtype == b.dtype == tg.int64 and a.shape == b.shape == tuple(t.shape)
            np.testing.assert_array_equal(a.numpy(), b.numpy())
            np.testing.assert_array_equal(a.numpy(), t.numpy())
        assert compiled._count == (1 if n < 2 else 2)  # (width 4, then 5 from the third call)


@pytest.mark.parametrize("n", [5, -1])
def test_out_of_range_class_raises_as_eager(n):
    compiled = tg.compile(lambda y: tg.nn.functional.one_hot(y, n) * 2)
    compiled(tg.tensor([0, 1, 4]))
    for bad in ([0, 5, 1], [0, -1, 1]):
        if n == -1 and bad[1] == 5:
            continue  # (a larger class is a new width without num_classes)
        with pytest.raises(RuntimeError) as got:
            compiled(tg.tensor(bad))
        with pytest.raises(RuntimeError) as want:
            tg.nn.functional.one_hot(tg.tensor(bad), n)
        assert str(got.value) == str(want.value)


def test_adam_step_one_hot_targets():
    def make_model(lib):
        lib.manual_seed(0)
        return lib.nn.Sequential(lib.nn.Linear(6, 8, dtype=lib.float64), lib.nn.Tanh(),
                                 lib.nn.Linear(8, 4, dtype=lib.float64))

    def make_loss(lib):
        def loss(out, y):  # (label-smoothed soft targets from one_hot)
            soft = lib.nn.functional.one_hot(y, 4).to(out.dtype) * 0.9 + 0.025
            return -(soft * lib.nn.functional.log_softmax(out, 1)).sum(1).mean()
        return loss

    def batch(lib, rng):
        return lib.tensor(rng.normal(size=(7, 6))), lib.tensor(rng.integers(0, 4, 7))

    assert_adam_steps_agree(make_model, make_loss, batch)
