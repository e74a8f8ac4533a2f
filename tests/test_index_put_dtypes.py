"""index_put/index_put_ refuse a source of another category (a float into an integer tensor
would be truncated silently; an int into a float tensor), in PyTorch's words; float32 and
float64 mix, as elsewhere in tapegrad."""
import pytest

import tapegrad as tg

MSG = "Index put requires the source and destination dtypes match, got {} for the " \
      "destination and {} for the source."


@pytest.mark.parametrize("dst,src,names", [("int64", "float64", ("Long", "Double")),
                                           ("float64", "int64", ("Double", "Long")),
                                           ("bool", "int64", ("Bool", "Long")),
                                           ("float64", "complex128", ("Double", "ComplexDouble"))])
@pytest.mark.parametrize("accumulate", [False, True])
def test_other_category_refused(dst, src, names, accumulate):
    x = tg.zeros(3, dtype=getattr(tg, dst))
    v = tg.ones(1, dtype=getattr(tg, src))
    with pytest.raises(RuntimeError) as e:
        x.index_put_((tg.tensor([0]),), v, accumulate=accumulate)
    assert str(e.value) == MSG.format(*names)
    assert x.tolist() == tg.zeros(3, dtype=getattr(tg, dst)).tolist()


def test_same_category_writes():
    x = tg.zeros(3)
    x.index_put_((tg.tensor([0, 2]),), tg.tensor([1.5, 2.5], dtype=tg.float32))
    assert x.tolist() == [1.5, 0.0, 2.5] and x.dtype == tg.float64
    i = tg.zeros(3, dtype=tg.int64)
    i.index_put_((tg.tensor([1]),), tg.tensor([7], dtype=tg.int32), accumulate=True)
    assert i.tolist() == [0, 7, 0]
