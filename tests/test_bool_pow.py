"""``**`` with bool operands as PyTorch: a bool tensor to a Python bool stays bool (x ** True
is x, x ** False all True); a bool base with a bool tensor exponent has no kernel."""
import pytest

import tapegrad as tg

MSG = "\"pow\" not implemented for 'Bool'"


def test_bool_tensor_to_a_bool_is_bool():
    b = tg.tensor([True, False])
    for r, want in [(b ** True, [True, False]), (b ** False, [True, True]),
                    (tg.pow(b, True), [True, False]), (b.clone().pow_(True), [True, False])]:
        assert r.dtype == tg.bool and r.tolist() == want
    assert (b ** 2).dtype == tg.int64 and (2 ** b).tolist() == [2, 1]


@pytest.mark.parametrize("case", ["tensors", "view", "zero_d_base", "number_base"])
def test_bool_to_a_bool_tensor_raises(case):
    b = tg.tensor([True, False])
    f = {"tensors": lambda: b ** b, "view": lambda: b[::-1] ** b,
         "zero_d_base": lambda: tg.tensor(True) ** b, "number_base": lambda: True ** b}[case]
    with pytest.raises(NotImplementedError, match=MSG):
        f()


def test_matches_torch():
    torch = pytest.importorskip("torch")
    for L_cases in [(lambda L: L.tensor([True, False]) ** True),
                    (lambda L: L.tensor([True, False]) ** False),
                    (lambda L: L.tensor([True, False]).pow_(True))]:
        mine, theirs = L_cases(tg), L_cases(torch)
        assert mine.tolist() == theirs.tolist() and theirs.dtype == torch.bool == \
            (torch.bool if mine.dtype == tg.bool else None)
    for f in [lambda L: L.tensor([True]) ** L.tensor([False]), lambda L: True ** L.tensor([True])]:
        with pytest.raises(NotImplementedError) as theirs:
            f(torch)
        with pytest.raises(NotImplementedError) as mine:
            f(tg)
        assert str(mine.value) == str(theirs.value)
