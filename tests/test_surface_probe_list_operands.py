"""Lists, arrays and numbers where PyTorch wants tensors (docs/differences_from_pytorch.md):
tapegrad takes them as NumPy does (``==`` elementwise, a list assigned into a slice, array-likes
among ``cat``/``stack``'s tensors) where PyTorch raises or returns False."""
import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


def test_compare_with_list_is_elementwise():
    a = np.array([1, 2, 3])
    np.testing.assert_array_equal((tg.tensor(a) == [1, 0, 3]).numpy(), a == [1, 0, 3])
    assert (torch.tensor(a) == [1, 0, 3]) is False


def test_list_assigned_into_slice():
    t = tg.zeros(3)
    t[1:] = [5, 6]
    np.testing.assert_array_equal(t.numpy(), [0.0, 5.0, 6.0])
    with pytest.raises(TypeError, match="can't assign a list"):
        torch.zeros(3)[1:] = [5, 6]


@pytest.mark.parametrize("fn", ["cat", "stack", "hstack"])
def test_array_likes_among_tensors(fn):
    parts = [np.arange(2.0), [5.0, 6.0], np.ones(2)]
    expected = {"cat": np.concatenate, "stack": np.stack, "hstack": np.hstack}[fn](parts)
    got = getattr(tg, fn)([tg.tensor(parts[0]), parts[1], parts[2]])
    np.testing.assert_array_equal(got.numpy(), expected)
    with pytest.raises(TypeError, match="expected Tensor as element 1 in argument 0"):
        getattr(torch, fn)([torch.tensor(parts[0]), parts[1], parts[2]])


def test_array_likes_get_no_gradient_but_tensors_do():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    (tg.stack([x, [3.0, 4.0]]) * tg.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 2.0])
