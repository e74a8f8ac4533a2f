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
