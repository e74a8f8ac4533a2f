"""Valid programs that argument checks must keep accepting, and the words of their refusals:
each case runs on tapegrad and, where installed, on PyTorch, with the same result."""

import numpy as np
import pytest

import tapegrad as tg
from tests.op_checks import needs_torch, torch

LIBS = ["tapegrad", pytest.param("torch", marks=needs_torch)]


def lib(name):
    return tg if name == "tapegrad" else torch


@pytest.mark.parametrize("name", LIBS)
@pytest.mark.parametrize("f", ["dropout2d", "dropout3d"])
@pytest.mark.parametrize("shape", [(), (3,)])
def test_feature_dropout_p1_zeroes_inputs_of_any_rank(name, f, shape):
    L = lib(name)
    x = L.full(shape, 2.0, dtype=L.float64, requires_grad=True)
    y = getattr(L.nn.functional, f)(x, p=1.0, training=True)
    assert y.shape == x.shape and not y.detach().numpy().any()
    y.sum().backward()
    assert x.grad.shape == x.shape and not x.grad.numpy().any()


def _scatter(L, op, x, i, s):
    if op == "scatter":
        return x.scatter(0, i, s)
    if op == "scatter_add":
        return x.scatter_add(0, i, s)
    return x.scatter_reduce(0, i, s, op)


@pytest.mark.parametrize("name", LIBS)
@pytest.mark.parametrize("op", ["scatter", "scatter_add", "sum", "mean", "amax"])
@pytest.mark.parametrize("xs,ishape,ss", [((3,), (1,), ()), ((), (1,), (1,)), ((), (), ()),
                                          ((2,), (), ()), ((), (1,), ())])
def test_scatter_takes_a_0d_tensor_as_one_element(name, op, xs, ishape, ss):
    """A 0-d input, index or src counts as a 1-element one (PyTorch's ensure_nonempty)."""
    L = lib(name)
    x = L.tensor(np.arange(1.0, 1.0 + np.prod(xs)).reshape(xs), requires_grad=True)
    s = L.tensor(np.arange(10.0, 10.0 + np.prod(ss)).reshape(ss), requires_grad=True)
    i = L.tensor(np.ones(ishape, np.int64) * (xs == (3,)))
    y = _scatter(L, op, x, i, s)
    x0, s0 = x.detach().numpy().reshape(-1), s.detach().numpy().reshape(-1)
    k = int(i.numpy().reshape(-1)[0])
    want = x0.copy()
    want[k] = {"scatter": s0[0], "scatter_add": x0[k] + s0[0], "sum": x0[k] + s0[0],
               "mean": (x0[k] + s0[0]) / 2, "amax": max(x0[k], s0[0])}[op]
    assert y.shape == x.shape
    np.testing.assert_allclose(y.detach().numpy().reshape(-1), want)
    (y * L.tensor(np.arange(2.0, 2.0 + np.prod(xs)).reshape(xs))).sum().backward()
    assert x.grad.shape == x.shape and s.grad.shape == s.shape
    gs = np.zeros(s0.size)
    gs[0] = {"scatter": 1.0, "scatter_add": 1.0, "sum": 1.0, "mean": 0.5,
             "amax": float(s0[0] >= x0[k])}[op] * (2.0 + k)
    np.testing.assert_allclose(s.grad.numpy().reshape(-1), gs)


@pytest.mark.parametrize("name", LIBS)
@pytest.mark.parametrize("call,exc,words", [
    (lambda L: L.ones(3).scatter_add(0, L.tensor([1, 2]), L.tensor(5.0)), RuntimeError,
     "Expected index \\[2\\] to be no larger than self \\[3\\] apart from dimension 0 and to be "
     "no larger size than src \\[\\]"),
    (lambda L: L.ones(()).scatter(0, L.tensor([[0]]), L.ones(1, 1)), RuntimeError,
     "Index tensor must have the same number of dimensions as self tensor"),
    (lambda L: L.ones(3, 2).scatter(0, L.tensor([[1, 0]]), L.ones(2)), IndexError,
     "Dimension out of range \\(expected to be in range of \\[-1, 0\\], but got 1\\)"),
    (lambda L: L.ones(3, 2).scatter(0, L.tensor([[1, 0]]), L.tensor(5.0)), RuntimeError,
     "Index tensor must have the same number of dimensions as src tensor")])
def test_scatter_shape_errors_with_0d_tensors(name, call, exc, words):
    L = lib(name)
    with pytest.raises(exc, match=f"^{words}$"):
        call(L)


class Foo:
    pass


@pytest.mark.parametrize("name", LIBS)
@pytest.mark.parametrize("call,exc,words", [
    (lambda L: L.ones(3).requires_grad_(L.tensor(True)), TypeError,
     "requires_grad_(): argument 'requires_grad' (position 1) must be bool, not Tensor"),
    (lambda L: L.ones(3).requires_grad_(Foo()), TypeError,
     "requires_grad_(): argument 'requires_grad' (position 1) must be bool, not Foo"),
    (lambda L: L.ones(3).requires_grad_(np.True_), TypeError,
     "requires_grad_(): argument 'requires_grad' (position 1) must be bool, not numpy.bool"),
    (lambda L: setattr(L.ones(3), "data", Foo()), TypeError,
     "Variable data has to be a tensor, but got Foo"),
    (lambda L: L.zeros_like(Foo()), TypeError,
     "zeros_like(): argument 'input' (position 1) must be Tensor, not Foo"),
    (lambda L: L.zeros_like(np.float64(1.0)), TypeError,
     "zeros_like(): argument 'input' (position 1) must be Tensor, not numpy.float64"),
    (lambda L: L.zeros(2, np.float64(2.0)), TypeError,
     "zeros(): argument 'size' failed to unpack the object at pos 2 with error \"type must be "
     "tuple of ints,but got numpy.float64\""),
    (lambda L: L.zeros(Foo()), TypeError,
     "zeros(): argument 'size' (position 1) must be tuple of ints, not Foo"),
    (lambda L: L.ones(3, 4)[np.float64(1.0)], IndexError,
     "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid "
     "indices (got numpy.float64)"),
    (lambda L: L.ones(3, 4)[0, Foo()], IndexError,
     "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid "
     "indices (got Foo)"),
    (lambda L: L.ones(3, 4)[0, "a"], TypeError, "new(): invalid data type 'str'"),
    (lambda L: L.ones(3, 4).__setitem__((0, "a"), 1.0), TypeError,
     "new(): invalid data type 'str'"),
    (lambda L: L.ones(3).index_add(0, L.tensor([0]), Foo()), TypeError,
     "index_add(): argument 'source' (position 3) must be Tensor, not Foo")])
def test_type_names_in_messages_are_pythons(name, call, exc, words):
    """PyTorch names a value's type as Python does: numpy.float64, but Foo for a class
    written in Python (its own Tensor too)."""
    L = lib(name)
    with pytest.raises(exc, match="^" + words.replace("(", "\\(").replace(")", "\\)")
                       .replace("[", "\\[").replace(".", "\\.") + "$"):
        call(L)


@pytest.mark.parametrize("name", LIBS)
@pytest.mark.parametrize("pool", ["max_pool1d", "avg_pool1d", "max_pool2d", "avg_pool2d",
                                  "max_pool3d", "avg_pool3d"])
def test_pools_take_numpy_integer_arguments(name, pool):
    L = lib(name)
    nd = int(pool[-2])
    x = L.tensor(np.arange(5.0 ** nd).reshape((1, 1) + (5,) * nd), requires_grad=True)
    y = getattr(L.nn.functional, pool)(x, np.int64(3), np.int64(2), np.int64(1))
    assert tuple(y.shape) == (1, 1) + (3,) * nd
    y.sum().backward()
    want = getattr(L.nn.functional, pool)(x.detach(), 3, 2, 1)
    np.testing.assert_allclose(y.detach().numpy(), want.numpy())


_BOOL_WORDS = {"relu": (RuntimeError, "Boolean inputs not supported for relu"),
               "hardtanh": (RuntimeError, "Bool inputs not supported for hardtanh")}
_BOOL_WORDS["relu6"] = _BOOL_WORDS["hardtanh"]


@pytest.mark.parametrize("name", LIBS)
@pytest.mark.parametrize("f,kernel", [
    ("relu", None), ("relu6", None), ("hardtanh", None), ("leaky_relu", "leaky_relu_cpu"),
    ("elu", "elu_cpu"), ("celu", "elu_cpu"), ("selu", "elu_cpu"), ("gelu", "GeluKernelImpl"),
    ("silu", "silu_cpu"), ("softplus", "softplus_cpu"), ("mish", "mish_cpu"),
    ("hardswish", "hardswish_cpu"), ("hardsigmoid", "hardsigmoid_cpu"),
    ("logsigmoid", "log_sigmoid_cpu"), ("hardshrink", "hardshrink_cpu"), ("glu", "glu_cpu"),
    ("rrelu", "leaky_relu_cpu"), ("relu_", None), ("Tensor.relu", None),
    ("Tensor.relu_", None)])
def test_activations_refuse_bool_input(name, f, kernel):
    L = lib(name)
    x = L.tensor([True, False, True, False])
    if f.startswith("Tensor."):
        call = getattr(x, f[7:])
    else:
        call = getattr(L, f) if f == "relu_" else getattr(L.nn.functional, f)
    exc, words = _BOOL_WORDS.get(f.rstrip("_").replace("Tensor.", ""),
                                 (NotImplementedError, f'"{kernel}" not implemented for \'Bool\''))
    with pytest.raises(exc, match=f"^{words}$"):
        call() if f.startswith("Tensor.") else call(x)
    with pytest.raises(exc, match=f"^{words}$"):  # (a 0-d tensor for the methods, 2-D else)
        getattr(x[0], f[7:])() if f.startswith("Tensor.") else call(x[0].reshape(1, 1)
                                                                         .repeat(1, 2))


@pytest.mark.parametrize("name", LIBS)
def test_activations_keep_integer_and_float_input(name):
    L = lib(name)
    F = L.nn.functional
    assert F.relu(L.tensor([-2, 3])).tolist() == [0, 3]
    assert F.hardtanh(L.tensor([-2, 3])).tolist() == [-1, 1]
    assert L.tensor([-2.0, 3.0]).relu_().tolist() == [0.0, 3.0]
    np.testing.assert_allclose(F.silu(L.tensor([1.0], dtype=L.float64)).numpy(),
                               [1.0 / (1.0 + np.exp(-1.0))])


@pytest.mark.parametrize("name", LIBS)
@pytest.mark.parametrize("steps,shown", [(2.5, "float"), (3.0, "float"), (True, "bool"),
                                         (np.float64(3.0), "numpy.float64"), ("3", "str")])
def test_linspace_refuses_steps_that_are_not_integers(name, steps, shown):
    L = lib(name)
    with pytest.raises(TypeError) as e:
        L.linspace(0, 1, steps)
    lines = str(e.value).split("\n")
    assert lines[0] == ("linspace() received an invalid combination of arguments - got (int, "
                        f"int, {shown}), but expected one of:")
    assert [line.split(" start,")[0] for line in lines[1:5]] == [
        " * (Tensor", " * (Number", " * (Tensor", " * (Number"]
    assert all("end, int steps, *, Tensor out = None" in line for line in lines[1:5])


@pytest.mark.parametrize("name", LIBS)
def test_linspace_takes_integer_steps_of_any_kind(name):
    L = lib(name)
    for steps in (3, np.int64(3), L.tensor(3)):
        np.testing.assert_allclose(L.linspace(0, 1, steps, dtype=L.float64).numpy(),
                                   [0.0, 0.5, 1.0])
