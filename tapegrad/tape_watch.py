"""Which tensors a function reads, and reading stand-ins for them: the import watches of
activation checkpointing (``utils/checkpoint.py``). ``tape.slot`` defers to ``watched_slot``
for a first import while a watch is on; otherwise none of this runs."""

import contextlib
import threading

from . import tape
from .tape import _append_import, _local, _width, close_current, current, slot


def watched_slot(seg, t):
    """``slot`` for a tensor imported for the first time while ``watch_imports`` or
    ``substitute_imports`` runs (activation checkpointing: which tensors a function reads,
    and its recomputation reading stand-ins for them)."""
    sub = _local.subs.get(import_key(t)) if _local.subs is not None else None
    if sub is not None:
        return slot(seg, sub)
    if _local.seen is not None and (t._seg is None or t._seg.order < _local.seen_from):
        _local.seen.append(t)  # (a tensor of a segment opened meanwhile is the function's own)
    if t._seg is None:
        r = _append_import(seg, t, _width(t))
        t._imp = (seg.order, r)
        return r
    key = (id(t._seg), t._rec)
    if seg.foreign is tape.NONE:
        seg.foreign = {}
    r = seg.foreign[key] = _append_import(seg, (t._seg, t._rec), _width(t))
    return r


@contextlib.contextmanager
def watch_imports():
    """The tensors (leaves and tensors of other segments) that records made inside import,
    in order, on a fresh segment of their own (so that every one is imported anew)."""
    seen, old = [], (_local.seen, _local.seen_from, _local.resume)
    outer = _local.seg
    _local.seg, _local.resume = None, outer  # (not retired: see below)
    _count(1)
    _local.seen, _local.seen_from = seen, current().order
    try:
        yield seen
    finally:
        _local.seen, _local.seen_from, _local.resume = old
        _count(-1)
        close_current()
        # The caller's segment, if still open, stays current: code that watches calls in a
        # loop (checkpointing) then keeps recording on one segment instead of opening one per
        # call, each swept on its own. (Its order is lower than the watched segment's: a
        # tensor of that segment read later makes ``prepare`` move on to a fresh one.)
        if outer is not None and not outer.retired and _local.seg is None:
            _local.seg = outer


_counting = threading.Lock()


def _count(k):
    """Count a watch in or out (``tape.watching``, read by ``slot`` on every first import:
    while it is 0, no thread has ``seen`` or ``subs`` set, and ``slot`` reads neither)."""
    with _counting:
        tape.watching[0] += k


def import_key(t):
    """What ``substitute_imports`` knows tensor ``t`` by: a leaf is itself; a tensor with
    history is its record (a saved tensor comes back from a custom Function's context as
    another tensor object attached to the same record)."""
    return id(t) if t._seg is None else (id(t._seg), t._rec)


@contextlib.contextmanager
def substitute_imports(subs):
    """Records made inside read ``subs[import_key(t)]`` wherever they would import tensor
    ``t``, on a fresh segment of their own."""
    old = _local.subs
    close_current()
    # nested (a checkpoint recomputing inside another's recomputation): the outer stand-ins
    # stay, and a stand-in of a stand-in is followed (slot resolves the chain)
    _count(1)
    _local.subs = subs if old is None else {**old, **subs}
    try:
        yield
    finally:
        _local.subs = old
        _count(-1)
        close_current()


def stand_in(t):
    """The tensor that records read in ``t``'s place while ``substitute_imports`` runs, ``t``
    itself when none: a function recomputed there that differentiates with respect to ``t``
    (``autograd.grad(y, t)``) means its stand-in, which ``y`` was computed from."""
    subs = _local.subs
    while subs is not None:
        sub = subs.get(import_key(t))
        if sub is None or sub is t:
            break
        t = sub
    return t


tape.watched_slot = watched_slot
