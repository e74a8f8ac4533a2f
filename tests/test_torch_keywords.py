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
    "pow": lambda m, x: m.pow(input=x, exponent=2),
    "x.pow": lambda m, x: x.pow(exponent=x),
    "sum": lambda m, x: m.sum(input=x, dim=1, keepdim=True),
    "argmax": lambda m, x: m.argmax(input=x, dim=0),
    "unsqueeze": lambda m, x: m.unsqueeze(input=x, dim=0),
    "reshape": lambda m, x: m.reshape(input=x, shape=(3, 2)),
    "x.reshape": lambda m, x: x.reshape(shape=(3, 2)),
    "x.view": lambda m, x: x.view(size=(6,)),
    "permute": lambda m, x: m.permute(input=x, dims=(1, 0)),
    "x.permute": lambda m, x: x.permute(dims=[1, 0]),
    "transpose": lambda m, x: m.transpose(input=x, dim0=0, dim1=1),
    "flatten": lambda m, x: m.flatten(input=x),
    "flip": lambda m, x: m.flip(input=x, dims=(0,)),
    "broadcast_to": lambda m, x: m.broadcast_to(input=x, size=(2, 2, 3)),
    "x.expand": lambda m, x: x.expand(size=(4, 2, 3)),
    "sign": lambda m, x: m.sign(input=x - 3),
    "logical_not": lambda m, x: m.logical_not(input=x > 3),
    "arange": lambda m, x: m.arange(end=5),
    "arange_start": lambda m, x: m.arange(start=1, end=7, step=2),
    "matmul": lambda m, x: m.matmul(input=x, other=x.T),
    "x.matmul": lambda m, x: x.matmul(other=x.T),
    "dot": lambda m, x: m.dot(input=x[0], tensor=x[1]),
    "outer": lambda m, x: m.outer(input=x[0], vec2=x[1]),
    "x.repeat": lambda m, x: x.repeat(repeats=(2, 1)),
    "clamp": lambda m, x: m.clamp(input=x, min=2.0, max=5.0),
    "where": lambda m, x: m.where(condition=x > 3, input=x, other=x * 0),
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


def test_split_size_keyword():
    x = tg.arange(5.0)
    assert [p.tolist() for p in x.split(split_size=2)] == [[0.0, 1.0], [2.0, 3.0], [4.0]]
    assert [p.shape for p in x.split(split_size=[1, 4], dim=0)] == [(1,), (4,)]
    assert [p.shape for p in tg.split(x, 3)] == [(3,), (2,)]  # (positional, as before)
    with pytest.raises(TypeError, match=r"multiple values for argument 'split_size'"):
        x.split(2, split_size=2)
    with pytest.raises(TypeError, match=r"missing 1 required positional argument: 'split_size'"):
        x.split()


def test_shape_keywords_twice_refused_as_torch():
    x = tg.zeros(2, 3)
    with pytest.raises(TypeError, match=r"reshape\(\) got multiple values for argument 'shape'"):
        x.reshape(3, 2, shape=(6,))
    with pytest.raises(TypeError, match=r"permute\(\) got multiple values for argument 'dims'"):
        x.permute(1, 0, dims=(1, 0))
    with pytest.raises(TypeError, match=r"expand\(\) got multiple values for argument 'size'"):
        x.expand(2, 3, size=(2, 3))
    with pytest.raises(TypeError, match=r"repeat\(\) got multiple values for argument 'repeats'"):
        x.repeat(2, 1, repeats=(2, 1))
    with pytest.raises(TypeError, match=r"arange\(\) missing 1 required positional argument"):
        tg.arange()


def test_keyword_forms_are_differentiable():
    x = tg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = tg.sum(input=x.pow(exponent=3).permute(dims=(1, 0)).reshape(shape=(4,)))
    assert y.item() == 100.0
    y.backward()
    assert x.grad.tolist() == [[3.0, 12.0], [27.0, 48.0]]


def test_keyword_forms_under_compile():
    # tg.compile's tracer reads the arguments by their names: the keyword forms trace as the
    # positional ones (no eager fallback)
    def f(x):
        y = tg.mul(input=x, other=x).pow(exponent=2) + tg.pow(input=x, exponent=3) + \
            tg.where(condition=x > 1, input=x, other=x * 0) + tg.matmul(input=x, other=x.T)[0, 0]
        return tg.sum(input=y.permute(dims=(1, 0)).reshape(shape=(6,)) * tg.exp(input=x).flatten())

    x = tg.tensor([[1.0, 2.0, 3.0], [0.5, 0.25, 2.0]])
    g = tg.compile(f, fullgraph=True)
    want = f(x).item()
    for _ in range(3):
        assert g(x).item() == pytest.approx(want, rel=1e-14)
