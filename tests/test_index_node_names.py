"""Basic indexing is named as PyTorch's node: the last view op the key applies."""

import numpy as np
import pytest

import tapegrad as tg

KEYS = [0, -1, slice(1, 3), slice(None), slice(None, None, 2), slice(2, 1), None, Ellipsis, (),
        (slice(None), 1), (0, 1), (slice(1, 3), 2), (slice(None), slice(1, 3)), (None, 0),
        (Ellipsis, 0), (0, None), (slice(None),), (slice(None), slice(None)),
        (slice(0, 4), slice(None)), (0, slice(None)), (slice(1, 3), slice(None)),
        (slice(None), None), (None, Ellipsis), (Ellipsis, None, 1), (1, Ellipsis, None)]


@pytest.mark.parametrize("contiguous", [True, False])
def test_names_match_torch(contiguous):
    torch = pytest.importorskip("torch")
    for lib in (tg, torch):
        x = lib.ones(4, 5, requires_grad=True)
        b = x * 1 if contiguous else (x * 1).t().t()[:, :]
        for _ in range(2):  # (the second time a kept plan serves the key)
            got = [b[k].grad_fn.name() for k in KEYS]
            if lib is tg:
                names = got
    x = torch.ones(4, 5, requires_grad=True)
    b = x * 1 if contiguous else (x * 1).t().t()[:, :]
    assert names == [b[k].grad_fn.name() for k in KEYS]


def test_gradients_and_advanced_names_unchanged():
    x = tg.tensor(np.arange(20.0).reshape(4, 5), requires_grad=True)
    assert x[[0, 2]].grad_fn.name() == "IndexBackward0"
    assert x[x > 3].grad_fn.name() == "IndexBackward0"
    (x[0].sum() + 2 * x[1:3, None].sum() + x[..., 0].sum()).backward()
    want = np.zeros((4, 5))
    want[0] += 1
    want[1:3] += 2
    want[:, 0] += 1
    np.testing.assert_array_equal(x.grad.numpy(), want)
    with tg.no_grad():
        assert x[0].grad_fn is None
