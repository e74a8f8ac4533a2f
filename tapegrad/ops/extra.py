"""Functions beyond the core ops: inverse trig and hyperbolic functions, erf, index ops
(gather, scatter, sort, topk, median, repeat) and logcumsumexp; the tests (isnan, isclose)
live in float_checks.py, the orderings in ordering.py, both re-exported here.

No opcode of the compiled elementwise switch is added: the smooth unary/binary functions are
``kind="python"`` ops declared by ``_py_unary``/``_py_binary``, whose derivative is ONE
function ``deriv(g, x, [y,] out, M)`` over a namespace ``M`` (NumPy for the numeric sweep,
tapegrad ops for re-taping, so second order works). Index ops are composites: a flat index
array computed with NumPy, then the existing GATHER_INDEX / SCATTER_INDEX records.
"""

import math
from types import SimpleNamespace

import numpy as np

from .. import vecmath
from ..creation import fill_number
from ..device import DeviceArray, host_array, index_device, to_device
from ..size import int_sizes, keyword_size
from ..tensor import _DTYPE_NAMES, DEFAULT_DTYPE, Tensor, _make, _wrap
from . import index_add_checks, index_add_op, inference_saves as _saves, record as R
from .activations import fusable_array
from .complex_refusals import refuse_pair
from .cuda_linalg import on_host
from ..registry import DERIVS, Op, defop
from .elementwise import abs, add, exp, log, mul, sqrt, where
from .inference_index import refuse_inference_index
from .movement import broadcast_to, gather_index, gathered, reshape, scatter_index
from .node_names import name_inputs, name_record
from .numpy_rules import tensors_promoted
from .broadcast_shapes import broadcast_shapes
from .shapes import broadcast_shapes as _broadcast2, c_strides, norm_dim, torch_dtype_name

_NP = SimpleNamespace(sqrt=np.sqrt, exp=np.exp, log=np.log, where=np.where)
_TG = SimpleNamespace(sqrt=sqrt, exp=exp, log=log, where=where)

def _cuda():
    from . import cuda_ops

    return cuda_ops


def _float_value(np_f, *arrays):
    dt = np.result_type(*[a.dtype for a in arrays])
    # integers in float64 (NumPy would compute bool and int8 in float16)
    arrays = [a.astype(np.float64) if a.dtype.kind in "biu" else a for a in arrays]
    with np.errstate(all="ignore"):
        v = np.asarray(np_f(*arrays))
    if dt.kind != "f":
        dt = DEFAULT_DTYPE[0]  # integers give the default dtype, as PyTorch's float functions
    return _wrap(v.astype(dt, copy=False))


# ---- smooth unary functions (python ops) -------------------------------------------------

def _py_unary(op, name, np_f, deriv, grad_fn, complex_deriv=None):
    """``deriv(g, x, out, M)``: the derivative, written once over namespace ``M``;
    ``complex_deriv``: the same for complex ``x`` where ``deriv``'s formula is another branch."""

    def vjp_np(g, inputs, out, **_):
        x = np.asarray(inputs[0], np.float64)
        with np.errstate(all="ignore"):
            return (deriv(np.asarray(g, np.float64), x, np.asarray(out, np.float64), _NP),)

    def vjp(g, inputs, out, **_):
        return (deriv(g, inputs[0], out, _TG),)

    def jvp_np(tangents, inputs, out, **_):
        # the Jacobian is diagonal: the VJP's factor applied to the tangent block
        return vjp_np(tangents[0], inputs, out)[0]

    defop(op, name, "python", grad_fn, vjp=vjp, vjp_np=vjp_np, jvp_np=jvp_np)
    DERIVS[int(op)] = (deriv, 1)

    def fn(input):
        x = R.as_tensor(input)
        if x.dtype.kind == "c":  # holomorphic: g * conj(f'(x)) (ops/complex.py)
            from .complex import holomorphic

            with np.errstate(all="ignore"):
                return holomorphic(np_f(x._arr()), x, complex_deriv or deriv, grad_fn)
        if type(x._data) is DeviceArray:  # math.<name> on the device (engine/cuda)
            value = _cuda().python_elementwise(op, x._data)
        else:
            value = _float_value(np_f, np.asarray(x._data))
        if not R.needs_grad(x) or x.dtype.kind != "f":
            return _make(value)
        return R.python_result(value, op, (x,), save_inputs=(0,), save_out=True)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise ``{name}``, differentiable to any order (PyTorch's torch.{name})."
    return fn


_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)

atan = _py_unary(Op.ATAN, "atan", np.arctan, lambda g, x, out, M: g / (x * x + 1.0),
                 "AtanBackward0")
asin = _py_unary(Op.ASIN, "asin", np.arcsin,
                 lambda g, x, out, M: g * (-(x * x) + 1.0) ** -0.5, "AsinBackward0")
acos = _py_unary(Op.ACOS, "acos", np.arccos,
                 lambda g, x, out, M: -g * (-(x * x) + 1.0) ** -0.5, "AcosBackward0")
sinh = _py_unary(Op.SINH, "sinh", np.sinh, lambda g, x, out, M: g * cosh(x) if M is _TG
                 else g * np.cosh(x), "SinhBackward0")
cosh = _py_unary(Op.COSH, "cosh", np.cosh, lambda g, x, out, M: g * sinh(x) if M is _TG
                 else g * np.sinh(x), "CoshBackward0")
asinh = _py_unary(Op.ASINH, "asinh", np.arcsinh,
                  lambda g, x, out, M: g * (x * x + 1.0) ** -0.5, "AsinhBackward0")

# (complex: (z^2 - 1)^-1/2 is the other branch of the square root where Re z < 0)
acosh = _py_unary(Op.ACOSH, "acosh", np.arccosh,
                  lambda g, x, out, M: g * (x * x - 1.0) ** -0.5, "AcoshBackward0",
                  complex_deriv=lambda g, x, out, M: g * ((x - 1.0) ** -0.5 * (x + 1.0) ** -0.5))
atanh = _py_unary(Op.ATANH, "atanh", np.arctanh,
                  lambda g, x, out, M: g / (-(x * x) + 1.0), "AtanhBackward0")
erf = _py_unary(Op.ERF, "erf", vecmath.erf,
                lambda g, x, out, M: g * (M.exp(-(x * x)) * _TWO_OVER_SQRT_PI), "ErfBackward0")
erfc = _py_unary(Op.ERFC, "erfc", lambda a: vecmath.special("erfc")(a),
                 lambda g, x, out, M: g * (M.exp(-(x * x)) * -_TWO_OVER_SQRT_PI),
                 "ErfcBackward0")

# correctly rounded (log2(8) is 3 and log10(1000) is 3, which log(x) / log(base) misses)
log2 = _py_unary(Op.LOG2, "log2", np.log2, lambda g, x, out, M: g / (x * math.log(2.0)),
                 "Log2Backward0")
log10 = _py_unary(Op.LOG10, "log10", np.log10, lambda g, x, out, M: g / (x * math.log(10.0)),
                  "Log10Backward0")

# ---- atan2 (binary python op, inputs broadcast first) -------------------------------------

def _atan2_deriv(g, y, x, M):
    # NOTE: 1 / (x^2 + y^2) is taken as 0 where the sum is 0 (at the origin, or underflowed),
    # as PyTorch does; the division reads a safe denominator so no inf reaches second order.
    d = x * x + y * y
    zero = d == 0.0
    recip = M.where(zero, 0.0, 1.0 / M.where(zero, 1.0, d))
    return g * (x * recip), g * (-y * recip)


def _atan2_vjp_np(g, inputs, out):
    y, x = (np.asarray(a, np.float64) for a in inputs)
    with np.errstate(all="ignore"):
        return _atan2_deriv(np.asarray(g, np.float64), y, x, _NP)


def _atan2_vjp(g, inputs, out):
    return _atan2_deriv(g, inputs[0], inputs[1], _TG)


def _atan2_jvp_np(tangents, inputs, out):
    """``(t_y x - t_x y) / (x^2 + y^2)``: PyTorch's forward formula, nan at the origin
    (where its VJP, and ours, reads 0)."""
    ty, tx = tangents
    y, x = (np.asarray(a, np.float64) for a in inputs)
    with np.errstate(all="ignore"):
        return ((0.0 if ty is None else ty * x) - (0.0 if tx is None else tx * y)) / \
            (x * x + y * y)


defop(Op.ATAN2, "atan2", "python", "Atan2Backward0", vjp=_atan2_vjp, vjp_np=_atan2_vjp_np,
      jvp_np=_atan2_jvp_np)
DERIVS[int(Op.ATAN2)] = (_atan2_deriv, 2)


def atan2(input, other):
    """Elementwise ``atan2(input, other)`` (the angle of the point ``(other, input)``)."""
    refuse_pair("atan2", input, other)  # atan2 is for real numbers (PyTorch: no complex kernel)
    y, x = tensors_promoted(input, other)
    if DeviceArray in (type(y._data), type(x._data)):
        y, x = _cuda().to_same_device(y, x)
        value = _cuda().python_elementwise(Op.ATAN2, y._data, x._data)
    else:
        value = _float_value(np.arctan2, np.asarray(y._data), np.asarray(x._data))
    kind = value.dtype.kind if type(value) is DeviceArray else np.result_type(value).kind
    if not R.needs_grad(y, x) or kind != "f" or \
            (y.dtype.kind != "f" and x.dtype.kind != "f"):
        return _make(value)
    shape = np.shape(value)  # a Python float for 0-d results
    y = y if y.shape == shape else broadcast_to(y, shape)
    x = x if x.shape == shape else broadcast_to(x, shape)
    return R.python_result(value, Op.ATAN2, (y, x), save_inputs=(0, 1))


# ---- logcumsumexp (python op) -----------------------------------------------------------
# The VJP is PyTorch's linear-time form: the positive and negative parts of g summed from the
# end in log space, sum_{j >= i} g_j exp(x_i - out_j) = exp(x_i + rlcse(log g_j - out_j)), each
# term at most g_j (no overflow); a zero g_j enters as the dtype's lowest value, not -inf.

def _lcse_vjp_np(g, inputs, out, dim):
    x = np.asarray(inputs[0])
    out, g = np.asarray(out), np.asarray(g, x.dtype)
    low = np.finfo(x.dtype).min

    def from_end(v):
        return np.flip(np.logaddexp.accumulate(np.flip(v, dim), axis=dim), dim)

    with np.errstate(all="ignore"):
        log_abs = np.log(np.abs(g))
        pos = np.exp(from_end(np.where(g > 0, log_abs, low) - out) + x)
        neg = np.exp(from_end(np.where(g < 0, log_abs, low) - out) + x)
    return (pos - neg,)


def _lcse_vjp(g, inputs, out, dim):
    from .movement import flip

    x = inputs[0]
    low = float(np.finfo(x.dtype).min)

    def from_end(v):
        return flip(logcumsumexp(flip(v, (dim,)), dim), (dim,))

    log_abs = log(abs(where(g != 0, g, 1.0)))  # (finite: no warning, no nan in its gradient)
    pos = exp(from_end(where(g > 0, log_abs, low) - out) + x)
    neg = exp(from_end(where(g < 0, log_abs, low) - out) + x)
    return (pos - neg,)


def _lcse_jvp_np(tangents, inputs, out, dim):
    """``sum_{j <= i} t_j exp(x_j - out_i)``: the positive and negative parts of t accumulated
    in log space, as the VJP does (each term at most |t_j|: no overflow, no 0 / 0 where
    exp(x) underflows)."""
    t, d = tangents[0], dim + 1
    x, out = np.asarray(inputs[0], np.float64), np.asarray(out, np.float64)
    with np.errstate(all="ignore"):
        logs = np.log(np.abs(t)) + x
        pos = np.logaddexp.accumulate(np.where(t > 0, logs, -np.inf), axis=d)
        neg = np.logaddexp.accumulate(np.where(t < 0, logs, -np.inf), axis=d)
        return np.exp(pos - out) - np.exp(neg - out)


defop(Op.LOGCUMSUMEXP, "logcumsumexp", "python", "LogcumsumexpBackward0", vjp=_lcse_vjp,
      vjp_np=_lcse_vjp_np, jvp_np=_lcse_jvp_np)


@on_host  # CUDA tensors: through the host (ops/cuda_linalg.py)
def logcumsumexp(input, dim):
    """``log(cumsum(exp(input), dim))``, computed stably."""
    x = R.as_tensor(input)
    xd = np.asarray(x._data)
    d = norm_dim(int(dim), xd.ndim)  # (checked also for a 0-d tensor)
    if xd.ndim == 0:
        from .elementwise import clone

        return clone(x)
    if xd.dtype.kind == "c":  # (PyTorch's values: ops/complex_logcumsumexp.py)
        from .complex_logcumsumexp import logcumsumexp as complex_logcumsumexp

        return complex_logcumsumexp(x, d)
    with np.errstate(all="ignore"):
        value = _wrap(np.logaddexp.accumulate(xd, axis=d).astype(xd.dtype, copy=False))
    if not R.needs_grad(x) or x.dtype.kind != "f":
        return _make(value)
    return R.python_result(value, Op.LOGCUMSUMEXP, (x,), save_inputs=(0,), save_out=True,
                           params=dict(dim=d))


# ---- composites ---------------------------------------------------------------------------

def square(input):
    x = R.as_tensor(input)
    if x.dtype.kind == "b":  # torch squares bools as pow(x, 2): int64
        x = x.to(np.int64)
    # pow, as PyTorch's (its derivatives keep reading x: x ** 1, then x ** 0, so a third
    # derivative still requires grad, as there); the same values as x * x
    return x ** 2


def rsqrt(input):
    x = R.as_tensor(input)
    if x.dtype.kind not in "fc":
        x = x.to(np.float64)  # integers give float64, as exp does (complex stays complex)
    return 1.0 / sqrt(x)  # rsqrt(-inf) is nan (x ** -0.5 would give NumPy's 0)


def masked_fill(input, mask, value):
    """``value`` where ``mask`` is true, ``input`` elsewhere, as PyTorch's node of it."""
    # (where(mask, value, input): its inputs swapped)
    out = _masked_fill(input, _saves.refuse_saved_mask(mask, input, value), value)
    if isinstance(value, Tensor):
        return name_record(out, Op.WHERE, "MaskedFillBackward1", pick=(1, 0))
    return name_record(out, Op.WHERE, "MaskedFillBackward0", pick=(1,))


def _masked_fill(input, mask, value):
    """``value`` where ``mask`` is true, ``input`` elsewhere (no gradient to filled places)."""
    x = R.as_tensor(input)
    m = mask._arr() if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{_DTYPE_NAMES.get(str(m.dtype), (m.dtype,))[0]}")  # (the C++ name)
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError("masked_fill_ only supports a 0-dimensional value tensor, but "
                               f"got tensor with {value.ndim} dimension(s).")
    else:
        value = _make(np.asarray(fill_number(value, x.dtype), x.dtype))
    shape = _broadcast2(m.shape, x.shape)  # (PyTorch's words on a mismatch: mask first)
    if shape != x.shape:  # a mask of more dims: the input broadcast to it, as PyTorch
        x = broadcast_to(x, shape)
    if type(m) is DeviceArray:  # the mask stays on the device, where broadcasts it there
        cond = _make(m)
        if not value.is_cuda:  # a CPU scalar value is allowed, as PyTorch
            value = value.to(x.device)
    else:
        cond = _make(np.broadcast_to(m, shape))
    out = where(cond, value, x)
    if out.dtype != x.dtype:
        out = out.to(x.dtype)
    return out


# ---- index ops: a flat index array, then GATHER_INDEX / SCATTER_INDEX ----------------------

def _ids(shape):
    return np.arange(int(np.prod(shape, dtype=np.int64)), dtype=np.int64).reshape(shape)


def _take(x, idx):
    """``x.flatten()[idx]`` shaped like ``idx``, differentiable (repeats accumulate)."""
    idx = np.asarray(idx, np.int64)
    return reshape(gather_index(x, idx.reshape(-1)), idx.shape)


def _host_values(x):
    """``x``'s values for order bookkeeping (sort, topk, median, kthvalue): a CUDA tensor's
    are copied to the host (one synchronising copy, as indexing does); the picked values are
    then gathered on the device."""
    return host_array(x._data)


def _indices_on(x, idx):
    """An int64 index result on ``x``'s device."""
    idx = np.asarray(idx, np.int64)
    return _make(to_device(idx) if type(x._data) is DeviceArray else idx)


def _index_array(index, name="gather"):
    # (an index tensor may be on either device here: the user's calls are checked first,
    # device.index_device; the ops built on these pass indices made on the host)
    i = index._arr() if isinstance(index, Tensor) else np.asarray(index)
    if type(i) is DeviceArray:  # index bookkeeping runs on the host (one copy)
        i = i.host()
    if name == "take_along_dim" and i.dtype != np.int64:
        raise RuntimeError("torch.take_along_dim(): dtype of indices should be Long but got "
                           f"{torch_dtype_name(i.dtype)}")
    if i.dtype.kind != "i" or i.itemsize < 4:  # (a float, bool, uint8 or int16 index)
        raise RuntimeError(_INDEX_DTYPE_ERRORS.get(name, f"{name}(): Expected dtype int32/int64 "
                                                         "for index"))
    return i.astype(np.int64)


# PyTorch's refusals of an index of another dtype than int32 or int64 (take_along_dim: int64)
_INDEX_DTYPE_ERRORS = {"index_select": "index_select(): Expected dtype int32 or int64 for index"}


def _select_ids(shape, d, i):
    """Flat ids of ``a.index_select(d, i)`` for a tensor ``a`` of ``shape`` (i in range):
    computed for the rows picked only, not from an arange over the whole input."""
    inner = int(np.prod(shape[d + 1:], dtype=np.int64))
    outer = int(np.prod(shape[:d], dtype=np.int64))
    ids = (np.arange(outer, dtype=np.int64)[:, None, None] * (shape[d] * inner) +
           np.asarray(i, np.int64)[None, :, None] * inner + np.arange(inner, dtype=np.int64))
    return ids.reshape(tuple(shape[:d]) + (len(i),) + tuple(shape[d + 1:]))


def _along_ids(shape, dim, index, negative=True):
    """Flat ids of ``a[p with dim replaced by index[p]]`` for a tensor of ``shape``;
    ``negative``: an index may count from the end (take_along_dim's may; gather's and
    scatter's not, PyTorch's out-of-bounds error)."""
    ids = np.empty(shape, np.bool_)  # (its shape and strides only: no memory of ids touched)
    if index.ndim != len(shape) and not (index.ndim <= 1 and len(shape) <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as input "
                           "tensor")
    ids = ids.reshape(shape) if ids.ndim else ids.reshape(1)
    index = index.reshape(index.shape if index.ndim else (1,))
    for d in range(ids.ndim):
        if d != dim and index.shape[d] > ids.shape[d]:
            raise RuntimeError(f"Size does not match at dimension {d} expected index "
                               f"{list(index.shape)} to be no larger than self {list(shape)} "
                               f"apart from dimension {dim}")
    n = ids.shape[dim]
    low = -n if negative else 0
    if index.size and (index.min() < low or index.max() >= n):  # (the first, as PyTorch's)
        bad = index[(index < low) | (index >= n)][0]
        raise RuntimeError(f"index {int(bad)} is out of bounds for dimension {dim} with size {n}")
    # each position's own coordinates, the one along ``dim`` replaced by the index: the flat
    # ids computed for the index's elements only (not an arange over all of the input)
    strides = c_strides(ids.shape)
    flat = np.where(index < 0, index + n, index).astype(np.int64) * strides[dim]
    for d in range(ids.ndim):
        if d != dim:
            grid = np.arange(index.shape[d], dtype=np.int64) * strides[d]
            flat = flat + grid.reshape((-1,) + (1,) * (ids.ndim - 1 - d))
    return flat


def _normal_index(x, index, saves):
    """Of an inference tensor ``x`` requiring grad outside inference mode: a normal ``index``
    tensor makes PyTorch's op record (R.index_operand), which refuses to save ``x`` where its
    backward ``saves`` it (gather, take); None otherwise. An inference ``index`` of a normal
    ``x`` requiring grad is refused (their backwards save the index)."""
    if getattr(index, "_inference", False):
        refuse_inference_index(x, index)
    if not (x._inference and x._rg and R._grad_on()) or R._state.inference or \
            R.index_operand(index) is None:
        return None
    if saves:
        raise RuntimeError(R.INFERENCE_SAVE_MSG)
    return R.index_operand(index)


def gather(input, dim, index):
    x = R.as_tensor(input)
    _normal_index(x, index, True)
    index_device(x, index)
    i = _index_array(index)
    d = norm_dim(int(dim), max(x.ndim, 1))
    return gathered(x, _along_ids(x.shape, d, i, negative=False).reshape(i.shape),
                    "GatherBackward0")


def take_along_dim(input, indices, dim=None):
    x = R.as_tensor(input)
    # (without dim PyTorch gathers from the flattened input: gather's index dtypes and words)
    i = _index_array(indices, "take_along_dim" if dim is not None else "gather")
    if dim is None:
        n = x.numel()
        flat = i.reshape(-1)
        bad = (flat < 0) | (flat >= n)  # (gather's rule: no negative index, unlike with dim)
        if bad.any():
            raise RuntimeError(f"index {int(flat[bad.argmax()])} is out of bounds for "
                               f"dimension 0 with size {n}")
        return _take(x, flat)
    d = norm_dim(int(dim), x.ndim)
    xs, is_ = list(x.shape), list(i.shape)
    xs[d] = is_[d] = 1
    b = list(_broadcast2(tuple(xs), tuple(is_)))
    xb = list(b)
    xb[d] = x.shape[d]
    ib = list(b)
    ib[d] = i.shape[d]
    if tuple(xb) != x.shape:
        x = broadcast_to(x, tuple(xb))
    i = np.broadcast_to(i, tuple(ib))
    return name_inputs(_take(x, _along_ids(x.shape, d, i)), "GatherBackward0", x)


def index_select(input, dim, index):
    x = R.as_tensor(input)
    index_device(x, index)
    i = _index_array(index, "index_select")
    if i.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    i = i.reshape(-1)
    index_add_checks.select_range(x, dim, i)  # (no wrap-around of -1, as PyTorch)
    if x.ndim == 0:
        return _take(x, _ids(())[...].reshape(1)[i].reshape(()) if i.size == 1 else i * 0)
    d = norm_dim(int(dim), x.ndim)
    return gathered(x, _select_ids(x.shape, d, i), "IndexSelectBackward0",
                    _normal_index(x, index, False))


def index_add(input, dim, index, source, *, alpha=1):
    """``out = input`` with ``out.select(dim, index[i]) += alpha * source.select(dim, i)``
    (repeated indices accumulate); differentiable w.r.t. ``input`` and ``source``. PyTorch's
    checks (``ops/index_add_checks``): tensors of one dtype, indices in range."""
    x, = index_add_checks.tensor_args("index_add", 1, input=input)
    i, s = index_add_checks.tensor_args("index_add", 3, index=index, source=source)
    index_device(x, i)
    d, i = index_add_checks.check(x, dim, i, s, alpha)
    alpha = index_add_checks.alpha_for(x, alpha)
    if x.ndim and isinstance(alpha, (int, float)) and fusable_array(x) and fusable_array(s):
        return index_add_op.index_add(x, d, i, s, alpha)  # one record (ops/index_add_op.py)
    xs = x.shape or (1,)  # (a 0-d x has a 0-d source: both seen as 1-d)
    tgt = _select_ids(xs, d, i)  # source's shape
    if x.dtype.kind not in "fc":  # exact integer arithmetic
        out = np.array(x._arr(), copy=True).reshape(-1)
        np.add.at(out, tgt.reshape(-1), (np.asarray(s._arr()) * alpha).astype(
            out.dtype, copy=False).reshape(-1))
        return _make(out.reshape(x.shape))
    added = reshape(scatter_index(s, tgt.reshape(-1), x.numel()), x.shape)
    return add(x, added if alpha == 1 else mul(added, alpha))


def repeat(input, *sizes, repeats=None):
    if repeats is not None:  # x.repeat(repeats=(2, 1)), PyTorch's keyword
        sizes = keyword_size("repeat", sizes, repeats, "repeats")
    x = R.as_tensor(input)
    sizes = int_sizes("repeat", sizes, "repeats")
    if len(sizes) < x.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number "
                           "of dimensions of tensor")
    ids = _ids(x.shape).reshape((1,) * (len(sizes) - x.ndim) + x.shape)
    if min(sizes, default=0) < 0:
        out = [n * r for n, r in zip(ids.shape, sizes)]
        raise RuntimeError(f"Trying to create tensor with negative dimension "
                           f"{next(o for o in out if o < 0)}: {out}")
    return gathered(x, np.tile(ids, sizes), "RepeatBackward0")


def repeat_interleave(input, repeats, dim=None, *, output_size=None):
    x = R.as_tensor(input)
    if isinstance(repeats, Tensor):
        repeats = repeats._arr()
    ids = _ids(x.shape)
    if dim is None:
        return _take(x, np.repeat(ids.reshape(-1), repeats))
    d = norm_dim(int(dim), max(x.ndim, 1))
    return _take(x, np.repeat(ids.reshape(ids.shape or (1,)), repeats, axis=d))


def check_scatter_shapes(x, d, i, src):
    """PyTorch's checks of a scatter's index (array ``i``) against ``x`` and ``src`` (a tensor
    or None): no larger than either (than ``x`` apart from ``d``), and of ``src``'s rank. As
    PyTorch's, a 0-d tensor counts as one of one element (a 0-d src with a one-element index)."""
    nd = max(i.ndim, 1)
    if not i.size:
        return
    if max(x.ndim, 1) != nd:  # (gather's words say 'input')
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")

    def size(shape, k):  # (PyTorch's ensure_nonempty_size)
        return shape[k] if shape else 1

    big = any(size(i.shape, k) > size(x.shape, k) for k in range(nd) if k != d)
    if src is not None:
        for k in range(nd if not big else 0):
            if src.ndim and k >= src.ndim:  # (PyTorch reads src's size along a dim it lacks)
                raise IndexError(f"Dimension out of range (expected to be in range of "
                                 f"[{-src.ndim}, {src.ndim - 1}], but got {k})")
            if size(i.shape, k) > size(src.shape, k):
                big = True
                break
        if max(src.ndim, 1) != nd:
            raise RuntimeError("Index tensor must have the same number of dimensions as src "
                               "tensor")
    if big:  # (the src part of the words only where there is a src)
        raise RuntimeError(f"Expected index {list(i.shape)} to be no larger than self "
                           f"{list(x.shape)} apart from dimension {d}" +
                           ("" if src is None else " and to be no larger size than src "
                                                   f"{list(src.shape)}"))


def _scatter_parts(x, dim, index, src):
    i = _index_array(index, "scatter")
    d = norm_dim(int(dim), max(x.ndim, 1))
    check_scatter_shapes(x, d, i, src)
    tgt = _along_ids(x.shape, d, i, negative=False).reshape(-1)
    return i, tgt


def _same_dtype(x, s):
    if s.dtype != x.dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")


def _last_writes(tgt):
    """Positions in ``tgt`` of each target's last write (PyTorch's CPU loop: the last one
    wins), or None when no target repeats."""
    uniq, first_from_end = np.unique(tgt[::-1], return_index=True)
    return None if uniq.size == tgt.size else np.sort(tgt.size - 1 - first_from_end)


def _exact_scatter(x, tgt, s, ids, accumulate):
    """Integer and bool scatters in their own dtype (no float detour), not differentiable."""
    out = np.array(x._arr(), copy=True).reshape(-1)
    vals = np.asarray(s._arr()).reshape(-1)[ids]
    if accumulate:
        np.add.at(out, tgt, vals)
    else:
        out[tgt] = vals
    return _make(out.reshape(x.shape))


def scatter_add(input, dim, index, src):
    x, s = R.as_tensor(input), R.as_tensor(src)
    index_device(x, index)
    _same_dtype(x, s)
    i, tgt = _scatter_parts(x, dim, index, s)
    sl = tuple(slice(0, n) for n in i.shape or (1,))
    if x.dtype.kind not in "fc":
        return _exact_scatter(x, tgt, s, _ids(s.shape or (1,))[sl].reshape(-1), True)
    vals = _take(s, _ids(s.shape)[sl].reshape(-1)) if s.ndim else s.reshape(1)
    added = reshape(scatter_index(vals, tgt, x.numel()), x.shape)
    return name_inputs(add(x, added), "ScatterAddBackward0", x, s)


def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    """``out = input`` with ``out[..index..] = src``; of repeated indices the last write wins
    (PyTorch's CPU order), and only it gets a gradient."""
    if reduce is not None:
        from .scatter_reduced import scatter_reduced

        return scatter_reduced(R.as_tensor(input), dim, index, value if src is None else src,
                               reduce)
    x = R.as_tensor(input)
    index_device(x, index, value=not isinstance(src, Tensor))
    if src is None or not isinstance(src, Tensor):
        v = value if src is None else src
        i, tgt = _scatter_parts(x, dim, index, None)
        m = np.zeros(x.numel(), bool)
        m[tgt] = True
        mask = _make(m.reshape(x.shape)).to(x.device)
        return name_inputs(masked_fill(x, mask, v), "ScatterBackward1", x)
    s = src
    _same_dtype(x, s)
    i, tgt = _scatter_parts(x, dim, index, s)
    sl = tuple(slice(0, n) for n in i.shape or (1,))
    ids = _ids(s.shape or (1,))[sl].reshape(-1)
    last = _last_writes(tgt)
    if last is not None:
        ids, tgt = ids[last], tgt[last]
    if x.dtype.kind not in "fc":
        return _exact_scatter(x, tgt, s, ids, False)
    vals = _take(s, ids)
    placed = reshape(scatter_index(vals, tgt, x.numel()), x.shape)
    m = np.zeros(x.numel(), bool)
    m[tgt] = True
    mask = _make(m.reshape(x.shape)).to(x.device)
    return name_inputs(where(mask, placed, x), "ScatterBackward0", x, s)


from .ordering import argsort, kthvalue, median, sort, spread_evenly, topk  # noqa: E402,F401
from .float_checks import allclose, isclose, isfinite, isinf, isnan, nan_to_num  # noqa: E402,F401
from .xlogy_op import xlogy  # noqa: E402,F401


__all__ = [
    "atan", "asin", "acos", "sinh", "cosh", "asinh", "acosh", "atanh", "atan2", "square",
    "rsqrt", "erf", "erfc", "xlogy", "masked_fill", "gather", "scatter", "scatter_add",
    "index_select", "take_along_dim", "repeat", "repeat_interleave", "isnan", "isinf",
    "isfinite", "nan_to_num", "allclose", "isclose", "topk", "sort", "argsort", "median",
    "logcumsumexp", "broadcast_shapes", "kthvalue", "index_add", "log2", "log10",
]
