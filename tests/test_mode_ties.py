"""mode along a dim: the index PyTorch's CPU mode returns (the last of the value's run in the
order std::sort leaves the row in), so the gradient goes to the same entry."""

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("dtype", ["float64", "float32", "float16", "int64", "int16", "uint8"])
def test_mode_index_follows_pytorch(dtype):
    rng = np.random.default_rng(5)
    for _ in range(30):
        shape = (int(rng.integers(1, 4)), int(rng.integers(1, 200)))
        a = rng.integers(0, int(rng.integers(1, 7)), shape).astype(dtype)
        if dtype.startswith("float") and rng.random() < 0.3:
            a[rng.random(shape) < 0.1] = np.nan
        for dim, keepdim in ((1, False), (0, True)):
            v, i = tg.tensor(a).mode(dim, keepdim)
            tv, ti = torch.tensor(a).mode(dim, keepdim)
            np.testing.assert_array_equal(i.numpy(), ti.numpy())
            np.testing.assert_array_equal(v.numpy(), tv.numpy())


def test_mode_gradient_goes_where_pytorch_sends_it():
    a = np.random.default_rng(1).integers(0, 3, (4, 40)).astype(float)
    g = np.random.default_rng(2).standard_normal(4)
    x = tg.tensor(a, requires_grad=True)
    tx = torch.tensor(a, requires_grad=True)
    (x.mode(1).values * tg.tensor(g)).sum().backward()
    (tx.mode(1).values * torch.tensor(g)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


@pytest.mark.parametrize("shape,dim,keepdim", [((), 0, False), ((2, 3), 1, True),
                                               ((2, 3), 1, False), ((3, 4, 5), 0, False)])
def test_mode_node_is_pytorch_s(shape, dim, keepdim):
    a = np.random.default_rng(0).integers(0, 3, shape).astype(float)
    x = tg.tensor(a, requires_grad=True)
    tx = torch.tensor(a, requires_grad=True)
    v, tv = x.mode(dim, keepdim).values, tx.mode(dim, keepdim).values
    assert v.grad_fn.name() == tv.grad_fn.name() == "ModeBackward0"
    assert [type(f).__name__ for f, _ in v.grad_fn.next_functions] == \
        [type(f).__name__ for f, _ in tv.grad_fn.next_functions]
    g = np.random.default_rng(1).standard_normal(tuple(tv.shape))
    (v * tg.tensor(g)).sum().backward()
    (tv * torch.tensor(g)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())
