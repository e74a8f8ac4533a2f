"""Bad input: NaN/inf, empty, strided and read-only arrays, wrong types, failures in user code.

Everything either works (and gives PyTorch's numbers) or raises a clear Python exception; no
input reachable from the public API crashes the interpreter.
"""

import re
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import tapegrad as tg

SPECIAL = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -2.0, 1e308])

UNARY = ["exp", "log", "sqrt", "tanh", "sin", "cos", "sigmoid", "abs", "relu", "log1p", "expm1"]
BINARY_SPECIAL = SPECIAL[:-1]  # 1e308: see test_div_gradient_near_overflow_like_torch


@pytest.mark.parametrize("name", UNARY)
def test_nan_inf_propagate_like_torch_unary(torch, name):
    x = tg.tensor(SPECIAL, requires_grad=True)
    tx = torch.tensor(SPECIAL, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        y = getattr(tg, name)(x)
        y.sum().backward()
    ty = getattr(torch, name)(tx)
    ty.sum().backward()
    _same(y.detach().numpy(), ty.detach().numpy())
    _same(x.grad.numpy(), tx.grad.numpy())


def _same(got, expect):
    """Equal up to libm rounding, with NaN and infinities in the same places."""
    np.testing.assert_allclose(got, expect, rtol=4e-16, atol=0, equal_nan=True)


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "pow", "maximum", "minimum"])
def test_nan_inf_propagate_like_torch_binary(torch, op):
    a = np.repeat(BINARY_SPECIAL, len(BINARY_SPECIAL))
    b = np.tile(BINARY_SPECIAL, len(BINARY_SPECIAL))
    if op == "pow":
        a = np.abs(a)  # negative bases with fractional exponents: NaN in both, not the point
    x, y = tg.tensor(a, requires_grad=True), tg.tensor(b, requires_grad=True)
    tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out = getattr(tg, op)(x, y)
        out.sum().backward()
    tout = getattr(torch, op)(tx, ty)
    tout.sum().backward()
    _same(out.detach().numpy(), tout.detach().numpy())
    _same(x.grad.numpy(), tx.grad.numpy())
    _same(y.grad.numpy(), ty.grad.numpy())


def test_div_gradient_near_overflow_like_torch(torch):
    x = tg.tensor([np.inf, 1e308], requires_grad=True)
    y = tg.tensor([1e308, 1e308], requires_grad=True)
    (x / y).sum().backward()
    tx = torch.tensor([np.inf, 1e308], dtype=torch.float64, requires_grad=True)
    ty = torch.tensor([1e308, 1e308], dtype=torch.float64, requires_grad=True)
    (tx / ty).sum().backward()
    _same(x.grad.numpy(), tx.grad.numpy())
    _same(y.grad.numpy(), ty.grad.numpy())


def test_nan_in_an_unrelated_branch_does_not_leak():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    bad = tg.log(x - 5.0)  # NaN values, never used by the loss
    loss = (x * 3.0).sum()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        loss.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])
    assert np.isnan(bad.detach().numpy()).all()


# ---- empty, strided, read-only -------------------------------------------------------------

def test_zero_size_tensors():
    b = tg.ones(0, requires_grad=True)
    b.sum().backward()  # an empty sum has a zero-size gradient
    assert b.grad.shape == (0,) and b.grad.dtype == np.float64
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar"):
        (tg.ones(0, requires_grad=True) * 2).backward()
    m = tg.zeros((0, 3), requires_grad=True)
    w = tg.ones((3, 2), requires_grad=True)
    (m @ w).sum().backward()
    assert m.grad.shape == (0, 3)
    np.testing.assert_array_equal(w.grad.numpy(), np.zeros((3, 2)))
    e = tg.zeros((2, 0), requires_grad=True)
    (e.reshape(0, 2).exp() * 2).sum().backward()
    assert e.grad.shape == (2, 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert np.isnan(tg.ones(0).mean().item())  # PyTorch: nan


@pytest.mark.parametrize("make", [
    lambda a: a[::-1], lambda a: a.T, lambda a: a[:, ::-2], lambda a: a[::2, 1:],
    lambda a: np.asfortranarray(a),
])
@pytest.mark.parametrize("ctor", ["tensor", "from_numpy", "as_tensor"])
def test_noncontiguous_and_negative_stride_inputs(make, ctor):
    base = np.arange(12.0).reshape(4, 3) / 7.0
    view = make(base)
    expect = np.ascontiguousarray(view)
    x = getattr(tg, ctor)(view)
    np.testing.assert_array_equal(x.numpy(), expect)
    x.requires_grad_()
    w = tg.tensor(np.linspace(-1, 1, expect.shape[1]), requires_grad=True)
    y = (tg.sin(x) * w).sum() + (x @ w).sum() + x[1:].sum()
    y.backward()
    gx = np.cos(expect) * w.detach().numpy() + w.detach().numpy()
    gx[1:] += 1
    np.testing.assert_allclose(x.grad.numpy(), gx, rtol=1e-13, atol=1e-15)
    assert x.grad.numpy().flags.writeable
    np.testing.assert_allclose(w.grad.numpy(), np.sin(expect).sum(0) + expect.sum(0), rtol=1e-13)
    np.testing.assert_array_equal(base, np.arange(12.0).reshape(4, 3) / 7.0)  # untouched


def test_shared_memory_is_kept_for_strided_views():
    base = np.arange(6.0)
    x = tg.from_numpy(base[::-2])
    base[5] = 100.0
    assert x.numpy()[0] == 100.0


@pytest.mark.parametrize("make", [
    lambda: np.broadcast_to(np.arange(3.0), (4, 3)),
    lambda: np.frombuffer(np.arange(12.0).tobytes()).reshape(4, 3),
])
def test_read_only_arrays(make):
    ro = make()
    assert not ro.flags.writeable
    for x in (tg.tensor(ro), tg.from_numpy(ro), tg.as_tensor(ro)):
        x.requires_grad_()
        (x * x).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), 2 * np.asarray(ro))
        x.grad.zero_()  # the gradient owns writable memory
    shared = tg.from_numpy(ro)
    before = np.array(ro)
    with pytest.raises((ValueError, RuntimeError)):
        with tg.no_grad():
            shared += 1.0
    np.testing.assert_array_equal(ro, before)


# ---- wrong types ----------------------------------------------------------------------------

OBJECT_MSG = "can't convert np.ndarray of type numpy.object_"


@pytest.mark.parametrize("ctor", [tg.tensor, tg.as_tensor, tg.from_numpy])
def test_object_arrays_raise_type_error(ctor):
    with pytest.raises(TypeError, match=OBJECT_MSG):
        ctor(np.array([1.0, "a"], dtype=object))
    with pytest.raises(TypeError, match=OBJECT_MSG):
        ctor(np.array([1.0, 2.0], dtype=object))


@pytest.mark.parametrize("data", ["abc", ["a", "b"], np.array(["x"]), b"raw"])
def test_strings_raise_type_error(data):
    with pytest.raises(TypeError):
        tg.tensor(data)
    with pytest.raises(TypeError):
        tg.as_tensor(data)


@pytest.mark.parametrize("arr", [np.zeros(2, dtype=[("a", "f8")]), np.array(["2020-01-01"],
                                 dtype="datetime64[D]"), np.zeros(2, dtype=np.longdouble)])
def test_unsupported_dtypes_raise_type_error(arr):
    for ctor in (tg.tensor, tg.as_tensor, tg.from_numpy):
        with pytest.raises(TypeError, match="can't convert np.ndarray"):
            ctor(arr)


@pytest.mark.parametrize("other", [np.array([1.0, 2.0], dtype=object), np.array(["a", "b"]),
                                   "a", None, object()])
def test_ops_with_unconvertible_operands_raise_type_error(other):
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError):
        x + other
    with pytest.raises(TypeError):
        other * x




def test_complex_values_are_kept_not_made_real():
    # never a real result with the imaginary part dropped (NumPy's ComplexWarning)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert tg.tensor(np.array([1 + 2j, 3j])).dtype == np.complex128
        assert tg.tensor([1.0, 2j], requires_grad=True).dtype == np.complex128
        x = tg.tensor([1.0, 2.0], requires_grad=True)
        for op in (lambda: x * (1 + 0.2j), lambda: (1 + 0.2j) + x, lambda: tg.mul(x, 2j),
                   lambda: x + np.array([1j, 0]), lambda: np.multiply(x, np.array([1j, 0])),
                   lambda: x ** 1j):
            assert op().dtype.kind == "c"
        assert np.add(x.detach(), np.array([1j, 0])).dtype.kind == "c"
        assert np.allclose(tg.grad(lambda z: np.abs(z))(3 + 4j), 0.6 + 0.8j)  # PyTorch's
        with pytest.raises(RuntimeError, match="real scalar outputs"):
            tg.grad(lambda x: x * (1 + 0.2j))(1.0)


def test_tensor_mixed_with_a_list():
    """NumPy semantics (documented difference: PyTorch raises TypeError for Tensor + list):
    the list is a constant, the gradient flows to the tensor only."""
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * [3.0, 4.0] + [1.0, 1.0]).sum()
    y.backward()
    assert y.item() == 13.0
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 4.0])
    p = tg.tensor(2.0, requires_grad=True)
    q = tg.tensor([p, 3.0])  # values are copied, history is not (as torch.tensor does)
    assert q.is_leaf and not q.requires_grad and q.tolist() == [2.0, 3.0]


@pytest.mark.parametrize("call", [
    lambda: tg.tensor(1.0, device="cuda"),
    lambda: tg.zeros(2, device="cuda:0"),
    lambda: tg.ones(2).cuda(),
    lambda: tg.ones(2).to("cuda"),
    lambda: tg.ones(2).to(device="cuda"),
])
def test_cuda_device_gives_a_clear_error(call):
    if tg.cuda.is_available():  # numba-cuda and a GPU, or its simulator (tests/cuda/conftest)
        assert call().device == "cuda"
    else:
        with pytest.raises(RuntimeError, match="cuda"):
            call()


# ---- failures in user code ------------------------------------------------------------------

def test_failing_hook_leaves_the_library_usable():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = x * x

    def bad(g):
        raise ValueError("boom")

    h = y.register_hook(bad)
    with pytest.raises(ValueError, match="boom"):
        y.sum().backward()
    assert tg.is_grad_enabled()
    h.remove()
    z = (x * x).sum()
    z.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])
    x.grad = None
    leaf_hook = x.register_hook(bad)
    with pytest.raises(ValueError):
        (x * 3.0).sum().backward()
    leaf_hook.remove()
    (x * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])


def test_failing_custom_backward_leaves_the_library_usable():
    Function = getattr(tg.autograd, "Function", None)
    if Function is None:
        pytest.skip("tg.autograd.Function not available yet (hooks cover this path above)")

    class Bad(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            raise ArithmeticError("custom backward failed")

    x = tg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ArithmeticError):
        Bad.apply(x).sum().backward()
    assert tg.is_grad_enabled()
    (x.exp()).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp([1.0, 2.0]))


HOSTILE = r'''
import os, sys, warnings
import numpy as np
import tapegrad as tg
warnings.simplefilter("ignore")
x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
m = tg.randn(3, 3, requires_grad=True)
calls = [
    lambda: tg.zeros(-1), lambda: tg.zeros(2 ** 62), lambda: tg.ones(2 ** 31, 2 ** 31),
    lambda: x[np.array([10 ** 12])], lambda: x[np.array([-4])], lambda: x[5],
    lambda: x[np.array([0.5])], lambda: x[[True]], lambda: x[np.array([2 ** 63 - 1])],
    lambda: x.sum(dim=5), lambda: x.reshape(4), lambda: x.reshape(-1, -1),
    lambda: m @ x[:2], lambda: m.transpose(0, 7), lambda: m.permute(0, 0),
    lambda: x.backward(tg.ones(4)), lambda: x.backward(tg.ones(2, 2)),
    lambda: (x * 2).backward(), lambda: (x * 2).backward([1.0, 2.0, 3.0]),
    lambda: (x * 2).backward(tg.tensor([1.0, 2.0, 3.0], dtype=tg.float32)),
    lambda: (x * 2).backward(tg.tensor([1, 2, 3])),
    lambda: tg.autograd.grad(x.sum(), [tg.ones(3)]), lambda: tg.autograd.grad(x.sum(), []),
    lambda: tg.autograd.grad([x.sum()], [x], grad_outputs=[tg.ones(5)]),
    lambda: tg.tensor([[1.0, 2.0], [3.0]]), lambda: tg.tensor(np.zeros(2, dtype="V8")),
    lambda: tg.from_numpy(np.zeros((2, 2))[:, :, None][::-1, ::-1]).sum(),
    lambda: x.expand(2, 4), lambda: x.broadcast_to((2, 2)), lambda: x.flip(3),
    lambda: x.squeeze(4), lambda: x.unsqueeze(9), lambda: tg.where(x > 1, x, tg.ones(4)),
    lambda: x.clamp(min=tg.ones(5)), lambda: tg.tensor(float("nan")).item(),
    lambda: tg.ones(3, dtype=np.int64).requires_grad_(), lambda: x.sum().sum(dim=0),
    lambda: x.grad_fn, lambda: x[None, ..., None, ...], lambda: x.view(3, 0),
]
for c in calls:
    try:
        c()
    except Exception:
        pass
x.grad = None
y = (x * x).sum()
y.backward()
try:
    y.backward()
except RuntimeError:
    pass
print("survived", x.grad.tolist())
'''


def test_hostile_calls_never_crash_the_interpreter():
    """In a subprocess without NUMBA_BOUNDSCHECK, as users run it: exceptions only."""
    env = {k: v for k, v in __import__("os").environ.items() if k != "NUMBA_BOUNDSCHECK"}
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(HOSTILE)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "survived [2.0, 4.0, 6.0]" in proc.stdout


# PyTorch's exception type and words for bad arguments (the calls are library-neutral)
PYTORCH_ERRORS = {
    "float of several elements": (lambda L: float(L.tensor([1.0, 2.0])), ValueError,
                                  "only one element tensors can be converted to Python scalars"),
    "int of several elements": (lambda L: int(L.tensor([1.0, 2.0])), ValueError,
                                "only one element tensors can be converted to Python scalars"),
    "sum over a repeated dim": (lambda L: L.ones(2, 3).sum(dim=(1, -1)), RuntimeError,
                                "dim 1 appears multiple times in the list of dims"),
    "mean over a repeated dim": (lambda L: L.ones(2, 3).mean((0, 0)), RuntimeError,
                                 "dim 0 appears multiple times in the list of dims"),
    "flip of a repeated dim": (lambda L: L.ones(2, 3).flip(0, 0), RuntimeError,
                               "dim 0 appears multiple times in the list of dims"),
    "arange with the wrong sign": (lambda L: L.arange(0, 5, -1), RuntimeError,
                                   "upper bound and lower bound inconsistent with step sign"),
    "arange with a zero step": (lambda L: L.arange(0, 5, 0), RuntimeError,
                                "step must be nonzero"),
    "where of a float condition": (lambda L: L.where(L.tensor([1.0, 0.0]), L.ones(2), L.ones(2)),
                                   RuntimeError, "where expected condition to be a boolean "
                                   "tensor, but got a tensor with dtype "),
    "zeros of a negative size": (lambda L: L.zeros(2, -3), RuntimeError,
                                 "zeros: Dimension size must be non-negative."),
    "ones of a negative size": (lambda L: L.ones((-1, 2)), RuntimeError,
                                "Trying to create tensor with negative dimension -1: [-1, 2]"),
    "eye of a negative size": (lambda L: L.eye(-2), RuntimeError,
                               "n must be greater or equal to 0, got -2"),
    "eye of a negative width": (lambda L: L.eye(2, -1), RuntimeError,
                                "m must be greater or equal to 0, got -1"),
    "index_select out of range": (lambda L: L.index_select(L.ones(2), 0, L.tensor([2])),
                                  IndexError, "index out of range in self"),
    "movedim of a repeated dim": (lambda L: L.movedim(L.ones(2, 3), (0, -2), (1, 0)),
                                  RuntimeError, "movedim: repeated dim in `source` ([0, -2])"),
    "embedding of -1": (lambda L: L.nn.functional.embedding(L.tensor([-1]), L.ones(4, 3)),
                        IndexError, "index out of range in self"),
    "index_select of -1": (lambda L: L.index_select(L.ones(2), 0, L.tensor([-1])), IndexError,
                           "index out of range in self"),
    "vector_norm of a string order": (lambda L: L.linalg.vector_norm(L.ones(3), "fro"), TypeError,
                                      "linalg_vector_norm(): argument 'ord' (position 2) must "
                                      "be Number, not str"),
}


@pytest.mark.parametrize("name", sorted(PYTORCH_ERRORS))
def test_bad_arguments_get_pytorchs_error(name):
    call, kind, words = PYTORCH_ERRORS[name]
    with pytest.raises(kind) as ours:
        call(tg)
    assert str(ours.value).startswith(words)
    torch = pytest.importorskip("torch")
    with pytest.raises(kind) as theirs:
        call(torch)
    assert str(theirs.value).startswith(words)


def test_flip_takes_dims_as_arguments_or_a_tuple():
    x = tg.arange(6.0).reshape(2, 3)
    want = np.arange(6.0).reshape(2, 3)[::-1, ::-1]
    for y in (x.flip(0, 1), x.flip((0, 1)), tg.flip(x, (0, 1)), tg.flip(x, [1, 0])):
        np.testing.assert_array_equal(y.numpy(), want)
    np.testing.assert_array_equal(x.flip(1).numpy(), want[::-1])


MATMUL_ERRORS = [
    ((4,), (5,), "inconsistent tensor size, expected tensor [4] and src [5] to have the same "
     "number of elements, but got 4 and 5 elements respectively"),
    ((2, 3), (4,), "size mismatch, got input (2), mat (2x3), vec (4)"),
    ((2, 3, 4), (5,), "size mismatch, got input (6), mat (6x4), vec (5)"),
    ((4,), (5, 6), "mat1 and mat2 shapes cannot be multiplied (1x4 and 5x6)"),
    ((2, 3, 4), (5, 4), "mat1 and mat2 shapes cannot be multiplied (6x4 and 5x4)"),
    ((2, 3, 4), (3, 4, 2), "The size of tensor a (2) must match the size of tensor b (3) at "
     "non-singleton dimension 0"),
    ((3, 2, 3, 4), (2, 5, 6), "Expected size for first two dimensions of batch2 tensor to be: "
     "[6, 4] but got: [6, 5]."),
    ((5,), (2, 4, 3), "Expected size for first two dimensions of batch2 tensor to be: [2, 5] but "
     "got: [2, 4]."),
]


@pytest.mark.parametrize("xs, ys, message", MATMUL_ERRORS)
def test_matmul_shape_errors_are_pytorchs(xs, ys, message):
    # (as PyTorch's kernels see the operands: a batch times a matrix folded into one matrix;
    # a vector that requires grad would fold the batch it multiplies too: mv's message)
    with pytest.raises(RuntimeError) as info:
        tg.ones(xs) @ tg.ones(ys, requires_grad=True)
    assert str(info.value) == message


@pytest.mark.parametrize("data,error,message", [
    ([[1, 2], [3]], ValueError, "expected sequence of length 2 at dim 1 (got 1)"),
    ([[1.0], [2.0, [3.0]]], ValueError, "expected sequence of length 1 at dim 1 (got 2)"),
    ([[1, 2], 3], TypeError, "not a sequence"),
    ([1, [2]], TypeError, "'list' object cannot be interpreted as an integer"),
    ([[1, 2], [3, None]], RuntimeError, "Could not infer dtype of NoneType"),
    ([1, {}], RuntimeError, "Could not infer dtype of dict"),
])
def test_ragged_or_untyped_nested_data_gets_pytorchs_error(data, error, message):
    with pytest.raises(error, match=re.escape(message)):
        tg.tensor(data)


_BROADCAST_BINARY = [
    ("atan2", lambda L, a, b: L.atan2(a, b)), ("fmod", lambda L, a, b: L.fmod(a, b)),
    ("remainder", lambda L, a, b: L.remainder(a, b)),
    ("logaddexp", lambda L, a, b: L.logaddexp(a, b)), ("fmax", lambda L, a, b: L.fmax(a, b)),
    ("floor_divide", lambda L, a, b: L.floor_divide(a, b)),
    ("xlogy", lambda L, a, b: L.xlogy(a, b)), ("isclose", lambda L, a, b: L.isclose(a, b)),
    ("clamp", lambda L, a, b: L.clamp(a, min=b)),
]


@pytest.mark.parametrize("name,f", _BROADCAST_BINARY)
@pytest.mark.parametrize("sa,sb,message", [
    ((3, 0), (2,), "The size of tensor a (0) must match the size of tensor b (2) at "
                   "non-singleton dimension 1"),
    ((3, 4), (2, 1, 5), "The size of tensor a (4) must match the size of tensor b (5) at "
                        "non-singleton dimension 2"),
])
def test_binary_functions_refuse_shapes_that_do_not_broadcast_in_pytorchs_words(
        name, f, sa, sb, message):
    with pytest.raises(RuntimeError, match=re.escape(message)):
        f(tg, tg.ones(sa), tg.ones(sb))


@pytest.mark.parametrize("name,f", _BROADCAST_BINARY)
def test_binary_functions_refuse_shapes_that_do_not_broadcast_as_torch(name, f):
    torch = pytest.importorskip("torch")
    for lib in (tg, torch):
        with pytest.raises(RuntimeError, match=re.escape(
                "The size of tensor a (0) must match the size of tensor b (2) at "
                "non-singleton dimension 1")):
            f(lib, lib.ones(3, 0), lib.ones(2))


_LERP_HEAVISIDE = [lambda L, a, b: L.lerp(a, b, 0.3), lambda L, a, b: L.heaviside(a, b)]
_NOT_BROADCAST = ("The size of tensor a (0) must match the size of tensor b (2) at non-singleton "
                  "dimension 1")


@pytest.mark.parametrize("f", _LERP_HEAVISIDE)
def test_lerp_and_heaviside_refuse_shapes_that_do_not_broadcast_in_pytorchs_words(f):
    with pytest.raises(RuntimeError, match=re.escape(_NOT_BROADCAST)):
        f(tg, tg.zeros(3, 0), tg.zeros(2))


@pytest.mark.parametrize("f", _LERP_HEAVISIDE)
def test_lerp_and_heaviside_refuse_shapes_that_do_not_broadcast_as_torch(f):
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError, match=re.escape(_NOT_BROADCAST)):
        f(torch, torch.zeros(3, 0), torch.zeros(2))


@pytest.mark.parametrize("values", [np.array([0.5]), np.array(0.5), np.array([True])])
def test_heaviside_refuses_values_of_another_dtype_as_pytorch(values):
    """(tg's promoted them, as NumPy; float32 input and a float64 value gave float64)"""
    message = "^heaviside is not yet implemented for tensors with different dtypes.$"
    for lib in (tg, pytest.importorskip("torch")):
        x = lib.tensor([0.0, 1.0], dtype=lib.float32) if values.dtype != bool else \
            lib.tensor([0, 1])
        with pytest.raises(RuntimeError, match=message):
            lib.heaviside(x, lib.tensor(values))
    x = tg.tensor([0.0, 1.0, -1.0], dtype=tg.float32, requires_grad=True)
    assert tg.heaviside(x, 0.5).dtype == np.float32  # (a number stays weak: it was float64)


@pytest.mark.parametrize("name", ["quantile", "nanquantile"])
def test_quantile_refuses_levels_of_another_dtype_as_pytorch(name):
    """(a float64 q that requires grad beside float32 input was taken, and got a gradient)"""
    message = "^quantile\\(\\) q tensor must be same dtype as the input tensor$"
    for lib in (tg, pytest.importorskip("torch")):
        x = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float32)
        with pytest.raises(RuntimeError, match=message):
            getattr(lib, name)(x, lib.tensor([0.3], dtype=lib.float64, requires_grad=True))
        assert getattr(lib, name)(x, 0.3).dtype == lib.float32  # (a number is not refused)
