"""Ops that PyTorch refuses for complex tensors refuse them here too, with PyTorch's exception
and message (NumPy would order complex values lexicographically, round each part, or a real-only
formula would run), and ``rsqrt`` of complex values is PyTorch's complex result with its
gradient. The messages are written out, so the checks run without torch; one test compares them
with live PyTorch for the same calls."""

import warnings

import numpy as np
import pytest

import tapegrad as tg

from tests.op_checks import needs_torch, torch

VALUES = [[0.5 + 0.3j, 1.2 - 0.7j], [-0.4 + 0.2j, 2j]]

CLAMP = "clamp is not supported for complex types"
SORT = " Sort does not support complex dtypes on CPU"
MAXIMUM = "maximum not implemented for complex tensors."
MINIMUM = "minimum not implemented for complex tensors."
NIE, RTE = NotImplementedError, RuntimeError


def kernel(name):
    return f"\"{name}\" not implemented for '{{dtype}}'"


F = lambda lib: lib.nn.functional  # noqa: E731  (the same calls run on tapegrad and torch)

# (id, call of (library, complex tensor), exception type, message with {dtype})
CASES = [
    # activations
    ("relu", lambda m, x: m.relu(x), NIE, CLAMP),
    ("relu_", lambda m, x: m.relu_(x), NIE, CLAMP),
    ("Tensor.relu", lambda m, x: x.relu(), NIE, CLAMP),
    ("F.relu", lambda m, x: F(m).relu(x), NIE, CLAMP),
    ("F.relu6", lambda m, x: F(m).relu6(x), NIE, CLAMP),
    ("F.hardtanh", lambda m, x: F(m).hardtanh(x), NIE, CLAMP),
    ("F.hardtanh_", lambda m, x: F(m).hardtanh_(x), NIE, CLAMP),
    ("F.leaky_relu", lambda m, x: F(m).leaky_relu(x), NIE, kernel("leaky_relu_cpu")),
    ("F.rrelu", lambda m, x: F(m).rrelu(x), NIE, kernel("leaky_relu_cpu")),
    ("F.rrelu.training", lambda m, x: F(m).rrelu(x, training=True), NIE,
     kernel("rrelu_with_noise_out_cpu")),
    ("F.elu", lambda m, x: F(m).elu(x), NIE, kernel("elu_cpu")),
    ("F.elu_", lambda m, x: F(m).elu_(x), NIE, kernel("elu_cpu")),
    ("F.celu", lambda m, x: F(m).celu(x), NIE, kernel("elu_cpu")),
    ("F.celu.alpha", lambda m, x: F(m).celu(x, 2.0), NIE, kernel("elu_cpu")),
    ("F.selu", lambda m, x: F(m).selu(x), NIE, kernel("elu_cpu")),
    ("selu", lambda m, x: m.selu(x), NIE, kernel("elu_cpu")),
    ("F.gelu", lambda m, x: F(m).gelu(x), NIE, kernel("GeluKernelImpl")),
    ("F.gelu.tanh", lambda m, x: F(m).gelu(x, approximate="tanh"), NIE,
     kernel("GeluKernelImpl")),
    ("F.softplus", lambda m, x: F(m).softplus(x), NIE, kernel("softplus_cpu")),
    ("F.logsigmoid", lambda m, x: F(m).logsigmoid(x), NIE, kernel("log_sigmoid_cpu")),
    ("F.mish", lambda m, x: F(m).mish(x), NIE, kernel("mish_cpu")),
    ("F.hardsigmoid", lambda m, x: F(m).hardsigmoid(x), NIE, kernel("hardsigmoid_cpu")),
    ("F.hardswish", lambda m, x: F(m).hardswish(x), NIE, kernel("hardswish_cpu")),
    ("F.hardshrink", lambda m, x: F(m).hardshrink(x), NIE, kernel("hardshrink_cpu")),
    ("hardshrink", lambda m, x: m.hardshrink(x), NIE, kernel("hardshrink_cpu")),
    ("F.softshrink", lambda m, x: F(m).softshrink(x), NIE, kernel("softshrink_check")),
    ("F.threshold", lambda m, x: F(m).threshold(x, 0.5, 0.0), NIE, kernel("threshold_cpu")),
    ("F.glu", lambda m, x: F(m).glu(x), NIE, kernel("glu_cpu")),
    ("F.prelu", lambda m, x: F(m).prelu(x, m.tensor([0.25], dtype=x.dtype)), NIE,
     kernel("prelu_cpu")),
    ("F.dropout", lambda m, x: F(m).dropout(x), NIE, kernel("bernoulli_scalar_cpu_")),
    ("F.dropout1d", lambda m, x: F(m).dropout1d(x), NIE, kernel("bernoulli_scalar_cpu_")),
    ("F.dropout2d", lambda m, x: F(m).dropout2d(x[None, None]), NIE,
     kernel("bernoulli_scalar_cpu_")),
    ("F.dropout3d", lambda m, x: F(m).dropout3d(x[None, None, None]), NIE,
     kernel("bernoulli_scalar_cpu_")),
    ("F.alpha_dropout", lambda m, x: F(m).alpha_dropout(x, 0.5, True), NIE,
     kernel("bernoulli_scalar_cpu_")),
    ("F.feature_alpha_dropout", lambda m, x: F(m).feature_alpha_dropout(x, 0.5, True), NIE,
     kernel("bernoulli_scalar_cpu_")),
    # clamps and extrema of two operands
    ("clamp", lambda m, x: m.clamp(x, 0.1, 0.9), NIE, CLAMP),
    ("clamp.min", lambda m, x: m.clamp(x, min=0.1), NIE, CLAMP),
    ("clamp.tensor_bounds", lambda m, x: m.clamp(x, x, x), NIE, CLAMP),
    ("clamp.real_input", lambda m, x: m.clamp(x.real, x, x), NIE, kernel("clamp_cpu")),
    ("clamp.real_input_min", lambda m, x: m.clamp(x.real, min=x), NIE, kernel("maximum_cpu")),
    ("clip", lambda m, x: m.clip(x, 0.1), NIE, CLAMP),
    ("Tensor.clamp_", lambda m, x: x.clamp_(0.1), NIE, CLAMP),
    ("clamp_min", lambda m, x: m.clamp_min(x, 0.1), NIE, CLAMP),
    ("clamp_min.tensor", lambda m, x: m.clamp_min(x, x), NIE, kernel("maximum_cpu")),
    ("clamp_max.tensor", lambda m, x: m.clamp_max(x, x), NIE, kernel("minimum_cpu")),
    ("maximum", lambda m, x: m.maximum(x, x), RTE, MAXIMUM),
    ("maximum.real_input", lambda m, x: m.maximum(x.real, x), RTE, MAXIMUM),
    ("minimum", lambda m, x: m.minimum(x, x.real), RTE, MINIMUM),
    ("max.other", lambda m, x: m.max(x, x), RTE, MAXIMUM),
    ("min.other", lambda m, x: m.min(x.real, x), RTE, MINIMUM),
    ("Tensor.maximum", lambda m, x: x.maximum(x), RTE, MAXIMUM),
    ("fmax", lambda m, x: m.fmax(x, x), RTE, "fmax not implemented for complex tensors."),
    ("fmin", lambda m, x: m.fmin(x, x.real), RTE, "fmin not implemented for complex tensors."),
    ("hypot", lambda m, x: m.hypot(x, x), NIE, kernel("hypot_cpu")),
    ("logaddexp2", lambda m, x: m.logaddexp2(x, x), NIE, kernel("logaddexp2_cpu")),
    ("copysign", lambda m, x: m.copysign(x, 1.0), NIE, kernel("copysign_cpu")),
    # comparisons that order (PyTorch's kernels; a reflected operator is its mirror's)
    ("lt", lambda m, x: x < x, NIE, kernel("lt_cpu")),
    ("le", lambda m, x: x <= x.real, NIE, kernel("le_cpu")),
    ("gt.real_input", lambda m, x: x.real > x, NIE, kernel("gt_cpu")),
    ("ge.number", lambda m, x: x >= 0.5, NIE, kernel("ge_cpu")),
    ("lt.reflected", lambda m, x: 0.5 < x, NIE, kernel("gt_cpu")),
    ("Tensor.lt", lambda m, x: x.lt(x), NIE, kernel("lt_cpu")),
    ("Tensor.le_", lambda m, x: x.le_(x), NIE, kernel("le_cpu")),
    ("gt", lambda m, x: m.gt(x, x), NIE, kernel("gt_cpu")),
    ("greater_equal", lambda m, x: m.greater_equal(x, x), NIE, kernel("ge_cpu")),
    ("less", lambda m, x: m.less(x.real, x), NIE, kernel("lt_cpu")),
    ("isin", lambda m, x: m.isin(x, x), RTE, "Unsupported input type encountered for isin(): "
     "{dtype}"),
    ("isin.real_elements", lambda m, x: m.isin(x.real, x), RTE,
     "Unsupported input type encountered for isin(): {dtype}"),
    # losses with real-only formulas, random draws
    ("F.mse_loss", lambda m, x: F(m).mse_loss(x, x), NIE, kernel("mse_cpu")),
    ("F.mse_loss.real_input", lambda m, x: F(m).mse_loss(x.real, x), NIE, kernel("mse_cpu")),
    ("F.smooth_l1_loss", lambda m, x: F(m).smooth_l1_loss(x, x.real), NIE,
     kernel("smooth_l1_cpu")),
    ("F.huber_loss", lambda m, x: F(m).huber_loss(x, x), NIE, kernel("huber_cpu")),
    ("F.kl_div", lambda m, x: F(m).kl_div(x.real, x, reduction="sum"), RTE,
     "kl_div: Complex inputs not supported."),
    ("bernoulli", lambda m, x: m.bernoulli(x), NIE, kernel("bernoulli_tensor_cpu_self_")),
    ("bernoulli.p", lambda m, x: m.bernoulli(x, 0.5), NIE, kernel("bernoulli_scalar_cpu_")),
    # ordering: reductions, sorts, selections
    ("max", lambda m, x: m.max(x), NIE, kernel("max_all")),
    ("Tensor.max", lambda m, x: x.max(), NIE, kernel("max_all")),
    ("min", lambda m, x: m.min(x), NIE, kernel("min_all")),
    ("max.dim", lambda m, x: m.max(x, 0), RTE, "max(): does not support complex input"),
    ("min.dim", lambda m, x: m.min(x, 1), RTE, "min(): does not support complex input"),
    ("amax", lambda m, x: m.amax(x), NIE, kernel("max_values_cpu")),
    ("amax.dim", lambda m, x: m.amax(x, 0), NIE, kernel("max_values_cpu")),
    ("amin", lambda m, x: m.amin(x), NIE, kernel("min_values_cpu")),
    ("aminmax", lambda m, x: m.aminmax(x), NIE, kernel("aminmax_cpu")),
    ("argmax", lambda m, x: m.argmax(x), RTE, "argmax(): does not support complex input"),
    ("argmax.dim", lambda m, x: m.argmax(x, 0), RTE, "argmax(): does not support complex input"),
    ("argmin", lambda m, x: m.argmin(x), RTE, "argmin(): does not support complex input"),
    ("sort", lambda m, x: m.sort(x), RTE, SORT),
    ("sort.descending", lambda m, x: m.sort(x, 0, descending=True), RTE, SORT),
    ("argsort", lambda m, x: m.argsort(x), RTE, SORT),
    ("msort", lambda m, x: m.msort(x), RTE, SORT),
    ("topk", lambda m, x: m.topk(x, 1), RTE, " topk does not support complex dtypes on CPU"),
    ("kthvalue", lambda m, x: m.kthvalue(x, 1), NIE, kernel("kthvalue_cpu")),
    ("median", lambda m, x: m.median(x), NIE, kernel("median_cpu")),
    ("median.dim", lambda m, x: m.median(x, 0), NIE, kernel("median_out")),
    ("nanmedian", lambda m, x: m.nanmedian(x), NIE, kernel("median_cpu")),
    ("nanmedian.dim", lambda m, x: m.nanmedian(x, 0), NIE, kernel("median_out")),
    ("mode", lambda m, x: m.mode(x), NIE, kernel("mode_cpu")),
    ("unique", lambda m, x: m.unique(x), NIE, kernel("unique")),
    ("unique.dim", lambda m, x: m.unique(x, dim=0), NIE, kernel("unique_dim")),
    ("unique_consecutive", lambda m, x: m.unique_consecutive(x), NIE, kernel("unique")),
    ("unique_consecutive.dim", lambda m, x: m.unique_consecutive(x, dim=0), NIE,
     kernel("unique_dim")),
    ("cummax", lambda m, x: m.cummax(x, 0), NIE, kernel("cummax_cpu")),
    ("cummin", lambda m, x: m.cummin(x, 1), NIE, kernel("cummin_cpu")),
    ("searchsorted", lambda m, x: m.searchsorted(x.real, x), NIE,
     kernel("searchsorted_out_cpu")),
    # signs and rounding
    ("sign", lambda m, x: m.sign(x), NIE, "Unlike NumPy, torch.sign is not intended to support "
     "complex numbers. Please use torch.sgn instead."),
    ("Tensor.sign_", lambda m, x: x.sign_(), NIE, "Unlike NumPy, torch.sign is not intended to "
     "support complex numbers. Please use torch.sgn instead."),
    ("abs_", lambda m, x: m.abs_(x), RTE, "In-place abs is not supported for complex tensors."),
    ("Tensor.abs_", lambda m, x: x.abs_(), RTE,
     "In-place abs is not supported for complex tensors."),
    ("Tensor.absolute_", lambda m, x: x.absolute_(), RTE,
     "In-place abs is not supported for complex tensors."),
    ("round", lambda m, x: m.round(x), NIE, kernel("round_vml_cpu")),
    ("round_", lambda m, x: m.round_(x), NIE, kernel("round_vml_cpu")),
    ("round.decimals", lambda m, x: m.round(x, decimals=1), NIE, kernel("round_cpu")),
    ("special.round", lambda m, x: m.special.round(x), NIE, kernel("round_vml_cpu")),
    ("floor", lambda m, x: m.floor(x), NIE, "floor is not supported for complex inputs"),
    ("ceil", lambda m, x: m.ceil(x), NIE, "ceil is not supported for complex inputs"),
    ("trunc", lambda m, x: m.trunc(x), NIE, "trunc is not supported for complex inputs"),
    ("fix", lambda m, x: m.fix(x), NIE, "trunc is not supported for complex inputs"),
    # special functions
    ("digamma", lambda m, x: m.digamma(x), NIE, kernel("digamma")),
    ("special.psi", lambda m, x: m.special.psi(x), NIE, kernel("digamma")),
    ("polygamma.1", lambda m, x: m.polygamma(1, x), NIE, kernel("trigamma")),
    ("polygamma.2", lambda m, x: m.polygamma(2, x), NIE, kernel("polygamma")),
    ("lgamma", lambda m, x: m.lgamma(x), NIE, kernel("lgamma_vml_cpu")),
    ("special.gammaln", lambda m, x: m.special.gammaln(x), NIE, kernel("lgamma_vml_cpu")),
    ("erfinv", lambda m, x: m.erfinv(x), NIE, kernel("erfinv_vml_cpu")),
    ("special.erfcx", lambda m, x: m.special.erfcx(x), NIE, kernel("erfcx_cpu")),
    ("special.log_ndtr", lambda m, x: m.special.log_ndtr(x), NIE, kernel("log_ndtr_cpu")),
    ("special.ndtri", lambda m, x: m.special.ndtri(x), NIE, kernel("ndtri_cpu")),
    ("special.entr", lambda m, x: m.special.entr(x), NIE, kernel("entr_cpu")),
    ("special.i0", lambda m, x: m.special.i0(x), NIE, kernel("i0_vml_cpu")),
    ("special.i0e", lambda m, x: m.special.i0e(x), NIE, kernel("i0e_cpu")),
    ("special.i1", lambda m, x: m.special.i1(x), NIE, kernel("i1_cpu")),
    ("special.i1e", lambda m, x: m.special.i1e(x), NIE, kernel("i1e_cpu")),
    ("logit", lambda m, x: m.logit(x), NIE, kernel("logit_cpu")),
    ("logit.eps", lambda m, x: m.logit(x, 0.1), NIE, kernel("logit_cpu")),
    ("special.logit", lambda m, x: m.special.logit(x), NIE, kernel("logit_cpu")),
    ("xlogy", lambda m, x: m.xlogy(x, x), NIE, kernel("xlogy_cpu")),
    ("xlogy.real_self", lambda m, x: m.xlogy(x.real, x), NIE, kernel("xlogy_cpu")),
    ("xlogy.number", lambda m, x: m.xlogy(x, 2.0), NIE, kernel("xlogy_cpu")),
    ("xlogy.number_self", lambda m, x: m.xlogy(2.0, x), NIE, kernel("xlogy_cpu")),
    ("special.xlog1py", lambda m, x: m.special.xlog1py(x, x), NIE, kernel("xlog1py_cpu")),
    ("special.xlog1py.number", lambda m, x: m.special.xlog1py(x, 2.0), NIE,
     kernel("xlog1py_cpu")),
    # remainders, rounded quotients, steps, angles, sign bits
    ("remainder", lambda m, x: m.remainder(x, 2), NIE, kernel("remainder_cpu")),
    ("Tensor.__mod__", lambda m, x: x % 2, NIE, kernel("remainder_cpu")),
    ("Tensor.__rmod__", lambda m, x: 2 % x, NIE, kernel("remainder_cpu")),
    ("fmod", lambda m, x: m.fmod(x, 2), NIE, kernel("fmod_cpu")),
    ("floor_divide", lambda m, x: m.floor_divide(x, 2), NIE, kernel("div_floor_cpu")),
    ("Tensor.__floordiv__", lambda m, x: x // 2, NIE, kernel("div_floor_cpu")),
    ("div.floor", lambda m, x: m.div(x, 2, rounding_mode="floor"), NIE, kernel("div_floor_cpu")),
    ("div.trunc", lambda m, x: m.div(x, 2, rounding_mode="trunc"), NIE, kernel("div_trunc_cpu")),
    ("div.trunc.real_self", lambda m, x: m.div(x.real, x, rounding_mode="trunc"), NIE,
     kernel("div_trunc_cpu")),
    ("heaviside", lambda m, x: m.heaviside(x, x), RTE,
     "heaviside is not yet implemented for complex tensors."),
    ("atan2", lambda m, x: m.atan2(x, x), NIE, kernel("atan2_cpu")),
    ("arctan2.real_self", lambda m, x: m.arctan2(x.real, x), NIE, kernel("atan2_cpu")),
    ("signbit", lambda m, x: m.signbit(x), NIE, "signbit is not implemented for complex tensors."),
    ("isposinf", lambda m, x: m.isposinf(x), RTE, "isposinf does not support complex inputs."),
    ("isneginf", lambda m, x: m.isneginf(x), RTE, "isneginf does not support complex inputs."),
    ("deg2rad", lambda m, x: m.deg2rad(x), RTE, "deg2rad is not supported for complex tensors."),
    ("rad2deg", lambda m, x: m.rad2deg(x), RTE, "rad2deg is not supported for complex tensors."),
    # histograms and softmax
    ("histc", lambda m, x: m.histc(x), NIE, kernel("aminmax_cpu")),
    ("histc.range", lambda m, x: m.histc(x, min=0, max=1), NIE, kernel("histogram_cpu")),
    ("histogram", lambda m, x: m.histogram(x), NIE, kernel("histogramdd")),
    ("softmax", lambda m, x: m.softmax(x, 1), NIE, kernel("softmax_lastdim_kernel_impl")),
    ("softmax.dim", lambda m, x: m.softmax(x, 0), NIE, kernel("softmax_kernel_impl")),
    ("F.softmin", lambda m, x: F(m).softmin(x, -1), NIE, kernel("softmax_lastdim_kernel_impl")),
    ("log_softmax", lambda m, x: m.log_softmax(x, -1), NIE,
     kernel("log_softmax_lastdim_kernel_impl")),
    ("F.log_softmax.dim", lambda m, x: F(m).log_softmax(x, 0), NIE,
     kernel("log_softmax_kernel_impl")),
]
IDS = [c[0] for c in CASES]
DTYPES = {"complex128": "ComplexDouble", "complex64": "ComplexFloat"}


def _complex(lib, dtype):
    return lib.tensor(VALUES, dtype=getattr(lib, dtype))


def _raised(call, lib, x):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (dropout2d/3d's rank warnings)
        with pytest.raises(Exception) as info:
            call(lib, x)
    return info.value


@pytest.mark.parametrize("dtype", list(DTYPES))
@pytest.mark.parametrize("name,call,kind,message", CASES, ids=IDS)
def test_complex_input_gets_pytorchs_refusal(name, call, kind, message, dtype):
    error = _raised(call, tg, _complex(tg, dtype))
    assert type(error) is kind
    assert str(error) == message.format(dtype=DTYPES[dtype])


@pytest.mark.parametrize("dtype", list(DTYPES))
@pytest.mark.parametrize("name,call,kind,message", CASES, ids=IDS)
def test_refusal_also_when_the_input_requires_grad(name, call, kind, message, dtype):
    x = _complex(tg, dtype).requires_grad_()
    if name.startswith(("F.dropout", "F.alpha", "F.feature", "Tensor.", "round_", "relu_",
                        "abs_", "F.elu_", "F.hardtanh_")):
        x = x * 1.0  # (in place: not on a leaf)
    error = _raised(call, tg, x)
    assert type(error) is kind
    assert str(error) == message.format(dtype=DTYPES[dtype])


@pytest.mark.parametrize("name,call,kind,message", CASES, ids=IDS)
def test_real_input_is_not_refused(name, call, kind, message):
    x = tg.tensor(np.abs(np.real(VALUES)) / 2 + 0.25)  # (in (0, 1): every function's domain)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = call(tg, x)
    first = out[0] if isinstance(out, tuple) else out
    assert np.dtype(first.dtype).kind in "fib"  # (values, indices, or a comparison's mask)


@needs_torch
@pytest.mark.parametrize("dtype", list(DTYPES))
@pytest.mark.parametrize("name,call,kind,message", CASES, ids=IDS)
def test_refusals_match_live_pytorch(name, call, kind, message, dtype):
    expected = _raised(call, torch, _complex(torch, dtype))
    error = _raised(call, tg, _complex(tg, dtype))
    assert (type(error), str(error)) == (type(expected), str(expected))


# ---- rsqrt: PyTorch's complex values and their gradient -------------------------------------

Z = np.array([0.5 + 0.3j, 1.2 - 0.7j, -0.4 + 0.2j, -2.0 + 0.0j, 3.0 + 0.0j, 1j])


@pytest.mark.parametrize("dtype,tol", [(np.complex128, 1e-14), (np.complex64, 1e-6)])
def test_rsqrt_of_complex_is_the_principal_inverse_square_root(dtype, tol):
    out = tg.rsqrt(tg.tensor(Z.astype(dtype)))
    assert out.dtype == tg.tensor(Z.astype(dtype)).dtype
    np.testing.assert_allclose(out.numpy(), 1 / np.sqrt(Z.astype(np.complex128)), rtol=tol)
    # PyTorch 2.13's value at 0.5 + 0.3j
    np.testing.assert_allclose(out.numpy()[0], 1.2621 - 0.3496j, atol=1e-4)


def test_rsqrt_in_place_keeps_complex_values():
    x = tg.tensor(Z)
    x.rsqrt_()
    np.testing.assert_allclose(x.numpy(), 1 / np.sqrt(Z), rtol=1e-14)


def test_rsqrt_of_complex_gradient_by_finite_differences():
    z = np.delete(Z, 3)  # (-2 lies on the branch cut: differences across it jump)
    x = tg.tensor(z, requires_grad=True)
    assert tg.autograd.gradcheck(tg.rsqrt, (x,))
    assert tg.autograd.gradgradcheck(tg.rsqrt, (x,))
    # PyTorch's convention, by hand: for the real loss L = Re(sum(w * rsqrt(z))), the gradient
    # is dL/da + i dL/db
    w = np.array([1 + 2j, 0.5 - 1j, 2.0, -1.0, 0.3 + 0.1j])
    grad, = tg.autograd.grad(tg.real(tg.rsqrt(x) * tg.tensor(w)).sum(), x)
    h = 1e-6

    def loss(z):
        return np.real(w / np.sqrt(z)).sum()

    expected = [(loss(z + h * e) - loss(z - h * e) + 1j * (loss(z + 1j * h * e) -
                                                            loss(z - 1j * h * e))) / (2 * h)
                for e in np.eye(len(z))]
    np.testing.assert_allclose(grad.numpy(), expected, rtol=1e-6)


@needs_torch
def test_rsqrt_of_complex_matches_pytorch():
    x = tg.tensor(Z, requires_grad=True)
    xt = torch.tensor(Z, requires_grad=True)
    w = np.array([1 + 2j, 0.5 - 1j, 2.0, 1j, -1.0, 0.3 + 0.1j])
    y, yt = tg.rsqrt(x), torch.rsqrt(xt)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-14)
    g, = tg.autograd.grad(tg.real(y * tg.tensor(w)).sum(), x)
    gt, = torch.autograd.grad(torch.real(yt * torch.tensor(w)).sum(), xt)
    np.testing.assert_allclose(g.numpy(), gt.numpy(), rtol=1e-12)


# ---- left as NumPy/SciPy compute them: right values and gradients, a superset of PyTorch ----

@pytest.mark.parametrize("f", [tg.erf, tg.erfc, tg.special.ndtr],
                         ids=["erf", "erfc", "ndtr"])
def test_erf_family_of_complex_keeps_scipys_values_and_gradient(f):
    special = pytest.importorskip("scipy.special")
    z = Z[:3]
    expected = {tg.erf: special.erf, tg.erfc: special.erfc,
                tg.special.ndtr: special.ndtr}[f](z)
    np.testing.assert_allclose(f(tg.tensor(z)).numpy(), expected, rtol=1e-12)
    assert tg.autograd.gradcheck(f, (tg.tensor(z, requires_grad=True),))


# ---- float_power: double precision is complex128 for complex operands -----------------------

@pytest.mark.parametrize("exponent", [2, 0.5, np.array([1.5 - 0.5j, 0.5, 2.0, 1j, -1.0, 3.0])],
                         ids=["int", "float", "complex"])
def test_float_power_of_complex_is_complex128(exponent):
    base = Z.astype(np.complex64)
    out = tg.float_power(tg.tensor(base), tg.tensor(exponent) if np.ndim(exponent) else exponent)
    assert out.dtype == np.complex128
    np.testing.assert_allclose(out.numpy(), np.float_power(base.astype(np.complex128), exponent),
                               rtol=1e-12)


def test_float_power_of_complex_gradient():
    z = np.delete(Z, 3)  # (off the branch cut)
    x = tg.tensor(z, requires_grad=True)
    y = tg.tensor([1.5, 0.5, 2.0, -1.0, 3.0], requires_grad=True)
    assert tg.autograd.gradcheck(tg.float_power, (x, y))


@needs_torch
def test_float_power_of_complex_matches_pytorch():
    w = np.array([1 + 2j, 0.5 - 1j, 2.0, 1j, -1.0, 0.3 + 0.1j])
    e = np.array([1.5, 0.5, 2.0, 1.0, -1.0, 3.0])
    x, y = tg.tensor(Z, requires_grad=True), tg.tensor(e, requires_grad=True)
    xt, yt = torch.tensor(Z, requires_grad=True), torch.tensor(e, requires_grad=True)
    out, expected = tg.float_power(x, y), torch.float_power(xt, yt)
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-12)
    grads = tg.autograd.grad(tg.real(out * tg.tensor(w)).sum(), (x, y))
    expected_grads = torch.autograd.grad(torch.real(expected * torch.tensor(w)).sum(), (xt, yt))
    for g, gt in zip(grads, expected_grads):
        np.testing.assert_allclose(g.numpy(), gt.numpy(), rtol=1e-10)


# ---- NumPy's functions on complex tensors stay NumPy's ----------------------------------------

# (name, function, whether its tapegrad op refuses complex: then NumPy computes it, and a
# tensor that requires grad gets the not-implemented error)
NUMPY_CALLS = [
    ("max", np.max, True), ("amin", np.amin, True), ("ptp", np.ptp, True),
    ("sign", np.sign, True), ("clip", lambda a: np.clip(a, 0.0, 1.0), True),
    ("maximum.accumulate", np.maximum.accumulate, True), ("round", np.round, False),
    ("sort", np.sort, False), ("median", np.median, False),
    ("maximum", lambda a: np.maximum(a, a[::-1]), True),
    ("minimum", lambda a: np.minimum(a[::-1], 0.5), True),
]


@pytest.mark.parametrize("f,refused", [c[1:] for c in NUMPY_CALLS],
                         ids=[c[0] for c in NUMPY_CALLS])
def test_numpy_functions_of_complex_tensors_keep_numpys_values(f, refused):
    z = np.array(VALUES).ravel()
    out = f(tg.tensor(z))
    np.testing.assert_array_equal(np.asarray(out.numpy() if hasattr(out, "numpy") else out),
                                  f(z))
    if refused:
        with pytest.raises(TypeError, match="for tensors that require grad"):
            f(tg.tensor(z, requires_grad=True))


def test_scipy_special_of_complex_tensors_keeps_scipys_values():
    special = pytest.importorskip("scipy.special")
    z = np.array(VALUES).ravel()
    for f in (special.digamma, special.erfcx, special.xlogy):
        args = (z, z) if f is special.xlogy else (z,)
        out = f(*(tg.tensor(a) for a in args))
        np.testing.assert_allclose(np.asarray(out.numpy() if hasattr(out, "numpy") else out),
                                   f(*args), rtol=1e-13)


# comparisons of complex tensors through NumPy: NumPy's lexicographic order, also for a tensor
# that requires grad (a bool result loses no gradient)
NUMPY_ORDERINGS = [np.less, np.less_equal, np.greater, np.greater_equal]


@pytest.mark.parametrize("f", NUMPY_ORDERINGS, ids=[f.__name__ for f in NUMPY_ORDERINGS])
@pytest.mark.parametrize("requires_grad", [False, True])
def test_numpy_comparisons_of_complex_tensors_keep_numpys_order(f, requires_grad):
    z = np.array(VALUES).ravel()
    out = f(tg.tensor(z, requires_grad=requires_grad), tg.tensor(z[::-1].copy()))
    np.testing.assert_array_equal(out.numpy(), f(z, z[::-1]))
    np.testing.assert_array_equal(f(tg.tensor(z), 0.5).numpy(), f(z, 0.5))


@pytest.mark.parametrize("dtype, name", [(np.complex128, "ComplexDouble"),
                                         (np.complex64, "ComplexFloat"), (np.float64, "Double"),
                                         (np.bool_, "Bool")])
def test_bincount_of_non_integers_has_no_kernel(dtype, name):
    """(PyTorch's missing-kernel error for float, complex and bool input of any shape, before
    its shape error)"""
    for shape in [(2,), (1, 1), ()]:
        with pytest.raises(NotImplementedError, match=f"^\"bincount_cpu\" not implemented "
                                                      f"for '{name}'$"):
            tg.bincount(tg.tensor(np.ones(shape, dtype)))
    with pytest.raises(RuntimeError, match="bincount only supports 1-d non-negative integral"):
        tg.bincount(tg.tensor(np.array([[1]])))


@pytest.mark.parametrize("a, b, name", [
    ([1 + 1j, 2], [1j, 1 + 0j], "ComplexDouble"),
    (np.array([1 + 1j], np.complex64), np.array([1.0], np.float32), "ComplexFloat"),
])
def test_cosine_similarity_refuses_complex_operands(a, b, name):
    """(it gave sum(x1 * x2) / norms, no conjugate: a value of no definition)"""
    with pytest.raises(RuntimeError, match=f"^expected common dtype to be floating point, yet "
                                           f"common dtype is {name}$"):
        tg.nn.functional.cosine_similarity(tg.tensor(a), tg.tensor(b), dim=0)


def test_refusals_numpy_computes_are_marked_so():
    """PyTorch's refusals that NumPy's functions on tensors replace by NumPy's result (a bool
    matmul, a complex maximum) carry the mark; other errors of the same type do not."""
    from tapegrad.ops.complex_refusals import is_refusal

    b = tg.tensor([[True, False], [True, True]])
    with pytest.raises(NotImplementedError) as info:
        tg.matmul(b, b)
    assert is_refusal(info.value)
    np.testing.assert_array_equal(np.matmul(b, b).numpy(), np.matmul(b.numpy(), b.numpy()))
    z = tg.tensor([1 + 2j, 3 - 1j])
    with pytest.raises(RuntimeError) as info:
        tg.maximum(z, z)
    assert is_refusal(info.value)
    assert not is_refusal(NotImplementedError("other"))
