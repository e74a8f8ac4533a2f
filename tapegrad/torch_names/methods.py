"""The torch functions of this package bound as Tensor methods (``x.floor()``,
``x.roll(1, 0)``, ``x.floor_()``), and the Tensor-only conveniences PyTorch users call
(``expand_as``, ``type_as``, ``new_zeros``, ``H``, ...)."""

import warnings

import numpy as np

from .. import creation as _creation
from .. import ops as _ops
from ..memory_format import check_memory_format
from ..size import keyword_size
from ..ops import inference_writes as _inference_writes
from ..ops import inplace as _inplace
from ..ops import scatter_reduced as _scatter_reduced
from ..ops.clamp_inplace import in_c_words
from ..ops.cuda_linalg import on_host
from ..ops.record import as_tensor as _as_tensor
from ..ops.elementwise import clone as _clone_op
from ..ops.broadcast_shapes import infer_size
from ..tensor import _DTYPE_NAMES, Tensor
from . import construct, expanded_fills, legacy_methods, legacy_types, matrix_props, more
from ._common import sizes_of
from .shapes import tile

# functions whose method form is ``x.name(*args)`` with x the first argument (torch.Tensor has
# each of these methods)
METHOD_NAMES = (
    "floor ceil trunc fix round frac sgn signbit reciprocal log2 log10 exp2 deg2rad rad2deg "
    "sinc logit float_power clip clamp_min clamp_max hypot logaddexp logaddexp2 copysign fmax "
    "fmin fmod remainder floor_divide heaviside logical_xor multiply true_divide divide "
    "subtract absolute negative positive lerp addcmul addcdiv lgamma digamma erfinv "
    "all any count_nonzero nansum nanmean aminmax cumprod cummax cummin mode msort nanmedian quantile "
    "nanquantile movedim moveaxis swapaxes swapdims narrow select unflatten tensor_split "
    "hsplit vsplit dsplit flipud fliplr rot90 roll take masked_select index_fill index_copy "
    "inner vdot kron cross addmm addmv addr baddbmm addbmm dist tril triu diag diagflat index_put "
    "diag_embed renorm det inverse slogdet logdet svd pinverse matrix_power cholesky "
    "matrix_exp diff cov corrcoef nonzero argwhere unique unique_consecutive bincount "
    "equal arccosh arcsinh arctanh bernoulli multinomial qr triangular_solve orgqr lu lu_solve norm "
    "igamma igammac stft istft"
).split()

# in-place forms ``x.name_(...)``: the function's result written into x
INPLACE_NAMES = (
    "floor ceil trunc fix round frac sgn reciprocal log2 log10 exp2 deg2rad rad2deg sinc logit "
    "float_power clip clamp_min clamp_max hypot copysign fmod remainder floor_divide heaviside "
    "logical_xor multiply true_divide divide subtract absolute negative lerp addcmul addcdiv "
    "lgamma digamma erfinv tril triu renorm addmm addmv addr baddbmm addbmm index_fill index_put "
    "index_copy arccosh arcsinh arctanh igamma igammac"
).split()


# in-place forms of the op library's functions
OP_INPLACE_NAMES = ("masked_fill scatter scatter_add square nan_to_num atan2 erf erfc sinh cosh "
                    "asin acos atan asinh acosh atanh xlogy").split()


def _random_fill(draw):
    """``x.uniform_(...)`` & co.: ``x`` overwritten with draws (a zero gradient to what it
    held, as ``fill_``), from tapegrad's generator (``tg.manual_seed``)."""
    def fill(x, values):  # (its name is the op's in the captured-tensor error of grad/jvp)
        return _inplace._overwrite(x, values)

    def method(self, *args, generator=None, **kwargs):
        values = draw(self, *args, **kwargs)
        return _inplace.apply(self, fill, values.to(self.dtype), casting="unsafe")

    fill.__name__ = draw.__name__.lstrip("_") + "_"
    _inference_writes.DRAWS.add(fill)
    return method


def _both_parts(x, v):
    """``v`` added to each part of a complex ``x`` (PyTorch's complex uniform_/normal_)."""
    return v * (1 + 1j) if x.dtype.kind == "c" else v


def _uniform(x, a=0.0, b=1.0):
    check_uniform_range(a, b)
    return _creation.rand_like(x) * (b - a) + _both_parts(x, a)


def check_uniform_range(a, b):
    """PyTorch's refusal of reversed bounds in ``uniform_``."""
    if a > b:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found "
                           f"from={a:g} > to={b:g}")


def _normal(x, mean=0.0, std=1.0):
    check_normal_std(std)
    return _creation.randn_like(x) * std + _both_parts(x, mean)


def check_normal_std(std):
    """PyTorch's refusal of a negative standard deviation in ``normal_``."""
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")


def _bernoulli(x, p=0.5):
    _not_for(x, "bernoulli_scalar_cpu_", "fiub")
    return (_uniform_draws(x) < p).to(x.dtype)


def _uniform_draws(x):
    """Draws from [0, 1) shaped as ``x``: in its dtype if it holds floats, else in float64
    (``bernoulli_``/``geometric_`` of an integer tensor)."""
    return _creation.rand_like(x, dtype=None if x.dtype.kind in "fc" else np.float64)


def _continuous(x, name, c_name=False):
    """PyTorch's refusal of a continuous distribution's draws into a tensor without floats."""
    if x.dtype.kind != "f":
        raise RuntimeError(f"{name} distribution is a continuous probability distribution. "
                           "dtype must be a floating point but you specified "
                           f"{_DTYPE_NAMES.get(str(x.dtype), (x.dtype,) * 2)[0 if c_name else 1]}")


def _not_for(x, kernel, kinds):
    if x.dtype.kind not in kinds:
        raise NotImplementedError(f'"{kernel}" not implemented for '
                                  f"'{_DTYPE_NAMES.get(str(x.dtype), (x.dtype,) * 2)[1]}'")


def _exponential(x, lambd=1.0):
    _continuous(x, "Exponential")
    return -_ops.log1p(-_creation.rand_like(x)) / lambd


def _inplace_method(f):
    def method(self, *args, **kwargs):
        return _inplace.apply(self, f, *args, **kwargs)

    method.__name__ = f.__name__ + "_"
    return method


def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    """``x.scatter_``'s function: with ``reduce=`` its backward names aten::scatter_."""
    if reduce is None:
        return _ops.scatter(input, dim, index, src, value=value)
    return _scatter_reduced.scatter_reduced(_as_tensor(input), dim, index,
                                            value if src is None else src, reduce, "scatter_")


def _or_expanded(method, expanded):
    """``method``, or ``expanded`` where ``self`` is a view repeating elements (PyTorch writes
    through it with a deprecation warning: ``expanded_fills``)."""
    def either(self, *args, **kwargs):
        if self._base is not None and expanded_fills.repeats(self):
            return expanded(self, *args, **kwargs)
        return method(self, *args, **kwargs)

    either.__name__ = method.__name__
    return either


def _masked_fill_(self, mask, value):
    """``x.masked_fill_(mask, value)``: a mask that does not broadcast to ``x`` gets PyTorch's
    in-place words, which name ``x`` first (out of place, the mask is named first)."""
    shape = tuple(mask.shape) if isinstance(mask, Tensor) else np.shape(mask)
    if shape != tuple(self.shape):
        infer_size(self.shape, shape)
    return _inplace.apply(self, _ops.masked_fill, mask, value)


def _tile(self, *dims):
    return tile(self, sizes_of(dims))


# ``new_*``: the dtype and the device of ``self`` unless given, as PyTorch
def _new(fill, name):
    def method(self, *size, dtype=None, device=None, requires_grad=False, **kw):
        if "size" in kw:  # (x.new_zeros(size=(2, 3)), PyTorch's keyword)
            size = keyword_size(name, size, kw["size"])
        shape = _creation.checked_shape(size, name)
        return _creation.tensor(np.full(shape, fill, dtype=dtype or self.dtype),
                                device=device or self.device, requires_grad=requires_grad)

    return method


def _new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False, **_):
    dtype = dtype or self.dtype
    return _creation.tensor(np.full(_creation.checked_shape((size,), "new_full"),
                                    _creation.fill_number(fill_value, dtype),
                                    dtype=dtype),
                            device=device or self.device, requires_grad=requires_grad)


def _new_tensor(self, data, *, dtype=None, device=None, requires_grad=False, **_):
    if isinstance(data, Tensor):
        warnings.warn("To copy construct from a tensor, it is recommended to use "
                      "sourceTensor.detach().clone() or sourceTensor.detach().clone()"
                      ".requires_grad_(True), rather than tensor.new_tensor(sourceTensor).",
                      UserWarning, stacklevel=2)
        data = data.detach().cpu().numpy()
    return _creation.tensor(np.asarray(data, dtype=dtype or self.dtype),
                            device=device or self.device, requires_grad=requires_grad)


def _type_as(self, other):
    """``self`` in ``other``'s type: its dtype and, as PyTorch's types name it
    (``torch.cuda.FloatTensor``), its device."""
    if self.dtype == other.dtype and self.is_cuda == other.is_cuda:
        return self
    return self.to(other.device, other.dtype)


def _type(self, dtype=None, non_blocking=False, **_):
    """``t.type()``: PyTorch's type name (``torch.FloatTensor``); ``t.type(dtype)``, or of a
    type name (``"torch.cuda.DoubleTensor"``: that device too), the converted tensor."""
    if dtype is None:
        return construct.typename(self)
    if isinstance(dtype, legacy_types.TensorType):  # x.type(tg.LongTensor)
        return self.to("cpu", dtype.dtype)
    if not isinstance(dtype, str):
        return self.to(dtype)
    prefix, _, scalar = dtype.rpartition(".")
    names = {v[1] + "Tensor": k for k, v in _DTYPE_NAMES.items()}
    if prefix not in ("torch", "torch.cuda") or scalar not in names:
        raise ValueError(f"invalid type: '{dtype}'")
    return self.to("cuda" if prefix == "torch.cuda" else "cpu", np.dtype(names[scalar]))


def _clone(self, *, memory_format=None):
    """A copy; ``memory_format`` is checked, not applied (layouts are not tracked)."""
    if memory_format is not None:
        check_memory_format(memory_format, self.ndim, "clone")
    return _clone_op(self)


def _conj_transpose(x):
    y = _ops.transpose(x, -2, -1) if x.ndim >= 2 else x
    return _ops.conj(y) if y.dtype.kind == "c" else y


def _zero_d(x, what):
    """A conjugate transpose of a 0-d tensor: its conjugate, with PyTorch's warning."""
    warnings.warn(f"{what} is deprecated on 0-D tensors. Consider using x.conj().", UserWarning,
                  stacklevel=3)
    return x.conj()


def _H(self):
    if self.ndim == 0:
        return _zero_d(self, "Tensor.H")
    if self.ndim != 2:
        raise RuntimeError("tensor.H is only supported on matrices (2-D tensors). Got "
                           f"{self.ndim}-D tensor." + (self.ndim > 2) * (
                               " For batches of matrices, consider using tensor.mH"))
    return _conj_transpose(self)


def _mH(self):
    if self.ndim == 0:
        return _zero_d(self, "Tensor.mH")
    if self.ndim < 2:
        raise RuntimeError("tensor.mH is only supported on matrices or batches of matrices. "
                           f"Got {self.ndim}-D tensor.")
    return _conj_transpose(self)


def _fill_diagonal_(self, fill_value, wrap=False):
    """Write ``fill_value`` on the main diagonal, in place (``wrap``: for tall matrices,
    again every ``ncols + 1`` rows, as NumPy's ``fill_diagonal``)."""
    if self.ndim < 2:
        raise RuntimeError("dimensions must larger than 1")
    if self.ndim > 2 and len(set(self.shape)) != 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    mask = np.zeros(self.shape, bool)
    np.fill_diagonal(mask, True, wrap=wrap)
    return self.masked_fill_(_creation.tensor(mask, device=self.device), fill_value)


def bind(functions):
    """Bind ``functions`` (name -> function) as Tensor methods."""
    T = Tensor
    for name in METHOD_NAMES:
        setattr(T, name, functions[name])
    for name in INPLACE_NAMES:
        setattr(T, name + "_", _inplace_method(functions[name]))
    # (PyTorch wraps a number operand of these as a tensor, as add_/sub_/mul_/div_'s)
    _inference_writes.WRAPS_NUMBERS.update(
        functions[name] for name in ("true_divide", "multiply", "divide", "subtract"))
    for name in OP_INPLACE_NAMES:
        if not hasattr(T, name + "_"):
            setattr(T, name + "_", _inplace_method(getattr(_ops, name)))
    T.scatter_ = _inplace_method(scatter)
    T.clip_, T.clamp_min_, T.clamp_max_ = (in_c_words(getattr(T, n + "_"))
                                           for n in ("clip", "clamp_min", "clamp_max"))
    T.masked_fill_ = _or_expanded(_masked_fill_, expanded_fills.masked_fill_)
    T.index_fill_, T.index_put_ = _or_expanded(T.index_fill_, expanded_fills.index_fill_), \
        _or_expanded(T.index_put_, expanded_fills.index_put_)
    T.uniform_, T.normal_ = _random_fill(_uniform), _random_fill(_normal)
    T.bernoulli_, T.exponential_ = _random_fill(_bernoulli), _random_fill(_exponential)
    T.tile = _tile
    T.new_zeros, T.new_ones, T.new_empty = _new(0, "new_zeros"), _new(1, "new_ones"), \
        _new(0, "new_empty")
    T.new_full = _new_full
    T.new_tensor = _new_tensor
    T.expand_as = lambda self, other: _ops.expand(self, other.shape)
    T.type_as = _type_as
    T.type = _type
    T.clone = _clone
    T.view_as = lambda self, other: self.view(other.shape)
    T.reshape_as = lambda self, other: self.reshape(other.shape)
    T.where = lambda self, condition, other: _ops.where(condition, self, other)
    T.polygamma = lambda self, n: functions["polygamma"](n, self)
    T.fill_diagonal_ = _fill_diagonal_
    for name in ("scatter_reduce", "isposinf", "isneginf", "histc", "cholesky_solve",
                 "cholesky_inverse"):
        setattr(T, name, functions[name])
    T.scatter_reduce_ = _inplace_method(functions["scatter_reduce"])
    T.index_reduce = functions["index_reduce"]
    T.index_reduce_ = _inplace_method(functions["index_reduce"])
    T.histogram = functions["histogram"]
    legacy_methods.bind(T)
    # the integer-division operators and torch's ``div(..., rounding_mode=)``
    T.__floordiv__ = functions["floor_divide"]
    T.__rfloordiv__ = lambda self, other: functions["floor_divide"](other, self)
    T.__mod__ = functions["remainder"]
    T.__rmod__ = lambda self, other: functions["remainder"](other, self)
    T.__ifloordiv__ = T.floor_divide_
    T.__imod__ = T.remainder_
    T.div = T.divide
    T.ndimension = lambda self: self.ndim
    T.is_floating_point = lambda self: self.dtype.kind == "f"
    T.is_signed = lambda self: self.dtype.kind in "fic"
    T.itemsize = property(lambda self: self.dtype.itemsize)
    T.nbytes = property(lambda self: self.dtype.itemsize * self.numel())
    T.H = property(_H)
    T.mH = property(_mH)
    matrix_props.bind(T)
    T.adjoint = functions["adjoint"]
    T.__dlpack__, T.__dlpack_device__ = construct.dlpack_method, construct.dlpack_device_method
    for name, op in (("greater", "gt"), ("greater_equal", "ge"), ("less", "lt"),
                     ("less_equal", "le"), ("not_equal", "ne")):
        setattr(T, name, getattr(_ops, op))
    _bind_more(T, functions)


# the ``more`` module's functions as methods, and their in-place forms
MORE_METHOD_NAMES = ("gcd lcm ldexp frexp nextafter isreal diagonal_scatter select_scatter "
                     "slice_scatter masked_scatter put sum_to_size as_strided storage_offset "
                     "split_with_sizes ger narrow_copy unsafe_split unsafe_chunk "
                     "unsafe_split_with_sizes").split()
MORE_INPLACE_NAMES = "gcd lcm ldexp nextafter masked_scatter put".split()
# comparisons written into the tensor itself, in its own dtype (``x.gt_(0)``)
COMPARE_INPLACE = dict(eq="eq", ne="ne", lt="lt", le="le", gt="gt", ge="ge", greater="gt",
                       greater_equal="ge", less="lt", less_equal="le", not_equal="ne")


def _compare_inplace(op):
    def compare_into(self, other):  # (vmap knows this name: a batched other, self not)
        return _inplace.apply(self, _inplace._overwrite, op(self, other).to(self.dtype).detach(),
                              casting="unsafe")

    return compare_into


def _random_(self, low=0, high=None, *, generator=None):
    """Integers drawn from ``[low, high)`` (``random_(high)``; by default up to 2 ** the
    mantissa's digits for floats, as PyTorch's)."""
    if high is None:
        low, high = (0, low) if low else (0, 2 ** np.finfo(self.dtype).nmant + 1
                                          if self.dtype.kind == "f" else np.iinfo(self.dtype).max)
    values = _creation.draws(generator).integers(int(low), int(high), size=self.shape)
    return _inplace.apply(self, _inplace._overwrite, _creation.tensor(values.astype(self.dtype)),
                          casting="unsafe")


def _cauchy(x, median=0.0, sigma=1.0):
    _continuous(x, "Cauchy", c_name=True)
    return median + sigma * _ops.tan(np.pi * (_creation.rand_like(x) - 0.5))


def _log_normal(x, mean=1.0, std=2.0):
    _not_for(x, "log_normal_cpu", "f")
    return _ops.exp(_creation.randn_like(x) * std + mean)


def _geometric(x, p):
    _not_for(x, "geometric_cpu", "fiu")
    u = _uniform_draws(x).cpu().numpy()
    return _creation.tensor(np.ceil(np.log1p(-u) / np.log1p(-p)), device=x.device)


def _bind_more(T, functions):
    for name in MORE_METHOD_NAMES:
        setattr(T, name, functions[name])
    for name in MORE_INPLACE_NAMES:
        setattr(T, name + "_", _inplace_method(functions[name]))
    T.masked_scatter_ = _inplace_method(on_host(more.masked_scatter_into, traced=True))
    for name, op in COMPARE_INPLACE.items():
        setattr(T, name + "_", _compare_inplace(getattr(_ops, op)))
    T.logical_and_ = _inplace_method(_ops.logical_and)
    T.logical_or_ = _inplace_method(_ops.logical_or)
    T.cumsum_ = _inplace_method(_ops.cumsum)
    T.cumprod_ = _inplace_method(functions["cumprod"])
    T.rsqrt_ = _inplace_method(_ops.rsqrt)
    T.arccos_, T.arcsin_, T.arctan_ = T.acos_, T.asin_, T.atan_
    T.arctan2_ = T.atan2_
    T.polygamma_ = lambda self, n: _inplace.apply(self, lambda x: functions["polygamma"](n, x))
    T.random_ = _random_
    T.cauchy_, T.log_normal_ = _random_fill(_cauchy), _random_fill(_log_normal)
    T.geometric_ = _random_fill(_geometric)
    T.resolve_conj = T.resolve_neg = lambda self: self
    T.is_conj = T.is_neg = lambda self: False
    T.conj_physical = lambda self: _ops.conj(self)
    T.conj_physical_ = _inplace_method(_ops.conj)
    T.absolute_ = T.abs_  # (PyTorch's refusal of complex tensors: |z| is real)
    T.is_nonzero = lambda self: _creation.is_nonzero(self)
    T.is_same_size = lambda self, other: tuple(self.shape) == tuple(other.shape)
    T.is_cpu = property(lambda self: not self.is_cuda)
    T.get_device = lambda self: 0 if self.is_cuda else -1
    T.share_memory_ = T.pin_memory = lambda self, *a, **k: self
    T.is_shared = T.is_pinned = lambda self, *a, **k: False
