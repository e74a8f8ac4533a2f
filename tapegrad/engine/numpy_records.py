"""Large elementwise records swept by NumPy, with their adjoints held apart from the arena.

The numeric sweep (``engine.sweep.Sweep``) pauses at an elementwise record of ``BIG`` elements
or more and runs its formulas here on whole arrays (``numpy_vjp``). When the arena is large, such
records' adjoints live in arrays of their own (``arena.slot_kinds``, ``Sweep.held``), and the formulas
write their results into held arrays that nothing reads any more instead of fresh ones.
"""

import sys
import weakref
from functools import partial

import numpy as np

from .. import tape
from .._bounded_cache import bounded_cache
from ..registry import PYTHON_BASE, REGISTRY, Op, numpy_formula
from .broadcast_vjp import reduced_vjp
from . import chains
from .chains import NOW, start, stop

BIG = 4096  # elements from which NumPy sweeps a record; must equal BIG in _sweep_dispatch


def saved_values(seg, d, v, shaped=False):
    """``(x, y, out, m)`` saved by an elementwise record of op ``d`` whose values start at
    ``v`` (the record's V field): flat arrays, or floats for a one-element record; None for
    what the op does not save. An operand saved broadcast (``broadcast_saved``, a view of the
    record's shape) is flattened into a C-contiguous copy, or, ``shaped``, given as that view."""
    vals = [None, None, None, None]
    if v >= 0:
        start, arrays = v >> 1, v & 1
        table = seg.avals if arrays else seg.fvals
        for k, name in enumerate(d.saves):
            val = table[start + k]
            if arrays:
                if type(val) is not np.ndarray or val.flags.c_contiguous:  # (or on a device)
                    val = val.reshape(-1)
                elif not shaped:  # a broadcast view
                    val = np.ascontiguousarray(val).reshape(-1)
            vals[_SAVED_AT[name]] = val
    return vals


_SAVED_AT = {"x": 0, "y": 1, "out": 2, "m": 3}


def numpy_vjp(sw, r, code):
    """Sweep ``sw``'s large elementwise record ``r`` (op ``code``): its formulas on whole
    NumPy arrays (SIMD, no switch); bound as the method ``Sweep._numpy_vjp``.

    With adjoints held apart (``own``), results are written into arrays the sweep holds
    and nothing reads any more: the record's own adjoint when it is dead after this record
    (the last formula writes over it), else one of the arrays dropped by earlier records
    (``Sweep.spares``); fresh arrays only where neither is at hand. The first touch of a fresh
    large array costs page faults, often more than the pass that writes it."""
    seg, rec, d = sw.seg, sw.recs[r], REGISTRY[code]
    v, aux = int(rec[tape.V]), int(rec[tape.AUX])
    c0 = seg.faux[aux] if d.nconst >= 1 else 0.0
    c1 = seg.faux[aux + 1] if d.nconst >= 2 else 0.0
    slots = (int(rec[tape.A]), int(rec[tape.B]))
    g = sw.grad_of(r)
    vals = saved_values(seg, d, v, shaped=True)
    args = (g, *vals, c0, c1)
    rules, fresh = d.numpy_rules(), ()
    outs = None  # (``_out_rules``: only where a formula has no compiled loop)
    shaped = False
    for a in vals:
        if type(a) is np.ndarray and a.ndim > 1:  # an operand saved broadcast: formulas
            args, rules, outs, fresh = _shaped(args, rules, _out_rules(d, args), a.shape)
            shaped = True
            break
    # the passes: at once, or pending in a chain of records of g's size (``chains``)
    if sw.later is None and g.size * g.itemsize < 2 * chains.CHUNK:
        do = NOW  # (no chain pending, and too small to start one)
    else:
        do = start(sw, g.size, g.itemsize) if not shaped and _flat(args, g.size) else stop(sw)
    todo = [k for k in (0, 1) if slots[k] >= 0 and rules[k] is not None]  # constants: none
    for k in reduced_vjp(sw, code, slots, todo, g, vals, args, rules):  # broadcast operands:
        todo.remove(k)  # gradients summed as they are computed (accurately in float32)
    grads = [None, None]
    if _all_ones(g):  # seeded by a full sum: g * v is v, handed on read-only (no pass)
        for k in tuple(todo):
            grads[k] = _handed_on(d, k, vals, g)
            if grads[k] is not None:
                todo.remove(k)
                if sw.freeing and sw.own is not None:
                    _note_whole(sw, seg, d, v, k, grads[k])
    filled = None  # a full sum's broadcast g written out for the compiled loops to read
    if g.strides == (0,) and g.size > 1 and not shaped and \
            any(_loop_entry(0, code, k, g.dtype, c0) is not None for k in todo):
        # (NumPy's select over a broadcast takes ~4 ns an element, a fill and the loop ~1)
        filled = spare(sw, g.size, g.dtype) if sw.spares else None
        if filled is None:
            filled = np.empty(g.size, g.dtype)
        do.any(_fill, filled, g[0])
        g = filled
        args = (g, *args[1:])
    # x * x: one product (g * x, twice) serves both inputs, as the two formulas agree
    twice = code == Op.MUL and len(todo) == 2 and slots[0] == slots[1]
    both = None  # x * x: loops writing and adding both gradients in one pass
    if twice:
        todo, both = [0], _self_product(args, do)
    if not shaped and (len(todo) == 1 or slots[0] != slots[1]):  # (x - x: in order, below)
        for k in tuple(todo):  # adjoints that hold a gradient: each formula added in one pass
            dst = _sum_so_far(sw, slots[k], g, args)
            add = dst is not None and (both[1] if both else add_loop(code, k, args, do))
            if add:
                for _ in range(1 + (twice and not both)):
                    add(dst)
                todo.remove(k)
    if sw.own is None:
        # a result whose input nothing reached yet is written straight into that input's arena
        # slot (its first gradient would be copied there): one pass and one array fewer
        into = [None, None]
        for k in todo:
            loop = both[0] if both else formula_loop(code, k, args, do)
            if loop is not None:
                dst = _arena_slot(sw, slots, todo, k, g.size)
                grads[k], into[k] = loop(dst), dst
                continue
            if outs is None:
                outs = _out_rules(d, args)
            dst = _arena_slot(sw, slots, todo, k, g.size) if outs[k] is not None else None
            with np.errstate(all="ignore"):  # inf/nan as IEEE says, like the compiled loop
                if dst is not None:
                    do.quiet(outs[k], *args, dst)
                    grads[k] = into[k] = dst
                elif outs[k] is not None and do is not NOW:  # a chain's pass, later: into
                    grads[k] = np.empty(g.size, g.dtype)  # a fresh array made now
                    do.quiet(outs[k], *args, grads[k])
                else:
                    do.run()  # (a fresh array: the formula at once)
                    grads[k] = rules[k](*args)
        if twice and not both:
            grads[1] = grads[0]  # (added into itself: the slot then holds both)
        sw.accumulate(slots, grads, written=into, do=do)
        return
    # g is this sweep's to overwrite: held apart, private, read by nothing after r
    dead = sw.keep is not None and r not in sw.keep and sw.held.get(r) is g and (
        g.flags.writeable or sw.freeing and not shaped and _whole(sw, g) and dead_saved(g))
    # (a full sum's broadcast is not; a saved value it multiplied may be, ``dead_saved``)
    if dead and not g.flags.writeable:  # written over as a dead g: formulas read it from there
        g = g.base if g.base.ndim == 1 else g.base.reshape(-1)
        args = (g, *args[1:])
    dead_g = g if dead or g is filled else None
    mine = [False, False]  # private arrays a slot may keep
    into = [None, None]
    if outs is None:
        outs = _out_rules(d, args)
    with np.errstate(all="ignore"):  # inf/nan as IEEE says, like the compiled loop
        for i, k in enumerate(todo):
            dst = None
            loop = both[0] if both else formula_loop(code, k, args, do)  # else NumPy's
            # formula with out=dst, if any
            write = loop or (outs[k] is not None and partial(_write, do, outs[k], args))
            if write and not sw.own[slots[k]]:  # (an adjoint in the arena)
                dst = into[k] = _arena_slot(sw, slots, todo, k, g.size)
                if dst is not None:
                    grads[k] = write(dst)
                    continue
            if write:
                if dead_g is not None and i == len(todo) - 1 and grads[0] is not dead_g:
                    dst = dead_g  # the last formula reads g for the last time
                else:
                    dst = spare(sw, g.size, g.dtype)
                if dst is None and loop is None and do is not NOW:  # a chain's pass, later:
                    dst = np.empty(g.size, g.dtype)  # into a fresh array made now
            if dst is not None or loop is not None:  # (a loop writes a fresh array itself)
                grads[k] = write(dst)
                mine[k] = True
                continue
            do.run()  # (a fresh array: the formula at once)
            gk = grads[k] = rules[k](*args)
            if k and gk is grads[0]:  # (add: g for both) one slot at most may keep it
                continue
            mine[k] = (gk is dead_g and dead_g is not None) or (
                type(gk) is np.ndarray and (gk.base is None or id(gk) in fresh) and
                all(gk is not a for a in args))
    if twice and not both:
        grads[1] = grads[0]
    shared = _shared_g(sw, slots, grads, dead_g)
    if shared is not None:
        grads, mine = [shared, shared], [False, False]
    sw.accumulate(slots, grads, mine, written=into, do=do)
    if dead:
        del sw.held[r]  # read by nothing more: its memory serves the next array
    for k in (0, 1):  # private arrays no slot kept: spares for the next records
        if mine[k] and not _holds(sw.held.get(slots[k]), grads[k]):
            give(sw, grads[k])
    if dead_g is not None and shared is None and not any(gk is dead_g for gk in grads):
        give(sw, dead_g)


def _write(do, rule, args, dst):
    """NumPy's ``out=`` formula ``rule`` on ``args`` into ``dst`` (run by ``do``)."""
    do.quiet(rule, *args, dst)
    return dst


def _fill(a, v):
    a.fill(v)


def _flat(args, n):
    """Whether every array among a formula's ``args`` is flat with ``n`` elements (passes over
    them may run chunk by chunk, ``chains``)."""
    return all(type(a) is not np.ndarray or a.ndim == 1 and a.shape[0] == n for a in args)


def _shared_g(sw, slots, grads, dead_g):
    """A read-only view of the dead ``g`` for both inputs of a sum (``a + b``: both gradients
    are ``g`` itself) whose adjoints are held apart, or None. Each slot keeps the view as it
    keeps a full sum's broadcast gradient (``Sweep._hold``): read by NumPy's formulas and the
    driver, who copy it, an addition into it making a total of its own; a formula reading it
    writes elsewhere (it is not a dead ``g`` to them). The second slot took a copy of ``g``
    before: GMM's ``qdiag * xc + lx``, a 2 MB copy per backward."""
    if dead_g is None or grads[0] is not dead_g or grads[1] is not dead_g or \
            slots[0] == slots[1] or not (sw.own[slots[0]] and sw.own[slots[1]]):
        return None
    view = dead_g.view()
    view.flags.writeable = False
    return view


def formula_loop(code, k, args, do=NOW):
    """A function writing formula ``k`` (0: dx, 1: dy) of op ``code`` on ``args`` (``g, x, y,
    out, m, c0, c1``) in one compiled pass (``_formula_kernels``) into a given flat array, or a
    fresh one given None; None where the formula has no loop or the arrays are not flat,
    C-contiguous and of ``g``'s dtype and size (NumPy's evaluation then: the same values).
    ``do`` runs the pass (``chains``: at once or later)."""
    g = args[0]
    entry = _loop_entry(0, code, k, g.dtype, args[5])
    if entry is None:
        return None
    fn, fn_in_g, at, ks = entry
    arrays = _operands(at, ks, args, do)
    if arrays is None:
        return None

    def write(dst):
        if dst is None:
            dst = np.empty(g.size, g.dtype)
        if dst is g and fn_in_g is not None:  # over g itself: the loop that reads g from dst
            do.any(fn_in_g, dst, *[a for i, a in zip(at, arrays) if i != 0],
                   *arrays[len(at):])
        else:
            do.any(fn, dst, *arrays)
        return dst
    return write


def _self_product(args, do=NOW):
    """``(write, add)`` for ``x * x``'s two gradients in one pass (``_self_product_kernels``):
    ``write(dst)`` writes ``g * x + g * x`` into a given flat array (or a fresh one given None,
    or ``g`` itself), ``add(dst)`` adds both into one; None where ``g`` and ``x`` are not flat,
    C-contiguous arrays of one dtype and size (the formula twice then: the same values)."""
    arrays = _operands((0, 1), (), args, do)
    if arrays is None:
        return None
    from . import _self_product_kernels as K

    g, x = arrays

    def write(dst):
        if dst is g:
            do.any(K.product_twice_over_g, g, x)
            return g
        if dst is None:
            dst = np.empty(g.size, g.dtype)
        do.any(K.product_twice, dst, g, x)
        return dst
    return write, lambda dst: do.any(K.add_product_twice, dst, g, x)


def add_loop(code, k, args, do=NOW):
    """A function adding formula ``k`` of op ``code`` on ``args`` into a given flat array that
    shares memory with none of them (``dst += formula``) in one pass: a generated loop
    (``_formula_add_kernels``), or ``vecmath.times`` for a product with sin or cos; None where
    neither applies (NumPy's two passes then, the formula and the addition: the same values)."""
    entry = _loop_entry(1, code, k, args[0].dtype, args[5])
    if entry is None:
        rule = REGISTRY[code].numpy_add_rules()[k]
        return None if rule is None else lambda dst: do(rule, *args, dst)
    fn, _, at, ks = entry
    arrays = _operands(at, ks, args, do)
    return None if arrays is None else lambda dst: do.any(fn, dst, *arrays)


# (0: formula or 1: addition, opcode, input, dtype, c0 or None) -> _loop_entry's; one key per
# exponent a program uses
_LOOPS, _keep_loop = bounded_cache(4096)


def _loop_entry(which, code, k, dtype, c0):
    """``(loop, loop over g, the arrays it reads, its constants)`` for formula ``k`` of op
    ``code`` on arrays of ``dtype`` with constant ``c0``, or None: looked up once per key (an
    array as its position in ``args``, or a call NumPy evaluates first as that function of
    ``args``; the constants in ``dtype``, as NumPy's weak scalars; ``c0``/``c1`` stay -1 and
    -2). An op's dx at ``c0`` (``OpDef.dx_at``, float64) comes before its general one."""
    d = REGISTRY[code]
    at = c0 if d.dx_at and not k and dtype is _F64 else None
    key = (which, code, k, dtype, at)
    entry = _LOOPS.get(key, _LOOPS)
    if entry is _LOOPS:
        table = _formula_kernels()[which]
        found = table.get((code, k, at)) if at is not None else None
        if found is None:
            found = table.get((code, k))
        if found is None:
            entry = None
        else:
            fn, fn_in_g, names, consts = found if which == 0 else (found[0], None, *found[1:])
            entry = (fn, fn_in_g, tuple(_ARG_AT[name] if name in _ARG_AT else
                                        _precomputed(name) for name in names),
                     tuple(-1 if c == "c0" else -2 if c == "c1" else dtype.type(c)
                           for c in consts))
        _keep_loop(key, entry)
    return entry


_F64 = np.dtype(np.float64)


def _precomputed(text):
    """The call ``text`` of a formula as NumPy evaluates it, for a loop that reads its values
    (a function of ``args``), kept per text."""
    f = _CALLS.get(text)
    if f is None:
        f = _CALLS[text] = numpy_formula(text)
    return f


_CALLS = {}


def _operands(at, ks, args, do=NOW):
    """A generated loop's arguments: the arrays at positions ``at`` of ``args`` (or computed
    from them by NumPy, for a call), then its constants ``ks`` (``c0``/``c1`` taken from
    ``args`` in ``g``'s dtype); None where an array is not flat, C-contiguous and of ``g``'s
    dtype and size."""
    g = args[0]
    dtype, n = g.dtype, g.size
    out = []
    for i in at:
        if type(i) is int:
            a = args[i]
        else:
            do.run()  # (NumPy reads the arrays now: what is pending first)
            with np.errstate(all="ignore"):  # inf/nan as IEEE says, like the formula
                a = i(*args)
        if type(a) is not np.ndarray or a.dtype is not dtype or a.ndim != 1 or a.size != n or \
                not a.flags.c_contiguous:
            return None
        out.append(a)
    for c in ks:
        out.append(dtype.type(args[5] if c == -1 else args[6]) if type(c) is int else c)
    return out


def _sum_so_far(sw, s, g, args):
    """The adjoint of slot ``s`` if it already holds a gradient that a formula may add into in
    place: a writeable flat array of ``g``'s dtype and size that shares memory with none of
    ``args``; else None."""
    if sw.own is not None and sw.own[s]:
        dst = sw.held.get(s)
        if dst is None or not dst.flags.writeable:  # (not a full sum's broadcast)
            return None
    elif sw.reached[s]:
        dst = sw.adj[sw.offs[s] : sw.offs[s + 1]]
    else:
        return None
    if dst.dtype != g.dtype or dst.ndim != 1 or dst.size != g.size or not \
            dst.flags.c_contiguous or any(type(a) is np.ndarray and np.may_share_memory(a, dst)
                                          for a in args):
        return None
    return dst


_ARG_AT = {"g": 0, "x": 1, "y": 2, "out": 3, "m": 4}
_KERNELS = []


def _formula_kernels():
    """``(_formula_kernels.KERNELS, _formula_add_kernels.ADD_KERNELS)``, loaded on first use,
    checked against the registry (a stale generated file would sweep an old formula)."""
    if not _KERNELS:
        from . import _formula_add_kernels, _formula_kernels, _gen_formulas

        want = _gen_formulas.rules_hash()
        for m in (_formula_kernels, _formula_add_kernels):
            if m.RULES_HASH != want:
                raise RuntimeError(f"{m.__name__} is stale for the current op registry: run "
                                   "`python -m tapegrad.engine._gen_formulas`")
        _KERNELS.append((_formula_kernels.KERNELS, _formula_add_kernels.ADD_KERNELS))
    return _KERNELS[0]


def _arena_slot(sw, slots, todo, k, n):
    """The arena slot of input ``k`` (of ``n`` elements) where its gradient may be written
    straight away (nothing reached it yet, and no other formula of ``todo`` adds into it:
    ``x - x``), else None: one pass and one array fewer than a result copied in."""
    s, o = slots[k], sw.offs
    if sw.reached[s] or o[s + 1] - o[s] != n or (len(todo) == 2 and slots[0] == slots[1]):
        return None
    return sw.adj[o[s] : o[s + 1]]


def _shaped(args, rules, outs, shape):
    """``numpy_vjp``'s arguments, formulas and ``out=`` formulas for a record that saved an
    operand broadcast to its ``shape`` (a view, ``broadcast_saved``): the flat arrays seen in
    that shape, so that NumPy broadcasts the view as it reads it (no copy of it); the formulas
    still give flat arrays (an ``out=`` formula returns the flat array it was given), and the
    ids of those that are flat views of fresh results (private, as a flat formula's are)."""
    n = args[0].size
    args = tuple(a.reshape(shape) if type(a) is np.ndarray and a.ndim == 1 and a.size == n
                 else a for a in args)
    fresh = set()

    def flat(rule):
        def f(*a):
            gk = rule(*a)
            new = type(gk) is np.ndarray and gk.base is None and all(gk is not x for x in a)
            if np.shape(gk) != shape:
                gk, new = np.broadcast_to(gk, shape), False
            gk = gk.reshape(-1)  # (a view of a result in C order)
            if new:
                fresh.add(id(gk))
            return gk
        return f

    def into(rule):
        def f(*a):
            rule(*a[:-1], a[-1].reshape(shape))
            return a[-1]
        return f

    return (args, tuple(None if f is None else flat(f) for f in rules),
            tuple(None if f is None else into(f) for f in outs), fresh)


def _all_ones(g):
    """Whether ``g`` is a full sum's gradient of 1 broadcast (``sum_vjp``, held apart)."""
    return g.strides == (0,) and not g.flags.writeable and g.size > 1 and g[0] == 1.0


def dead_saved(g):
    """Whether the read-only view ``g`` (a saved value handed on as a gradient, ``_handed_on``)
    covers a saved array nothing will read again, in a backward that frees the graph: a
    writeable C-contiguous base array of ``g``'s size and dtype referred to only by ``g`` and
    one entry of the segment's saved arrays (a swept record's: a record yet to run, a tensor
    of the user's, another held view or a retained graph would each hold one more). Its
    memory can then take a result, as a dead ``g``'s does: ``sin(x) * exp(-x*x)``'s ``exp``
    wrote ``g * out`` into a fresh 16 MB array, 2.7-3.8 ms, and 1.7 over ``g``'s."""
    b = g.base
    return type(b) is np.ndarray and b.base is None and b.size == g.size and \
        b.dtype is g.dtype and b.flags.writeable and b.flags.c_contiguous and \
        g.flags.c_contiguous and sys.getrefcount(b) <= _DEAD_REFS


def _base_refs(g):
    b = g.base  # (counted as ``dead_saved`` counts: from a local, one call deep)
    return sys.getrefcount(b)


_DEAD_REFS = (lambda held: _base_refs(held[0].view()))([np.empty(2)])  # (a list and a view)


def _note_whole(sw, seg, d, v, k, view):
    """Mark ``view`` (formula ``k``'s saved value handed on, ``_handed_on``) as covering an
    array the segment's saved table holds itself, not through a view: only then does that
    array's reference count see every holder of its memory. A saved view refers to its base
    once however many records and tensors hold the view (``t = sin(x)[:]`` saved by ``t * w``
    and ``t * exp(-x*x)``), so its base would look dead while a record yet to run reads it."""
    if v & 1 and seg.avals[(v >> 1) + d.saves.index(d.times_g(k))] is view.base:
        sw.whole[id(view)] = weakref.ref(view)  # (weak: the mark keeps no memory alive)


def _whole(sw, g):
    """Whether ``g`` was marked by ``_note_whole`` (the mark is used once)."""
    ref = sw.whole.pop(id(g), None)
    return ref is not None and ref() is g


def _handed_on(d, k, vals, g):
    """The saved value formula ``k`` of op ``d`` multiplies ``g`` by (``OpDef.times_g``), as a
    read-only view standing for the product with a ``g`` of ones; None where there is none or
    it is not a flat array of ``g``'s dtype and size. A slot keeps the view until something
    adds into it (a total of its own then, ``Sweep._hold``)."""
    name = d.times_g(k)
    v = vals[_SAVED_AT[name]] if name else None
    if type(v) is not np.ndarray or v.dtype is not g.dtype or v.ndim != 1 or \
            v.size != g.size or not v.flags.c_contiguous:
        return None
    v = v.view()
    v.flags.writeable = False
    return v


def full_sum(recs, offs, r, code, iaux):
    """Whether record ``r`` (op ``code``) sums a large input into one element, or sums its
    rows (``_sweep_dispatch._row_sum``): its VJP hands each gradient to every element of its
    row (where the compiled loop pauses)."""
    if code != Op.SCATTER_STRIDED:
        return False
    a = recs[r, tape.A]
    if offs[r + 1] - offs[r] != 1:
        # (imported here: the compiled dispatch loads Numba, which ``import tapegrad`` does not;
        # this runs inside a backward, when it is loaded)
        from ._sweep_dispatch import _row_sum

        return _row_sum(recs, offs, iaux, r, BIG)
    return a >= 0 and offs[a + 1] - offs[a] >= BIG


def sum_vjp(sw, r):
    """The VJP of a full sum of a large input (``full_sum``), bound as ``Sweep._sum_vjp``:
    its one gradient broadcast, a read-only view (PyTorch's ``expand``). An adjoint held apart
    keeps the view itself (``Sweep._hold``: only NumPy's formulas or the driver read it); an
    arena slot gets the value written once, so it needs no zeros (``arena.slot_kinds``)."""
    a = int(sw.recs[r, tape.A])
    lo, hi = int(sw.offs[a]), int(sw.offs[a + 1])
    if sw.offs[r + 1] - sw.offs[r] > 1:
        _rows_vjp(sw, r, a, lo, hi)
        return
    if sw.own is None or not sw.own[a]:  # an arena slot: the one value written or added
        g = sw.grad_of(r)[0]  # in place (a fill takes a third of a broadcast copy's time)
        if sw.reached[a]:
            slot = sw.adj[lo:hi]
            slot += g
        else:
            sw.adj[lo:hi].fill(g)
            sw.mark(a)
        return
    sw.accumulate((a,), (np.broadcast_to(sw.grad_of(r).copy(), (hi - lo,)),))  # (not the
    # arena's: a view of it would change with it)


def _rows_vjp(sw, r, a, lo, hi):
    """``sum_vjp`` of the row sums ``r`` of input ``a``: each row's gradient along its row,
    written into an unreached arena slot (no zeros needed there) or added into a reached one;
    an adjoint held apart keeps a fresh array of the repeated gradients (``np.repeat``, one
    pass: ~80 µs for 2.5e5 elements, where the zeroed slot and the compiled loop's addition
    took ~40 + ~110)."""
    g = sw.grad_of(r)
    if sw.own is not None and sw.own[a]:
        sw.accumulate((a,), (np.repeat(g, (hi - lo) // g.size),), (True,))
        return
    rows = sw.adj[lo:hi].reshape(g.size, -1)
    if sw.reached[a]:
        rows += g[:, None]
    else:
        rows[...] = g[:, None]
        sw.mark(a)


def spare(sw, n, dtype):
    """An array of ``n`` elements of ``dtype`` nothing reads any more, or None."""
    pool = sw.spares.get((n, dtype)) if sw.spares else None
    return pool.pop() if pool else None


def give(sw, a):
    """Keep the dead array ``a`` for ``spare`` (a few per size: the pool only bounds how
    many fresh arrays one backward touches; the rest go back to NumPy)."""
    if a.ndim != 1 or not a.flags.c_contiguous or not a.flags.writeable:
        return
    if sw.spares is None:
        sw.spares = {}
    pool = sw.spares.setdefault((a.size, a.dtype), [])
    if len(pool) < _SPARES and all(a is not b for b in pool):
        pool.append(a)


_SPARES = 2  # dead arrays kept per (size, dtype) for the results of later records


def _holds(held, a):
    """Whether the held adjoint ``held`` is the array ``a`` (or a view of it)."""
    return held is not None and (held is a or held.base is a)


def _out_rules(d, args):
    """Op ``d``'s ``out=`` formulas where every array of ``args`` has ``g``'s dtype (their
    results are then of that dtype whether or not an ``out=`` array is given), else none."""
    return d.numpy_out_rules() if _one_dtype(args, args[0].dtype) else (None, None)


def _one_dtype(args, dtype):
    """Whether every array among a formula's ``args`` has ``dtype`` (the results are then of
    ``dtype`` whether or not an ``out=`` array is given)."""
    return all(type(a) is not np.ndarray or a.dtype is dtype for a in args)


_ELEMENTWISE = []  # [per op code below PYTHON_BASE: whether NumPy sweeps its large records]


def elementwise_table():
    """The table ``_ELEMENTWISE`` (made on first use: the ops register when imported)."""
    if not _ELEMENTWISE:
        table = np.zeros(PYTHON_BASE, np.bool_)
        for code, d in list(REGISTRY.items()):
            if Op.OUTPUT < code < PYTHON_BASE and d.kind in ("unary", "binary"):
                table[code] = True
        _ELEMENTWISE.append(table)
    return _ELEMENTWISE[0]
