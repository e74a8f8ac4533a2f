"""``tensor([t1, t2])`` converts each tensor as Python's float() does, as PyTorch: a tensor of
more than one element raises PyTorch's ValueError."""
import pytest

import tapegrad as tg


@pytest.mark.parametrize("make", [
    lambda L: [L.ones(2), L.ones(2)], lambda L: [L.ones(2), 3.0], lambda L: [L.ones(0)],
    lambda L: [[L.ones(2)]], lambda L: (L.zeros(2, 2),)])
def test_multi_element_tensors_raise_torchs_value_error(make):
    torch = pytest.importorskip("torch")
    msg = "only one element tensors can be converted to Python scalars"
    with pytest.raises(ValueError, match=f"^{msg}$"):
        torch.tensor(make(torch))
    with pytest.raises(ValueError, match=f"^{msg}$"):
        tg.tensor(make(tg))


def test_one_element_tensors_become_values():
    t = tg.tensor([tg.tensor(1.5), tg.ones(1) * 2, [tg.tensor([3.0])][0]])
    assert t.tolist() == [1.5, 2.0, 3.0]
    assert tg.tensor([tg.tensor(1), tg.tensor([2])]).dtype == tg.int64
