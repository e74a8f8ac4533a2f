"""Linear index maps: reshape, views (strides), broadcasting, sums, indexing.

Four records cover every movement and linear reduction op, over *flat C-order indices*:

* ``GATHER_STRIDED``  ``out[i] = x[offset + sum_k i_k * strides[k]]`` (i over out's shape):
  views (transpose, permute, slicing, flip, diagonal) and broadcasting (stride 0).
* ``SCATTER_STRIDED`` ``out[offset + sum_k i_k * strides[k]] += x[i]`` (i over x's shape):
  sums over axes (stride 0 on the summed axes) and the VJP of GATHER_STRIDED.
* ``GATHER_INDEX`` / ``SCATTER_INDEX``: the same with an explicit index array (advanced
  indexing; repeated indices accumulate).

Each pair is its own adjoint, so both VJPs (compiled and re-taped) are a single line each.
Shapes/strides/offset live in the tape's int side table as ``[ndim, *shape, *strides, offset]``.
"""

import math

import numpy as np

from .. import tape
from .._float_warnings import quiet
from ..grad_mode import NO_GRAD_VIEW, _state as _gs, mark_no_grad_view
from .._bounded_cache import bounded_cache
from ..device import DeviceArray
from ..size import keyword_size
from ..tensor import _make, _wrap
from ..vecmath.short_runs import THRESHOLD as _SHORT_RUNS_MIN, sum_axes as _sum_axes
from . import record as R
from .view_rebase import note as _note_view
from ..registry import Op, defop
from .shapes import (ambiguous_shape, c_strides, expand_error, flat_shape, keep_sizes,
                     missing_dims, norm_dim, norm_dims, permutation, size_of, strided_ints)
from .shapes import permutations as _permutations
from .flat_positions import flat_positions as _flat_positions
from .full_reduce import full_sum as _full_sum
from .index_errors import index_error as _index_error
from .inference_index import indexed_input
from .node_names import UNSAFE_VIEW, name_entry, name_node, name_view
from .index_keys import PROBE_ADDR as _PROBE_ADDR, PROBE_BASE as _PROBE_BASE, basic_view as \
    _basic_view, index_key as _index_key, index_name as _index_name, ints_first as _ints_first, \
    is_basic as _is_basic, empty_at as _empty_at, keep_view_plan as _keep_view_plan, \
    plan_key as _plan_key, view_plans as _view_plans
from .shapes import torch_dtype_name as _torch_name  # noqa: F401  (torch_names imports it)

# opcodes as plain ints: an enum member costs ~0.12 µs to read, and ~20 ns more to flush
_RESHAPE, _GATHER_STRIDED, _SCATTER_STRIDED, _GATHER_INDEX, _SCATTER_INDEX = (
    int(Op.RESHAPE), int(Op.GATHER_STRIDED), int(Op.SCATTER_STRIDED), int(Op.GATHER_INDEX),
    int(Op.SCATTER_INDEX))

_grad_on = R._grad_on


def _slot_tensor_shape(n):
    return () if n == 1 else (n,)


def _read_strided(seg, aux):
    ia = seg.iaux
    nd = ia[aux]
    shape = tuple(ia[aux + 1 : aux + 1 + nd])
    strides = tuple(ia[aux + 1 + nd : aux + 1 + 2 * nd])
    return shape, strides, ia[aux + 1 + 2 * nd]


def _strided_aux(seg, shape, strides, offset):
    return tape.add_iaux(seg, (len(shape), *shape, *strides, offset))


def _record_linear(value, op, x, seg_fill, operand=None):
    """Record linear op ``op`` on ``x``; ``seg_fill(seg)`` stores params and returns aux;
    ``operand``: a tensor needing no grad that the op also reads (R.index_operand)."""
    seg = tape.prepare([x]) if type(x._data) is DeviceArray else R.segment_for(x)
    aux = seg_fill(seg)
    if type(value) is not float and value.dtype.kind == "c":  # complex: ops/complex.py
        from .complex import linear

        return linear(value, op, x, seg, aux)
    return R.result(value, op, x, operand, aux=aux, seg=seg)


# ---- flat primitives (used by re-taping and by the public ops below) -------------------

def gather_strided(x, shape, strides, offset):
    """``out[i] = flat(x)[offset + i . strides]`` as a new array of ``shape``."""
    if type(x._data) is DeviceArray:
        from .cuda_ops import strided_value

        value = strided_value(x._data, tuple(shape), tuple(strides), offset)
    else:
        flat = np.ascontiguousarray(x._arr()).reshape(-1)
        if not any(strides) and flat.size:  # one element repeated (a sum's VJP): no index array
            value = _wrap(np.full(shape, flat[offset]))
        else:
            idx = _strided_indices(shape, strides, offset)
            value = _wrap(flat[idx].reshape(shape)) if flat.size else \
                _wrap(np.zeros(shape, flat.dtype))
    if not (x._rg and _grad_on()):
        return _make(value)
    return _record_linear(value, _GATHER_STRIDED, x,
                          lambda seg: _strided_aux(seg, shape, strides, offset))


def scatter_strided(x, shape, strides, offset, out_size):
    """``out = zeros(out_size); out[offset + i . strides] += x[i]`` (i over ``shape``)."""
    if type(x._data) is DeviceArray:
        from .cuda_ops import scatter_strided_value

        value = scatter_strided_value(x._data, tuple(shape), tuple(strides), offset, out_size)
    else:
        xd = np.asarray(x._data).reshape(shape)
        dt = np.result_type(xd.dtype, np.float64) if xd.dtype.kind != "f" else xd.dtype
        # float32/float16 added in float64 and rounded once: np.add.at adds in turn (a
        # broadcast's gradient over 200000 elements ~1e-5 relative off, PyTorch's ~1e-7)
        out = np.zeros(out_size, np.float64 if dt.itemsize < 8 else dt)
        np.add.at(out, _strided_indices(shape, strides, offset).reshape(-1), xd.reshape(-1))
        with np.errstate(over="ignore"):  # (past the dtype's range: inf, as the sum's)
            out = out.astype(dt, copy=False)
        value = _wrap(out.reshape(_slot_tensor_shape(out_size)))
    if not (x._rg and _grad_on()):
        return _make(value)
    return _record_linear(value, _SCATTER_STRIDED, x,
                          lambda seg: _strided_aux(seg, shape, strides, offset))


def gather_index(x, idx, operand=None):
    """``out[i] = flat(x)[idx[i]]`` (idx flat, int64, in range); ``operand``: _record_linear's."""
    if type(x._data) is DeviceArray:
        from .cuda_ops import gather_index as cuda_gather_index

        return cuda_gather_index(x, idx)
    value = _wrap(np.asarray(x._data).reshape(-1)[idx])
    if not (x._rg and _grad_on()):
        return _make(value)
    return _record_linear(value, _GATHER_INDEX, x, lambda seg: tape.add_ivals(seg, idx), operand)


def gathered(x, idx, name, operand=None):
    """``x.flatten()[idx]`` shaped like ``idx`` (a gather and a reshape), differentiable, its
    node named ``name`` (ops/node_names.py): the values of ``sort``, ``topk``, ``max(dim)``..."""
    idx = np.asarray(idx, np.int64)
    g = gather_index(x, idx.reshape(-1), operand)
    return name_node(reshape(g, idx.shape), name, g)


def scatter_index(x, idx, out_size):
    """``out = zeros(out_size); out[idx[i]] += flat(x)[i]``."""
    if type(x._data) is DeviceArray:
        from .cuda_ops import scatter_index as cuda_scatter_index

        return cuda_scatter_index(x, idx, out_size)
    xd = np.asarray(x._data).reshape(-1)
    out = np.zeros(out_size, xd.dtype if xd.dtype.kind in "fc" else np.float64)
    np.add.at(out, idx, xd)
    value = _wrap(out.reshape(_slot_tensor_shape(out_size)))
    if not (x._rg and _grad_on()):
        return _make(value)
    return _record_linear(value, _SCATTER_INDEX, x, lambda seg: tape.add_ivals(seg, idx))


def _strided_indices(shape, strides, offset):
    idx = np.full(shape, offset, dtype=np.int64)
    for k, (n, s) in enumerate(zip(shape, strides)):
        if s and n > 1:
            view = [None] * len(shape)
            view[k] = slice(None)
            idx = idx + (np.arange(n, dtype=np.int64) * s)[tuple(view)]
    return idx


# ---- VJPs used when re-taping (each record's VJP is its partner op) --------------------

def _flat(t):
    n = t.numel()
    return t if t.ndim == (0 if n == 1 else 1) else reshape(t, _slot_tensor_shape(n))


def _vjp_reshape(g, seg, r):
    return (g,)


def _vjp_gather_strided(g, seg, r):
    shape, strides, offset = _read_strided(seg, int(seg.records()[r, tape.AUX]))
    a = int(seg.records()[r, tape.A])
    n_in = _slot_size(seg, a)
    return (scatter_strided(g, shape, strides, offset, n_in),)


def _vjp_scatter_strided(g, seg, r):
    shape, strides, offset = _read_strided(seg, int(seg.records()[r, tape.AUX]))
    return (_flat(gather_strided(g, shape, strides, offset)),)


def _vjp_gather_index(g, seg, r):
    rec = seg.records()[r]
    return (scatter_index(g, seg.ivals[rec[tape.AUX]], _slot_size(seg, int(rec[tape.A]))),)


def _vjp_scatter_index(g, seg, r):
    rec = seg.records()[r]
    return (_flat(gather_index(g, seg.ivals[rec[tape.AUX]])),)


def _slot_size(seg, r):
    return int(seg.records()[r, tape.SIZE])


defop(Op.RESHAPE, "reshape", "linear", "ViewBackward0", vjp=_vjp_reshape)
defop(Op.GATHER_STRIDED, "as_strided", "linear", "AsStridedBackward0", vjp=_vjp_gather_strided)
defop(Op.SCATTER_STRIDED, "sum_to", "linear", "SumBackward1", vjp=_vjp_scatter_strided)
defop(Op.GATHER_INDEX, "take", "linear", "IndexBackward0", vjp=_vjp_gather_index)
defop(Op.SCATTER_INDEX, "index_add", "linear", "IndexAddBackward0", vjp=_vjp_scatter_index)


# ---- public movement ops ----------------------------------------------------------------

def reshape(input, *sizes, shape=None):
    """Same elements in a new shape (a view when NumPy can make one)."""
    input = R.as_tensor(input)
    shape = flat_shape(sizes if shape is None else keyword_size("reshape", sizes, shape, "shape"))
    value = _reshape_value(xd := input._arr(), shape)
    if not (input._rg and _grad_on()):
        t = _make(value)
    else:
        t = _record_linear(value, _RESHAPE, input, lambda seg: -1)
    b = value.base if type(value) is np.ndarray else xd  # (a copy NumPy made: PyTorch's too)
    if b is xd or b is not None and b is xd.base or not value.size or np.may_share_memory(value, xd):
        return _share_storage(t, input) or t  # (None)
    return name_entry(t, UNSAFE_VIEW)  # (a copy: PyTorch's clone and _unsafe_view)


def _reshape_value(xd, shape):
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    for k, s in enumerate(shape):
        if s < -1:
            raise RuntimeError(f"invalid shape dimension {s} at index {k} of shape "
                               f"{list(shape)}")
    if xd.size == 0 and -1 in shape and 0 in shape:  # (NumPy's error says nothing of it)
        raise RuntimeError(ambiguous_shape(shape))
    try:
        return xd.reshape(shape)
    except ValueError:
        raise RuntimeError(
            f"shape '{list(shape)}' is invalid for input of size {xd.size}") from None


def _share_storage(t, x, local=None):
    """Views share the version counter (and storage) of their base, as in PyTorch, and are
    inference tensors exactly when it is. ``local``: (shape, strides, offset) of ``t`` in
    ``x``'s C order (None: the same), which a CUDA view, a copy, keeps (ops/cuda_views.py)."""
    t._inference = x._inference
    if type(t._data) is not float and type(x._data) is not float:
        if x._multi is NO_GRAD_VIEW or _gs.grad_enabled is not True and not _gs.inference:
            mark_no_grad_view(t, x)  # (PyTorch forbids changing it in place with grad on)
        t._vc = x._vcounter()
        base = t._base = x if x._base is None else x._base
        t._bseg, t._brec = base._seg, base._rec
        if not t._rg:  # (an in-place write giving base a history gives t one: view_rebase)
            _note_view(base, t)
        if type(t._data) is DeviceArray:
            from .cuda_views import note

            note(t, x, local)


def view(input, *shape, size=None):
    """``reshape`` that must not copy: a view of a C-contiguous tensor that spans its storage
    unevenly (``x.t().view(-1)``) raises PyTorch's error, as its strides are PyTorch's."""
    if size is not None:
        shape = keyword_size("view", shape, size)
    input = R.as_tensor(input)
    xd, base = input._data, input._base
    if type(xd) is np.ndarray and base is not None and not xd.flags.c_contiguous and \
            type(base._data) is np.ndarray and base._data.flags.c_contiguous:
        try:
            np.reshape(xd, flat_shape(shape), copy=False)
        except ValueError:
            if xd.size == size_of(flat_shape(shape)) or -1 in flat_shape(shape):
                raise RuntimeError(
                    "view size is not compatible with input tensor's size and stride (at least "
                    "one dimension spans across two contiguous subspaces). Use .reshape(...) "
                    "instead.") from None
    return reshape(input, *shape)


def flatten(input, start_dim=0, end_dim=-1):
    shape = input.shape
    if not shape:
        return reshape(input, 1)
    s, e = norm_dim(start_dim, len(shape)), norm_dim(end_dim, len(shape))
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return input  # (PyTorch's flatten returns its input itself when there is nothing to do)
    return reshape(input, shape[:s] + (size_of(shape[s : e + 1]),) + shape[e + 1 :])


def ravel(x):
    """The elements as a 1-D tensor (``torch.ravel``; of a 1-D tensor a view, not x itself)."""
    return reshape(x, -1)


def squeeze(x, dim=None):
    shape = x.shape
    if dim is None:
        return name_view(reshape(x, tuple(s for s in shape if s != 1)), x, "SqueezeBackward0")
    dims = {norm_dim(d, len(shape)) for d in ((dim,) if isinstance(dim, int) else dim)}
    return name_view(reshape(x, tuple(s for i, s in enumerate(shape)
                                        if not (i in dims and s == 1))), x,
                       "SqueezeBackward1" if isinstance(dim, int) else "SqueezeBackward2")


def unsqueeze(x, dim):
    shape = x.shape
    d = norm_dim(dim, len(shape) + 1)
    return name_view(reshape(x, shape[:d] + (1,) + shape[d:]), x, "UnsqueezeBackward0")


def _view_strided(x, value, shape, strides, offset):
    """Record a strided view of ``x`` whose value NumPy already computed."""
    if not (x._rg and _grad_on()):
        t = _make(value)
    else:
        t = _record_linear(value, _GATHER_STRIDED, x,
                           lambda seg: _strided_aux(seg, shape, strides, offset))
    _share_storage(t, x, (shape, strides, offset))
    return t


def permute(input, *order, dims=None, _name="PermuteBackward0"):
    dims = order or missing_dims() if dims is None else keyword_size("permute", order, dims, "dims")
    input = R.as_tensor(input)
    xd = input._data
    if type(xd) is np.ndarray:  # the plan of a (shape, dims) seen before: no checks, no strides
        try:  # (float dims equal the ints of a kept plan: their product's type tells apart)
            plan = _permutations.get((xd.shape, dims)) if type(math.prod(dims)) is int else None
        except TypeError:  # (dims given as a list)
            plan = None
        if plan is None:
            plan = permutation(xd.shape, dims)
        axes, shape, ints = plan
        value = xd.transpose(axes)
        if not (input._rg and _grad_on()):
            t = _make(value)
        else:
            t = _record_linear(value, _GATHER_STRIDED, input,
                               lambda seg: tape.add_iaux(seg, ints))
            name_node(t, _name)
        _share_storage(t, input)
        return t
    axes, shape, ints = permutation(tuple(input.shape), dims)
    strides = ints[1 + len(shape):-1]
    if type(xd) is DeviceArray:  # CUDA: a gathered copy (ops/cuda_ops.py)
        from .cuda_ops import view as cuda_view

        return cuda_view(input, shape, strides, 0)
    return name_view(_view_strided(input, input._arr().transpose(axes), shape, strides, 0),
                     input, _name)


def transpose(input, dim0, dim1, _name="TransposeBackward0"):
    nd = input.ndim
    d0, d1 = norm_dim(dim0, nd), norm_dim(dim1, nd)
    dims = list(range(nd))
    if nd:  # (a 0-d tensor's transpose is a view of it too, as PyTorch's)
        dims[d0], dims[d1] = dims[d1], dims[d0]
    return permute(input, tuple(dims), _name=_name)


def t(x):
    if x.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {x.ndim}D")
    return transpose(x, 0, x.ndim - 1, "TBackward0")  # (1-D or 0-d: a view, as PyTorch's)


def T(x):
    return permute(x, tuple(reversed(range(x.ndim))))


def broadcast_to(input, size, with_value=True, seg=None):
    """``input`` repeated along new or size-1 dims (a stride-0 view; its VJP is a sum).

    ``with_value=False`` (internal, binary ops that save nothing) records the broadcast without
    materialising the view: the returned tensor then only carries its place on the tape, and
    the caller passes ``seg`` (from ``tape.prepare``) so that its consumer records on the same
    segment (a placeholder cannot be imported into another one).
    """
    input = R.as_tensor(input)
    shape = flat_shape((size,), "broadcast_to", "size")
    xs = input.shape
    if xs == shape:
        return input
    lead = len(shape) - len(xs)
    shape = keep_sizes(xs, shape, lead) if -1 in shape else shape  # (as torch.broadcast_to)
    if lead < 0 or any(s != t and s != 1 for s, t in zip(xs, shape[lead:])):
        raise expand_error(xs, shape, input.dtype)
    recording = input._rg and _grad_on()
    value = None
    if with_value or not recording:
        value = _expanded(input, shape)
    if not recording:
        t = _make(value)
        _share_storage(t, input, (shape, _expand_strides(xs, shape), 0)
                       if type(value) is DeviceArray else None)
        return t
    strides = _expand_strides(xs, shape)
    if seg is None:
        seg = tape.prepare([input])
    aux = _strided_aux(seg, shape, strides, 0)
    if input.dtype.kind == "c":  # complex: ops/complex.py (a copy, not a view)
        from .complex import linear

        return linear(np.ascontiguousarray(_expanded(input, shape)), _GATHER_STRIDED, input, seg,
                      aux)
    n = size_of(shape)
    if value is None:
        return _slot_only(R.result, seg, input, aux, n)
    t = R.result(value, _GATHER_STRIDED, input, aux=aux, seg=seg)
    _share_storage(t, input, (shape, strides, 0))  # a view, as PyTorch's expand
    return t


def _expand_strides(xs, shape):
    """Element strides of ``shape`` reading a C-contiguous ``xs`` (0 where it repeats)."""
    lead = len(shape) - len(xs)
    cs = c_strides(xs)
    return tuple(0 if k < lead or xs[k - lead] == 1 else cs[k - lead] for k in range(len(shape)))


def _expanded(x, shape):
    """x's memory seen at ``shape`` (stride 0 on repeated dims). Writeable, as in PyTorch, when
    no element is repeated; otherwise read-only, so that an in-place write raises PyTorch's
    overlap error."""
    d = x._data
    if type(d) is float:
        return np.broadcast_to(np.float64(d), shape)
    if type(d) is DeviceArray:  # CUDA: a gathered copy (ops/cuda_ops.py)
        from .cuda_ops import expand_value

        return expand_value(d, shape)
    v = np.broadcast_to(d, shape)
    if d.flags.writeable and all(st or n <= 1 for n, st in zip(v.shape, v.strides)):
        v = np.lib.stride_tricks.as_strided(d, v.shape, v.strides)
    return v


def _slot_only(result, seg, x, aux, n):
    """A GATHER_STRIDED record whose output value is never read (see broadcast_to)."""
    t = result(_SizeOnly(n), _GATHER_STRIDED, x, aux=aux, seg=seg)  # reads only .size
    t._data = None
    return t


class _SizeOnly:
    __slots__ = ("size",)

    def __init__(self, n):
        self.size = n


def expand(input, *sizes, size=None):
    sizes = flat_shape(sizes if size is None else keyword_size("expand", sizes, size), "expand",
                       "size")
    xs = input.shape
    lead = len(sizes) - len(xs)
    shape = keep_sizes(xs, sizes, lead)
    t = broadcast_to(input, shape)
    if t is input:  # (to its own shape: still a view, as PyTorch's)
        return permute(input, tuple(range(input.ndim)), _name="ExpandBackward0")
    return name_view(t, input, "ExpandBackward0")  # (node.py's _operand)


def flip(input, *args, dims=None):
    """``input`` with the order of ``dims`` reversed (``x.flip(0, 1)``, ``flip(x, (0, 1))`` or
    ``flip(x, dims=(0, 1))``)."""
    if dims is None:
        dims = args[0] if len(args) == 1 else args
    input = R.as_tensor(input)
    dims = norm_dims(dims, input.ndim)
    shape = input.shape
    cs = c_strides(shape)
    # NOTE: np.sum, not sum: this module's sum() is the tensor reduction
    offset = int(np.sum([(shape[d] - 1) * cs[d] for d in dims], dtype=np.int64))
    strides = tuple(-s if k in dims else s for k, s in enumerate(cs))
    if type(input._data) is DeviceArray:
        from .cuda_ops import strided_value

        value = strided_value(input._data, shape, strides, offset)
    else:
        value = np.flip(input._arr(), dims).copy()
    t = name_view(_view_strided(input, value, shape, strides, offset), input, "FlipBackward0")
    t._vc, t._base = None, None  # flip copies, like torch.flip
    t._inference = _gs.inference is True  # (a fresh tensor: an inference one only inside the mode)
    if t._multi is NO_GRAD_VIEW:  # (not a view: no_grad's view rules do not apply)
        t._multi, t._rg, t._standin = None, False, None
    return t


# ---- sum (a scatter with zero strides) --------------------------------------------------

_add_reduce = np.add.reduce
_F16, _F32 = np.dtype(np.float16), np.dtype(np.float32)


def sum_values(a, dims, keepdim):
    """The values ``sum`` gives for the CPU array ``a`` over the sorted ``dims`` (also for ops
    that reduce as ``sum`` does, so that their values are its). float16 is summed in float32
    and rounded once, as PyTorch's (NumPy adds rows into a float16 total: 8-22% low)."""
    if a.dtype is _F16:
        with np.errstate(over="ignore"):  # (a total past 65504 is inf, silently, as PyTorch's)
            return sum_values(a.astype(_F32), dims, keepdim).astype(_F16)
    try:
        if len(dims) == a.ndim and not keepdim:
            return _add_reduce(a, axis=None)
        if a.size >= _SHORT_RUNS_MIN:  # (a loop where NumPy's is slow)
            return _sum_axes(a, dims, keepdim)
        return _add_reduce(a, axis=dims, keepdims=keepdim)
    except RuntimeWarning:  # (overflow to inf, which a user's filter raised: _float_warnings)
        return quiet(sum_values, a, dims, keepdim)


def sum(x, dim=None, keepdim=False, dtype=None):
    """Sum over ``dim`` (all dims if None)."""
    x = R.as_tensor(x)
    xd = x._data
    if type(xd) is float:
        if dim not in (None, 0, -1, (), []):
            norm_dim(dim if isinstance(dim, int) else dim[0], 0)
        if not (x._rg and _grad_on()):
            return _make(xd)
        return _record_linear(xd, _RESHAPE, x, lambda seg: -1)
    if dim is None and not keepdim and dtype is None and xd.dtype.char in "fdFD" and \
            type(xd) is not DeviceArray:
        # the common full reduction: one flat scatter (every element gets the one gradient)
        try:
            value = _wrap(_add_reduce(xd, axis=None))
        except RuntimeWarning:  # (overflow, which a user's filter raised: _float_warnings)
            value = _wrap(quiet(_add_reduce, xd, axis=None))
        if not (x._rg and _grad_on()):
            return _make(value)
        return _full_sum(value, x, xd.size, _record_sum)  # (the record spelled out)
    full = dim is None and not keepdim  # (PyTorch's SumBackward0; with dims: SumBackward1)
    if isinstance(dim, (tuple, list)) and len(dim) == 0:
        dim = None  # PyTorch: an empty dim list reduces over every dim
    dims = (dim + xd.ndim if -xd.ndim <= dim < 0 else dim,) if type(dim) is int and \
        -xd.ndim <= dim < xd.ndim else norm_dims(dim, xd.ndim)
    if dtype is None and xd.dtype.kind in "bu":
        dtype = np.dtype(np.int64)  # (PyTorch's Long; NumPy sums unsigned ints as uint64)
    if type(xd) is DeviceArray:  # CUDA: a parallel reduction (ops/cuda_ops.py)
        from .cuda_ops import sum_value

        value = sum_value(xd, dims, keepdim, dtype)
    elif dtype is None:
        value = _wrap(sum_values(xd, dims, keepdim))
    else:
        value = _wrap(_add_reduce(xd, axis=dims, keepdims=keepdim, dtype=dtype))
    if not (x._rg and _grad_on()):
        return _make(value)
    shape = xd.shape
    ints = _sum_ints.get((shape, dims))
    if ints is None:
        kept = tuple([1 if k in dims else s for k, s in enumerate(shape)])
        cs = c_strides(kept)
        strides = tuple([0 if k in dims else cs[k] for k in range(len(shape))])
        ints = _keep_sum((shape, dims), strided_ints(shape, strides, 0))
    seg = tape.prepare([x]) if type(xd) is DeviceArray else R.segment_for(x)
    t = _record_sum(value, x, seg, ints)
    if full != (ints[0] == 1 and ints[2] == 0):  # (flat parameters name SumBackward0 in
        name_node(t, "SumBackward0" if full else "SumBackward1")  # autograd/node.py)
    return t


def _record_sum(value, x, seg, ints):
    """The sum's record: a strided scatter with parameters ``ints`` (complex: ops/complex.py)."""
    aux = tape.add_iaux(seg, ints)
    if type(value) is not float and value.dtype.kind == "c":
        from .complex import linear

        return linear(value, _SCATTER_STRIDED, x, seg, aux)
    return R.result(value, _SCATTER_STRIDED, x, aux=aux, seg=seg)


_sum_ints, _keep_sum = bounded_cache(4096)  # (shape, summed dims) -> SCATTER_STRIDED parameters


# ---- indexing ---------------------------------------------------------------------------

def getitem(x, key):
    """``x[key]``: basic indexing gives a view; integer arrays and masks give a copy."""
    x = R.as_tensor(x)
    xd, pk = x._data, None
    if type(xd) is np.ndarray and x._rg:  # a key seen before on this shape: its plan
        pk = _plan_key(key)
        plan = _view_plans.get((xd.shape, pk)) if pk is not None else None
        if plan is not None and _grad_on() and xd.flags.c_contiguous:
            items, ints, name = plan
            t = _record_linear(xd[items], _GATHER_STRIDED, x, lambda seg: tape.add_iaux(seg, ints))
            _share_storage(t, x)
            return name_entry(t, name)  # (PyTorch's SelectBackward0, SliceBackward0...)
    basic = _is_basic(key)  # ints, slices, None, Ellipsis: nothing to convert
    if not basic:
        x = indexed_input(x, key) if R._tensor_mod._inference_used else x  # (saved indices)
        key = _index_key(key)
        basic = _is_basic(key)  # a 0-d integer tensor is not basic: it stays advanced
        split = None if basic else _ints_first(key)
        if split is not None:  # integers among arrays: PyTorch selects with them first
            return getitem(getitem(x, split[0]), split[1])
    xd = x._arr()
    shape = xd.shape
    if basic:
        items = key if isinstance(key, tuple) else (key,)
        if not any(k is Ellipsis for k in items):
            items = items + (Ellipsis,)  # keeps 0-d results views, not NumPy scalars
        if type(xd) is DeviceArray:  # CUDA: a gathered copy (ops/cuda_ops.py)
            from .cuda_ops import getitem as cuda_getitem
            return cuda_getitem(x, shape, key, items)
        try:
            value = xd[items]
        except IndexError as e:
            raise _index_error(e, shape, key) from None
        if not value.size:  # (NumPy's empty views lose their start: PyTorch's keep it)
            value = _empty_at(xd, items, value)
        if not (x._rg and _grad_on()):
            t = _make(value)
            _share_storage(t, x)
            return t
        view, name = _basic_view(xd, items, value), _index_name(key, shape)
        if view is not None and pk is not None:  # (a C-contiguous base: one view per key)
            _keep_view_plan((shape, pk), (items, (value.ndim, *value.shape, *view[0], view[1]),
                                          name))
        if view is None:  # a non-contiguous base or an empty result: NumPy's own arithmetic
            probe = np.lib.stride_tricks.as_strided(_PROBE_BASE, shape=shape,
                                                    strides=c_strides(shape))
            pv = probe[items]
            view = pv.strides, pv.__array_interface__["data"][0] - _PROBE_ADDR
        return name_entry(_view_strided(x, value, value.shape, *view), name)
    if type(xd) is DeviceArray:  # CUDA: the flat indices on the host, the gather on the device
        from .cuda_ops import getitem as cuda_getitem
        return cuda_getitem(x, shape, key)
    try:
        value = xd[key]
    except IndexError as e:
        raise _index_error(e, shape, key) from None
    if not (x._rg and _grad_on()):
        return _make(_wrap(value))
    idx = _flat_positions(shape, key, value.size).reshape(-1)
    return _record_linear(_wrap(value), _GATHER_INDEX, x, lambda seg: tape.add_ivals(seg, idx),
                          R.index_operand(key) if x._inference else None)

