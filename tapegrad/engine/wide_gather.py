"""A float32 sweep's gradient into a broadcast operand, summed in float64.

An elementwise op reads a broadcast operand through a stride-0 gather record (an ``expand``
is one too), whose VJP sums the output's gradient over the broadcast axes: many elements of it
into each element of the input. The compiled sweep of a float32 arena added them in turn into
float32 (``b.grad`` of ``(x / b).sum()`` over 3000 elements ~3e-7 relative off, growing with
the length; PyTorch's ~5e-8). ``wide_gather`` adds them into a float64 copy of the input's
adjoint instead, rounded to float32 once at the end. Records of NumPy's (``BIG`` elements or
more) are summed in float64 apart (``broadcast_vjp``).

In a float64 arena ``wide_gather`` is a constant False: the float64 sweeps compile none of it.
"""

import numpy as np
from numba import njit, types
from numba.extending import overload

from .. import _numba_cache  # noqa: F401 (before any kernel: where Numba caches them)


def wide_gather(adj, oa, m, o, n, iaux, aux, scratch):
    """``adj[oa + off + i.s] += adj[o + i]`` for the ``n`` elements of a GATHER_STRIDED map
    into an input of ``m`` elements, summed in float64, when the arena is float32 and the map
    adds more than one element into some (``n > m``): True then, else False (nothing done).
    Only called from compiled code (its overload below)."""
    raise NotImplementedError


@overload(wide_gather)
def _wide_gather(adj, oa, m, o, n, iaux, aux, scratch):
    if adj.dtype != types.float32:
        return lambda adj, oa, m, o, n, iaux, aux, scratch: False

    def impl(adj, oa, m, o, n, iaux, aux, scratch):
        if n <= m or iaux[aux] == 0:
            return False
        wide = np.empty(m, np.float64)
        for k in range(m):
            wide[k] = adj[oa + k]
        _runs(wide, adj, o, n, iaux, aux, scratch)
        for k in range(m):
            adj[oa + k] = wide[k]
        return True

    return impl


@njit(cache=True)
def _runs(wide, adj, o, n, iaux, aux, scratch):
    """``wide[off + i.s] += adj[o + i]`` in C order: the last dimension a run of its own (a
    broadcast row adds along a contiguous run; a broadcast column sums a run into one), the
    outer ones an odometer in scratch[0:nd-1], as ``_strided`` of the sweep."""
    nd = iaux[aux]
    pos = iaux[aux + 1 + 2 * nd]
    last = iaux[aux + nd]
    sl = iaux[aux + 2 * nd]
    for k in range(nd - 1):
        scratch[k] = 0
    i = 0
    while i < n:
        f = o + i
        if sl == 0:
            acc = wide[pos]
            for j in range(last):
                acc += adj[f + j]
            wide[pos] = acc
        elif sl == 1:
            dv = wide[pos:pos + last]
            fv = adj[f:f + last]
            for j in range(last):
                dv[j] += fv[j]
        else:
            for j in range(last):
                wide[pos + j * sl] += adj[f + j]
        i += last
        k = nd - 2
        while k >= 0:
            scratch[k] += 1
            pos += iaux[aux + 1 + nd + k]
            if scratch[k] < iaux[aux + 1 + k]:
                break
            pos -= iaux[aux + 1 + nd + k] * scratch[k]
            scratch[k] = 0
            k -= 1
