"""The forward of ops on CUDA tensors: kernels from ``engine/cuda/kernels``, the same records.

The op modules call into here from one early branch each (``type(data) is DeviceArray``) and
the rest of their code (shape checks, recording) is shared with the CPU: a device op appends
the same record as its CPU twin, on a device segment (``tape.prepare_on``), with its saved
values as float64 device arrays, so the device sweep replays it with the same formulas.

Covered: the elementwise table (unary, binary with broadcasting, the constant variants,
where, clamp), dtype casts and transfers (``to``), sums and means over all or some dims,
strided views (reshape, permute/transpose, basic slicing, expand/broadcast), matmul (2-D,
batched, 1-D operands). Anything else reaches NumPy with a ``DeviceArray`` and raises
NotImplementedError naming the NumPy function.
"""

import math

import numpy as np

from .. import tape
from ..device import MIXED, DeviceArray, cuda_api, is_cuda, parse, to_device
from ..engine.cuda import kernels as K
from ..promotion import can_cast, float_of, number_dtype, result_dtype
from ..registry import Op
from ..tensor import Tensor, _make
from . import record as R
from .shapes import c_strides
from .index_keys import positions

_F64 = np.dtype(np.float64)


def _new(shape, dtype):
    n = 1
    for s in shape:
        n *= s
    return DeviceArray(K.empty(n, dtype), shape)


def is_dev(t):
    return isinstance(t, Tensor) and type(t._data) is DeviceArray


def same_device(*ts):
    """Raise PyTorch's error when CUDA and CPU tensors meet in one op."""
    devs = {is_dev(t) for t in ts if isinstance(t, Tensor)}
    if len(devs) > 1:
        raise RuntimeError(MIXED)


def saved_array(d):
    """A saved value of a CUDA tensor: a flat float64 device copy; a Python float for one
    element (the tape keeps size-1 values as floats: one copy to the host)."""
    if d.size == 1:
        return float(d.host().reshape(()))
    out = _new(d.shape, _F64)
    K.launch("cast", d.size, d.size, d.flat(), out.a)
    return out


def astype(d, dtype):
    dtype = np.dtype(dtype)
    out = _new(d.shape, dtype)
    K.launch("cast", d.size, d.size, d.flat(), out.a)
    return out


# ---- elementwise ------------------------------------------------------------------------

def _dtype_of(op, dt):
    """The result dtype of elementwise ``op`` whose operands promote to ``dt`` (PyTorch's
    promotion, ``promotion.py``): integers stay integers through the arithmetic that keeps
    them, else become the default dtype."""
    if dt.kind == "f":
        return dt
    if op in (Op.NEG, Op.ABS, Op.CLONE, Op.ADD, Op.SUB, Op.MUL, Op.MAXIMUM, Op.MINIMUM):
        return dt
    return float_of(dt)


def ew(op, x, y=None, cx=0.0, cy=0.0, shape=None, dtype=None):
    """Run the forward switch for ``op`` on DeviceArrays ``x``/``y`` (None: the constant)."""
    ref = x if x is not None else y
    shape = ref.shape if shape is None else shape
    out = _new(shape, dtype)
    n = out.size
    d = K.dummy()
    K.launch("ew_fwd", n, int(op), n, x.flat() if x is not None else d, -1 if x is None else (1
             if x.size == n else 0), float(cx), y.flat() if y is not None else d,
             -1 if y is None else (1 if y.size == n else 0), float(cy), out.a)
    return out


def _ew_const(op, x, c, reflected, dtype):
    """``x op c`` (or ``c op x``) with a Python number c."""
    out = _new(x.shape, dtype)
    n = out.size
    d = K.dummy()
    if reflected:
        K.launch("ew_fwd", n, int(op), n, d, -1, float(c), x.flat(), 1, 0.0, out.a)
    else:
        K.launch("ew_fwd", n, int(op), n, x.flat(), 1, 0.0, d, -1, float(c), out.a)
    return out


def python_elementwise(op, xd, yd=None):
    """A smooth Python elementwise op (atan, log2, erf, atan2...) on DeviceArrays: its case of
    the generated forward switch; y is broadcast to x first. Integers give float64, as on
    the CPU."""
    dts = [xd.dtype] if yd is None else [xd.dtype, yd.dtype]
    dt = np.result_type(*dts)
    shape = xd.shape
    if yd is not None:
        from .shapes import broadcast_shapes

        shape = broadcast_shapes(xd.shape, yd.shape)
        xd = xd if xd.shape == shape else expand_value(xd, shape)
        yd = yd if yd.shape == shape else expand_value(yd, shape)
    return ew(op, xd, yd, shape=shape, dtype=dt if dt.kind == "f" else _F64)


def to_same_device(*ts):
    """The operands of a CUDA op: 0-d CPU tensors moved to the device, else PyTorch's
    mixed-device error."""
    ts = [_scalar_to_device(t) for t in ts]
    same_device(*ts)
    return ts


def sign_value(d):
    """sign of a DeviceArray, 0 for nan (PyTorch's); a bool array is its own sign."""
    out = _new(d.shape, d.dtype)
    K.launch("sign_fwd", out.size, out.size, d.flat(), out.a)
    return out


_ROUNDING = {"round": 0, "floor": 1, "ceil": 2, "trunc": 3}


def rounded(x, name, decimals=0):
    """floor/ceil/trunc/round(decimals=) of a CUDA tensor (an integer one only to negative
    decimals), with PyTorch's zero gradient."""
    from .elementwise import zero_grad_like

    d = x._data
    mode = _ROUNDING[name] if decimals == 0 else 4 if decimals > 0 else 5
    xf = d.flat()
    # (modes 0-3 read no scale: x stands in for it, of its type, so no copy to the device)
    scale = to_device(np.array([10.0 ** abs(decimals)], d.dtype)).flat() if decimals else xf
    out = _new(d.shape, d.dtype)
    K.launch("round_fwd", out.size, out.size, mode, xf, scale, out.a)
    return zero_grad_like(x, out)


def unary(d, x):
    """``_unary`` ops (``ops/elementwise``) on a CUDA tensor."""
    from .elementwise import _record_unary

    r = ew(d.op, x._data, None, dtype=_dtype_of(d.op, x.dtype))
    if x._rg and R._grad_on():
        return _record_unary(int(d.op), x, r, "x" in d.saves, "out" in d.saves, -1,
                             tape.prepare([x]))
    return _make(r)


def _as_operand(v, other):
    """A binary op's operand: CUDA tensors pass; a Python number (weak, NEP 50) becomes a
    one-element device tensor of the other operand's dtype; CPU tensors are an error."""
    if isinstance(v, Tensor):
        if not is_dev(v):
            raise RuntimeError(MIXED)
        return v, v.dtype
    return _make(to_device(np.asarray(v, number_dtype(other.dtype, v)))), None


def _scalar_to_device(t):
    """A 0-d CPU tensor meeting a CUDA tensor moves to the device (PyTorch allows CPU
    scalars in CUDA ops); the move is recorded when it requires grad."""
    if t.ndim != 0 or is_dev(t):
        return t
    return to(t, None, "cuda") if t._rg else _make(to_device(np.asarray(t._data)))


def binary(d, x, y, wx, wy, save):
    """``_binary`` ops on CUDA tensors (``wx``/``wy``: the Python numbers they came from)."""
    from .movement import broadcast_to
    from .shapes import broadcast_shapes

    if wx is not None:
        x, _ = _as_operand(wx, y)
    if wy is not None:
        y, _ = _as_operand(wy, x)
    x, y = _scalar_to_device(x), _scalar_to_device(y)
    same_device(x, y)
    save_x, save_y, save_out = save
    shape = broadcast_shapes(x.shape, y.shape)
    if wx is None and wy is None:
        dt = result_dtype(x.dtype, x.ndim == 0, y.dtype, y.ndim == 0)
    else:  # (the number is a one-element tensor of the dtype it gives the other operand)
        dt = y.dtype if wy is not None else x.dtype
    dtype = _dtype_of(d.op, dt)
    rec = (x._rg or y._rg) and R._grad_on()
    seg = tape.prepare([t for t in (x, y) if t._rg]) if rec else None
    bx = x if x.shape == shape else (broadcast_to(x, shape, seg=seg) if rec and x._rg
                                     else _make(expand_value(x._data, shape)))
    by = y if y.shape == shape else (broadcast_to(y, shape, seg=seg) if rec and y._rg
                                     else _make(expand_value(y._data, shape)))
    r = ew(d.op, bx._data, by._data, shape=shape, dtype=dtype)
    if not rec:
        return _make(r)
    saved, stamps, vc = [], [], None
    for keep, src, b in ((save_x, x, bx), (save_y, y, by)):
        if keep:
            v, s = R.saved_value(src, b._data)
            saved.append(v)
            stamps.append(s)
    if save_out:
        vc = [0]
        saved.append(saved_array(r))
        stamps.append((vc, 0))
    t = R.result(r, int(d.op), bx, by, saved=saved, stamps=stamps, seg=seg)
    t._vc = vc if vc is not None else t._vc
    return t


_NUMBER_OPS = {np.add: Op.ADD, np.subtract: Op.SUB, np.multiply: Op.MUL, np.true_divide: Op.DIV,
               np.power: Op.POW}


def number_value(np_f, xd, c, reflected):
    """Forward value of ``x op c`` / ``c op x`` (constant-variant records) on the device."""
    op = _NUMBER_OPS[np_f]
    dt = number_dtype(xd.dtype, c)  # (PyTorch's promotion: an int tensor and a float: default)
    if op in (Op.DIV,) or (op == Op.POW and isinstance(c, float)):
        dt = float_of(dt)
    return _ew_const(op, xd, c, reflected, dt)


def where_value(cond, xa, ya, shape):
    """np.where(cond, x, y) with CUDA operands (numbers allowed)."""
    c = cond if type(cond) is DeviceArray else to_device(np.asarray(cond, bool))
    c = expand_value(c, shape) if c.shape != shape else c
    ops = []
    for v in (xa, ya):
        if isinstance(v, DeviceArray):
            ops.append((expand_value(v, shape) if v.shape != shape else v, None))
        else:
            ops.append((None, float(v)))
    out = _new(shape, _where_dtype(xa, ya))
    n, dm = out.size, K.dummy()
    (xv, cx), (yv, cy) = ops
    K.launch("where_fwd", n, n, c.flat(), xv.flat() if xv is not None else dm,
             -1 if xv is None else 1, cx or 0.0, yv.flat() if yv is not None else dm,
             -1 if yv is None else 1, cy or 0.0, out.a)
    return out


def _where_dtype(xa, ya):
    """``where``'s result dtype (PyTorch's promotion: a 0-d tensor or a number gives way to
    a dimensioned tensor of its category)."""
    xd, yd = isinstance(xa, DeviceArray), isinstance(ya, DeviceArray)
    if xd and yd:
        return result_dtype(xa.dtype, xa.ndim == 0, ya.dtype, ya.ndim == 0)
    if xd or yd:
        return number_dtype((xa if xd else ya).dtype, ya if xd else xa)
    return np.result_type(xa, ya)  # two numbers: np.where's, as on the CPU (int64 for ints)


def where_mask(cond, shape):
    """The saved 0/1 mask of WHERE, float64 on the device."""
    c = cond if type(cond) is DeviceArray else to_device(np.asarray(cond, bool))
    c = expand_value(c, shape) if c.shape != shape else c
    return astype(c, _F64)


def clamp_value(xd, lo, hi):
    out = _new(xd.shape, xd.dtype)
    K.launch("clamp_fwd", out.size, out.size, xd.flat(), float(lo), float(hi), out.a)
    return out


_COMPARE = ("eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor")
_LOGICAL_OF_BOOL = {"bitwise_and": "logical_and", "bitwise_or": "logical_or",
                    "bitwise_xor": "logical_xor"}


def compare(name, a, b):
    """A comparison or logical op with a CUDA operand: a bool CUDA tensor (numbers allowed,
    CPU tensors and arrays are PyTorch's mixed-device error)."""
    from .shapes import broadcast_shapes

    logical = _LOGICAL_OF_BOOL.get(name)
    if logical is not None and all(type(v) is bool or getattr(v, "dtype", None) == np.bool_
                                   for v in (a, b)):
        name = logical  # (of bool operands, ``&`` is ``logical_and``: a clamp's mask)
    if name not in _COMPARE:
        from .cuda_bitwise import BITWISE, bitwise

        if name in BITWISE:  # (of integers: a kernel of its own)
            return bitwise(name, a, b)
        raise NotImplementedError(f"{name} on cuda tensors is not implemented in tapegrad's "
                                  "CUDA backend")
    ops = []
    for v in (a, b):
        if type(v) is DeviceArray:
            ops.append(v)
        elif np.ndim(v) == 0:  # a number or a 0-d CPU tensor: a scalar, as in PyTorch
            ops.append(to_device(np.asarray(v)))
        else:
            raise RuntimeError(MIXED)
    shape = broadcast_shapes(ops[0].shape, ops[1].shape)
    out = _new(shape, np.dtype(bool))
    n = out.size
    x, y = (v if v.size in (1, n) else expand_value(v, shape) for v in ops)
    K.launch("compare", n, n, _COMPARE.index(name), x.flat(), 1 if x.size == n else 0,
             y.flat(), 1 if y.size == n else 0, out.a)
    return _make(out)


# ---- transfers and casts ----------------------------------------------------------------

def to(x, dtype, dev):
    """``Tensor.to`` with a device and/or dtype (differentiable: a TO_COPY record)."""
    dev = parse(dev)
    src_dev = is_dev(x)
    dst_dev = src_dev if dev is None else is_cuda(dev)
    if dst_dev:
        cuda_api()
    dtype = x.dtype if dtype is None else np.dtype(dtype)
    if dst_dev == src_dev and dtype == x.dtype:
        return x
    d = x._data
    if dst_dev and not src_dev:
        value = to_device(np.asarray(d).astype(dtype, copy=False))
    elif src_dev and not dst_dev:
        value = d.host().astype(dtype, copy=False)
        value = float(value) if value.ndim == 0 and value.dtype == _F64 else value
    else:
        value = astype(d, dtype)
    if x._rg and R._grad_on() and dtype.kind == "f":
        seg = tape.prepare_on([x], dst_dev)
        return R.result(value, Op.TO_COPY, x, seg=seg)
    return _make(value)


# ---- in place ---------------------------------------------------------------------------

def write(d, value, casting):
    """Store ``value`` (a DeviceArray of d's shape, a number or host values) into ``d``."""
    from .inplace import _torch_name

    if type(value) is not DeviceArray:
        value = to_device(np.broadcast_to(np.asarray(value), d.shape))
    if casting == "same_kind" and not can_cast(value.dtype, d.dtype):
        raise RuntimeError(f"result type {_torch_name(value.dtype)} can't be cast to the "
                           f"desired output type {_torch_name(d.dtype)}")
    K.launch("cast", d.size, d.size, value.flat(), d.flat())


def store(xd, key, v):
    """``xd[key] = v`` in place (the flat positions on the host, the writes on the device);
    ValueError when v does not broadcast, as NumPy's assignment."""
    ids = positions(xd.shape, key)
    if type(v) is not DeviceArray:
        v = to_device(np.asarray(v, xd.dtype))
    if np.broadcast_shapes(v.shape, ids.shape) != ids.shape:
        raise ValueError("could not broadcast input array")
    if v.dtype != xd.dtype:
        v = astype(v, xd.dtype)
    if v.size != ids.size:
        v = expand_value(v, ids.shape) if v.size != 1 else v
    n = ids.size
    K.launch("put", n, n, v.flat(), 1 if v.size == n else 0,
             to_device(ids.reshape(-1)).flat(), xd.flat())


# ---- movement ---------------------------------------------------------------------------

def strided_value(d, shape, strides, offset):
    """A contiguous copy of the strided view (shape, strides in elements, offset) of ``d``."""
    out = _new(shape, d.dtype)
    K.gather(d.flat(), shape, strides, offset, out.a)
    return out


def scatter_strided_value(d, shape, strides, offset, out_size):
    """zeros(out_size) with d's elements added at offset + i . strides (atomics: targets
    repeat where a stride is 0)."""
    from .movement import _slot_tensor_shape

    src = d if d.dtype == _F64 else astype(d, _F64)
    acc = K.zeros(out_size)
    K.scatter_add(src.flat(), shape, strides, offset, acc)
    return _cast_new(acc, _slot_tensor_shape(out_size), d.dtype if d.dtype.kind == "f" else _F64)


def expand_value(d, shape):
    xs = d.shape
    lead = len(shape) - len(xs)
    cs = c_strides(xs)
    strides = tuple(0 if k < lead or xs[k - lead] == 1 else cs[k - lead]
                    for k in range(len(shape)))
    return strided_value(d, tuple(shape), strides, 0)


def view(x, shape, strides, offset):
    """A strided view (permute, slicing) of a CUDA tensor: a gathered copy, recorded as the
    CPU's GATHER_STRIDED (byte strides of NumPy's probe arrive here as element strides)."""
    from .movement import _view_strided

    value = strided_value(x._data, tuple(shape), tuple(strides), offset)
    return _view_strided(x, value, tuple(shape), tuple(strides), offset)


def getitem(x, shape, key, items=None):
    """``x[key]`` of a CUDA tensor: a basic key (``items``) is a strided view (a gathered copy)
    found with NumPy's probe array, an advanced one the flat positions it selects, made on the
    host; NumPy's IndexErrors of either come out in PyTorch's words, as on the CPU."""
    from .index_errors import index_error
    from .index_keys import PROBE_ADDR, PROBE_BASE
    from .movement import gather_index, reshape

    try:
        if items is None:
            ids = np.arange(math.prod(shape), dtype=np.int64).reshape(shape)[key]
        else:
            pv = np.lib.stride_tricks.as_strided(PROBE_BASE, shape=shape,
                                                 strides=c_strides(shape))[items]
    except IndexError as e:
        raise index_error(e, shape, key) from None
    if items is None:
        return reshape(gather_index(x, ids.reshape(-1)), ids.shape)
    t = view(x, pv.shape, pv.strides, pv.__array_interface__["data"][0] - PROBE_ADDR)
    if not pv.size and t._vmap is not None:  # (NumPy drops an empty slice's start: PyTorch's
        from .cuda_views import empty_view_start  # storage_offset keeps it)

        t._vmap.start = empty_view_start(x, shape, items)
    return t


# ---- reductions -------------------------------------------------------------------------

rows_of = K.rows_of


def _reduced_shape(shape, dims, keepdim):
    if keepdim:
        return tuple(1 if k in dims else s for k, s in enumerate(shape))
    return tuple(s for k, s in enumerate(shape) if k not in dims)


def _cast_new(acc, shape, dtype):
    out = _new(shape, dtype)
    K.launch("cast", out.size, out.size, acc, out.a)
    return out


def sum_value(xd, dims, keepdim, dtype):
    """np.sum(xd, axis=dims, keepdims=keepdim, dtype=dtype) as a parallel reduction: the
    reduced dims are moved last (a gather, unless they already are), then every row is summed
    by blocks in shared memory (float64) with one atomic add per block."""
    src, rows, cols, _, _ = rows_of(xd, dims)
    acc = K.zeros(rows)
    K.rowsum(src, rows, cols, acc)
    if dtype is None:
        dtype = xd.dtype if xd.dtype.kind == "f" else np.dtype(np.int64)
    return _cast_new(acc, _reduced_shape(xd.shape, set(dims), keepdim), dtype)


def row_launch(name, rows, *args):
    """A row kernel (one thread per row) over ``rows`` rows."""
    K.launch(name, rows, rows, *args)


def extremum_value(xd, dims, keepdim, largest):
    """amax/amin over ``dims`` (NaN propagates, as np.amax)."""
    val, _, _ = extremum(xd, dims, largest)
    return _cast_new(val, _reduced_shape(xd.shape, set(dims), keepdim), xd.dtype)


def extremum(xd, dims, largest):
    """(values float64, positions along the moved dims, flat indices into ``xd``) per row."""
    src, rows, cols, pshape, pstrides = rows_of(xd, dims)
    val, pos, flat = K.empty(rows), K.empty(rows, np.int64), K.empty(rows, np.int64)
    row_launch("row_extremum", rows, cols, src, 1.0 if largest else -1.0,
               K.meta(pshape, pstrides, 0), val, pos, flat)
    return val, pos, flat


def shift_value(xd, dims, keep_inf=False):
    """The logsumexp shift: amax over ``dims`` (kept), 0 where it is not finite, as on the CPU
    (``fused_softmax.shift_array``); ``keep_inf`` (softmax's): the amax itself (nan rows)."""
    if xd.size == 0 or any(xd.shape[k] == 0 for k in dims):
        return _zeros_new(_reduced_shape(xd.shape, set(dims), True), xd.dtype)
    m = extremum_value(xd, dims, True, True)
    if not keep_inf:
        K.launch("finite_or_zero", m.size, m.size, m.a)
    return m


def _zeros_new(shape, dtype):
    out = _new(shape, dtype)
    K.launch("fill", out.size, out.size, out.a, 0)
    return out


def max_dim(x, d, keepdim, largest, result_type):
    """max(x, dim)/min(x, dim): the first extremal element (gathered: its gradient goes to
    that index only) and its index along ``d``."""
    from .movement import gather_index, reshape

    xd = x._data
    shape = xd.shape if xd.ndim else (1,)
    _, pos, flat = extremum(xd.reshape(shape), (d,), largest)
    out_shape = () if xd.ndim == 0 else _reduced_shape(shape, {d}, keepdim)
    values = reshape(gather_index(x, DeviceArray(flat)), out_shape)
    return result_type(values, _make(DeviceArray(pos, out_shape)))


def gather_index(x, idx):
    """flat(x)[idx] (idx: int64, host or device, in range), recorded as the CPU's
    GATHER_INDEX with the index kept on the device (its VJP adds with atomics)."""
    from .movement import _record_linear

    if type(idx) is not DeviceArray:
        idx = to_device(np.asarray(idx, np.int64))
    xd = x._data
    out = _new(idx.shape, xd.dtype)
    K.launch("take", out.size, out.size, xd.flat(), idx.flat(), out.a)
    if not (x._rg and R._grad_on()):
        return _make(out)
    return _record_linear(out, Op.GATHER_INDEX, x, lambda seg: tape.add_ivals(seg, idx))


def scatter_index(x, idx, out_size):
    """zeros(out_size) with flat(x)[i] added at idx[i] (atomics: indices may repeat),
    recorded as the CPU's SCATTER_INDEX."""
    from .movement import _record_linear, _slot_tensor_shape

    if type(idx) is not DeviceArray:
        idx = to_device(np.asarray(idx, np.int64))
    xd = x._data
    dtype = xd.dtype if xd.dtype.kind == "f" else _F64
    src = xd if xd.dtype == _F64 else astype(xd, _F64)  # atomics add like types
    acc = K.zeros(out_size)
    K.launch("index_add", xd.size, xd.size, src.flat(), idx.flat(), acc)
    out = _cast_new(acc, _slot_tensor_shape(out_size), dtype)
    if not (x._rg and R._grad_on()):
        return _make(out)
    return _record_linear(out, Op.SCATTER_INDEX, x, lambda seg: tape.add_ivals(seg, idx))


def prod_value(xd, d, keepdim, dtype):
    """np.prod over dim ``d`` (None: everything)."""
    dims = tuple(range(xd.ndim)) if d is None or xd.ndim == 0 else (d,)
    src, rows, cols, _, _ = rows_of(xd, dims)
    acc = K.empty(rows)
    row_launch("row_prod", rows, cols, src, acc)
    shape = () if d is None else _reduced_shape(xd.shape, set(dims), keepdim)
    if dtype is None:
        dtype = xd.dtype if xd.dtype.kind == "f" else np.dtype(np.int64)
    return _cast_new(acc, shape, dtype)


def var_value(xd, dims, keepdim, dof, root):
    """var (root: std) over ``dims`` with ``dof`` degrees of freedom."""
    src, rows, cols, _, _ = rows_of(xd, dims)
    acc = K.empty(rows)
    row_launch("row_var", rows, cols, src, float(dof), bool(root), acc)
    return _cast_new(acc, _reduced_shape(xd.shape, set(dims), keepdim), xd.dtype)


def cumsum_value(xd, d, dtype):
    """np.cumsum along ``d``: running sums of the rows, stored back in place of the gather."""
    src, rows, cols, pshape, pstrides = rows_of(xd, (d,))
    acc = K.empty(rows * cols)
    row_launch("row_cumsum", rows, cols, src, False, acc)
    if dtype is None:
        dtype = xd.dtype if xd.dtype.kind == "f" else np.dtype(np.int64)
    out = _new(xd.shape, dtype)
    K.launch("scatter_set", out.size, out.size, acc, K.meta(pshape, pstrides, 0), out.a)
    return out


def cat_value(ts, d, dtype):
    """np.concatenate along ``d`` of CUDA tensors (each piece stored into its slice)."""
    same_device(*ts)
    shape = list(ts[0].shape)
    shape[d] = sum(t.shape[d] for t in ts)
    out = _new(tuple(shape), np.dtype(dtype))
    cs = c_strides(tuple(shape))
    at = 0
    for t in ts:
        src = t._data if t.dtype == out.dtype else astype(t._data, out.dtype)
        n = src.size
        K.launch("scatter_set", n, n, src.flat(), K.meta(t.shape, cs, at * cs[d]), out.a)
        at += t.shape[d]
    return out


# ---- matmul -----------------------------------------------------------------------------

def matmul(x, y):
    same_device(x, y)
    xd, yd = x._data, y._data
    if xd.ndim == 0 or yd.ndim == 0:
        raise RuntimeError("both arguments to matmul need to be at least 1D, but they are "
                           f"{xd.ndim}D and {yd.ndim}D")
    if xd.shape[-1] != yd.shape[-2 if yd.ndim > 1 else 0]:  # (the CPU's words, PyTorch's)
        from .shapes import matmul_error

        raise matmul_error(xd.shape, yd.shape)
    if not K.matmul_fits(xd.shape, yd.shape):
        return _broadcast_matmul(x, y)
    batch, M, K_, N, abs_, bbs = K.matmul_dims(xd.shape, yd.shape)
    dtype = np.result_type(xd.dtype, yd.dtype)
    shape = ((batch,) if xd.ndim == 3 else ()) + ((M,) if xd.ndim > 1 else ()) + \
        ((N,) if yd.ndim > 1 else ())
    out = _new(shape, dtype)
    K.matmul(M, N, K_, batch, xd.flat(), (abs_, K_, 1), yd.flat(), (bbs, N, 1), out.a)
    if not R.needs_grad(x, y):
        return _make(out)
    params = None if (x._rg and y._rg) else {"needs": (x._rg, y._rg)}
    return R.python_result(out, Op.MATMUL, (x, y), save_inputs=(0, 1), params=params)


def _broadcast_matmul(x, y):
    """``x @ y`` for the shapes the kernel does not take (batch dims of any rank, broadcast
    batches, a matrix times a batch): both operands expanded to the common batch and
    flattened to 3-D, one batched matmul, the batch dims restored. The expands and reshapes
    are recorded device ops, so gradients (any order) sum over the broadcast batch."""
    from .movement import broadcast_to, reshape
    from .shapes import broadcast_shapes, matmul_error

    x2 = reshape(x, (1,) + x.shape) if x.ndim == 1 else x
    y2 = reshape(y, y.shape + (1,)) if y.ndim == 1 else y
    (M, K_), (K2, N) = x2.shape[-2:], y2.shape[-2:]
    if K_ != K2:
        raise matmul_error(x.shape, y.shape)
    batch = broadcast_shapes(x2.shape[:-2], y2.shape[:-2])
    n = math.prod(batch)
    x3 = reshape(broadcast_to(x2, batch + (M, K_)), (n, M, K_))
    y3 = reshape(broadcast_to(y2, batch + (K_, N)), (n, K_, N))
    out = matmul(x3, y3)
    return reshape(out, batch + ((M,) if x.ndim > 1 else ()) + ((N,) if y.ndim > 1 else ()))
