"""A thread's live segments (``tape._Local.live``): what ``tape_stats`` counts and
``tape._prune_imports`` walks.

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
