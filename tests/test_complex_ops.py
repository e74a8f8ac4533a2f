"""Complex rules of joins, running sums, products, variances and norms: values, gradients and
second order against finite differences (real and imaginary parts perturbed separately) and
PyTorch (tests/complex_checks.py)."""

import numpy as np
import pytest

import tapegrad as tg
from complex_checks import check_complex, rand

JOINS = {
    "cat": (lambda L, a, b: L.cat([a * a, b], 1), [(2, 3), (2, 2)]),
    "cat_negative_dim": (lambda L, a, b: L.cat([a, b * b], -1), [(2, 3), (2, 2)]),
    "stack": (lambda L, a, b: L.stack([a * a, b], -1), [(2, 3), (2, 3)]),
    "split_sizes": (lambda L, a: L.split(a * a, [1, 2], 1)[1] * L.split(a, 2, 1)[0], [(2, 3)]),
    "chunk": (lambda L, a: L.chunk(a * a, 2, 0)[1] * 2j, [(4, 3)]),
    "unbind": (lambda L, a: L.unbind(a * a, 1)[2], [(2, 3)]),
    "cumsum_rows": (lambda L, a: L.cumsum(a * a, 1), [(2, 3)]),
    "cumsum_cols": (lambda L, a: L.cumsum(a * a, 0), [(3, 2)]),
}


@pytest.mark.parametrize("name", sorted(JOINS))
def test_joins_and_running_sums(name):
    fn, shapes = JOINS[name]
    check_complex(fn, [rand(s, seed=i) for i, s in enumerate(shapes)])


def test_cat_of_real_and_complex_tensors():
    """A real input of a complex cat takes the real part of its cotangent slice."""
    check_complex(lambda L, a, b: L.cat([a, b * b]), [rand((2, 3), cplx=False), rand((1, 3))])
    check_complex(lambda L, a, b: L.stack([a, b]), [rand((3,)), rand((3,), cplx=False)])


def test_cat_without_grad_keeps_complex_values():
    import tapegrad as tg

    out = tg.cat([tg.tensor([1j]), tg.tensor([2.0])])
    assert out.dtype == tg.complex128 and np.allclose(out.numpy(), [1j, 2])


REDUCTIONS = {
    "var_all": lambda L, a: L.var(a * a),
    "var_dim": lambda L, a: L.var(a * a, 1),
    "std_keepdim": lambda L, a: L.std(a * a, 0, keepdim=True),
    "std_correction0": lambda L, a: L.std(a, correction=0),
    "var_method": lambda L, a: (a * a).var(dim=0),
    "vector_norm": lambda L, a: L.linalg.vector_norm(a * a),
    "vector_norm_ord3": lambda L, a: L.linalg.vector_norm(a, 3, dim=1),
    "vector_norm_ord1": lambda L, a: L.linalg.vector_norm(a, 1),
    "vector_norm_inf": lambda L, a: L.linalg.vector_norm(a, float("inf"), dim=0),
    "linalg_norm": lambda L, a: L.linalg.norm(a),
    "norm_dim": lambda L, a: L.norm(a * a, dim=0),
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_real_valued_reductions_of_complex(name):
    """var/std/norms of complex tensors are real (torch's definitions: moduli)."""
    import tapegrad as tg

    check_complex(REDUCTIONS[name], [rand((2, 3))])
    assert REDUCTIONS[name](tg, tg.tensor(rand((2, 3)))).dtype == tg.float64


def test_max_of_complex_refused_as_torch():
    import tapegrad as tg

    for requires_grad in (True, False):
        z = tg.tensor([1j, 2.0], requires_grad=requires_grad)
        for f, kernel in ((tg.amax, "max_values_cpu"), (tg.max, "max_all"),
                          (tg.amin, "min_values_cpu")):
            with pytest.raises(NotImplementedError,
                               match=f"^\"{kernel}\" not implemented for 'ComplexDouble'$"):
                f(z)


def _with_zeros(count):
    a = rand((3, 5))
    a[1, 2] = 0
    if count > 1:
        a[1, 4] = 0
    return a


PRODS = {
    "all": lambda L, a: L.prod(a),
    "dim": lambda L, a: L.prod(a, 1),
    "keepdim": lambda L, a: L.prod(a, 0, keepdim=True),
    "method": lambda L, a: a.prod(-1),
}


@pytest.mark.parametrize("zeros", [0, 1, 2])
@pytest.mark.parametrize("name", sorted(PRODS))
def test_prod_of_complex(name, zeros):
    """The complex product rule ``g * conj(product of the others)``, exact with zeros."""
    check_complex(PRODS[name], [_with_zeros(zeros) if zeros else rand((3, 5))])


@pytest.mark.parametrize("eq,shapes", [("ij,jk->ik", [(3, 4), (4, 2)]),
                                       ("ij,jk,k->i", [(3, 4), (4, 2), (2,)]),
                                       ("ij->ji", [(3, 4)]), ("ii->", [(3, 3)]),
                                       ("bij,bjk->bik", [(2, 3, 4), (2, 4, 2)])])
def test_complex_einsum(eq, shapes):
    arrays = [rand(s, seed=k) for k, s in enumerate(shapes)]
    check_complex(lambda L, *xs: L.einsum(eq, *xs), arrays,
                  ref=lambda *xs: np.einsum(eq, *xs))


def test_einsum_of_real_and_complex_raises_as_torch():
    """A contraction of a real and a complex operand raises PyTorch's error (its bmm takes one
    dtype); the real operand made complex first is differentiable."""
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    z = tg.tensor([1j, 2 + 1j], requires_grad=True)
    with pytest.raises(RuntimeError, match="^expected scalar type Double but found ComplexDouble$"):
        tg.einsum("i,i->", x, z)
    y = tg.einsum("i,i->", x.to(tg.complex128), z)
    assert complex(y.item()) == np.einsum("i,i->", [1.0, 2.0], [1j, 2 + 1j])
    assert tg.autograd.gradcheck(lambda a, b: tg.einsum("i,i->", a.to(tg.complex128), b).abs(),
                                 (x, z))


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
def test_nan_to_num_repairs_each_part_of_complex_values(dtype):
    """tg.nan_to_num of complex values replaces NaN and infinities in the real and imaginary
    parts with the part's float extremes, as PyTorch's (they came back unchanged, without a
    gradient); a replaced part gets no gradient, a finite part passes it."""
    z = np.array([1 + 2j, complex(np.nan, 1), complex(np.inf, np.nan), complex(-np.inf, 3)],
                 dtype)
    big = np.finfo(np.float32 if dtype == np.complex64 else np.float64).max
    expect = np.array([1 + 2j, 1j, big, complex(-big, 3)], dtype)
    out = tg.nan_to_num(tg.tensor(z))
    assert out.dtype == dtype and np.array_equal(out.numpy(), expect)
    assert np.array_equal(tg.nan_to_num(tg.tensor(z), nan=5.0, posinf=1.0, neginf=-1.0).numpy(),
                          np.array([1 + 2j, 5 + 1j, 1 + 5j, -1 + 3j], dtype))
    x = tg.tensor(z, requires_grad=True)
    (tg.nan_to_num(x) * tg.tensor([1j, 2, 3, 4 + 1j])).real.sum().backward()
    assert np.array_equal(x.grad.numpy(), np.array([-1j, 0, 0, -1j], dtype))
    torch = pytest.importorskip("torch")
    assert np.array_equal(torch.nan_to_num(torch.tensor(z)).numpy(), expect)


def test_nan_to_num_of_finite_complex_values_by_finite_differences():
    check_complex(lambda L, z: L.nan_to_num(z) * z, [rand((3,))], torch_check=False)


@pytest.mark.parametrize("vectorize", [False, True])
def test_jacobian_of_a_real_function_of_complex_inputs(vectorize):
    """autograd.functional.jacobian/hessian and grad(is_grads_batched=True) with complex inputs
    (the batched sweep gave (re, im) pairs: NumPy's reshape error); the rows are gradients of
    each real output element, PyTorch's convention: d|z^2| = conj(2 z) z^2 / |z^2|."""
    z = rand((3,))
    jac = tg.autograd.functional.jacobian(lambda v: (v * v).abs(), tg.tensor(z),
                                          vectorize=vectorize)
    expect = np.diag(2 * np.conj(z) * z * z / np.abs(z * z))
    assert jac.dtype == tg.complex128 and np.allclose(jac.numpy(), expect)
    x = tg.tensor(z, requires_grad=True)
    rows, = tg.autograd.grad((x * x).abs(), x, tg.tensor(np.eye(3)), is_grads_batched=True)
    assert np.allclose(rows.numpy(), expect)
    torch = pytest.importorskip("torch")
    f = lambda v: (v.abs() ** 4).sum()  # noqa: E731
    if vectorize:  # the vectorized rows seed the complex gradient with complex unit rows
        h = tg.autograd.functional.hessian(f, tg.tensor(z), vectorize=True)
        assert np.allclose(h.numpy(), torch.autograd.functional.hessian(
            f, torch.tensor(z), vectorize=True).numpy())
    else:
        with pytest.raises(RuntimeError, match="grad can be implicitly created only for real "
                                               "scalar outputs but got complex128"):
            tg.autograd.functional.hessian(f, tg.tensor(z))
    assert np.allclose(jac.numpy(), torch.autograd.functional.jacobian(
        lambda v: (v * v).abs(), torch.tensor(z), vectorize=vectorize).numpy())


def test_lerp_with_complex_weights():
    """lerp picks its formula by |weight| < 0.5 for complex weights, as PyTorch (a complex
    weight tensor raised the 'lt' refusal, a Python complex weight Python's TypeError)."""
    w = np.array([0.1 + 0.1j, 0.6 - 0.2j, 0.3 + 0.5j, -0.2j])
    check_complex(lambda L, a, b, t: L.lerp(a, b, t), [rand((4,)), rand((4,), seed=1), w])
    check_complex(lambda L, a, b: L.lerp(a, b, 0.3 + 0.6j), [rand((4,)), rand((4,), seed=1)])


def test_sinc_of_complex_values():
    """tg.sinc and np.sinc of complex tensors: sin(pi z) / (pi z), 1 at 0 (numpy_dispatch's
    refusal of complex input leaked as its internal _Unsupported exception)."""
    z = np.array([0.3 + 0.4j, -1.2 + 0.8j, 1e-4 + 1e-4j, 0j, 2.0 - 1.0j])
    check_complex(lambda L, v: L.sinc(v), [z[[0, 1, 4]]])
    # near 0 the Taylor polynomial: PyTorch's second derivative is nan at 0 (see ufuncs.sinc)
    check_complex(lambda L, v: L.sinc(v), [z], torch_check=False)
    assert np.allclose(np.sinc(tg.tensor(z)).numpy(), np.sinc(z), rtol=1e-14)


def test_trapezoid_of_complex_values():
    """trapezoid (tg's and np's) of complex samples or points (numpy_dispatch refused complex
    input: tg.trapezoid leaked its internal _Unsupported exception)."""
    y, x = rand((2, 5)), np.sort(rand((5,), cplx=False, seed=3))
    check_complex(lambda L, v: L.trapezoid(v, dx=0.3, dim=0), [y])
    check_complex(lambda L, v, p: L.trapezoid(v, p), [y, x])
    check_complex(lambda L, v, p: L.trapezoid(p, v), [y[0], x])
    assert np.allclose(np.trapezoid(tg.tensor(y), x).numpy(), np.trapezoid(y, x), rtol=1e-14)


def test_logcumsumexp_of_complex_values():
    """PyTorch's values (logaddexp accumulated by real parts: imaginary parts not wrapped into
    (-pi, pi]) and gradient, to second order; it raised NumPy's logaddexp TypeError."""
    z = np.array([1 + 3j, 2 - 2.5j, 0.5 + 3.1j, -1 + 1j, 3 + 3j])
    check_complex(lambda L, v: L.logcumsumexp(v, 0), [z])
    check_complex(lambda L, v: L.logcumsumexp(v, 1), [rand((2, 4))])
    out = tg.logcumsumexp(tg.tensor(z), 0).numpy()
    assert np.allclose(np.exp(out), np.cumsum(np.exp(z)))
    assert abs(out[-1].imag - 3.1692) < 1e-4  # (the principal log's is 3.1692 - 2 pi)
    big = tg.logcumsumexp(tg.tensor([-1000 + 1j, 0j, 800 - 1j]), 0).numpy()
    assert np.allclose(big, [-1000 + 1j, 0, 800 - 1j])


def test_cov_and_corrcoef_of_complex_values():
    """cov is X X^H / (n - correction), corrcoef divides by the real standard deviations, as
    PyTorch's and NumPy's (numpy_dispatch refused complex input: tg.cov leaked its internal
    _Unsupported exception)."""
    a = rand((2, 5))
    check_complex(lambda L, v: L.cov(v), [a])
    check_complex(lambda L, v: L.cov(v, correction=0), [a[0]])
    check_complex(lambda L, v: L.corrcoef(v), [a])
    assert np.allclose(np.cov(tg.tensor(a)).numpy(), np.cov(a), rtol=1e-14)
    assert np.allclose(np.corrcoef(tg.tensor(a)).numpy(), np.corrcoef(a), rtol=1e-14)


def test_gradient_of_complex_values():
    """tg.gradient / np.gradient of complex samples, as PyTorch's and NumPy's (the handler
    refused complex input, which leaked from tg.gradient as numpy_dispatch's _Unsupported)."""
    a = rand((3, 5))
    check_complex(lambda L, v: L.gradient(v)[1], [a])
    check_complex(lambda L, v: L.gradient(v, spacing=2.0, dim=1, edge_order=2)[0], [a])
    assert np.allclose(np.gradient(tg.tensor(a))[0].numpy(), np.gradient(a)[0], rtol=1e-14)


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_moves_complex_parameters_as_real_pairs(line_search_fn):
    """L-BFGS sees a complex parameter as its (re, im) pairs, as PyTorch's view_as_real (its
    flat gradient kept the real parts only, so the step never moved the parameter)."""
    z0, x0 = rand((3, 2)), rand((2,), cplx=False, seed=2)

    def run(lib):
        p, q = lib.nn.Parameter(lib.tensor(z0)), lib.nn.Parameter(lib.tensor(x0))
        opt = lib.optim.LBFGS([p, q], lr=0.5, history_size=3, line_search_fn=line_search_fn)

        def closure():
            opt.zero_grad()
            loss = ((p - 1j).abs() ** 2).sum() + ((lib.exp(1j * q) * p[0]).abs() ** 2 - 2).pow(
                2).sum() + (q ** 2).sum()
            loss.backward()
            return loss

        for _ in range(3):
            opt.step(closure)
        return p.detach().numpy(), q.detach().numpy()

    p, q = run(tg)
    assert np.abs(p[1:] - 1j).max() < 1e-3
    torch = pytest.importorskip("torch")
    tp, tq = run(torch)
    np.testing.assert_allclose(p, tp, atol=1e-9)
    np.testing.assert_allclose(q, tq, atol=1e-9)


def test_gradient_of_a_power_in_its_complex_exponent_at_a_zero_base():
    """0 ** y is 0 (Re y > 0) or 1 (y = 0) near y: its derivative in y is 0 (PyTorch: nan
    unless y is real, see differences_from_pytorch.md)."""
    z = tg.tensor([0j, 0j, 1j], requires_grad=True)
    w = tg.tensor([2 + 1j, 0.5, 0.5j], requires_grad=True)
    gz, gw = tg.autograd.grad((z ** w).real.sum(), [z, w])
    assert np.array_equal(gw.numpy()[:2], [0, 0])
    assert np.allclose(gw.numpy()[2], np.conj(1j ** 0.5j * np.log(1j)))


NODES = {  # PyTorch's node (grad_fn) names of complex ops
    "NegBackward0": lambda L, z, w: -z, "ExpBackward0": lambda L, z, w: z.exp(),
    "Log1PBackward0": lambda L, z, w: z.log1p(), "SqrtBackward0": lambda L, z, w: z.sqrt(),
    "AbsBackward0": lambda L, z, w: z.abs(), "AngleBackward0": lambda L, z, w: z.angle(),
    "SelectBackward0": lambda L, z, w: z.imag, "ConjBackward0": lambda L, z, w: z.conj(),
    "MulBackward0": lambda L, z, w: z * w, "DivBackward0": lambda L, z, w: z / w,
    "PowBackward1": lambda L, z, w: z ** w, "PowBackward0": lambda L, z, w: z ** 2.5,
    "PowBackward2": lambda L, z, w: 2 ** z, "RsubBackward1": lambda L, z, w: 1j - z,
    "AsinhBackward0": lambda L, z, w: z.asinh(), "TanhBackward0": lambda L, z, w: z.tanh(),
    "CatBackward0": lambda L, z, w: L.cat([z, w]), "DotBackward0": lambda L, z, w: z @ w,
    "ViewBackward0": lambda L, z, w: z.reshape(2, 1),
    "FftC2CBackward0": lambda L, z, w: L.fft.fft(z),
    "LogcumsumexpBackward0": lambda L, z, w: z.logcumsumexp(0),
    "ComplexBackward0": lambda L, z, w: L.complex(z.real, w.imag),
}


@pytest.mark.parametrize("name", sorted(NODES))
def test_complex_ops_have_pytorchs_node_names(name):
    """(every complex op's node was named ComplexBackward; the in-place error names it too)"""
    z, w = tg.tensor([1 + 1j, 2], requires_grad=True), tg.tensor([2 - 1j, 1j], requires_grad=True)
    assert NODES[name](tg, z, w).grad_fn.name() == name
    torch = pytest.importorskip("torch")
    z, w = torch.tensor([1 + 1j, 2], requires_grad=True), torch.tensor([2 - 1j, 1j],
                                                                       requires_grad=True)
    assert NODES[name](torch, z, w).grad_fn.name() == name
