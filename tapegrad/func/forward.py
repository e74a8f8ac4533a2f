"""Forward mode on the tape for the transforms: ``func`` recorded once, tangents pushed
through its records by ``autograd/forward_sweep.py`` (``jvp``, ``jacfwd``, ``linearize``);
the double-vjp trick where that sweep cannot go."""

import numpy as np

from .. import grad_mode as _gm
from ..tensor import Tensor
from .captures import watching
from .pytree import tree_flatten, tree_unflatten
from .transforms import (_create_graph, _depth, _detach_tree, _fresh_segment_order,
                         _prepare, _push, _reads_outer, _split_aux, _tangents_in,
                         _tensor_leaves, jvp, linearized_grads)


def plain_forward(func, primals, ts):
    """Whether tangents may be pushed numerically (``autograd/forward_sweep.py``): nothing
    needs the result differentiable (no enclosing transform, no argument, tangent or closure
    requiring grad), nothing is vmapped and nothing is on CUDA."""
    from .vmap import _state as vmap_state

    leaves = [t for p in primals for t in tree_flatten(p)[0]]
    # (inside vmap, ``func`` may read a batched tensor from outside, which the numeric push
    # does not see: the re-taping path batches it; the push reads host values and CPU
    # records, so CUDA tensors take the re-taping path too, which runs on the device)
    return not (_create_graph(func, leaves) or any(t._rg for t in ts)
                or vmap_state.level
                or any(getattr(t, "_vmap_level", 0) or getattr(t, "is_cuda", False)
                       for t in leaves + list(ts)))


def record_for_forward(func, primals, has_aux, name):
    """Run ``func`` on fresh leaves for the primals, on fresh segments: (out, aux, output
    leaves, their spec, input leaves, their trees, the first segment order)."""
    idx = tuple(range(len(primals)))
    start = _fresh_segment_order() if _gm.is_grad_enabled() else None
    args, trees, ins, _ = _prepare(primals, idx)
    _depth.n += 1  # transforms inside func record their gradients (forward over reverse)
    try:
        with _gm.enable_grad():
            if start is None:
                start = _fresh_segment_order()
            args = [tree_unflatten([writable(h) for h in leaves], spec) for leaves, spec in trees]
            with _gm.forward_level():  # (no_grad inside it does not stop the tangents)
                with watching(func, args):
                    out, aux = _split_aux(func(*args), has_aux, name)
            outs, ospec = _tensor_leaves(out, name)
    finally:
        _depth.n -= 1
    return out, aux, outs, ospec, ins, trees, start


def writable(h):
    """Input handle ``h`` as ``func`` sees it: a record of it on the same memory that is no
    leaf and no view, so that an in-place op on it (``x.mul_(2)``) is recorded and changes
    its tangent, as on PyTorch's dual inputs (a leaf that requires grad refuses it), while
    ``h`` keeps the value the tangents enter at. A batched handle's physical tensor is."""
    if not isinstance(h, Tensor) or not h._rg:
        return h
    phys = getattr(h, "_phys", None)
    if phys is not None:
        return type(h)(writable(phys), h._vmap_level)
    a = h.reshape(h.shape)
    a._base = None  # (the memory is the caller's primal's: writes change it, as PyTorch's)
    return a


def push_tangents(outs, ins, blocks, start, k):
    """Tangent blocks ``(k,) + out.shape`` of ``outs`` for the input blocks ``blocks``, by the
    forward sweep; the double-vjp trick where that sweep cannot (a custom Function without
    ``jvp``, a large op without a JVP rule)."""
    from ..autograd import forward_sweep
    from ..tensor import _make

    got = [None] * len(outs)  # no direction to push (an input without elements): zeros
    if k and any(t.dtype.kind == "c" for t in (*outs, *ins)):
        got = None  # (complex tangents take the double-vjp trick: the sweep's blocks are real)
    elif k:
        try:
            got = forward_sweep.tangents(outs, list(zip(ins, blocks)), start, k)
        except forward_sweep.Unsupported:
            got = None
    if got is None:
        with _gm.enable_grad():
            us, gs = linearized_grads(outs, ins, retain_graph=True)
            got = []
            for j in range(k):
                ts = [_make(np.array(b[j]).reshape(t.shape)) for b, t in zip(blocks, ins)]
                got.append([r.numpy() for r in _push(gs, us, ts, outs, False, True)])
        got = [np.stack([g[i] for g in got]) for i in range(len(outs))]
    res = []
    for o, g in zip(outs, got):
        # (an integer or bool output's tangent is zeros of its own dtype, as zeros_like)
        res.append(np.zeros((k,) + tuple(o.shape), o.dtype) if g is None or
                   o.dtype.kind not in "fc" else g.astype(o.dtype, copy=False))
    return res


def tangent_blocks(ts):
    """One tangent direction per input: blocks ``(1,) + t.shape``, float64 or complex."""
    return [np.asarray(t._data, t.dtype if t.dtype.kind == "c" else np.float64).reshape(
        (1,) + tuple(t.shape)) for t in ts]


def value(arr):
    """An array as a tensor (a 0-d float64 one holds a Python float, as everywhere)."""
    from ..tensor import _make

    arr = np.array(arr)
    return _make(arr if arr.ndim or arr.dtype != np.float64 else float(arr))


def refuse_independent(func, primals, has_aux):
    """``jvp(strict=True)``: refuse an output that does not depend on the primals (PyTorch
    finds no tangent on it). ``func`` runs once more, recorded for the reverse sweep."""
    from ..autograd import grad as _grad

    _, _, outs, _, ins, _, _ = record_for_forward(func, primals, has_aux, "jvp")
    for o in outs:
        if not o._rg or all(g is None for g in _grad(
                o.sum(), ins, allow_unused=True, retain_graph=True)):
            raise RuntimeError("jvp(f, primals, tangents, strict=True): The output of f is "
                               "independent of the inputs. This is not allowed with "
                               "strict=True.")


class Linearized(tuple):
    """``transforms._linearized``'s tuple, made from a recording ``func`` already ran for
    (``func`` runs once per transform, as PyTorch's: it may count, print or draw)."""


def linearized_from(out, aux, outs, ospec, ins, trees, create_graph=True):
    """The double-vjp trick's graph (``transforms._linearized``) on the records of a run of
    ``func``: one that read a tensor requiring grad from outside (its result stays
    differentiable: ``create_graph``), or moved its inputs to CUDA (the tangents are pushed
    on the device)."""
    _depth.n += 1
    try:
        with _gm.enable_grad():
            us, gs = linearized_grads(outs, ins)
    finally:
        _depth.n -= 1
    return Linearized((out, aux, outs, ospec, us, gs, ins, trees, create_graph))


def jvp_on_tape(func, primals, ts, has_aux, name):
    """``jvp`` by pushing the tangents through the recorded records (forward mode proper);
    None when a tensor is vmapped or something needs the result differentiable before
    ``func`` runs; ``Linearized`` when ``func`` read a tensor requiring grad from outside
    (the result must stay differentiable in it: the double-vjp trick on these records)."""
    if not plain_forward(func, primals, ts):
        return None
    out, aux, outs, ospec, ins, trees, start = record_for_forward(func, primals, has_aux, name)
    if _reads_outer(start, outs, ins):  # (its result must stay differentiable in those)
        return linearized_from(out, aux, outs, ospec, ins, trees)
    if any(o.is_cuda for o in outs):  # (CPU inputs moved to CUDA: the sweep reads the host)
        return linearized_from(out, aux, outs, ospec, ins, trees, False)
    res = [value(b[0]) for b in push_tangents(outs, ins, tangent_blocks(ts), start, 1)]
    out = _detach_tree(out)
    res = tree_unflatten(res, ospec)
    return (out, res, _detach_tree(aux)) if has_aux else (out, res)


def linearize_on_tape(func, primals):
    """``linearize`` by the forward sweep: ``func`` recorded once, each ``jvp_fn`` call pushes
    its tangents through those records (a tangent that requires grad takes the double-vjp
    trick, which re-runs ``func``); ``Linearized`` when ``func`` read a tensor requiring grad
    from outside (the result must stay differentiable in it)."""
    out, _, outs, ospec, ins, trees, start = record_for_forward(func, primals, False,
                                                                "linearize")
    if _reads_outer(start, outs, ins):
        return linearized_from(out, None, outs, ospec, ins, trees)
    if any(o.is_cuda for o in outs):
        return linearized_from(out, None, outs, ospec, ins, trees, False)

    def jvp_fn(*tangents):
        ts = _tangents_in(tangents, primals, "linearize")
        if any(t._rg for t in ts):
            return jvp(func, primals, tuple(tree_unflatten(
                ts, tree_flatten(primals)[1])))[1]
        res = [value(b[0]) for b in push_tangents(outs, ins, tangent_blocks(ts), start, 1)]
        return tree_unflatten(res, ospec)

    return _detach_tree(out), jvp_fn
