"""unflatten with more than one -1 raises PyTorch's size-inference error, before the sizes'
product is checked (also for an empty dim)."""

import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("shape", [(2, 6, 3), (2, 0, 3)])
@pytest.mark.parametrize("sizes", [(-1, -1), (4, -1, -1), (0, -1, -1), (-1, 3, -1)])
def test_two_inferred_sizes(shape, sizes):
    with pytest.raises(RuntimeError) as theirs:
        torch.ones(*shape).unflatten(1, sizes)
    with pytest.raises(RuntimeError) as ours:
        tg.ones(*shape).unflatten(1, sizes)
    assert str(theirs.value).startswith(str(ours.value))
    assert str(ours.value) == "unflatten got an unexpected error:\nonly one dimension can be inferred"


def test_one_inferred_size_as_torch():
    for sizes in [(2, -1), (-1, 3), (6, -1)]:
        assert tuple(tg.ones(2, 6, 3).unflatten(1, sizes).shape) == \
            tuple(torch.ones(2, 6, 3).unflatten(1, sizes).shape)
