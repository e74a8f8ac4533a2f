"""The replay program's instructions: a list of SSA nodes over NumPy values, with their VJPs.

A value is what a tensor holds: a Python ``float`` for a 0-d float64 value (the scalar fast
path), an ndarray otherwise. Each primitive has a NumPy implementation (``impl``, run once while
tracing so that every node's shape and value are known and can be checked against the eager
result), a Python expression for the generated replay (``code``) and a VJP written with
primitives again, so that the backward of a backward (``create_graph``) is just more nodes.
"""

import math

import numpy as np

from .. import vecmath as _V
from ..ops import einsum_plan as _einsum_plan, einsum_reduce as _einsum_reduce
from ..ops.accurate_dot import dot32 as _dot32
from ..ops.movement import sum_values as _sum_values
from ..registry import REGISTRY, Op


class Unsupported(Exception):
    """The traced function did something the replay cannot reproduce (the reason is the text)."""


def norm(v):
    """A NumPy result in tensor form: 0-d float64 as a Python float, other 0-d as 0-d arrays."""
    tv = type(v)
    if tv is float:
        return v
    if tv is np.ndarray:
        if v.ndim == 0 and v.dtype == np.float64:
            return float(v)
        return v
    if tv is np.float64:
        return float(v)
    if isinstance(v, (np.generic, bool, int)):
        return np.asarray(v)
    return v


def shape_of(v):
    return () if type(v) is float else v.shape


def dtype_of(v):
    return np.dtype(np.float64) if type(v) is float else v.dtype


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _scalar_sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x)) if x >= -700 else math.exp(x)


# ---- unary elementwise: NumPy forward (as the eager op computes it), scalar forward ----------

UNARY = {
    "neg": (np.negative, REGISTRY[Op.NEG].forward),
    "exp": (_V.exp, math.exp),
    "log": (_V.log, math.log),
    "sin": (_V.sin, math.sin),
    "cos": (_V.cos, math.cos),
    "tan": (np.tan, math.tan),
    "tanh": (np.tanh, math.tanh),
    "sqrt": (np.sqrt, math.sqrt),
    "sigmoid": (_sigmoid, _scalar_sigmoid),
    "relu": (lambda x: np.maximum(x, 0.0), lambda x: max(0.0, x)),
    "abs": (np.abs, abs),
    "log1p": (np.log1p, math.log1p),
    "expm1": (np.expm1, math.expm1),
    "sign": (lambda x: np.where(np.isnan(x), 0.0, np.sign(x)),
             lambda x: 1.0 if x > 0 else -1.0 if x < 0 else 0.0),
    "posmask": (lambda x: (x > 0).astype(np.float64), lambda x: 1.0 if x > 0 else 0.0),
    "erf": (_V.erf, lambda x: float(_V.special("erf")(x))),  # (eager's functions, for 0-d
    "erfc": (lambda x: _V.special("erfc")(x), lambda x: float(_V.special("erfc")(x))),  # too)
}
BINARY = {"add": "+", "sub": "-", "mul": "*", "div": "/"}
COMPARE = {"gt": ">", "lt": "<", "ge": ">=", "le": "<=", "eq": "==", "ne": "!="}


# Nodes whose value comes from outside or is a fresh object each time: never shared.
_SOURCES = frozenset(("input", "load", "gload", "leaf", "const", "detach", "copy", "cot"))


# Nodes whose value changes from call to call (what depends on none of them is a constant).
_INPUTS = frozenset(("input", "load", "gload", "leaf"))


# Ops whose result never requires grad (comparisons, counts, masks).
NO_GRAD = frozenset(("gt", "lt", "ge", "le", "eq", "ne", "count", "item", "eqmask", "sign",
                     "posmask", "detach", "targets_ok", "assign", "mask_assign",
                     "pool_where", "logical_and", "logical_or", "logical_not", "bitwise_and",
                     "bitwise_or", "bitwise_xor", "bitwise_not", "arg_extremum",
                     "dim_positions", "along_positions", "one_hot"))


class Node:
    __slots__ = ("ins", "op", "out", "params")

    def __init__(self, op, ins, params, out):
        self.op, self.ins, self.params, self.out = op, ins, params, out


def _uniform_value(v):
    """The float that every element of ``v`` equals (a float or a real floating array; the
    number holds the element exactly), else None."""
    if type(v) is float:
        return v if math.isfinite(v) else None
    if type(v) is np.ndarray and v.dtype.kind == "f" and v.size:
        c = float(v.flat[0])
        if math.isfinite(c) and (np.all(v == c) if v.size > 1 else True):
            return c
    return None


DEFER_MIN = 1 << 16  # elements from which a reverse pass's elementwise value is deferred
# elementwise ops over their operands' shape (a deferred value, a chunked replay run)
ELEMENTWISE = frozenset(UNARY) | frozenset(BINARY) | frozenset(
    ("addc", "mulc", "rsubc", "rdivc", "powc", "divc", "rpowc"))
_PROBE = np.zeros(1, np.intp)


class Deferred:
    """The value of an elementwise node of a reverse pass over large arrays, not computed yet.
    The replay recomputes every value, so most are never needed whole; the gradients that reach
    the program are checked on a sample against eager's (``Graph.sample``) and then take eager's
    arrays (``Graph.settle``). Anything else that reads one computes it (``Graph.force``)."""

    __slots__ = ("dtype", "node", "shape")


class Values(list):
    """The value of each id; reading a ``Deferred`` one computes it first."""

    __slots__ = ("graph",)

    def __getitem__(self, i):
        v = list.__getitem__(self, i)
        return self.graph.force(i) if type(v) is Deferred else v


class Graph:
    """Nodes in program order; per value: its trace-time value and whether it requires grad."""

    def __init__(self):
        self.nodes = []
        self.val = Values()
        self.val.graph = self
        self.defer = 0  # > 0 while a reverse pass without create_graph emits (``backprop``)
        self.samples = {}  # value id -> (positions, its values there) of a Deferred value
        self.metas = {}  # value id -> the stand-in ``meta`` gives for a Deferred value
        self.rg = []
        self.producer = []  # node index of each value (-1: none)
        self.seen = {}  # (op, inputs, requires grad, parameters) -> value id
        self.uniform = {}  # value id -> c: values that are c everywhere (a seed, its broadcasts)
        self.varying = set()  # values that depend on an input (the rest are baked constants)

    def new_value(self, value, rg=False, node=-1):
        self.val.append(value)
        self.rg.append(rg)
        self.producer.append(node)
        return len(self.val) - 1

    def emit(self, op, ins=(), rg=False, known=None, **params):
        """Append ``op`` over values ``ins``; computes its value now (trace time) unless it is
        ``known`` (an eager array already checked to be it). The same op over the same values
        is the same value (``x * x``'s VJP computes ``g * x`` twice)."""
        ins = tuple(ins)
        if op == "mul" and self.uniform:
            for one, other in ((ins[0], ins[1]), (ins[1], ins[0])):
                c = self.uniform.get(one)
                if c is not None and self._passes(other, one):
                    if c == 1.0:
                        return other  # g * 1 (the cotangent of a sum): no work
                    if c == -1.0:  # g * -1 (of a difference): the same values, one pass
                        return self.emit("neg", (other,), rg, known)
                    return self.emit("mulc", (other,), rg, known, c=c)  # g * (1/n) (of a mean)
        key = None
        if op not in _SOURCES:
            try:
                key = (op, ins, rg, tuple(params.items()))
                hit = self.seen.get(key)
            except TypeError:  # unhashable parameters (index arrays): not shared
                key = hit = None
            if hit is not None:
                return hit
        value = self._deferred(op, ins, params) if known is None and self.defer and \
            op in ELEMENTWISE else None
        if value is None:
            value = IMPL[op](params, *[self.val[i] for i in ins]) if known is None else known
            value = norm(value)
        out = self.new_value(value, rg, len(self.nodes))
        self.nodes.append(Node(op, ins, params, out))
        if op in _INPUTS or any(i in self.varying for i in ins):
            self.varying.add(out)
        if key is not None:
            self.seen[key] = out
        if op in ("reshape", "broadcast_to") and ins[0] in self.uniform:
            self.uniform[out] = self.uniform[ins[0]]
        elif op == "const" or ins and op not in _SOURCES and all(i in self.uniform for i in ins):
            c = _uniform_value(self.val[out])  # a constant, or made from constants: 1/n of a mean
            if c is not None:
                self.uniform[out] = c
        return out

    def _passes(self, v, one):
        """``v * u`` for a uniform ``u`` is ``v * c``: when ``v`` has the product's shape and
        dtype."""
        sa, da = self.shape(v), self.dtype(v)
        return sa == np.broadcast_shapes(sa, self.shape(one)) and \
            da == np.result_type(da, self.dtype(one))

    # ---- deferred values (see ``Deferred``) ----
    def raw(self, v):
        """The value of ``v`` as stored: a ``Deferred`` one is not computed."""
        return list.__getitem__(self.val, v)

    def is_deferred(self, v):
        return type(list.__getitem__(self.val, v)) is Deferred

    def _deferred(self, op, ins, params):
        """A ``Deferred`` for ``op`` over ``ins`` when they are large arrays of one shape (and
        numbers); None to compute it now."""
        shape = None
        for i in ins:
            r = self.raw(i)
            if type(r) is float or r.shape == ():
                continue
            if shape is None:
                shape = r.shape
            elif r.shape != shape:
                return None
        if shape is None or math.prod(shape) < DEFER_MIN or all(i in self.uniform for i in ins):
            return None
        d = Deferred()
        d.shape, d.node = shape, len(self.nodes)
        probe = IMPL[op](params, *[self.sample(i, _PROBE) for i in ins])  # the result's dtype
        d.dtype = np.asarray(probe).dtype
        return d

    def sample(self, v, flat):
        """The value of ``v`` at the flat positions ``flat``, computing only those (a number
        or 0-d value as is)."""
        r = self.raw(v)
        if type(r) is float or r.shape == ():
            return r
        if type(r) is not Deferred:
            return r[np.unravel_index(flat, r.shape)] if r.ndim > 1 else r[flat]
        hit = self.samples.get(v)
        if hit is not None and hit[0] is flat:
            return hit[1]
        node = self.nodes[r.node]
        out = IMPL[node.op](node.params, *[self.sample(i, flat) for i in node.ins])
        self.samples[v] = (flat, out)
        return out

    def meta(self, v):
        """The value of ``v`` for reading its type, shape, dtype and layout only: a deferred
        one is an uninitialised C-contiguous array (no page of it is ever touched)."""
        r = list.__getitem__(self.val, v)
        if type(r) is not Deferred:
            return r
        hit = self.metas.get(v)
        if hit is None:
            hit = self.metas[v] = np.empty(r.shape, r.dtype)
        return hit

    def settle(self, v, array):
        """Take ``array`` (checked on a sample to be it) as the value of the deferred ``v``."""
        list.__setitem__(self.val, v, array)
        self.samples.pop(v, None)

    def force(self, v):
        """Compute the deferred ``v`` (and the deferred values it reads; no recursion)."""
        stack = [v]
        while stack:
            j = stack[-1]
            r = self.raw(j)
            if type(r) is not Deferred:
                stack.pop()
                continue
            node = self.nodes[r.node]
            pending = [i for i in node.ins if type(self.raw(i)) is Deferred]
            if pending:
                stack.extend(pending)
                continue
            list.__setitem__(self.val, j, norm(IMPL[node.op](
                node.params, *[self.raw(i) for i in node.ins])))
            self.samples.pop(j, None)
            stack.pop()
        return self.raw(v)

    def effect(self, op, ins=(), **params):
        """An instruction without a value (a write into a tensor, a call, a guard)."""
        self.nodes.append(Node(op, tuple(ins), params, -1))

    def shape(self, v):
        r = list.__getitem__(self.val, v)
        return r.shape if type(r) is Deferred else shape_of(r)

    def dtype(self, v):
        r = list.__getitem__(self.val, v)
        return r.dtype if type(r) is Deferred else dtype_of(r)


# ---- implementations --------------------------------------------------------------------

def _sum_to(x, shape):
    """Sum a broadcast value back to ``shape`` (the adjoint of broadcasting)."""
    xs = np.shape(x)
    if xs == tuple(shape):
        return x
    lead = len(xs) - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, n in enumerate(shape)
                                      if n == 1 and xs[i + lead] != 1)
    r = _sum_values(x, axes, True) if type(x) is np.ndarray else \
        np.sum(x, axis=axes, keepdims=True)  # (eager sum's values)
    return np.reshape(r, shape) if lead else r


def sorted_axes(axis, ndim):
    """The sorted tuple of non-negative axes that ``axis`` (None, an int or a tuple) sums."""
    if axis is None:
        return tuple(range(ndim))
    return tuple(sorted({a % ndim for a in ((axis,) if type(axis) is int else axis)}))


def _sum(p, a):
    """The ``sum`` node: eager ``sum``'s values (``ops.movement.sum_values``) for arrays."""
    if type(a) is not np.ndarray:
        return np.sum(a, axis=p["axis"], keepdims=p["keepdims"])
    return _sum_values(a, sorted_axes(p["axis"], a.ndim), p["keepdims"])


def _logsumexp(x, axis, keepdims):
    m = np.amax(x, axis=axis, keepdims=True)
    if not np.isfinite(m).all():
        m = np.where(np.isfinite(m), m, 0.0)
    e = np.subtract(x, m)
    if type(e) is not np.ndarray or e.dtype.kind != "f":
        r = np.log(np.sum(np.exp(e), axis=axis, keepdims=True)) + m
        return r if keepdims else np.squeeze(r, axis)
    np.exp(e, out=e)  # in place: one temporary instead of two
    r = np.sum(e, axis=axis, keepdims=True)
    np.log(r, out=r)
    r += m
    return r if keepdims else np.squeeze(r, axis)


def _einsum(p, xs):
    """``np.einsum`` with its contraction path found once, when tracing (BLAS paths pay off
    for big operands, as in the eager op); a big two-operand contraction with a batch letter,
    which has no BLAS path there, as one batched matmul (``ops/einsum_plan``)."""
    mm = p.get("matmul")
    if mm is not None:
        return mm(*xs)
    path = p.get("path")
    if len(xs) == 1 and "." not in p["spec"]:  # a float32 sum: the eager op's pairwise one
        value = _einsum_reduce.reduction(*p["spec"].split("->"), xs[0])
        if value is not None:
            return value
    if path is None:
        if len(xs) == 2:
            mm = p["matmul"] = _einsum_plan.plan(p["spec"], *xs)
            if mm is not None:
                return mm(*xs)
        big = len(xs) > 2 or max(np.size(x) for x in xs) > 4096
        path = p["path"] = np.einsum_path(p["spec"], *xs, optimize="greedy")[0] if big and \
            len(xs) > 1 else False
    return np.einsum(p["spec"], *xs, optimize=path)


def _index_scatter(g, key, shape, dtype):
    z = np.zeros(shape, dtype)
    if all(not isinstance(k, np.ndarray) for k in key):
        z[key] = g  # basic indexing: every position at most once
    else:
        np.add.at(z, key, g)
    return z


def _assign(x, key, v):
    """``x`` with ``x[key] = v`` done on a copy (``x[key] = v`` of the eager op)."""
    z = np.array(x)
    z[key] = v
    return z


def _mask_scatter(g, mask, shape, dtype):
    z = np.zeros(shape, dtype)
    z[mask] = g
    return z


def _matmul(p, a, b):
    """``a @ b``; of two vectors (``vectors``: as a row times a column) as eager's product,
    whose two float32 vectors are summed in float64 (``ops/accurate_dot``)."""
    if p.get("vectors"):
        return np.reshape(_dot32(a[0], b[:, 0]), (1, 1))
    return np.matmul(a, b)


IMPL = {
    "const": lambda p: p["value"],
    "add": lambda p, a, b: a + b,
    "sub": lambda p, a, b: a - b,
    "mul": lambda p, a, b: a * b,
    "div": lambda p, a, b: a / b,
    "addc": lambda p, a: a + p["c"],
    "mulc": lambda p, a: a * p["c"],
    "rsubc": lambda p, a: p["c"] - a,
    "rdivc": lambda p, a: p["c"] / a,
    "powc": lambda p, a: a ** p["c"] if type(a) is float else np.power(a, p["c"]),
    "where": lambda p, c, a, b: np.where(c, a, b),
    "matmul": _matmul,
    "einsum": lambda p, *xs: _einsum(p, xs),
    "sum": _sum,
    "sum_to": lambda p, a: _sum_to(a, p["shape"]),
    "logsumexp": lambda p, a: _logsumexp(a, p["axis"], p["keepdims"]),
    "amax": lambda p, a: np.amax(a, axis=p["axis"], keepdims=p["keepdims"]),
    "amin": lambda p, a: np.amin(a, axis=p["axis"], keepdims=p["keepdims"]),
    "eqmask": lambda p, a, b: (a == b).astype(dtype_of(a)),
    "reshape": lambda p, a: np.reshape(a, p["shape"]),
    "permute": lambda p, a: np.transpose(a, p["axes"]),
    "broadcast_to": lambda p, a: np.broadcast_to(a, p["shape"]),
    "getitem": lambda p, a: np.asarray(a)[p["key"]],
    "index_scatter": lambda p, g: _index_scatter(g, p["key"], p["shape"], p["dtype"]),
    "mask_select": lambda p, a, m: np.asarray(a)[m],
    "assign": lambda p, a, v: _assign(a, p["key"], v),
    "mask_assign": lambda p, a, m, v: _assign(a, m, v),
    "mask_scatter": lambda p, g, m: _mask_scatter(g, m, p["shape"], p["dtype"]),
    "count": lambda p, m: int(np.count_nonzero(m)),
    "cat": lambda p, *xs: np.concatenate([np.asarray(x) for x in xs], p["axis"]),
    "copy": lambda p, a: a if type(a) is float else np.array(a),
    "astype": lambda p, a: np.asarray(a).astype(p["dtype"]),
    "divc": lambda p, a: a / p["c"],
    "rpowc": lambda p, a: p["c"] ** a if type(a) is float else np.power(p["c"], a),
    "leaf": lambda p, a: a,
    "detach": lambda p, a: a,
    "input": lambda p: p["value"],
    "cot": lambda p: p["value"],
    "load": lambda p: p["value"],
    "gload": lambda p: p["value"],
    "item": lambda p, a: a if type(a) is float else np.asarray(a).item(),
}


def _unary_impl(np_f, py_f):
    return lambda p, a: py_f(a) if type(a) is float else np_f(a)


def _compare_impl(ufunc):
    return lambda p, a, b: np.asarray(ufunc(a, b))


for _name, (_np_f, _py_f) in UNARY.items():
    IMPL[_name] = _unary_impl(_np_f, _py_f)
for _name, _uf in {"gt": np.greater, "lt": np.less, "ge": np.greater_equal,
                   "le": np.less_equal, "eq": np.equal, "ne": np.not_equal}.items():
    IMPL[_name] = _compare_impl(_uf)
