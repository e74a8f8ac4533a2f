"""Pooling inputs of a rank the pool does not take, and the adaptive pools' output-size checks:
PyTorch's error class and words, in its order (max_pool1d with and without indices, the 1-d
and 3-d pools, the adaptive pools' 'Expected 3D or 4D tensor' and the 'Input dimension should
be at least' of a size given as a sequence), and an adaptive average pool to size 1, a mean
over the last dims, of any rank as in PyTorch (values and gradients against PyTorch, and by
finite differences)."""
import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

POOLS = {
    "max_pool1d": lambda F, x: F.max_pool1d(x, 1),
    "max_pool1d indices": lambda F, x: F.max_pool1d(x, 1, return_indices=True)[0],
    "avg_pool1d": lambda F, x: F.avg_pool1d(x, 1),
    "lp_pool1d": lambda F, x: F.lp_pool1d(x, 2, 1),
    "max_pool3d": lambda F, x: F.max_pool3d(x, 1),
    "avg_pool3d": lambda F, x: F.avg_pool3d(x, 1),
    "adaptive_avg_pool1d": lambda F, x: F.adaptive_avg_pool1d(x, 1),
    "adaptive_max_pool1d": lambda F, x: F.adaptive_max_pool1d(x, 2),
    "adaptive_avg_pool2d": lambda F, x: F.adaptive_avg_pool2d(x, 2),
    "adaptive_avg_pool2d to 1": lambda F, x: F.adaptive_avg_pool2d(x, 1),
    "adaptive_avg_pool2d to (1, 1)": lambda F, x: F.adaptive_avg_pool2d(x, (1, 1)),
    "adaptive_avg_pool2d to (None, 1)": lambda F, x: F.adaptive_avg_pool2d(x, (None, 1)),
    "adaptive_max_pool2d": lambda F, x: F.adaptive_max_pool2d(x, 1),
    "adaptive_max_pool2d to (2, 2)": lambda F, x: F.adaptive_max_pool2d(x, (2, 2)),
    "adaptive_avg_pool3d": lambda F, x: F.adaptive_avg_pool3d(x, 2),
    "adaptive_avg_pool3d to 1": lambda F, x: F.adaptive_avg_pool3d(x, 1),
    "adaptive_max_pool3d": lambda F, x: F.adaptive_max_pool3d(x, 1),
    "adaptive_max_pool2d to -1": lambda F, x: F.adaptive_max_pool2d(x, -1),
    "adaptive_max_pool1d to -1": lambda F, x: F.adaptive_max_pool1d(x, -1),
    "adaptive_avg_pool3d to -1": lambda F, x: F.adaptive_avg_pool3d(x, -1),
    "adaptive_avg_pool1d to (None,)": lambda F, x: F.adaptive_avg_pool1d(x, (None,)),
}


def _outcome(lib, pool, shape):
    x = lib.tensor(np.cos(np.arange(int(np.prod(shape)))).reshape(shape), requires_grad=True)
    try:
        y = POOLS[pool](lib.nn.functional, x)
    except Exception as e:  # noqa: BLE001 (the class and words are compared)
        return type(e).__name__, str(e)
    (y * lib.tensor(np.sin(np.arange(y.numel())).reshape(tuple(y.shape)))).sum().backward()
    return tuple(y.shape), y.detach().numpy(), x.grad.numpy()


@pytest.mark.parametrize("pool", list(POOLS))
@pytest.mark.parametrize("ndim", [0, 1, 2, 3, 4, 5, 6])
def test_outcome_as_torch(pool, ndim):
    shape = tuple(3 + i % 2 for i in range(ndim))
    got, want = _outcome(tg, pool, shape), _outcome(torch, pool, shape)
    assert got[0] == want[0]
    if isinstance(want[1], str):
        assert got[1] == want[1]
    else:
        np.testing.assert_allclose(got[1], want[1], rtol=1e-12)
        np.testing.assert_allclose(got[2], want[2], rtol=1e-12)


@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 4, 3, 2)])
def test_global_average_of_any_rank_gradcheck(shape):
    x = tg.tensor(np.cos(np.arange(int(np.prod(shape)))).reshape(shape), requires_grad=True)
    assert tg.autograd.gradcheck(lambda t: tg.nn.functional.adaptive_avg_pool2d(t, 1) ** 2, (x,))
