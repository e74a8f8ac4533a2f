"""PyTorch's refusals of complex input, for the ops whose formulas order values or are real-only.

NumPy computes many of them for complex arrays (ordering lexicographically, rounding each part),
so without a check tapegrad returned values PyTorch never gives. Each family calls ``refuse``
with its op's name where it already reads the input's dtype; the table holds PyTorch's
exception and message per op (the dtype named as PyTorch names it: ``ComplexDouble``,
``ComplexFloat``).
"""

import numpy as np

from .shapes import torch_dtype_name

_CLAMP = (NotImplementedError, "clamp is not supported for complex types")
_SORT = (RuntimeError, " Sort does not support complex dtypes on CPU")


def _kernel(name):
    """PyTorch's missing-kernel refusal: ``"<kernel>" not implemented for '<dtype>'``."""
    return (NotImplementedError, f'"{name}" not implemented for \'{{dtype}}\'')


REFUSALS = {
    # activations (nn.functional), each PyTorch's kernel
    "relu": _CLAMP, "hardtanh": _CLAMP, "relu6": _CLAMP,
    "leaky_relu": _kernel("leaky_relu_cpu"), "rrelu": _kernel("leaky_relu_cpu"),
    "rrelu.training": _kernel("rrelu_with_noise_out_cpu"), "prelu": _kernel("prelu_cpu"),
    "elu": _kernel("elu_cpu"), "celu": _kernel("elu_cpu"), "selu": _kernel("elu_cpu"),
    "gelu": _kernel("GeluKernelImpl"), "softplus": _kernel("softplus_cpu"),
    "logsigmoid": _kernel("log_sigmoid_cpu"), "mish": _kernel("mish_cpu"),
    "hardsigmoid": _kernel("hardsigmoid_cpu"), "hardswish": _kernel("hardswish_cpu"),
    "hardshrink": _kernel("hardshrink_cpu"), "softshrink": _kernel("softshrink_check"),
    "threshold": _kernel("threshold_cpu"), "glu": _kernel("glu_cpu"),
    "dropout": _kernel("bernoulli_scalar_cpu_"),
    "bernoulli": _kernel("bernoulli_tensor_cpu_self_"),
    "bernoulli.p": _kernel("bernoulli_scalar_cpu_"),
    # losses whose formulas are real-only (compares, squares meant as |d|^2)
    "mse_loss": _kernel("mse_cpu"), "smooth_l1_loss": _kernel("smooth_l1_cpu"),
    "huber_loss": _kernel("huber_cpu"),
    "kl_div": (RuntimeError, "kl_div: Complex inputs not supported."),
    # clamps and extrema of two operands
    "clamp": _CLAMP, "clamp.bounds": _kernel("clamp_cpu"),
    "clamp_min.tensor": _kernel("maximum_cpu"), "clamp_max.tensor": _kernel("minimum_cpu"),
    "maximum": (RuntimeError, "maximum not implemented for complex tensors."),
    "minimum": (RuntimeError, "minimum not implemented for complex tensors."),
    "fmax": (RuntimeError, "fmax not implemented for complex tensors."),
    "fmin": (RuntimeError, "fmin not implemented for complex tensors."),
    "hypot": _kernel("hypot_cpu"), "logaddexp2": _kernel("logaddexp2_cpu"),
    "copysign": _kernel("copysign_cpu"),
    # ordering: comparisons, reductions, sorts and selections
    "lt": _kernel("lt_cpu"), "le": _kernel("le_cpu"), "gt": _kernel("gt_cpu"),
    "ge": _kernel("ge_cpu"),
    "isin": (RuntimeError, "Unsupported input type encountered for isin(): {dtype}"),
    "max": _kernel("max_all"), "min": _kernel("min_all"),
    "max.dim": (RuntimeError, "max(): does not support complex input"),
    "min.dim": (RuntimeError, "min(): does not support complex input"),
    "amax": _kernel("max_values_cpu"), "amin": _kernel("min_values_cpu"),
    "aminmax": _kernel("aminmax_cpu"),
    "argmax": (RuntimeError, "argmax(): does not support complex input"),
    "argmin": (RuntimeError, "argmin(): does not support complex input"),
    "sort": _SORT, "topk": (RuntimeError, " topk does not support complex dtypes on CPU"),
    "kthvalue": _kernel("kthvalue_cpu"), "median": _kernel("median_cpu"),
    "median.dim": _kernel("median_out"),
    "mode": _kernel("mode_cpu"), "unique": _kernel("unique"),
    "unique.dim": _kernel("unique_dim"),
    "cummax": _kernel("cummax_cpu"), "cummin": _kernel("cummin_cpu"),
    "searchsorted": _kernel("searchsorted_out_cpu"),
    # real-only elementwise functions: signs and rounding
    "sign": (NotImplementedError, "Unlike NumPy, torch.sign is not intended to support complex "
             "numbers. Please use torch.sgn instead."),
    "round": _kernel("round_vml_cpu"), "round.decimals": _kernel("round_cpu"),
    "floor": (NotImplementedError, "floor is not supported for complex inputs"),
    "ceil": (NotImplementedError, "ceil is not supported for complex inputs"),
    "trunc": (NotImplementedError, "trunc is not supported for complex inputs"),
    "abs_": (RuntimeError, "In-place abs is not supported for complex tensors."),
    # special functions (SciPy's values, or compositions whose derivative is real-only)
    "lgamma": _kernel("lgamma_vml_cpu"), "digamma": _kernel("digamma"),
    "trigamma": _kernel("trigamma"), "polygamma": _kernel("polygamma"),
    "erfinv": _kernel("erfinv_vml_cpu"), "erfcx": _kernel("erfcx_cpu"),
    "log_ndtr": _kernel("log_ndtr_cpu"), "ndtri": _kernel("ndtri_cpu"),
    "entr": _kernel("entr_cpu"), "i0": _kernel("i0_vml_cpu"), "i0e": _kernel("i0e_cpu"),
    "i1": _kernel("i1_cpu"), "i1e": _kernel("i1e_cpu"), "logit": _kernel("logit_cpu"),
    "xlogy": _kernel("xlogy_cpu"), "xlog1py": _kernel("xlog1py_cpu"), "zeta": _kernel("zeta_cpu"),
    **{name: _kernel(name + "_cpu") for name in (
        "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_i0",
        "modified_bessel_i1", "modified_bessel_k0", "modified_bessel_k1",
        "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "spherical_bessel_j0")},
    # real-only binary functions: remainders, rounded quotients, steps, angles
    "fmod": _kernel("fmod_cpu"), "remainder": _kernel("remainder_cpu"),
    "floor_divide": _kernel("div_floor_cpu"), "div.trunc": _kernel("div_trunc_cpu"),
    "heaviside": (RuntimeError, "heaviside is not yet implemented for complex tensors."),
    "atan2": _kernel("atan2_cpu"),
    "signbit": (NotImplementedError, "signbit is not implemented for complex tensors."),
    "isposinf": (RuntimeError, "isposinf does not support complex inputs."),
    "isneginf": (RuntimeError, "isneginf does not support complex inputs."),
    "deg2rad": (RuntimeError, "deg2rad is not supported for complex tensors."),
    "rad2deg": (RuntimeError, "rad2deg is not supported for complex tensors."),
    # histograms (histc finds the data's range first) and softmax (kernel by dim)
    "histc": _kernel("aminmax_cpu"), "histc.range": _kernel("histogram_cpu"),
    "histogram": _kernel("histogramdd"),
    "softmax": _kernel("softmax_lastdim_kernel_impl"), "softmax.dim": _kernel("softmax_kernel_impl"),
    "log_softmax": _kernel("log_softmax_lastdim_kernel_impl"),
    "log_softmax.dim": _kernel("log_softmax_kernel_impl"),
}


# PyTorch's refusals of bool input, for the activations with no bool kernel (NumPy computes
# them, or the one-record forms would cast the bools to floats)
_HARDTANH_BOOL = (RuntimeError, "Bool inputs not supported for hardtanh")
BOOL_REFUSALS = {
    "relu": (RuntimeError, "Boolean inputs not supported for relu"),
    "hardtanh": _HARDTANH_BOOL, "relu6": _HARDTANH_BOOL,
    **{name: REFUSALS[name] for name in (
        "leaky_relu", "rrelu", "elu", "celu", "selu", "gelu", "softplus", "logsigmoid", "mish",
        "hardsigmoid", "hardswish", "hardshrink", "threshold", "glu")},
    "silu": _kernel("silu_cpu"),
}


def refusal(name, dtype):
    """PyTorch's exception for op ``name`` given a complex tensor of ``dtype``, marked as such
    (``is_refusal``): NumPy's functions on tensors (numpy_dispatch) then compute NumPy's
    complex result instead."""
    kind, message = (BOOL_REFUSALS if dtype.kind == "b" else REFUSALS)[name]
    error = kind(message.format(dtype=torch_dtype_name(dtype)))
    error.numpy_computes = True
    return error


def refusing_complex(np_f, name):
    """``np_f`` (``np.maximum``) refusing complex values in PyTorch's words, before anything is
    recorded: NumPy orders them lexicographically. (Only the ops that order pay for the test:
    ~60 ns, an identity test first for the common float64.)"""
    f64 = np.dtype(np.float64)

    def f(x, y):
        r = np_f(x, y)
        d = r.dtype
        if d is not f64 and d.kind == "c":
            raise refusal(name, d)
        return r

    f.__name__ = np_f.__name__
    return f


def is_refusal(error):
    """Whether ``error`` is one of these refusals (not another failure of the same type): one
    marked ``numpy_computes``, a refusal of PyTorch's where NumPy's function computes."""
    return getattr(error, "numpy_computes", False)


# ops whose complex values PyTorch computes but does not differentiate
NO_COMPLEX_GRAD = frozenset({"silu"})


def refuse(name, dtype, requires_grad=False):
    """Raise PyTorch's refusal of op ``name`` if ``dtype`` is complex, or bool for the ops
    that PyTorch has no bool kernel of (``BOOL_REFUSALS``); for the ``NO_COMPLEX_GRAD`` ops,
    only where the result would require grad (``requires_grad``)."""
    kind = dtype.kind
    if kind == "c" and name in NO_COMPLEX_GRAD:
        if requires_grad:
            raise RuntimeError(f"{name} does not support automatic differentiation for outputs "
                               "with complex dtype.")
    elif kind == "c" or kind == "b" and name in BOOL_REFUSALS:
        raise refusal(name, dtype)


def _dtype(v):
    d = getattr(v, "dtype", None)  # (one read: a tensor's dtype is a property)
    return d if d is not None else np.asarray(v).dtype


def complex_operand(v):
    """Whether operand ``v`` (a tensor, an array, a NumPy scalar, a Python number or a list)
    is complex; Python's real numbers answered by their type alone."""
    t = type(v)
    if t is float or t is int or t is bool:
        return False
    return t is complex or _dtype(v).kind == "c"


def refuse_pair(name, input, other):
    """``refuse`` for the dtype of two operands together, a Python number weak (PyTorch's
    promotion: ``xlogy`` of a complex64 tensor and 2.0 is ``ComplexFloat``)."""
    if complex_operand(input) or complex_operand(other):
        raise refusal(name, np.result_type(*(v if isinstance(v, (int, float, complex)) else
                                             _dtype(v) for v in (input, other))))
