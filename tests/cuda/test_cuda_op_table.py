"""Every op of the op table on CUDA tensors against the CPU path, on numba-cuda's simulator:
the smooth Python elementwise ops, sign, IEEE edge values (nan/inf where Python would raise),
einsum, and the solves and decompositions through the host (see conftest.py)."""

import numpy as np
import pytest

from conftest import HAS_NUMBA_CUDA

if not HAS_NUMBA_CUDA:
    pytest.skip("numba-cuda is not installed (pip install 'tapegrad[cuda]'); CUDA tensors "
                "are optional", allow_module_level=True)

import tapegrad as tg
from tapegrad.ops.backward_ops import sigmoid_backward, tanh_backward
from tapegrad.registry import REGISTRY
from test_cuda_sim import check

RNG = np.random.default_rng(2)
A = RNG.uniform(-0.9, 0.9, (3, 3))
P = RNG.uniform(1.1, 1.9, (3, 3))
SPD = A @ A.T + 3.0 * np.eye(3)


def _copy_slices(x, y):
    z = x * 1.0
    z[0] = y[1]
    return z


def _index_add(x, y):
    return x.index_add(0, tg.tensor([0, 0, 1], device=x.device), y)


# one user-level call per op of the registry (name -> (fn, inputs))
CASES = {
    "neg": (tg.neg, A), "exp": (tg.exp, A), "log": (tg.log, P), "log1p": (tg.log1p, P),
    "expm1": (tg.expm1, A), "sin": (tg.sin, A), "cos": (tg.cos, A), "tan": (tg.tan, A),
    "tanh": (tg.tanh, A), "sigmoid": (tg.sigmoid, A), "relu": (tg.relu, A),
    "sqrt": (tg.sqrt, P), "abs": (tg.abs, A), "clone": (lambda x: x.clone(), A),
    "to": (lambda x: x.to(tg.float32) * 1.0, A), "_zero_grad": (lambda x: tg.sign(x) * x, A),
    "_add_c": (lambda x: x + 2.0, A), "_mul_c": (lambda x: x * 3.0, A),
    "_pow_c": (lambda x: x ** 2.5, P), "_rpow_c": (lambda x: 2.0 ** x, A),
    "_rdiv_c": (lambda x: 2.0 / x, P), "_clamp_c": (lambda x: x.clamp(-0.5, 0.5), A),
    "add": (lambda x, y: x + y, A, P), "sub": (lambda x, y: x - y, A, P),
    "mul": (lambda x, y: x * y, A, P), "div": (lambda x, y: x / y, A, P),
    "pow": (lambda x, y: x ** y, P, A), "maximum": (tg.maximum, A, P),
    "minimum": (tg.minimum, A, P), "where": (lambda x, y: tg.where(x > 0, x, y), A, P),
    "tanh_backward": (tanh_backward, A, P), "sigmoid_backward": (sigmoid_backward, A, P),
    "reshape": (lambda x: x.reshape(9), A), "as_strided": (lambda x: x.t(), A),
    "sum_to": (lambda x: x.sum(0), A), "take": (lambda x: x[[0, 2, 0]], A),
    "index_add": (_index_add, A, P), "matmul": (lambda x, y: x @ y, A, P),
    "convolution": (lambda x, w: tg.nn.functional.conv1d(x.reshape(1, 3, 3), w.reshape(3, 3, 1),
                                                         padding=1), A, P),
    "conv_transpose": (lambda x, w: tg.nn.functional.conv_transpose1d(
        x.reshape(1, 3, 3), w.reshape(3, 1, 3), stride=2), A, P),
    "cat": (lambda x, y: tg.cat([x, y]), A, P), "amax": (lambda x: x.amax(0), A),
    "prod": (lambda x: x.prod(1), A), "copy_slices": (_copy_slices, A, P),
    "einsum": (lambda x, y: tg.einsum("ij,jk->ik", x, y), A, P),
    "cumsum": (lambda x: x.cumsum(1), A),
    "solve": (lambda x, y: tg.linalg.solve(x, y), SPD, A),
    "inv": (tg.linalg.inv, SPD), "det": (tg.linalg.det, SPD),
    "logabsdet": (lambda x: tg.linalg.slogdet(x)[1], SPD),
    "eigh": (lambda x: tg.linalg.eigh(x)[0], SPD), "svd": (tg.linalg.svdvals, SPD),
    "qr": (lambda x: tg.linalg.qr(x)[1], SPD), "cholesky": (tg.linalg.cholesky, SPD),
    "lu_factor": (lambda x: tg.linalg.lu_factor(x)[0], SPD),
    "pinv": (tg.linalg.pinv, SPD), "var": (lambda x: x.var(1), A),
    "std": (lambda x: x.std(0), A), "atan": (tg.atan, A), "asin": (tg.asin, A),
    "acos": (tg.acos, A), "sinh": (tg.sinh, A), "cosh": (tg.cosh, A), "asinh": (tg.asinh, A),
    "acosh": (tg.acosh, P), "atanh": (tg.atanh, A), "erf": (tg.erf, A), "erfc": (tg.erfc, A),
    "atan2": (tg.atan2, A, P), "xlogy": (tg.xlogy, A, P),
    "fmod": (lambda x, y: tg.fmod(x * 3.0, y), A, P),
    "remainder": (lambda x, y: tg.remainder(x * 3.0, y), A, P),
    "copysign": (lambda x, y: tg.copysign(x, y - 1.0) * x, A, P),
    "xlog1py": (tg.special.xlog1py, A, P), "logcumsumexp": (lambda x: tg.logcumsumexp(x, 1), A),
    "cumprod": (lambda x: tg.cumprod(x, 1), A),
    "log2": (tg.log2, P), "log10": (tg.log10, P),
    # one op on the CPU, the composition on the device: the same values and gradients
    "softmax": (lambda x: tg.softmax(x, 1), A), "log_softmax": (lambda x: tg.log_softmax(x, 0), A),
    "logsumexp": (lambda x: tg.logsumexp(x, 1), A),
    "nll_loss": (lambda x: tg.nn.functional.nll_loss(x, tg.tensor([0, 2, 1], device=x.device)),
                 A),
    "_leaky_relu_c": (lambda x: tg.nn.functional.leaky_relu(x, 0.2), A),
    "_hardtanh_c": (lambda x: tg.nn.functional.hardtanh(x, -0.5, 0.5), A),
    "_elu_c": (lambda x: tg.nn.functional.elu(x, 0.7), A),
    "stack": (lambda x: tg.stack([x, x * 2.0], 1), A),
    "linear": (lambda x, y: tg.nn.functional.linear(x, y, y[0] * 2.0), A, P),
    "layer_norm": (lambda x, y: tg.nn.functional.layer_norm(x, (3,), y[0], y[1]), A, P),
    "_avgpool2d": (lambda x: tg.nn.functional.avg_pool2d(x.reshape(1, 1, 3, 3), 2, 1, 1), A),
    "_avgpool2d_backward": (lambda x: tg.autograd.grad((tg.nn.functional.avg_pool1d(
        x, 2, 1) ** 3).sum(), x, create_graph=True)[0], A),
    "_adaptiveavgpool2d": (lambda x: tg.nn.functional.adaptive_avg_pool1d(x, 2), A),
    "_adaptiveavgpool2d_backward": (lambda x: tg.autograd.grad((
        tg.nn.functional.adaptive_avg_pool1d(x, 2) ** 3).sum(), x, create_graph=True)[0], A),
    "_vector_norm2": (lambda x: tg.linalg.vector_norm(x, 2, 1), A),
    "batch_norm": (lambda x, y: tg.nn.functional.batch_norm(x, None, None, y[0], y[1],
                                                            training=True), A, P),
    "_bce_with_logits_c": (lambda x, y: tg.nn.functional.binary_cross_entropy_with_logits(
        x, y, reduction="none"), A, P),
    "_binary_cross_entropy": (lambda x, y: tg.nn.functional.binary_cross_entropy(
        tg.sigmoid(x), y - 1.0, reduction="none"), A, P),
    "_binary_cross_entropy_backward": (lambda x, y: tg.autograd.grad(
        tg.nn.functional.binary_cross_entropy(tg.sigmoid(x), y - 1.0).sum(), x,
        create_graph=True)[0], A, P),
    # relu's derivative linked to its result on the CPU (a constant on the device: same values)
    # (CUDA tensors take these ops' compositions: the device case checks those against the CPU
    # op, first and second order)
    "_resize": (lambda x: tg.nn.functional.interpolate(x.reshape(1, 1, 3, 3), scale_factor=2,
                                                       mode="bilinear"), A),
    "_resize_backward": (lambda x: tg.autograd.grad((tg.nn.functional.interpolate(
        x.reshape(1, 1, 3, 3), size=(4, 5), mode="bilinear") ** 3).sum(), x,
        create_graph=True)[0], A),
    "_grid_sample": (lambda x, y: tg.nn.functional.grid_sample(
        x.reshape(1, 1, 3, 3), y.reshape(1, 3, 3, 1)[..., [0, 0]] * 1.1, align_corners=False),
        A, A),
    "_index_add": (lambda x, y: x.index_add(1, tg.tensor([2, 0, 2], device=x.device), y,
                                            alpha=-1.5), A, P),
    "_depends": (lambda x: tg.autograd.grad(tg.relu(x).sum(), x, create_graph=True)[0] * x, A),
    "_mse_loss_c": (lambda x, y: tg.nn.functional.mse_loss(x, y, reduction="none"), A, P),
    "_huber_loss_c": (lambda x, y: tg.nn.functional.huber_loss(x * 3.0, y, reduction="none"), A,
                      P),
    "_smooth_l1_loss_c": (lambda x, y: tg.nn.functional.smooth_l1_loss(
        x * 3.0, y, reduction="none", beta=0.5), A, P),
    "_logsigmoid_c": (tg.nn.functional.logsigmoid, A),
    "_softplus_c": (lambda x: tg.nn.functional.softplus(x, beta=1.5, threshold=0.8), A),
    "_silu_c": (tg.nn.functional.silu, A),
    "_gelu_c": (tg.nn.functional.gelu, A),
    "_gelu_tanh_c": (lambda x: tg.nn.functional.gelu(x, approximate="tanh"), A),
}
# ops with no CUDA path: the error says so
UNSUPPORTED = {"complex": lambda x, y: tg.complex(x, y)}

PY_ELEMENTWISE = ("atan", "asin", "acos", "sinh", "cosh", "asinh", "acosh", "atanh", "erf",
                  "erfc", "log2", "log10", "atan2")


def test_every_op_of_the_registry_has_a_device_case():
    names = {d.name for d in REGISTRY.values()}
    assert names == set(CASES) | set(UNSUPPORTED)


@pytest.mark.parametrize("name", sorted(CASES))
def test_op_on_the_device_matches_the_cpu(name):
    fn, *arrays = CASES[name]
    check(fn, *arrays)


@pytest.mark.parametrize("name", PY_ELEMENTWISE)
def test_python_elementwise_ops_in_float32(name):
    fn, *arrays = CASES[name]
    check(fn, *arrays, dtype=np.float32)


def test_unsupported_ops_say_so():
    x = tg.ones(3, device="cuda")
    for fn in UNSUPPORTED.values():
        with pytest.raises(NotImplementedError, match="cuda"):
            fn(x, x)


# ---- IEEE edge values: inf and nan as on the CPU (Python's math would raise) ----------

EDGE = np.array([-np.inf, -2.0, -1.0, -0.5, -0.0, 0.0, 0.5, 1.0, 2.0, 800.0, np.inf, np.nan])
EDGE_FNS = {**{n: CASES[n][0] for n in PY_ELEMENTWISE if n != "atan2"},
            "pow2.5": lambda x: x ** 2.5, "rpow": lambda x: (-2.0) ** x,
            "pow_t": lambda x: x ** (x * 0.5), "div0": lambda x: 1.0 / x, "exp": tg.exp,
            "log": tg.log, "sqrt": tg.sqrt, "sign": tg.sign}


@pytest.mark.parametrize("name", sorted(EDGE_FNS))
def test_edge_values_give_inf_and_nan_as_the_cpu(name):
    fn = EDGE_FNS[name]
    xc = tg.tensor(EDGE, requires_grad=True)
    xd = tg.tensor(EDGE, device="cuda", requires_grad=True)
    with np.errstate(all="ignore"):
        yc, yd = fn(xc), fn(xd)
        # inf and nan where the CPU has them; finite values to rounding (erf: SciPy on the CPU)
        np.testing.assert_allclose(yd.cpu().detach().numpy(), yc.detach().numpy(), rtol=1e-14)
        if yc.requires_grad:
            yc.sum().backward()
            yd.sum().backward()
            np.testing.assert_allclose(xd.grad.cpu().numpy(), xc.grad.numpy(), rtol=1e-12)


def test_integer_inputs_give_float64_as_on_the_cpu():
    for f in (tg.atan, tg.erf, tg.log2):
        y = f(tg.tensor([1, 2, 3], device="cuda"))
        assert y.dtype == f(tg.tensor([1, 2, 3])).dtype == np.float64
    assert tg.sign(tg.tensor([-3, 0, 2], device="cuda")).cpu().numpy().tolist() == [-1, 0, 1]
    assert tg.sign(tg.tensor([True, False], device="cuda")).dtype == np.bool_


def test_atan2_broadcasts_and_takes_a_cpu_scalar():
    check(lambda y, x: tg.atan2(y, x), A[:, :1].copy(), P)
    y = tg.tensor(A, device="cuda")
    np.testing.assert_allclose(tg.atan2(y, tg.tensor(0.5)).cpu().numpy(), np.arctan2(A, 0.5))
    with pytest.raises(RuntimeError, match="same device"):
        tg.atan2(y, tg.tensor(P))


# ---- einsum: device ops (diagonal views, sums, batched matmuls) ---------------------------

EINSUM = {
    "ij,jk->ik": [(3, 4), (4, 2)], "bij,bjk->bik": [(2, 3, 4), (2, 4, 2)],
    "i,j->ij": [(3,), (4,)], "ii->": [(3, 3)], "ii->i": [(3, 3)], "ij->ji": [(3, 4)],
    "i,ij,j->": [(3,), (3, 4), (4,)], "...ij,...jk->...ik": [(2, 3, 4), (1, 4, 2)],
    "kij,nkj->nki": [(2, 3, 4), (5, 2, 4)], "iij,jk->ik": [(3, 3, 2), (2, 4)],
    "ij,ij->": [(3, 4), (3, 4)], "bi,bj->b": [(2, 3), (2, 4)],
}


@pytest.mark.parametrize("eq", sorted(EINSUM))
def test_einsum_on_the_device(eq):
    arrays = [RNG.standard_normal(s) for s in EINSUM[eq]]
    check(lambda *ts: tg.einsum(eq, *ts), *arrays)


def test_einsum_second_order_on_the_device():
    a, b = RNG.standard_normal((3, 4)), RNG.standard_normal((4, 3))
    grads = []
    for dev in ("cpu", "cuda"):
        x = tg.tensor(a, device=dev, requires_grad=True)
        y = tg.tensor(b, device=dev)
        (g,) = tg.autograd.grad(tg.einsum("ij,jk->", x * x, y), x, create_graph=True)
        (h,) = tg.autograd.grad((g * g).sum(), x)
        grads.append(h.cpu().numpy())
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-10)


# ---- solves and decompositions: a host round trip ---------------------------------------

def test_linalg_results_and_gradients_stay_on_the_device():
    A_ = tg.tensor(SPD, device="cuda", requires_grad=True)
    r = tg.linalg.eigh(A_)
    assert r.eigenvalues.device == "cuda" and r.eigenvectors.device == "cuda"
    assert tg.linalg.slogdet(A_).sign.device == "cuda"
    tg.linalg.det(A_).backward()
    assert A_.grad.device == "cuda"
    np.testing.assert_allclose(A_.grad.cpu().numpy(),
                               np.linalg.det(SPD) * np.linalg.inv(SPD).T, rtol=1e-10)
    with pytest.raises(RuntimeError, match="same device"):
        tg.linalg.solve(A_, tg.tensor(A))


def test_linalg_second_order_through_the_host():
    hs = []
    for dev in ("cpu", "cuda"):
        x = tg.tensor(SPD, device=dev, requires_grad=True)
        (g,) = tg.autograd.grad(tg.linalg.inv(x).sum(), x, create_graph=True)
        (h,) = tg.autograd.grad((g * g).sum(), x)
        assert h.device == dev
        hs.append(h.cpu().numpy())
    np.testing.assert_allclose(hs[1], hs[0], rtol=1e-10)


def test_bitwise_ops_of_bool_tensors_are_the_logical_ones():
    a, b = np.array([True, False, True, False]), np.array([True, True, False, False])
    x, y = tg.tensor(a, device="cuda"), tg.tensor(b, device="cuda")
    for got, want in (((x & y), a & b), ((x | y), a | b), ((x ^ y), a ^ b), ((x & True), a)):
        assert got.dtype == np.bool_
        np.testing.assert_array_equal(got.cpu().numpy(), want)


@pytest.mark.parametrize("mode,padding", [("nearest", "reflection"), ("bilinear", "border"),
                                          ("bilinear", "reflection"), ("nearest", "zeros"),
                                          ("bicubic", "zeros"), ("bicubic", "reflection")])
def test_grid_sample_and_affine_grid_on_the_device(mode, padding):
    """CUDA tensors take grid_sample's composition (the one-op form is CPU-only)."""
    theta = RNG.uniform(-1.2, 1.2, (1, 2, 3))

    def fn(x, t):
        grid = tg.nn.functional.affine_grid(t, (1, 1, 4, 5), align_corners=False)
        return tg.nn.functional.grid_sample(x.reshape(1, 1, 3, 3), grid, mode=mode,
                                            padding_mode=padding, align_corners=False)

    check(fn, A, theta)


@pytest.mark.parametrize("align", [False, True])
def test_bicubic_interpolate_on_the_device(align):
    """CUDA tensors take bicubic interpolate's composition (the one-op form is CPU-only)."""
    check(lambda x: tg.nn.functional.interpolate(x.reshape(1, 1, 3, 3), size=(4, 5),
                                                 mode="bicubic", align_corners=align), A)
