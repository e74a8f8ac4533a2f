"""Activation checkpointing (``torch.utils.checkpoint``).

``checkpoint(fn, *args)`` runs ``fn`` with grad mode on, on a tape segment of its own, and
keeps that segment's records (48 bytes each) but drops its saved values; the segment's
``refill`` recomputes them when a sweep first reaches it: ``fn`` runs again on a fresh segment,
whose records must match the kept ones, and whose value tables the kept segment takes over.
The backward then sweeps the records of the first run as if nothing had been dropped, so
gradients reach ``args`` and everything ``fn`` reads from elsewhere (module parameters,
closures), hooks and ``inputs=`` work as without checkpointing, and the only extra cost is the
recomputation (as in PyTorch's non-reentrant checkpoint, whose saved-tensor hooks do the same).
The random state is restored for the recomputation, and an in-place change of a tensor ``fn``
read since raises PyTorch's error instead of giving a wrong gradient.

When ``fn``'s records do not fit one segment (it runs a backward itself, or reads the output
of a checkpoint nested in it after recording something), on CUDA, or under ``vmap``, the
checkpoint is instead one custom Function of ``args`` and the tensors that require grad
``fn`` reads (``fn`` runs once more to note them): its records are dropped, and its backward
runs ``fn`` again reading detached stand-ins for them and takes ``tg.autograd.grad`` of the
recomputed outputs with respect to those (a backward inside a backward, which the engine
supports). Inside a plain ``backward()`` leaves without hooks get no stand-in there: the
recomputation reads them and its inner backward adds into their ``.grad`` directly.
"""

import threading
import warnings
import weakref

import numpy as np

from .. import _config
from .. import creation as _creation
from .. import grad_mode as _gm
from .. import tape, tape_watch
from ..autograd import Function
from ..autograd import backward as _backward
from ..autograd import function as _function
from ..autograd import grad as _grad
from ..autograd.inplace import tensor_producer, version_message
from ..ops.record import PyRecord
from ..tensor import Tensor
from . import checkpoint_replay

__all__ = ["checkpoint", "checkpoint_sequential"]


class _Computed:
    """The outputs of the discovering run, handed to ``forward`` (not a tensor argument)."""

    def __init__(self, outputs):
        self.outputs = outputs

    def detached(self):
        o = self.outputs
        if isinstance(o, tuple):
            return tuple(t.detach() if isinstance(t, Tensor) else t for t in o)
        return o.detach() if isinstance(o, Tensor) else o


class _Checkpoint(Function):
    generate_vmap_rule = True  # under vmap fn runs on the batch, as does its recomputation

    @staticmethod
    def forward(ctx, fn, computed, rng, n_kw, n_captured, *args):
        user = args[:len(args) - n_captured]
        ctx.fn, ctx.n_kw, ctx.rng = fn, n_kw, rng
        ctx.tensor_idx = [i for i, a in enumerate(user) if isinstance(a, Tensor)]
        ctx.save_for_backward(*[user[i] for i in ctx.tensor_idx], *args[len(user):])
        ctx.others = [None if isinstance(a, Tensor) else a for a in user]
        return computed.detached() if computed is not None else _call(fn, user, n_kw)

    @staticmethod
    def backward(ctx, *grads):
        saved = ctx.saved_tensors
        k = len(ctx.tensor_idx)
        args = list(ctx.others)
        # a create_graph backward runs this with grad mode on: recompute from the inputs
        # themselves so that the gradient stays a function of them (higher order); else
        # from detached stand-ins, where the inner backward stops
        create = _gm.is_grad_enabled()
        # inside a plain ``backward()`` (every leaf's .grad accumulated, nothing else asked
        # for), a leaf without hooks needs no stand-in: the inner backward adds into its .grad
        # directly, as the outer one would have (the same sum, two copies fewer per leaf)
        direct = not create and _accumulates_into_leaves()
        inputs = []
        for i, t in zip(ctx.tensor_idx, saved[:k]):
            as_is = direct and _direct(t)  # its gradient goes straight to its .grad
            d = t if as_is or (create and t.requires_grad) else t.detach()
            if t.requires_grad and d.dtype.kind == "f" and not as_is:
                if d is not t:
                    d.requires_grad_(True)
                inputs.append((i, d))
            args[i] = d
        captured, subs = [], {}
        for c in saved[k:]:
            if create or (direct and _direct(c)):
                captured.append(c if create else None)  # read as it is
                continue
            d = subs[tape_watch.import_key(c)] = c.detach().requires_grad_(True)  # fn reads it
            captured.append(d)  # from a closure or a module: substituted on import
        # a segment of its own (not the one being swept): the inner backward's arena then
        # spans the recomputed records alone
        # the substitution lasts through the inner backward too: a checkpoint nested in fn
        # recomputes there, and must read these stand-ins (it adds its own on top)
        with tape_watch.substitute_imports(subs), _random_state(ctx.rng):
            with _gm.enable_grad():
                outs = _call(ctx.fn, args, ctx.n_kw)
            outs = outs if isinstance(outs, tuple) else (outs,)
            pairs = [(o, g) for o, g in zip(outs, grads)
                     if isinstance(o, Tensor) and o.requires_grad and g is not None]
            res, cres = [None] * len(args), [None] * len(captured)
            wrt = [d for _, d in inputs] + [d for d in captured if d is not None]
            if pairs and direct:
                _backward([o for o, _ in pairs], [g for _, g in pairs])
                for i, d in inputs:
                    res[i] = d.grad
                cres = [None if d is None else d.grad for d in captured]
            elif pairs and wrt:
                got = _grad([o for o, _ in pairs], wrt, [g for _, g in pairs],
                            allow_unused=True, create_graph=create)
                for (i, _), g in zip(inputs, got):
                    res[i] = g
                cres = got[len(inputs):]
        return (None, None, None, None, None) + tuple(res) + tuple(cres)


class _random_state:
    """``with _random_state(state)``: the default generator at ``state`` (None: as it is),
    then back where it was: a recomputation draws the numbers the forward drew."""

    __slots__ = ("state", "outside")

    def __init__(self, state):
        self.state = state

    def __enter__(self):
        if self.state is not None:
            gen = _creation._rng.bit_generator
            self.outside, gen.state = gen.state, self.state

    def __exit__(self, *exc):
        if self.state is not None:
            _creation._rng.bit_generator.state = self.outside


def _direct(t):
    """A leaf whose gradient the inner backward may add into its ``.grad`` itself: real, on
    the CPU (an ndarray), without hooks (which must see the total once) and not batched by
    vmap."""
    d = t._data
    return (t._seg is None and t._rg and not t._hooks and not t._post_hooks
            and type(d) is np.ndarray and d.dtype.kind == "f"
            and not getattr(t, "_vmap_level", 0))


def _accumulates_into_leaves():
    """``autograd.driver.accumulates_into_leaves`` (imported when first needed: a backward is
    running then, so the driver is loaded; importing it with this module would load Numba)."""
    global _accumulates_into_leaves
    from ..autograd.driver import accumulates_into_leaves

    _accumulates_into_leaves = accumulates_into_leaves
    return accumulates_into_leaves()


def _drop_values(seg):
    """Drop what ``seg``'s records saved (arrays, index arrays, the inputs of Python-op
    records); the records stay, so that the segment can still be swept once refilled."""
    keep = checkpoint_replay.constants(seg)  # (what a replay cannot recompute)
    with seg.lock:
        avals = seg.avals
        dropped = seg.avals = [None] * len(avals)
        for i in keep:
            dropped[i] = avals[i]
        seg.ivals = [None] * len(seg.ivals)
        seg.abytes, seg.big_saved = 0, None
        for entry in seg.pyaux:
            if type(entry) is PyRecord:
                # (a product keeps what it saved of a constant input)
                entry.saved = checkpoint_replay.product_constants(entry)
                entry.out = None
            elif hasattr(entry, "release"):  # a custom Function's saved tensors
                entry.release()


class _OwnSegment:
    """``with _OwnSegment() as seg``: records made inside go to a fresh segment ``seg``,
    closed afterwards (``alone``: it was still current then, nothing had closed it); the
    caller's segment, if still open, is current again, as after ``tape_watch.watch_imports``. It
    does not count towards the tape's prune schedule (``tape._maybe_prune``), which walks
    every live segment: checkpointing opens two segments per call."""

    __slots__ = ("outer", "resume", "seg", "alone")

    def __enter__(self):
        local = tape._local
        self.outer, self.resume = local.seg, local.resume
        local.resume = self.outer  # reading the caller's records does not close its segment
        seg = self.seg = local.seg = tape.Segment()
        local.live.add(seg)  # (counted by tape_stats)
        if tape.anomaly[0]:
            seg.check_at = 0  # each op passes through tape.current, which notes its stack
        return seg

    def __exit__(self, *exc):
        local, seg = tape._local, self.seg
        self.alone = local.seg is seg and not seg.retired
        local.resume = self.resume
        tape.close_current()
        if self.outer is not None and not self.outer.retired and local.seg is None:
            local.seg = self.outer


_gm_state = _gm._state


class _Refill:
    """``Segment.refill`` of a checkpointed segment: runs the function again and hands its
    values to the kept records."""

    def __init__(self, fn, args, kwargs, rng, seg, start):
        self.fn, self.args, self.kwargs, self.rng = fn, args, kwargs, rng
        # the tensors the function read, and their versions: changed in place since, the
        # recomputation would silently differ from the forward (the leaves it imported and
        # every tensor argument, as PyTorch saves its checkpoint's arguments: also one with
        # history, whose change under no_grad leaves its record as it was)
        read = [t for t in seg.imports.values() if type(t) is not tuple]
        for a in (*args, *kwargs.values()) if kwargs else args:
            if isinstance(a, Tensor) and (not a._rg or a._seg is not None):
                read.append(a)
        self.read = read
        self.versions = [t._vcounter()[0] for t in read]
        self.n, self.start = seg.n, start
        # one lock per checkpoint, not one for all: a function whose recomputation waits for
        # another thread that recomputes a checkpoint of its own (a worker taking a gradient)
        # would otherwise wait forever
        self.lock = threading.RLock()

    def __call__(self, seg):
        # one thread recomputes; a backward on another thread that reaches the segment
        # meanwhile waits here, then finds it filled (``refill`` is cleared only once done)
        with self.lock:
            if seg.refill is self:
                self._refill(seg)  # (raising, it stays set: the next sweep tries again)
                seg.refill = None

    def _refill(self, seg):
        for t, ver in zip(self.read, self.versions):
            if t._vc[0] != ver:  # (named as PyTorch: after the op that produced it last)
                raise RuntimeError(version_message(t.shape, t.dtype, tensor_producer(t),
                                                   t._vc[0], ver))
        if checkpoint_replay.replay(seg, (*self.args, *self.kwargs.values())):
            return  # recomputed from the records, without running the function
        mode = _gm_state.grad_enabled
        try:  # (the same random numbers as the first run: dropout)
            mode, _gm_state.grad_enabled = _gm_state.grad_enabled, True  # (enable_grad)
            scope = _OwnSegment()
            with _random_state(self.rng), scope as fresh:
                start = fresh.order
                # no early close: the first run fitted this one segment
                fresh.check_at, fresh.bcheck = self.n, float("inf")
                outputs = self.fn(*self.args, **self.kwargs)
        finally:
            _gm_state.grad_enabled = mode
        del outputs
        _take_values(seg, fresh, scope.alone, self.start, start)


def _take_values(seg, fresh, alone, start, fresh_start):
    """``seg`` (records kept, values dropped) takes the value tables of ``fresh``, the
    recomputation's segment, after checking that it recorded the same operations on the
    same inputs. ``seg`` keeps its own records, with the first run's flags (its hooks)."""
    if not (alone and _same_records(seg, fresh)):
        raise RuntimeError(
            "torch.utils.checkpoint: Recomputed values have different metadata than during "
            f"the forward pass: the checkpointed function recorded {seg.n} operations the "
            f"first time and {fresh.n} (or others) in the recomputation. It must run the "
            "same operations both times.")
    if not _same_sources(seg.imports, fresh.imports, start, fresh_start):
        raise RuntimeError(
            "one of the variables needed for gradient computation has been modified by an "
            "inplace operation: a tensor the checkpointed function read is another version "
            "(or another tensor) in its recomputation than in the forward pass.")
    with seg.lock:
        _take_tables(seg, fresh)


def _same_records(seg, fresh):
    """Whether ``fresh``'s records are ``seg``'s, flags aside."""
    if seg.n != fresh.n:
        return False
    if not seg.nbuf and not fresh.nbuf:  # both still pending (so without flags): as lists
        return seg.ints == fresh.ints
    diff = seg.records() ^ fresh.records()
    diff[:, tape.OP] &= tape.CODE_MASK
    return not diff.any()


def _same_sources(kept, fresh, start, fresh_start):
    """Whether every import kept (some may have been pruned) reads what the recomputation's
    import of the same record reads: the same leaf, the same record of the same segment, or
    the same record of a segment the function opened itself (a checkpoint nested in it),
    opened after ``start`` by the forward and after ``fresh_start`` by the recomputation."""
    for r, src in kept.items():
        other = fresh.get(r)
        if other is src:
            continue
        if not (type(src) is tuple and type(other) is tuple and src[1] == other[1] and (
                src[0] is other[0] or (src[0].order > start
                                       and other[0].order > fresh_start))):
            return False
    return True


def _take_tables(seg, fresh):
    seg.fvals, seg.avals, seg.avers, seg.ivals = fresh.fvals, fresh.avals, fresh.avers, \
        fresh.ivals
    seg.iaux, seg.faux, seg.pyaux = fresh.iaux, fresh.faux, fresh.pyaux
    seg.imports, seg.foreign = fresh.imports, fresh.foreign
    seg.epoch, seg.n32, seg._cache = fresh.epoch, fresh.n32, None
    for entry in seg.pyaux:  # custom Functions recorded there unpack their outputs on seg
        if type(entry) is not PyRecord:
            ref = getattr(entry, "seg", None)
            if ref is not None and ref() is fresh:
                entry.seg = weakref.ref(seg)


def _call(fn, args, n_kw):
    if not n_kw:
        return fn(*args)
    pos, kv = args[:len(args) - 2 * n_kw], args[len(args) - 2 * n_kw:]
    return fn(*pos, **dict(zip(kv[0::2], kv[1::2])))


def checkpoint(function, *args, use_reentrant=None, context_fn=None, determinism_check="default",
               debug=False, preserve_rng_state=True, **kwargs):
    """``function(*args, **kwargs)`` whose intermediate values are recomputed in backward.

    Gradients reach ``args`` and every tensor ``function`` reads from elsewhere (a module's
    parameters, a closure), as in PyTorch's non-reentrant checkpoint.

    Example:
        >>> import tapegrad as tg
        >>> from tapegrad.utils.checkpoint import checkpoint
        >>> x = tg.tensor([1., 2.], requires_grad=True)
        >>> checkpoint(lambda a: (a.sin() * a).sum(), x, use_reentrant=False).backward()
        >>> x.grad
        tensor([1.3818, 0.0770])
    """
    if use_reentrant is None:
        warnings.warn("torch.utils.checkpoint: the use_reentrant parameter should be passed "
                      "explicitly. Refer to docs for more details on the differences between "
                      "the two variants.", UserWarning, stacklevel=2)
        use_reentrant = True  # (PyTorch's default)
    if use_reentrant:  # (the reentrant variant takes positional arguments only)
        _reentrant_arguments(kwargs, context_fn, debug)
    if not _gm.is_grad_enabled():
        return function(*args, **kwargs)
    flat_kw = []
    for k, v in kwargs.items():
        flat_kw += [k, v]
    # the random state before the function's first draw, if it draws (None: nothing to
    # restore for a recomputation)
    rng = [None]
    if not _function._vmap_running[0]:  # (under vmap: the custom Function's batching rule)
        # one run with grad mode on, on a segment of its own, kept without its values
        scope = _OwnSegment()
        wanted = _creation.state_wanted
        outer = wanted.slots
        if preserve_rng_state:
            wanted.slots = (*outer, rng)
        try:
            with scope as seg:
                start = seg.order  # (segments opened by the function itself come after)
                if not tape.anomaly[0]:
                    # one segment however large: all of it is needed at once in backward anyway
                    seg.check_at, seg.bcheck = _config.SEGMENT_CAP, float("inf")
                outputs = function(*args, **kwargs)
        finally:  # (a draw inside filled the slots of the enclosing checkpoints too)
            wanted.slots = tuple(s for s in outer if s[0] is None) if outer else ()
        if scope.alone and not seg.device:
            if seg.n:  # (nothing recorded: nothing it read requires grad)
                _drop_values(seg)
                seg.refill = _Refill(function, args, kwargs, rng[0], seg, start)
            return outputs
        # its records went to more than one segment: run it again as a custom Function
        del outputs
        if rng[0] is not None:
            _creation._rng.bit_generator.state = rng[0]
    # one run noting which tensors that require grad it reads besides ``args``
    with tape_watch.watch_imports() as seen:
        outputs = function(*args, **kwargs)
    # its records are dropped: only its values stay, as the outputs of a custom Function
    explicit = set()
    for a in (*args, *flat_kw):
        while isinstance(a, Tensor):  # a vmap-batched tensor reads its physical tensor
            explicit.add(id(a))
            a = getattr(a, "_phys", None)
    captured = list({id(t): t for t in seen if id(t) not in explicit}.values())
    if not captured and not any(isinstance(a, Tensor) and a.requires_grad
                                for a in (*args, *flat_kw)):
        return outputs  # nothing it reads requires grad: no graph to keep
    # under vmap the Function's batching rule runs forward on the batch itself
    batched = any(getattr(a, "_vmap_level", 0) for a in (*args, *flat_kw, *captured))
    computed = None if batched else _Computed(outputs)
    del outputs
    return _Checkpoint.apply(function, computed, rng[0], len(kwargs), len(captured), *args,
                             *flat_kw,
                             *captured)


def _reentrant_arguments(kwargs, context_fn, debug):
    """PyTorch's refusals of the arguments its reentrant checkpoint does not take."""
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    if context_fn is not None or debug is not False:
        raise ValueError("Passing `context_fn` or `debug` is only supported when "
                         "use_reentrant=False.")


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Run ``functions`` (a list or ``nn.Sequential``) in ``segments`` chunks of
    ``len(functions) // segments``, all checkpointed but the last (which takes the rest)."""
    if use_reentrant is None:
        warnings.warn("torch.utils.checkpoint.checkpoint_sequential: the use_reentrant parameter "
                      "should be passed explicitly. Refer to docs for more details on the "
                      "differences between the two variants.", UserWarning, stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    fns = list(functions.children()) if hasattr(functions, "children") else list(functions)

    def run(chunk):
        def f(x):
            for m in chunk:
                x = m(x)
            return x
        return f

    size = len(fns) // segments
    end = 0
    for start in range(0, size * (segments - 1), size):
        end = start + size
        input = checkpoint(run(fns[start:end]), input, use_reentrant=use_reentrant,
                           preserve_rng_state=preserve)
    return run(fns[end:])(input)
