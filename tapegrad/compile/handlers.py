"""One handler per observed op: the eager call has run; emit the nodes that compute its result.

``handle(tracer, name, args, result)``: ``args`` maps the op's parameter names to what the
eager call received, ``result`` is what it returned. An op without a handler rejects the trace.
"""

import numpy as np

from ..ops.index_keys import ints_first
from ..ops.numpy_rules import weak_scalar
from ..tensor import Tensor
from . import (
    arg_nodes,
    attention_nodes,
    avg_pool_nodes,
    bag_nodes,
    bce_nodes,
    clamp_var,
    clip_nodes,
    composed_nodes,
    conv_nodes,
    conversions,
    cumsum_nodes,
    flip_nodes,
    gather_nodes,
    ir,
    losses,
    mask_nodes,
    one_hot_nodes,
    max_dim_nodes,
    max_pool_nodes,
    repeat_nodes,
    take_nodes,
    xlogy_nodes,
)
from .ir import Unsupported

_NUMBER = (bool, int, float)


def _is_number(x):
    return isinstance(x, _NUMBER) and not isinstance(x, np.generic)


# ---- elementwise ----

_CONST_FORMS = {  # (op, tensor on the left) -> node over the tensor and constant c
    ("add", False): ("addc", 1), ("add", True): ("addc", 1),
    ("sub", False): ("addc", -1), ("sub", True): ("rsubc", 1),
    ("mul", False): ("mulc", 1), ("mul", True): ("mulc", 1),
    ("div", False): ("divc", 1), ("div", True): ("rdivc", 1),
    ("pow", False): ("powc", 1), ("pow", True): ("rpowc", 1),
}


def _in(tr, x, result):
    """Value id of operand ``x`` in ``result``'s dtype: the eager op computed in its result's
    dtype under PyTorch's promotion (``int64 * float32`` in float32), where the program's NumPy
    evaluation would promote operands of other dtypes its own way (to float64)."""
    vid = tr.v(x)
    dt = getattr(result, "dtype", None)
    if dt is None or tr.g.dtype(vid) == dt:
        return vid
    return tr.e("astype", (vid,), dtype=dt)


def binary(tr, name, x, y, result):
    x, y = weak_scalar(x), weak_scalar(y)  # (NumPy scalar numbers: constants, as the op reads)
    if _is_number(y) and isinstance(x, Tensor):
        op, sign = _CONST_FORMS[(name, False)]
        tr.elementwise(result, op, (_in(tr, x, result),), name, c=-y if sign < 0 else y)
    elif _is_number(x) and isinstance(y, Tensor):
        op, sign = _CONST_FORMS[(name, True)]
        tr.elementwise(result, op, (_in(tr, y, result),), name, c=x)
    elif name == "pow":
        raise Unsupported("pow with a tensor exponent")
    else:
        tr.elementwise(result, name, (_in(tr, x, result), _in(tr, y, result)), name)


def compare(tr, name, x, y, result):
    tr.elementwise(result, name, (tr.v(x), tr.v(y)), name)


def unary(tr, name, x, result):
    tr.elementwise(result, name, (tr.v(x),), name)


# ---- linear algebra, reductions, movement ----

def matmul(tr, x, y, result):
    a, b = tr.v(x), tr.v(y)
    sa, sb = tr.g.shape(a), tr.g.shape(b)
    if not sa or not sb:
        raise Unsupported("matmul of a 0-d tensor")
    if len(sa) == 1:
        a = tr.e("reshape", (a,), shape=(1,) + sa)
    if len(sb) == 1:
        b = tr.e("reshape", (b,), shape=sb + (1,))
    vid = tr.e("matmul", (a, b), **({"vectors": True} if len(sa) == len(sb) == 1 else {}))
    if len(sa) == 1 or len(sb) == 1:
        vid = tr.e("reshape", (vid,), shape=result.shape)
    tr.out(result, vid, "matmul")


def _axis(dim, ndim):
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        return None
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    return tuple(sorted(d % max(ndim, 1) for d in dims))


def reduce_sum(tr, x, dim, keepdim, dtype, result, mean=False):
    if dtype is not None:
        raise Unsupported("sum/mean with dtype")
    a = tr.v(x)
    shape = tr.g.shape(a)
    axis = _axis(dim, len(shape))
    if not shape:
        vid = tr.e("copy", (a,)) if not mean else tr.e("divc", (a,), c=1)
    else:
        half = mean and tr.g.dtype(a) == np.float16  # (eager's float32 mean, rounded once)
        if half:
            a = tr.e("astype", (a,), dtype=np.dtype(np.float32))
        vid = tr.e("sum", (a,), axis=axis, keepdims=bool(keepdim))
        if mean:
            n = int(np.prod([shape[d] for d in (axis if axis is not None else range(len(shape)))]))
            vid = tr.e("divc", (vid,), c=n if n else float("nan"))
        if half:
            vid = tr.e("astype", (vid,), dtype=np.dtype(np.float16))
    tr.out(result, vid, "mean" if mean else "sum")


def logsumexp(tr, x, dim, keepdim, result):
    a = tr.v(x)
    tr.out(result, tr.e("logsumexp", (a,), axis=_axis(dim, len(tr.g.shape(a))),
                        keepdims=bool(keepdim)), "logsumexp")


def extremum(tr, name, x, dim, keepdim, result):
    if not isinstance(result, Tensor):
        return max_dim_nodes.max_dim(tr, name, x, dim, keepdim, result)
    a = tr.v(x)
    op = "amax" if name in ("max", "amax") else "amin"
    dim = None if dim == () else dim
    tr.out(result, tr.e(op, (a,), axis=_axis(dim, len(tr.g.shape(a))),
                        keepdims=bool(keepdim)), name)


def log_softmax(tr, x, dim, dtype, result, name):
    """``x - logsumexp(x, dim, keepdim=True)`` (softmax: its exp)."""
    if dtype is not None:
        raise Unsupported(f"{name} with dtype")
    a = tr.v(x)
    axis = _axis(dim, len(tr.g.shape(a)))
    vid = tr.e("sub", (a, tr.e("logsumexp", (a,), axis=axis, keepdims=True)))
    if name == "softmax":
        vid = tr.e("exp", (vid,))
    tr.out(result, vid, name)


def reshape_like(tr, x, result, name):
    a = tr.v(x)
    vid = tr.e("reshape", (a,), shape=tuple(result.shape))
    if result._base is not None:
        tr.viewed.add(id(x))
    tr.out(result, vid, name)


def broadcast(tr, x, result, name):
    a = tr.v(x)
    vid = tr.e("broadcast_to", (a,), shape=tuple(result.shape))
    tr.viewed.add(id(x))
    tr.out(result, vid, name)


def permute(tr, x, axes, result, name):
    a = tr.v(x)
    n = len(tr.g.shape(a))
    axes = tuple(int(d) % n for d in axes)
    tr.viewed.add(id(x))
    tr.out(result, tr.e("permute", (a,), axes=axes), name)


def transpose(tr, x, d0, d1, result):
    n = x.ndim
    axes = list(range(n))
    if n:
        d0, d1 = d0 % n, d1 % n
        axes[d0], axes[d1] = axes[d1], axes[d0]
    permute(tr, x, axes, result, "transpose")


def list_key(key):
    """Whether eager reads the list ``key`` as a tuple of indices (PyTorch's rule for a list
    holding sequences, tensors, slices, None or Ellipsis), which a trace does not follow."""
    return any(k is None or k is Ellipsis or isinstance(k, (Tensor, list, tuple, np.ndarray,
                                                              slice)) for k in key)


def _key_part(tr, k):
    if isinstance(k, Tensor):
        if id(k) in tr.cur and tr.g.nodes[tr.g.producer[tr.cur[id(k)]]].op != "const":
            raise Unsupported("indexing with a tensor computed in the function")
        if id(k) not in tr.cur and id(k) not in tr.candidates:
            # made by no op the tracer saw: positions NumPy computed from tensor values
            # (np.argsort(x), np.nonzero(x), np.sort's own), which a replay must not bake in
            raise Unsupported("indexing with positions computed from tensor values (np.argsort, "
                              "np.nonzero, np.sort, np.median ... of a tensor)")
        arr = np.asarray(k._data)
        if arr.dtype == np.uint8:  # (a mask to PyTorch and eager)
            raise Unsupported("a uint8 tensor index")
    elif isinstance(k, np.ndarray):
        if id(k) in tr.cur:
            raise Unsupported("indexing with an array argument")
        arr = k
    elif isinstance(k, list):
        arr = np.asarray(k)
    else:
        return k
    if arr.dtype == np.bool_:
        raise Unsupported("a boolean mask inside a tuple index")
    hit = tr.candidates.get(id(k))
    baked = np.array(arr)
    tr.key_arrays.append((hit[1] if hit is not None else None, baked))
    return baked


def getitem(tr, x, key, result):
    a = tr.v(x)
    if isinstance(key, Tensor) and key.dtype == np.bool_ or \
            isinstance(key, np.ndarray) and key.dtype == np.bool_:
        m = tr.v(key)
        count = tr.e("count", (m,))
        tr.g.effect("guard", (count,), expected=tr.g.val[count], why="the size of a mask")
        tr.out(result, tr.e("mask_select", (a, m)), "mask indexing")
        return
    if type(key) is list and list_key(key):
        raise Unsupported("a list of sequences as an index")
    hit = take_nodes.value_key(tr, key)
    if hit is not None:  # positions that are a value of the program: read on each replay
        return take_nodes.getitem(tr, x, hit[0], hit[1], result)
    items = key if isinstance(key, tuple) else (key,)
    items = tuple(_key_part(tr, k) for k in items)
    split = ints_first(items)
    if split is not None:  # integers among arrays select first, as in eager (PyTorch's rule)
        a = tr.e("getitem", (a,), key=split[0] + (Ellipsis,))
        items = split[1]
    if any(k is Ellipsis for k in items) or all(not isinstance(k, np.ndarray) for k in items):
        items = items + (Ellipsis,) if Ellipsis not in items else items
    if result._base is not None:
        tr.viewed.add(id(x))
    tr.out(result, tr.e("getitem", (a,), key=items), "indexing")


def pieces(tr, x, dim, result, name):
    """``chunk``/``split``/``unbind``: each piece is indexing along ``dim`` (a slice, or one
    position for ``unbind``), its extent read from the eager piece."""
    a = tr.v(x)
    shape = tr.g.shape(a)
    if not isinstance(result, (tuple, list)) or not shape:
        raise Unsupported(f"{name} of a 0-d tensor")
    d, at = dim % len(shape), 0
    for piece in result:
        if name == "unbind":
            part = at
            at += 1
        else:
            part = slice(at, at + piece.shape[d])
            at += piece.shape[d]
        if piece._base is not None:
            tr.viewed.add(id(x))
        tr.out(piece, tr.e("getitem", (a,), key=(slice(None),) * d + (part, Ellipsis)), name)


def cat(tr, tensors, dim, result):
    vids = [_in(tr, t, result) for t in tensors]
    nd = len(tr.g.shape(vids[0]))
    tr.out(result, tr.e("cat", vids, axis=dim % nd), "cat")


def cumprod(tr, x, dim, result):
    """A cumulative product as a doubling scan, ``y[i] *= y[i - s]`` for s = 1, 2, 4, ...
    (log2(n) products of slices, which the compiled step has; the eager op is one record)."""
    if x.dtype.kind != "f":
        raise Unsupported("cumprod of a non-float tensor")
    y = tr.v(x)
    shape = tr.g.shape(y)
    d, n, s = dim % len(shape), shape[dim % len(shape)], 1
    if n < 2:
        return tr.out(result, tr.e("copy", (y,)), "cumprod")

    def part(v, lo, hi):
        return tr.e("getitem", (v,), key=(slice(None),) * d + (slice(lo, hi), Ellipsis))

    while s < n:
        tail = tr.e("mul", (part(y, s, n), part(y, 0, n - s)))
        y = tr.e("cat", (part(y, 0, s), tail), axis=d)
        s *= 2
    tr.out(result, y, "cumprod")


def stack(tr, tensors, dim, result):
    vids = [_in(tr, t, result) for t in tensors]
    shape = tr.g.shape(vids[0])
    axis = dim % (len(shape) + 1)
    new = shape[:axis] + (1,) + shape[axis:]
    parts = [tr.e("reshape", (v,), shape=new) for v in vids]
    tr.out(result, tr.e("cat", parts, axis=axis), "stack")


def stack_rows(tr, rows, shape, result):
    """The rows of a Jacobian (``autograd.functional``) stacked and reshaped to ``shape``."""
    if not rows:
        raise Unsupported("a Jacobian without rows")
    parts = [tr.e("reshape", (tr.v(r),), shape=(1,) + tuple(r.shape)) for r in rows]
    vid = tr.e("cat", parts, axis=0) if len(parts) > 1 else parts[0]
    tr.out(result, tr.e("reshape", (vid,), shape=tuple(shape)), "the rows of a Jacobian")


def einsum(tr, equation, operands, result):
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = operands[0]
    spec = equation.replace(" ", "")
    if "->" not in spec:
        raise Unsupported("einsum without an explicit output")
    tr.out(result, tr.e("einsum", [tr.v(o) for o in operands], spec=spec), "einsum")


def where(tr, condition, x, y, result):
    tr.out(result, tr.e("where", (tr.v(condition), _in(tr, x, result), _in(tr, y, result))),
           "where")


def factory(tr, args, result, name):
    if args.get("requires_grad"):
        raise Unsupported(f"{name}(requires_grad=True) inside the function")
    data = args.get("data", args.get("obj", args.get("arr")))  # (from_numpy's is ``arr``)
    if isinstance(data, (Tensor, np.ndarray)):
        if id(data) not in tr.cur:
            raise Unsupported(f"{name}() of an array the tracer does not see")
        src = tr.v(data)
        if not result.requires_grad:  # (tensor(t)/t.new_tensor(x) copy without history)
            src = tr.g.emit("detach", (src,), False)
        tr.out(result, tr.e("astype", (src,), dtype=result.dtype), name)
        return
    if any(_hidden(tr, v) for k, v in args.items() if k not in ("input", "self")):
        # (a *_like's model, a new_*'s tensor)
        # the value becomes a constant of the program: a tensor inside a list or a fill value
        # would be baked in unguarded
        raise Unsupported(f"{name}() of a tensor in a list or as the fill value (it would be "
                          "baked in)")
    if not isinstance(result, Tensor):
        raise Unsupported(f"{name} returned a {type(result).__name__}")
    value = result._data
    vid = tr.g.emit("const", (), False, value=value if type(value) is float else np.array(value))
    tr.out(result, vid, name)


def reads_arrays(tr):
    """Whether the function can read NumPy arrays (arguments or captured): a NumPy scalar may
    then be computed from one by NumPy, out of the tracer's sight, and must not be baked in."""
    return any(type(o) is np.ndarray for o, _ in tr.candidates.values())


def _captured_value(tr, v):
    """Whether ``v`` is a captured scalar the replay guards by value (a constant computed
    before the function, as a GMM's normalising constant), not one computed inside it."""
    return any(v is o for _, o in tr.values)


def _hidden(tr, v):
    """Whether ``v`` holds a value that a constant would bake in unguarded: a tensor or array
    (inside a list), or a NumPy scalar that may come from an array (``reads_arrays``)."""
    if isinstance(v, (list, tuple)):
        return any(_hidden(tr, x) for x in v)
    return isinstance(v, (Tensor, np.ndarray)) or isinstance(v, np.generic) and reads_arrays(tr)


def clone(tr, x, result):
    tr.out(result, tr.e("copy", (tr.v(x),)), "clone")


def detach(tr, x, result):
    tr.viewed.add(id(x))
    a = tr.v(x)
    tr.out(result, tr.g.emit("detach", (a,), False), "detach")


# ---- reading values into Python: guards ----

def guard(tr, x, result, name):
    a = tr.v(x)
    if type(tr.g.val[a]) is not float and tr.g.val[a].size != 1:
        raise Unsupported(f"{name} of a tensor with more than one element")
    item = tr.e("item", (a,))
    if name == "__bool__":
        expected = bool(result)
    else:
        expected = result
    tr.g.effect("guard", (item,), expected=expected, kind=name,
                why=f"{name.strip('_')}() of a tensor")


# ---- dispatch ----

_UNARY = set(ir.UNARY) - {"posmask"}
_BINARY = {"add", "sub", "mul", "div", "pow", "true_divide", "multiply", "subtract"}
_ALIASES = {"true_divide": "div", "multiply": "mul", "subtract": "sub", "__matmul__": "matmul",
            "mm": "matmul", "__getitem__": "getitem", "concat": "cat", "concatenate": "cat",
            "view": "reshape", "arctan": "atan", "absolute": "abs", "negative": "neg"}
_COMPARE = set(ir.COMPARE)
_FACTORIES = {"factory", "zeros", "ones", "empty", "full", "zeros_like", "ones_like",
              "full_like", "empty_like", "eye", "arange", "linspace", "tensor", "as_tensor",
              "from_numpy", "new_zeros", "new_ones", "new_empty", "new_full", "new_tensor"}
_INPLACE = {"add_", "sub_", "mul_", "div_", "zero_", "fill_", "copy_", "subtract_",
            "multiply_", "divide_", "true_divide_"}
_GUARDS = {"item", "__bool__", "__float__", "__int__", "__index__"}


def _backward_fn(tr, name, a, result):
    if "self" in a:
        return backward(tr, a["self"], a["gradient"], a["retain_graph"], a["create_graph"],
                        a["inputs"], result)
    if not isinstance(a["tensors"], Tensor):
        raise Unsupported("autograd.backward of several tensors")
    gt = a["grad_tensors"]
    backward(tr, a["tensors"], gt[0] if isinstance(gt, (tuple, list)) else gt,
             a["retain_graph"], a["create_graph"], a["inputs"], result)


def _grad_fn(tr, name, a, result):
    if "outputs" not in a:
        raise Unsupported("tg.grad (the function transform)")
    autograd_grad(tr, a, result)


def _permute_fn(tr, name, a, result):
    dims = a["order"] if a.get("dims") is None else (a["dims"],)  # (x.permute(dims=...))
    permute(tr, _first(a, "x", "input"),
            dims[0] if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims, result,
            "permute")


def _ignore(tr, name, a, result):
    pass


def _first(a, *names):
    for n in names:
        if n in a:
            return a[n]
    raise KeyError(names[0])


_DISPATCH = {
    "cumprod": lambda tr, n, a, r: cumprod(tr, a["input"], a["dim"], r),
    "square": lambda tr, n, a, r: tr.out(r, tr.e("powc", (tr.v(a["input"]),), c=2), n),
    "matmul": lambda tr, n, a, r: matmul(tr, _first(a, "x", "input"),
                                         _first(a, "y", "other", "mat2"), r),
    "sum": lambda tr, n, a, r: reduce_sum(tr, a["x"], a["dim"], a["keepdim"], a["dtype"], r),
    "mean": lambda tr, n, a, r: reduce_sum(tr, a["x"], a["dim"], a["keepdim"], a["dtype"], r,
                                           True),
    "logsumexp": lambda tr, n, a, r: logsumexp(tr, a["input"], a["dim"], a["keepdim"], r),
    "permute": _permute_fn,
    "log_softmax": lambda tr, n, a, r: log_softmax(tr, a["input"], a["dim"], a["dtype"], r, n),
    "softmax": lambda tr, n, a, r: log_softmax(tr, a["input"], a["dim"], a["dtype"], r, n),
    "max": lambda tr, n, a, r: extremum(tr, n, a["input"], a["dim"], a["keepdim"], r),
    "min": lambda tr, n, a, r: extremum(tr, n, a["input"], a["dim"], a["keepdim"], r),
    "amax": lambda tr, n, a, r: extremum(tr, n, a["input"], a["dim"], a["keepdim"], r),
    "amin": lambda tr, n, a, r: extremum(tr, n, a["input"], a["dim"], a["keepdim"], r),
    "transpose": lambda tr, n, a, r: transpose(tr, _first(a, "x", "input"), a["dim0"],
                                               a["dim1"], r),
    "mT.get": lambda tr, n, a, r: transpose(tr, a["self"], -2, -1, r),
    "getitem": lambda tr, n, a, r: getitem(tr, a["x"], a["key"], r),
    "cat": lambda tr, n, a, r: cat(tr, a["tensors"], a["dim"], r),
    "chunk": lambda tr, n, a, r: pieces(tr, a["input"], a["dim"], r, n),
    "split": lambda tr, n, a, r: pieces(tr, a["tensor"], a["dim"], r, n),
    "unbind": lambda tr, n, a, r: pieces(tr, a["input"], a["dim"], r, n),
    "stack": lambda tr, n, a, r: stack(tr, a["tensors"], a["dim"], r),
    "stack_rows": lambda tr, n, a, r: stack_rows(tr, a["rows"], a["shape"], r),
    "einsum": lambda tr, n, a, r: einsum(tr, a["equation"], a["operands"], r),
    "where": lambda tr, n, a, r: where(tr, a["condition"], _first(a, "x", "input"),
                                       _first(a, "y", "other"), r),
    "clone": lambda tr, n, a, r: clone(tr, _first(a, "x", "input", "self"), r),
    "backward": _backward_fn,
    "requires_grad_": lambda tr, n, a, r: requires_grad_(tr, a["self"], a["requires_grad"], r),
    "grad": _grad_fn,
    "grad.get": lambda tr, n, a, r: grad_get(tr, a["self"], r),
    "grad.set": lambda tr, n, a, r: grad_set(tr, a["self"], a["value"]),
    "__setitem__": lambda tr, n, a, r: setitem(tr, a["x"], a["key"], a["value"], r),
    "nll_loss": losses.nll_loss,
    "cross_entropy": losses.cross_entropy,
    "xlogy": xlogy_nodes.handler("xlogy"),
    "embedding": take_nodes.embedding,
    "index_select": take_nodes.index_select,
    "clip_grad_norm_": clip_nodes.clip_grad_norm,
    "conv1d": conv_nodes.convolution,
    "conv2d": conv_nodes.convolution,
    "conv3d": conv_nodes.convolution,
    "max_pool1d": max_pool_nodes.max_pool,
    "max_pool2d": max_pool_nodes.max_pool,
    "max_pool3d": max_pool_nodes.max_pool,
    "avg_pool1d": avg_pool_nodes.avg_pool,
    "avg_pool2d": avg_pool_nodes.avg_pool,
    "avg_pool3d": avg_pool_nodes.avg_pool,
    "binary_cross_entropy": bce_nodes.binary_cross_entropy,
    "clamp": clamp_var.clamp_handler,
    "clip": clamp_var.clamp_handler,
    "var": clamp_var.var_handler,
    "std": clamp_var.var_handler,
    "to": conversions.convert,
    "double": conversions.convert,
    "float": conversions.convert,
    "half": conversions.convert,
    "long": conversions.convert,
    "int": conversions.convert,
    "bool": conversions.convert,
    "xlog1py": xlogy_nodes.handler("xlog1py"),
    **mask_nodes.HANDLERS,
    **cumsum_nodes.HANDLERS,
    **attention_nodes.HANDLERS,
    **arg_nodes.HANDLERS,
    **composed_nodes.HANDLERS,
    **bag_nodes.HANDLERS,
    **flip_nodes.HANDLERS,
    **gather_nodes.HANDLERS,
    **one_hot_nodes.HANDLERS,
    **repeat_nodes.HANDLERS,
}


def _binary_fn(op):
    return lambda tr, n, a, r: binary(tr, op, _first(a, "x", "input"),
                                      _first(a, "y", "other", "exponent"), r)


for _n in _BINARY:
    _DISPATCH[_n] = _binary_fn(_ALIASES.get(_n, _n))
for _n in _UNARY:
    _DISPATCH[_n] = lambda tr, n, a, r: unary(tr, n, _first(a, "x", "input"), r)
for _n in _COMPARE:
    _DISPATCH[_n] = lambda tr, n, a, r: compare(tr, n, _first(a, "x", "input"),
                                                _first(a, "y", "other"), r)
for _n in ("reshape", "flatten", "squeeze", "unsqueeze"):
    _DISPATCH[_n] = lambda tr, n, a, r: reshape_like(tr, _first(a, "x", "input"), r, n)
for _n in ("expand", "broadcast_to"):
    _DISPATCH[_n] = lambda tr, n, a, r: broadcast(tr, _first(a, "x", "input"), r, n)
for _n in ("t", "T.get"):
    _DISPATCH[_n] = lambda tr, n, a, r: permute(
        tr, _first(a, "x", "self"), tuple(reversed(range(_first(a, "x", "self").ndim))), r, n)
for _n in _FACTORIES:
    _DISPATCH[_n] = lambda tr, n, a, r: factory(tr, a, r, n)
for _n in ("detach", "data.get"):
    _DISPATCH[_n] = lambda tr, n, a, r: detach(tr, a["self"], r)
for _n in _GUARDS:
    _DISPATCH[_n] = lambda tr, n, a, r: guard(tr, a["self"], r, n)
for _n in _INPLACE:
    _DISPATCH[_n] = lambda tr, n, a, r: inplace(
        tr, n, a["x"], a.get("other", a.get("value", a.get("src"))), r, a.get("alpha", 1))


def _resolve(name):
    from .trace import _SAFE, ISLANDS

    base = _ALIASES.get(name, name)
    if base in _DISPATCH:
        return _DISPATCH[base]
    if base in _SAFE or base.endswith(".get") and base[:-4] in _SAFE:
        return _ignore
    if base.endswith(".zero_grad"):
        return lambda tr, n, a, r: zero_grad(tr, a["self"], a["set_to_none"])
    if base in ISLANDS or base.endswith(".step"):
        return lambda tr, n, a, r: island(tr, n, a, r)

    def unsupported(tr, n, a, r):
        raise Unsupported(f"{n} is not supported by tg.compile yet")

    return unsupported


def handle(tr, name, a, result):
    """Emit the nodes of op ``name`` (its arguments ``a``, its eager ``result``)."""
    h = _DISPATCH.get(name)
    if h is None:
        h = _DISPATCH[name] = _resolve(name)
    if any(isinstance(v, np.generic) and not _captured_value(tr, v) for v in a.values()) and \
            reads_arrays(tr):
        raise Unsupported("a NumPy scalar reached an op (made from an array?): it would be "
                          "baked in")
    h(tr, _ALIASES.get(name, name), a, result)


from .effects import (  # noqa: E402 - effects imports this module's names
    autograd_grad,
    backward,
    grad_get,
    grad_set,
    inplace,
    island,
    requires_grad_,
    setitem,
    zero_grad,
)
