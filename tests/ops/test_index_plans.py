"""Basic indexing keeps a plan per (shape, key) (``ops/index_keys.py``): a key seen before skips
the stride and offset arithmetic. The view, its gradient and the errors must be the first
call's, whatever the key's spelling, and only keys of plain ints, slices of ints, None and
Ellipsis are kept."""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.ops import index_keys

KEYS = [3, -1, slice(1, 4), slice(None, None, -2), (slice(1, 3), 2), (Ellipsis, 1),
        (None, slice(0, 2), Ellipsis), (1, None, slice(-3, None, 2)), (slice(2, 2),),
        (-2, slice(None), -1)]


@pytest.mark.parametrize("key", KEYS, ids=[repr(k) for k in KEYS])
def test_a_kept_plan_gives_the_first_calls_view_and_gradient(key):
    x0 = np.arange(60.0).reshape(4, 5, 3)
    for _ in range(3):  # the first call computes and keeps the plan, the others read it
        x = tg.tensor(x0, requires_grad=True)
        y = x[key]
        np.testing.assert_array_equal(y.detach().numpy(), x0[key])
        w = np.arange(1.0, y.numel() + 1).reshape(y.shape)
        (y * tg.tensor(w)).sum().backward()
        want = np.zeros_like(x0)
        np.add.at(want, key, w) if not isinstance(key, int) else want.__setitem__(key, w)
        np.testing.assert_array_equal(x.grad.numpy(), want)


def test_only_plain_keys_are_kept_and_errors_come_every_time():
    assert index_keys.plan_key((slice(1, 2), None, Ellipsis, -1)) is not None
    for key in (np.int64(1), True, (slice(np.int64(1), 3),), [1, 2], (tg.tensor(1),)):
        assert index_keys.plan_key(key) is None
    x = tg.tensor(np.zeros((2, 3)), requires_grad=True)
    for _ in range(2):
        with pytest.raises(IndexError, match="out of bounds for dimension 0 with size 2"):
            x[5]
    x[1]
    y = tg.tensor(np.zeros((3, 3)), requires_grad=True)  # another shape: its own plan
    np.testing.assert_array_equal(y[1].detach().numpy(), np.zeros(3))
    t = tg.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True).T  # not C-contiguous
    for _ in range(2):
        np.testing.assert_array_equal(t[1].detach().numpy(), np.arange(12.0).reshape(3, 4)[:, 1])
