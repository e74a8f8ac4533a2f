"""Rearranging, stacking, splitting and indexing functions under PyTorch's names.

They reuse the NumPy-dispatch compositions (``numpy_dispatch``) with PyTorch's argument names
(``dim``/``dims``/``shifts``); gradients are those of the movement ops composed.
"""

import numpy as np

from ..numpy_dispatch import shaping as _shaping
from .. import ops as _ops
from ..numpy_dispatch import arrays as _A
from ..numpy_dispatch import composites as _C
from ..memory_format import check_memory_format
from ..promotion import category, fill_number
from ..ops import complex_views as _cviews
from ..ops.complex import check_parts
from ..ops.inference_saves import refuse_saved_key, refuse_saved_mask
from ..ops.inplace import storage_base
from ..ops.elementwise import clone as _clone
from ..ops.extra import _normal_index
from ..ops.node_names import name_inputs, name_node, name_view
from ..ops.shapes import ambiguous_shape, broadcast_shapes, norm_dim, torch_dtype_name
from ..ops.broadcast_shapes import infer_size
from ..tensor import Tensor
from ._common import _t, const, dims_of, is_int, long_index, vals


def _seq(tensors, name):
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{name}(): argument 'tensors' must be tuple of Tensors, not "
                        f"{type(tensors).__name__}")
    return [_t(x) for x in tensors]


# ---- dimensions ------------------------------------------------------------------------------

def _atleast(f):
    def fn(*tensors):
        if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
            r = f(*tensors[0])
            return r if isinstance(r, tuple) else (r,)
        return f(*tensors)

    return fn


atleast_1d = _atleast(_C.atleast_1d)
atleast_2d = _atleast(_C.atleast_2d)
atleast_3d = _atleast(_C.atleast_3d)


def broadcast_tensors(*tensors):
    """The tensors broadcast to their common shape (views of the inputs)."""
    xs = [_t(x) for x in tensors]
    shape = infer_size(*[x.shape for x in xs])
    return tuple(x if x.shape == shape else _ops.broadcast_to(x, shape) for x in xs)


def movedim(input, source, destination):
    """The dims ``source`` moved to positions ``destination`` (the others keep their order)."""
    x = _t(input)
    src, dst = dims_of(source), dims_of(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(src)} "
                           f"dims) should contain the same number of dims as destination "
                           f"({list(dst)} dims)")
    for name, dims in (("source", src), ("destination", dst)):
        normal = [d % x.ndim if x.ndim else d for d in dims]
        if len(set(normal)) != len(normal):
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({list(dims)})")
    if x.ndim == 0:  # (dims 0 and -1, checked: nothing to move)
        for d in src + dst:
            norm_dim(d, 0)
        return name_view(x.view(()), x, "AliasBackward0")
    return name_view(_shaping._moveaxis(x, src, dst), x, "PermuteBackward0")


moveaxis = movedim


def swapaxes(input, axis0, axis1):
    return _ops.transpose(input, axis0, axis1)


swapdims = swapaxes


def narrow(input, dim, start, length):
    """The view ``input[..., start:start + length, ...]`` along ``dim``."""
    x = _t(input)
    if x.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = norm_dim(dim, x.ndim)
    n = x.shape[d]
    start = int(vals(start)) if isinstance(start, Tensor) else int(start)
    if not -n <= start <= n:
        raise IndexError(f"start out of range (expected to be in range of [{-n}, {n}], but got "
                         f"{start})")
    if start < 0:
        start += n
    if length < 0 or start + length > n:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return name_view(x[(slice(None),) * d + (slice(start, start + length),)], x,
                       "SliceBackward0")


def select(input, dim, index):
    """The slice ``index`` along ``dim`` (a view, one dim fewer)."""
    x = _t(input)
    if x.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = norm_dim(dim, x.ndim)
    n = x.shape[d]
    if not -n <= index < n:
        raise IndexError(f"select(): index {index} out of range for tensor of size "
                         f"{list(x.shape)} at dimension {d}")
    return name_view(x[(slice(None),) * d + (int(index),)], x, "SelectBackward0")


def unflatten(input, dim, sizes):
    """Dim ``dim`` split into ``sizes`` (one entry may be -1)."""
    x = _t(input)
    d = norm_dim(dim, x.ndim)
    sizes = dims_of(sizes)
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    if sizes.count(-1) > 1:  # (PyTorch's size inference refuses first)
        raise RuntimeError("unflatten got an unexpected error:\nonly one dimension can be inferred")
    known = int(np.prod([s for s in sizes if s != -1]))
    if (-1 not in sizes and known != x.shape[d]) or (-1 in sizes and known and
                                                     x.shape[d] % known):
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the "
                           f"size of dim {dim} ({x.shape[d]}) in the input tensor")
    if -1 in sizes:  # inferred from the dim's size (the tensor's may be 0 elements)
        if not known:
            raise RuntimeError("unflatten got an unexpected error:\n" + ambiguous_shape(sizes))
        sizes = tuple(x.shape[d] // known if s == -1 else s for s in sizes)
    return _ops.reshape(x, x.shape[:d] + sizes + x.shape[d + 1:])


def ravel(input):
    return _ops.ravel(_t(input))


def t(input):
    return _ops.movement.t(_t(input))


def numel(input):
    return _t(input).numel()


def clone(input, *, memory_format=None):
    """A copy (``tg.clone`` and ``Tensor.clone``); ``memory_format`` is checked, not applied
    (layouts are not tracked)."""
    input = _t(input)
    if memory_format is not None:
        check_memory_format(memory_format, input.ndim, "clone")
    return _clone(input)


# ---- stacking and splitting --------------------------------------------------------------------

def hstack(tensors):
    return _C.hstack(_seq(tensors, "hstack"))


def vstack(tensors):
    return _C.vstack(_seq(tensors, "vstack"))


row_stack = vstack


def dstack(tensors):
    return _C.dstack(_seq(tensors, "dstack"))


def column_stack(tensors):
    return _C.column_stack(_seq(tensors, "column_stack"))


def _indices_or_sections(ios):
    if isinstance(ios, Tensor):
        v = vals(ios)
        return int(v) if v.ndim == 0 else [int(i) for i in v]
    return ios if is_int(ios) else [int(i) for i in ios]


def tensor_split(input, indices_or_sections, dim=0):
    """Split into ``n`` nearly equal parts, or at the given indices (NumPy's array_split)."""
    x = _t(input)
    if x.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a "
                           "tensor with 0 dims")
    ios = _indices_or_sections(indices_or_sections)
    if is_int(ios) and ios <= 0:
        raise RuntimeError(f"number of sections must be larger than 0, got {ios}")
    return tuple(_shaping._array_split(x, ios, norm_dim(dim, x.ndim)))


def _split_family(name, f, min_dim, dim_of):
    def fn(input, indices_or_sections):
        x = _t(input)
        if x.ndim < min_dim:
            raise RuntimeError(f"torch.{name} requires a tensor with at least {min_dim} "
                               f"dimension, but got a tensor with {x.ndim} dimensions!")
        ios = _indices_or_sections(indices_or_sections)
        d = dim_of(x)
        if is_int(ios) and (ios == 0 or x.shape[d] % ios):
            raise RuntimeError(f"torch.{name} attempted to split along dimension {d}, but the "
                               f"size of the dimension {x.shape[d]} is not divisible by the "
                               f"split_size {ios}!")
        return tuple(f(x, ios))

    fn.__name__ = fn.__qualname__ = name
    return fn


hsplit = _split_family("hsplit", _A.hsplit, 1, lambda x: 1 if x.ndim > 1 else 0)
vsplit = _split_family("vsplit", _A.vsplit, 2, lambda x: 0)
dsplit = _split_family("dsplit", _A.dsplit, 3, lambda x: 2)


# ---- flips, rotations, rolls, tiles ---------------------------------------------------------------

def flipud(input):
    x = _t(input)
    if x.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return _A.flipud(x)


def fliplr(input):
    x = _t(input)
    if x.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return _A.fliplr(x)


def rot90(input, k=1, dims=(0, 1)):
    """Rotated by 90 degrees ``k`` times in the plane of ``dims`` (from the first towards the
    second)."""
    x = _t(input)
    dims = dims_of(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if x.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {x.ndim}")
    if norm_dim(dims[0], x.ndim) == norm_dim(dims[1], x.ndim):
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {dims[0]} "
                           f"and dim1 = {dims[1]}")
    r = _A.rot90(x, int(k), dims)
    return r if r is not x else x.clone()


def roll(input, shifts, dims=None):
    """Elements shifted cyclically by ``shifts`` along ``dims`` (the flattened tensor when
    ``dims`` is None)."""
    x = _t(input)
    s = dims_of(shifts)
    if dims is None:
        if len(s) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(s)}, dims:0")
        return _C.roll(x, s[0], None)
    d = dims_of(dims)
    if len(s) != len(d):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(s)}, "
                           f"dims:{len(d)}")
    if x.ndim == 0:  # (PyTorch's: no dim of a 0-d tensor rolls, 0 and -1 neither)
        raise IndexError(f"Dimension specified as {d[0]} but tensor has no dimensions")
    return _C.roll(x, s, d)


def tile(input, dims):
    """``input`` repeated ``dims[i]`` times along each dim (leading ones added as needed)."""
    return _C.tile(_t(input), dims_of(dims))


# ---- indexing ---------------------------------------------------------------------------------

def take(input, index):
    """``input.flatten()[index]``, shaped like ``index``."""
    x = _t(input)
    _normal_index(x, index, True)  # (PyTorch's TakeBackward0 saves input)
    idx = vals(index)
    long_index("take", idx)
    n = x.numel()
    if idx.size and (idx.min() < -n or idx.max() >= n):
        bad = idx[(idx < -n) | (idx >= n)].reshape(-1)[0]
        raise IndexError(f"out of range: tried to access index {bad} on a tensor of {n} "
                         "elements.")
    flat = _ops.reshape(x, (-1,))
    return name_node(flat[idx.astype(np.intp)], "TakeBackward0", None if flat is x else flat)


def masked_select(input, mask):
    """The entries where ``mask`` is true, as a 1-D tensor (both broadcast first)."""
    x = _t(input)
    m = vals(refuse_saved_mask(mask, x))  # (its backward saves the mask)
    if m.dtype != np.bool_:
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    shape = broadcast_shapes(m.shape, x.shape)  # (PyTorch's words on a mismatch)
    xb = x if x.shape == shape else _ops.broadcast_to(x, shape)
    return name_inputs(xb[np.broadcast_to(m, shape)], "MaskedSelectBackward0", x)


def _put_positions(x, indices):
    """Flat positions of ``x[indices]`` (a tuple of index tensors), shaped as the result."""
    key = tuple(vals(i.cpu()) if isinstance(i, Tensor) else i for i in indices)  # (or CUDA)
    for k in key:
        if isinstance(k, np.ndarray) and k.dtype.kind not in "iub":
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    try:
        return np.arange(x.numel(), dtype=np.int64).reshape(x.shape)[key]
    except IndexError as e:  # (NumPy's words: "axis")
        raise IndexError(str(e).replace(" for axis ", " for dimension ")) from None


def index_put(input, indices, values, accumulate=False):
    """``input`` with ``values`` written at ``input[indices]`` (``indices``: a tuple of index
    tensors); with ``accumulate``, added there, repeated positions adding up."""
    x = _t(input)
    if not isinstance(indices, (tuple, list)):
        raise TypeError("index_put(): argument 'indices' must be tuple of Tensors")
    pos = _put_positions(x, indices)
    vt = _t(values)
    refuse_saved_key(x, tuple(indices), vt)  # (an inference index: its backward saves it)
    if category(vt.dtype) != category(x.dtype):  # (a cast would drop or invent parts, or
        # truncate floats into integers: only float32/float64 mix, as elsewhere in tapegrad)
        raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                           f"{torch_dtype_name(x.dtype)} for the destination and "
                           f"{torch_dtype_name(vt.dtype)} for the source.")
    v = _ops.broadcast_to(vt.to(x.dtype) if vt.dtype != x.dtype else vt, pos.shape)
    flat = _ops.reshape(x, (-1,))
    if accumulate:
        placed = _ops.index_add(flat, 0, const(pos.reshape(-1)), _ops.reshape(v, (-1,)))
        return _ops.reshape(placed, x.shape)
    out = flat.clone()
    out[pos.reshape(-1)] = _ops.reshape(v, (-1,))  # the last of repeated positions wins
    return _ops.reshape(out, x.shape)


def _dim_mask(x, dim, index, name):
    d = norm_dim(dim, max(x.ndim, 1))
    idx = vals(index)
    if name == "index_fill" and idx.dtype != np.int64:  # (PyTorch's words and exception
        raise IndexError("index_fill_(): Expected dtype int64 for index.")  # type differ)
    long_index(f"{name}_", idx)
    idx = idx.reshape(-1)
    n = x.shape[d] if x.ndim else 1
    if idx.size and (idx.min() < -n or idx.max() >= n):  # (index_fill's message has no name)
        raise IndexError(f"{'index_copy_(): ' if name == 'index_copy' else ''}index "
                         f"{idx[(idx < -n) | (idx >= n)][0]} is out of bounds for dimension {d} "
                         f"with size {n}")
    keep = np.zeros(n, bool)
    keep[idx] = True
    shape = [1] * x.ndim
    if x.ndim:
        shape[d] = n
    return d, keep.reshape(shape)


def index_fill(input, dim, index, value):
    """``input`` with the slices at ``index`` along ``dim`` set to ``value`` (a number or a
    0-d tensor, which then gets the summed gradient)."""
    x = _t(input)
    _, mask = _dim_mask(x, dim, index, "index_fill")
    v = value if isinstance(value, Tensor) else const(fill_number(value, x.dtype), x.dtype)
    if v.ndim:
        raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but got "
                           f"tensor with {v.ndim} dimension(s).")
    r = _ops.where(mask, v.to(x.dtype) if v.dtype != x.dtype else v, x)
    if isinstance(value, Tensor):  # (a 0-d tensor: PyTorch's second form, value an input)
        return name_inputs(r, "IndexFillBackward1", x, value)
    return name_inputs(r, "IndexFillBackward0", x)


def _index_copy_checks(x, dim, index, src):
    """PyTorch's index_copy_ checks, in its order, words and exception types."""
    d = norm_dim(dim, max(x.ndim, 1))
    iv = vals(index)
    if iv.ndim >= 2:
        raise IndexError(f"index_copy_(): Index should have dimension 1 or 0 (got {iv.ndim})")
    if src.ndim == 0 and iv.size != 1:
        raise IndexError("index_copy_(): When source is scalar, index should have one element "
                         f"(got {iv.size})")
    if src.ndim != x.ndim and src.ndim and x.ndim:
        raise IndexError("index_copy_(): When source and destination are not scalars, their "
                         f"dimensionality must match. Source dimensionality ({src.ndim}), "
                         f"destination dimensionality ({x.ndim})")
    long_index("index_copy_", iv)
    if src.dtype != x.dtype:
        raise RuntimeError("index_copy_(): self and source expected to have the same dtype, but "
                           f"got (self) {torch_dtype_name(x.dtype)} and (source) "
                           f"{torch_dtype_name(src.dtype)}")
    xs, ss = list(x.shape), list(src.shape)
    del xs[d:d + 1], ss[d:d + 1]
    if xs != ss:
        raise RuntimeError("index_copy_(): Source/destination tensor must have same slice shapes. "
                           f"Destination slice shape: {' '.join(map(str, xs))} at dimension {d} "
                           f"and source slice shape: {' '.join(map(str, ss))} at dimension 0.")
    if src.ndim and iv.size != src.shape[d]:
        raise IndexError(f"index_copy_(): Number of indices ({iv.size}) should be equal to "
                         f"source.size(dim) ({src.shape[d]})")


def index_copy(input, dim, index, source):
    """``input`` with the slices at ``index`` along ``dim`` replaced by ``source``'s."""
    x = _t(input)
    _index_copy_checks(x, dim, index, _t(source))
    d, mask = _dim_mask(x, dim, index, "index_copy")
    n = x.shape[d] if x.ndim else 1
    iv = vals(index).astype(np.int64)
    if iv.size and iv.min() < 0:  # (index_fill's may count from the end, index_copy's not)
        raise IndexError(f"index_copy_(): index {int(iv.min())} is out of bounds for dimension "
                         f"{d} with size {n}")
    rows = const(iv % n)  # (index_add takes no negative index)
    src = _t(source)
    src = src if src.dtype == x.dtype else src.to(x.dtype)
    if x.ndim == 1 and not src.ndim:  # (index_copy takes a 0-d source there, index_add not)
        src = _ops.reshape(src, (1,))
    if not x.ndim and src.ndim:  # (a 0-d self takes a one-element source)
        src = _ops.reshape(src, ())
    placed = _ops.index_add(const(np.zeros(x.shape, x.dtype)), d, rows, src)
    return name_inputs(_ops.where(mask, placed, x), "IndexCopyBackward0", x, source)


# ---- grids and complex views ----------------------------------------------------------------------

def meshgrid(*tensors, indexing=None):
    """Coordinate grids; ``indexing='ij'`` (matrix) by default, ``'xy'`` (Cartesian)."""
    if indexing is None:
        import warnings

        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the "
                      "indexing argument.", UserWarning, stacklevel=2)
        indexing = "ij"
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    for x in tensors:
        if _t(x).ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list "
                               f"but got: {x}")
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but "
                           f"received: {indexing}")
    return _A.meshgrid(*tensors, indexing=indexing)


def cartesian_prod(*tensors):
    """The Cartesian product of 1-D tensors, one row per combination."""
    xs = [_t(x) for x in tensors]
    if len(xs) == 1:
        return xs[0]
    grids = meshgrid(*xs, indexing="ij")
    return _ops.stack([_ops.reshape(g, (-1,)) for g in grids], 1)


def combinations(input, r=2, with_replacement=False):
    """The length-``r`` combinations of a 1-D tensor's elements, one row each."""
    import itertools

    x = _t(input)
    if x.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(x.shape)}")
    gen = itertools.combinations_with_replacement if with_replacement else \
        itertools.combinations
    idx = np.array(list(gen(range(x.shape[0]), r)), np.intp).reshape(-1, r)
    if r == 0 or idx.size == 0:
        return const(np.zeros((0,) if r == 0 else (0, r), x.dtype))
    return x[idx]


def view_as_real(input):
    """A complex tensor as real pairs in a new last dim: a view of its storage."""
    x = _t(input)
    if x.dtype.kind != "c":
        raise RuntimeError("view_as_real is only supported for complex tensors")
    if type(x._data) is not np.ndarray:
        return _ops.stack([_ops.real(x), _ops.imag(x)], -1)
    return _cviews.view_as_real(x)


def view_as_complex(input):
    """Real pairs in the last dim (size 2) as a complex tensor: a view of its storage."""
    x = _t(input)
    if x.dtype.kind != "f":  # (PyTorch checks the dtype first)
        raise RuntimeError("view_as_complex is only supported for half, float and double "
                           f"tensors, but got a tensor of scalar type: "
                           f"{torch_dtype_name(x.dtype)}")
    if x.ndim == 0:
        raise RuntimeError("Input tensor must have one or more dimensions")
    if x.shape[-1] != 2:
        raise RuntimeError("Tensor must have a last dimension of size 2")
    if type(x._data) is not np.ndarray or x.dtype == np.float16:  # (NumPy has no complex32)
        return _ops.complex_(x[..., 0], x[..., 1])
    return _cviews.view_as_complex(x, storage_base(x))


def polar(abs, angle):  # noqa: A002 (torch's argument names)
    """The complex tensor ``abs * (cos(angle) + i sin(angle))``."""
    a, th = _t(abs), _t(angle)
    check_parts(a, th)
    return _ops.complex_(a * _ops.cos(th), a * _ops.sin(th))


def block_diag(*tensors):
    """The tensors (0-, 1- or 2-D) as the diagonal blocks of one matrix, zeros elsewhere."""
    ts = [_t(t) for t in tensors]
    for i, t in enumerate(ts):
        if t.ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer dimensions. "
                               f"Input {i} has {t.ndim} dimensions")
    ts = [_ops.reshape(t, (1, -1)) if t.ndim < 2 else t for t in ts]
    if not ts:
        return const(np.zeros((1, 0)))
    rows = sum(t.shape[0] for t in ts)
    cols = sum(t.shape[1] for t in ts)
    dtype = np.result_type(*[t.dtype for t in ts])
    out, r, c = [], 0, 0
    for t in ts:
        h, w = t.shape
        out.append(_C.pad(t.to(dtype) if t.dtype != dtype else t,
                          ((r, rows - r - h), (c, cols - c - w))))
        r, c = r + h, c + w
    total = out[0]
    for piece in out[1:]:
        total = total + piece
    return total


__all__ = ["index_put", "atleast_1d", "atleast_2d", "atleast_3d", "broadcast_tensors", "movedim",
           "moveaxis", "swapaxes", "swapdims", "narrow", "select", "unflatten", "ravel", "t",
           "numel", "clone", "hstack", "vstack", "row_stack", "dstack", "column_stack",
           "tensor_split", "hsplit", "vsplit", "dsplit", "flipud", "fliplr", "rot90", "roll",
           "tile", "take", "masked_select", "index_fill", "index_copy", "meshgrid",
           "cartesian_prod", "combinations", "view_as_real", "view_as_complex", "polar",
           "block_diag"]

