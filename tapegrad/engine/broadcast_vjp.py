"""Gradients of a large sum, difference or product into an operand it broadcast, reduced as
they are computed.

An elementwise record reads a broadcast operand through a stride-0 gather record of its own
(``array_records.broadcast_operand``) whose VJP sums the full-size gradient over the broadcast
axes.
Left to the general path, ``qdiag[None] * xc`` over (1000, 25, 10) writes ``g * xc`` (2 MB)
into the gather's adjoint and the compiled sweep then sums it into (25, 10): two passes and a
large array. Here the sum is taken at once (``np.einsum('ab,ab->b')`` for a product: one
pass, nothing of full size written; ``np.einsum('ab->b')`` for a sum or difference) and added
into the gather's input, whose VJP then never runs (nothing else reached it). That is the same
sum as the gather's, in another order: equal within float rounding.

Other binary ops' float32 gradients (``x / b``, ``pow``, ``atan2``, ``maximum``, ...) into a
broadcast operand are computed in full and summed here too: left to the gather's compiled
loop they would be added in turn into a float32 accumulator (``b.grad`` of ``x / b`` over
200000 elements ~1e-5 relative off, where PyTorch's cascade sum is ~1e-7 off); here a long
innermost run is summed by ``np.einsum`` in float64, other long runs add in float64 too
(``wide_sums``). A Python op's (``atan2``, ``hypot``, ...) likewise (``reduced_python``).
"""

import math

import numpy as np

from .. import tape
from ..vecmath import wide_sums as _wide
from ..registry import Op
from .chains import pending

_GATHER = int(Op.GATHER_STRIDED)
_ADD, _SUB, _MUL = int(Op.ADD), int(Op.SUB), int(Op.MUL)
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_F32 = np.dtype(np.float32)


def reduced_vjp(sw, code, slots, todo, g, vals, args=(), rules=()):
    """Add formula ``k``'s gradient, summed over the broadcast axes, into the input of each
    broadcast gather among ``slots`` (for ``k`` in ``todo``, an add, sub or mul record of
    ``sw``, or another binary record of float32 ``g`` whose formulas ``rules`` take
    ``args``); return the ``k`` done so (the caller runs the others as before)."""
    sums = code == _ADD or code == _SUB or code == _MUL
    if not sums and (g.dtype is not _F32 or not rules) or sw.keep is None or \
            type(g) is not np.ndarray or slots[0] == slots[1]:
        return ()
    done = []
    for k in todo:
        plan = _broadcast_of(sw, slots[k], g.size)
        if plan is None:
            continue
        a, dims, kept = plan
        pending(sw)  # (g's values, written by passes of a chain, are read here)
        gs = g.reshape(dims) if sums else _full_gradient(rules[k], args, g.size, dims)
        sub = _LETTERS[: len(dims)]
        spec = sub + "->" + "".join(sub[i] for i in kept)  # (for a sum: einsum, not
        operands = (gs,)  # np.add.reduce, 3-10x slower over an outer axis of few columns)
        if code == _MUL:
            other = vals[1 - k]
            if type(other) is not np.ndarray or other.size != g.size or \
                    other.dtype != g.dtype:
                continue
            spec, operands = sub + "," + spec, (gs, other.reshape(dims))
        red = _wide_sum(g if sums else gs, dims, kept, operands)
        if red is None:
            with np.errstate(all="ignore"):  # inf/nan as IEEE says, silently, as the
                red = np.einsum(spec, *operands)  # gather's compiled loop and PyTorch
        if code == _SUB and k == 1:  # (not in place: a one-element input's sum over every
            red = -red  # axis is a NumPy scalar, which takes no out=)
        sw.accumulate((a,), (red.reshape(-1),), (True,))
        done.append(k)
    return done


def wide_slots(sw, slots):
    """The positions ``k`` of ``slots`` (a Python record's inputs) that are plain broadcast
    gathers of more than ``wide_sums.LONG`` elements in a float32 sweep: their gradients are
    summed by ``reduced_python``, not the gather's compiled loop (which adds them in turn into
    float32: ``atan2(x, b)``'s ``b.grad`` over 200000 elements ~5e-6 relative off, PyTorch's
    ~1e-7)."""
    if sw.keep is None or sw.adj.dtype is not _F32:
        return ()
    recs, wide = sw.recs, ()
    for k, s in enumerate(slots):
        if s >= 0 and recs.item(s, tape.OP) == _GATHER and \
                recs.item(s, tape.SIZE) > _wide.LONG and \
                _broadcast_of(sw, s, recs.item(s, tape.SIZE)) is not None:
            wide += (k,)
    return wide


def reduced_python(sw, slots, grads, wide):
    """``slots`` with those at positions ``wide`` (``wide_slots``) replaced by -1, their
    gradients ``grads[k]`` summed over the broadcast axes into the gathers' inputs."""
    slots = list(slots)
    for k in wide:
        gk = grads[k]
        plan = None if gk is None or np.iscomplexobj(gk) else \
            _broadcast_of(sw, slots[k], np.size(gk))
        if plan is None:  # (left to the gather's loop)
            continue
        a, dims, kept = plan
        full = np.ascontiguousarray(np.broadcast_to(gk, np.shape(gk)))
        if full.dtype is not _F32 and full.dtype != np.float64:
            full = full.astype(_F32)
        full = full.reshape(dims)
        red = _wide_sum(full, dims, kept, (full,))
        if red is None:  # float64 (or a short run of float32, as the gather's loop)
            sub = _LETTERS[: len(dims)]
            with np.errstate(all="ignore"):
                red = np.einsum(sub + "->" + "".join(sub[i] for i in kept), full)
        sw.accumulate((a,), (np.asarray(red, _F32).reshape(-1),), (True,))
        slots[k] = -1
    return slots


def _full_gradient(rule, args, n, dims):
    """Formula ``rule``'s gradient of all ``n`` elements, C-contiguous, in shape ``dims``."""
    with np.errstate(all="ignore"):  # inf/nan as IEEE says, as the compiled loop
        gk = rule(*args)
    if np.size(gk) != n:
        gk = np.broadcast_to(gk, (n,))
    return np.ascontiguousarray(gk, _F32).reshape(dims)


def _wide_sum(g, dims, kept, operands):
    """float32 summed over more than ``wide_sums.LONG`` rows, one run of axes that is not the
    innermost: accumulated in float64 (``np.einsum`` adds in float32 row after row: a bias's
    gradient over 500000 rows was ~7e-6 relative off, PyTorch's ~2e-7); a sum over long
    innermost axes or over axes apart einsum's in float64; else (float64, or no more than
    ``wide_sums.LONG`` elements summed into each) None."""
    if g.dtype is not _F32:  # (float64 and others: NumPy's einsum, as before)
        return None
    summed = [i for i in range(len(dims)) if i not in kept]
    first, last = summed[0], summed[-1] + 1
    if last == len(dims) and last - first == len(summed) and g.flags.c_contiguous and \
            math.prod(dims[first:]) > _wide.LONG and all(
                o.dtype is g.dtype and o.flags.c_contiguous for o in operands):
        # the innermost axes: contiguous rows summed by einsum in float64 (in float32 it
        # adds them in turn: x (4, 200000) + b (4, 1) gave b ~7e-7 off, PyTorch 5e-8; NumPy's
        # pairwise sum still 4e-7 over (4, 50001), at about the same speed)
        rows = math.prod(dims[:first])
        spec = ",".join("ab" for _ in operands) + "->a"
        with np.errstate(all="ignore"):
            return np.einsum(spec, *(o.reshape(rows, -1) for o in operands),
                             dtype=np.float64).astype(_F32)
    if last - first == len(summed) and _wide.takes(
            g, math.prod(dims[first:last]), math.prod(dims[last:])) and \
            all(o.dtype is g.dtype and o.flags.c_contiguous for o in operands):
        return _wide.middle_sum(operands[0], dims, first, last,
                                operands[1] if len(operands) > 1 else None)
    if math.prod(dims[i] for i in summed) <= _wide.LONG:
        return None
    # summed axes apart ((2, 3, 40001) into (1, 3, 1)): einsum in float64 (in float32 it adds
    # row after row: ``b.grad`` of ``x / b`` over (2, 2, 2, 30001) into (1, 2, 1, 1) was 8e-6
    # relative off, PyTorch's 9e-7), ~5x its float32 time (67 us for those 240000 elements)
    sub = _LETTERS[: len(dims)]
    spec = ",".join(sub for _ in operands) + "->" + "".join(sub[i] for i in kept)
    with np.errstate(all="ignore"):
        return np.einsum(spec, *operands, dtype=np.float64).astype(_F32)


def _broadcast_of(sw, s, n):
    """``(input, merged dims, positions of the kept dims)`` when record ``s`` is a plain
    broadcast gather of ``n`` elements (a stride-0 map of its input in C order, no hook, not
    asked for, nothing else reached yet); else None."""
    recs = sw.recs
    if s < 0 or recs.item(s, tape.OP) != _GATHER or sw.reached[s] or s in sw.keep or \
            recs.item(s, tape.SIZE) != n:
        return None
    a = recs.item(s, tape.A)
    if a < 0:
        return None
    iaux = sw.tabs[3]
    aux = recs.item(s, tape.AUX)
    nd = int(iaux[aux])
    dims = tuple(int(x) for x in iaux[aux + 1 : aux + 1 + nd])
    strides = [int(x) for x in iaux[aux + 1 + nd : aux + 1 + 2 * nd]]
    if int(iaux[aux + 1 + 2 * nd]) != 0 or 0 not in strides:
        return None
    kept = tuple(i for i in range(nd) if strides[i])
    acc = 1  # the kept dims must be the input's elements in C order
    for i in reversed(kept):
        if strides[i] != acc:
            return None
        acc *= dims[i]
    if acc != int(sw.offs[a + 1] - sw.offs[a]):
        return None
    return a, dims, kept
