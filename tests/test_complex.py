"""Complex tensors: creation, promotion, printing, every complex rule against finite differences
(real and imaginary parts perturbed separately) and PyTorch, to second order."""

import numpy as np
import pytest

import tapegrad as tg
from complex_checks import check_complex, rand


def test_creation_and_dtypes():
    z = tg.tensor(1j)
    assert z.dtype == tg.complex128 and z.shape == () and z.is_complex()
    assert tg.tensor(np.array([1 + 2j], np.complex64)).dtype == tg.complex64
    assert tg.tensor([1.0, 2j]).dtype == tg.complex128
    assert tg.tensor(1 + 1j, requires_grad=True).requires_grad
    # (complex128 is the default complex dtype beside float64: not shown, as in PyTorch)
    assert repr(tg.tensor(1 + 2j)) == "tensor(1.+2.j)"
    assert "dtype=complex64" in repr(tg.tensor(np.array([1 + 2j], np.complex64)))


def test_numpy2_promotion():
    f32 = tg.tensor([1.0, 2.0], dtype=tg.float32)
    assert (f32 * 1j).dtype == tg.complex64  # a Python complex is weak (NEP 50)
    assert (1j + f32).dtype == tg.complex64
    assert (tg.tensor([1.0]) * tg.tensor([1j], dtype=tg.complex64)).dtype == tg.complex128
    assert (tg.tensor([1j], dtype=tg.complex64) * 2.0).dtype == tg.complex64


@pytest.mark.parametrize("z, expect", [
    (lambda z: abs(z) ** 2, 2 + 4j), (lambda z: z.real, 1), (lambda z: z.imag, 1j),
    (lambda z: abs(z), (1 + 2j) / abs(1 + 2j)), (lambda z: z.angle(), -0.4 + 0.2j),
    (lambda z: (z * z).real, 2 - 4j),
])
def test_convention_table(z, expect):
    x = tg.tensor(1 + 2j, requires_grad=True)
    z(x).backward()
    assert np.allclose(x.grad.numpy(), expect)


UNARY = {
    "exp": lambda L, z: L.exp(z), "log": lambda L, z: L.log(z), "neg": lambda L, z: -z,
    "sin": lambda L, z: L.sin(z), "cos": lambda L, z: L.cos(z), "tanh": lambda L, z: L.tanh(z),
    "sqrt": lambda L, z: L.sqrt(z), "sigmoid": lambda L, z: L.sigmoid(z),
    "conj": lambda L, z: L.conj(z) * z.exp(), "real": lambda L, z: L.real(z * z),
    "imag": lambda L, z: L.imag(z * z), "abs": lambda L, z: L.abs(z * z),
    "angle": lambda L, z: L.angle(z * z), "pow_number": lambda L, z: z ** 2.5,
    "pow_int": lambda L, z: z ** 3, "rpow_number": lambda L, z: 2.0 ** z,
    "rdiv_number": lambda L, z: 3.0 / z, "complex_number": lambda L, z: (z - 1j) * (2 + 1j),
    "number_ops": lambda L, z: ((z + 2) * 3 - 1) / 4, "rsub": lambda L, z: 1j - z,
    "sum": lambda L, z: (z * z).sum(), "mean": lambda L, z: (z * z).mean(dim=0),
    "reshape": lambda L, z: (z * z).reshape(3, 2), "transpose": lambda L, z: (z * z).t(),
    "index": lambda L, z: (z * z)[1, ::2], "adv_index": lambda L, z: (z * z)[[0, 1, 1], [2, 0, 0]],
    "expand": lambda L, z: (z * z)[:, :1].expand(2, 4), "flip": lambda L, z: L.flip(z * z, (1,)),
    "atan": lambda L, z: L.atan(z), "sinh": lambda L, z: L.sinh(z), "cosh": lambda L, z: L.cosh(z),
    "asinh": lambda L, z: L.asinh(z), "acosh": lambda L, z: L.acosh(z),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary(name):
    check_complex(UNARY[name], [rand((2, 3))])


def test_acosh_left_half_plane():
    """acosh's derivative is 1 / (sqrt(z - 1) sqrt(z + 1)): 1 / sqrt(z^2 - 1), its real
    formula, is the other branch where Re z < 0 (the gradient had the wrong sign there)."""
    z = np.array([-1.2 + 0.8j, -0.7 - 0.3j, 0.3 + 0.4j, 2.0 - 1.0j, -3.0 - 0.5j])
    check_complex(UNARY["acosh"], [z])
    x = tg.tensor(z, requires_grad=True)
    tg.acosh(x).real.sum().backward()
    assert np.allclose(x.grad.numpy(), np.conj(1 / (np.sqrt(z - 1) * np.sqrt(z + 1))))


BINARY = {
    "add": lambda L, a, b: a + b, "sub": lambda L, a, b: a - b, "mul": lambda L, a, b: a * b,
    "div": lambda L, a, b: a / b, "pow": lambda L, a, b: a ** b,
    "broadcast_mul": lambda L, a, b: a * b[0], "matmul": lambda L, a, b: a @ b.t(),
    "matvec": lambda L, a, b: a @ b[0], "where": lambda L, a, b: L.where(a.real > 0, a, b * 2),
}


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary(name):
    check_complex(BINARY[name], [rand((2, 3)), rand((2, 3), seed=1)])


@pytest.mark.parametrize("name", ["add", "mul", "div", "broadcast_mul"])
def test_real_and_complex_operands(name):
    """A real input of a complex op takes the real part of its cotangent (a matrix product of
    a real and a complex tensor raises, as PyTorch's: test_complex_real_products.py)."""
    check_complex(BINARY[name], [rand((2, 3), cplx=False), rand((2, 3), seed=1)])
    check_complex(BINARY[name], [rand((2, 3)), rand((2, 3), cplx=False, seed=1)])


def test_real_times_imaginary_unit():
    check_complex(lambda L, x: (x * 1j).exp(), [rand((3,), cplx=False)])


def test_complex_from_parts_and_casts():
    check_complex(lambda L, a, b: L.complex(a, b) ** 2, [rand((3,), False), rand((3,), False, 1)])
    check_complex(lambda L, x: x.to(L.complex128) * (1 + 1j), [rand((3,), cplx=False)])


def test_complex_output_needs_grad_outputs():
    z = tg.tensor([1 + 1j], requires_grad=True)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for real scalar "
                                           "outputs but got complex128"):
        (z * 2).sum().backward()
    with pytest.raises(RuntimeError, match="real scalar outputs but got complex128"):
        tg.autograd.grad((z * 2).sum(), z)
    with pytest.raises(RuntimeError, match="same dtype"):
        (z * 2).backward(tg.tensor([1.0]))
    (z * 2).backward(tg.tensor([1j]))
    assert np.allclose(z.grad.numpy(), [2j])


def test_grad_of_complex64_leaf_is_complex64():
    z = tg.tensor(np.array([1 + 2j], np.complex64), requires_grad=True)
    (z * z).real.sum().backward()
    assert z.grad.dtype == tg.complex64 and np.allclose(z.grad.numpy(), [2 - 4j])


def test_ops_without_a_complex_rule_refuse():
    z = tg.tensor([1 + 1j, 2j], requires_grad=True)
    for f in (tg.relu, lambda v: tg.maximum(v, v), lambda v: tg.clamp(v, 0, 1)):
        with pytest.raises((TypeError, RuntimeError), match="complex"):
            f(z)


def test_imag_of_real_refused_as_pytorch():
    with pytest.raises(RuntimeError, match="imag is not implemented for tensors with non-complex"):
        tg.tensor([1.0]).imag


def test_numpy_functions_on_complex_tensors():
    z = tg.tensor(rand((3,)), requires_grad=True)
    loss = np.sum(np.abs(np.exp(z) * np.conj(z)) ** 2) + np.real(z).sum() + np.imag(z).sum() + \
        np.angle(z).sum()
    loss.backward()
    zt = z.detach().numpy()

    def f(v):
        return (np.sum(np.abs(np.exp(v) * np.conj(v)) ** 2) + np.real(v).sum() +
                np.imag(v).sum() + np.angle(v).sum())

    h = 1e-6
    num = np.array([(f(zt + h * e) - f(zt - h * e)) / (2 * h) +
                    1j * (f(zt + 1j * h * e) - f(zt - 1j * h * e)) / (2 * h)
                    for e in np.eye(3)])
    assert np.allclose(z.grad.numpy(), num, rtol=1e-5)


def test_gradcheck_catches_a_wrong_complex_rule():
    """The complex gradcheck looks at both parts: a rule missing the conjugate fails."""
    from tapegrad.ops import complex as C

    good = C.RULES["mul"]
    C.RULES["mul"] = lambda ns, g, ins, out: (g * ins[1], g * ins[0])
    try:
        z = tg.tensor(rand((2,)), requires_grad=True)
        assert not tg.autograd.gradcheck(lambda v: v * v, (z,), raise_exception=False)
    finally:
        C.RULES["mul"] = good


def test_hooks_and_retain_grad_on_complex_tensors():
    z = tg.tensor([1 + 1j, 2 - 1j], requires_grad=True)
    w = z * 2
    w.retain_grad()
    w.register_hook(lambda g: g * 1j)
    (w * w).real.sum().backward()
    assert np.allclose(w.grad.numpy(), 2 * np.conj(w.detach().numpy()) * 1j)  # after hooks
    assert np.allclose(z.grad.numpy(), 2 * 2 * np.conj(w.detach().numpy()) * 1j)


def test_func_grad_takes_complex_inputs():
    g = tg.grad(lambda v: (v * v.conj()).real.sum())(tg.tensor([1 + 2j]))
    assert np.allclose(g.numpy(), [2 + 4j])


def test_compile_runs_complex_inputs_eagerly():
    def fn(v):
        return (v * v * 2.0).abs().sum()

    f = tg.compile(fn)
    want = tg.tensor([1 + 2j, 3j], requires_grad=True)
    fn(want).backward()
    with pytest.warns(RuntimeWarning, match="complex tensors are not supported by tg.compile"):
        for _ in range(3):
            z = tg.tensor([1 + 2j, 3j], requires_grad=True)
            f(z).backward()
            assert np.allclose(z.grad.numpy(), want.grad.numpy())


def test_custom_function_with_complex_values():
    class Twice(tg.autograd.Function):
        @staticmethod
        def forward(ctx, z):
            return z * 2.0

        @staticmethod
        def backward(ctx, g):
            return g * 2.0

    z = tg.tensor([1 + 2j, 3j], requires_grad=True)
    (Twice.apply(z) * (1 - 1j)).real.sum().backward()
    assert np.allclose(z.grad.numpy(), 2 * (1 + 1j))


def test_a_complex64_leaf_gets_a_complex64_gradient_under_create_graph():
    b = tg.tensor(np.array([1 + 2j, 3 - 1j], dtype=np.complex64), requires_grad=True)
    y = (b * tg.tensor([0.5, 2.0])).abs().sum()  # promoted to complex128 on the way
    (g,) = tg.autograd.grad(y, b, create_graph=True)
    (plain,) = tg.autograd.grad((b * tg.tensor([0.5, 2.0])).abs().sum(), b)
    assert g.dtype == plain.dtype == np.complex64
    np.testing.assert_allclose(g.detach().numpy(), plain.numpy(), rtol=1e-6)


def test_angle_of_real_tensors_is_pytorchs():
    # pi for x < 0 only: -0.0 has angle 0 (NumPy's arctan2 gives it pi), NaN stays NaN
    x = tg.tensor([-0.0, 0.0, -1.0, float("nan"), -float("inf"), 2.0], requires_grad=True)
    a = tg.angle(x)
    np.testing.assert_array_equal(a.detach().numpy(), [0.0, 0.0, np.pi, np.nan, np.pi, 0.0])
    a.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros(6))
    assert tg.angle(tg.tensor([-1, 0, 2])).dtype == np.float64
    assert tg.angle(tg.tensor(np.array([-0.0], np.float32))).dtype == np.float32
    assert np.angle(tg.tensor(-0.0)).item() == np.angle(-0.0)  # NumPy's, through np.angle


@pytest.mark.parametrize("dtype", [tg.complex64, tg.complex128])
def test_random_complex_values_fill_both_parts(dtype):
    """randn/rand (and their _like forms, normal_, uniform_) of a complex dtype draw both parts,
    as PyTorch's: randn has variance 1 (1/2 per part), rand each part in [0, 1), normal_ and
    uniform_ add the mean or the low end to each part (the imaginary parts were all 0)."""
    tg.manual_seed(0)
    z = tg.randn(20000, dtype=dtype)
    assert z.dtype == dtype and np.allclose([z.real.var().item(), z.imag.var().item()], 0.5,
                                            atol=0.03)
    u = tg.rand_like(z).numpy()
    assert u.dtype == dtype and (u.real >= 0).all() and (u.imag < 1).all()
    assert abs(u.imag.mean() - 0.5) < 0.02 and abs(tg.randn_like(z).imag.var().item() - 0.5) < 0.03
    z.normal_(2.0, 3.0)
    assert np.allclose([z.real.mean().item(), z.imag.mean().item()], 2.0, atol=0.1)
    assert np.allclose([z.real.var().item(), z.imag.var().item()], 4.5, atol=0.3)
    z.uniform_(-1.0, 1.0)
    v = z.numpy()
    assert (v.real >= -1).all() and (v.imag >= -1).all() and v.imag.min() < -0.9


def test_python_conversions_of_complex_scalars():
    """float()/int() of a complex tensor: its real part when the imaginary part is 0, else
    PyTorch's RuntimeError (Python's TypeError came through, also for 1+0j)."""
    assert float(tg.tensor(1.5 + 0j)) == 1.5 and int(tg.tensor(3.7 + 0j)) == 3
    with pytest.raises(RuntimeError, match="^value cannot be converted to type double without "
                                           "overflow$"):
        float(tg.tensor(1 + 1j))
    with pytest.raises(RuntimeError, match="^value cannot be converted to type int64_t without "
                                           "overflow$"):
        int(tg.tensor([1 - 1j]))
    assert complex(tg.tensor(1 + 1j)) == 1 + 1j and bool(tg.tensor(1j))


def test_conj_physical_in_place():
    check_complex(lambda L, z: (lambda w: (w[1:].conj_physical_(), w)[1])(z * z), [rand((3,))])


@pytest.mark.parametrize("args, message", [
    ((np.array([1j]), np.array([1j])), "Expected both inputs to be Half, Float or Double tensors "
     "but got ComplexDouble and ComplexDouble"),
    ((np.array([1]), np.array([1.0])), "Expected both inputs to be Half, Float or Double tensors "
     "but got Long and Double"),
    ((np.array([1.0]), np.array([1.0], np.float32)), "Expected object of scalar type Double but "
     "got scalar type Float for second argument"),
])
@pytest.mark.parametrize("name", ["complex", "polar"])
def test_complex_and_polar_check_their_parts_in_pytorchs_words(name, args, message):
    """(polar of a float and an int tensor computed a value; complex named NumPy's dtypes)"""
    with pytest.raises(RuntimeError) as info:
        getattr(tg, name)(*(tg.tensor(a) for a in args))
    assert str(info.value) == message
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError) as info:
        getattr(torch, name)(*(torch.tensor(a) for a in args))
    assert str(info.value) == message


def test_linspace_and_logspace_with_complex_bounds():
    """A complex bound gives the default complex dtype, as PyTorch (float() of the bound raised
    Python's TypeError); a real dtype= is refused in PyTorch's words."""
    z = tg.linspace(0, 1 + 1j, 3)
    assert z.dtype == tg.complex128 and np.array_equal(z.numpy(), [0, 0.5 + 0.5j, 1 + 1j])
    assert np.allclose(tg.linspace(1j, 2, 4, dtype=tg.complex64).numpy(),
                       np.linspace(1j, 2, 4), rtol=1e-6)
    assert np.allclose(tg.logspace(0, 1j, 3).numpy(), 10.0 ** np.linspace(0, 1j, 3))
    with pytest.raises(RuntimeError, match=r"^torch.linspace\(\): inferred dtype "
                                           r"c10::complex<double> can't be safely cast to passed "
                                           r"dtype Double$"):
        tg.linspace(0, 1j, 3, dtype=tg.float64)
    torch = pytest.importorskip("torch")
    for lib_args in [(0, 1 + 1j, 3), (1j, 2.0, 6)]:
        assert np.array_equal(tg.linspace(*lib_args).numpy(),
                              torch.linspace(*lib_args, dtype=torch.complex128).numpy())
        assert np.allclose(tg.logspace(*lib_args).numpy(),
                           torch.logspace(*lib_args, dtype=torch.complex128).numpy(), rtol=1e-14)


def test_nn_init_of_complex_tensors():
    """nn.init's normal_/uniform_ (and xavier/kaiming, built on them) fill both parts of complex
    tensors, as PyTorch's (the imaginary parts stayed 0); trunc_normal_ and orthogonal_ refuse
    them in PyTorch's words."""
    tg.manual_seed(0)
    w = tg.zeros(200, 100, dtype=tg.complex128)
    v = tg.nn.init.normal_(w, 2.0, 3.0).numpy()
    assert np.allclose([v.real.mean(), v.imag.mean()], 2.0, atol=0.1)
    assert np.allclose([v.real.var(), v.imag.var()], 4.5, atol=0.3)
    v = tg.nn.init.uniform_(w, -1.0, 2.0).numpy()
    assert v.imag.min() >= -1 and v.imag.max() <= 2 and abs(v.imag.mean() - 0.5) < 0.05
    v = tg.nn.init.kaiming_normal_(w).numpy()  # std sqrt(2 / fan_in): 1 / fan_in per part
    assert np.allclose([v.real.var(), v.imag.var()], 0.01, rtol=0.1)
    v = tg.nn.init.sparse_(w, 0.5, std=0.1).numpy()  # (the imaginary parts stayed 0)
    kept = v[v != 0]
    assert (v == 0).sum(0).tolist() == [100] * 100
    assert np.allclose([kept.real.var(), kept.imag.var()], 0.005, rtol=0.1)
    with pytest.raises(NotImplementedError, match="\"lt_cpu\" not implemented for "
                                                  "'ComplexDouble'"):
        tg.nn.init.trunc_normal_(w)
    with pytest.raises(NotImplementedError, match="Unlike NumPy, torch.sign is not intended"):
        tg.nn.init.orthogonal_(w)


@pytest.mark.parametrize("value, message", [
    ([1 + 1j], "view_as_complex is only supported for half, float and double tensors, but got a "
     "tensor of scalar type: ComplexDouble"),
    ([1, 2, 3], "view_as_complex is only supported for half, float and double tensors, but got "
     "a tensor of scalar type: Long"),
    ([1.0], "Tensor must have a last dimension of size 2"),
])
def test_view_as_complex_checks_the_dtype_first(value, message):
    for f in (tg.view_as_complex, tg.view_as_complex_copy):
        with pytest.raises(RuntimeError) as info:
            f(tg.tensor(value))
        assert str(info.value) == message


@pytest.mark.parametrize("fill", [
    lambda v, dt: tg.full((2,), v, dtype=dt), lambda v, dt: tg.full_like(tg.zeros(2, dtype=dt), v),
    lambda v, dt: tg.zeros(2, dtype=dt).new_full((2,), v),
    lambda v, dt: tg.zeros(2, dtype=dt).masked_fill(tg.tensor([True, True]), v),
])
def test_a_complex_number_filling_a_real_tensor(fill):
    """A complex fill value for a real dtype: its real part when the imaginary part is 0, else
    PyTorch's RuntimeError (NumPy dropped the imaginary part: full((2,), 1j, dtype=float64)
    was [0, 0]; masked_fill raised Python's TypeError); bool takes its truth."""
    assert np.array_equal(fill(2 + 0j, tg.float64).numpy(), [2.0, 2.0])
    assert np.array_equal(fill(3 + 0j, tg.int32).numpy(), [3, 3])
    assert np.array_equal(fill(1j, tg.bool).numpy(), [True, True])
    for dt, c_type in [(tg.float64, "double"), (tg.float32, "float"), (tg.int64, "int64_t")]:
        with pytest.raises(RuntimeError, match=f"^value cannot be converted to type {c_type} "
                                               "without overflow$"):
            fill(1j, dt)


def test_index_put_between_complex_and_real_refuses_as_pytorch():
    """(the complex values were cast to the real tensor: their imaginary parts dropped)"""
    for x, v, names in [([1.0, 2.0], [1j], ("Double", "ComplexDouble")),
                        ([1 + 0j, 2], [1.0], ("ComplexDouble", "Double"))]:
        with pytest.raises(RuntimeError, match=f"^Index put requires the source and destination "
                                               f"dtypes match, got {names[0]} for the "
                                               f"destination and {names[1]} for the source.$"):
            tg.tensor(x).index_put((tg.tensor([0]),), tg.tensor(v))
    out = tg.tensor([1 + 0j, 2]).index_put((tg.tensor([0, 0]),), tg.tensor([5j, 1]),
                                           accumulate=True)
    assert np.array_equal(out.numpy(), [2 + 5j, 2])


def test_fill_and_setitem_of_a_complex_number_into_a_real_tensor():
    """(fill_(1j) of a float tensor wrote 0, x[0] = 1j raised NumPy's TypeError)"""
    x = tg.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="^value cannot be converted to type double without "
                                           "overflow$"):
        x.fill_(1j)
    with pytest.raises(RuntimeError, match="^value cannot be converted to type double without "
                                           "overflow$"):
        x[0] = 1j
    x[0] = 5 + 0j
    assert np.array_equal(x.numpy(), [5.0, 2.0])
    assert np.array_equal(x.fill_(3 + 0j).numpy(), [3.0, 3.0])
    assert np.array_equal(tg.tensor([True, False]).fill_(1j).numpy(), [True, True])
    z = tg.tensor([1 + 0j, 2])
    z[:] = 1j
    assert np.array_equal(z.numpy(), [1j, 1j])


def test_gradcheck_names_the_part_of_a_complex_output_that_fails():
    """PyTorch's prefix: 'While considering the imaginary (real) part of complex outputs
    only, ', the imaginary part checked first (the message had no prefix)."""
    def square(wrong_real):
        class Square(tg.autograd.Function):
            @staticmethod
            def forward(ctx, z):
                ctx.save_for_backward(z)
                return z * z

            @staticmethod
            def backward(ctx, g):
                z, = ctx.saved_tensors
                return 2 * g * z.conj() + (g.real * 0.1 if wrong_real else g.imag * 0.1)

        return Square.apply

    z = tg.tensor(rand((3,)), requires_grad=True)
    for wrong_real, part in ((True, "real"), (False, "imaginary")):
        with pytest.raises(RuntimeError, match=f"^While considering the {part} part of complex "
                                               "outputs only, Jacobian mismatch for output 0 "
                                               "with respect to input 0,"):
            tg.autograd.gradcheck(square(wrong_real), (z,))
