"""index_select with an index out of range: PyTorch's CPU kernel for dim 1 of a tensor of 2
dims or more raises RuntimeError('INDICES element is out of DATA bounds, id=<first bad index>
axis_dim=<size>'), its other paths IndexError('index out of range in self'); the same here.
In range (negative indices do not wrap) the values and gradients are PyTorch's."""
import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

CASES = [((3, 4), 1, [-1]), ((3, 4), -1, [-1, 0]), ((3, 4), 0, [-1]), ((4,), 0, [4]),
         ((3, 4), 1, [4]), ((3, 4), 0, [3]), ((2, 3, 4), 2, [-1]), ((2, 3, 4), 1, [-1]),
         ((3, 4), 1, [1, 5, -2]), ((0, 4), 1, [9]), ((2, 3, 4, 5), 1, [9]),
         ((2, 3, 4, 5), -3, [7])]


@pytest.mark.parametrize("shape, dim, index", CASES)
def test_out_of_range_as_torch(shape, dim, index):
    got = []
    for lib in (tg, torch):
        x = lib.zeros(*shape, dtype=lib.float64)
        for f in (lambda: x.index_select(dim, lib.tensor(index)),
                  lambda: lib.index_select(x, dim, lib.tensor(index, dtype=lib.int32))):
            with pytest.raises((IndexError, RuntimeError)) as e:
                f()
            got.append((type(e.value), str(e.value)))
    assert got[:2] == got[2:]


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_in_range_values_and_gradients_as_torch(dim):
    a = np.arange(12.0).reshape(3, 4) / 7
    got = []
    for lib in (tg, torch):
        x = lib.tensor(a, requires_grad=True)
        y = x.index_select(dim, lib.tensor([2, 0, 2]))
        (y * lib.tensor(np.cos(np.arange(y.numel())).reshape(tuple(y.shape)))).sum().backward()
        got.append((y.detach().numpy(), x.grad.numpy()))
    np.testing.assert_allclose(got[0][0], got[1][0])
    np.testing.assert_allclose(got[0][1], got[1][1])
