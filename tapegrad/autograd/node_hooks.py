"""Hooks on backward nodes: ``grad_fn.register_prehook`` and ``grad_fn.register_hook``.

A node is a record (a custom Function's node is its CUSTOM record, whatever output it is read
from). Its hooks live beside the tape, per segment and record (``Node`` objects are made on
each ``grad_fn`` access), as PyTorch keeps them on the node: they run whenever a backward
executes the node, and only then.

* A record with hooks is flagged ``HOOKED``: the sweep pauses there once its adjoint is
  complete, runs the tensor hooks and ``retain_grad`` first, then the pre-hooks on
  ``grad_outputs`` (PyTorch's order); a returned tuple replaces them.
* Post-hooks need the gradients the node gives its inputs before they are added anywhere,
  which the sweeps add into the adjoints directly. So the pause computes them itself, with the
  re-taping sweep's rule for that one record (``RetapeSweep.vjp_of``; grad mode off in a plain
  backward, on under ``create_graph``), calls the hooks on ``(grad_inputs, grad_outputs)``, adds
  what they return into the inputs' adjoints and tells the sweep the record is done.
* A custom Function's hooks run around its ``backward`` (``run_custom``).

``grad_inputs`` has one entry per input of the record as tapegrad records the op: None for an
input that requires no grad, and for the number of ``x * 2.0`` / ``x + 2.0`` (PyTorch's
``MulBackward0``/``AddBackward0`` of a wrapped number). Inputs whose shape the tape does not
keep (the input of a reshape made by another reshape) are refused when the hook is registered.
"""

import numpy as np

from .. import tape
from ..grad_mode import is_grad_enabled, set_grad_enabled
from ..ops.node_names import named
from ..registry import PYTHON_BASE, REGISTRY, Op
from ..tensor import Tensor, _make, _wrap
from .hooks import (RemovableHandle, _HookList, _hook_name, check_replacement,
                    run_tensor_hooks)

_IMPORT, _OUTPUT, _CUSTOM, _COMPLEX = (int(o) for o in (Op.IMPORT, Op.OUTPUT, Op.CUSTOM,
                                                        Op.COMPLEX))
_GATHER_S = int(Op.GATHER_STRIDED)
# one-constant records PyTorch records as a binary node of the tensor and a wrapped number
_WRAPPED_NUMBER = frozenset(int(o) for o in (Op.ADDC, Op.MULC))


class NodeHooks:
    """A node's hook lists, and the shapes and dtype its gradients take."""

    __slots__ = ("pre", "post", "out_shape", "dtype", "in_shapes")

    def __init__(self, out_shape, dtype):
        self.pre, self.post = _HookList(), _HookList()
        self.out_shape, self.dtype, self.in_shapes = out_shape, dtype, None


def node_key(seg, rec):
    """The record a node is keyed by: an output of a custom Function is its CUSTOM record."""
    with seg.lock:
        seg._flush_locked()
        row = seg.buf[rec]
        return int(row[tape.A]) if int(row[tape.OP]) & tape.CODE_MASK == _OUTPUT else rec


def hooks_of(seg, rec):
    recs = seg.node_hooks
    return None if recs is None else recs.get(rec)


def register(node, fn, post):
    """``node.register_hook(fn)`` (``post``) or ``node.register_prehook(fn)``."""
    seg, rec = node._seg, node_key(node._seg, node._rec)
    recs = seg.records()
    code = int(recs[rec, tape.OP]) & tape.CODE_MASK
    if code == _IMPORT:
        raise NotImplementedError(
            "tapegrad: hooks on AccumulateGrad nodes are not supported; register the hook on "
            "the leaf tensor (Tensor.register_hook, Tensor.register_post_accumulate_grad_hook)")
    if seg.device:
        raise NotImplementedError("tapegrad: hooks on the backward nodes of CUDA tensors are "
                                  "not supported; register the hook on the tensor")
    hooks = hooks_of(seg, rec)
    if hooks is None:
        meta = node._meta
        shape = meta[0] if meta is not None else _shape_of(seg, rec)
        hooks = NodeHooks(shape, meta[1] if meta is not None else None)
        if seg.node_hooks is None:
            # on the segment itself, not in a table keyed by it: a hook that keeps the node's
            # tensors alive (collecting grad_inputs under create_graph) makes a cycle the
            # garbage collector frees, where a weak-keyed table's value would hold its key
            seg.node_hooks = {}
        seg.node_hooks[rec] = hooks
    if code != _CUSTOM:
        if hooks.out_shape is None:
            _refuse(node, "its output")
        if hooks.dtype is not None and hooks.dtype.kind == "c" or code == _COMPLEX:
            raise NotImplementedError("tapegrad: hooks on the backward nodes of complex "
                                      "values are not supported")
        if post and hooks.in_shapes is None:
            entry = named(seg, rec)
            if entry is not None and (entry[1] is not None or entry[2] is not None):
                raise NotImplementedError(
                    f"tapegrad: register_hook on {node.name()}: the tape records this op as "
                    f"several records, so grad_inputs cannot be the gradients of its inputs as "
                    f"in PyTorch; register the hook on the input tensor (Tensor.register_hook), "
                    f"or use register_prehook")
            shapes = _input_shapes(seg, recs, rec, code, hooks.out_shape)
            if any(s is False for s in shapes):
                _refuse(node, "an input")
            if _broadcast_operand(recs, rec, code):
                raise NotImplementedError(
                    f"tapegrad: register_hook on {node.name()}: an input of this node was "
                    f"broadcast, which the tape records as a node of its own (an expand, in "
                    f"next_functions), so grad_inputs cannot have the input's shape as in "
                    f"PyTorch; register the hook on that input tensor (Tensor.register_hook), "
                    f"or use register_prehook")
            hooks.in_shapes = shapes
        seg.set_flag(rec, tape.HOOKED)  # the sweeps pause there
    hooks_list = hooks.post if post else hooks.pre
    hooks_list.append(fn)
    return RemovableHandle(hooks_list, fn)


def _refuse(node, what):
    raise NotImplementedError(
        f"tapegrad: cannot give the gradient of {what} of {node.name()} in its shape (the tape "
        f"keeps no shape for a value made by a reshape, a scatter or an index); register the "
        f"hook on the tensor instead (Tensor.register_hook)")


def _input_shapes(seg, recs, rec, code, out_shape):
    """One shape per entry of ``grad_inputs`` (None: a constant, False: not known)."""
    row = recs[rec]
    a, b = int(row[tape.A]), int(row[tape.B])
    if code >= PYTHON_BASE:
        entry = seg.pyaux[int(row[tape.AUX])]
        return tuple(None if s < 0 else tuple(sh) for s, sh in zip(entry.slots, entry.in_shapes))
    kind = REGISTRY[code].kind
    if kind == "linear":
        return (None if a < 0 else _shape_of(seg, a) or False,)
    if kind == "binary":  # (operands already broadcast to the result's shape)
        return (None if a < 0 else out_shape, None if b < 0 else out_shape)
    return (out_shape, None) if code in _WRAPPED_NUMBER else (out_shape,)


def _broadcast_operand(recs, rec, code):
    """Whether an operand of elementwise record ``rec`` enters through a broadcasting gather
    (which may be the op's own broadcast or an explicit ``expand``: the tape cannot tell)."""
    if code >= PYTHON_BASE or REGISTRY[code].kind == "linear":
        return False
    for s in (int(recs[rec, tape.A]), int(recs[rec, tape.B])):
        if s >= 0 and int(recs[s, tape.OP]) & tape.CODE_MASK == _GATHER_S:
            src = int(recs[s, tape.A])
            if src >= 0 and int(recs[src, tape.SIZE]) < int(recs[s, tape.SIZE]):
                return True
    return False


def _shape_of(seg, rec, depth=0):
    """The shape of record ``rec``'s value as the tape knows it, else None."""
    if depth > 64:
        return None
    with seg.lock:
        seg._flush_locked()
        row = [int(v) for v in seg.buf[rec]]
    code = row[tape.OP] & tape.CODE_MASK
    for ref in seg.hooked.get(rec, ()):  # a tensor with hooks kept its shape
        return tuple(ref.shape)
    if code == _IMPORT:
        src = seg.imports.get(rec)
        if isinstance(src, Tensor):
            return tuple(src.shape)
        return None if src is None else _shape_of(src[0], src[1], depth + 1)
    if code == _OUTPUT:
        node = seg.pyaux[int(seg.buf[row[tape.A], tape.AUX])]
        meta = node.out_meta[node.out_recs.index(rec)]
        return None if meta is None else tuple(meta[0])
    if code >= PYTHON_BASE:
        entry = seg.pyaux[row[tape.AUX]]
        return None if code == _CUSTOM or code == _COMPLEX else tuple(entry.out_shape)
    if code == _GATHER_S:
        ia, aux = seg.iaux, row[tape.AUX]
        return tuple(ia[aux + 1 : aux + 1 + ia[aux]])
    if REGISTRY[code].kind in ("unary", "binary"):  # the shape of its (broadcast) operands
        for s in (row[tape.A], row[tape.B]):
            if s >= 0:
                return _shape_of(seg, s, depth + 1)
    return None


# ---- running them -----------------------------------------------------------------------

def run_record_hooks(seg, r, sweep):
    """The sweeps' pause at a HOOKED record: tensor hooks, then the node's hooks. True when
    the node's post hooks ran the record's VJP (``engine.pauses.Pauses.hooks``)."""
    run_tensor_hooks(seg, r, sweep)
    hooks = hooks_of(seg, r)
    if hooks is None or not (hooks.pre or hooks.post) or _pruned(sweep, r):
        return False  # (a record whose VJP does not run: PyTorch does not run its node)
    flat = sweep.grad_of(r)
    retape = isinstance(flat, Tensor)  # (the re-taping sweep's adjoints are tensors)
    shape = hooks.out_shape
    if retape:
        g = flat.reshape(shape) if flat.shape != shape else flat
    else:
        g = _make(_wrap(np.array(flat.reshape(shape), hooks.dtype or flat.dtype)))
    go = _call_pre(hooks.pre, (g,))
    if go[0] is None:
        return True  # its gradient dropped: the node gives its inputs none
    if not hooks.post:
        if go[0] is not g:
            if retape:
                sweep.set_grad(r, go[0].reshape(flat.shape))
            else:
                flat[...] = np.asarray(go[0]._data, flat.dtype).reshape(flat.shape)
        return False
    from .retape import flat as flat_form

    with set_grad_enabled(retape and is_grad_enabled()):
        vs = sweep if retape else _vjp_sweep(sweep, seg)
        slots, grads = vs.vjp_of(r, flat_form(go[0], go[0].numel()))
    grads = list(grads) + [None] * (len(hooks.in_shapes) - len(grads))
    slots = list(slots) + [-1] * (len(hooks.in_shapes) - len(slots))
    gi = tuple(None if gr is None or s < 0 else _shaped(gr, sh)
               for gr, s, sh in zip(grads, slots, hooks.in_shapes))
    for fn in list(hooks.post):
        gi = _replaced(fn, fn(gi, go), gi)
    if retape:
        sweep.accumulate(slots, gi)
    else:
        sweep.accumulate(slots, [None if t is None else np.asarray(t._data).reshape(-1)
                                 for t in gi])
    return True


def _vjp_sweep(sweep, seg):
    """The re-taping sweep that runs the VJPs of the numeric ``sweep``'s hooked nodes: one for
    the whole sweep (made at its first such node), not one per node, which read a small
    segment's records anew at each (quadratic in a chain of hooked nodes)."""
    vs = getattr(sweep, "node_vjps", None)
    if vs is None or vs.seg is not seg:
        from .retape import RetapeSweep

        vs = sweep.node_vjps = RetapeSweep(seg)
    return vs


def _pruned(sweep, r):
    p = sweep.pruned
    return p is not None and len(p) > 0 and r in p


def _shaped(t, shape):
    if not isinstance(t, Tensor):
        t = _make(np.asarray(t))
    return t.reshape(shape) if tuple(t.shape) != shape and t.numel() == int(np.prod(shape)) \
        else t


def _call_pre(hooks, go):
    for fn in list(hooks):
        go = _replaced(fn, fn(go), go)
    return go


def _replaced(fn, res, old):
    """A hook's result checked as PyTorch checks it: None keeps ``old``, else a tuple of as
    many tensors (or None) of the same shapes, dtypes and devices."""
    if res is None:
        return old
    if not isinstance(res, tuple):
        raise TypeError(f"expected tuple, but hook returned '{type(res).__name__}'")
    if len(res) != len(old):
        raise RuntimeError(f"hook '{_hook_name(fn)}' has returned an incorrect number of values "
                           f"(got {len(res)}, but expected {len(old)})")
    for new, was in zip(res, old):
        if new is not None and was is not None:
            check_replacement(fn, new, was)
    return res


def run_custom(hooks, node, raw, zeros, backward):
    """A custom Function's ``backward`` with its node's hooks around it: ``raw`` the gradient
    of each output (None where none reached it), ``zeros(meta)`` a materialised one,
    ``backward(grads)`` the validated gradients, one per argument."""
    go = _call_pre(hooks.pre, tuple(raw))
    grads = [g if g is not None or meta is None or not node.ctx.materialize_grads else
             zeros(meta) for g, meta in zip(go, node.out_meta)]
    out = backward(grads)
    if not hooks.post:
        return out
    tensors = [i for i, meta in enumerate(node.in_meta) if meta[0]]  # PyTorch's inputs
    gi = tuple(out[i] for i in tensors)
    for fn in list(hooks.post):
        gi = _replaced(fn, fn(gi, go), gi)
    out = list(out)
    for i, g in zip(tensors, gi):
        out[i] = g if node.slots[i] >= 0 else None
    return out
