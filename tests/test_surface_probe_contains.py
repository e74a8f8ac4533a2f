"""``element in t`` against PyTorch, whose ``__contains__`` is ``(element == t).any()``: the
result, and a shape mismatch's message naming the element as tensor a (tapegrad named t)."""
import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

CASES = [("[1, 2, 3]", "2"), ("[1, 2, 3]", "5"), ("[1.5, 2.0]", "1.5"),
         ("[[1, 2], [3, 4]]", "[3, 4]"), ("[[1, 2], [3, 4]]", "[3, 5]"),
         ("[[1, 2], [3, 4]]", "[[1], [9]]"), ("[1, 2, 3]", "[1, 2]"),
         ("[[1, 2, 3]]", "[[1, 2], [3, 4]]"), ("[True, False]", "True"),
         ("[1.0, float('nan')]", "float('nan')")]


def outcome(M, data, element):
    t = M.tensor(eval(data))
    e = eval(element)
    e = M.tensor(e) if isinstance(e, list) else e
    try:
        return e in t
    except RuntimeError as err:
        return str(err)


@pytest.mark.parametrize("data,element", CASES)
def test_contains_as_torch(data, element):
    assert outcome(tg, data, element) == outcome(torch, data, element)


def test_contains_numpy_scalar():
    assert np.int64(2) in tg.tensor([1, 2]) and np.float64(3.0) not in tg.tensor([1, 2])
