"""Custom ``autograd.Function`` calls inside ``vmap`` (PyTorch's rules for transforms).

A Function called on batched tensors needs a batching rule of its own, as in PyTorch:

* a ``vmap`` staticmethod, ``vmap(info, in_dims, *args) -> (outputs, out_dims)``, called once
  with the physical values (batch dimension ``in_dims[i]``, None for an argument that is not
  batched) and ``info.batch_size`` / ``info.randomness``; each output is moved from its
  ``out_dims`` entry to the front (None: the output is not batched);
* or ``generate_vmap_rule = True``: ``forward`` runs on the batched tensors, so each op in it
  batches by its own rule.

Otherwise the call raises PyTorch's error. Either way the call is recorded as ONE custom
Function on the physical tensors (``_physical_function``): its ``backward`` wraps the
physical gradients as batched tensors and runs the user's ``backward`` on them (so its ops
batch too, and ``vmap(grad(f))`` is one backward for the whole batch), and its ``jvp`` does
the same with the user's ``jvp``. A Function's ``ctx`` sees the batched tensors, as it would
see one example's. Nested ``vmap`` recurses: the physical Function is itself called on the
next level's batched tensors and batches by ``generate_vmap_rule``.
"""

import contextlib
import threading
from collections import namedtuple

from ..autograd import function as _fn
from ..ops import movement as _M
from ..tensor import Tensor
from .batched import BatchedTensor, _bsize, _call, _level_of, _lock, _running, _state
from .randomness import _modes
from .transforms import _depth
from .pytree import tree_flatten

VmapInfo = namedtuple("VmapInfo", ["batch_size", "randomness"])

_MORE = " For more details, please see https://pytorch.org/docs/main/notes/extending.func.html"
_NO_RULE = ("You tried to vmap over {}, but it does not have vmap support. Please override and "
            "implement the vmap staticmethod or set generate_vmap_rule=True." + _MORE)
_BOTH = ("You tried to vmap over {}, but it has both generate_vmap_rule=True and an overridden "
         "vmap staticmethod. Please set generate_vmap_rule=False or delete the overridden vmap "
         "staticmethod to avoid ambiguity." + _MORE)
_SETUP = ("In order to use an autograd.Function with functorch transforms (vmap, grad, jvp, "
          "jacrev, ...), it must override the setup_context staticmethod." + _MORE)


class _Plan:
    """What the physical Function needs beyond the tensors: the user's class and ctx, the
    level, which arguments and outputs are batched, which saved tensors were."""

    __slots__ = ("cls", "level", "size", "in_b", "out_b", "uctx", "saved_b", "fwd_b")

    def __init__(self, cls, level, size, in_b):
        self.cls, self.level, self.size, self.in_b = cls, level, size, in_b
        self.out_b = self.uctx = self.saved_b = self.fwd_b = None


def vmapped_apply(cls, args, kwargs):
    """``cls.apply(*args, **kwargs)`` where some argument is batched (installed into
    ``autograd.function``)."""
    name = cls.__name__
    if any(isinstance(v, Tensor) for v in kwargs.values()):
        raise NotImplementedError(f"Run vmap on autograd.Function with kwarg-only Tensor args. "
                                  f"Please do not pass kwarg-only Tensors to autograd.Function. "
                                  f"Got: {kwargs}")
    has_rule = cls.vmap is not _fn.Function.vmap
    if has_rule and cls.generate_vmap_rule:
        raise RuntimeError(_BOTH.format(name))
    if not has_rule and not cls.generate_vmap_rule:
        raise RuntimeError(_NO_RULE.format(name))
    if has_rule and cls.setup_context is _fn.Function.setup_context:
        raise RuntimeError(_SETUP)
    level = _level_of(args)
    in_b = tuple(type(a) is BatchedTensor and a._vmap_level == level for a in args)
    plan = _Plan(cls, level, _bsize(level, args), in_b)
    phys = [a._phys if b else a for a, b in zip(args, in_b)]
    outs = _physical_function(cls).apply(plan, *phys, **kwargs)
    single = not isinstance(outs, tuple)
    outs = (outs,) if single else outs
    res = tuple(BatchedTensor(o, level) if b else o for o, b in zip(outs, plan.out_b))
    return res[0] if single else res


class _Lowered(threading.local):
    depth = level = 0  # the transforms a custom Function's forward runs below


_lowered = _Lowered()
_NOTHING_LOWERED = contextlib.nullcontext()


def transforms_active():
    """Whether a function transform (grad, vmap, jvp, ...) runs on this thread above the
    ones a custom Function's forward runs below (backward() there is PyTorch's error)."""
    n, level = _depth.n, _state.level
    if not n and not level:  # (none running: the lowered counts, never negative, not read;
        return False  # each read of a thread-local costs ~440 instructions, every backward)
    return n > _lowered.depth or level > _lowered.level


class _Lower:
    """While a custom Function's forward runs on unbatched tensors, the running transforms
    count as lowered, as PyTorch's custom_function_call pops them (a transform started inside
    counts again); ``to`` (0, 0) counts them all again (a forward run vmapped)."""

    def __init__(self, to=None):
        self.to = to

    def __enter__(self):
        self.saved = _lowered.depth, _lowered.level
        _lowered.depth, _lowered.level = self.to or (_depth.n, _state.level)

    def __exit__(self, *exc):
        _lowered.depth, _lowered.level = self.saved


def lowered_transforms():
    """(Installed into ``autograd.function``: around a custom Function's forward.)"""
    return _Lower() if _depth.n or _state.level else _NOTHING_LOWERED


_CLASSES = {}


def _physical_function(cls):
    """The Function on physical tensors that stands for ``cls`` at one vmap level."""
    got = _CLASSES.get(cls)
    if got is None:
        attrs = {"forward": staticmethod(_forward), "backward": staticmethod(_backward),
                 "generate_vmap_rule": True}
        if _fn.has_jvp(cls):
            attrs["jvp"] = staticmethod(_jvp)
        got = type(cls.__name__, (_fn.Function,), attrs)
        got._backward_name = cls._backward_name
        _CLASSES[cls] = got
    return got


def _randomness(level):
    for mode, lv, _ in _modes.stack:
        if lv == level:
            return mode
    return "error"


def _forward(ctx, plan, *phys, **kwargs):
    cls, level = plan.cls, plan.level
    uctx = _fn.FunctionCtx()
    uctx.needs_input_grad = ctx.needs_input_grad[1:]
    batched = [BatchedTensor(p, level) if b else p for p, b in zip(phys, plan.in_b)]
    split = cls.setup_context is not _fn.Function.setup_context
    if cls.vmap is not _fn.Function.vmap:
        in_dims = tuple(0 if b else None for b in plan.in_b)
        got = cls.vmap(VmapInfo(plan.size, _randomness(level)), in_dims, *phys, **kwargs)
        if not isinstance(got, tuple) or len(got) != 2:
            raise RuntimeError("Expected the vmap staticmethod to have two returns, an output "
                               "and out_dims with pytree structure compatible with the output. "
                               + (f"Got a {type(got)} instead" if not isinstance(got, tuple)
                                  else f"Got {len(got)} returns instead"))
        outs, out_dims = got
        single = not isinstance(outs, tuple)
        outs = (outs,) if single else outs
        dims = out_dims if isinstance(out_dims, tuple) else (out_dims,) * len(outs)
        if len(dims) != len(outs):
            raise RuntimeError("The autograd.Function's vmap staticmethod returned an "
                               f"incompatible (output, out_dims) tuple. Expected out_dims="
                               f"{out_dims} to be compatible with the structure of `output`. "
                               f"out_dims has structure {tree_flatten(out_dims)[1]} but output "
                               f"has structure {tree_flatten(got[0])[1]}.")
        logical = tuple(BatchedTensor(_to_front(o, d), level) if d is not None else o
                        for o, d in zip(outs, dims))
        outputs = logical[0] if single else logical
    else:
        with _Lower((0, 0)):  # (generate_vmap_rule: forward runs under the transforms)
            outputs = (cls.forward(*batched, **kwargs) if split
                       else cls.forward(uctx, *batched, **kwargs))
    if split:
        cls.setup_context(uctx, tuple(batched), outputs)
    single = not isinstance(outputs, tuple)
    outs = (outputs,) if single else outputs
    plan.out_b = tuple(type(o) is BatchedTensor and o._vmap_level == level for o in outs)
    plan.uctx = uctx
    # the user's saved tensors move to this ctx as physical tensors, so that they are packed
    # like any other (no reference cycle through the segment); backward re-wraps them
    saved = getattr(uctx, "_to_save", ())
    plan.saved_b = tuple(_is_batched(t, level) for t in saved)
    ctx.save_for_backward(*[_phys_of(t, level) for t in saved])
    fwd = getattr(uctx, "_to_save_fwd", ())
    plan.fwd_b = tuple(_is_batched(t, level) for t in fwd)
    ctx.save_for_forward(*[_phys_of(t, level) for t in fwd])
    uctx._to_save = uctx._to_save_fwd = ()
    ctx.set_materialize_grads(uctx.materialize_grads)
    ctx.mark_non_differentiable(*[_phys_of(t, level) for t in uctx._non_diff])
    ctx.mark_dirty(*[_phys_of(t, level) for t in uctx._dirty])
    uctx._non_diff = uctx._dirty = ()
    ctx.plan = plan
    res = tuple(_phys_of(o, level) for o in outs)
    return res[0] if single else res


def _to_front(t, d):
    if not isinstance(t, Tensor):
        raise ValueError(f"vmap: a custom Function's vmap staticmethod returned {type(t)} with "
                         f"out_dim={d}; batched outputs must be Tensors")
    d %= t.ndim
    if d == 0:
        return t
    order = (d,) + tuple(i for i in range(t.ndim) if i != d)
    return _call("permute", _M.permute, t, order)


def _is_batched(t, level):
    return type(t) is BatchedTensor and t._vmap_level == level


def _phys_of(t, level):
    return t._phys if _is_batched(t, level) else t


def _unbatched_to_phys(r, level, size, batched_arg):
    """The user's result for one argument as the physical computation's: a batched result
    unwrapped; one shared by the examples expanded (batched argument) or a per-example result
    summed (argument shared by the examples)."""
    if r is None:
        return None
    if _is_batched(r, level):
        return r._phys if batched_arg else r._phys.sum(0)
    if batched_arg:
        return _call("expand", _M.expand, _call("unsqueeze", _M.unsqueeze, r, 0),
                     (size,) + tuple(r.shape))
    return r


@contextlib.contextmanager
def _at_level(level):
    """Batched ops dispatch at ``level`` while the user's backward or jvp runs (it may run
    after the vmap that recorded the call has returned)."""
    if _state.level >= level:
        yield
        return
    old = _state.level
    _state.level = level
    _state.warned.append(set())
    with _lock:
        _running[0] += 1
    try:
        yield
    finally:
        _state.level = old
        _state.warned.pop()
        with _lock:
            _running[0] -= 1


def _rewrap(ts, flags, level):
    return tuple(BatchedTensor(t, level) if b and t is not None else t
                 for t, b in zip(ts, flags))


def _backward(ctx, *grads):
    plan = ctx.plan
    uctx, level = plan.uctx, plan.level
    uctx._to_save = _rewrap(ctx.saved_tensors, plan.saved_b, level)
    try:
        with _at_level(level):
            res = _fn._call_backward(_UserNode(plan), _rewrap(grads, plan.out_b, level))
            res = res if isinstance(res, tuple) else (res,)
            n = len(plan.in_b)
            if len(res) > n and all(r is None for r in res[n:]):
                res = res[:n]
            if len(res) != n:
                raise RuntimeError(f"function {plan.cls._backward_name} returned an incorrect "
                                   f"number of gradients (expected {n}, got {len(res)})")
            phys = tuple(_unbatched_to_phys(r, level, plan.size, b) if isinstance(r, Tensor)
                         else r for r, b in zip(res, plan.in_b))
    finally:
        uctx._to_save = ()
    return (None,) + phys


def _jvp(ctx, _plan_tangent, *tangents):
    plan = ctx.plan
    uctx, level = plan.uctx, plan.level
    uctx._to_save_fwd = _rewrap(ctx.saved_tensors, plan.fwd_b, level)  # ctx is in its jvp
    uctx._in_jvp = True
    try:
        with _at_level(level):
            res = plan.cls.jvp(uctx, *_rewrap(tangents, plan.in_b, level))
            single = not isinstance(res, tuple)
            res = (res,) if single else res
            out = []
            for r, b in zip(res, plan.out_b + (False,) * (len(res) - len(plan.out_b))):
                if isinstance(r, Tensor) and not b and _is_batched(r, level):
                    raise RuntimeError(f"vmap: {plan.cls.__name__}'s jvp returned a batched "
                                       "tangent for an output that is not batched")
                out.append(_unbatched_to_phys(r, level, plan.size, b)
                           if isinstance(r, Tensor) else r)
    finally:
        uctx._in_jvp = False
        uctx._to_save_fwd = ()
    return out[0] if single else tuple(out)


class _UserNode:
    """What ``_call_backward`` reads of a node: the user's class and ctx."""

    __slots__ = ("cls", "ctx")

    def __init__(self, plan):
        self.cls, self.ctx = plan.cls, plan.uctx

