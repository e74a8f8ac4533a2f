"""Edge cases of ``tg.func.vjp`` and ``tg.func.jvp`` found by comparing with ``torch.func``:
cotangents that require grad, integer arguments and outputs, ``strict`` and PyTorch's
messages (written out, so the checks run without torch; the last test compares them live)."""

import numpy as np
import pytest

import tapegrad as tg

from tests.op_checks import needs_torch, torch


def _f(x):
    return x.sin() * x.sum()


def test_vjp_is_differentiable_in_a_cotangent_that_requires_grad():
    x = tg.tensor([0.5, -1.0, 2.0])
    v = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    _, vjp_fn = tg.func.vjp(_f, x)
    g = vjp_fn(v)[0]
    assert g.requires_grad
    jac = tg.func.jacrev(_f)(x).numpy()
    got = tg.autograd.grad((g ** 2).sum(), v)[0].numpy()
    np.testing.assert_allclose(got, 2 * jac @ jac.T @ v.detach().numpy(), rtol=1e-12)
    with tg.no_grad():
        assert not vjp_fn(v)[0].requires_grad


@needs_torch
def test_vjp_cotangent_gradient_matches_torch():
    def run(lib):
        v = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
        _, vjp_fn = lib.func.vjp(_f, lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64))
        return lib.autograd.grad((vjp_fn(v)[0] ** 3).sum(), v)[0].detach().numpy()

    np.testing.assert_allclose(run(tg), run(torch), rtol=1e-12)


X = [0.5, -1.0, 2.0]


def test_jvp_tangent_of_an_integer_output_is_integer_zeros():
    x = tg.tensor(X)
    _, (t_long, t_bool, t_float) = tg.func.jvp(lambda a: ((a > 0).long(), a > 0, a * 2),
                                               (x,), (x,))
    assert t_long.dtype == tg.int64 and t_bool.dtype == tg.bool
    np.testing.assert_array_equal(t_long.numpy(), [0, 0, 0])
    np.testing.assert_array_equal(t_float.numpy(), 2 * np.array(X))
    assert tg.func.jacfwd(lambda a: (a > 0).long())(x).dtype == tg.int64


def test_jvp_strict_refuses_an_output_independent_of_the_primals():
    x, v = tg.tensor(X), tg.ones(3)
    out, tan = tg.func.jvp(lambda a: a.sin(), (x,), (v,), strict=True)
    np.testing.assert_allclose(tan.numpy(), np.cos(X))
    w = tg.ones(3, requires_grad=True)  # (depends on a tensor requiring grad, not on x)
    for f in [lambda a: tg.ones(2), lambda a: (a * 2, a.detach()), lambda a: w * 2]:
        with pytest.raises(RuntimeError, match="The output of f is independent of the inputs. "
                                               "This is not allowed with strict=True."):
            tg.func.jvp(f, (x,), (v,), strict=True)


@pytest.mark.parametrize("call, error, message", [
    (lambda x: tg.func.jvp(lambda a: a, [x], (x,)), RuntimeError,
     "Expected primals to be a tuple"),
    (lambda x: tg.func.jvp(lambda a: a, (x,), (tg.ones(2),)), RuntimeError,
     "Tensor is of size [3] while the given forward gradient is of size [2]"),
    (lambda x: tg.func.jvp(lambda a: a, (x,), (tg.tensor([1, 2, 3]),)), ValueError,
     "Expected tangent to be floating point or complex, but got: torch.int64"),
    (lambda x: tg.func.jvp(lambda a: a, (tg.tensor([1, 2, 3]),), (x,)), ValueError,
     "Expected primal to be floating point or complex, but got: torch.int64"),
    (lambda x: tg.func.jacfwd(lambda a: a)(tg.tensor([1, 2, 3])), ValueError,
     "Expected primal to be floating point or complex, but got: torch.int64"),
    (lambda x: tg.func.grad(lambda a: a.sum())(tg.tensor([1, 2, 3])), RuntimeError,
     "only Tensors of floating point dtype can require gradients"),
    (lambda x: tg.func.jacrev(lambda a: a * 2)(tg.tensor([1, 2, 3])), RuntimeError,
     "only Tensors of floating point dtype can require gradients"),
    (lambda x: tg.func.vjp(lambda a: (a * 2, (a > 0).long()), x), RuntimeError,
     "vjp(f, ...): All outputs of f must be floating-point or complex Tensors, got Tensor "
     "with dtype torch.int64"),
    (lambda x: tg.func.jacrev(lambda a: (a > 0).long())(x), RuntimeError,
     "All outputs of f must be floating-point or complex Tensors"),
    (lambda x: tg.func.vjp(lambda a: a, x, has_aux=True), RuntimeError,
     "vjp(f, *primals): output of function f should be a tuple: (output, aux)"),
    (lambda x: tg.func.jacfwd(lambda a: a, has_aux=True)(x), RuntimeError,
     "jvp(f, primals, tangents): output of function f should be a tuple: (output, aux)"),
    (lambda x: tg.func.vjp(lambda a: 3.0, x), RuntimeError,
     "vjp(f, *primals): expected f(*primals) to return only tensors, got unsupported type "
     "<class 'float'>"),
    (lambda x: tg.func.jvp(lambda a: None, (x,), (x,)), RuntimeError,
     "jvp(f, primals, tangents): Expected f to be a function that has non-empty output (got "
     "output = [None])"),
    (lambda x: tg.func.linearize(lambda a: a, x)[1](tg.ones(2)), RuntimeError,
     "tangent:0 with shape [2] in flattened pytree doesn't match the shape [3] of the "
     "corresponding primal."),
    (lambda x: tg.func.linearize(lambda a: a, x)[1](tg.ones(3, dtype=tg.float32)), RuntimeError,
     "tangent:0 with dtype torch.float32 in flattened pytree doesn't match the dtype "
     "torch.float64 of the "
     "corresponding primal."),
])
def test_refusals_in_pytorch_words(call, error, message):
    with pytest.raises(error) as info:
        call(tg.tensor(X))
    assert message in str(info.value)


@needs_torch
@pytest.mark.parametrize("call", [
    lambda lib, x: lib.func.jvp(lambda a: a, [x], (x,)),
    lambda lib, x: lib.func.jvp(lambda a: a, (x,), (lib.ones(2, dtype=lib.float64),)),
    lambda lib, x: lib.func.vjp(lambda a: a, x, has_aux=True),
    lambda lib, x: lib.func.jacfwd(lambda a: a, has_aux=True)(x),
    lambda lib, x: lib.func.vjp(lambda a: 3.0, x),
    lambda lib, x: lib.func.jvp(lambda a: None, (x,), (x,)),
    lambda lib, x: lib.func.jvp(lambda a: lib.ones(2), (x,), (x,), strict=True),
    lambda lib, x: lib.func.grad(lambda a: a.sum())(lib.tensor([1, 2, 3])),
])
def test_refusals_match_torch(call):
    def refusal(lib):
        with pytest.raises(Exception) as info:
            call(lib, lib.tensor(X, dtype=lib.float64))
        return type(info.value), str(info.value)

    assert refusal(tg) == refusal(torch)


@pytest.mark.parametrize("argnums, message", [
    (2, "Got argnum=2, but only 2 positional inputs"),
    ((0, -2), "argnums elements must be unique, got (0, 0)"),
    ((), "argnums must be non-empty"),
    ([0, 1], "argnums must be int or Tuple[int, ...], got: <class 'list'>"),
    ((0, 1.0), "argnum must be int, got: <class 'float'>"),
])
@pytest.mark.parametrize("name", ["grad", "jacrev", "jacfwd"])
def test_argnums_refusals(name, argnums, message):
    with pytest.raises(RuntimeError) as info:
        getattr(tg.func, name)(lambda a, b: (a * b).sum(), argnums=argnums)(tg.ones(2),
                                                                           tg.ones(2))
    assert str(info.value) == message


def test_grad_needs_a_zero_dim_output():
    with pytest.raises(RuntimeError, match="to return a scalar Tensor, got tensor with 1 dims"):
        tg.func.grad(lambda a: a.sum().reshape(1))(tg.tensor(X))


def test_empty_containers_have_empty_gradients():
    x = tg.ones(2)
    for empty in ({}, (), []):
        assert tg.func.grad(lambda p: (x * 2).sum())(empty) == empty
    p_grad, x_grad = tg.func.grad(lambda p, y: (y * 2).sum(), argnums=(0, 1))({}, x)
    assert p_grad == {}
    np.testing.assert_array_equal(x_grad.numpy(), [2.0, 2.0])
    assert tg.func.vjp(lambda p: x * 2, {})[1](x) == ({},)
    with pytest.raises(RuntimeError, match="Expected primals to contain at least one Tensor"):
        tg.func.jvp(lambda p: x * 2, ({},), ({},))
