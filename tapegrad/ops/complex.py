"""Complex tensors on the tape: PyTorch's convention for complex gradients.

For a real loss ``L`` of ``z = a + ib`` the gradient is ``dL/da + i dL/db`` (twice the
conjugate Wirtinger derivative), so a holomorphic ``f`` has the VJP ``g * conj(f'(z))`` and a
real input of a complex op takes the real part of its cotangent.

Every op that meets a complex value records one ``COMPLEX`` Python record whose backward runs
in NumPy (the compiled sweep only pauses for it) and, for ``create_graph``, in tapegrad ops:
one rule per op below, written once over a namespace (``numpy`` or ``_TG``). The adjoint of a
complex record takes two float64 arena slots per element, interleaved ``(re, im)``; the record
declares ``2 n`` as its size and its output shape with a trailing 2, so the sweep's
``grad_of(r).reshape(out_shape)`` is the cotangent as float pairs and a complex128 view of it
costs no copy.

The op families call in here (``unary``, ``binary``, ``linear``...) when a value is complex;
ops with no rule here refuse complex inputs (``ops/record.py``) instead of computing a
gradient for the real part only.
"""

import types

import numpy as np

from .. import tape
from ..device import DeviceArray
from ..registry import Op, defop
from ..tensor import Tensor, _make, _wrap
from . import record as R

_C128 = np.dtype(np.complex128)
_F64 = np.dtype(np.float64)


def is_complex(t):
    """Whether tensor (or array) ``t`` holds complex values."""
    d = t._data if isinstance(t, Tensor) else t
    return type(d) is not float and d.dtype.kind == "c"


def unsupported(name):
    return TypeError(f"{name}: complex tensors are not supported by this op (its gradient "
                     "for complex inputs is not implemented)")


# ---- rules: (ns, g, ins, out, **params) -> one gradient per input, in out's shape ----------

def _holo(df):
    """Unary holomorphic f with derivative ``df(ns, x, out)``: VJP ``g * conj(f'(x))``."""
    return lambda ns, g, ins, out: (g * ns.conj(df(ns, ins[0], out)),)


def _pow_x(ns, g, x, y, out):
    return ns.where(y == 0, 0, g * ns.conj(y * x ** (y - 1)))


def _pow_y(ns, g, x, y, out):
    # 0 where x == 0 and Re(y) >= 0 (0 ** y is 0 or 1 there, log(0) is -inf); PyTorch's
    # complex rule gives 0 there only for a real y, nan otherwise (differences_from_pytorch.md)
    return ns.where((x == 0) & (ns.real(y) >= 0), 0, g * ns.conj(out * ns.log(x)))


def _abs_rule(ns, g, ins, out):
    x = ins[0]
    a = ns.abs(x)  # (not ``out``: PyTorch's AbsBackward0 saves the input only)
    return (ns.where(a == 0, 0, g * (x / ns.where(a == 0, 1, a))),)


def _angle_rule(ns, g, ins, out):
    x = ins[0]
    a2 = ns.real(x * ns.conj(x))
    return (ns.where(a2 == 0, 0, (g * 1j) * (x / ns.where(a2 == 0, 1, a2))),)


RULES = {
    "neg": lambda ns, g, ins, out: (-g,),
    "clone": lambda ns, g, ins, out: (g,),
    "to": lambda ns, g, ins, out: (g,),
    "exp": _holo(lambda ns, x, out: out),
    "log": lambda ns, g, ins, out: (g / ns.conj(ins[0]),),
    "log1p": lambda ns, g, ins, out: (g / ns.conj(1 + ins[0]),),
    "expm1": _holo(lambda ns, x, out: out + 1),
    "sin": _holo(lambda ns, x, out: ns.cos(x)),
    "cos": _holo(lambda ns, x, out: -ns.sin(x)),
    "tan": _holo(lambda ns, x, out: 1 + out * out),
    "tanh": _holo(lambda ns, x, out: 1 - out * out),
    "sigmoid": _holo(lambda ns, x, out: out * (1 - out)),
    "sqrt": lambda ns, g, ins, out: (g / (2 * ns.conj(out)),),
    "abs": _abs_rule,
    "angle": _angle_rule,
    "real": lambda ns, g, ins, out: (g,),
    "imag": lambda ns, g, ins, out: (g * 1j,),
    "conj": lambda ns, g, ins, out: (ns.conj(g),),
    "add": lambda ns, g, ins, out: (g, g),
    "sub": lambda ns, g, ins, out: (g, -g),
    "mul": lambda ns, g, ins, out: (g * ns.conj(ins[1]), g * ns.conj(ins[0])),
    "div": lambda ns, g, ins, out: (g / ns.conj(ins[1]),
                                    -g * ns.conj(ins[0] / (ins[1] * ins[1]))),
    "pow": lambda ns, g, ins, out: (_pow_x(ns, g, ins[0], ins[1], out),
                                    _pow_y(ns, g, ins[0], ins[1], out)),
    "where": lambda ns, g, ins, out, mask: (ns.where(mask, g, 0), ns.where(mask, 0, g)),
    "complex": lambda ns, g, ins, out: (g, g * -1j),  # real + i imag: i's conjugate
    # (re, im) pairs in a last dim of 2 and back (ops/complex_views.py)
    "view_as_real": lambda ns, g, ins, out: (g[..., 0] + g[..., 1] * 1j,),
    "view_as_complex": lambda ns, g, ins, out: (g[..., None] * np.array([1, -1j]),),
}
# number operands (c a Python number, kept in params)
RULES.update({
    "add_c": lambda ns, g, ins, out, c: (g,),
    "mul_c": lambda ns, g, ins, out, c: (g * np.conj(c),),
    "rsub_c": lambda ns, g, ins, out, c: (-g,),
    "div_c": lambda ns, g, ins, out, c: (g / np.conj(c),),
    "rdiv_c": lambda ns, g, ins, out, c: (-g * ns.conj(c / (ins[0] * ins[0])),),
    "pow_c": lambda ns, g, ins, out, c: (
        (g * 0,) if c == 0 else (g * ns.conj(c * ins[0] ** (c - 1)),)),
    "rpow_c": lambda ns, g, ins, out, c: (
        (g * 0,) if c == 0 else (g * ns.conj(out * np.log(np.complex128(c))),)),
})


def _linear_rule(ns, g, ins, out, kind, spec, n_in, in_shape):
    """The transpose of a flat linear map (movement ops, sums): the partner map of each."""
    if kind == "reshape":
        return (ns.reshape(g, in_shape),)
    if kind == "gather_strided":
        gi = ns.scatter_strided(g, *spec, n_in)
    elif kind == "scatter_strided":
        gi = ns.gather_strided(g, *spec)
    elif kind == "gather_index":
        gi = ns.scatter_index(g, spec, n_in)
    else:
        gi = ns.gather_index(g, spec)
    return (ns.reshape(gi, in_shape),)


def _matmul_rule(ns, g, ins, out):
    """``g @ B^H``, ``A^H @ g``: the real rule with both operands conjugated."""
    return ns.matmul_vjp(g, (ns.conj(ins[0]), ns.conj(ins[1])), None)


def _cat_rule(ns, g, ins, out, dim, sizes):
    """Each input's slice of ``g`` (a skipped legacy ``(0,)`` input gets an empty gradient)."""
    grads, start = [], 0
    for x, n in zip(ins, sizes):
        if x.ndim != g.ndim:
            grads.append(ns.reshape(ns.reshape(g, (-1,))[:0], (0,)))
            continue
        grads.append(g[(slice(None),) * dim + (slice(start, start + n),)])
        start += n
    return tuple(grads)


def _cumsum_rule(ns, g, ins, out, dim):
    """The transpose of a running sum: a reversed running sum of ``g``."""
    return (ns.flip(ns.cumsum(ns.flip(g, dim), dim), dim),)


RULES["cat"] = _cat_rule
RULES["cumsum"] = _cumsum_rule
RULES["holomorphic"] = lambda ns, g, ins, out, deriv, node=None: (
    g * ns.conj(deriv(1.0, ins[0], out, ns.extra)),)  # deriv(g, x, out, M) of ops/extra.py
RULES["linear"] = _linear_rule
RULES["matmul"] = _matmul_rule


# ---- the two namespaces the rules run in ---------------------------------------------------

def _np_strided_idx(shape, strides, offset):
    from .movement import _strided_indices

    return _strided_indices(shape, strides, offset).reshape(-1)


def _np_scatter(g, idx, n):
    out = np.zeros(n, np.result_type(g.dtype, np.complex64))
    np.add.at(out, idx, np.asarray(g).reshape(-1))
    return out


def _extra_namespace(tg):
    from . import extra

    return extra._TG if tg else extra._NP


def _np_matmul_vjp(g, ins, out):
    from .linalg import _matmul_vjp_np

    return _matmul_vjp_np(g, ins, out)


NP = types.SimpleNamespace(
    conj=np.conj, real=np.real, imag=np.imag, exp=np.exp, log=np.log, sin=np.sin, cos=np.cos,
    abs=np.abs, where=np.where, reshape=np.reshape, matmul_vjp=_np_matmul_vjp,
    flip=lambda g, d: np.flip(g, d), cumsum=lambda g, d: np.cumsum(g, axis=d),
    gather_strided=lambda g, shape, strides, offset: np.asarray(g).reshape(-1)[
        _np_strided_idx(shape, strides, offset)],
    scatter_strided=lambda g, shape, strides, offset, n: _np_scatter(
        g, _np_strided_idx(shape, strides, offset), n),
    gather_index=lambda g, idx: np.asarray(g).reshape(-1)[idx],
    scatter_index=_np_scatter, extra=None,
)


NAMESPACE_HOOKS = []  # op families with rules here add their tapegrad-op names (ops/fft.py)


def _tg_namespace():
    from . import elementwise as E
    from . import movement as M
    from .linalg import _matmul_vjp
    from .cumulative import cumsum

    ns = types.SimpleNamespace(
        conj=conj, real=real, imag=imag, exp=E.exp, log=E.log, sin=E.sin, cos=E.cos,
        abs=E.abs, where=_where_rule, reshape=M.reshape, matmul_vjp=_matmul_vjp,
        flip=lambda g, d: M.flip(g, (d,)), cumsum=cumsum,
        gather_strided=M.gather_strided, scatter_strided=M.scatter_strided,
        gather_index=M.gather_index, scatter_index=M.scatter_index,
        extra=_extra_namespace(True),
    )
    for hook in NAMESPACE_HOOKS:
        hook(ns)
    return ns


def _where_rule(cond, a, b):
    from .elementwise import where

    return where(cond, a, b)


_TG = []


def _tg():
    if not _TG:
        _TG.append(_tg_namespace())
    return _TG[0]


# ---- recording ------------------------------------------------------------------------------

def _sum_to_np(g, shape):
    g = np.asarray(g)
    if g.shape == tuple(shape):
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape)
                                      if s == 1 and g.shape[lead + i] != 1)
    return g.sum(axis=axes, keepdims=True).reshape(shape) if axes else g.reshape(shape)


def _vjp_np(g, inputs, out, rule, shape, cx_out, cx_in, in_shapes, needs, **params):
    if NP.extra is None:
        NP.extra = _extra_namespace(False)
    if cx_out:
        g = g.view(_C128).reshape(shape)  # the arena's (re, im) pairs, no copy
    with np.errstate(all="ignore"):
        grads = RULES[rule](NP, g, inputs, out, **params)
    res = []
    for gi, cx, s, need in zip(grads, cx_in, in_shapes, needs):
        if gi is None or not need:
            res.append(None)
            continue
        if np.shape(gi) != s:  # elementwise rules give out's shape (or a broadcast one)
            gi = _sum_to_np(np.broadcast_to(gi, np.broadcast_shapes(np.shape(gi), shape)), s)
        res.append(np.ascontiguousarray(gi, _C128).view(_F64) if cx else
                   np.ascontiguousarray(np.real(gi), _F64))
    return tuple(res)


def _vjp(g, inputs, out, rule, shape, cx_out, cx_in, in_shapes, needs, **params):
    from .movement import broadcast_to
    from .reduce import sum_to

    grads = RULES[rule](_tg(), g, inputs, out, **params)
    res = []
    for gi, cx, s, need in zip(grads, cx_in, in_shapes, needs):
        if gi is None or not need:
            res.append(None)
            continue
        gi = R.as_tensor(gi)
        if gi.shape != s:
            if gi.shape != shape and len(shape) >= gi.ndim:
                gi = broadcast_to(gi, shape)
            gi = sum_to(gi, s)
        if not cx and is_complex(gi):
            gi = real(gi)
        elif cx and not is_complex(gi):  # a real cotangent of a complex input (real(z), abs(z))
            from .elementwise import to

            gi = to(gi, _C128)
        res.append(gi)
    return tuple(res)


# PyTorch's node names (grad_fn) of the rules (z.real is a select of view_as_real there;
# c / z a product with reciprocal(z)); rules of other modules keep "ComplexBackward"
_NODE_NAMES = {
    "neg": "NegBackward0", "clone": "CloneBackward0", "to": "ToCopyBackward0",
    "exp": "ExpBackward0", "log": "LogBackward0", "log1p": "Log1PBackward0",
    "expm1": "Expm1Backward0", "sin": "SinBackward0", "cos": "CosBackward0",
    "tan": "TanBackward0", "tanh": "TanhBackward0", "sigmoid": "SigmoidBackward0",
    "sqrt": "SqrtBackward0", "abs": "AbsBackward0", "angle": "AngleBackward0",
    "real": "SelectBackward0", "imag": "SelectBackward0", "conj": "ConjBackward0",
    "add": "AddBackward0", "sub": "SubBackward0", "mul": "MulBackward0", "div": "DivBackward0",
    "pow": "PowBackward1", "where": "WhereBackward0", "complex": "ComplexBackward0",
    "add_c": "AddBackward0", "mul_c": "MulBackward0", "rsub_c": "RsubBackward1",
    "div_c": "DivBackward0", "rdiv_c": "MulBackward0", "pow_c": "PowBackward0",
    "rpow_c": "PowBackward2", "cat": "CatBackward0", "cumsum": "CumsumBackward0",
    "logcumsumexp": "LogcumsumexpBackward0", "fft_c2c": "FftC2CBackward0",
    "fft_r2c": "FftR2CBackward0", "fft_c2r": "FftC2RBackward0",
    "view_as_real": "ViewAsRealBackward0", "view_as_complex": "ViewAsComplexBackward0",
}
_MATMUL_NAMES = {(1, 1): "DotBackward0", (2, 1): "MvBackward0", (3, 3): "BmmBackward0"}


def _node_name(params):
    rule = params.get("rule")
    if rule == "matmul":  # (by the operands' ranks, as the real matmul's node)
        sx, sy = params["in_shapes"]
        return _MATMUL_NAMES.get((len(sx), len(sy)), "MmBackward0")
    if rule == "linear" and params.get("kind") == "reshape":
        return "ViewBackward0"
    return params.get("node") or _NODE_NAMES.get(rule)


defop(Op.COMPLEX, "complex", "python", "ComplexBackward", vjp=_vjp, vjp_np=_vjp_np,
      grad_fn_of=_node_name)


# rules that read no input value (only shapes kept in their params, or only the output):
# their records save none, as PyTorch's nodes of linear maps save nothing (and exp's its
# result only)
_READ_NO_INPUTS = frozenset(("neg", "clone", "to", "real", "imag", "conj", "add", "sub", "where",
                             "complex", "linear", "cumsum", "add_c", "mul_c", "rsub_c",
                             "div_c", "exp", "expm1", "tan", "tanh", "sigmoid", "sqrt",
                             "view_as_real", "view_as_complex"))
# rules that read their output: its version is stamped too, so that an in-place change of the
# output raises PyTorch's error at backward (instead of a gradient of the changed value)
_READ_OUT = frozenset(("exp", "expm1", "tan", "tanh", "sigmoid", "sqrt", "pow", "rpow_c",
                       "logcumsumexp"))


def record(value, inputs, rule, **params):
    """Record ``rule`` for ``value`` computed from ``inputs`` (Tensors); returns the tensor.

    All inputs and the output are saved (the rules read any of them)."""
    value = _wrap(value) if not isinstance(value, np.ndarray) else value
    if not any(t._rg for t in inputs) or not R._grad_on() or R.inference_now(
            *inputs, op=R.MULC if rule in ("add_c", "mul_c") else -1):
        return _make(value)
    R.refresh_views(*inputs)
    seg = tape.prepare([t for t in inputs if t._rg])
    slots = tuple([(t._rec if t._seg is seg else tape.slot(seg, t)) if t._rg else -1
                   for t in inputs])
    saved, stamps = [], []
    reads = rule not in _READ_NO_INPUTS
    for t in inputs:
        if not reads:  # (nothing to keep alive, nothing an in-place change could make stale)
            saved.append(None)
            stamps.append(None)
            continue
        if t._inference and t._rg:
            raise RuntimeError(R.INFERENCE_SAVE_MSG)
        saved.append(t._arr())
        vc = t._vcounter()
        stamps.append((vc, vc[0]))
    shape = np.shape(value)
    cx_out = is_complex(value)
    params.update(rule=rule, shape=shape, cx_out=cx_out, cx_in=tuple(is_complex(t) for t in inputs),
                  in_shapes=tuple(t.shape for t in inputs),
                  needs=tuple(bool(t._rg) for t in inputs))
    out_arr = np.asarray(value)
    entry = R.PyRecord(slots, saved, stamps, out_arr, params, params["in_shapes"],
                       shape + (2,) if cx_out else shape)
    aux = tape.add_pyaux(seg, entry)
    n = out_arr.size * (2 if cx_out else 1)
    a = slots[0] if slots else -1
    b = slots[1] if len(slots) > 1 else -1
    R.COMPLEX_SEEN[0] = True
    t = R.with_history(value, seg, tape.record(seg, Op.COMPLEX, a, b, aux, n))
    if rule in _READ_OUT:
        stamps.append(R.fresh_out_stamp(t))  # (after the inputs' stamps: the output's)
    return t


def needs_record(*ts):
    return R._grad_on() and any(isinstance(t, Tensor) and t._rg for t in ts)


# ---- entry points for the op families -------------------------------------------------------

def unary(name, x, value):
    """A unary op of ``elementwise.py`` whose input or result is complex."""
    if name not in RULES:
        raise unsupported(name)
    return record(value, (x,), name)


def holomorphic(value, x, deriv, node=None):
    """A smooth function of ``ops/extra.py`` on complex ``x``: its derivative ``deriv``
    (``node``: PyTorch's name of its node)."""
    return record(value, (x,), "holomorphic", deriv=deriv, node=node)


def binary(name, x, y, value):
    if name not in RULES:
        raise unsupported(name)
    return record(value, (x, y), name)


_CONST = {  # (op of elementwise.py, reflected) -> rule
    ("add", False): "add_c", ("add", True): "add_c", ("sub", False): "add_c",
    ("sub", True): "rsub_c", ("mul", False): "mul_c", ("mul", True): "mul_c",
    ("div", False): "div_c", ("div", True): "rdiv_c", ("pow", False): "pow_c",
    ("pow", True): "rpow_c",
}


def number(name, np_f, x, c, reflected):
    """``x op c`` (or ``c op x``) with ``c`` a Python number and a complex value involved."""
    xd = x._arr()
    value = np_f(c, xd) if reflected else np_f(xd, c)
    if not needs_record(x):
        return _make(_wrap(value))
    rule = _CONST.get((name, reflected))
    if rule is None:
        raise unsupported(name)
    return record(np.asarray(value), (x,), rule, c=c)


def linear(value, op, x, seg, aux):
    """A linear map of ``movement.py`` on a complex tensor (its params read back from ``seg``)."""
    from .movement import _read_strided

    if op == Op.RESHAPE:
        kind, spec = "reshape", None
    elif op in (Op.GATHER_STRIDED, Op.SCATTER_STRIDED):
        kind = "gather_strided" if op == Op.GATHER_STRIDED else "scatter_strided"
        spec = _read_strided(seg, aux)
    else:
        kind = "gather_index" if op == Op.GATHER_INDEX else "scatter_index"
        spec = seg.ivals[aux]
    return record(value, (x,), "linear", kind=kind, spec=spec, n_in=x.numel(),
                  in_shape=x.shape)


# ---- public functions -----------------------------------------------------------------------

def conj(x):
    """Complex conjugate (a real tensor is returned as is, as PyTorch does)."""
    x = R.as_tensor(x)
    if not is_complex(x):
        return x
    return record(np.conj(x._arr()), (x,), "conj")


def _part_view(x, value, rule):
    from .movement import _share_storage

    t = record(value, (x,), rule)
    _share_storage(t, x)  # writes into it change x (ops/complex_views.py)
    return t


def real(x):
    """Real part: a view of ``x``'s storage, as PyTorch's."""
    x = R.as_tensor(x)
    if not is_complex(x):
        return x
    return _part_view(x, x._arr().real, "real")  # (0-d stays 0-d)


def imag(x):
    """Imaginary part, a view of ``x``'s storage; like PyTorch, only complex tensors have one."""
    x = R.as_tensor(x)
    if not is_complex(x):
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return _part_view(x, x._arr().imag, "imag")


def angle(x):
    """Argument of complex ``x`` (for real ``x``: 0 or pi, with a zero gradient)."""
    x = R.as_tensor(x)
    if not is_complex(x):
        from .elementwise import zero_grad_like

        v = x._arr()
        # pi where x < 0, else 0 (NaN stays NaN): PyTorch's, where NumPy's arctan2 gives
        # -0.0 the angle pi
        with np.errstate(invalid="ignore"):
            a = np.where(v < 0, np.pi, np.where(v != v, v, 0.0))
        return zero_grad_like(x, _wrap(a.astype(x.dtype if x.dtype.kind == "f" else _F64)))
    return record(np.angle(x._arr()), (x,), "angle")


def check_parts(re, im):
    """PyTorch's dtype checks of the two real tensors of torch.complex and torch.polar."""
    from .shapes import torch_dtype_name as name

    if re.dtype.kind != "f" or im.dtype.kind != "f":
        raise RuntimeError("Expected both inputs to be Half, Float or Double tensors but got "
                           f"{name(re.dtype)} and {name(im.dtype)}")
    if re.dtype != im.dtype:
        raise RuntimeError(f"Expected object of scalar type {name(re.dtype)} but got scalar type "
                           f"{name(im.dtype)} for second argument")


def complex(real_part, imag_part):
    """``real + i imag`` from two real tensors of the same dtype (torch.complex)."""
    re, im = R.as_tensor(real_part), R.as_tensor(imag_part)
    check_parts(re, im)
    if DeviceArray in (type(re._data), type(im._data)):
        raise NotImplementedError("complex tensors on cuda are not supported by tapegrad's CUDA "
                                  "backend: build the complex tensor on the CPU")
    value = np.empty(np.broadcast_shapes(re.shape, im.shape),
                     np.complex64 if re.dtype == np.float32 else _C128)
    value.real, value.imag = re._arr(), im._arr()  # (1j * inf would be nan + inf j)
    return record(value, (re, im), "complex")


def where(cond, x, y, value):
    """``where`` with a complex branch (``elementwise.where`` computed ``value``)."""
    mask = np.broadcast_to(np.asarray(cond, bool), np.shape(value))
    return record(value, (R.as_tensor(x), R.as_tensor(y)), "where", mask=mask)


def matmul(x, y, value):
    return record(value, (x, y), "matmul")


def is_complex_method(self):
    return self.dtype.kind == "c"
