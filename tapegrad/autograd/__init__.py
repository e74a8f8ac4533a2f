"""``tapegrad.autograd``: backward, grad, and the tools around them (PyTorch's API)."""

import sys
import warnings

import numpy as np

from .. import grad_mode as _gm
from ..grad_mode import enable_grad, inference_mode, no_grad, set_grad_enabled
from ..device import DeviceArray
from ..tape import _local as _tape_local, inplace_epoch as _epoch
from ..tape import tape_stats
from ..tape_watch import stand_in
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from ..tensor import Tensor, _make, _wrap
from . import forward_ad  # noqa: E402,F401  (PyTorch's forward-mode API)
from . import functional  # noqa: E402,F401  (tg.autograd.functional.{jacobian, hessian, ...})
from . import graph  # noqa: E402,F401  (tg.autograd.graph.saved_tensors_hooks, ...)
from .function import Function, FunctionCtx, _linearizing, once_differentiable
from .function import reverse_stops_at
from .anomaly import (detect_anomaly, is_anomaly_check_nan_enabled, is_anomaly_enabled,
                      set_detect_anomaly)
from .variable import Variable
from .multithreading import is_multithreading_enabled, set_multithreading_enabled  # noqa: F401

__all__ = [
    "backward", "grad", "tape_stats", "gradcheck", "gradgradcheck", "GradcheckError", "no_grad",
    "enable_grad", "set_grad_enabled", "inference_mode", "Function", "FunctionCtx",
    "once_differentiable", "set_detect_anomaly", "detect_anomaly", "is_anomaly_enabled",
    "is_anomaly_check_nan_enabled", "Variable",
]

_CREATE_GRAPH_WARNING = (
    "Using backward() with create_graph=True will create a reference cycle between the "
    "parameter and its gradient which can cause a memory leak. We recommend using "
    "autograd.grad when creating the graph to avoid this. If you have to use this function, "
    "make sure to reset the .grad fields of your parameters to None after use to break the "
    "cycle and avoid the leak."
)


def run(*args, **kwargs):  # noqa: F811 - replaced by the driver on first call
    """The backward driver, imported on first use: it imports Numba (~0.3 s), which
    ``import tapegrad`` alone should not pay."""
    global run
    from .driver import run

    return run(*args, **kwargs)


def backward_plain(*args):  # noqa: F811 - replaced by the driver's on first call (``run``)
    global backward_plain
    from .driver import backward_plain

    return backward_plain(*args)


def _as_list(x):
    if isinstance(x, Tensor):
        return [x]
    return list(x)


_ONE = np.ones(1)  # the implicit seed of a scalar output (the driver only reads seeds)
_ONE.flags.writeable = False


def _seeds(outputs, grads, create_graph):
    """Validate outputs and their gradients; return seeds in the sweep's form."""
    if grads is None and not create_graph and len(outputs) == 1:  # ``loss.backward()``
        out = outputs[0]
        if isinstance(out, Tensor) and out._rg and out.numel() == 1 and \
                out.dtype.kind != "c" and (out._seg is None or not out._seg.forward_only) \
                and _tensor_module.dual_only is None:  # (in a dual level: _no_history)
            return [_ONE]  # what the loop below returns here; anything else gets its errors
    if grads is None:
        grads = [None] * len(outputs)
    elif isinstance(grads, Tensor):
        grads = [grads]
    else:
        grads = list(grads)
    for g in grads:
        if g is not None and not isinstance(g, Tensor):
            raise TypeError(f"gradients can be either Tensors or None, but got "
                            f"{type(g).__name__}")
    if len(grads) != len(outputs):
        raise RuntimeError(f"got {len(outputs)} tensors and {len(grads)} gradients")
    seeds = []
    for i, (out, g) in enumerate(zip(outputs, grads)):
        if not isinstance(out, Tensor):
            raise TypeError(f"outputs must be Tensors, but got {type(out).__name__}")
        if _no_history(out):
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have "
                               "a grad_fn")
        if g is None:
            if out.numel() != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if out.dtype.kind == "c":
                raise RuntimeError("grad can be implicitly created only for real scalar outputs "
                                   f"but got {out.dtype}")
            if not create_graph:
                seeds.append(_ONE)
            elif type(out._data) is float:  # a float64 scalar: its seed is the float 1.0
                seeds.append(_make(1.0))
            else:
                seeds.append(_make(_wrap(np.ones(out.shape, out.dtype))))
            continue
        if g.shape != out.shape:
            raise RuntimeError(f"Mismatch in shape: grad_output[{grads.index(g)}] has a shape "
                               f"of {_size(g.shape)} and output[{list(outputs).index(out)}] has "
                               f"a shape of {_size(out.shape)}.")
        if (type(g._data) is DeviceArray) is not (type(out._data) is DeviceArray) and g.ndim:
            # (a 0-d gradient crosses, as in PyTorch; types compared inline: is_cuda's two
            # property calls cost ~0.14 us a call)
            raise RuntimeError(f"invalid gradient at index {i} - expected device {out.device} "
                               f"but got {g.device}")
        if (g.dtype.kind == "c") != (out.dtype.kind == "c"):
            raise RuntimeError("For complex Tensors, both grad_output and output are required to "
                               f"have the same dtype. Mismatch in dtype: grad_output[{i}] has a "
                               f"dtype of {g.dtype} and output[{i}] has a dtype of {out.dtype}.")
        if g.dtype.kind == "c":  # the arena's (re, im) pairs (ops/complex.py)
            seeds.append(g if create_graph else
                         np.ascontiguousarray(g._arr(), np.complex128).view(np.float64))
            continue
        seeds.append(g if create_graph else g._data if type(g._data) is DeviceArray else
                     np.asarray(g._data, np.float64))
    return seeds


def _size(shape):
    """``shape`` as PyTorch's messages print a ``torch.Size``."""
    return f"torch.Size([{', '.join(map(str, shape))}])"


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False,
             grad_variables=None, inputs=None):
    """Accumulate gradients of ``tensors`` into the leaves' ``.grad`` (PyTorch semantics).

    Example:
        >>> import tapegrad as tg
        >>> f = tg.tensor(2.0, requires_grad=True)
        >>> tg.autograd.backward([f * f, f * 3])
        >>> f.grad
        tensor(7.)
    """
    if _transforms_active is not None and _transforms_active():
        raise RuntimeError(_IN_TRANSFORM)
    if grad_variables is not None:
        grad_tensors = grad_variables
    outputs = _as_list(tensors)
    if create_graph:
        warnings.warn(_CREATE_GRAPH_WARNING, UserWarning, stacklevel=3)
    if retain_graph is None:
        retain_graph = create_graph
    targets = None
    if inputs is not None:
        targets = _as_list(inputs)
        if not targets:
            raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    _rebased(outputs if targets is None else outputs + targets)
    seeds = _seeds(outputs, grad_tensors, create_graph)
    if targets is not None:
        _check_inputs(targets, require_grad=False)
        for t in targets:
            if not t._rg:  # (PyTorch's engine retains the grad of each input first)
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
    run(outputs, seeds, retain_graph, create_graph, targets, accumulate=True)


def _check_inputs(ins, require_grad=True):
    """PyTorch's errors for what ``grad`` differentiates with respect to (the requires-grad
    check comes after the outputs' own, as in PyTorch's engine)."""
    for t in ins:
        if not isinstance(t, Tensor):
            raise RuntimeError("all inputs have to be Tensors or GradientEdges, but got "
                               f"{type(t).__name__}")
        if require_grad and not t._rg:
            raise RuntimeError("One of the differentiated Tensors does not require grad")


def _zeros_like(t):
    from ..creation import zeros_like

    return zeros_like(t)


def _zeros_requiring_grad(t):
    """An unused input's materialized gradient under ``create_graph``: a leaf that requires
    grad, as PyTorch's (a later ``grad`` of it with ``allow_unused`` gives None)."""
    return _zeros_like(t).requires_grad_()


def _unused_checked(ins, res, allow_unused, zeros):
    """``res`` with PyTorch's error for an unreached input, or ``zeros(t)`` in its place
    (``materialize_grads``: ``zeros`` is not None)."""
    out = []
    for i, (t, g) in enumerate(zip(ins, res)):
        if g is None:
            if not allow_unused:
                raise RuntimeError(f"The differentiated Tensor at index {i} appears to not "
                                   "have been used in the graph. Set allow_unused=True if this "
                                   "is the desired behavior.")
            if zeros is not None:
                g = zeros(t)
        out.append(g)
    return out


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Gradients of ``outputs`` with respect to ``inputs``, returned as a tuple.

    Example:
        >>> import tapegrad as tg
        >>> x = tg.tensor(3.0, requires_grad=True)
        >>> g, = tg.autograd.grad(x ** 3, x, create_graph=True)
        >>> g, tg.autograd.grad(g, x)
        (tensor(27., grad_fn=<MulBackward0>), (tensor(18.),))
    """
    one = type(outputs) is Tensor and type(inputs) is Tensor
    if one:
        for t in (outputs, inputs):  # (views, where something changed in place since: _rebase)
            seg = t._seg
            if seg is not None and seg.epoch != _epoch[0] and t._base is not None:
                _rebase(t)
    if one and not is_grads_batched and not materialize_grads and inputs._rg and \
            _tape_local.subs is None:
        seed = _one_seed(outputs, grad_outputs, create_graph)
        if seed is not None:  # (both gradients of a Hessian-vector product)
            res = run([outputs], [seed], create_graph if retain_graph is None else retain_graph,
                      create_graph, [inputs], accumulate=False)
            if res[0] is None and not allow_unused:
                _unused_checked((inputs,), res, False, None)  # PyTorch's error
            return (res[0],)
    if is_grads_batched:
        return _grads_batched(outputs, inputs, grad_outputs, retain_graph, create_graph,
                              allow_unused, materialize_grads)
    outs = _as_list(outputs)
    ins = _as_list(inputs)
    if _tape_local.subs is not None:  # a checkpointed function recomputed on stand-ins
        ins = [stand_in(t) if isinstance(t, Tensor) else t for t in ins]
    if _batched_grad is not None and _any_batched(outs, ins, grad_outputs):
        if grad_outputs is not None and not isinstance(grad_outputs, Tensor):
            grad_outputs = list(grad_outputs)
        elif grad_outputs is not None:
            grad_outputs = [grad_outputs]
        return _batched_grad(grad, outs, ins, grad_outputs, retain_graph=retain_graph,
                             create_graph=create_graph, allow_unused=allow_unused,
                             materialize_grads=materialize_grads)
    if not ins:
        raise RuntimeError("`inputs` argument to `grad()` cannot be empty.")
    _rebased(outs + ins)
    _check_inputs(ins, require_grad=False)
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when materialize_grads="
                         "True, but got: allow_unused=False.")
    if allow_unused is None:
        allow_unused = materialize_grads
    if retain_graph is None:
        retain_graph = create_graph
    seeds = _seeds(outs, grad_outputs, create_graph)
    _check_inputs(ins)
    res = run(outs, seeds, retain_graph, create_graph, ins, accumulate=False)
    return tuple(_unused_checked(ins, res, allow_unused, (_zeros_requiring_grad if create_graph
                                                          else _zeros_like)
                                 if materialize_grads else None))


def _one_seed(out, g, create_graph):
    """``grad``'s seed for the output ``out`` (a plain Tensor with history on a CPU segment of
    reverse mode) and its ``grad_outputs`` ``g``: None (a plain Tensor of ``out``'s shape) on
    real CPU arrays, ``_seeds``' result for them; None for every other case (``_seeds``, whose
    checks and errors these cases pass). One output and one input with no lists built and
    checked saves ~10% of a small graph's ``grad`` (a Hessian-vector product's two)."""
    seg = out._seg
    if not out._rg or seg is None or seg.forward_only or _tensor_module.dual_only is not None:
        return None
    d = out._data
    if g is None:
        if type(d) is float:  # a float64 scalar
            return _make(1.0) if create_graph else _ONE
        return None
    if type(g) is not Tensor:
        return None
    gd = g._data
    if type(gd) is not np.ndarray or type(d) is not np.ndarray or gd.shape != d.shape or \
            gd.dtype.kind != "f" or d.dtype.kind != "f":
        return None
    return g if create_graph else np.asarray(gd, np.float64)


_tensor_module = sys.modules[Tensor.__module__]  # (the package's ``tensor`` is the function)


def _no_history(t):
    """Whether reverse mode has nothing to differentiate ``t`` by: it requires no grad, or it
    was made under no_grad in forward mode (a constant to reverse mode, as PyTorch's, but to
    the double-vjp trick's own sweep)."""
    if not t._rg:
        return True
    seg = t._seg
    if seg is None:
        return False
    if seg.forward_only:
        return reverse_stops_at(seg)
    dual_only = _tensor_module.dual_only  # (a forward_ad level: results of its duals alone)
    return dual_only is not None and not _linearizing.n and dual_only(t)


# Installed by tapegrad.func (vmap): gradients where some tensors are batched.
_batched_grad = None
# Installed by tapegrad.func: whether a function transform (grad, vmap, jvp, ...) is running
# on this thread; backward() inside one is PyTorch's error.
_transforms_active = None
_IN_TRANSFORM = ("backward() called inside a functorch transform. This is not supported, please "
                 "use functorch.grad or functorch.vjp instead or call backward() outside of "
                 "functorch transforms.")


def _any_batched(outs, ins, gos):
    gs = () if gos is None else ((gos,) if isinstance(gos, Tensor) else gos)
    for seq in (outs, ins, gs):  # (plain loops: a generator costs µs per grad call)
        for t in seq:
            if getattr(t, "_vmap_level", 0):
                return True
    return False


def _grads_batched(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused,
                   materialize_grads):
    """``is_grads_batched=True``: the first dim of each grad_output indexes independent
    backward passes (one per row, the graph retained between them); results are stacked."""
    outs = _as_list(outputs)
    gos = [grad_outputs] if isinstance(grad_outputs, Tensor) else list(grad_outputs or ())
    if len(gos) != len(outs) or any(not isinstance(g, Tensor) for g in gos):
        raise RuntimeError("is_grads_batched=True needs one batched grad_output tensor per "
                           "output")
    n = gos[0].shape[0] if gos[0].ndim else 0
    for g, o in zip(gos, outs):  # (PyTorch's message: the shape of g[0] less its first dim)
        if g.ndim == 0 or g.shape[0] != n or tuple(g.shape[1:]) != tuple(o.shape):
            raise RuntimeError("If `is_grads_batched=True`, we interpret the first dimension of "
                               "each grad_output as the batch dimension. The sizes of the "
                               "remaining dimensions are expected to match the shape of "
                               "corresponding output, but a mismatch was detected: grad_output"
                               f"[{gos.index(g)}] has a shape of {_size(g.shape[2:])} and output"
                               f"[{outs.index(o)}] has a shape of {_size(o.shape)}. If you only "
                               "want some tensors in "
                               "`grad_output` to be considered batched, consider using vmap.")
    if not create_graph and n and not _any_batched(outs, _as_list(inputs), gos):
        got = _one_batched_sweep(outs, _as_list(inputs), gos, retain_graph, allow_unused,
                                 materialize_grads)
        if got is not None:
            return got
    # create_graph (the rows must be differentiable), vmap, or a graph with hooks or custom
    # Functions: one backward per row
    rows = []
    for b in range(n):
        rows.append(grad(outs, inputs, [g[b] for g in gos],
                         retain_graph=True if b < n - 1 else retain_graph,
                         create_graph=create_graph, allow_unused=allow_unused,
                         materialize_grads=materialize_grads))
    from ..ops import stack

    ins = _as_list(inputs)
    out = []
    for j in range(len(ins)):
        col = [r[j] for r in rows]
        if not col or all(c is None for c in col):
            out.append(None)
            continue
        from ..creation import zeros_like

        out.append(stack([zeros_like(ins[j]) if c is None else c for c in col], 0))
    return tuple(out)


def _one_batched_sweep(outs, ins, gos, retain_graph, allow_unused, materialize_grads):
    """All rows in one sweep carrying every seed (``autograd/batched.py``); None when the
    graph needs one backward per row (hooks, custom Functions, CUDA, anomaly mode)."""
    from ..tensor import _make
    from . import batched

    _check_inputs(ins, require_grad=False)
    for i, o in enumerate(outs):
        if not isinstance(o, Tensor):
            raise TypeError(f"outputs must be Tensors, but got {type(o).__name__}")
        if _no_history(o):
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have "
                               "a grad_fn")
    _check_inputs(ins)
    if any(type(g._data) is DeviceArray or g.dtype.kind == "c" for g in gos):
        return None  # (batched.run refuses complex roots too)
    seeds = [np.asarray(g._data, np.float64) for g in gos]
    n = seeds[0].shape[0]
    step = batched.rows_per_sweep(outs, n)
    parts = []
    try:
        for lo in range(0, n, step):  # rows in pieces whose blocks fit the memory budget
            last = lo + step >= n
            parts.append(batched.run(outs, [s[lo:lo + step] for s in seeds], ins,
                                     bool(retain_graph) or not last))
    except batched.Unsupported:
        return None
    res = parts[0] if len(parts) == 1 else [
        None if p[0] is None else np.concatenate(p) for p in zip(*parts)]
    if allow_unused is None:
        allow_unused = materialize_grads
    res = _unused_checked(ins, res, allow_unused, (lambda t: np.zeros(
        (n,) + tuple(t.shape), t.dtype)) if materialize_grads else None)
    return tuple(None if g is None else _make(g) for g in res)


def _rebase(t):
    """View ``t``, when its base changed in place since its history was recorded, takes the
    base's current history: PyTorch regenerates a view's node where it is read (its grad_fn,
    backward's outputs and inputs, an op's operand: ops/record.refresh_views)."""
    base = t._base
    if base is not None and (base._seg is not t._bseg or base._rec != t._brec) and \
            not _gm._state.inference:
        from ..ops.record import refresh_views

        with enable_grad():
            refresh_views(t)


def _rebased(ts):
    for t in ts:
        if isinstance(t, Tensor) and t._base is not None:
            _rebase(t)


def _tensor_backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate d(self)/d(leaf) into every leaf's ``.grad``. See ``tapegrad.autograd``."""
    if gradient is None and create_graph is False and inputs is None:  # ``loss.backward()``
        if _transforms_active is not None and _transforms_active():
            raise RuntimeError(_IN_TRANSFORM)
        seg, d = self._seg, self._data  # (``_seeds``' first case, inline: a real scalar)
        if seg is not None and seg.epoch != _epoch[0] and self._base is not None:
            _rebase(self)  # (a view, something changed in place since its segment began)
            seg = self._seg
        if seg is not None and self._rg and (type(d) is float or d.size == 1 and
                                             d.dtype.kind != "c") \
                and not seg.forward_only and _tensor_module.dual_only is None:
            backward_plain(self, _ONE, retain_graph)
            return
        outputs = (self,)
        run(outputs, _seeds(outputs, None, False), retain_graph, False, None, accumulate=True)
        return
    backward(self, gradient, retain_graph, create_graph, inputs=inputs)


def _bind_tensor_methods():
    """The autograd part of Tensor's API, bound from here so tensor.py imports no autograd."""
    from . import hooks
    from .node import node_for

    def grad_fn(self):
        if self._base is not None:  # (after an in-place change: AsStridedBackward0 over it)
            _rebase(self)
        return None if self.is_leaf else node_for(self)

    Tensor.backward = _tensor_backward
    # (a result made under no_grad in forward mode has none, as PyTorch's: Tensor.is_leaf)
    Tensor.grad_fn = property(grad_fn)
    Tensor.retain_grad = hooks.retain_grad
    Tensor.register_hook = hooks.register_hook
    Tensor.register_post_accumulate_grad_hook = hooks.register_post_accumulate_grad_hook


_bind_tensor_methods()
