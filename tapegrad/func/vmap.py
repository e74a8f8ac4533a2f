"""``vmap``: run a function written for one example on a batch of examples.

Inside ``vmap(f)`` every batched argument is a ``BatchedTensor``: a Tensor whose *logical*
value is one example and whose *physical* value ``_phys`` holds the whole batch with the batch
dimension first. Ops on batched tensors go through ``dispatch``, which applies the op's
**batching rule** (elementwise ops broadcast with the batch dimension in front, reductions and
movement ops shift their dims by one, matmul batches, indexing keeps the batch slice, ...) to
the physical tensors, in tapegrad ops that record as usual: a vmapped computation is
differentiable like any other. An op without a rule runs once per example (a Python loop,
results stacked) after ONE warning naming the op.

``vmap`` nests: the physical value of a level-2 batched tensor may itself be a level-1 batched
tensor; a rule calls dispatching ops, so the inner level is handled by the same rules.
``tg.autograd.grad`` of batched tensors is computed on the physical tensors (the examples are
independent, so one backward gives every example's gradient), which makes ``vmap(grad(f))``,
``vmap(jvp(...))`` and ``vmap(vjp_fn)`` work.
"""

import functools
import threading
import warnings

import numpy as np

from .. import grad_mode as _gm
from .. import ops as _ops
from ..ops import elementwise as _E
from ..ops import join as _J
from ..ops import linalg as _L
from ..ops import movement as _M
from ..ops import reduce as _R
from ..tensor import Tensor
from .pytree import tree_flatten, tree_unflatten

__all__ = ["vmap", "BatchedTensor", "dispatch"]

_RANDOMNESS = ("error", "different", "same")


class _State(threading.local):
    def __init__(self):
        self.level = 0  # levels of vmap running on this thread
        self.warned = []  # per running vmap: op names already warned about


_state = _State()
_lock = threading.Lock()
_running = [0]  # vmaps running on any thread: the public ops' only check when it is 0


class BatchedTensor(Tensor):
    """A tensor inside ``vmap``: logical value one example, ``_phys`` the batch (dim 0)."""

    _vmap_level = 0

    def __init__(self, phys, level):
        self._phys = phys
        self._vmap_level = level

    # raw ops (not dispatched) must never see the physical array as if it were the example
    @property
    def _data(self):
        raise _RawAccess()

    @property
    def _rg(self):
        return self._phys.requires_grad

    @property
    def shape(self):
        return tuple(self._phys.shape[1:])

    @property
    def ndim(self):
        return len(self._phys.shape) - 1

    @property
    def dtype(self):
        return self._phys.dtype

    @property
    def device(self):
        return self._phys.device

    def size(self, dim=None):
        return self.shape if dim is None else self.shape[dim]

    def dim(self):
        return self.ndim

    def numel(self):
        return int(np.prod(self.shape, dtype=np.int64))

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        return iter(dispatch("unbind", _J.unbind, (self,), {}))

    @property
    def requires_grad(self):
        return self._phys.requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        self._phys.requires_grad = flag

    def requires_grad_(self, requires_grad=True):
        self._phys.requires_grad_(requires_grad)
        return self

    @property
    def is_leaf(self):
        return self._phys.is_leaf

    @property
    def grad(self):
        return None

    @property
    def grad_fn(self):
        return self._phys.grad_fn

    def detach(self):
        return BatchedTensor(self._phys.detach(), self._vmap_level)

    def _no_data(self, *args, **kwargs):
        raise RuntimeError("vmap: It looks like you're calling .item() on a Tensor. We don't "
                           "support vmap over calling .item() on a Tensor, please try to rewrite "
                           "what you're doing with other operations.")

    item = tolist = numpy = __float__ = __int__ = __index__ = _no_data

    def __bool__(self):
        raise RuntimeError("vmap: It looks like you're attempting to use a Tensor in some "
                           "data-dependent control flow. We don't support that yet, please "
                           "shout over at https://github.com/pytorch/functorch/issues/257 .")

    def __array__(self, dtype=None, copy=None):
        self._no_data()

    def __repr__(self):
        return f"BatchedTensor(lvl={self._vmap_level}, bdim=0, value=\n{self._phys!r})"

    def backward(self, *args, **kwargs):
        raise RuntimeError("vmap: backward() of a batched tensor is not supported: use "
                           "tg.func.grad or tg.autograd.grad inside vmap")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        from ..numpy_dispatch import UFUNCS

        f = UFUNCS.get(ufunc) if method == "__call__" and not kwargs else None
        if f is None:
            return NotImplemented
        name = getattr(f, "__name__", ufunc.__name__)
        return dispatch(name, f, inputs, {})


class _RawAccess(Exception):
    """An op without a dispatch entry read a batched tensor's value."""


# ---- dispatch -----------------------------------------------------------------------------

RULES = {}


def _level_of(leaves):
    lv = 0
    for t in leaves:
        if type(t) is BatchedTensor and t._vmap_level > lv:
            lv = t._vmap_level
    return lv


def dispatch(name, raw, args, kwargs):
    """Call op ``name`` (``raw`` on plain tensors) on arguments that may be batched."""
    leaves, _ = tree_flatten((args, kwargs))
    level = _level_of(leaves)
    if not level:
        return raw(*args, **kwargs)
    rule = RULES.get(name)
    if rule is not None:
        res = rule(level, name, raw, args, kwargs)
        if res is not NotImplemented:
            return res
    return _loop(level, name, raw, args, kwargs)


def _bsize(level, leaves):
    for t in leaves:
        if type(t) is BatchedTensor and t._vmap_level == level:
            return t._phys.shape[0]
    raise AssertionError("no batched argument at this level")


def _at(level, t, b):
    """Example ``b`` of ``t`` at ``level`` (``t`` itself when not batched there)."""
    if type(t) is BatchedTensor and t._vmap_level == level:
        return dispatch("getitem", _M.getitem, (t._phys, b), {})
    return t


def _loop(level, name, raw, args, kwargs):
    """The fallback: run the op once per example and stack the results."""
    warned = _state.warned[-1] if _state.warned else set()
    if name not in warned:
        warned.add(name)
        warnings.warn(f"There is a performance drop because we have not yet implemented the "
                      f"batching rule for {name}. tapegrad runs it once per example (a Python "
                      "loop over the batch).", UserWarning, stacklevel=3)
    leaves, spec = tree_flatten((args, kwargs))
    n = _bsize(level, leaves)
    results = []
    for b in range(n):
        a, k = tree_unflatten([_at(level, t, b) for t in leaves], spec)
        results.append(dispatch(name, raw, a, k))
    return _stack_results(level, results)


def _stack_results(level, results):
    outs, spec = tree_flatten(results[0])
    cols = [tree_flatten(r)[0] for r in results]
    stacked = []
    for j, o in enumerate(outs):
        if isinstance(o, Tensor):
            col = [c[j] for c in cols]
            stacked.append(BatchedTensor(dispatch("stack", _J.stack, (col, 0), {}), level))
        else:
            stacked.append(o)
    return tree_unflatten(stacked, spec)


def _unwrap(level, t):
    if type(t) is BatchedTensor and t._vmap_level == level:
        return t._phys, True
    return t, False


def _wrap(level, out):
    leaves, spec = tree_flatten(out)
    return tree_unflatten([BatchedTensor(t, level) if isinstance(t, Tensor) else t
                           for t in leaves], spec)


def _call(name, raw, *args, **kwargs):
    return dispatch(name, raw, args, kwargs)


def _reshape(t, shape):
    return dispatch("reshape", _M.reshape, (t, tuple(shape)), {})


def _lnd(t):
    return t.ndim if isinstance(t, Tensor) else np.ndim(t)


# ---- rules ----------------------------------------------------------------------------------

def _rule_elementwise(level, name, raw, args, kwargs):
    """Broadcasting ops: pad each batched operand to the common rank behind its batch dim."""
    leaves, spec = tree_flatten((args, kwargs))
    r = max((_lnd(t) for t in leaves if isinstance(t, (Tensor, np.ndarray))), default=0)
    new = []
    for t in leaves:
        p, batched = _unwrap(level, t)
        if batched:
            nd = len(p.shape) - 1
            if nd < r:
                p = _reshape(p, (p.shape[0],) + (1,) * (r - nd) + tuple(p.shape[1:]))
            new.append(p)
        else:
            new.append(t)
    a, k = tree_unflatten(new, spec)
    return _wrap(level, dispatch(name, raw, a, k))


def _shift(d, nd):
    if nd == 0:
        if d not in (0, -1):
            raise IndexError(f"Dimension out of range (expected to be in range of [-1, 0], but "
                             f"got {d})")
        return None
    if not -nd <= d < nd:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-nd}, {nd - 1}]"
                         f", but got {d})")
    return d % nd + 1


# name -> (position of dim, keyword of dim, what dim=None means: "all" | "flat" | "keep")
_REDUCE = {
    "sum": (1, "dim", "all"), "mean": (1, "dim", "all"), "prod": (1, "dim", "flat"),
    "amax": (1, "dim", "all"), "amin": (1, "dim", "all"), "max": (1, "dim", "amax"),
    "min": (1, "dim", "amin"), "var": (1, "dim", "all"), "std": (1, "dim", "all"),
    "norm": (2, "dim", "all"), "logsumexp": (1, "dim", None), "softmax": (1, "dim", None),
    "log_softmax": (1, "dim", None), "cumsum": (1, "dim", None), "argmax": (1, "dim", "flat"),
    "argmin": (1, "dim", "flat"),
}


def _rule_reduce(level, name, raw, args, kwargs):
    pos, kw, none = _REDUCE[name]
    if name in ("max", "min") and (len(args) > 1 and isinstance(args[1], Tensor) or
                                   isinstance(kwargs.get("other"), Tensor)):
        return _rule_elementwise(level, name, raw, args, kwargs)  # max(a, b): elementwise
    x, batched = _unwrap(level, args[0])
    rest = [t for t in list(args[1:]) + list(kwargs.values())
            if type(t) is BatchedTensor and t._vmap_level == level]
    if not batched or rest:
        return NotImplemented
    nd = len(x.shape) - 1
    args = list(args)
    kwargs = dict(kwargs)
    if kw in kwargs:
        dim = kwargs[kw]
    elif len(args) > pos:
        dim = args[pos]
    else:
        dim = () if name in ("amax", "amin") else None
    if name in ("amax", "amin") and dim == ():
        dim = None
    scalar = nd == 0
    if scalar:  # a 0-d example: reduce a (B, 1) tensor over dim 1, then drop that dim
        x = _reshape(x, (x.shape[0], 1))
        if dim is None or isinstance(dim, (tuple, list)) or _shift(dim, 0) is None:
            dim = 0
        nd = 1
    if dim is None:
        if none is None:
            return NotImplemented
        if none == "flat":  # reduce one flattened dim
            x = _reshape(x, (x.shape[0], -1))
            new = 1
        elif none in ("amax", "amin"):
            name, raw = none, getattr(_R, none)
            new = tuple(range(1, nd + 1))
        else:
            new = tuple(range(1, nd + 1))
    elif isinstance(dim, (tuple, list)):
        if nd == 0 or not dim:
            return NotImplemented
        new = tuple(_shift(d, nd) for d in dim)
    else:
        new = _shift(dim, nd)
        if new is None:
            return NotImplemented
    if kw in kwargs or len(args) <= pos:
        kwargs[kw] = new
    else:
        args[pos] = new
    args[0] = x
    out = dispatch(name, raw, tuple(args), kwargs)
    if scalar:
        leaves, spec = tree_flatten(out)
        out = tree_unflatten([_reshape(t, (t.shape[0],)) if isinstance(t, Tensor) else t
                              for t in leaves], spec)
    return _wrap(level, out)


def _shape_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def _rule_reshape(level, name, raw, x, *shape):
    x, b = _unwrap(level, x)
    if not b:
        return NotImplemented
    shape = _shape_arg(shape)
    return BatchedTensor(_reshape(x, (x.shape[0],) + shape), level)


def _simple(fn):
    """A rule written as ``fn(level, name, raw, *args, **kwargs)``."""

    def rule(level, name, raw, args, kwargs):
        return fn(level, name, raw, *args, **kwargs)

    return rule


def _first(level, x):
    p, b = _unwrap(level, x)
    return p, b, len(p.shape) - 1 if b else None


def _rule_flatten(level, name, raw, x, start_dim=0, end_dim=-1):
    p, b, nd = _first(level, x)
    if not b:
        return NotImplemented
    shape = tuple(p.shape[1:])
    if nd == 0:
        return BatchedTensor(_reshape(p, (p.shape[0], 1)), level)
    s, e = start_dim % nd, end_dim % nd
    new = shape[:s] + (int(np.prod(shape[s:e + 1], dtype=np.int64)),) + shape[e + 1:]
    return BatchedTensor(_reshape(p, (p.shape[0],) + new), level)


def _rule_squeeze(level, name, raw, x, dim=None):
    p, b, nd = _first(level, x)
    if not b:
        return NotImplemented
    shape = tuple(p.shape[1:])
    if dim is None:
        new = tuple(s for s in shape if s != 1)
    else:
        dims = {d % max(nd, 1) for d in ((dim,) if isinstance(dim, int) else dim)}
        new = tuple(s for i, s in enumerate(shape) if not (i in dims and s == 1))
    return BatchedTensor(_reshape(p, (p.shape[0],) + new), level)


def _rule_unsqueeze(level, name, raw, x, dim):
    p, b, nd = _first(level, x)
    if not b:
        return NotImplemented
    d = dim % (nd + 1) + 1
    return BatchedTensor(_call("unsqueeze", _M.unsqueeze, p, d), level)


def _rule_permute(level, name, raw, x, *dims):
    p, b, nd = _first(level, x)
    if not b:
        return NotImplemented
    dims = _shape_arg(dims)
    return BatchedTensor(_call("permute", _M.permute, p, (0,) + tuple(d % nd + 1 for d in dims)),
                         level)


def _rule_transpose(level, name, raw, x, dim0, dim1):
    p, b, nd = _first(level, x)
    if not b:
        return NotImplemented
    if nd == 0:
        return BatchedTensor(p, level)
    return BatchedTensor(_call("transpose", _M.transpose, p, dim0 % nd + 1, dim1 % nd + 1),
                         level)


def _rule_t(level, name, raw, x):
    p, b, nd = _first(level, x)
    if not b:
        return NotImplemented
    if nd < 2:
        return BatchedTensor(p, level)
    return BatchedTensor(_call("transpose", _M.transpose, p, 1, 2), level)


def _rule_expand(level, name, raw, x, *sizes, with_value=True):
    p, b, nd = _first(level, x)
    if not b:
        return NotImplemented
    sizes = _shape_arg(sizes)
    if len(sizes) > nd:
        p = _reshape(p, (p.shape[0],) + (1,) * (len(sizes) - nd) + tuple(p.shape[1:]))
    return BatchedTensor(_call("expand", _M.expand, p, (p.shape[0],) + sizes), level)


def _rule_flip(level, name, raw, x, dims):
    p, b, nd = _first(level, x)
    if not b:
        return NotImplemented
    dims = (dims,) if isinstance(dims, int) else dims
    return BatchedTensor(_call("flip", _M.flip, p, tuple(d % nd + 1 for d in dims)), level)


def _is_adv(k):
    return isinstance(k, (list, np.ndarray, Tensor)) and not isinstance(k, (bool, np.bool_))


def _rule_getitem(level, name, raw, x, key):
    p, b, nd = _first(level, x)
    kleaves, _ = tree_flatten(key)
    if not b or _level_of(kleaves) == level:
        return NotImplemented
    items = key if isinstance(key, tuple) else (key,)
    adv = [i for i, k in enumerate(items) if _is_adv(k)]
    if adv and adv != list(range(adv[0], adv[-1] + 1)):
        return NotImplemented  # separated advanced indices move to the front: loop
    return BatchedTensor(_call("getitem", _M.getitem, p, (slice(None),) + tuple(items)), level)


def _rule_diagonal(level, name, raw, x, offset=0, dim1=0, dim2=1):
    p, b, nd = _first(level, x)
    if not b:
        return NotImplemented
    return BatchedTensor(_call("diagonal", _L.diagonal, p, offset, dim1 % nd + 1, dim2 % nd + 1),
                         level)


def _rule_trace(level, name, raw, x):
    p, b, nd = _first(level, x)
    if not b:
        return NotImplemented
    d = _call("diagonal", _L.diagonal, p, 0, 1, 2)
    return BatchedTensor(_call("sum", _M.sum, d, -1), level)


def _rule_matmul(level, name, raw, x, y):
    px, bx = _unwrap(level, x)
    py, by = _unwrap(level, y)
    lx, ly = _lnd(x), _lnd(y)
    if lx == 0 or ly == 0:
        return NotImplemented

    def lift(p, batched, nd, at):  # a vector becomes a matrix (at=-2: row, -1: column)
        if nd != 1:
            return p, nd
        if batched:
            return _call("unsqueeze", _M.unsqueeze, p, 1 if at == -2 else 2), 2
        return _call("unsqueeze", _M.unsqueeze, p, 0 if at == -2 else 1), 2

    px, nx = lift(px, bx, lx, -2)
    py, ny = lift(py, by, ly, -1)
    r = max(nx, ny)

    def pad(p, batched, n):
        if batched and n < r:
            return _reshape(p, (p.shape[0],) + (1,) * (r - n) + tuple(p.shape[1:]))
        return p

    out = _call("matmul", _L.matmul, pad(px, bx, nx), pad(py, by, ny))
    if ly == 1:
        out = _call("squeeze", _M.squeeze, out, -1)
    if lx == 1:
        out = _call("squeeze", _M.squeeze, out, -1 if ly == 1 else -2)
    return BatchedTensor(out, level)


def _rule_outer(level, name, raw, x, y):
    return _call("mul", _E.mul, _call("unsqueeze", _M.unsqueeze, x, -1),
                 _call("unsqueeze", _M.unsqueeze, y, 0))


def _batched_list(level, tensors):
    n = _bsize(level, tensors)
    out = []
    for t in tensors:
        p, b = _unwrap(level, t)
        if not b:
            p = _call("expand", _M.expand, _call("unsqueeze", _M.unsqueeze, p, 0),
                      (n,) + tuple(p.shape))
        out.append(p)
    return out


def _rule_cat(level, name, raw, tensors, dim=0):
    tensors = list(tensors)
    nd = max(_lnd(t) for t in tensors)
    tensors = [t for t in tensors if not (_lnd(t) == 1 and t.shape[0] == 0 and nd > 1)]
    return BatchedTensor(_call(name, raw, _batched_list(level, tensors), dim % nd + 1), level)


def _rule_stack(level, name, raw, tensors, dim=0):
    tensors = list(tensors)
    nd = _lnd(tensors[0])
    return BatchedTensor(_call("stack", _J.stack, _batched_list(level, tensors),
                               dim % (nd + 1) + 1), level)


def _rule_split(level, name, raw, x, arg, dim=0):
    p, b, nd = _first(level, x)
    if not b:
        return NotImplemented
    return _wrap(level, _call(name, raw, p, arg, dim % nd + 1))


def _rule_unbind(level, name, raw, x, dim=0):
    p, b, nd = _first(level, x)
    if not b:
        return NotImplemented
    return _wrap(level, _call("unbind", _J.unbind, p, dim % nd + 1))


def _rule_einsum(level, name, raw, equation, *operands):
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    eq = equation.replace(" ", "")
    if "->" not in eq:  # implicit output: the letters used once, in alphabetical order
        letters = [c for c in eq if c.isalpha()]
        eq = eq + "->" + ("..." if "..." in eq else "") + "".join(
            sorted(c for c in set(letters) if letters.count(c) == 1))
    lhs, rhs = eq.split("->")
    terms = lhs.split(",")
    if len(terms) != len(operands):
        return NotImplemented
    free = [c for c in "ZYXWVUTSRQPONMLKJIHGFEDCBAzyxwvutsrqponmlkjihgfedcba" if c not in eq]
    z = free[0]
    new_terms, new_ops = [], []
    for term, op in zip(terms, operands):
        p, b = _unwrap(level, op)
        new_terms.append(z + term if b else term)
        new_ops.append(p)
    new_eq = ",".join(new_terms) + "->" + z + rhs
    return BatchedTensor(_call("einsum", _L.einsum, new_eq, *new_ops), level)


def _rule_where(level, name, raw, condition, x, y):
    return _rule_elementwise(level, name, raw, (condition, x, y), {})


def _rule_clone(level, name, raw, x, *args, **kwargs):
    p, b = _unwrap(level, x)
    if not b:
        return NotImplemented
    return BatchedTensor(_call(name, raw, p, *args, **kwargs), level)


_ELEMENTWISE = ("neg exp log log1p expm1 sin cos tan tanh sigmoid relu sqrt abs sign add sub "
                "mul div pow maximum minimum clamp eq ne lt le gt ge logical_and logical_or "
                "logical_not bitwise_and bitwise_or true_divide subtract multiply divide "
                "reciprocal rsub").split()
for _n in _ELEMENTWISE:
    RULES[_n] = _rule_elementwise
for _n in _REDUCE:
    RULES[_n] = _rule_reduce
RULES.update(
    where=_simple(_rule_where), reshape=_simple(_rule_reshape), view=_simple(_rule_reshape),
    flatten=_simple(_rule_flatten), squeeze=_simple(_rule_squeeze),
    unsqueeze=_simple(_rule_unsqueeze), permute=_simple(_rule_permute),
    transpose=_simple(_rule_transpose), t=_simple(_rule_t), expand=_simple(_rule_expand),
    broadcast_to=_simple(_rule_expand), flip=_simple(_rule_flip),
    getitem=_simple(_rule_getitem), diagonal=_simple(_rule_diagonal),
    trace=_simple(_rule_trace), matmul=_simple(_rule_matmul), mm=_simple(_rule_matmul),
    bmm=_simple(_rule_matmul), mv=_simple(_rule_matmul), dot=_simple(_rule_matmul),
    outer=_simple(_rule_outer), cat=_simple(_rule_cat), concat=_simple(_rule_cat),
    concatenate=_simple(_rule_cat), stack=_simple(_rule_stack), split=_simple(_rule_split),
    chunk=_simple(_rule_split), unbind=_simple(_rule_unbind), einsum=_simple(_rule_einsum),
    clone=_simple(_rule_clone), to=_simple(_rule_clone), contiguous=_simple(_rule_clone),
    double=_simple(_rule_clone), float=_simple(_rule_clone), half=_simple(_rule_clone),
    long=_simple(_rule_clone), int=_simple(_rule_clone), bool=_simple(_rule_clone),
    cpu=_simple(_rule_clone), type=_simple(_rule_clone),
)


# ---- binding: public functions and Tensor methods -----------------------------------------

def dispatching(name, raw):
    """``raw`` (a public op) made batch-aware: plain arguments go straight to ``raw``."""

    @functools.wraps(raw)
    def fn(*args, **kwargs):
        if _running[0] and _state.level:
            return dispatch(name, raw, args, kwargs)
        return raw(*args, **kwargs)

    fn.raw = raw
    return fn


_REFLECTED = {"__radd__": "add", "__rsub__": "sub", "__rmul__": "mul", "__rtruediv__": "div",
              "__rpow__": "pow", "__rmatmul__": "matmul", "__rand__": "bitwise_and",
              "__ror__": "bitwise_or"}
_OPERATORS = {"__add__": "add", "__sub__": "sub", "__mul__": "mul", "__truediv__": "div",
              "__pow__": "pow", "__matmul__": "matmul", "__neg__": "neg", "__abs__": "abs",
              "__getitem__": "getitem", "__lt__": "lt", "__le__": "le", "__gt__": "gt",
              "__ge__": "ge", "__eq__": "eq", "__ne__": "ne", "__and__": "bitwise_and",
              "__or__": "bitwise_or", "__invert__": "logical_not"}
_INPLACE = {"__iadd__": "add", "__isub__": "sub", "__imul__": "mul", "__itruediv__": "div",
            "__ipow__": "pow"}
_KEEP = {"backward", "detach", "requires_grad_", "size", "dim", "numel", "item", "tolist",
         "numpy", "register_hook", "retain_grad", "register_post_accumulate_grad_hook",
         "data_ptr", "element_size", "nelement", "detach_", "__setitem__", "__array__",
         "__array_ufunc__", "__array_function__"}


def _method(name, raw, reflected=False):
    if reflected:
        def m(self, other):
            return dispatch(name, raw, (other, self), {})
    else:
        def m(self, *args, **kwargs):
            return dispatch(name, raw, (self,) + args, kwargs)
    m.__name__ = name
    return m


def _inplace_method(name, raw):
    def m(self, *args, **kwargs):
        out = dispatch(name, raw, (self,) + args, kwargs)
        if type(out) is not BatchedTensor or out._vmap_level != self._vmap_level:
            out = BatchedTensor(_batched_list(self._vmap_level, [out, self])[0],
                                self._vmap_level)
        self._phys = out._phys
        return self

    return m


def _bind_methods():
    T = Tensor
    for attr in dir(T):
        if attr in _KEEP or attr in BatchedTensor.__dict__:
            continue
        f = getattr(T, attr, None)
        if not callable(f) or isinstance(f, type) or isinstance(T.__dict__.get(attr), property):
            continue
        if attr in _REFLECTED:
            name = _REFLECTED[attr]
            raw = getattr(_ops, name, None) or getattr(_ops.compare, name)
            setattr(BatchedTensor, attr, _method(name, raw, reflected=True))
        elif attr in _OPERATORS:
            setattr(BatchedTensor, attr, _method(_OPERATORS[attr], f))
        elif attr in _INPLACE or (attr.endswith("_") and not attr.startswith("_")):
            base = _INPLACE.get(attr) or attr[:-1]
            raw = getattr(T, "__" + base + "__", None) if base in ("add", "sub", "mul") \
                else None
            raw = getattr(_ops, base, None) or getattr(T, base, None) or raw
            if raw is None:
                continue
            setattr(BatchedTensor, attr, _inplace_method(base, raw))
        elif not attr.startswith("_"):
            setattr(BatchedTensor, attr, _method(attr, f))
    for prop, fn in (("T", lambda s: _call("t", _M.t, s) if s.ndim <= 2 else
                      _call("permute", _M.permute, s, tuple(range(s.ndim - 1, -1, -1)))),
                     ("mT", lambda s: _call("transpose", _M.transpose, s, -2, -1))):
        setattr(BatchedTensor, prop, property(fn))


_bind_methods()


# ---- vmap -----------------------------------------------------------------------------------

def _moveaxis(t, src, dst):
    nd = t.ndim
    if src == dst:
        return t
    order = [i for i in range(nd) if i != src]
    order.insert(dst, src)
    return _call("permute", _M.permute, t, tuple(order))


def _broadcast_prefix(dims, tree, what):
    """``dims`` (a prefix of ``tree``'s structure) repeated onto each of ``tree``'s leaves."""
    leaves, spec = tree_flatten(tree)
    if dims is None or isinstance(dims, int):
        return [dims] * len(leaves)
    dleaves, dspec = tree_flatten(dims)
    if dspec == spec:
        return dleaves
    out = []

    def go(d, t):
        if d is None or isinstance(d, int):
            out.extend([d] * len(tree_flatten(t)[0]))
            return
        if isinstance(d, dict):
            if not isinstance(t, dict) or set(d) != set(t):
                raise ValueError(f"vmap: {what} is not compatible with the structure of the "
                                 "inputs")
            for k in t:
                go(d[k], t[k])
            return
        if not isinstance(d, (tuple, list)) or not isinstance(t, (tuple, list)) or \
                len(d) != len(t):
            raise ValueError(f"vmap({what}=...): {what} is not compatible with the structure "
                             "of the inputs")
        for a, b in zip(d, t):
            go(a, b)

    go(dims, tree)
    return out


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """``func`` mapped over a dimension of its inputs (``torch.func.vmap``).

    ``in_dims``: an int, ``None`` (not mapped) or a pytree prefix of the arguments; ``out_dims``
    the same for the outputs. Outputs must be tensors (pytrees of them); an output that does not
    depend on the batch is broadcast. Random functions inside ``func`` draw one value for the
    whole batch whatever ``randomness`` says ('error', 'different' and 'same' are accepted).

    Example:
        >>> import tapegrad as tg
        >>> tg.vmap(lambda v: (v * v).sum())(tg.tensor([[1., 2.], [3., 4.]]))
        tensor([ 5., 25.])
    """
    if randomness not in _RANDOMNESS:
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or "
                           f"'same'. Got {randomness}")
    if not (in_dims is None or isinstance(in_dims, (int, tuple, list, dict))):
        raise ValueError(f"vmap(in_dims={in_dims!r}): expected `in_dims` to be int or a "
                         "(potentially nested) tuple matching the structure of inputs")

    @functools.wraps(func)
    def wrapped(*args, **kwargs):
        from ..ops.record import as_tensor

        if isinstance(in_dims, int) or in_dims is None:
            dims = [in_dims] * len(tree_flatten(args)[0])
        else:
            if isinstance(in_dims, (tuple, list)) and len(in_dims) != len(args):
                raise ValueError(f"vmap(in_dims={in_dims!r}, ...)(<inputs>): in_dims is not "
                                 f"compatible with the structure of `inputs`. in_dims has "
                                 f"structure {tree_flatten(in_dims)[1]} but inputs has "
                                 f"structure {tree_flatten(args)[1]}.")
            dims = _broadcast_prefix(tuple(in_dims), args, "in_dims")
        leaves, spec = tree_flatten(args)
        size = None
        for t, d in zip(leaves, dims):
            if d is None:
                continue
            if not isinstance(t, (Tensor, np.ndarray)):
                raise ValueError(f"vmap(in_dims={in_dims!r}, ...)(<inputs>): Got in_dim={d} "
                                 f"for an input but the input is of type {type(t)}. We cannot "
                                 "vmap over non-Tensor arguments, please use None as the "
                                 "respective in_dim")
            nd = np.ndim(t) if not isinstance(t, Tensor) else t.ndim
            if not -nd <= d < max(nd, 0) or nd == 0:
                raise ValueError(f"vmap(in_dims={in_dims!r}, ...)(<inputs>): Got in_dim={d} "
                                 f"for some input, but that input is a Tensor of dimensionality "
                                 f"{nd} so expected in_dim to satisfy -{nd} <= in_dim < {nd}.")
            n = t.shape[d]
            if size is not None and n != size:
                raise ValueError("vmap: Expected all tensors to have the same size in the "
                                 f"mapped dimension, got sizes {[size, n]} for the mapped "
                                 "dimension")
            size = n
        if size is None:
            raise ValueError("vmap(f, in_dims=..., ...)(<inputs>): at least one input must be "
                             "batched: got in_dims that are all None")
        level = _state.level + 1
        new = []
        for t, d in zip(leaves, dims):
            if d is None:
                new.append(t)
                continue
            t = as_tensor(t) if not isinstance(t, Tensor) else t
            new.append(BatchedTensor(_moveaxis(t, d % t.ndim, 0), level))
        args2 = tree_unflatten(new, spec)
        _state.level = level
        _state.warned.append(set())
        with _lock:
            _running[0] += 1
        try:
            out = func(*args2, **kwargs)
        except _RawAccess as e:
            out = None
            op = _raw_op_name(e.__traceback__)
        finally:
            _state.level = level - 1
            _state.warned.pop()
            with _lock:
                _running[0] -= 1
        if out is None:
            return _whole_loop(func, op, leaves, spec, dims, size, kwargs, out_dims)
        return _unbatch_outputs(out, out_dims, level, size, func)

    return wrapped


def _raw_op_name(tb):
    """The tapegrad function that read a batched tensor's value (for the warning)."""
    import os

    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    name = None
    while tb is not None:
        code = tb.tb_frame.f_code
        path = os.path.abspath(code.co_filename)
        if path.startswith(here) and os.sep + "func" + os.sep not in path[len(here):]:
            name = tb.tb_frame.f_locals.get("name") if code.co_name == "fn" else code.co_name
            break
        tb = tb.tb_next
    return name or "an op"


def _whole_loop(func, op, leaves, spec, dims, size, kwargs, out_dims):
    """No batching rule reached: run ``func`` once per example (one warning)."""
    warnings.warn(f"There is a performance drop because we have not yet implemented the "
                  f"batching rule for {op}. tapegrad runs the function once per example (a "
                  "Python loop over the batch).", UserWarning, stacklevel=3)
    from ..ops.record import as_tensor

    results = []
    for b in range(size):
        new = []
        for t, d in zip(leaves, dims):
            if d is None:
                new.append(t)
                continue
            t = as_tensor(t) if not isinstance(t, Tensor) else t
            new.append(_call("getitem", _M.getitem, t, (slice(None),) * (d % t.ndim) + (b,)))
        results.append(func(*tree_unflatten(new, spec), **kwargs))
    outs, ospec = tree_flatten(results[0])
    cols = [tree_flatten(r)[0] for r in results]
    odims = _broadcast_prefix(out_dims, results[0], "out_dims")
    res = []
    for j, (o, d) in enumerate(zip(outs, odims)):
        if not isinstance(o, Tensor):
            raise ValueError(f"vmap({getattr(func, '__name__', 'f')}, ...): `"
                             f"{getattr(func, '__name__', 'f')}` must only return Tensors, got "
                             f"type {type(o)}.")
        if d is None:
            res.append(o)
            continue
        res.append(_call("stack", _J.stack, [c[j] for c in cols], d % (o.ndim + 1)))
    return tree_unflatten(res, ospec)


def _unbatch_outputs(out, out_dims, level, size, func):
    leaves, spec = tree_flatten(out)
    dims = _broadcast_prefix(out_dims, out, "out_dims")
    res = []
    for t, d in zip(leaves, dims):
        if not isinstance(t, Tensor):
            raise ValueError(f"vmap({getattr(func, '__name__', 'f')}, ...): `"
                             f"{getattr(func, '__name__', 'f')}` must only return Tensors, got "
                             f"type {type(t)}. Did you mean to set out_dims= to None for "
                             "output?")
        if type(t) is BatchedTensor and t._vmap_level == level:
            p = t._phys
        elif d is None:
            res.append(t)
            continue
        else:
            p = _call("expand", _M.expand, _call("unsqueeze", _M.unsqueeze, t, 0),
                      (size,) + tuple(t.shape))
        if d is None:
            raise ValueError("vmap: out_dims=None for an output that is batched")
        res.append(_moveaxis(p, d % p.ndim, 0) if d % p.ndim == 0 else
                   _moveaxis(p, 0, d % p.ndim))
    return tree_unflatten(res, spec)


# ---- gradients of batched tensors (installed into tg.autograd.grad) -----------------------

def batched_grad(grad, outputs, inputs, grad_outputs, **kw):
    """``tg.autograd.grad`` where some tensors are batched: examples are independent, so a
    backward of the physical tensors gives every example's gradient; an input not batched at
    the level where an output or seed is batched needs one backward per example."""
    outs, ins = list(outputs), list(inputs)
    gos = list(grad_outputs) if grad_outputs is not None else [None] * len(outs)
    level = _level_of(outs + ins + gos)
    ob = [_unwrap(level, o)[1] for o in outs]
    ib = [_unwrap(level, t)[1] for t in ins]
    gb = [g is not None and _unwrap(level, g)[1] for g in gos]
    if all(ib) or not (any(ob) or any(gb)):
        new_o, new_g = [], []
        for o, g, b, bg in zip(outs, gos, ob, gb):
            if not b:
                if bg or any(ob):
                    continue  # does not depend on the batched inputs
                new_o.append(o)
                new_g.append(g)
                continue
            p = o._phys
            if bg:
                gp = g._phys
            elif g is None:
                gp = _full_like(p, 1.0)
            else:
                gp = _call("expand", _M.expand, _call("unsqueeze", _M.unsqueeze, g, 0),
                           tuple(p.shape))
            new_o.append(p)
            new_g.append(gp)
        new_i = [_unwrap(level, t)[0] for t in ins]
        if not new_o:
            res = [None] * len(ins)
        else:
            kw2 = dict(kw, allow_unused=True, materialize_grads=False)
            res = list(grad(new_o, new_i, new_g, **kw2))
        out = []
        for r, b, t in zip(res, ib, ins):
            if r is None:
                if not kw.get("allow_unused") and not kw.get("materialize_grads"):
                    raise RuntimeError("One of the differentiated Tensors appears to not have "
                                       "been used in the graph. Set allow_unused=True if this "
                                       "is the desired behavior.")
                if kw.get("materialize_grads"):
                    from ..creation import zeros_like

                    r = zeros_like(t)
                out.append(r)
                continue
            out.append(BatchedTensor(r, level) if b else r)
        return tuple(out)
    # some input is shared by the examples: one backward per example
    leaves = outs + gos
    n = _bsize(level, [t for t in leaves + ins if t is not None])
    new_i = [_unwrap(level, t)[0] for t in ins]
    rows = []
    kw2 = dict(kw, retain_graph=True)
    for b in range(n):
        o_b = [_at(level, o, b) for o in outs]
        g_b = [None if g is None else _at(level, g, b) for g in gos]
        r = grad(o_b, new_i, g_b, **kw2)
        rows.append(tuple(None if x is None else (_at_phys(x, b) if bi else x)
                          for x, bi in zip(r, ib)))
    out = []
    for j in range(len(ins)):
        col = [r[j] for r in rows]
        if all(c is None for c in col):
            out.append(None)
            continue
        from ..creation import zeros_like

        col = [zeros_like(ins[j]) if c is None else c for c in col]
        out.append(BatchedTensor(_call("stack", _J.stack, col, 0), level))
    return tuple(out)


def _at_phys(x, b):
    return _call("getitem", _M.getitem, x, b)


def _full_like(p, value):
    """A tensor of ``value`` with the structure of ``p`` (batched at the same levels)."""
    if type(p) is BatchedTensor:
        return BatchedTensor(_full_like(p._phys, value), p._vmap_level)
    from ..creation import full

    return full(p.shape, value, dtype=p.dtype)


def like(t, value=0.0, requires_grad=False):
    """A leaf of ``value`` batched like ``t`` (a plain tensor for a plain ``t``)."""
    out = _full_like(t, value)
    if requires_grad:
        leaf = out
        while type(leaf) is BatchedTensor:
            leaf = leaf._phys
        leaf.requires_grad_()
    return out


def is_batched(t):
    return type(t) is BatchedTensor


def unwrap_all(t):
    while type(t) is BatchedTensor:
        t = t._phys
    return t


_ = _gm  # grad mode is read by the ops the rules call
