"""PyTorch's legacy constructors: ``tg.Tensor(2, 3)``, ``tg.Tensor([1, 2])`` and the typed
``tg.FloatTensor``/``tg.LongTensor``/... (constructors, ``isinstance`` checks, ``x.type(...)``)."""

import numpy as np
import pytest

import tapegrad as tg

TYPES = ("FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor", "ShortTensor",
         "CharTensor", "ByteTensor", "BoolTensor")


def test_tensor_sizes_and_data_in_the_default_dtype():
    t = tg.Tensor(2, 3)
    assert t.shape == (2, 3) and t.dtype == tg.get_default_dtype()
    assert t.tolist() == [[0.0] * 3] * 2  # (PyTorch leaves the memory uninitialised)
    assert tg.Tensor([1, 2]).tolist() == [1.0, 2.0]
    assert tg.Tensor([1, 2]).dtype == tg.get_default_dtype()
    assert tg.Tensor((2, 3)).tolist() == [2.0, 3.0]  # a tuple is data, a Size is sizes
    assert tg.Tensor(tg.Size([2, 1])).shape == (2, 1)
    assert tg.Tensor().shape == (0,)
    assert tg.Tensor(np.int64(3)).shape == (3,)
    assert tg.Tensor([[1, 2]], dtype=tg.int32).dtype == tg.int32  # (tapegrad's own keyword)
    prev = tg.get_default_dtype()
    try:
        tg.set_default_dtype(tg.float32)
        assert tg.Tensor(2).dtype == tg.float32 and tg.Tensor([True]).dtype == tg.float32
    finally:
        tg.set_default_dtype(prev)


def test_tensor_of_a_tensor_shares_its_storage():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = tg.Tensor(x)
    assert y is not x and not y.requires_grad and type(y) is tg.Tensor
    with tg.no_grad():
        y[0] = 5.0
    assert x.tolist() == [5.0, 2.0]
    assert tg.Tensor(tg.tensor([1, 2])).dtype == tg.int64  # its own dtype


def test_tensor_constructor_errors():
    with pytest.raises(TypeError, match=r"new\(\): data must be a sequence \(got float\)"):
        tg.Tensor(2.5)
    with pytest.raises(TypeError, match=r"data must be a sequence \(got numpy.float64\)"):
        tg.Tensor(np.float64(2.0))
    with pytest.raises(TypeError, match=r"new\(\): invalid data type 'str'"):
        tg.Tensor("a")
    with pytest.raises(TypeError, match=r"invalid combination of arguments - got \(float, int\)"):
        tg.Tensor(2.0, 3)
    with pytest.raises(TypeError, match=r"failed to unpack the object at pos 2"):
        tg.Tensor(2, [1])
    with pytest.raises(RuntimeError, match=r"negative dimension -1: \[2, -1\]"):
        tg.Tensor(2, -1)


def test_tensor_stays_the_class():
    class Sub(tg.Tensor):
        pass

    x = tg.ones(2)
    assert isinstance(x, tg.Tensor) and issubclass(tg.nn.Parameter, tg.Tensor)
    assert isinstance(x.as_subclass(Sub), Sub)
    assert isinstance(tg.nn.Parameter(tg.ones(2)), tg.Tensor)


def test_typed_constructors():
    assert tg.FloatTensor([1, 2]).dtype == tg.float32
    assert tg.FloatTensor(2, 3).shape == (2, 3)
    assert tg.LongTensor([1.7, 2]).tolist() == [1, 2]
    assert tg.IntTensor([1]).dtype == tg.int32
    assert tg.BoolTensor([1, 0]).tolist() == [True, False]
    assert tg.DoubleTensor([1]).dtype == tg.float64
    assert type(tg.FloatTensor([1.0])) is tg.Tensor
    x = tg.FloatTensor([1.0, 2.0])
    assert tg.FloatTensor(x).tolist() == [1.0, 2.0]
    with pytest.raises(TypeError, match=r"expected TensorOptions\(dtype=long int.*got "
                                        r"TensorOptions\(dtype=float,"):
        tg.LongTensor(x)


def test_typed_isinstance_and_type():
    x = tg.tensor([[1.5, 2.0]], dtype=tg.float32)
    assert isinstance(x, tg.FloatTensor) and not isinstance(x, tg.DoubleTensor)
    assert isinstance(tg.tensor([1]), tg.LongTensor) and not isinstance([1], tg.LongTensor)
    assert not issubclass(tg.FloatTensor, tg.Tensor)
    assert x.type(tg.LongTensor).tolist() == [[1, 2]]
    assert x.type(tg.DoubleTensor).dtype == tg.float64
    assert tg.FloatTensor.dtype == tg.float32 and repr(tg.FloatTensor) == \
        "<class 'tapegrad.FloatTensor'>"


@pytest.mark.parametrize("name", TYPES)
def test_typed_as_torch(name):
    torch = pytest.importorskip("torch")
    data = [[1.5, 2.0], [0.0, 3.25]]
    want, got = getattr(torch, name)(data), getattr(tg, name)(data)
    assert str(want.dtype).replace("torch.", "") == str(got.dtype)
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    assert getattr(torch, name)(2, 3).shape == getattr(tg, name)(2, 3).shape
    for dtype in ("float32", "float64", "int64", "bool"):
        t, g = torch.zeros(2, dtype=getattr(torch, dtype)), tg.zeros(2, dtype=getattr(tg, dtype))
        assert isinstance(t, getattr(torch, name)) == isinstance(g, getattr(tg, name))
        assert str(t.type(getattr(torch, name)).dtype).replace("torch.", "") == \
            str(g.type(getattr(tg, name)).dtype)


def test_tensor_as_torch():
    torch = pytest.importorskip("torch")
    for args in ((2, 3), ([1, 2],), ((4, 5),), ([[1], [2]],), ()):
        want, got = torch.Tensor(*args), tg.Tensor(*args)
        assert tuple(want.shape) == got.shape
        if not (len(args) == 2):  # (sizes: uninitialised memory in PyTorch)
            np.testing.assert_array_equal(got.numpy(), want.numpy())
