"""Numba loops for ``layer_norm`` over rows (imported on its first use, not with tapegrad): the
row statistics, the normalised and scaled row, and the three gradients, one or two passes over
each row while it is in cache, where NumPy makes a pass over the whole batch for each of ~10
operations (a (64, 128) batch: forward ~75 µs in NumPy). Row sums add in any order
(``reassoc``: vectorised) in float64, as PyTorch's accumulate in a wider type than float32."""

import math

from numba import njit

from .. import _numba_cache  # noqa: F401 (before any kernel: where Numba caches them)

_OPTS = dict(cache=True, nogil=True, error_model="numpy", fastmath={"reassoc"})


@njit(**_OPTS)
def forward(x, w, b, eps, y, mu, rstd):
    """Rows of ``x`` (R, n): ``mu``, ``rstd = 1 / sqrt(biased var + eps)`` and ``y = (x - mu)
    rstd w + b`` (``w``, ``b`` empty for none)."""
    n = x.shape[1]
    has_w, has_b = w.shape[0] > 0, b.shape[0] > 0
    for r in range(x.shape[0]):
        a, o = x[r], y[r]
        s = 0.0
        for j in range(n):
            s += a[j]
        m = s / n
        v = 0.0
        for j in range(n):
            d = a[j] - m
            v += d * d
        rs = 1.0 / math.sqrt(v / n + eps)
        mu[r] = m
        rstd[r] = rs
        for j in range(n):
            t = (a[j] - m) * rs
            if has_w:
                t = t * w[j]
            if has_b:
                t = t + b[j]
            o[j] = t


@njit(**_OPTS)
def backward(g, x, w, mu, rstd, dx, dw, db):
    """The gradients of ``forward`` for the incoming ``g`` (R, n): ``dx`` (empty: not wanted),
    ``dw`` and ``db`` (n,) added into (empty: not wanted)."""
    n = x.shape[1]
    has_w, want_x = w.shape[0] > 0, dx.shape[0] > 0
    want_w, want_b = dw.shape[0] > 0, db.shape[0] > 0
    for r in range(x.shape[0]):
        a, gr = x[r], g[r]
        m, rs = mu[r], rstd[r]
        if want_w or want_b:
            for j in range(n):
                if want_w:
                    dw[j] += gr[j] * ((a[j] - m) * rs)
                if want_b:
                    db[j] += gr[j]
        if want_x:
            s1 = 0.0
            s2 = 0.0
            for j in range(n):
                gw = gr[j] * w[j] if has_w else gr[j]
                s1 += gw
                s2 += gw * ((a[j] - m) * rs)
            s1 /= n
            s2 /= n
            o = dx[r]
            for j in range(n):
                gw = gr[j] * w[j] if has_w else gr[j]
                o[j] = rs * (gw - s1 - (a[j] - m) * rs * s2)
