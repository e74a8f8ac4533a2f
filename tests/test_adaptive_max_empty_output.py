"""adaptive_max_pool1d/2d/3d to an output size with a 0 (an empty result, as PyTorch's) raised
NumPy's 'cannot reshape array of size 0 into shape (0,newaxis)'; the values and indices now
come back empty, on the compiled path and on the composed one (under vmap)."""
import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

CASES = [(1, (2, 3, 5), 0), (2, (2, 3, 4, 5), (0, 2)), (2, (3, 4, 5), (2, 0)),
         (3, (1, 2, 3, 4, 5), (1, 0, 2))]


@pytest.mark.parametrize("nd,shape,size", CASES)
@pytest.mark.parametrize("requires_grad", [False, True])
def test_empty_output_as_torch(nd, shape, size, requires_grad):
    got = []
    for L in (tg, torch):
        x = L.tensor(np.cos(np.arange(float(np.prod(shape)))).reshape(shape),
                     requires_grad=requires_grad)
        values, indices = getattr(L.nn.functional, f"adaptive_max_pool{nd}d")(
            x, size, return_indices=True)
        got.append((tuple(values.shape), tuple(indices.shape), str(indices.dtype),
                    values.requires_grad))
    assert got[0][:2] == got[1][:2] and got[0][3] == got[1][3]
    assert got[0][2] == "int64" and got[1][2] == "torch.int64"


def test_empty_output_under_vmap():
    x = tg.tensor(np.cos(np.arange(60.0)).reshape(3, 4, 5))
    values, indices = tg.func.vmap(lambda t: tg.nn.functional.adaptive_max_pool2d(
        t, (0, 2), return_indices=True))(x[:, None])
    assert tuple(values.shape) == tuple(indices.shape) == (3, 1, 0, 2)
