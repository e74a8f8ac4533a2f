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
import types
import warnings

import numpy as np

from .. import grad_mode as _gm
from .. import ops as _ops
from ..ops import join as _J
from ..ops import movement as _M
from ..tensor import Tensor, _make
from .pytree import tree_flatten, tree_unflatten

__all__ = ["vmap", "BatchedTensor", "dispatch"]

from . import (batching_dynamic, batching_linalg, batching_lookup,  # noqa: F401
               batching_losses, batching_rules, batching_sampling, batching_shapes,
               batching_spectral)
from .batched import (_RANDOMNESS, BatchedTensor, _RawAccess, _at, _bsize, _call, _level_of,
                      _running, _state, _unwrap, _ValueRead, close_level, dispatch, next_level,
                      open_level)
from .batching_rules import _batched_list
from .randomness import running as randomness_of
from .inplace_refusal import method_name, text as refusal_text
from .value_reads import (inplace_into_unbatched, inplace_refusal, mask_of_batched_values,
                          raw_op_name, read_by_tapegrad)
from .vmap_args import (NONE_OUT, batch_args, check_out_dims, name_of,
                        nones_as_leaves, out_dim, out_dims_of)


# ---- binding: public functions and Tensor methods -----------------------------------------

def dispatching(name, raw):
    """``raw`` (a public op) made batch-aware: plain arguments go straight to ``raw``."""
    if getattr(raw, "batch_aware", False):  # (the unary ops check for themselves)
        return raw
    if _takes_one_tensor(raw):  # tg.sin(x) ...: no argument packing (~0.2 µs a call)
        @functools.wraps(raw)
        def fn1(input):
            if _running[0] and _state.level:
                return dispatch(name, raw, (input,), {})
            return raw(input)

        fn1.raw, fn1.batch_aware = raw, True
        return fn1

    @functools.wraps(raw)
    def fn(*args, **kwargs):
        if _running[0] and _state.level:
            return dispatch(name, raw, args, kwargs)
        return raw(*args, **kwargs)

    fn.raw, fn.batch_aware = raw, True
    return fn


def dispatch_unary(name, raw, x):
    """What a batch-aware unary op (``ops/elementwise``) calls for an argument that is not a
    plain Tensor while a vmap runs."""
    if _state.level:
        return dispatch(name, raw, (x,), {})
    return raw(x)


def _takes_one_tensor(f):
    """Whether ``f``'s signature is exactly ``(input)`` or ``(x)`` (the unary ops)."""
    if not isinstance(f, types.FunctionType):
        return False
    code = f.__code__
    no_star = not code.co_flags & 0x0C  # neither CO_VARARGS nor CO_VARKEYWORDS
    return code.co_argcount == 1 and code.co_kwonlyargcount == 0 and no_star and \
        code.co_varnames[0] in ("input", "x") and f.__defaults__ is None


_REFLECTED = {"__radd__": "add", "__rsub__": "sub", "__rmul__": "mul", "__rtruediv__": "div",
              "__rpow__": "pow", "__rmatmul__": "matmul", "__rand__": "bitwise_and",
              "__ror__": "bitwise_or", "__rxor__": "bitwise_xor",
              "__rlshift__": "bitwise_left_shift", "__rrshift__": "bitwise_right_shift"}
_OPERATORS = {"__add__": "add", "__sub__": "sub", "__mul__": "mul", "__truediv__": "div",
              "__pow__": "pow", "__matmul__": "matmul", "__neg__": "neg", "__abs__": "abs",
              "__getitem__": "getitem", "__lt__": "lt", "__le__": "le", "__gt__": "gt",
              "__ge__": "ge", "__eq__": "eq", "__ne__": "ne", "__and__": "bitwise_and",
              "__or__": "bitwise_or", "__invert__": "bitwise_not", "__xor__": "bitwise_xor",
              "__lshift__": "bitwise_left_shift", "__rshift__": "bitwise_right_shift",
              "__floordiv__": "floor_divide", "__mod__": "remainder", "__pos__": "positive",
              # (the Tensor's own reflected forms: their rules are elementwise, which take the
              # operands in either order)
              "__rfloordiv__": "floor_divide", "__rmod__": "remainder"}
_INPLACE = {"__iadd__": "add", "__isub__": "sub", "__imul__": "mul", "__itruediv__": "div",
            "__ipow__": "pow", "__ifloordiv__": "floor_divide", "__imod__": "remainder",
            "__iand__": "bitwise_and", "__ior__": "bitwise_or", "__ixor__": "bitwise_xor",
            "__ilshift__": "bitwise_left_shift", "__irshift__": "bitwise_right_shift"}
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
        first = self
        if name != "copy" and _gm.recording() and any(
                isinstance(t, Tensor) and t._rg for t in tree_flatten((self, args))[0]):
            # the op may save its input for backward: a copy, not the tensor written below
            first = BatchedTensor(self._phys.clone(), self._vmap_level)
        out = dispatch(name, raw, (first,) + args, kwargs)
        if type(out) is BatchedTensor and out._vmap_level > self._vmap_level:
            # (an inner vmap's operand written into an outer one's tensor: PyTorch refuses)
            raise RuntimeError(refusal_text(method_name(name + "_", args), out._vmap_level,
                                            out._phys.shape[0], self.shape))
        if type(out) is not BatchedTensor or out._vmap_level != self._vmap_level:
            out = BatchedTensor(_batched_list(self._vmap_level, [out, self])[0],
                                self._vmap_level)
        new, mine = out._phys, self._phys
        if tuple(new.shape) == tuple(mine.shape) and new.dtype == mine.dtype and \
                not (mine.is_leaf and mine.requires_grad):
            mine.copy_(new)  # written in place: a view of it, or the tensor it views, sees it
        else:  # (a leaf that requires grad: the transforms' inputs take the new value as is)
            self._phys = new
        return self

    return m


def _copied(self, src, non_blocking=False):
    """The value ``self.copy_(src)`` gives ``self``: ``src`` in its dtype and shape."""
    from ..ops.record import as_tensor

    src = as_tensor(src) if not isinstance(src, Tensor) else src
    if src.dtype != self.dtype:
        src = src.to(self.dtype)
    return src if tuple(src.shape) == tuple(self.shape) else \
        _call("expand", _M.expand, src, tuple(self.shape))


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
            raw = _copied if attr == "copy_" else \
                getattr(_ops, base, None) or getattr(T, base, None) or raw
            if raw is None:
                continue
            setattr(BatchedTensor, attr, _inplace_method(base, raw))
        elif not attr.startswith("_"):
            setattr(BatchedTensor, attr, _method(attr, f))
    for prop, fn in (("T", lambda s: _call("t", _M.t, s) if s.ndim <= 2 else
                      _call("permute", _M.permute, s, tuple(range(s.ndim - 1, -1, -1)))),
                     ("mT", lambda s: _call("transpose", _M.transpose, s, -2, -1)),
                     ("real", lambda s: _call("real", _ops.real, s)),
                     ("imag", lambda s: _call("imag", _ops.imag, s))):
        setattr(BatchedTensor, prop, property(fn))


_bind_methods()


def _inplace_by(self, fn, name):
    """``inplace=True`` of a functional activation (``nn/inplace_option.py``) on a batched
    tensor: ``fn``'s result written into its examples, as its in-place methods do."""
    return _inplace_method(f"{name}(inplace=True)", fn)(self)


BatchedTensor._inplace_by = _inplace_by


# ---- vmap -----------------------------------------------------------------------------------

def _moveaxis(t, src, dst):
    nd = t.ndim
    if src == dst:
        return t
    order = [i for i in range(nd) if i != src]
    order.insert(dst, src)
    return _call("permute", _M.permute, t, tuple(order))


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """``func`` mapped over a dimension of its inputs (``torch.func.vmap``).

    ``in_dims``: an int, ``None`` (not mapped) or a pytree prefix of the arguments; ``out_dims``
    the same for the outputs. Outputs must be tensors (pytrees of them); an output that does not
    depend on the batch is broadcast. ``randomness`` says what random ops inside ``func`` do: ``'error'`` (raise),
    ``'different'`` (a draw per example) or ``'same'`` (one draw for the batch); see
    ``func/randomness.py``. ``chunk_size`` runs the batch in pieces of that many examples
    (less memory, same result).

    Example:
        >>> import tapegrad as tg
        >>> tg.vmap(lambda v: (v * v).sum())(tg.tensor([[1., 2.], [3., 4.]]))
        tensor([ 5., 25.])
    """
    if randomness not in _RANDOMNESS:
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or "
                           f"'same'. Got {randomness}")
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size <= 0):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got "
                         f"{chunk_size})")
    check_out_dims(out_dims, func)

    @functools.wraps(func)
    def wrapped(*args, **kwargs):
        leaves, spec, dims, size = batch_args(func, in_dims, args)
        if chunk_size is not None and size > chunk_size:
            return _chunked(whole, leaves, spec, dims, size, kwargs)
        return whole(leaves, spec, dims, size, kwargs)

    def _chunked(run, leaves, spec, dims, size, kwargs):
        """The batch in pieces of ``chunk_size`` examples, outputs joined along out_dims. With
        randomness='same' every piece draws the same values (the generator is rewound)."""
        from ..creation import _rng
        from ..ops.record import as_tensor

        state = _rng.bit_generator.state if randomness == "same" else None
        parts = []
        for lo in range(0, size, chunk_size):
            if state is not None:
                _rng.bit_generator.state = state
            piece = []
            for t, d in zip(leaves, dims):
                if d is None:
                    piece.append(t)
                    continue
                t = as_tensor(t) if not isinstance(t, Tensor) else t
                key = (slice(None),) * (d % t.ndim) + (slice(lo, min(lo + chunk_size, size)),)
                piece.append(_call("getitem", _M.getitem, t, key))
            parts.append(run(piece, spec, dims, min(chunk_size, size - lo), kwargs))
        outs, ospec = tree_flatten(parts[0])
        odims = out_dims_of(out_dims, parts[0], func)
        cols = [tree_flatten(p)[0] for p in parts]
        return tree_unflatten([o if d is None else
                               _call("cat", _J.cat, [c[j] for c in cols], d % o.ndim)
                               for j, (o, d) in enumerate(zip(outs, odims))], ospec)

    def whole(leaves, spec, dims, size, kwargs):
        from ..ops.record import as_tensor

        level = next_level()
        op, new = None, []
        for t, d in zip(leaves, dims):
            if d is None:
                new.append(t)
                continue
            t = as_tensor(t) if not isinstance(t, Tensor) else t
            new.append(BatchedTensor(_moveaxis(t, d % t.ndim, 0), level))
        args2 = tree_unflatten(new, spec)
        open_level(level, size)
        try:
            with randomness_of(randomness, level, size):
                out = func(*args2, **kwargs)
        except (_RawAccess, _ValueRead) as e:
            if type(e) is _ValueRead and not read_by_tapegrad(e.__traceback__):
                raise  # (the user's own .item() / bool(): PyTorch's error)
            if inplace_into_unbatched(e.__traceback__, BatchedTensor, level):
                # (once per example, each would write into the one tensor in turn)
                raise RuntimeError(inplace_refusal(e.__traceback__, level, size)) from None
            masked = mask_of_batched_values(e.__traceback__, BatchedTensor)
            if masked:  # (a plain tensor's x[mask] / masked_select by a batched mask)
                raise RuntimeError(batching_dynamic.MASK_ERRORS[masked]) from None
            out = op = (e.args[0] if type(e) is _RawAccess and e.args else
                        raw_op_name(e.__traceback__))
        finally:
            close_level(level)
        if op is not None:
            return _whole_loop(func, op, leaves, spec, dims, size, kwargs, out_dims,
                               randomness)
        return _unbatch_outputs(out, out_dims, level, size, func)

    return wrapped


def _whole_loop(func, op, leaves, spec, dims, size, kwargs, out_dims, randomness="error"):
    """No batching rule reached: run ``func`` once per example (one warning). Random ops
    follow ``randomness``: they raise, draw afresh per example, or replay one draw."""
    warnings.warn(f"There is a performance drop because we have not yet implemented the "
                  f"batching rule for {op}. tapegrad runs the function once per example (a "
                  "Python loop over the batch).", UserWarning, stacklevel=3)
    from .. import creation
    from ..ops.record import as_tensor
    from .randomness import running

    state = creation._rng.bit_generator.state if randomness == "same" else None
    fixed = [(k, t, t._version) for k, (t, d) in enumerate(zip(leaves, dims))
             if d is None and isinstance(t, Tensor)]
    results = []
    for b in range(size):
        if state is not None:
            creation._rng.bit_generator.state = state
        new = []
        for t, d in zip(leaves, dims):
            if d is None:
                new.append(t)
                continue
            t = as_tensor(t) if not isinstance(t, Tensor) else t
            new.append(_call("getitem", _M.getitem, t, (slice(None),) * (d % t.ndim) + (b,)))
        if randomness == "error":
            with running("error", _state.level + 1, size):
                results.append(func(*tree_unflatten(new, spec), **kwargs))
        else:
            results.append(func(*tree_unflatten(new, spec), **kwargs))
        for k, t, version in fixed:
            if t._version != version:  # (every example would write into it in turn)
                raise RuntimeError(
                    f"vmap: {op} modified an argument that is not batched (argument {k} of "
                    "the flattened inputs) in place while the function ran once per example: "
                    "an in-place operation on a tensor vmap does not map over, with a batched "
                    "operand, cannot be batched. Use an out-of-place operation.")
    outs, ospec = tree_flatten(results[0])
    cols = [tree_flatten(r)[0] for r in results]
    odims = out_dims_of(out_dims, results[0], func)
    res = []
    for j, (o, d) in enumerate(zip(outs, odims)):
        if d is not None and not isinstance(o, Tensor):
            raise ValueError(f"vmap({name_of(func)}, ...): `{name_of(func)}` must only return "
                             f"Tensors, got type {type(o)}. Did you mean to set out_dims= to "
                             "None for output?")
        if d is None:
            res.append(o)
            continue
        res.append(_call("stack", _J.stack, [c[j] for c in cols], out_dim(d, o.ndim + 1)))
    return tree_unflatten(res, ospec)


def _unbatch_outputs(out, out_dims, level, size, func):
    out = nones_as_leaves(out)
    leaves, spec = tree_flatten(out)
    dims = out_dims_of(out_dims, out, func)
    res = []
    for t, d in zip(leaves, dims):
        if t is NONE_OUT:
            if d is not None:
                t = None
            else:
                res.append(None)
                continue
        if d is not None and not isinstance(t, Tensor):
            raise ValueError(f"vmap({name_of(func)}, ...): `{name_of(func)}` must only return "
                             f"Tensors, got type {type(t)}. Did you mean to set out_dims= to "
                             "None for output?")
        if type(t) is BatchedTensor and t._vmap_level == level:
            if d is None:
                raise ValueError(f"vmap({name_of(func)}, ...): `{name_of(func)}` can not return a "
                                 "BatchedTensor when out_dim is None")
            p = t._phys
        elif d is None:
            res.append(t)
            continue
        else:
            p = _call("expand", _M.expand, _call("unsqueeze", _M.unsqueeze, t, 0),
                      (size,) + tuple(t.shape))
        d = out_dim(d, p.ndim)
        res.append(p if d == 0 else _moveaxis(p, 0, d))
    return tree_unflatten(res, spec)


# ---- gradients of batched tensors (installed into tg.autograd.grad) -----------------------

def _unused(t, kw):
    """The gradient of an input the outputs do not use: autograd.grad's error, zeros
    (``materialize_grads``) or None (``allow_unused``)."""
    if kw.get("materialize_grads"):
        from ..creation import zeros_like

        return zeros_like(t)
    if not kw.get("allow_unused"):
        raise RuntimeError("One of the differentiated Tensors appears to not have been used in "
                           "the graph. Set allow_unused=True if this is the desired behavior.")
    return None


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
                out.append(_unused(t, kw))
                continue
            out.append(BatchedTensor(r, level) if b else r)
        return tuple(out)
    # some input is shared by the examples: every example's gradient of it, as the rows of a
    # Jacobian (one sweep carrying a seed per example), else one backward per example
    leaves = outs + gos
    n = _bsize(level, [t for t in leaves + ins if t is not None])
    new_i = [_unwrap(level, t)[0] for t in ins]
    if not kw.get("create_graph"):
        got = _per_example_rows(grad, outs, gos, ob, gb, ins, ib, new_i, n, level, kw)
        if got is not None:
            return got
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


_SEED_BUDGET = 1 << 22  # seed elements (n * n * output size) up to which examples share a sweep


def _per_example_rows(grad, outs, gos, ob, gb, ins, ib, new_i, n, level, kw):
    """``batched_grad`` for inputs some examples share, by one ``is_grads_batched`` sweep:
    example b's seed is its grad_output on its own row of the physical outputs and zero on
    the others; a batched input keeps row b of example b's gradient. None (the per-example
    loop then) where the seeds would be large or an output is not a CPU array."""
    phys, seeds = [], []
    for o, g, b, bg in zip(outs, gos, ob, gb):
        p = o._phys if b else o
        if type(p._data) is not np.ndarray or n * n * p.numel() > _SEED_BUDGET:
            return None
        if not p.requires_grad:
            continue
        # every example's grad_output, (n,) + the example's output shape
        each = (n,) + tuple(p.shape[1:] if b else p.shape)
        gp = np.ones(each, p.dtype) if g is None else \
            np.broadcast_to(np.asarray((g._phys if bg else g)._data, p.dtype), each)
        if b:  # example b seeds its own row of the physical output (zeros elsewhere)
            seed = np.zeros((n,) + tuple(p.shape), p.dtype)
            seed[np.arange(n), np.arange(n)] = gp
        else:  # an output the examples share: example b seeds all of it with its own
            seed = gp
        phys.append(p)
        seeds.append(_make(np.ascontiguousarray(seed)))
    if not phys:
        return None
    res = grad(phys, new_i, seeds, retain_graph=kw.get("retain_graph"), allow_unused=True,
               is_grads_batched=True)
    out = []
    for r, bi, t in zip(res, ib, ins):
        if r is None:
            out.append(_unused(t, kw))
            continue
        if bi:  # (n examples, n rows of the physical input): example b's own row
            r = _make(np.ascontiguousarray(np.asarray(r._data)[np.arange(n), np.arange(n)]))
        out.append(BatchedTensor(r, level))
    return tuple(out)


def _at_phys(x, b):
    return _call("getitem", _M.getitem, x, b)


def _full_like(p, value):
    """A tensor of ``value`` with the structure of ``p`` (batched at the same levels)."""
    if type(p) is BatchedTensor:
        return BatchedTensor(_full_like(p._phys, value), p._vmap_level)
    from ..creation import full

    return full(p.shape, value, dtype=p.dtype, device=p.device)


def like(t, value=0.0, requires_grad=False):
    """A leaf of ``value`` batched like ``t`` (a plain tensor for a plain ``t``)."""
    out = _full_like(t, value)
    if requires_grad:
        leaf = out
        while type(leaf) is BatchedTensor:
            leaf = leaf._phys
        leaf.requires_grad_()
        from .transforms import mark_handle

        mark_handle(leaf)  # (made here, not read from outside the function)
    return out


def is_batched(t):
    return type(t) is BatchedTensor


def unwrap_all(t):
    while type(t) is BatchedTensor:
        t = t._phys
    return t
