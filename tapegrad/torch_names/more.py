"""Less common torch functions PyTorch programs still reach for: integer helpers (``gcd``,
``lcm``), float decomposition (``ldexp``, ``frexp``, ``nextafter``), the ``*_scatter``
out-of-place writes, ``masked_scatter``, ``put``, ``as_strided``, ``sum_to_size``,
``histogram`` and small aliases. Differentiable ones are compositions of ops (their
gradients, at every order, are those ops')."""

import builtins
import math
from collections import namedtuple

import numpy as np

from .. import creation as _creation
from .. import ops as _ops
from ..device import DeviceArray
from ..ops.complex_refusals import refuse
from ..ops.inference_saves import refuse_saved_mask
from ..ops.inplace import storage_base
from ..ops.movement import _view_strided
from ..ops.node_names import name_inputs
from ..ops.numpy_rules import tensors_promoted
from ..ops.shapes import broadcast_shapes, expand_error, norm_dim, torch_dtype_name
from ..tensor import Tensor
from ._common import _t, const, floating, long_index, sizes_of, vals
from .storage import storage_root

__all__ = ["gcd", "lcm", "ldexp", "frexp", "nextafter", "isreal", "rsub", "split_with_sizes",
           "diagonal_scatter", "select_scatter", "slice_scatter", "masked_scatter", "put",
           "sum_to_size", "as_strided", "storage_offset", "ger", "conj_physical",
           "resolve_conj", "resolve_neg", "histogram", "nuclear_norm", "frobenius_norm",
           "empty_strided", "randint_like", "binomial", "histogramdd"]



def _refuse_dtype(name, x, kinds):
    if x.dtype.kind not in kinds:
        raise NotImplementedError(f'"{name}_cpu" not implemented for '
                                  f"'{torch_dtype_name(x.dtype)}'")


def _integer_pair(name, f, input, other):
    x, y = _t(input), _t(other)
    dtype = np.result_type(x.dtype, y.dtype)
    _refuse_dtype(name, _creation.tensor(np.zeros(0, dtype)), "iub")
    return const(f(vals(x), vals(y)).astype(dtype))


def gcd(input, other):
    """Elementwise greatest common divisor of integer tensors (non-negative)."""
    return _integer_pair("gcd", np.gcd, input, other)


def lcm(input, other):
    """Elementwise least common multiple of integer tensors (non-negative)."""
    return _integer_pair("lcm", np.lcm, input, other)


def ldexp(input, other):
    """``input * 2 ** other`` (a float result; differentiable in both, as PyTorch's
    composition)."""
    x, e = tensors_promoted(input, other)
    x = floating(x)
    return x * _ops.pow(2.0, e.to(x.dtype) if e.dtype != x.dtype else e)


FrexpResult = namedtuple("frexp", ["mantissa", "exponent"])


def frexp(input):
    """``(mantissa, exponent)`` with ``input = mantissa * 2 ** exponent``, |mantissa| in
    [0.5, 1); the exponent is int32 and the mantissa's gradient is ``grad / 2 ** exponent``."""
    x = _t(input)
    if x.dtype.kind != "f":
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    with np.errstate(all="ignore"):  # (inf, nan: exponent 0, as PyTorch's)
        m, e = np.frexp(vals(x))
        e = e.astype(np.int32)
        scale = const(np.ldexp(np.ones_like(m), -e))  # exact: a power of two
    return FrexpResult(_ops.mul(x, scale), const(e))


def nextafter(input, other):
    """The next float after ``input`` towards ``other`` (no gradient, as PyTorch's)."""
    x, y = tensors_promoted(input, other)
    _refuse_dtype("nextafter", _creation.tensor(np.zeros(0, x.dtype)), "f")
    return const(np.nextafter(vals(x), vals(y)))


def isreal(input):
    """True where the element has no imaginary part (everywhere for real dtypes)."""
    v = vals(input)
    return const(v.imag == 0 if v.dtype.kind == "c" else np.ones(v.shape, bool))


def rsub(input, other, alpha=1):
    """``other - alpha * input``."""
    x = _t(input)
    return _t(other) - (x * alpha if alpha != 1 else x) if isinstance(other, Tensor) else \
        other - (x * alpha if alpha != 1 else x)


def split_with_sizes(input, split_sizes, dim=0):
    """``split`` into pieces of the listed sizes, which must add up to the dim's size."""
    x = _t(input)
    d = norm_dim(dim, x.ndim)
    sizes = [int(s) for s in split_sizes]
    if sum(sizes) != x.shape[d]:
        raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to "
                           f"{x.shape[d]} (input tensor's size at dimension {d}), but got "
                           f"split_sizes={sizes}")
    return _ops.split(x, sizes, d)


def _scatter_into(input, src, view_of):
    """A copy of ``input`` whose view ``view_of(copy)`` holds ``src``: gradients flow to
    ``input`` outside the view and to ``src`` inside it."""
    x, s = _t(input), _t(src)
    out = x.clone()
    view = view_of(out)
    if tuple(view.shape) != tuple(s.shape):
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = "
                           f"{list(s.shape)}, slice size = {list(view.shape)}")
    view.copy_(s)
    return out


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    """``input`` with its diagonal (``torch.diagonal``'s) replaced by ``src``."""
    return _scatter_into(input, src, lambda t: _ops.diagonal(t, offset, dim1, dim2))


def select_scatter(input, src, dim, index):
    """``input`` with ``input.select(dim, index)`` replaced by ``src``."""
    return _scatter_into(input, src, lambda t: t.select(dim, index))


def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    """``input`` with the slice ``start:end:step`` along ``dim`` replaced by ``src``."""
    def view_of(t):
        key = [slice(None)] * t.ndim
        key[norm_dim(dim, t.ndim)] = slice(start, end, step)
        return t[tuple(key)]

    return _scatter_into(input, src, view_of)


def masked_scatter(input, mask, source):
    """``input`` with the positions where ``mask`` (broadcast to it) is True filled, in order,
    by the first elements of ``source``."""
    x = x0 = _t(input)
    s = _t(source)
    m = vals(refuse_saved_mask(mask, x, s))  # (its backward saves the mask)
    if m.dtype != np.bool_:
        raise RuntimeError("masked_scatter_ only supports boolean masks, but got mask with dtype "
                           f"{torch_dtype_name(m.dtype)}")
    shape = broadcast_shapes(m.shape, x.shape)  # (PyTorch's words on a mismatch)
    x = x if x.shape == shape else _ops.broadcast_to(x, shape)
    m = np.broadcast_to(m, shape)
    k = int(m.sum())
    if k > s.numel():
        raise RuntimeError("Number of elements of source < number of ones in mask")
    out = x.clone()
    out[const(m)] = _ops.reshape(s, (-1,))[:k]
    return name_inputs(out, "MaskedScatterBackward0", x0, s)


def masked_scatter_into(input, mask, source):
    """``x.masked_scatter_``'s function: the mask expands to ``x``'s shape (PyTorch's expand
    errors, its CPU type names), it does not broadcast ``x``."""
    m = vals(mask)
    if m.dtype == np.bool_ and m.shape != tuple(input.shape):
        error = expand_error(m.shape, tuple(input.shape))
        if error is not None and m.ndim > input.ndim:
            error = RuntimeError(f"expand(CPUBoolType{{{list(m.shape)}}}, size="
                                 f"{list(input.shape)}): the number of sizes provided "
                                 f"({input.ndim}) must be greater or equal to the number of "
                                 f"dimensions in the tensor ({m.ndim})")
        if error is not None:
            raise error
    return masked_scatter(input, mask, source)


masked_scatter_into.__name__ = "masked_scatter"


def put(input, index, source, accumulate=False):
    """``input`` (flattened) with ``source`` written (or with ``accumulate`` added) at the flat
    positions ``index``; the result has ``input``'s shape."""
    x, s, idx = _t(input), _t(source), vals(index)
    long_index("put_", idx)  # (PyTorch's checks in its order)
    if s.dtype != x.dtype:
        raise RuntimeError("put_(): self and source expected to have the same dtype, but got "
                           f"self.dtype = {torch_dtype_name(x.dtype)} and source.dtype = "
                           f"{torch_dtype_name(s.dtype)}")
    if s.numel() != idx.size:
        raise IndexError("put_(): Expected source and index to have the same number of "
                         f"elements, but got source.numel() = {s.numel()}, index.numel() = "
                         f"{idx.size}")
    idx = idx.reshape(-1)
    n = x.numel()
    bad = idx[(idx >= n) | (idx < -n)]
    if len(bad):
        raise IndexError(f"out of range: tried to access index {int(bad[0])} on a tensor of {n} "
                         "elements.")
    flat = _ops.reshape(x, (-1,))
    done = flat.index_put((const(idx),), _ops.reshape(s, (-1,)), accumulate)
    return _ops.reshape(done, x.shape)


def sum_to_size(input, *size):
    """Sum ``input`` down to ``size`` (to which it must be expandable), as broadcasting's
    gradient does."""
    x = _t(input)
    shape = sizes_of(size)
    try:
        ok = np.broadcast_shapes(shape, x.shape) == tuple(x.shape) and len(shape) <= x.ndim
    except ValueError:
        ok = False
    if not ok:
        raise RuntimeError(f"size {{{list(shape)}}} is not expandable to size "
                           f"{{{list(x.shape)}}}.")
    return _ops.reduce.sum_to(x, shape)


def _storage(x, root=storage_base):
    """``(storage tensor, x's element offset in it)``: the base a view shares (when that base is
    C-contiguous, as a tensor's own storage is) or ``x`` itself."""
    base = root(x)
    if base is x or type(base._data) is not np.ndarray or not base._data.flags.c_contiguous:
        return x, 0
    start = x._data.__array_interface__["data"][0] - base._data.__array_interface__["data"][0]
    return base, start // base._data.itemsize


def _device_storage(x):
    """``_storage`` of a CUDA tensor: a view holds a copy of its elements, so the storage is its
    base's device array, and the offset the position of its first element there."""
    m = x._vmap
    if m is None or x._base is None or x._base._data.a is not m.storage.a:
        return x, 0
    if x.numel():
        return x._base, int(m.positions()[0])
    return x._base, 0 if m.start is None else m.start


def storage_offset(input):
    """Where ``input``'s first element sits in the storage it shares (elements)."""
    x = _t(input)
    if type(x._data) is DeviceArray:
        return _device_storage(x)[1]
    if type(x._data) is not np.ndarray:
        return 0
    base, offset = _storage(x, storage_root)  # (also of a view's detach(), .data)
    if base is not x and base._data.itemsize != x._data.itemsize:  # (z.imag, view_as_real(z))
        start = x._data.__array_interface__["data"][0] - base._data.__array_interface__["data"][0]
        return start // x._data.itemsize  # (in x's elements, as PyTorch counts)
    return offset


def as_strided(input, size, stride, storage_offset=None):
    """A view of ``input``'s storage with the given sizes, strides and offset (in elements);
    its gradient adds up where elements overlap, as PyTorch's."""
    x = _t(input)
    on_device = type(x._data) is DeviceArray
    base, own_offset = _device_storage(x) if on_device else _storage(x)
    if not on_device and not base._data.flags.c_contiguous:  # (a leaf over strided NumPy
        base, own_offset = x.contiguous(), 0  # memory: its elements)
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    if any(s < 0 for s in stride):
        raise RuntimeError("as_strided: Negative strides are not supported at the moment, got "
                           f"strides: {list(stride)}")
    offset = own_offset if storage_offset is None else int(storage_offset)
    need = offset + 1 + sum((n - 1) * s for n, s in zip(size, stride)) if all(size) else 0
    n = base.numel()
    if need > n:
        item = base.dtype.itemsize
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage "
                           f"offset {offset}, and itemsize {item} requiring a storage size of "
                           f"{need * item} are out of bounds for storage of size {n * item}")
    if on_device:
        from ..ops.cuda_ops import strided_value

        value = strided_value(base._data, size, stride, offset)
        return _view_strided(base, value, size, stride, offset)
    flat = base._data.reshape(-1)
    item = flat.itemsize
    value = np.lib.stride_tricks.as_strided(flat[offset:] if math.prod(size) else flat, size,
                                            tuple(s * item for s in stride))
    return _view_strided(base, value, size, stride, offset)


def ger(input, vec2):
    """The outer product (``torch.outer``'s old name)."""
    return _ops.outer(_t(input), _t(vec2))


def conj_physical(input):
    return _ops.conj(_t(input))


def resolve_conj(input):
    """``input`` (tapegrad has no lazy conjugate bit: conjugates are computed)."""
    return _t(input)


def resolve_neg(input):
    """``input`` (tapegrad has no lazy negative bit)."""
    return _t(input)


HistogramResult = namedtuple("histogram", ["hist", "bin_edges"])


def histogram(input, bins=100, *, range=None, weight=None, density=False):
    """``(hist, bin_edges)`` of the values of ``input`` (float tensors, no gradient)."""
    x = _t(input)
    refuse("histogram", x.dtype)
    if x.dtype.kind != "f":
        raise NotImplementedError(f'"histogram_cpu" not implemented for '
                                  f"'{torch_dtype_name(x.dtype)}'")
    b = vals(bins) if isinstance(bins, Tensor) else int(bins)
    w = None if weight is None else vals(weight).reshape(-1)
    hist, edges = np.histogram(vals(x).reshape(-1), b, range=range, weights=w, density=density)
    return HistogramResult(const(hist.astype(x.dtype)), const(edges.astype(x.dtype)))


HistogramddResult = namedtuple("histogramdd", ["hist", "bin_edges"])


def histogramdd(input, bins, *, range=None, weight=None, density=False):
    """``(hist, bin_edges)`` of the points in the last dim of ``input`` (D coordinates each):
    ``bins`` an int, one int per coordinate or one tensor of edges per coordinate; ``range``
    ``[lo_1, hi_1, ..., lo_D, hi_D]`` (float tensors, no gradient)."""
    x = _t(input)
    if x.dtype.kind != "f":
        raise NotImplementedError(f'"histogramdd" not implemented for '
                                  f"'{torch_dtype_name(x.dtype)}'")
    if x.ndim < 2:
        raise RuntimeError("torch.histogramdd: input tensor should have at least 2 dimensions")
    d = x.shape[-1]
    if not isinstance(bins, (int, np.integer)):
        bins = [vals(b) if isinstance(b, Tensor) else int(b) for b in bins]
        if len(bins) != d:
            raise RuntimeError("histogramdd: The size of bins must be equal to the innermost "
                               "dimension of the input.")
    if range is not None:
        if len(range) != 2 * d:
            raise RuntimeError(f"torch.histogramdd: for a {d}-dimensional histogram range "
                               f"should have {2 * d} elements, but got {len(range)}")
        range = [(range[2 * i], range[2 * i + 1]) for i in builtins.range(d)]
    w = None if weight is None else vals(weight).reshape(-1)
    hist, edges = np.histogramdd(vals(x).reshape(-1, d), bins, range=range, weights=w,
                                 density=density)
    return HistogramddResult(const(hist.astype(x.dtype)),
                             tuple(const(e.astype(x.dtype)) for e in edges))


def nuclear_norm(input, dim=None, keepdim=False):
    """The sum of singular values of the matrices over ``dim`` (the last two by default)."""
    from .. import linalg

    return linalg.matrix_norm(input, "nuc", (-2, -1) if dim is None else dim, keepdim)


def frobenius_norm(input, dim, keepdim=False):
    """The 2-norm over ``dim``: two dims (a matrix's Frobenius norm) or one (a vector's)."""
    from .. import linalg

    if isinstance(dim, (int, np.integer)) or len(dim) == 1:
        return linalg.vector_norm(input, 2, dim, keepdim)
    return linalg.matrix_norm(input, "fro", dim, keepdim)


def empty_strided(size, stride, *, dtype=None, device=None, requires_grad=False, **_):
    """A new tensor of ``size`` (tapegrad's tensors are C-contiguous: ``stride`` is
    accepted, not followed)."""
    return _creation.zeros(tuple(size), dtype=dtype, device=device, requires_grad=requires_grad)


def randint_like(input, low=0, high=None, *, dtype=None, device=None, requires_grad=False,
                 **_):
    """Random integers in ``[low, high)`` in ``input``'s shape (``randint_like(x, high)``)."""
    if high is None:
        low, high = 0, low
    x = _t(input)
    return _creation.randint(int(low), int(high), tuple(x.shape), dtype=dtype or x.dtype,
                             device=device, requires_grad=requires_grad)


def binomial(count, prob, generator=None):
    """Draws of Binomial(count, prob), elementwise (no gradient)."""
    c, p = vals(count), vals(prob)
    return const(_creation.draws(generator).binomial(c.astype(np.int64), p).astype(np.result_type(c, p)))
