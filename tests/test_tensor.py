"""Tensor construction, attributes, printing and leaf/requires_grad rules, detach and .data."""

import warnings

import numpy as np
import pytest

import tapegrad as tg


def test_dtypes_follow_numpy():
    assert tg.tensor(2.0).dtype == np.float64
    assert tg.tensor([1, 2]).dtype == np.int64
    assert tg.tensor([True]).dtype == np.bool_
    assert tg.tensor(np.array([1.0], np.float32)).dtype == np.float32
    assert tg.tensor([1, 2.0]).dtype == np.float64
    assert tg.float32 == np.float32 and tg.float64 == np.float64 and tg.int64 == np.int64
    assert tg.bool == np.bool_


def test_attributes():
    t = tg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert t.shape == (2, 3) and t.ndim == 2 and t.dim() == 2 and t.numel() == 6
    assert t.size() == (2, 3) and t.size(1) == 3 and t.size(-1) == 3
    assert t.device == "cpu" and len(t) == 2
    assert t.T.shape == (3, 2)
    assert t.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    assert tg.tensor(3.5).item() == 3.5
    with pytest.raises(RuntimeError, match="cannot be converted to Scalar"):
        t.item()


def test_factories():
    assert tg.zeros(2, 3).shape == (2, 3) and tg.ones((2,)).tolist() == [1.0, 1.0]
    assert tg.full((2,), 7.0).tolist() == [7.0, 7.0]
    assert tg.arange(4).tolist() == [0, 1, 2, 3] and tg.arange(4).dtype == np.int64
    assert tg.arange(0.0, 1.0, 0.5).tolist() == [0.0, 0.5]
    assert tg.linspace(0, 1, 3).tolist() == [0.0, 0.5, 1.0]
    assert tg.eye(2).tolist() == [[1.0, 0.0], [0.0, 1.0]]
    tg.manual_seed(0)
    a = tg.randn(3)
    tg.manual_seed(0)
    assert tg.randn(3).tolist() == a.tolist()
    assert tg.rand(2, 2).shape == (2, 2)
    x = tg.ones(2, requires_grad=True)
    assert not tg.zeros_like(x).requires_grad
    assert tg.ones_like(x, requires_grad=True).requires_grad
    assert tg.empty(3).shape == (3,)


def test_factories_ignore_grad_mode():
    with tg.no_grad():
        a = tg.ones(2, requires_grad=True)
    assert a.requires_grad and a.is_leaf
    (a * 2).sum().backward()
    assert a.grad.tolist() == [2.0, 2.0]


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(RuntimeError, match="Only Tensors of floating point and complex dtype"):
        tg.tensor(1, requires_grad=True)
    with pytest.raises(RuntimeError, match="Only Tensors of floating point and complex dtype"):
        tg.tensor([True], requires_grad=True)
    with pytest.raises(RuntimeError, match="only Tensors of floating point dtype can require"):
        tg.tensor([1, 2]).requires_grad_()
    t = tg.tensor([1, 2])
    with pytest.raises(RuntimeError, match="only Tensors of floating point and complex dtype"):
        t.requires_grad = True
    t.requires_grad_(False)


def test_leaf_and_nonleaf_flags():
    x = tg.tensor(2.0, requires_grad=True)
    assert x.is_leaf and x.grad_fn is None and x.grad is None
    c = tg.tensor(3.0)
    assert c.is_leaf and not c.requires_grad
    y = x * x
    assert not y.is_leaf and y.requires_grad
    assert type(y.grad_fn).__name__ == "MulBackward0" and y.grad_fn.name() == "MulBackward0"
    z = c * 2
    assert z.is_leaf and not z.requires_grad and z.grad_fn is None
    assert not (x > 1).requires_grad and (x > 1).dtype == np.bool_
    assert not x.argmax().requires_grad


def test_requires_grad_rules():
    x = tg.tensor(2.0, requires_grad=True)
    y = x * x
    with pytest.raises(RuntimeError, match="you can only change requires_grad flags of leaf"):
        y.requires_grad_(False)
    assert y.requires_grad_(True) is y
    with pytest.raises(RuntimeError, match="you can only change requires_grad flags of leaf"):
        y.requires_grad = True
    w = tg.tensor(2.0)
    assert w.requires_grad_() is w and w.requires_grad
    v = tg.tensor(2.0)
    v.requires_grad = True
    (v * v).backward()
    assert v.grad.item() == 4.0
    v.requires_grad_(False)
    assert v.grad.item() == 4.0


def test_no_grad_result_can_become_leaf():
    x = tg.tensor(2.0, requires_grad=True)
    with tg.no_grad():
        b = x * 2
    assert not b.requires_grad and b.is_leaf and b.grad_fn is None
    b.requires_grad_()
    assert b.requires_grad and b.is_leaf


def test_repr_like_pytorch():
    assert repr(tg.tensor(2.0, requires_grad=True)) == "tensor(2., requires_grad=True)"
    x = tg.tensor(2.0, requires_grad=True)
    assert repr(x * x) == "tensor(4., grad_fn=<MulBackward0>)"
    assert repr((x * x).detach()) == "tensor(4.)"
    assert repr(tg.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(tg.tensor([2.0, 0.2, 0.02])) == "tensor([2.0000, 0.2000, 0.0200])"
    assert repr(tg.tensor(np.exp(2.0) * 2)) == "tensor(14.7781)"
    assert repr(tg.tensor([1, 2])) == "tensor([1, 2])"
    assert "dtype=float32" in repr(tg.tensor([1.0], dtype=np.float32))


def test_numpy_refuses_tensors_that_require_grad():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    msg = "Can't call numpy\\(\\) on Tensor that requires grad. Use tensor.detach\\(\\).numpy\\(\\)"
    with pytest.raises(RuntimeError, match=msg):
        x.numpy()
    with pytest.raises(RuntimeError, match=msg):
        np.asarray(x)
    assert x.detach().numpy().tolist() == [1.0, 2.0]
    assert x.tolist() == [1.0, 2.0]



def test_numpy_of_a_tensor_that_requires_grad_works_under_no_grad():
    # a custom Function's forward runs under no_grad and may compute in NumPy, as PyTorch's
    # "Extending torch.func with autograd.Function" tutorial does with x.cpu().numpy()
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    with tg.no_grad():
        assert x.numpy().tolist() == [1.0, 2.0]
        assert np.asarray(x).tolist() == [1.0, 2.0]

    class Double(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return tg.tensor(x.numpy() * 2)

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    y = Double.apply(x)
    y.sum().backward()
    assert y.tolist() == [2.0, 4.0] and x.grad.tolist() == [2.0, 2.0]

def test_numpy_shares_memory():
    a = np.array([1.0, 2.0])
    t = tg.from_numpy(a)
    t.numpy()[0] = 5.0
    assert a[0] == 5.0
    assert tg.as_tensor(a).numpy() is a


def test_float_conversion_warns_for_requires_grad():
    x = tg.tensor(2.0, requires_grad=True)
    with pytest.warns(UserWarning, match="Converting a tensor with requires_grad=True to a scalar"):
        assert float(x) == 2.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert x.item() == 2.0


def test_copy_construct_warns():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.warns(UserWarning, match="To copy construct from a tensor"):
        y = tg.tensor(x)
    assert y.is_leaf and not y.requires_grad


def test_detach_shares_storage_and_version():
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    d = x.detach()
    assert not d.requires_grad and d.is_leaf and d.grad_fn is None
    assert d.data_ptr() == x.data_ptr()
    with tg.no_grad():
        d.fill_(100.0)
    assert x.tolist() == [100.0, 100.0, 100.0]
    assert x._version == d._version == 1


def test_data_shares_storage_not_version():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    dat = x.data
    assert not dat.requires_grad and dat.is_leaf
    dat.fill_(50.0)
    assert x.tolist() == [50.0, 50.0] and x._version == 0


def test_detach_inplace():
    x = tg.tensor(2.0, requires_grad=True)
    z = x * 2
    assert z.detach_() is z
    assert not z.requires_grad and z.is_leaf and z.grad_fn is None


def test_fill_and_zero_on_leaf():
    w = tg.tensor([3.0, 4.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used"):
        w.fill_(1.0)
    assert w.tolist() == [3.0, 4.0]
    with tg.no_grad():
        w.fill_(1.0)
    assert w.requires_grad and w.is_leaf
    (w * w).sum().backward()
    assert w.grad.tolist() == [2.0, 2.0]
    with tg.no_grad():
        w.zero_()
    assert w.tolist() == [0.0, 0.0]


def test_grad_assignment_checks():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    x.grad = tg.ones(2)
    with pytest.raises(RuntimeError, match="attempting to assign a gradient of size"):
        x.grad = tg.ones(3)
    with pytest.raises(TypeError, match="assigned grad expected to be a Tensor or None"):
        x.grad = [1, 2]


def test_clone_and_dtype_conversions():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    c = x.clone()
    assert not c.is_leaf and c.grad_fn.name() == "CloneBackward0"
    f = x.float()
    assert f.dtype == np.float32 and f.requires_grad
    assert not x.long().requires_grad and x.long().dtype == np.int64
    (f * 2).sum().backward()
    assert x.grad.dtype == np.float64 and x.grad.tolist() == [2.0, 2.0]


def test_device_argument():
    assert tg.tensor([1.0], device="cpu").device == "cpu"
    if tg.cuda.is_available():  # numba-cuda and a GPU, or its simulator (tests/cuda/conftest)
        assert tg.tensor([1.0], device="cuda").device == "cuda:0"
    else:
        with pytest.raises(RuntimeError, match="cuda"):
            tg.tensor([1.0], device="cuda")


def test_bool_and_index_conversions():
    assert bool(tg.tensor(1.0)) and int(tg.tensor(3)) == 3
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(tg.tensor([1.0, 2.0]))
    assert [v.item() for v in tg.tensor([1.0, 2.0])] == [1.0, 2.0]
