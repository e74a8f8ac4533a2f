"""Integer ``&``, ``|``, ``^``, ``<<``, ``>>`` of CUDA tensors against the CPU path and PyTorch
(shift counts past the width included), on numba-cuda's simulator (see conftest.py)."""

import operator

import pytest

from conftest import HAS_NUMBA_CUDA

if not HAS_NUMBA_CUDA:
    pytest.skip("numba-cuda is not installed (pip install 'tapegrad[cuda]'); CUDA tensors "
                "are optional", allow_module_level=True)

import tapegrad as tg

OPS = {"and": operator.and_, "or": operator.or_, "xor": operator.xor,
       "lshift": operator.lshift, "rshift": operator.rshift}
SIGNED = ([5, -8, 3, 0, 127, -128], [1, 2, 0, 70, -1, 7])
UNSIGNED = ([5, 8, 3, 0, 127, 128], [1, 2, 0, 70, 9, 7])


@pytest.mark.parametrize("dtype", ["int8", "uint8", "int32", "int64"])
@pytest.mark.parametrize("op", sorted(OPS))
def test_bitwise_matches_cpu_and_torch(op, dtype):
    torch = pytest.importorskip("torch")
    f = OPS[op]
    x, y = UNSIGNED if dtype == "uint8" else SIGNED
    a, b = (tg.tensor(v, dtype=getattr(tg, dtype)) for v in (x, y))
    got = f(a.cuda(), b.cuda())
    cpu = f(a, b)
    want = f(torch.tensor(x, dtype=getattr(torch, dtype)),
             torch.tensor(y, dtype=getattr(torch, dtype)))
    assert got.device.type == "cuda" and got.dtype == cpu.dtype
    assert got.cpu().tolist() == cpu.tolist() == want.tolist()
    with_number = f(a.cuda(), 3)
    assert with_number.dtype == cpu.dtype
    assert with_number.cpu().tolist() == f(torch.tensor(x, dtype=getattr(torch, dtype)),
                                           3).tolist()


def test_bitwise_promotes_and_broadcasts_as_cpu():
    a = tg.tensor([[1], [2]], dtype=tg.int8)
    b = tg.tensor([3, 12])
    for f in OPS.values():
        got, want = f(a.cuda(), b.cuda()), f(a, b)
        assert got.dtype == want.dtype and got.cpu().tolist() == want.tolist()
    got = a.cuda() | tg.tensor(4, device="cuda")  # (a 0-d operand gives way, as PyTorch's)
    assert got.dtype == tg.int8 and got.cpu().tolist() == [[5], [6]]
    mask = tg.tensor([True, False])
    assert (mask.cuda() ^ 1).cpu().tolist() == (mask ^ 1).tolist() == [0, 1]


def test_bitwise_methods_and_in_place():
    a = tg.tensor([6, 5, 12])
    x = a.cuda()
    x &= tg.tensor([3, 3, 3], device="cuda")
    assert x.cpu().tolist() == [2, 1, 0]
    assert tg.bitwise_left_shift(a.cuda(), 2).cpu().tolist() == [24, 20, 48]
    assert a.cuda().bitwise_or(1).cpu().tolist() == [7, 5, 13]


def test_bitwise_mixed_devices_and_floats_refused():
    with pytest.raises(RuntimeError, match="same device"):
        tg.tensor([1], device="cuda") & tg.tensor([1])
    with pytest.raises(NotImplementedError, match="not implemented for 'Double'"):
        tg.tensor([1.0], device="cuda") | tg.tensor([1.0], device="cuda")


@pytest.mark.parametrize("op", ["and", "or", "xor", "lshift", "eq", "gt", "logical_and"])
@pytest.mark.parametrize("dims,zero", [("int8", "int64"), ("int32", "int32"), ("uint8", "bool"),
                                       ("bool", "bool"), ("int64", "int8")])
def test_zero_dim_cpu_operand_is_a_scalar(op, dims, zero):
    """A 0-d CPU tensor beside a CUDA tensor is a scalar operand, as in PyTorch (its 0-d
    promotion rule kept); a dimensioned CPU tensor is still the mixed-device error."""
    torch = pytest.importorskip("torch")
    if op == "lshift" and dims == zero == "bool":
        return  # (no such kernel: tests/test_bitwise_zero_dim.py)
    f = {**OPS, "eq": operator.eq, "gt": operator.gt}.get(op) or getattr(tg, op)
    g = {**OPS, "eq": operator.eq, "gt": operator.gt}.get(op) or getattr(torch, op)
    a = torch.tensor([1, 0, 5], dtype=getattr(torch, dims))
    b = torch.tensor(1 if zero == "bool" else 3, dtype=getattr(torch, zero))
    x, y = tg.tensor(a.numpy()).cuda(), tg.tensor(b.numpy())
    for got, want in ((f(x, y), g(a, b)), (f(y, x), g(b, a))):
        assert got.is_cuda
        assert str(got.dtype) == str(want.dtype).removeprefix("torch.")
        assert got.cpu().tolist() == want.tolist()
    with pytest.raises(RuntimeError, match="same device"):
        f(x, tg.tensor(a.numpy()))


@pytest.mark.parametrize("op,kernel", [("and", "bitwise_and"), ("or", "bitwise_or"),
                                       ("xor", "bitwise_xor"), ("lshift", "lshift"),
                                       ("rshift", "rshift")])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_float_operands_name_the_cuda_kernel(op, kernel, dtype):
    # PyTorch's CUDA message names its CUDA kernel (the CPU one names "<kernel>_cpu")
    torch = pytest.importorskip("torch")
    a = tg.tensor([1.5, 2.0], dtype=getattr(tg, dtype))
    with pytest.raises(NotImplementedError) as cpu_err:
        OPS[op](a, a)
    with pytest.raises(NotImplementedError) as want:
        OPS[op](torch.tensor([1.5, 2.0], dtype=getattr(torch, dtype)),
                torch.tensor([1.5, 2.0], dtype=getattr(torch, dtype)))
    assert str(cpu_err.value) == str(want.value)
    with pytest.raises(NotImplementedError) as got:
        OPS[op](a.cuda(), a.cuda())
    assert str(got.value) == str(want.value).replace(f"{kernel}_cpu", f"{kernel}_cuda")
    assert str(got.value) != str(want.value)
