"""take_along_dim's index dtypes as PyTorch's: without ``dim`` it gathers from the flattened
input (int32 or int64 indices, gather's message), with ``dim`` int64 only."""
import numpy as np
import pytest

import tapegrad as tg


@pytest.mark.parametrize("dtype", ["int64", "int32", "int16", "uint8", "bool", "float32"])
@pytest.mark.parametrize("dim", [None, 0])
def test_index_dtypes_as_torch(dtype, dim):
    torch = pytest.importorskip("torch")

    def outcome(L):
        x = L.tensor([1.0, 2.0, 3.0], dtype=L.float64)
        try:
            return np.asarray(L.take_along_dim(x, L.tensor([2, 0]).to(getattr(L, dtype)),
                                               dim)).tolist()
        except RuntimeError as e:
            return str(e)

    assert outcome(tg) == outcome(torch)


@pytest.mark.parametrize("index", [[-1], [3, -2, 20], [13], [1, 0]])
def test_flattened_gather_refuses_negative_and_large_indices_as_torch(index):
    """Without ``dim`` PyTorch gathers, which takes no negative index (-1 raised there, where
    tapegrad took the last element) and names gather's bound (a RuntimeError)."""
    torch = pytest.importorskip("torch")

    def outcome(L):
        x = L.arange(12.0, dtype=L.float64).reshape(3, 4)
        try:
            return L.take_along_dim(x, L.tensor(index)).tolist()
        except Exception as e:  # noqa: BLE001 (the outcome compared is the exception)
            return type(e).__name__, str(e)

    assert outcome(tg) == outcome(torch)
