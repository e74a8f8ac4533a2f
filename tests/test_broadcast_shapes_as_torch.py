"""tg.broadcast_shapes as PyTorch's: its checks and words ('Attempting to broadcast a dimension
of length 2 at -1! Mismatching argument at index 1 had (2,); but expected shape should be
broadcastable to [4, 3]', ValueError for a negative length) where tapegrad gave the binary
ops' 'The size of tensor a (3) must match the size of tensor b (2) at non-singleton dimension
1', and a Size (tapegrad returned a tuple); None arguments are skipped as PyTorch skips them."""
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

CASES = [((4, 3), (2,)), ((4, 3), (4, 1, 3)), ((4, 3), (5, 3)), ((2,), (3,)),
         ((4, 3), (3, 4)), (), ((4, -1), (1,)), ((2,), (-1,)), ((-1,), (1,)), ((1,), (-1,)),
         (2, (3, 1)), ([2, 1], [3]), (None, (2,)), ((0,), (1,)), ((0,), (2,)), ((1, 5), 5),
         ((3, 1, 2), (1, 4, 1), (2,)), ((3, 1, 2), (1, 4, 1), (3,))]


def _outcome(L, shapes):
    try:
        r = L.broadcast_shapes(*shapes)
    except (RuntimeError, ValueError) as e:
        return type(e).__name__, str(e)
    return type(r).__name__, tuple(r)


@pytest.mark.parametrize("shapes", CASES, ids=str)
def test_as_torch(shapes):
    assert _outcome(tg, shapes) == _outcome(torch, shapes)


def test_sizes_print_as_given():
    with pytest.raises(RuntimeError, match=r"had tapegrad.Size\(\[2\]\); but expected shape "
                                           r"should be broadcastable to \[4, 3\]$"):
        tg.broadcast_shapes(tg.Size([4, 3]), tg.Size([2]))
