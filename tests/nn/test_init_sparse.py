"""``nn.init.sparse_``: N(0, std²) values with ``ceil(sparsity * rows)`` zeros per column,
reproducible from a generator plus the default generator, PyTorch's error for other ranks."""

import math

import numpy as np
import pytest

import tapegrad as tg


@pytest.mark.parametrize("rows,cols,sparsity", [(10, 6, 0.3), (7, 3, 0.0), (4, 5, 1.0)])
def test_zeros_per_column(rows, cols, sparsity):
    w = tg.nn.init.sparse_(tg.empty(rows, cols), sparsity, std=0.5)
    zeros = (w.numpy() == 0).sum(axis=0)
    assert (zeros == math.ceil(sparsity * rows)).all()


def test_values_and_reproducibility():
    def draw():
        tg.manual_seed(3)
        return tg.nn.init.sparse_(tg.empty(400, 50), 0.1, std=0.02,
                                  generator=tg.Generator().manual_seed(1)).numpy()

    a, b = draw(), draw()
    np.testing.assert_array_equal(a, b)
    nonzero = a[a != 0]
    assert nonzero.size == 400 * 50 - 40 * 50
    assert abs(nonzero.std() - 0.02) < 0.001 and abs(nonzero.mean()) < 0.001


def test_rank_error():
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions are supported"):
        tg.nn.init.sparse_(tg.empty(2, 3, 4), 0.5)


def test_matches_torch_structure(torch):
    for lib in (tg, torch):
        w = lib.empty(9, 4)
        assert lib.nn.init.sparse_(w, 0.4) is w
        assert ((w == 0).sum(0) == 4).all()
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions"):
        torch.nn.init.sparse_(torch.empty(3), 0.5)
