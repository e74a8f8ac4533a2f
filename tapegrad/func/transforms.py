"""Function transforms (``torch.func``'s names): grad, grad_and_value, vjp, jvp, linearize,
and ``value_and_grad`` (JAX's name); the Jacobians are in ``jacobians.py``.

``grad(f)`` is a function that returns the gradient of the scalar ``f`` with respect to its
``argnums`` arguments. Arguments may be Python numbers, NumPy arrays or tensors. Transforms
compose (``grad(grad(f))``): inside another transform, or when an argument already carries
history, the gradient is computed with ``create_graph=True`` so the outer level can
differentiate it again.

Example:
    >>> import tapegrad as tg
    >>> tg.grad(tg.grad(lambda a: a ** 3))(2.0)  # numbers in, numbers out
    12.0
"""

import functools
import threading
import weakref

import numpy as np

from .. import grad_mode as _gm
from ..tensor import Tensor
from .captures import watching
from .aux_outputs import aux_out
from .checks import split_aux as _split_aux, tangents_in as _tangents_in
from .checks import tensor_leaves as _tensor_leaves, tensors_only as _tensors_only
from .pytree import tree_flatten, tree_unflatten, treespec_pprint
from .vmap_args import NONE_OUT, nones_as_leaves

__all__ = ["grad", "grad_and_value", "value_and_grad", "vjp", "jvp", "linearize"]


class _Depth(threading.local):
    def __reduce__(self):  # by name: a transform sent by value (Dask, cloudpickle) uses the
        return "_depth"  # receiving process's own per-thread state

    n = 0  # how many transforms are running on this thread (nesting level)


_depth = _Depth()


def _check_argnums(argnums, nargs):
    """``argnums`` as non-negative positions, refused in torch.func's words and order."""
    if not isinstance(argnums, (int, tuple)):
        raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")
    norm = []
    for a in argnums if isinstance(argnums, tuple) else (argnums,):
        if not isinstance(a, int):
            raise RuntimeError(f"argnum must be int, got: {type(a)}")
        if not -nargs <= a < nargs:
            raise RuntimeError(f"Got argnum={a}, but only {nargs} positional inputs")
        norm.append(a % nargs)
    if not norm:
        raise RuntimeError("argnums must be non-empty")
    if len(set(norm)) != len(norm):
        raise RuntimeError(f"argnums elements must be unique, got {tuple(norm)}")
    return norm


# id -> (weak reference, the segment order current when made): leaves the transforms made
# (inputs, dummy cotangents)
_handles = {}


def mark_handle(t):
    """Note that the transforms made the leaf ``t`` now: inside a function whose recording
    began before, it is not a tensor from outside (``_uses_outer_tensors``)."""
    from .. import tape

    key = id(t)
    seg = tape._local.seg
    _handles[key] = (weakref.ref(t, lambda _, key=key: _handles.pop(key, None)),
                     seg.order if seg is not None else 0)
    return t


def _made_since(t, start):
    """Whether the transforms made the leaf ``t`` after segment order ``start`` began."""
    entry = _handles.get(id(t))
    return entry is not None and entry[0]() is t and entry[1] >= start


def _as_input(x):
    """A fresh differentiable handle on argument ``x`` (history kept if ``x`` has any)."""
    if isinstance(x, Tensor):
        if x.dtype.kind not in "fc":  # (a NumPy array or a number of integers converts)
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        if x._rg and _gm.is_grad_enabled():
            return x.reshape(x.shape)  # an alias: the outer level sees through it
        if x._rg and _gm.recording():  # (under no_grad inside forward mode)
            with _gm.enable_grad():  # a plain record, which this transform's sweep crosses
                return x.reshape(x.shape)
        return mark_handle(x.detach().requires_grad_())
    from ..creation import tensor

    arr = np.asarray(x)
    if arr.dtype.kind not in "biufc":  # (numbers and arrays of them stand for tensors)
        raise ValueError(f"Thing passed to transform API must be Tensor, got {type(x)}")
    if arr.dtype.kind not in "fc":  # complex stays complex (PyTorch's gradient convention)
        arr = arr.astype(np.float64)
    return mark_handle(tensor(arr, requires_grad=True))


def _to_raw(t, like):
    """A result as NumPy would give it: a Python float for a 0-d value whose argument was a
    Python number (or for the function's value), else an ndarray."""
    arr = np.array(t.numpy())
    if arr.ndim == 0 and (like is None or not isinstance(like, np.ndarray)):
        return arr.item()
    return arr


def _scalar_output(out, has_aux):
    aux = None
    if has_aux:
        if not (isinstance(out, tuple) and len(out) == 2):
            raise RuntimeError("grad_and_value(f)(*args): output of function f should be a "
                               "tuple: (output, aux) if has_aux is True")
        out, aux = out
    if not isinstance(out, Tensor):
        raise RuntimeError("grad_and_value(f)(*args): Expected f(*args) to return a Tensor, "
                           f"got {type(out)}")
    if out.ndim != 0:
        raise RuntimeError("grad_and_value(f)(*args): Expected f(*args) to return a scalar "
                           f"Tensor, got tensor with {out.ndim} dims. Maybe you wanted to use "
                           "the vjp or jacrev APIs instead?")
    return out, aux


def _requires_graph(obj, depth=0):
    """Whether ``obj`` (a closure cell's value, a bound object...) holds tensors requiring
    grad: a function closing over them must keep its inner gradients differentiable."""
    if isinstance(obj, Tensor):
        return obj._rg
    if depth > 1:
        return False
    if isinstance(obj, (list, tuple)):
        return any(_requires_graph(o, depth + 1) for o in obj[:64])
    if isinstance(obj, dict):
        return any(_requires_graph(o, depth + 1) for o in list(obj.values())[:64])
    params = getattr(obj, "parameters", None)
    if callable(params) and not isinstance(obj, type):
        try:
            return any(p._rg for p in params())
        except TypeError:
            return False
    return False


def _closes_over_grad(func):
    seen = 0
    while func is not None and seen < 4:
        seen += 1
        if _requires_graph(getattr(func, "__self__", None)):
            return True
        for c in getattr(func, "__closure__", None) or ():
            try:
                v = c.cell_contents
            except ValueError:
                continue
            if _requires_graph(v) or (callable(v) and not isinstance(v, type)
                                      and getattr(v, "__closure__", None) and
                                      _closes_over_grad_shallow(v)):
                return True
        code, glb = getattr(func, "__code__", None), getattr(func, "__globals__", None)
        if code is not None and glb is not None:
            for name in code.co_names:
                v = glb.get(name)
                if isinstance(v, Tensor) and v._rg:
                    return True
        if any(_requires_graph(a) for a in getattr(func, "args", ()) or ()):
            return True  # functools.partial
        func = getattr(func, "func", None) or getattr(func, "__wrapped__", None)
    return False


def _closes_over_grad_shallow(func):
    return any(_requires_graph(getattr(c, "cell_contents", None))
               for c in func.__closure__ or () if _cell_ok(c))


def _cell_ok(c):
    try:
        c.cell_contents
    except ValueError:
        return False
    return True


def _fresh_segment_order():
    """Close this thread's current segment; return the order of the fresh one now current."""
    from .. import tape

    if tape._local.seg is not None and tape._local.seg.n:
        tape.retire(tape._local.seg)
    return tape.current().order


def _uses_outer_tensors(start, wrt):
    """Whether what this thread recorded since segment order ``start`` imports a tensor that
    requires grad other than the inputs ``wrt``: a leaf, or a record of an older segment.

    Conservative: an import the output does not depend on also counts (the gradient then
    merely carries a history it does not need)."""
    from .. import tape

    inner = {id(s) for s in list(tape._local.live) if s.order >= start}
    own = {id(t) for t in wrt}
    for seg in list(tape._local.live):
        if id(seg) not in inner or seg.forward_only:  # (constants to reverse mode)
            continue
        for src in list(seg.imports.values()):
            if isinstance(src, Tensor):
                if id(src) not in own and not _made_since(src, start):
                    return True
            elif id(src[0]) not in inner:
                return True
    return False


def _create_graph(func, leaves):
    """Take inner gradients with create_graph: grad mode is on and the result may depend on
    tensors requiring grad outside (an enclosing transform, an argument with history, a
    closure over a parameter)."""
    if not _gm.recording():
        return False
    return (_depth.n > 0 or any(isinstance(t, Tensor) and t._rg for t in leaves)
            or _closes_over_grad(func))


def _create_graph_before(func, leaves):
    """``(create_graph, start)`` before ``func`` runs: ``_create_graph``'s answer, and where it
    is no, the order of a fresh segment from which ``_reads_outer`` tells, once ``func`` has
    run, whether it read a tensor requiring grad from outside anyway (a global, an attribute,
    a closure a helper holds: no inspection of ``func`` sees them all)."""
    if _create_graph(func, leaves):
        return True, None
    return False, (_fresh_segment_order() if _gm.recording() else None)


def _reads_outer(start, outs, ins):
    """Whether the outputs ``outs`` of a function recorded from segment ``start`` on depend on
    tensors requiring grad other than its inputs ``ins`` (see ``_uses_outer_tensors``)."""
    if start is None or not any(o._rg for o in outs):
        return False
    from .vmap import unwrap_all

    return _uses_outer_tensors(start, [unwrap_all(t) for t in ins])


def _per_example(handle, batch):
    """A differentiable input shared by the examples of a vmap, as each example's own copy
    (a batched tensor of the expanded handle; functorch's reading of ``vmap(grad(f),
    in_dims=(None, 0))``): then one backward of the whole batch gives every example's
    gradient, and the gradient stays linked to ``handle`` (create_graph through the expand)."""
    from .batched import BatchedTensor

    level, size = batch
    shape = (size,) + tuple(handle.shape)
    if handle.is_leaf:  # (a handle of the transform's own: no history to keep)
        return BatchedTensor(mark_handle(handle.detach().unsqueeze(0).expand(shape)
                                         .requires_grad_()), level)
    return BatchedTensor(handle.unsqueeze(0).expand(shape), level)


def _prepare(args, idx):
    """Arguments with the leaves of ``args[i]`` (i in ``idx``) replaced by differentiable
    handles; returns (args, [(leaves, spec) per index], flat inputs, original leaves)."""
    args = list(args)
    from .batched import batch_of_examples

    batch = batch_of_examples(args, idx)
    trees, flat, orig = [], [], []
    for i in idx:
        leaves, spec = tree_flatten(args[i])  # (an empty container: an empty gradient)
        new = [_as_input(t) for t in leaves]
        if batch is not None:  # (parameters too; not a tensor batched at an outer level)
            from .batched import BatchedTensor

            new = [_per_example(h, batch) if isinstance(t, Tensor) and
                   not isinstance(t, BatchedTensor) else h for h, t in zip(new, leaves)]
        orig += leaves
        flat += new
        trees.append((new, spec))
        args[i] = tree_unflatten(new, spec)
    return args, trees, flat, orig


def _default_cotangent(out):
    """What ``autograd.grad`` seeds an output whose grad_output is None with."""
    if out.numel() != 1:
        raise RuntimeError("grad can be implicitly created only for scalar outputs")
    from ..creation import ones_like

    return ones_like(out)


def _split(flat, trees, argnums):
    """Flat per-input results regrouped as the ``argnums`` arguments' pytrees."""
    out, k = [], 0
    for leaves, spec in trees:
        out.append(tree_unflatten(flat[k:k + len(leaves)], spec))
        k += len(leaves)
    return tuple(out) if isinstance(argnums, tuple) else out[0]


def _zeros(t):
    from .vmap import like

    return like(t, 0.0)


def _detach_tree(tree):
    leaves, spec = tree_flatten(tree)
    return tree_unflatten([t.detach() if isinstance(t, Tensor) else t for t in leaves], spec)


def _grads(outs, ins, seeds, create_graph, retain_graph=None):
    """``autograd.grad`` over outputs that may not require grad; zeros for unused inputs."""
    from ..autograd import grad as _grad

    pairs = [(o, s) for o, s in zip(outs, seeds) if o._rg]
    if not pairs or not ins:
        res = (None,) * len(ins)
    else:
        res = _grad([o for o, _ in pairs], ins, [s for _, s in pairs], allow_unused=True,
                    create_graph=create_graph, retain_graph=retain_graph)
    return [_zeros(t) if r is None else r for r, t in zip(res, ins)]


def grad_and_value(func, argnums=0, has_aux=False):
    """A function returning ``(gradient, value)`` of a scalar ``func`` (``torch.func``).

    With ``has_aux`` ``func`` returns ``(output, aux)`` and the result is
    ``(gradient, (output, aux))``. Arguments in ``argnums`` may be pytrees of tensors.

    Example:
        >>> import tapegrad as tg
        >>> tg.func.grad_and_value(lambda a: (a * a).sum())(tg.tensor([1., 2.]))
        (tensor([2., 4.]), tensor(5.))
    """
    vg = value_and_grad(func, argnums, has_aux)

    def wrapper(*args, **kwargs):
        value, grads = vg(*args, **kwargs)
        return grads, ((value[0], _tensors_only(value[1])) if has_aux else value)

    functools.update_wrapper(wrapper, func, updated=())  # (torch.func's wraps)
    return wrapper


def value_and_grad(func, argnums=0, has_aux=False):
    """A function returning ``(func(*args), gradient of func w.r.t. args[argnums])``.

    ``argnums`` may be a tuple (then the gradients are a tuple); an argument may be a pytree
    (the gradient has its structure). With ``has_aux`` ``func`` returns ``(output, aux)`` and
    the result is ``((output, aux), grads)``.

    Example:
        >>> import tapegrad as tg
        >>> tg.value_and_grad(lambda a, b: a * b, argnums=(0, 1))(3.0, 4.0)
        (12.0, (4.0, 3.0))
        >>> tg.value_and_grad(lambda a: (a * a).sum())(tg.tensor([1., 2.]))
        (tensor(5.), tensor([2., 4.]))

    Called on NumPy arrays and Python numbers (no tensor among the differentiated arguments),
    it returns them as NumPy does: floats and ndarrays, so that SciPy's optimizers take
    ``value_and_grad(f)`` as ``jac=True`` directly. On tensors it returns tensors.
    """

    def wrapper(*args, **kwargs):
        idx = _check_argnums(argnums, len(args))
        leaves = [t for i in idx for t in tree_flatten(args[i])[0]]
        raw = _depth.n == 0 and not any(isinstance(t, Tensor) for t in leaves)
        create_graph = _gm.recording() and (
            _depth.n > 0 or any(isinstance(t, Tensor) and t._rg for t in leaves))
        args, trees, wrt, _ = _prepare(args, idx)
        # ``func`` may close over a tensor that requires grad (``lambda t: x * t``): then the
        # gradient depends on it and the caller may differentiate it again, so it is computed
        # with create_graph, as torch.func does. ``func`` records on fresh segments, where
        # anything from outside enters through an IMPORT record: see _uses_outer_tensors.
        start = _fresh_segment_order() if _gm.recording() and not create_graph else None
        _depth.n += 1
        try:
            with _gm.enable_grad():
                with watching(func, (args, kwargs)):
                    out, aux = _scalar_output(func(*args, **kwargs), has_aux)
                if start is not None and out._rg:
                    from .vmap import unwrap_all

                    create_graph = _uses_outer_tensors(start, [unwrap_all(t) for t in wrt])
                grads = _grads([out], wrt, [None], create_graph)
        finally:
            _depth.n -= 1
        if not create_graph:
            out = out.detach()
            grads = [g.detach() for g in grads]
        if raw and not create_graph:  # arrays and numbers in: arrays and numbers out (SciPy)
            out = _to_raw(out, None)
            grads = [_to_raw(g, x) for g, x in zip(grads, leaves)]
        grads = _split(grads, trees, argnums)
        if has_aux:  # (the aux output leaves this transform's graph)
            aux = aux_out(aux, wrt, create_graph)
        return ((out, aux) if has_aux else out), grads

    wrapper.__name__ = f"value_and_grad({getattr(func, '__name__', 'f')})"
    wrapper.__doc__ = func.__doc__
    return wrapper


def grad(func, argnums=0, has_aux=False):
    """A function returning the gradient of scalar ``func`` w.r.t. ``args[argnums]``.

    This is the function transform (JAX / ``torch.func.grad``); ``tg.autograd.grad`` is
    PyTorch's ``autograd.grad``. With ``has_aux`` the result is ``(grads, aux)``.

    Example:
        >>> import tapegrad as tg
        >>> tg.grad(lambda a: (a ** 2).sum())(tg.tensor([1., 2.]))
        tensor([2., 4.])
    """
    vg = value_and_grad(func, argnums, has_aux)

    def wrapper(*args, **kwargs):
        value, grads = vg(*args, **kwargs)
        return (grads, _tensors_only(value[1])) if has_aux else grads

    functools.update_wrapper(wrapper, func, updated=())  # (torch.func's wraps)
    return wrapper


def vjp(func, *primals, has_aux=False):
    """``(func(*primals), vjp_fn)`` (``torch.func.vjp``): ``vjp_fn(cotangents)`` returns the
    vector-Jacobian products, one per primal (each with the primal's pytree structure).
    With ``has_aux`` the result is ``(output, vjp_fn, aux)``.

    Example:
        >>> import tapegrad as tg
        >>> out, fn = tg.func.vjp(lambda a: a * a, tg.tensor([1., 2.]))
        >>> fn(tg.tensor([1., 1.]))
        (tensor([2., 4.]),)
    """
    idx = tuple(range(len(primals)))
    create_graph, start = _create_graph_before(func, [t for p in primals
                                                      for t in tree_flatten(p)[0]])
    args, trees, ins, _ = _prepare(primals, idx)
    _depth.n += 1
    try:
        with _gm.enable_grad():
            with watching(func, args):
                out, aux = _split_aux(func(*args), has_aux, "vjp")
    finally:
        _depth.n -= 1
    outs, ospec = _tensor_leaves(out, "vjp")
    create_graph = create_graph or _reads_outer(start, outs, ins)

    def vjp_fn(cotangents, *, retain_graph=True, create_graph=create_graph):
        cts, cspec = tree_flatten(cotangents)
        if cspec != ospec:  # a None cotangent is autograd's default one, as in torch.func
            with_none, cspec = tree_flatten(nones_as_leaves(cotangents))
            if cspec == ospec:
                cts = [_default_cotangent(o) if c is NONE_OUT else c
                       for o, c in zip(outs, with_none)]
        # (the products are linear in cotangents that require grad: differentiable in them)
        create_graph = create_graph or (_gm.recording() and any(
            isinstance(c, Tensor) and c._rg for c in cts))
        if cspec != ospec:
            raise RuntimeError("Expected pytree structure of cotangents to be the same as "
                               f"pytree structure of outputs to the function. cotangents: "
                               f"{treespec_pprint(cspec)}, primal output: "
                               f"{treespec_pprint(ospec)}")
        from ..ops.record import as_tensor

        cts = [as_tensor(c) for c in cts]
        for o, c in zip(outs, cts):
            if tuple(o.shape) != tuple(c.shape):
                raise RuntimeError(f"Mismatch in shape: grad_output[0] has a shape of "
                                   f"torch.Size({list(c.shape)}) and output[0] has a shape of "
                                   f"torch.Size({list(o.shape)}).")
        _depth.n += 1
        try:
            with _gm.enable_grad():
                res = _grads(outs, ins, cts, create_graph, retain_graph)
        finally:
            _depth.n -= 1
        if not create_graph:
            res = [r.detach() for r in res]
        return _split(res, trees, idx)

    def rows(cts):
        """Every row of the flat cotangent leaves ``cts`` (batch dim first) in one sweep
        carrying all of them (``autograd.grad(..., is_grads_batched=True)``); None where the
        result must stay differentiable or a tensor is vmapped (one vjp per row then)."""
        if create_graph or any(getattr(t, "_vmap_level", 0) for t in outs + ins + cts):
            return None
        from ..autograd import grad as _grad

        n = cts[0].shape[0]
        pairs = [(o, c) for o, c in zip(outs, cts) if o._rg]
        res = (None,) * len(ins)
        if pairs:
            res = _grad([o for o, _ in pairs], ins, [c for _, c in pairs], retain_graph=True,
                        allow_unused=True, is_grads_batched=True)
        res = [t.new_zeros((n,) + tuple(t.shape)) if r is None else r.detach()  # (t's device)
               for r, t in zip(res, ins)]
        return _split(res, trees, idx)

    vjp_fn.rows = rows
    res_out = out if create_graph else _detach_tree(out)
    if has_aux:
        aux = aux_out(aux, ins, create_graph)
    return (res_out, vjp_fn, aux) if has_aux else (res_out, vjp_fn)


def _linearized(func, primals, has_aux, name):
    """Forward pass plus the reverse-of-reverse graph: ``g = J^T u`` recorded with u a dummy
    cotangent, so that ``d(g . t)/du = J t`` (the double-vjp trick, exact for every op whose
    VJP re-tapes)."""
    if not isinstance(primals, tuple):
        raise RuntimeError(f"{name}(f, primals, tangents): Expected primals to be a tuple. "
                           "E.g. it should be valid to call f(*primals).")
    idx = tuple(range(len(primals)))
    leaves = [t for p in primals for t in tree_flatten(p)[0]]
    create_graph, start = _create_graph_before(func, leaves)
    _, trees, ins, _ = _prepare(primals, idx)
    from .forward import writable

    _depth.n += 1
    try:
        with _gm.enable_grad():
            # (func's inputs are records of the handles: an in-place change of one moves
            # its tangent, and the handles in ``ins`` keep the values differentiated by)
            args = [tree_unflatten([writable(h) for h in leaves], spec) for leaves, spec in trees]
            with _gm.forward_level():  # (no_grad inside it does not stop the tangents)
                with watching(func, args):
                    out, aux = _split_aux(func(*args), has_aux, name)
            outs, ospec = _tensor_leaves(out, name)
            create_graph = create_graph or _reads_outer(start, outs, ins)
            us, gs = linearized_grads(outs, ins)
    finally:
        _depth.n -= 1
    return out, aux, outs, ospec, us, gs, ins, trees, create_graph


def linearized_grads(outs, ins, retain_graph=None):
    """The double-vjp trick's first half: dummy cotangents ``us`` (zeros requiring grad, one
    per float output) and ``gs = d(sum u_i . out_i)/d ins`` recorded for the second half."""
    from ..autograd.function import linearizing
    from .vmap import like

    us = [like(o, 0.0, requires_grad=True) if o.dtype.kind in "fc" else None for o in outs]
    with linearizing():
        gs = _grads(outs, ins, us, True, retain_graph=retain_graph)
    return us, gs


def _push(gs, us, ts, outs, create_graph, retain_graph):
    """``J t`` from the linearized graph: d(sum g_i . t_i)/du."""
    pairs = [(g, t) for g, t in zip(gs, ts) if g._rg]
    from ..autograd import grad as _grad

    live = [u for u in us if u is not None]
    if not pairs or not live:
        got = (None,) * len(live)
    else:
        got = _grad([g for g, _ in pairs], live, [t for _, t in pairs], allow_unused=True,
                    create_graph=create_graph, retain_graph=retain_graph)
    it = iter(got)
    res = [next(it) if u is not None else None for u in us]
    res = [_zeros(o) if r is None else r for r, o in zip(res, outs)]
    return res if create_graph else [r.detach() for r in res]


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """``(func(*primals), J @ tangents)``, the Jacobian-vector product (``torch.func.jvp``).

    Computed by the double-vjp trick on the re-taping sweep: exact for every op with a VJP,
    composes with every other transform. ``primals`` and ``tangents`` are tuples of pytrees of
    the same structure and shapes. With ``has_aux`` the result is ``(output, jvp_out, aux)``.

    Example:
        >>> import tapegrad as tg
        >>> tg.func.jvp(lambda a: a * a, (tg.tensor([1., 2.]),), (tg.tensor([1., 0.]),))
        (tensor([1., 4.]), tensor([2., 0.]))
    """
    if not isinstance(primals, tuple):  # (tangents: any pytree of the primals' structure)
        raise RuntimeError("jvp(f, primals, tangents): Expected primals to be a tuple. E.g. it "
                           "should be valid to call f(*primals).")
    ts = _tangents_in(tangents, primals, "jvp")
    from .forward import Linearized, jvp_on_tape, refuse_independent

    if strict:
        refuse_independent(func, primals, has_aux)

    fast = jvp_on_tape(func, primals, ts, has_aux, "jvp")
    if fast is not None and type(fast) is not Linearized:
        return fast
    out, aux, outs, ospec, us, gs, ins, trees, cg = fast or _linearized(func, primals, has_aux,
                                                                        "jvp")
    cg = cg or any(t._rg for t in ts)
    _depth.n += 1
    try:
        with _gm.enable_grad():
            res = _push(gs, us, ts, outs, cg, None)
    finally:
        _depth.n -= 1
    res = tree_unflatten(res, ospec)
    out = out if cg else _detach_tree(out)
    if has_aux:
        aux = aux_out(aux, ins, cg)
    return (out, res, aux) if has_aux else (out, res)


def linearize(func, *primals):
    """``(func(*primals), jvp_fn)`` with ``jvp_fn(*tangents)`` the Jacobian-vector product at
    ``primals`` (``torch.func.linearize``): the linearized graph is built once.

    Example:
        >>> import tapegrad as tg
        >>> out, jfn = tg.func.linearize(lambda a: a.sin(), tg.tensor([0., 1.]))
        >>> jfn(tg.tensor([1., 1.]))
        tensor([1.0000, 0.5403])
    """
    from .forward import linearize_on_tape, plain_forward

    res = linearize_on_tape(func, primals) if plain_forward(func, primals, ()) else None
    if type(res) is tuple:
        return res
    out, _, outs, ospec, us, gs, ins, trees, cg = res or _linearized(func, primals, False,
                                                                      "linearize")

    def jvp_fn(*tangents):
        ts = _tangents_in(tangents, primals, "linearize")
        _depth.n += 1
        try:
            with _gm.enable_grad():
                res = _push(gs, us, ts, outs, cg or any(t._rg for t in ts), True)
        finally:
            _depth.n -= 1
        return tree_unflatten(res, ospec)

    return (out if cg else _detach_tree(out)), jvp_fn
