"""scatter/scatter_ with PyTorch's deprecated ``reduce='add'|'multiply'``: a number or a tensor
source, repeated indices combined; another reduce is PyTorch's error; 'multiply' has no
derivative (PyTorch's message)."""
import numpy as np
import pytest

import tapegrad as tg

INDEX = [[0, 1], [2, 2]]


def _cases(L):
    i = L.tensor(INDEX)
    return {
        "multiply_value": lambda: L.ones(2, 3).scatter_(1, i, 2.0, reduce="multiply"),
        "add_value": lambda: L.ones(2, 3).scatter_(1, i, 2.0, reduce="add"),
        "add_src": lambda: L.ones(2, 3).scatter(1, i, L.full((2, 2), 3.0), reduce="add"),
        "multiply_src": lambda: L.ones(2, 3).scatter(1, i, L.full((2, 3), 3.0),
                                                     reduce="multiply"),
        "int": lambda: L.ones(2, 3, dtype=L.int64).scatter_(1, i, 5, reduce="multiply"),
    }


def test_values():
    c = _cases(tg)
    assert c["multiply_value"]().tolist() == [[2.0, 2.0, 1.0], [1.0, 1.0, 4.0]]
    assert c["add_value"]().tolist() == [[3.0, 3.0, 1.0], [1.0, 1.0, 5.0]]
    assert c["multiply_src"]().tolist() == [[3.0, 3.0, 1.0], [1.0, 1.0, 9.0]]
    assert c["int"]().tolist() == [[5, 5, 1], [1, 1, 25]]


def test_errors():
    with pytest.raises(RuntimeError, match="reduce argument must be either add or multiply."):
        tg.ones(2, 3).scatter_(1, tg.tensor(INDEX), 2.0, reduce="max")
    x = tg.ones(2, 3, dtype=tg.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match="derivative for aten::scatter is not implemented"):
        (x * 1).scatter(1, tg.tensor(INDEX), 2.0, reduce="multiply").sum().backward()


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("case", list(_cases(tg)))
def test_matches_torch(case):
    torch = pytest.importorskip("torch")
    mine = _cases(tg)[case]()
    with torch.autocast("cpu", enabled=False):
        theirs = _cases(torch)[case]()
    np.testing.assert_allclose(np.asarray(mine.tolist()), np.asarray(theirs.tolist()))
