"""In-place ops and torch.can_cast: a cast is refused only towards a lower category
(bool < integer < float < complex); within integers any width and signedness is allowed."""
import numpy as np
import pytest

import tapegrad as tg

INTS = ["int8", "uint8", "int16", "int32", "int64"]


@pytest.mark.parametrize("src", INTS)
@pytest.mark.parametrize("dst", INTS)
def test_integer_in_place_accepts_any_integer_operand(dst, src):
    a = tg.tensor([3, 200, 7], dtype=getattr(tg, dst)) if dst == "uint8" else \
        tg.tensor([3, -2, 7], dtype=getattr(tg, dst))
    b = tg.tensor([2, 3, 4], dtype=getattr(tg, src))
    expect = (a.numpy().astype(np.int64) + b.numpy()).astype(a.dtype)  # wraps like C
    a.add_(b)
    assert a.dtype == getattr(tg, dst) and a.tolist() == expect.tolist()
    a.mul_(b)
    assert a.tolist() == (expect.astype(np.int64) * b.numpy()).astype(a.dtype).tolist()


@pytest.mark.parametrize("src,dst,names", [("float32", "int64", ("Float", "Long")),
                                           ("int16", "bool", ("Short", "Bool")),
                                           ("complex64", "float64", ("ComplexDouble", "Double"))])
def test_in_place_to_a_lower_category_raises(src, dst, names):
    a = tg.tensor([1, 0, 1], dtype=getattr(tg, dst))
    with pytest.raises(RuntimeError, match=f"result type {names[0]} can't be cast to the "
                                           f"desired output type {names[1]}"):
        a.add_(tg.tensor([1, 2, 3], dtype=getattr(tg, src)))


def test_can_cast_matches_torch():
    torch = pytest.importorskip("torch")
    names = INTS + ["bool", "float16", "float32", "float64", "complex64", "complex128"]
    for f in names:
        for t in names:
            assert tg.can_cast(getattr(tg, f), getattr(tg, t)) == \
                torch.can_cast(getattr(torch, f), getattr(torch, t)), (f, t)
