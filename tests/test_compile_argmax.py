"""tg.compile of argmax / argmin: a step reading class predictions or targets from scores
(accuracy, nll_loss on y.argmax(1)) ran eagerly ('argmax (code several ops share) is not
supported by tg.compile yet'). Replayed (fullgraph: one trace) with eager's and PyTorch's
indices (ties: the first; NaN; flattened; keepdim; 0-d), and in a classifier step with Adam
against eager and PyTorch."""

import warnings

import numpy as np
import pytest

import tapegrad as tg

from compiled_steps import assert_adam_steps_agree

torch = pytest.importorskip("torch")


def _f(lib, x):
    return (x.argmax(1), lib.argmin(x, 0, keepdim=True), x.argmax(), x.argmin(keepdim=True),
            lib.argmax(x, dim=-1, keepdim=True), x[0, 0].argmax(), x[1].argmin(0))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_indices_as_eager_and_torch(dtype):
    compiled = tg.compile(lambda x: _f(tg, x), fullgraph=True)
    rng = np.random.default_rng(0)
    for i in range(3):
        x0 = rng.integers(-2, 3, size=(4, 5)).astype(dtype)  # (ties)
        if i == 2:
            x0[1, 3] = np.nan
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            res = compiled(tg.tensor(x0))
        for a, b, t in zip(res, _f(tg, tg.tensor(x0)), _f(torch, torch.tensor(x0))):
            assert a.dtype == b.dtype == tg.int64 and a.shape == b.shape == tuple(t.shape)
            np.testing.assert_array_equal(a.numpy(), b.numpy())
            np.testing.assert_array_equal(a.numpy(), t.numpy())
    assert compiled._count == 1


def test_adam_step_with_argmax_targets_and_accuracy():
    def make_model(lib):
        lib.manual_seed(0)
        return lib.nn.Sequential(lib.nn.Linear(6, 8, dtype=lib.float64), lib.nn.Tanh(),
                                 lib.nn.Linear(8, 4, dtype=lib.float64))

    def make_loss(lib):
        def loss(out, y):  # (soft targets' argmax as classes; accuracy as a weight)
            cls = y.argmax(1)
            acc = (out.argmax(1) == cls).to(out.dtype).mean()
            lp = lib.nn.functional.log_softmax(out, 1)
            return lib.nn.functional.nll_loss(lp, cls) * (1.5 - acc)
        return loss

    def batch(lib, rng):
        return lib.tensor(rng.normal(size=(9, 6))), lib.tensor(rng.normal(size=(9, 4)))

    assert_adam_steps_agree(make_model, make_loss, batch)
