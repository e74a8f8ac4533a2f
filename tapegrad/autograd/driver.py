"""The backward driver: seeds, segments newest first, leaves, captures, freeing.

Both sweeps (numeric ``engine.sweep.Sweep`` and re-taping ``autograd.retape.RetapeSweep``) share
this driver. Segments are processed in decreasing ``order``: a segment only imports from lower
orders (tape.py), so every adjoint is complete before its segment is swept.
"""

import heapq
import threading
from functools import partial

import numpy as np

from .. import grad_mode as _gm
from .._float_warnings import as_user, begin_quiet, end_quiet, quiet
from .. import tape
from ..device import DeviceArray
from ..tensor import Tensor, _make, bump_version
from ..engine.pauses import Pauses
from ..engine.arena import most_of_arena
from ..engine.sweep import Sweep, begin_sweep, end_sweep
from .forward_ad import _levels as _dual_levels
from .function import custom_vjp_numeric, reverse_stops_at
from .leaf_grads import _MOST_OF_ARENA, _grad_lock, grads_from_arena
from .hooks import retain_grad, run_leaf_hooks, run_post_accumulate_hooks, run_tensor_hooks
from .node_hooks import run_record_hooks
from .prune import Pruning
from .inplace import check_python_record, check_reached
from .retape import RetapeSweep, unflat

_gm_state = _gm._state
_mode = threading.local()  # this thread's running backward: see ``accumulates_into_leaves``


def accumulates_into_leaves():
    """Whether the backward running on this thread (if any) is a plain one: no ``inputs``,
    no ``create_graph``, every reached leaf's ``.grad`` accumulated. Code that runs inside it
    (a custom Function's backward) may then add into those leaves' ``.grad`` itself: the
    end result is the same sum."""
    return getattr(_mode, "plain", False)


class AutogradPauses(Pauses):
    """What the engine's sweeps call when they pause: this layer's hooks, custom Functions
    and in-place checks (see ``engine/pauses.py``)."""

    hooks = staticmethod(as_user(run_record_hooks))  # tensor hooks, then the node's (node_hooks)
    custom_vjp = staticmethod(custom_vjp_numeric)
    check_python_record = staticmethod(check_python_record)
    check_reached = staticmethod(check_reached)


PAUSES = AutogradPauses()


class DevicePauses(AutogradPauses):
    """Pauses of the device sweep: hooks and custom Functions run on the host, on copies of
    the adjoints (``cuda_glue.HostView``); what they change is copied back to the device."""

    def hooks(self, seg, r, sweep):
        from . import cuda_glue

        view = cuda_glue.HostView(sweep)
        run_tensor_hooks(seg, r, view)
        view.write_back()
        for ref in seg.hooked.get(r, ()):  # retain_grad: the grad of a CUDA tensor is CUDA
            t = ref()
            if t is not None and t.is_cuda and t._grad is not None and not t._grad.is_cuda:
                t._grad = cuda_glue.shaped(t._grad._arr().reshape(-1), t)

    def custom_vjp(self, sweep, r):
        from . import cuda_glue

        custom_vjp_numeric(cuda_glue.HostView(sweep), r)


DEVICE_PAUSES = DevicePauses()


def _sweep_for(seg, top, create_graph):
    """The sweep for one segment: re-taping for create_graph, the device sweep for a segment
    of CUDA records (``Segment.device``), else the compiled CPU sweep."""
    if seg.device:
        if create_graph:  # the VJPs run as CUDA tensor ops, recorded on the device
            return RetapeSweep(seg), PAUSES
        from ..engine.cuda.sweep import DeviceSweep

        return DeviceSweep(seg, top), DEVICE_PAUSES
    if tape.anomaly[0] and tape.anomaly[1]:  # check each record's gradients for NaN
        from .anomaly import anomaly_retape_sweep, anomaly_sweep

        return (anomaly_retape_sweep(seg) if create_graph else anomaly_sweep(seg, top)), PAUSES
    if create_graph:
        return RetapeSweep(seg), PAUSES
    return Sweep(seg, top), PAUSES


def _on_device(target):
    """Where an adjoint handed to ``target`` (a segment or a leaf) must live."""
    return target.device if isinstance(target, tape.Segment) else \
        type(target._data) is DeviceArray


def _add_leaf(leaf_totals, create_graph, leaf, g, owned=False):
    """Add the gradient ``g`` into ``leaf``'s entry of ``leaf_totals`` (``id(leaf)`` ->
    ``[leaf, total, whether a view]``); ``owned``: ``g`` is the sweep's to give away."""
    e = leaf_totals.get(id(leaf))
    if not create_graph and (type(leaf._data) is DeviceArray or type(g) is not np.ndarray):
        from . import cuda_glue

        g = cuda_glue.moved(g, type(leaf._data) is DeviceArray)
        if e is None:
            leaf_totals[id(leaf)] = [leaf, g, False]
        else:
            e[1] = cuda_glue.add(e[1], g)
        return
    if create_graph and (type(leaf._data) is DeviceArray) != (type(g._data) is DeviceArray):
        g = g.to(leaf.device)
    if e is None:  # a copy, unless the sweep handed its own array over...
        if create_graph or owned:
            leaf_totals[id(leaf)] = [leaf, g, False]
        elif g.base is not None and g.base.size <= _SMALL_ARENA:
            # ... or a view of a small arena, copied only if it becomes a .grad of its own
            # (an in-place addition into an existing .grad reads it as it is)
            leaf_totals[id(leaf)] = [leaf, g, True]
        else:
            leaf_totals[id(leaf)] = [leaf, np.array(g), False]
    else:
        e[1], e[2] = e[1] + g, False


def run(roots, seeds, retain_graph, create_graph, inputs=None, accumulate=True, alone=False):
    """Propagate ``seeds`` (one per root) back through the tape.

    ``inputs``: tensors whose gradients are wanted (None: every leaf reached). With
    ``accumulate`` the leaves' (and retained tensors') ``.grad`` fields are updated; the
    gradients for ``inputs`` are returned in order (None where unreached). ``alone``: what
    ``_alone`` returns for these arguments, where the caller has asked it already.
    """
    leaf_totals = {}  # id(leaf) -> [leaf, total, whether total is a view (to copy if kept)]
    add_leaf = partial(_add_leaf, leaf_totals, create_graph)
    results = [None] * len(inputs) if inputs is not None else None
    if alone is False:
        alone = _alone(roots, seeds, inputs, create_graph)
    wanted = _NO_WANTED
    if alone is None:  # segments in a queue, newest first
        pending, heap = {}, []

        def push(seg, rec, g, owned=False):
            if seg.forward_only and reverse_stops_at(seg):
                return  # (no_grad values of forward mode: constants here)
            if not create_graph and (seg.device or type(g) is not np.ndarray):
                from .cuda_glue import moved

                g = moved(g, seg.device)  # across CPU and CUDA segments
            elif create_graph and seg.device != (type(g._data) is DeviceArray):
                g = g.to("cuda" if seg.device else "cpu")  # recorded: higher orders cross too
            e = pending.get(id(seg))
            if e is None:
                e = pending[id(seg)] = (seg, [])
                heapq.heappush(heap, (-seg.order, id(seg)))
            e[1].append((rec, g, owned and type(g) is np.ndarray))

        for t, g in zip(roots, seeds):
            if t._seg is None:
                add_leaf(t, _flat_seed(g, t, create_graph))
            else:
                push(t._seg, t._rec, g)
        wanted = {}  # (id(seg), rec) -> positions in inputs, for non-leaf inputs
        if inputs is not None:
            for i, t in enumerate(inputs):
                if t._seg is not None:
                    wanted.setdefault((id(t._seg), t._rec), []).append(i)
    # with inputs: only what leads to them is swept (``prune``; not for one segment whose every
    # import is an input asked for, as both gradients of a Hessian-vector product)
    pruning = None if inputs is None or alone is not None and _asks_every_import(alone, inputs) \
        else _pruning(inputs, wanted)

    gm = _gm_state.__dict__  # (this thread's flags, fetched once: see ``backward_plain``)
    prev_mode, create_graph = gm.get("grad_enabled", True), bool(create_graph)
    # a backward called under no_grad inside forward mode records plain segments (with
    # create_graph: reverse mode differentiates them again); one without create_graph is
    # outside forward mode (a hook's set_grad_enabled(False) there is plain off, not
    # FORWARD_ONLY, which would stay on for the rest of the sweep)
    forward_only = tape._local.__dict__.get("forward_only", False)
    levels = gm.get("forward_levels", 0)
    if levels and not retain_graph and _dual_levels.stack and _dual_levels.stack[-1]:
        # an open forward_ad level with duals computes tangents from these records when
        # unpack_dual asks, also after a backward (PyTorch's are computed as the ops run):
        # kept, flagged SPENT, so that a second backward through them raises as PyTorch's
        retain_graph = _SPEND
    mode = _mode.__dict__
    prev_plain, prev_task = mode.get("plain", False), mode.get("task")
    # (set without the context manager, and with no call before ``try``: no Ctrl-C between)
    gm["grad_enabled"] = create_graph
    if levels and not create_graph:
        gm["forward_levels"] = 0
    mode["plain"] = plain = inputs is None and accumulate and not create_graph
    mode["task"] = False  # (in a backward, no callback queued yet: ``queue_callback``)
    try:
        if forward_only:
            tape.set_forward_only(False)
        if alone is not None:
            _sweep_segment(alone, [(roots[0]._rec, seeds[0], False)], retain_graph,
                           create_graph, _NO_WANTED, results, leaf_totals, add_leaf, None,
                           _no_more, pruning)
        while alone is None and heap:
            _, key = heapq.heappop(heap)
            seg, seed_list = pending.pop(key)
            _sweep_segment(seg, seed_list, retain_graph, create_graph, wanted, results,
                           leaf_totals, add_leaf, push, heap.__len__, pruning)
    except BaseException:
        mode["task"] = prev_task
        raise
    finally:
        gm["grad_enabled"], mode["plain"], gm["forward_levels"] = prev_mode, prev_plain, levels
        if forward_only:
            tape.set_forward_only(True)
    try:  # (leaf hooks run in the backward: its callbacks and ``current_task`` are its own)
        results = _finish_leaves(_add_into_grads(leaf_totals.values()) if plain else
                                 leaf_totals.values(), plain, inputs, results, accumulate,
                                 create_graph)
        task = mode["task"]
    finally:
        mode["task"] = prev_task
    if task:
        _run_callbacks(task)
    return results


def backward_plain(t, seed, retain_graph):
    """``t.backward()`` of a real scalar ``t`` with history (``seed``: its implicit one).
    Where ``run`` would sweep ``t``'s segment alone (``_alone``) outside forward mode, that
    segment's ``_sweep_segment`` without ``run``'s queue, ``inputs`` and ``create_graph``
    cases, the grad-mode state fetched once (each attribute read of a thread-local costs ~500
    instructions, its per-thread ``__dict__`` one); else ``run``."""
    seg = _alone((t,), (seed,), None, False)
    gm = _gm_state.__dict__  # (this thread's; unset flags keep the class's defaults)
    if seg is None or gm.get("forward_levels", 0) or \
            tape._local.__dict__.get("forward_only", False):
        # (forward mode: ``run`` keeps its levels and records apart)
        run((t,), [seed], retain_graph, False, None, True, seg)
        return
    mode = _mode.__dict__
    prev_mode, prev_plain, prev_task = \
        gm.get("grad_enabled", True), mode.get("plain", False), mode.get("task")
    gm["grad_enabled"], mode["plain"], mode["task"] = False, True, False
    leaf_totals = {}
    try:
        _sweep_segment(seg, [(t._rec, seed, False)], retain_graph, False, None, None,
                       leaf_totals, None, None, _no_more, direct=True)
    except BaseException:
        mode["task"] = prev_task
        raise
    finally:
        gm["grad_enabled"], mode["plain"] = prev_mode, prev_plain
    try:  # (leaf hooks run in the backward: its callbacks and ``current_task`` are its own)
        rest = _add_into_grads(leaf_totals.values()) if leaf_totals else None
        if rest:
            _finish_leaves(rest, True, None, None, True, False)
        task = mode["task"]
    finally:
        mode["task"] = prev_task
    if task:
        _run_callbacks(task)


def queue_callback(fn):
    """Call ``fn()`` once the backward running on this thread has finished (its leaves'
    ``.grad`` accumulated), as PyTorch's ``Variable._execution_engine.queue_callback``."""
    mode = _mode.__dict__
    task = mode.get("task")
    if task is None:
        raise RuntimeError("Final callbacks can only be installed during backward pass.")
    if task is False:
        task = mode["task"] = []
    task.append(fn)


def current_task():
    """The list of callbacks of the backward running on this thread (made here if none was
    queued yet): its identity tells one backward from another, a reentrant one included;
    None outside a backward."""
    mode = _mode.__dict__
    task = mode.get("task")
    if task is False:
        task = mode["task"] = []
    return task


def _run_callbacks(task):
    for fn in task:  # (a callback may queue another: it runs too, as in PyTorch)
        fn()


def _alone(roots, seeds, inputs, create_graph):
    """The one segment a backward sweeps, where there is nothing to queue: one root on a CPU
    segment whose imports are all CPU leaves (no older segment to sweep after it), outside
    anomaly mode, its saved values present, ``inputs`` (if any) leaves and the seed on the
    CPU; else None. (``loss.backward()`` and a Hessian-vector product's two gradients: the
    queue of segments, pending seeds and wanted records cost ~4 µs of a ~45 µs
    ``(a * b).sum().backward()``.)"""
    if len(roots) != 1:
        return None
    seg = roots[0]._seg
    seed = seeds[0]
    if seg is None or seg.device or seg.refill is not None or seg.forward_only or \
            tape.anomaly[0] or (
            type(seed._data) is DeviceArray if create_graph else type(seed) is not np.ndarray):
        return None
    for src in seg.imports.values():
        if type(src) is tuple or type(src._data) is DeviceArray:
            return None
    for t in inputs or ():
        if t._seg is not None:
            return None
    return seg


def _asks_every_import(seg, inputs):
    """Whether every import of ``seg`` (leaves: ``_alone``'s) is one of ``inputs``."""
    for src in seg.imports.values():
        for t in inputs:
            if t is src:
                break
        else:
            return False
    return True


_SPEND = object()  # retain_graph of a backward in a forward_ad level with duals (``run``)
_NO_WANTED = {}  # (a segment swept alone: its inputs are leaves, no records wanted; not written)


def _no_more():
    return 0  # (a segment swept alone: nothing after it)


def _pruning(inputs, wanted):
    leaf_ids = {id(t) for t in inputs if t._seg is None}
    return Pruning(leaf_ids, wanted, None if leaf_ids else min(t._seg.order for t in inputs))


def _sweep_segment(seg, seed_list, retain_graph, create_graph, wanted, results, leaf_totals,
                   add_leaf, push, more, pruning=None, direct=False):
    """Sweep ``seg`` from ``seed_list`` (``(record, gradient, whether the sweep may keep
    it)``); hand what reaches its imports on to ``add_leaf`` (leaves) and ``push`` (older
    segments), the gradients of ``wanted`` records (``(id(seg), rec)`` -> positions) to
    ``results``; free or retire the segment. ``more()``: whether segments remain to sweep;
    ``pruning``: a backward with inputs, which sweeps only what leads to them; ``direct``:
    ``backward_plain``'s one segment, whose leaves' ``.grad`` may be added into at once
    (``leaf_grads``)."""
    if seg.refill is not None:  # its saved values were dropped: recomputed first
        seg.refill(seg)
    begin_sweep(seg)  # (``with sweeping(seg)``, without an object per segment)
    quiet = begin_quiet()  # IEEE results without NumPy's warnings (_float_warnings)
    try:  # nothing this sweep may read is released meanwhile
        top = seed_list[0][0] if len(seed_list) == 1 else max(e[0] for e in seed_list)
        if seg.device or create_graph or tape.anomaly[0]:
            sw, pauses = _sweep_for(seg, top, create_graph)
        else:
            sw, pauses = Sweep(seg, top), PAUSES
        if pruning is not None and hasattr(sw, "prune"):  # (the device sweep: all of it)
            masks = pruning.masks(seg)
            if masks is not None:
                sw.prune(*masks)
        numeric = type(sw) is Sweep
        if numeric:  # adjoints read after the sweep: imports, inputs=
            sw.keep = {rec for sid, rec in wanted if sid == id(seg)} if wanted else _NOTHING
        for rec, g, owned in seed_list:
            if owned and numeric:  # a private copy: the sweep may keep it
                sw.seed(rec, g, owned=True)
            else:
                sw.seed(rec, g)
        sw.run(top, 0, pauses, free=not retain_graph)
        for (sid, rec), positions in wanted.items() if wanted else ():
            if sid == id(seg) and rec in _reached_set(sw, rec):
                g = sw.grad_of(rec)
                for i in positions:
                    results[i] = g if create_graph else (
                        g.copy() if type(g) is np.ndarray else _moved(g, True))
        if numeric and not sw.held:  # the common case, read straight from the arena
            if direct:
                grads_from_arena(sw, leaf_totals)
            else:
                _imports_from_arena(sw, leaf_totals, add_leaf, push, more)
        else:  # (``add_leaf`` None: ``backward_plain``'s, made only where it is needed)
            _imports(sw, add_leaf or partial(_add_leaf, leaf_totals, False), push, create_graph)
        if not retain_graph or retain_graph is _SPEND:
            sw.free(retain_graph is _SPEND)
        else:
            # New records go to a fresh segment after every backward, retained or not: a
            # loop of create_graph / retain_graph steps otherwise keeps appending to the
            # segment its dead iterations live on (still referenced by the last output).
            tape.retire(seg)
    finally:
        end_quiet(quiet)
        end_sweep(seg)


def _finish_leaves(rest, plain, inputs, results, accumulate, create_graph):
    """The leaves' totals ``rest`` (``[leaf, total, whether a view]``) left after
    ``_add_into_grads``: their hooks, ``.grad`` accumulation and ``inputs``' results."""
    positions = {id(t): i for i, t in enumerate(inputs)} if inputs is not None else None
    for leaf, total, view in rest:
        if positions is not None and id(leaf) not in positions:
            continue  # not asked for: PyTorch runs neither its hooks nor its accumulation
        if plain and not leaf._hooks and leaf._rg and _add_into_grad(leaf, total):
            if leaf._post_hooks:
                run_post_accumulate_hooks(leaf, create_graph)
            continue
        if view:  # (a view of an arena: the gradient's own memory from here on)
            total = np.array(total)
        g = own = _shaped(total, leaf, create_graph)  # ``total`` is a private copy
        if leaf._hooks:
            with _gm.set_grad_enabled(create_graph):  # hooks see grad mode off unless create_graph
                g = run_leaf_hooks(leaf, g)
        if positions is not None and id(leaf) in positions:
            for i, t in enumerate(inputs):
                if t is leaf:
                    results[i] = g
        if accumulate:
            if leaf._rg:  # PyTorch: a leaf switched to requires_grad=False keeps its .grad
                _accumulate(leaf, g, create_graph, owned=g is own)
            if leaf._post_hooks:
                run_post_accumulate_hooks(leaf, create_graph)
    if inputs is not None:
        for i, t in enumerate(inputs):
            if t._seg is not None and results[i] is not None:
                results[i] = _shaped(results[i], t, create_graph)
                # non-leaf inputs= get their .grad and retain it from here on (as in PyTorch);
                # one retained already had it stored by the sweep (twice asked for: once)
                if accumulate and not t._retains:
                    _accumulate(t, results[i], create_graph)
                    retain_grad(t)
    return results


_NOTHING = frozenset()
# Arena elements up to which a leaf's gradient may stay a view of the arena until the end of
# the backward (no copy when it is added into an existing .grad) also while other segments are
# swept; above, it is copied then, so that the arena can be released before the next sweep.
# (1 MB: a 64-wide network checkpointed in ten segments keeps its ten 0.7 MB arenas, about
# what its one arena would be without checkpointing, instead of copying 100 weight gradients.)
_SMALL_ARENA = 1 << 17


def _imports_from_arena(sw, leaf_totals, add_leaf, push, more):
    """Hand the adjoints of ``sw``'s reached IMPORT records on: to leaves (``add_leaf``,
    inlined for CPU leaves), or to the segments they were imported from (a copy: the arena
    is not theirs). The numeric sweep with nothing held apart: every adjoint is a slice of
    the arena. Leaves keep those slices until their gradients are accumulated (no copy where
    one is added into an existing ``.grad``), unless the arena is large and other segments
    are still to be swept (``more()``, asked at the end): then they are copied, so that the
    arena is released before the next sweep."""
    seg, adj, offs, reached = sw.seg, sw.adj, sw.offs, sw.reached
    if sw.needed is not None:  # (pruned: what leads to no input asked for stays here)
        reached = reached & sw.needed
    n = len(reached)
    views = None if len(adj) <= _SMALL_ARENA else []
    for r, src in list(seg.imports.items()):
        if r < n and reached[r]:
            g = adj[offs[r] : offs[r + 1]]
            if type(src) is tuple:
                push(src[0], src[1], g.copy(), True)
            elif type(src._data) is DeviceArray:
                add_leaf(src, g)
            else:
                e = leaf_totals.get(id(src))
                if e is not None:
                    e[1], e[2] = e[1] + g, False
                else:
                    # (most of the arena: the leaf's new .grad itself, see ``most_of_arena``)
                    e = leaf_totals[id(src)] = [src, g, _MOST_OF_ARENA if most_of_arena(adj, g)
                                                else True]
                    if views is not None:
                        views.append(e)
    if views and more():
        for e in views:
            if e[2]:
                e[1], e[2] = e[1].copy(), False


def _imports(sw, add_leaf, push, create_graph):
    """``_imports_from_arena`` for any sweep."""
    take = getattr(sw, "take", None)  # the CPU sweep hands large adjoints over
    needed = getattr(sw, "needed", None)
    for r, src in list(sw.seg.imports.items()):
        if not _is_reached(sw, r) or needed is not None and not needed[r]:
            continue
        g, owned = take(r) if take is not None else (sw.grad_of(r), False)
        if isinstance(src, Tensor):
            add_leaf(src, g, owned)
        else:
            push(src[0], src[1], g if create_graph or owned else
                 g.copy() if type(g) is np.ndarray else g, not create_graph)


def _add_into_grads(totals):
    """``_add_into_grad`` for the leaves of a plain backward without hooks, under one lock;
    returns the entries left for the general path. A leaf without a ``.grad`` gets its total
    as its new ``.grad`` (a copy where it is a view: a ``.grad`` owns its memory), as
    ``_accumulate`` would, without the general path's intermediate steps."""
    rest = []
    with _grad_lock:
        for e in totals:
            leaf, total = e[0], e[1]
            d = leaf._data
            if leaf._hooks or leaf._post_hooks or not leaf._rg or type(d) is not np.ndarray \
                    or type(total) is not np.ndarray or total.dtype is not d.dtype:
                rest.append(e)
                continue
            old = leaf._grad
            if old is None:
                if e[2] and e[2] is not _MOST_OF_ARENA:
                    total = total.copy()
                leaf._grad = _make(total.reshape(d.shape))
                continue
            if old._rg or type(old._data) is not np.ndarray or not old._data.flags.writeable:
                rest.append(e)
                continue
            od = old._data
            if od.shape != total.shape:
                total = total.reshape(od.shape)
            od += total  # (the same dtype: the operator, which parses no keywords)
            bump_version(old)
    return rest


def _moved(g, on_device):
    from .cuda_glue import moved

    return moved(g, on_device)


def _is_reached(sw, r):
    reached = sw.reached
    if isinstance(reached, dict):
        return r in reached
    return r < len(reached) and bool(reached[r])


def _reached_set(sw, rec):
    return (rec,) if _is_reached(sw, rec) else ()


def _flat_seed(g, t, create_graph):
    if create_graph or type(g) is DeviceArray:
        return g
    return np.asarray(g, np.float64).reshape(-1)  # complex seeds come as (re, im) pairs


def _shaped(total, t, create_graph):
    """A flat gradient as a tensor of ``t``'s shape and dtype."""
    d = t._data
    if type(d) is np.ndarray and type(total) is np.ndarray:  # the common case, quickly
        if d.dtype.kind == "c" and total.dtype.kind != "c":  # the arena's (re, im) pairs
            total = np.ascontiguousarray(total, np.float64).view(np.complex128)
        arr = total.reshape(d.shape)
        try:
            return _make(arr if arr.dtype is d.dtype else arr.astype(d.dtype))
        except RuntimeWarning:  # (past float32's range: inf; a user's filter raised it)
            return _make(quiet(arr.astype, d.dtype))
    if isinstance(total, Tensor):
        g = unflat(total, tuple(t.shape))
        if g.dtype != t.dtype and (t.dtype.kind == "f" or t.dtype.kind == g.dtype.kind == "c"):
            g = g.to(t.dtype)  # a float32 (complex64) input gets a gradient of its own dtype
        return g
    if type(total) is not np.ndarray or type(t._data) is DeviceArray:
        from . import cuda_glue

        if type(t._data) is DeviceArray:
            return cuda_glue.shaped(total, t)
        total = cuda_glue.host_copy(total)
    arr = np.asarray(total)
    arr = arr.reshape(t.shape).astype(t.dtype, copy=False)
    return _make(arr if arr.ndim or arr.dtype != np.float64 else float(arr))


def _add_into_grad(leaf, total):
    """The commonest accumulation, done without the intermediate tensor: an existing CPU
    ``.grad`` of the leaf's dtype gets the flat ``total`` (same dtype) added in place, exactly
    as ``_accumulate(leaf, _shaped(total, leaf, False), False)`` would. False (nothing done)
    in every other case, which the general path handles."""
    d = leaf._data
    if type(d) is not np.ndarray or type(total) is not np.ndarray or total.dtype is not d.dtype:
        return False
    with _grad_lock:
        old = leaf._grad
        if old is None or old._rg or type(old._data) is not np.ndarray or \
                not old._data.flags.writeable:
            return False
        np.add(old._data, total.reshape(d.shape), out=old._data, casting="unsafe")
        bump_version(old)
    return True


def _accumulate(t, g, create_graph, owned=False):
    """Add ``g`` into ``t.grad`` (in place, keeping the grad object, as PyTorch does)."""
    with _grad_lock:
        old = t._grad
        if type(g._data) is DeviceArray or old is not None and type(old._data) is DeviceArray:
            from . import cuda_glue

            if old is None:
                t._grad = g if owned else cuda_glue.owned_copy(g)
            elif type(old._data) is DeviceArray and type(g._data) is DeviceArray:
                cuda_glue.accumulate_into(old, g)
                bump_version(old)
            else:
                raise RuntimeError(f"a .grad on {old.device} cannot accumulate a gradient on "
                                   f"{g.device}")
            return
        if old is None:
            if not create_graph and not owned and type(g._data) is not float:
                g = _make(np.array(g._data))  # a hook's or the arena's memory: take a copy
            t._grad = g
        elif create_graph or g._rg:
            t._grad = old + g  # out of place: keeps the history (as PyTorch under create_graph)
        elif old._rg or type(old._data) is np.ndarray and not old._data.flags.writeable:
            # a .grad made under create_graph: added into in place, as PyTorch does, outside
            # create_graph (a reference to it sees the total); an expanded one: add_ refuses
            # it in PyTorch's words
            with _gm.no_grad():
                old.add_(g)
        elif type(old._data) is float:
            old._data = old._data + (g._data if type(g._data) is float else float(g._data))
        else:
            np.add(old._data, g._data, out=old._data, casting="unsafe")
            bump_version(old)
