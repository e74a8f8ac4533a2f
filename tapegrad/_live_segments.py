"""A thread's live segments (``tape._Local.live``): what ``tape_stats`` counts and
``tape._prune_imports`` walks, and the walks it makes.

Every backward opens a fresh segment, so adding one is on the path of every training step. A
``weakref.WeakSet`` costs ~1 µs a segment there (its ``add`` and the callback that removes
the entry when the segment dies both run Python code); this keeps plain weak references
without callbacks in a list and drops the dead ones when the list has doubled since the last
sweep, so a segment costs one ``weakref.ref`` and an append, and the list stays within twice
the live count (plus a constant).
"""

import weakref

_MIN_SWEEP = 64  # references held before the first sweep of dead ones


class LiveSegments:
    """A set of segments held weakly: ``add``, iteration over the live ones, ``len``."""

    __slots__ = ("refs", "sweep_at")

    def __init__(self):
        self.refs = []
        self.sweep_at = _MIN_SWEEP

    def add(self, seg):
        refs = self.refs
        refs.append(weakref.ref(seg))
        if len(refs) >= self.sweep_at:
            refs[:] = [r for r in refs if r() is not None]
            self.sweep_at = max(_MIN_SWEEP, 2 * len(refs))

    def __iter__(self):
        # a list first: a segment that dies while the caller iterates is simply not seen
        return iter([s for s in [r() for r in self.refs] if s is not None])

    def __len__(self):
        return sum(1 for r in self.refs if r() is not None)

    def __bool__(self):
        return any(r() is not None for r in self.refs)


def imported_records(segs):
    """Per source segment (by id): the record ids ``segs`` import from it, and how many
    imports (``tape._prune_imports``)."""
    roots, tuples = {}, {}
    for q in segs:
        # ``foreign`` keys are exactly the (id(source), record) of the imports from other
        # segments: no walk over the (often many more) imports of leaves
        for sid, rec in q.foreign:
            roots.setdefault(sid, []).append(rec)
            tuples[sid] = tuples.get(sid, 0) + 1
    return roots, tuples


def reach(recs, pyaux, roots, python_base, code_mask):
    """Records among ``recs`` (a segment's (n, 6) records ``(op, a, b, aux, v, size)``, its
    Python side table ``pyaux``) reachable from ``roots`` (a bytearray), None if unknown."""
    top = max(roots)
    ops, a, b, auxs = (recs[: top + 1, k].tolist() for k in range(4))
    reached = bytearray(len(recs))
    for r in roots:
        reached[r] = 1
    for r in range(top, -1, -1):
        if not reached[r]:
            continue
        if a[r] >= 0:
            reached[a[r]] = 1
        if b[r] >= 0:
            reached[b[r]] = 1
        if ops[r] & code_mask >= python_base:
            slots = getattr(pyaux[auxs[r]], "slots", None)
            if slots is None:
                return None
            for s_ in slots:
                if s_ >= 0:
                    reached[s_] = 1
    return reached
