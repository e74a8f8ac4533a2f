"""The captured-tensor error of grad/jvp names the in-place op as PyTorch does, for ops that
tapegrad runs through generic wrappers (random fills, ``inplace=True`` activations) and ops
whose overload depends on a scalar or tensor operand."""

import re

import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

OPS = {
    "uniform_": lambda L, c, x: c.uniform_(),
    "normal_": lambda L, c, x: c.normal_(),
    "bernoulli_": lambda L, c, x: c.bernoulli_(),
    "relu inplace": lambda L, c, x: L.nn.functional.relu(c, inplace=True),
    "ReLU(inplace=True)": lambda L, c, x: L.nn.ReLU(inplace=True)(c),
    "leaky_relu inplace": lambda L, c, x: L.nn.functional.leaky_relu(c, inplace=True),
    "masked_fill_ scalar": lambda L, c, x: c.masked_fill_(c > 0, 1.0),
    "masked_fill_ tensor": lambda L, c, x: c.masked_fill_(c > 0, L.tensor(1.0)),
    "lerp_ scalar": lambda L, c, x: c.lerp_(x, 0.5),
    "lerp_ tensor": lambda L, c, x: c.lerp_(x, x),
    "scatter_ src": lambda L, c, x: c.scatter_(0, L.tensor([0]), x[:1]),
    "scatter_ value": lambda L, c, x: c.scatter_(0, L.tensor([0]), 2.0),
}


def _op_in_error(L, op):
    c = L.ones(3)

    def f(x):
        op(L, c, x)
        return (x * x).sum()

    with pytest.raises(RuntimeError, match="would mutate a captured Tensor") as info:
        L.func.grad(f)(L.ones(3))
    assert c.tolist() == [1.0, 1.0, 1.0]
    return re.search(r"in-place operation \((\S+)\)", str(info.value)).group(1)


@pytest.mark.parametrize("name", list(OPS))
def test_op_named_as_torch(name):
    assert _op_in_error(tg, OPS[name]) == _op_in_error(torch, OPS[name])
