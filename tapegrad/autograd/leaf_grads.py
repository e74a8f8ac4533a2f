"""A plain backward's leaf gradients added into ``.grad`` as they are read from the arena.

``driver.backward_plain`` sweeps one segment whose imports are all CPU leaves, with nothing
swept after it; its leaves' adjoints are final once the sweep is done. Handing each to an
entry of the driver's ``leaf_totals`` and adding those into ``.grad`` in a second pass cost
~1 µs of a ~37 µs ``(a * b).sum().backward()`` on 64 elements; here a leaf without hooks
gets its adjoint added at once, the rest takes the driver's path.
"""

import threading

import numpy as np

from ..engine.arena import most_of_arena
from ..tensor import _make, bump_version

_grad_lock = threading.Lock()  # .grad accumulation from concurrent backwards is atomic
_MOST_OF_ARENA = 2  # a leaf total's view flag (True: a view, copied if it becomes a .grad)


def grads_from_arena(sw, leaf_totals):
    """``_imports_from_arena`` and ``_add_into_grads`` in one pass, for ``backward_plain``'s one
    segment (every import a CPU leaf, nothing after it): a leaf whose last import on the
    segment this is (``Tensor._imp``: earlier ones are in ``leaf_totals`` already), without
    hooks, gets its adjoint added into its plain ``.grad`` (or as its new ``.grad``) at once,
    without an entry and a second pass (~1 µs of a small backward); any other goes to
    ``leaf_totals`` for ``_add_into_grads``, as there."""
    seg, adj, offs, reached = sw.seg, sw.adj, sw.offs, sw.reached
    n, order, dtype = len(reached), seg.order, adj.dtype
    with _grad_lock:
        for r, src in list(seg.imports.items()):
            if r >= n or not reached[r]:
                continue
            g = adj[offs[r] : offs[r + 1]]
            e = leaf_totals.get(id(src))
            if e is None and src._imp == (order, r) and src._rg and not src._hooks and \
                    not src._post_hooks and type(src._data) is np.ndarray and \
                    src._data.dtype is dtype:
                old = src._grad
                if old is None:  # (a copy unless it is most of the arena, as ``_add_into_grads``)
                    src._grad = _make((g if most_of_arena(adj, g) else g.copy())
                                      .reshape(src._data.shape))
                    continue
                od = old._data
                if not old._rg and type(od) is np.ndarray and od.flags.writeable:
                    od += g if od.ndim == 1 else g.reshape(od.shape)
                    bump_version(old)
                    continue
            if e is not None:
                e[1], e[2] = e[1] + g, False
            else:
                leaf_totals[id(src)] = [src, g, _MOST_OF_ARENA if most_of_arena(adj, g) else True]
