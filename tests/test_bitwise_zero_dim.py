"""Bitwise ops of a dimensioned tensor with a 0-d one: PyTorch's result dtype (the 0-d tensor
gives way to the dimensioned one of its category: int8 & tensor(3) is int8), both orders."""

import operator

import pytest

import tapegrad as tg

PAIRS = [("int8", "int64"), ("bool", "int64"), ("int32", "int8"), ("uint8", "int8"),
         ("int64", "bool"), ("int16", "uint8")]
OPS = [operator.and_, operator.or_, operator.xor, operator.lshift, operator.rshift]
CASES = [(f, dims, zero) for f in OPS for dims, zero in PAIRS  # (no shifts of bool tensors)
         if not ("bool" in (dims, zero) and f in (operator.lshift, operator.rshift))]


@pytest.mark.parametrize("f,dims,zero", CASES, ids=lambda v: getattr(v, "__name__", v))
def test_zero_dim_operand_gives_way(f, dims, zero):
    torch = pytest.importorskip("torch")
    a = torch.tensor([1, 2, 5], dtype=getattr(torch, dims))
    b = torch.tensor(1 if zero == "bool" else 3, dtype=getattr(torch, zero))
    ta, tb = tg.tensor(a.numpy()), tg.tensor(b.numpy())
    for got, want in ((f(ta, tb), f(a, b)), (f(tb, ta), f(b, a))):
        assert str(got.dtype) == str(want.dtype).removeprefix("torch.")
        assert got.tolist() == want.tolist()


SHIFTS = [(f, shapes) for f in (operator.lshift, operator.rshift, operator.ilshift,
                                 operator.irshift)
          for shapes in (((3,), (3,)), ((3,), ()), ((), (3,)), ((3,), None))
          if not (shapes == ((), (3,)) and f.__name__.startswith("i"))]  # (a shape error)


@pytest.mark.parametrize("f,shapes", SHIFTS, ids=str)
def test_shift_of_bools_is_refused(f, shapes):
    """PyTorch has no shift kernel for bool by bool (NumPy shifts them as int8)."""
    torch = pytest.importorskip("torch")
    sa, sb = shapes
    results = []
    for lib in (torch, tg):
        a = lib.tensor([True, False, True]) if sa else lib.tensor(True)
        b = True if sb is None else lib.tensor([True, True, False]) if sb else lib.tensor(True)
        with pytest.raises(NotImplementedError) as info:
            f(a, b)
        results.append(str(info.value))
    assert results[1] == results[0]
    a = tg.tensor([True, False])  # a bool tensor shifted by integers is still taken
    assert (a << tg.tensor([1, 2])).tolist() == (torch.tensor([True, False])
                                                  << torch.tensor([1, 2])).tolist()
