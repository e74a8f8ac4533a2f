"""The VJP of a large transposing strided map (``x.t()``, ``permute``) in tiles, for the numeric
sweep (``Sweep._transpose_vjp``; compiled on the first such record, apart from the sweep's loop
so that its cold compile does not pay for it).

The map's second-last dim (R long) is at stride 1 in its input and its last at a stride of at
least R, so each element of a plane is reached once. In C order the input side is written down
its columns: a cache (and TLB) miss per element once the plane leaves the cache, ~11 ns (a
(256, 1024) transpose's VJP: 2.9 ms). TILE x TILE blocks keep both sides within a few cache
lines. The planes (the outer dims) go in C order, as the sweep's walk: an element several planes
reach (a broadcast) adds them in the same order, so the values are the C-order walk's.
"""

from numba import njit

from .. import _numba_cache  # noqa: F401 (before any kernel: where Numba caches them)

TILE = 32


@njit(cache=True, nogil=True)
def gather_vjp_tiles(adj, pos, src, small, n, iaux, aux, odometer):
    """``adj[pos + i.s] += src[small + i]`` for the ``n`` elements of the map described at
    ``iaux[aux:]`` (``nd``, shape, strides, offset: ``pos`` includes the offset); ``src``: the
    map's adjoint, the arena itself or an array held apart."""
    nd = iaux[aux]
    rows = iaux[aux + nd - 1]
    cols = iaux[aux + nd]
    step = iaux[aux + 2 * nd]
    for k in range(nd - 2):
        odometer[k] = 0
    i = 0
    while i < n:
        for r0 in range(0, rows, TILE):
            r1 = min(r0 + TILE, rows)
            for c0 in range(0, cols, TILE):
                for c in range(c0, min(c0 + TILE, cols)):
                    x = pos + c * step
                    s = small + i + c
                    for r in range(r0, r1):
                        adj[x + r] += src[s + r * cols]
        i += rows * cols
        k = nd - 3
        while k >= 0:
            odometer[k] += 1
            pos += iaux[aux + 1 + nd + k]
            if odometer[k] < iaux[aux + 1 + k]:
                break
            pos -= iaux[aux + 1 + nd + k] * odometer[k]
            odometer[k] = 0
            k -= 1
