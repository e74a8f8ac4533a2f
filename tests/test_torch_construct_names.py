"""asarray, frombuffer, DLPack, range, fill, detach, adjoint, typename: PyTorch's values, memory
sharing, dtypes and errors; fill's and adjoint's gradients by finite differences."""

import warnings

import numpy as np
import pytest

import tapegrad as tg
from tests.conftest import torch_float64_default
from tests.op_checks import check_op, needs_torch, torch


def _error(f):
    try:
        f()
    except Exception as e:  # noqa: BLE001 (the type and words are what is compared)
        return type(e), str(e)
    return None


def test_asarray_shares_numpy_memory_unless_copied():
    a = np.arange(3.0)
    shared, copied = tg.asarray(a), tg.asarray(a, copy=True)
    a[0] = 9.0
    assert shared.tolist() == [9.0, 1.0, 2.0] and copied.tolist() == [0.0, 1.0, 2.0]
    assert tg.asarray(a, dtype=tg.float32).dtype == tg.float32
    with pytest.raises(ValueError, match="can't alias tensor with dtype 'Double' into dtype "
                                         "'Float'"):
        tg.asarray(a, dtype=tg.float32, copy=False)
    with pytest.raises(ValueError, match="can't alias arbitrary sequence"):
        tg.asarray([1, 2], copy=False)


def test_asarray_of_a_tensor_keeps_it_and_its_history():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert tg.asarray(x) is x
    assert "unspecified requires_grad" in str(caught[0].message)
    y = x * 2
    assert tg.asarray(y, requires_grad=False).grad_fn is None
    z = tg.asarray(y, dtype=tg.float32, requires_grad=True)
    z.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]
    copied = tg.asarray(x.detach(), copy=True, requires_grad=True)
    assert copied.is_leaf and copied.requires_grad
    plain = tg.tensor([1.0])
    assert tg.asarray(plain, requires_grad=True) is plain and plain.requires_grad
    with pytest.raises(RuntimeError, match="Only Tensors of floating point"):
        tg.asarray([1, 2], requires_grad=True)


@needs_torch
def test_asarray_against_torch():
    cases = [lambda lib: lib.asarray([1, 2]), lambda lib: lib.asarray([[1.5], [2.0]]),
             lambda lib: lib.asarray(np.float32(2)), lambda lib: lib.asarray(np.arange(4)[::2]),
             lambda lib: lib.asarray(bytearray(range(16)), dtype=lib.int32),
             lambda lib: lib.asarray(np.arange(3.0), dtype=lib.int64)]
    with torch_float64_default(torch):
        pairs = [(f(tg), f(torch)) for f in cases]
    for got, want in pairs:
        assert got.tolist() == want.tolist() and str(got.dtype) == str(want.dtype)[6:]
    x = tg.tensor([1.0])
    assert _error(lambda: tg.asarray(x, dtype=tg.float32, copy=False)) == _error(
        lambda: torch.asarray(torch.tensor([1.0], dtype=torch.float64), dtype=torch.float32,
                              copy=False))
    t = torch.arange(3)
    shared = tg.asarray(t)
    t[0] = 7
    assert shared.tolist() == [7, 1, 2]


@needs_torch
def test_frombuffer_against_torch():
    buf = bytearray(range(16))
    for kw in (dict(dtype="int32"), dict(dtype="int16", count=3, offset=2),
               dict(dtype="uint8", offset=15)):
        got = tg.frombuffer(buf, **{**kw, "dtype": getattr(tg, kw["dtype"])})
        want = torch.frombuffer(buf, **{**kw, "dtype": getattr(torch, kw["dtype"])})
        assert got.tolist() == want.tolist()
    for kw in (dict(count=5), dict(offset=16), dict(offset=-1), dict(count=0)):
        assert _error(lambda: tg.frombuffer(buf, dtype=tg.int32, **kw)) == _error(
            lambda: torch.frombuffer(buf, dtype=torch.int32, **kw))
    assert _error(lambda: tg.frombuffer(buf, dtype=tg.int64, offset=3)) == _error(
        lambda: torch.frombuffer(buf, dtype=torch.int64, offset=3))
    assert _error(lambda: tg.frombuffer([1, 2], dtype=tg.int32)) == _error(
        lambda: torch.frombuffer([1, 2], dtype=torch.int32))


def test_frombuffer_shares_the_buffer():
    buf = bytearray(4)
    t = tg.frombuffer(buf, dtype=tg.uint8)
    t[1] = 5
    assert buf[1] == 5
    assert tg.frombuffer(bytearray(8), dtype=tg.float32, requires_grad=True).requires_grad


def test_dlpack_round_trips_share_memory():
    a = np.arange(4.0)
    t = tg.from_dlpack(a)
    a[0] = 7.0
    assert t.tolist() == [7.0, 1.0, 2.0, 3.0]
    back = tg.from_dlpack(tg.to_dlpack(t))
    t[1] = 8.0
    assert back.tolist() == [7.0, 8.0, 2.0, 3.0]
    assert np.from_dlpack(t).tolist() == back.tolist()
    assert t.__dlpack_device__() == (1, 0)
    with pytest.raises(BufferError, match="Can't export tensors that require gradient"):
        np.from_dlpack(tg.ones(2, requires_grad=True))


@needs_torch
def test_dlpack_with_torch():
    t = torch.arange(3.0)
    mine = tg.from_dlpack(t)
    t[0] = 5.0
    assert mine.tolist() == [5.0, 1.0, 2.0]
    theirs = torch.from_dlpack(mine)
    mine[2] = 4.0
    assert theirs.tolist() == [5.0, 1.0, 4.0]


@needs_torch
def test_range_against_torch():
    for args, kw in [((1, 4), {}), ((0, 1, 0.25), {}), ((4, 1, -1), {}), ((1, 1), {}),
                     ((1, 4), dict(dtype="int64")), ((0, 5, 2), {})]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            got = tg.range(*args, **{k: getattr(tg, v) for k, v in kw.items()})
        assert "torch.range is deprecated" in str(caught[0].message)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            want = torch.range(*args, **{k: getattr(torch, v) for k, v in kw.items()})
            assert _error(lambda: tg.range(1, 0)) == _error(lambda: torch.range(1, 0))
            assert _error(lambda: tg.range(0, 1, 0)) == _error(lambda: torch.range(0, 1, 0))
        np.testing.assert_allclose(got.tolist(), want.tolist())
        assert (got.dtype.kind == "f") == want.dtype.is_floating_point


def test_fill_values_dtype_and_gradient():
    assert tg.fill(tg.tensor([1, 2]), 3.7).tolist() == [3, 3]
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    v = tg.tensor(3.0, requires_grad=True)
    out = tg.fill(x, v)
    out.sum().backward()
    assert out.tolist() == [3.0, 3.0] and x.grad.tolist() == [0.0, 0.0] and v.grad.item() == 2.0
    with pytest.raises(RuntimeError, match="fill_ only supports 0-dimension value tensor but "
                                           "got tensor with 1 dimensions"):
        tg.fill(x, tg.tensor([1.0, 2.0]))
    check_op(lambda x, v: tg.fill(x, v), [np.ones((2, 3)), np.array(0.5)])


def test_detach_and_adjoint():
    x = tg.ones(2, 3, requires_grad=True)
    d = tg.detach(x)
    assert not d.requires_grad and np.shares_memory(d.numpy(), x.detach().numpy())
    z = tg.tensor([[1 + 1j, 2]])
    assert tg.adjoint(z).tolist() == [[1 - 1j], [2 - 0j]] and z.adjoint().shape == (2, 1)
    with pytest.raises(RuntimeError, match=r"tensor.adjoint\(\) is only supported on matrices "
                                           "or batches of matrices. Got 1-D tensor."):
        tg.adjoint(tg.ones(3))
    check_op(tg.adjoint, [np.arange(6.0).reshape(1, 2, 3)])


@needs_torch
def test_typename_against_torch():
    for dtype in ("float32", "float64", "int64", "bool", "complex64", "uint8"):
        assert tg.typename(tg.ones(1, dtype=getattr(tg, dtype))) == torch.typename(
            torch.ones(1, dtype=getattr(torch, dtype)))
    for obj in (3, np.zeros(2), "s", len):
        assert tg.typename(obj) == torch.typename(obj)
    assert tg.typename(tg.nn.Linear(1, 1)) == "tapegrad.nn.linear.Linear"
