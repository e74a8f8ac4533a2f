"""An op that saves its own output for backward (softmax, cumprod, inv, cholesky, ...): changing
that output in place afterwards raises PyTorch's error at backward, instead of a gradient
computed from the changed values."""

import numpy as np
import pytest

import tapegrad as tg

S = np.array([[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]])

SAVE_THEIR_OUTPUT = {
    "softmax": lambda L, x: L.softmax(x, 0),
    "log_softmax": lambda L, x: L.log_softmax(x, 1),
    "logsumexp": lambda L, x: L.logsumexp(x, 0),
    "logcumsumexp": lambda L, x: L.logcumsumexp(x, 0),
    "cumprod": lambda L, x: L.cumprod(x, 0),
    "amax": lambda L, x: L.amax(x, 0),
    "inv": lambda L, x: L.linalg.inv(x),
    "cholesky": lambda L, x: L.linalg.cholesky(x),
}
MESSAGE = r"^one of the variables needed for gradient computation has been modified by an " \
          r"inplace operation: \[tapegrad.DoubleTensor \[\d+(, \d+)?\]\], which is output 0 of"


@pytest.mark.parametrize("name", sorted(SAVE_THEIR_OUTPUT))
def test_changing_a_saved_output_in_place_raises_at_backward(name):
    x = tg.tensor(S, requires_grad=True)
    y = SAVE_THEIR_OUTPUT[name](tg, x)
    y.mul_(2.0)
    with pytest.raises(RuntimeError, match=MESSAGE):
        y.sum().backward()


@pytest.mark.parametrize("name", sorted(SAVE_THEIR_OUTPUT))
def test_an_untouched_output_still_differentiates(name):
    x = tg.tensor(S, requires_grad=True)
    z = SAVE_THEIR_OUTPUT[name](tg, x) * 2.0  # (out of place: nothing saved changes)
    z.sum().backward()
    assert np.isfinite(x.grad.numpy()).all()


@pytest.mark.parametrize("name", sorted(SAVE_THEIR_OUTPUT))
def test_as_pytorch(name):
    torch = pytest.importorskip("torch")
    y = SAVE_THEIR_OUTPUT[name](torch, torch.tensor(S, requires_grad=True))
    y.mul_(2.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
