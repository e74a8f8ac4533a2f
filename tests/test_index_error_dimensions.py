"""x[key] / x[key] = v with an index out of range: PyTorch's message names, for an index
array, its place among the index tensors of the advanced index (a boolean mask counts once per
dim, a bool once; an int or a 0-d index is a select of its own, named by its dim), not the
tensor's dim NumPy names ('index 4 is out of bounds for dimension 0 with size 4' for
x[:, [4]])."""
import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


def _keys(L):
    t = L.tensor
    mask2 = t([[True, False, True, True]] * 3)
    return [(None, slice(None), t([4])), (mask2, t([7])), (t([True, False, True]), t([0]), t([9])),
            ([0, 1], [4]), (slice(None), [1], 9), (t([5]),), (slice(None), slice(None), [7]),
            (0, slice(None), t([6])), (t([0]), slice(None), t([6])), (Ellipsis, t([5])),
            (slice(None), t([4])), (5,), (slice(None), 7), (Ellipsis, 0, t([9])),
            (t([[0, 3]]), t([1]), slice(None)), (t([-4]),), (None, None, t([0]), t([-5])),
            (t(0), slice(None), t([6])), (t(5),), (np.array([0]), [9]), (True, t([7])),
            (slice(None), -5), (1, -5)]


@pytest.mark.parametrize("k", range(len(_keys(tg))))
@pytest.mark.parametrize("write", [False, True])
def test_out_of_bounds_message_as_torch(k, write):
    got = []
    for lib in (tg, torch):
        x = lib.zeros(3, 4, 5)
        key = _keys(lib)[k]
        with pytest.raises(IndexError) as e:
            if write:
                x[key] = 1.0
            else:
                x[key]
        got.append(str(e.value))
    assert got[0] == got[1]


def test_in_range_indexing_and_gradient_unchanged():
    a = np.arange(60.0).reshape(3, 4, 5)
    got = []
    for lib in (tg, torch):
        x = lib.tensor(a, requires_grad=True)
        y = x[lib.tensor([2, 0]), :, lib.tensor([4, 1])] * 2
        y.sum().backward()
        got.append((y.detach().numpy(), x.grad.numpy()))
    np.testing.assert_array_equal(got[0][0], got[1][0])
    np.testing.assert_array_equal(got[0][1], got[1][1])
