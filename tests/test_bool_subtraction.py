"""``-`` with a bool operand, tensor or Python bool: PyTorch refuses both mixes, and NumPy
computes the one where only one side is bool."""
import pytest

import tapegrad as tg

ONE = "Subtraction, the `-` operator, with a bool tensor is not supported"
TWO = "Subtraction, the `-` operator, with two bool tensors is not supported"


def _cases(L):
    x, b = L.tensor([1.0, 2.0]), L.tensor([True, False])
    i = L.tensor([1, 2])
    return {
        "float-booltensor": lambda: x - b, "booltensor-float": lambda: b - x,
        "views": lambda: x[::2] - b[::2], "broadcast": lambda: x - b[:1],
        "zero-d": lambda: x - L.tensor(True), "float-True": lambda: x - True,
        "True-float": lambda: True - x, "int-False": lambda: i - False,
        "bool-int": lambda: b - 1, "number-bool": lambda: 1.5 - b,
        "method": lambda: x.sub(b), "function": lambda: L.sub(x, True),
        "rsub": lambda: L.rsub(x, True), "in-place": lambda: x.clone().sub_(True),
        "in-place-tensor": lambda: x.clone().sub_(b), "python-scalar": lambda: L.tensor(2.0) - True,
        "grad": lambda: x.clone().requires_grad_() - b,
        "two": lambda: b - b, "two-number": lambda: b - True,
    }


@pytest.mark.parametrize("case", list(_cases(tg)))
def test_bool_subtraction_raises(case):
    with pytest.raises(RuntimeError, match=TWO if case.startswith("two") else ONE):
        _cases(tg)[case]()


@pytest.mark.parametrize("case", list(_cases(tg)))
def test_bool_subtraction_matches_torch(case):
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError) as theirs:
        _cases(torch)[case]()
    with pytest.raises(RuntimeError) as mine:
        _cases(tg)[case]()
    assert str(mine.value) == str(theirs.value)


def test_subtraction_without_bool_still_works():
    x, i = tg.tensor([1.0, 2.0]), tg.tensor([1, 2])
    assert (x - i).tolist() == [0.0, 0.0] and (i - 1).tolist() == [0, 1]
    assert (x - x.float()).tolist() == [0.0, 0.0]


def test_numpy_subtract_keeps_numpys_bool_rule():
    import numpy as np

    x, b = tg.tensor([1.0, 2.0], dtype=tg.float32), np.array([True, False])
    for got, want in [(np.subtract(x, b), np.subtract(x.numpy(), b)),
                      (np.subtract(True, x), np.subtract(True, x.numpy())),
                      (np.subtract(tg.tensor(b), 2), np.subtract(b, 2)),
                      (np.subtract(2.5, tg.tensor(b)), np.subtract(2.5, b))]:
        assert got.dtype == want.dtype and got.tolist() == want.tolist()
