"""Batching rules: each op family on physical tensors with the batch dim first."""

import numpy as np

from ..ops import elementwise as _E
from ..ops import extra as _X
from ..ops import join as _J
from ..ops import linalg as _L
from ..ops import movement as _M
from ..ops import reduce as _R
from ..tensor import Tensor, _make
from .batched import (RULES, BatchedTensor, _bsize, _call, _level_of, _lnd, _reshape, _unwrap,
                      _wrap, dispatch)
from .pytree import tree_flatten, tree_unflatten


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


def _rule_flip(level, name, raw, x, *args, dims=None):
    p, b, nd = _first(level, x)
    if not b:
        return NotImplemented
    dims = (args[0] if len(args) == 1 else args) if dims is None else dims  # (x.flip(0, 1))
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
                "logical_not bitwise_and bitwise_or bitwise_xor bitwise_not bitwise_left_shift "
                "bitwise_right_shift true_divide subtract multiply divide "
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



# ---- the tensor functions of ops/extra.py: inverse trig, erf, index ops, sort ---------------
# (one block, appended to the table above)

def _batched_at(level, values):
    return any(type(v) is BatchedTensor and v._vmap_level == level for v in values)


def _rule_along_dim(pos, default):
    """Ops on one batched input and a dim (positional ``pos`` or keyword ``dim``): the dim
    moves one place right; other arguments must not be batched."""

    def rule(level, name, raw, args, kwargs):
        x, b = _unwrap(level, args[0])
        if not b or _batched_at(level, list(args[1:]) + list(kwargs.values())):
            return NotImplemented
        nd = len(x.shape) - 1
        args, kwargs = list(args), dict(kwargs)
        dim = kwargs["dim"] if "dim" in kwargs else args[pos] if len(args) > pos else default
        if dim is None or nd == 0:
            return NotImplemented
        if "dim" in kwargs or len(args) <= pos:
            kwargs["dim"] = _shift(dim, nd)
        else:
            args[pos] = _shift(dim, nd)
        args[0] = x
        return _wrap(level, dispatch(name, raw, tuple(args), kwargs))

    return rule


def _flat(p):
    return _reshape(p, (p.shape[0], -1))


def _rule_median(level, name, raw, args, kwargs):
    dim = kwargs.get("dim", args[1] if len(args) > 1 else None)
    if dim is not None:
        return _rule_along_dim(1, None)(level, name, raw, args, kwargs)
    x, b = _unwrap(level, args[0])
    if not b:
        return NotImplemented
    flat = _flat(x)
    values = _call(name, raw, flat, 1).values
    if type(flat) is Tensor:  # each example's ties share its gradient, as median() does
        values = _X.spread_evenly(flat, values.detach().numpy(), dims=(1,))
    return BatchedTensor(values, level)


def _rule_gather(level, name, raw, input, dim, index):
    nd = _lnd(input)
    if nd == 0 or _lnd(index) != nd:
        return NotImplemented
    x, i = _batched_list(level, [input, index])
    return BatchedTensor(_call(name, raw, x, _shift(dim, nd), i), level)


def _rule_take_along_dim(level, name, raw, input, indices, dim=None):
    nd = _lnd(input)
    x, i = _batched_list(level, [input, indices])
    if dim is None:
        return BatchedTensor(_call(name, raw, _flat(x), _flat(i), 1), level)
    if nd == 0 or _lnd(indices) != nd:
        return NotImplemented
    return BatchedTensor(_call(name, raw, x, i, _shift(dim, nd)), level)


def _rule_index_select(level, name, raw, input, dim, index):
    if not _batched_at(level, [index]):
        return _rule_along_dim(1, None)(level, name, raw, (input, dim, index), {})
    nd = _lnd(input)
    if nd == 0 or _lnd(index) > 1:
        return NotImplemented
    # A different index per example: gather with the index spread over the other dims.
    x, i = _batched_list(level, [input, index])
    d = _shift(dim, nd)
    shape = list(x.shape)
    shape[d] = int(np.prod(i.shape[1:], dtype=np.int64))
    view = [x.shape[0]] + [1] * nd
    view[d] = shape[d]
    i = _call("expand", _M.expand, _reshape(i, view), tuple(shape))
    return BatchedTensor(_call("gather", _X.gather, x, d, i), level)


def _rule_scatter(level, name, raw, input, dim, index, src=None, **kwargs):
    nd = _lnd(input)
    if nd == 0 or _batched_at(level, kwargs.values()):
        return NotImplemented
    if isinstance(src, Tensor):
        x, i, s = _batched_list(level, [input, index, src])
    else:
        (x, i), s = _batched_list(level, [input, index]), src
    return BatchedTensor(_call(name, raw, x, _shift(dim, nd), i, s, **kwargs), level)


def _rule_index_add(level, name, raw, input, dim, index, source, **kwargs):
    nd = _lnd(input)
    if nd == 0:
        return NotImplemented
    x, s = _batched_list(level, [input, source, index])[:2]  # (the index alone may be batched)
    d = _shift(dim, nd)
    if not _batched_at(level, [index]):
        return BatchedTensor(_call(name, raw, x, d, index, s, **kwargs), level)
    # an index per example: the batch dim and the example's dim ``dim`` as one dim, each
    # example's indices offset to its own rows (one index_add, the examples' order of sums)
    i = index._phys
    iv = i._data if type(i) is Tensor else None
    n = x.shape[d]
    if type(iv) is not np.ndarray or iv.ndim != 2 or len(s.shape) != nd + 1 or \
            (iv.size and (iv.min() < 0 or iv.max() >= n)):
        return NotImplemented  # (the loop: the call's own checks)
    size, k = iv.shape
    order = [0, d] + [a for a in range(1, nd + 1) if a != d]
    back = tuple(int(a) for a in np.argsort(order))
    xm, sm = (_call("permute", _M.permute, t, tuple(order)) for t in (x, s))
    rest = tuple(xm.shape[2:])
    offset = _make(np.ascontiguousarray((iv + np.arange(size)[:, None] * n).reshape(-1)))
    out = _call(name, raw, _reshape(xm, (size * n,) + rest), 0, offset,
                _reshape(sm, (size * k,) + tuple(sm.shape[2:])), **kwargs)
    return BatchedTensor(_call("permute", _M.permute, _reshape(out, (size, n) + rest), back),
                         level)


def _rule_masked_fill(level, name, raw, input, mask, value):
    if _batched_at(level, [value]):
        return NotImplemented
    nd = _lnd(input)
    if _batched_at(level, [mask]):
        x = _batched_list(level, [input, mask])[0]
        m, _ = _unwrap(level, mask)
        if len(m.shape) - 1 < nd:
            m = _reshape(m, (m.shape[0],) + (1,) * (nd - len(m.shape) + 1) + tuple(m.shape[1:]))
    else:
        x, m = _unwrap(level, input)[0], mask
    return BatchedTensor(_call(name, raw, x, m, value), level)


def _rule_unfold(level, name, raw, x, dimension, size, step):
    """``Tensor.unfold``'s windows along a logical dim: the same dim one further in."""
    p, b, nd = _first(level, x)
    if not b or nd == 0:
        return NotImplemented
    return BatchedTensor(_call(name, raw, p, int(dimension) % nd + 1, size, step), level)


def _rule_repeat(level, name, raw, x, *sizes):
    p, b, nd = _first(level, x)
    sizes = _shape_arg(sizes)
    if not b or len(sizes) < nd:
        return NotImplemented
    p = _reshape(p, (p.shape[0],) + (1,) * (len(sizes) - nd) + tuple(p.shape[1:]))
    return BatchedTensor(_call(name, raw, p, (1,) + sizes), level)


def _rule_repeat_interleave(level, name, raw, input, repeats, dim=None, **kwargs):
    p, b, nd = _first(level, input)
    if not b or _batched_at(level, [repeats]) or kwargs.get("output_size") is not None:
        return NotImplemented
    if dim is None:
        return BatchedTensor(_call(name, raw, _flat(p), repeats, 1), level)
    if nd == 0:
        return NotImplemented
    return BatchedTensor(_call(name, raw, p, repeats, _shift(dim, nd)), level)


for _n in ("atan asin acos sinh cosh asinh acosh atanh atan2 square rsqrt erf erfc xlogy isnan "
           "isinf isfinite nan_to_num isclose").split():
    RULES[_n] = _rule_elementwise
RULES.update(
    sort=_rule_along_dim(1, -1), argsort=_rule_along_dim(1, -1), topk=_rule_along_dim(2, -1),
    kthvalue=_rule_along_dim(2, -1), logcumsumexp=_rule_along_dim(1, None),
    median=_rule_median, gather=_simple(_rule_gather),
    take_along_dim=_simple(_rule_take_along_dim), index_select=_simple(_rule_index_select),
    scatter=_simple(_rule_scatter), scatter_add=_simple(_rule_scatter),
    index_add=_simple(_rule_index_add), masked_fill=_simple(_rule_masked_fill),
    repeat=_simple(_rule_repeat), repeat_interleave=_simple(_rule_repeat_interleave),
    unfold=_simple(_rule_unfold),
)


# ---- the torch-named functions of torch_names/ (rules by family; the others run per example)

for _n in ("floor ceil trunc fix round frac sgn signbit reciprocal log2 log10 exp2 deg2rad "
           "rad2deg sinc logit float_power clip clamp_min clamp_max hypot logaddexp logaddexp2 "
           "copysign fmax fmin fmod remainder floor_divide heaviside logical_xor lerp addcmul "
           "addcdiv absolute negative positive arccos arcsin arctan arccosh arcsinh arctanh "
           "arctan2 greater greater_equal less less_equal not_equal lgamma digamma "
           "erfinv i0 i0e i1 i1e entr ndtri log_ndtr erfcx xlog1py").split():
    RULES[_n] = _rule_elementwise
_REDUCE.update(nansum=(1, "dim", "all"), nanmean=(1, "dim", "all"), all=(1, "dim", "all"),
               any=(1, "dim", "all"), count_nonzero=(1, "dim", "all"),
               cumprod=(1, "dim", None))
for _n in ("nansum", "nanmean", "all", "any", "count_nonzero", "cumprod"):
    RULES[_n] = _rule_reduce


# ---- more torch-named functions: elementwise ones, complex parts, along a dim ---------------

for _n in ("polygamma isposinf isneginf nextafter frexp isreal conj_physical polar angle conj "
           "imag real complex").split():
    RULES[_n] = _rule_elementwise
RULES.update(mode=_rule_along_dim(1, -1), nanmedian=_rule_median,
             ravel=_simple(lambda level, name, raw, x: _rule_flatten(level, name, raw, x)))
