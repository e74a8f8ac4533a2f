"""``tensor([t1, t2])`` (and ``as_tensor``) converts each tensor as Python's float() does, as
PyTorch: a tensor of more than one element raises PyTorch's ValueError."""
import pytest

import tapegrad as tg


@pytest.mark.parametrize("make", [
    lambda L: [L.ones(2), L.ones(2)], lambda L: [L.ones(2), 3.0], lambda L: [L.ones(0)],
    lambda L: [[L.ones(2)]], lambda L: (L.zeros(2, 2),)])
@pytest.mark.parametrize("ctor", ["tensor", "as_tensor"])
def test_multi_element_tensors_raise_torchs_value_error(make, ctor):
    torch = pytest.importorskip("torch")
    msg = "only one element tensors can be converted to Python scalars"
    with pytest.raises(ValueError, match=f"^{msg}$"):
        getattr(torch, ctor)(make(torch))
    with pytest.raises(ValueError, match=f"^{msg}$"):
        getattr(tg, ctor)(make(tg))


def test_one_element_tensors_become_values():
    t = tg.tensor([tg.tensor(1.5), tg.ones(1) * 2, [tg.tensor([3.0])][0]])
    assert t.tolist() == [1.5, 2.0, 3.0]
    assert tg.tensor([tg.tensor(1), tg.tensor([2])]).dtype == tg.int64


def test_as_tensor_of_one_element_tensors_takes_their_values():
    torch = pytest.importorskip("torch")
    for make in (lambda L: [L.tensor(1), L.tensor([2])], lambda L: [L.tensor(True)],
                 lambda L: [[L.tensor(1.5)], [2]]):
        got, want = tg.as_tensor(make(tg)), torch.as_tensor(make(torch))
        assert got.tolist() == want.tolist() and tuple(got.shape) == tuple(want.shape)
        assert str(got.dtype) == str(want.dtype).replace("torch.", "").replace("float32",
                                                                                "float64")
