"""Parameter initialisation in place, PyTorch's ``torch.nn.init`` (runs under ``no_grad``).

Random draws come from the generator seeded by ``tg.manual_seed``.

Example:
    >>> import tapegrad as tg
    >>> w = tg.empty(3, 5)
    >>> _ = tg.nn.init.xavier_uniform_(w)
    >>> bool(w.abs().max() <= (6 / 8) ** 0.5)
    True
"""

import math
import warnings

import numpy as np

from .. import creation
from ..grad_mode import no_grad
from ..ops import inplace as _inplace
from ..ops.complex_refusals import refuse
from ..tensor import bump_version
from ..torch_names.methods import check_normal_std, check_uniform_range

__all__ = ["calculate_gain", "uniform_", "normal_", "trunc_normal_", "zeros_", "ones_",
           "constant_", "eye_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
           "kaiming_normal_", "sparse_"]


def _rng(generator=None):
    return creation.draws(generator)  # (a tg.Generator's NumPy generator, else the default's)


def _fill(tensor, values, op="copy_"):
    """Write ``values`` into ``tensor``'s storage (no history: the no_grad of PyTorch's init).
    ``op``: the in-place op PyTorch's init runs (None: one it does not check inside grad/jvp,
    as ``eye_``'s ``out=``), which a captured tensor refuses there."""
    if _inplace.capture_check is not None and op is not None:
        _inplace.capture_check(tensor, name=op)
    arr = tensor._arr()
    if tensor.is_cuda:  # values drawn on the host, as for a CPU tensor, then copied over
        with no_grad():
            tensor.copy_(creation.tensor(np.broadcast_to(values, arr.shape), dtype=arr.dtype))
        return tensor
    if arr.ndim == 0 and type(tensor._data) is float:
        tensor._data = np.array(values, dtype=arr.dtype)
    else:
        arr[...] = values
    bump_version(tensor)
    return tensor


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for ``nonlinearity`` (PyTorch's table)."""
    linear_fns = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                  "conv_transpose2d", "conv_transpose3d"]
    if nonlinearity in linear_fns or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif not isinstance(param, bool) and isinstance(param, (int, float)):
            negative_slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + negative_slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor):
    dimensions = tensor.ndim
    if dimensions < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 "
                         "dimensions")
    num_input_fmaps = tensor.shape[1]
    num_output_fmaps = tensor.shape[0]
    receptive_field_size = 1
    for s in tensor.shape[2:]:
        receptive_field_size *= s
    return num_input_fmaps * receptive_field_size, num_output_fmaps * receptive_field_size


def _calculate_correct_fan(tensor, mode):
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of ['fan_in', 'fan_out']")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _complex_parts(tensor, draw):
    """``draw(shape)`` for a real tensor; for a complex one, both parts drawn, as PyTorch's
    init functions (which view complex tensors as real)."""
    if tensor.dtype.kind != "c":
        return draw(tensor.shape)
    parts = draw(tuple(tensor.shape) + (2,))
    return parts[..., 0] + 1j * parts[..., 1]


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill with draws from U(a, b) (each part of complex values)."""
    check_uniform_range(a, b)
    rng = _rng(generator)
    return _fill(tensor, _complex_parts(tensor, lambda shape: rng.uniform(a, b, shape)),
                 "uniform_")


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill with draws from N(mean, std²) (complex values: N(mean, std²/2) in each part, as
    PyTorch's complex normal)."""
    return _fill(tensor, _normal_draws(tensor, _rng(generator), mean, std), "normal_")


def _normal_draws(tensor, rng, mean, std):
    """N(mean, std²) draws shaped as ``tensor``; for a complex one, N(mean, std²/2) in each
    part (PyTorch's complex normal)."""
    check_normal_std(std)
    part_std = std / math.sqrt(2.0) if tensor.dtype.kind == "c" else std
    return _complex_parts(tensor, lambda shape: rng.normal(mean, part_std, shape))


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Fill with N(mean, std²) draws truncated to [a, b], as PyTorch draws them: by rejection
    from the normal where [a, b] holds more than 0.3 of its mass, else uniform proposals on
    [a, b] accepted with probability pdf / pdf(mode) (a tail interval ends; rejection from the
    normal alone could run forever there)."""
    refuse("lt", tensor.dtype)  # (PyTorch's bounds compare the complex draws)
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The "
                      "distribution of values may be incorrect.", stacklevel=2)
    rng = _rng(generator)
    cdf = lambda x: (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0  # noqa: E731
    if cdf((b - mean) / std) - cdf((a - mean) / std) > 0.3:
        lo, hi = (float(np.asarray(v, tensor.dtype)) for v in (a, b))  # (the tensor's bounds)
        out = rng.normal(mean, std, tensor.shape)
        bad = (out < lo) | (out > hi)
        while bad.any():
            out[bad] = rng.normal(mean, std, int(bad.sum()))
            bad = (out < lo) | (out > hi)
        return _fill(tensor, out, "normal_")
    check_uniform_range(a, b)
    log_peak = -0.5 * ((max(a, min(mean, b)) - mean) / std) ** 2
    out = np.empty(tensor.shape)
    pending = np.ones(tensor.shape, bool)
    while pending.any():
        n = int(pending.sum())
        x = rng.uniform(a, b, n)
        keep = np.log(rng.uniform(size=n)) <= -0.5 * ((x - mean) / std) ** 2 - log_peak
        idx = np.flatnonzero(pending)[keep]
        out.flat[idx] = x[keep]
        pending.flat[idx] = False
    return _fill(tensor, out, "normal_")


def constant_(tensor, val):
    return _fill(tensor, val, "fill_")


def zeros_(tensor):
    return _fill(tensor, 0.0, "zero_")


def ones_(tensor):
    return _fill(tensor, 1.0, "fill_")


def eye_(tensor):
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    return _fill(tensor, np.eye(*tensor.shape), None)


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    a = math.sqrt(3.0) * std
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """N(0, std²) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def _kaiming_std(tensor, a, mode, nonlinearity):
    """He et al.'s std = gain / sqrt(fan) for ``kaiming_*_``, or None (after PyTorch's warning,
    pointed at the caller's caller) for a zero-element tensor, which is left as it is."""
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return None
    fan = _calculate_correct_fan(tensor, mode)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """U(-b, b) with b = gain * sqrt(3 / fan) (He et al.)."""
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """N(0, std²) with std = gain / sqrt(fan) (He et al.)."""
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    return normal_(tensor, 0.0, std, generator)


def orthogonal_(tensor, gain=1.0, generator=None):
    """A (semi-)orthogonal matrix (the tensor's trailing dims flattened), scaled by ``gain``:
    the Q of a Gaussian matrix's QR, its signs fixed by R's diagonal (Saxe et al.)."""
    if tensor.ndim < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    refuse("sign", tensor.dtype)  # (PyTorch's signs of R's diagonal)
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = _rng(generator).normal(0.0, 1.0, (rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, (gain * q).reshape(tensor.shape))


def sparse_(tensor, sparsity, std=0.01, generator=None):
    """A sparse matrix: N(0, std²) draws with ``ceil(sparsity * rows)`` random rows zeroed in
    each column (Martens, 2010). As PyTorch, ``generator`` draws the values, and the rows to
    zero come from the default generator."""
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    rows, cols = tensor.shape
    num_zeros = math.ceil(sparsity * rows)
    values = _normal_draws(tensor, _rng(generator), 0.0, std)
    draws = _rng()
    for col in range(cols):
        values[draws.permutation(rows)[:num_zeros], col] = 0.0
    return _fill(tensor, values, "normal_")


def dirac_(tensor, groups=1):
    """The identity of a convolution: 1 at each kernel's centre where the output channel
    (within its group) equals the input channel."""
    d = tensor.ndim
    if d not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    out = tensor.shape[0]
    if out % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    per = out // groups
    values = np.zeros(tensor.shape)
    centre = tuple(k // 2 for k in tensor.shape[2:])
    for g in range(groups):
        for i in range(min(per, tensor.shape[1])):
            values[(g * per + i, i) + centre] = 1.0
    return _fill(tensor, values, "zero_")


def _default_layer_init(weight, bias):
    """PyTorch's initialisation of ``Linear`` and ``Conv*d``: the weight from kaiming-uniform
    with ``a=sqrt(5)`` (U(±1/sqrt(fan_in))), the bias (if any) from U(±1/sqrt(fan_in))."""
    kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = _calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        uniform_(bias, -bound, bound)


def _deprecated_alias(fill):
    """PyTorch's old name of ``fill`` (no trailing underscore): a FutureWarning, then ``fill``."""
    old, new = fill.__name__[:-1], fill.__name__

    def alias(*args, **kwargs):
        warnings.warn(f"`nn.init.{old}` is now deprecated in favor of `nn.init.{new}`.",
                      FutureWarning, stacklevel=2)
        return fill(*args, **kwargs)

    alias.__name__ = alias.__qualname__ = old
    alias.__doc__ = f"Deprecated: ``{new}``."
    return alias


uniform, normal, constant, eye, dirac, xavier_uniform, xavier_normal = (
    _deprecated_alias(f) for f in (uniform_, normal_, constant_, eye_, dirac_, xavier_uniform_,
                                   xavier_normal_))
kaiming_uniform, kaiming_normal, orthogonal, sparse = (
    _deprecated_alias(f) for f in (kaiming_uniform_, kaiming_normal_, orthogonal_, sparse_))
