"""default_collate of Python numbers: the batch's dtype is inferred from every sample (a float
after an int is not truncated), as PyTorch's."""

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

BATCHES = [[1, 2.5], [True, 1], [True, False], [1, True], [2.5, 1], [True, 2.5], [1, -3],
           [1, 2 ** 40], [2.5, True], [1, 1 + 2j]]


@pytest.mark.parametrize("batch", BATCHES, ids=str)
def test_collate_python_numbers_as_torch(batch):
    ours = tg.utils.data.default_collate(batch)
    theirs = torch.utils.data.default_collate(batch)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    kind = {torch.bool: "b", torch.int64: "i"}.get(theirs.dtype, "float or complex")
    if kind != "float or complex":  # (floats take each library's default dtype)
        assert ours.dtype.kind == kind
    else:
        assert ours.dtype.kind == np.dtype(str(theirs.dtype).split(".")[1]).kind


def test_loader_batches_mixed_numbers():
    got = list(tg.utils.data.DataLoader([1, 2.5, 3, 0.5], batch_size=2))
    assert [b.numpy().tolist() for b in got] == [[1.0, 2.5], [3.0, 0.5]]
