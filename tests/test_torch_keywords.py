"""PyTorch's keyword names for the arguments: ``tg.mul(input=a, other=b)``, ``x.mul(other=b)``,
``tg.zeros(size=(2, 3))``, ``tg.zeros_like(input=x)``, as torch accepts them."""

import numpy as np
import pytest

import tapegrad as tg

A = [[1.5, 2.0, 3.0], [4.0, 5.0, 6.5]]

CALLS = {
    "mul": lambda m, x: m.mul(input=x, other=x + 1),
    "add": lambda m, x: m.add(input=x, other=2.0),
    "maximum": lambda m, x: m.maximum(input=x, other=x * 0 + 3),
    "eq": lambda m, x: m.eq(input=x, other=2.0),
    "lt": lambda m, x: m.lt(input=x, other=x * 0 + 3),
    "exp": lambda m, x: m.exp(input=x),
    "sqrt": lambda m, x: m.sqrt(input=x),
    "relu": lambda m, x: m.relu(input=x - 3),
    "log1p": lambda m, x: m.log1p(input=x),
    "x.mul": lambda m, x: x.mul(other=x),
    "x.gt": lambda m, x: x.gt(other=2.0),
    "x.minimum": lambda m, x: x.minimum(other=x * 0 + 3),
    "zeros": lambda m, x: m.zeros(size=(2, 3)),
    "ones": lambda m, x: m.ones(size=[2]),
    "zeros_like": lambda m, x: m.zeros_like(input=x),
    "full_like": lambda m, x: m.full_like(input=x, fill_value=7.0),
    "ones_like": lambda m, x: m.ones_like(input=x, memory_format=None),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_keywords_as_torch(name):
    torch = pytest.importorskip("torch")
    want = CALLS[name](torch, torch.tensor(A, dtype=torch.float64))
    got = CALLS[name](tg, tg.tensor(A, dtype=tg.float64))
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-15)


def test_keyword_values_and_gradients():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = tg.mul(input=x, other=tg.tensor([3.0, 4.0]))
    assert y.tolist() == [3.0, 8.0]
    x.sub(other=1.0).mul(other=y).sum().backward()  # d/dx (x - 1) * c x = c (2x - 1)
    assert x.grad.tolist() == [3.0, 12.0]
    assert tg.exp(input=tg.tensor([0.0])).tolist() == [1.0]
    assert tg.ge(input=tg.tensor([1, 5]), other=2).tolist() == [False, True]


def test_size_keyword_of_the_factories():
    assert tg.zeros(size=(2, 3)).shape == (2, 3)
    assert tg.empty(size=[4]).shape == (4,)
    assert tg.randn(size=(3, 2)).shape == (3, 2)
    assert tg.rand(size=(5,), dtype=tg.float32).dtype == tg.float32
    assert tg.ones(2, 2).tolist() == [[1.0, 1.0], [1.0, 1.0]]  # (the positional form)
    with pytest.raises(TypeError, match=r"zeros\(\) got multiple values for argument 'size'"):
        tg.zeros(2, size=(2, 3))
    with pytest.raises(TypeError, match=r"randn\(\) got an unexpected keyword argument 'shape'"):
        tg.randn(shape=(2,))


def test_like_keyword_input():
    x = tg.tensor([[1, 2]], dtype=tg.int32)
    assert tg.zeros_like(input=x).tolist() == [[0, 0]]
    assert tg.zeros_like(input=x).dtype == tg.int32
    assert tg.full_like(input=x, fill_value=3).tolist() == [[3, 3]]
    assert tg.randn_like(input=tg.zeros(2, 3)).shape == (2, 3)
    assert tg.rand_like(input=tg.zeros(4)).shape == (4,)
