"""Numba loops for ``layer_norm`` over rows (imported on its first use, not with tapegrad): the
row statistics, the normalised and scaled row, and the three gradients, one or two passes over
each row while it is in cache, where NumPy makes a pass over the whole batch for each of ~10
operations (a (64, 128) batch: forward ~75 µs in NumPy). Row sums add in any order
(``reassoc``: vectorised) in float64, as PyTorch's accumulate in a wider type than float32."""

import math

import numpy as np

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


@njit(**_OPTS)
def batch_forward(x, w, b, eps, training, y, mean, rstd, sqsum):
    """Channels of ``x`` (N, C, S): with ``training`` the batch's ``mean``, the sums of squared
    deviations ``sqsum`` and ``rstd = 1 / sqrt(sqsum / (N S) + eps)`` (else ``mean`` and
    ``rstd`` are given), then ``y = (x - mean) rstd w + b`` (``w``, ``b`` empty for none).
    Each pass runs over the array in memory order: for S = 1 (an (N, C) input) the channel
    loop is the inner one, and vectorises."""
    n_, c_, s_ = x.shape
    has_w, has_b = w.shape[0] > 0, b.shape[0] > 0
    x2, y2 = x.reshape(n_, c_ * s_), y.reshape(n_, c_ * s_)
    if training:
        count = n_ * s_
        mean[:] = 0.0
        sqsum[:] = 0.0
        for i in range(n_):
            _add_channel_sums(x2[i], mean, s_)
        for c in range(c_):
            mean[c] /= count
        for i in range(n_):
            _add_channel_squares(x2[i], mean, sqsum, s_)
        for c in range(c_):
            rstd[c] = 1.0 / math.sqrt(sqsum[c] / count + eps)
    scale, shift = np.empty(c_), np.empty(c_)
    for c in range(c_):  # y = x scale + shift would round differently: (x - mean) first
        scale[c] = rstd[c] * w[c] if has_w else rstd[c]
        shift[c] = b[c] if has_b else 0.0
    for i in range(n_):
        xi, yi = x2[i], y2[i]
        if s_ == 1:
            for c in range(c_):
                yi[c] = (xi[c] - mean[c]) * scale[c] + shift[c]
        else:
            for c in range(c_):  # (slices: loops over range(lo, hi) did not vectorise)
                m, k, h = mean[c], scale[c], shift[c]
                xs, ys = xi[c * s_ : (c + 1) * s_], yi[c * s_ : (c + 1) * s_]
                for j in range(s_):
                    ys[j] = (xs[j] - m) * k + h


@njit(inline="always")
def _add_channel_sums(row, sums, s_):
    """``sums[c] += row[c S:(c + 1) S].sum()`` for every channel of one sample's row."""
    if s_ == 1:
        for c in range(sums.shape[0]):
            sums[c] += row[c]
        return
    for c in range(sums.shape[0]):
        part = row[c * s_ : (c + 1) * s_]
        s = 0.0
        for j in range(s_):
            s += part[j]
        sums[c] += s


@njit(inline="always")
def _add_channel_squares(row, mean, sqsum, s_):
    if s_ == 1:
        for c in range(mean.shape[0]):
            d = row[c] - mean[c]
            sqsum[c] += d * d
        return
    for c in range(mean.shape[0]):
        m, part = mean[c], row[c * s_ : (c + 1) * s_]
        s = 0.0
        for j in range(s_):
            d = part[j] - m
            s += d * d
        sqsum[c] += s


@njit(**_OPTS)
def batch_backward(g, x, w, mean, rstd, training, dx, dw, db):
    """The gradients of ``batch_forward`` for the incoming ``g`` (N, C, S): ``dx`` (empty: not
    wanted), ``dw`` and ``db`` (C,) written (empty: not wanted). With ``training`` the input's
    gradient goes through the batch statistics too."""
    n_, c_, s_ = x.shape
    count = n_ * s_
    has_w, want_x = w.shape[0] > 0, dx.shape[0] > 0
    want_w, want_b = dw.shape[0] > 0, db.shape[0] > 0
    g2, x2 = g.reshape(n_, c_ * s_), x.reshape(n_, c_ * s_)
    sum_g = np.zeros(c_)
    sum_gx = np.zeros(c_)  # sums of g (x - mean): times rstd below, the sums of g xhat
    for i in range(n_):
        _add_channel_sums(g2[i], sum_g, s_)
        gi, xi = g2[i], x2[i]
        if s_ == 1:
            for c in range(c_):
                sum_gx[c] += gi[c] * (xi[c] - mean[c])
        else:
            for c in range(c_):
                m, gs, xs = mean[c], gi[c * s_ : (c + 1) * s_], xi[c * s_ : (c + 1) * s_]
                s = 0.0
                for j in range(s_):
                    s += gs[j] * (xs[j] - m)
                sum_gx[c] += s
    for c in range(c_):
        sum_gx[c] *= rstd[c]
        if want_w:
            dw[c] = sum_gx[c]
        if want_b:
            db[c] = sum_g[c]
    if not want_x:
        return
    # dx = k (g - a - (x - mean) q): k = w rstd, a = mean(g), q = rstd mean(g xhat); a = q = 0
    # in evaluation, where the statistics are constants
    k, a, q = np.empty(c_), np.zeros(c_), np.zeros(c_)
    for c in range(c_):
        k[c] = rstd[c] * w[c] if has_w else rstd[c]
        if training:
            a[c] = sum_g[c] / count
            q[c] = rstd[c] * (sum_gx[c] / count)
    dx2 = dx.reshape(n_, c_ * s_)
    for i in range(n_):
        gi, xi, oi = g2[i], x2[i], dx2[i]
        if s_ == 1:
            for c in range(c_):
                oi[c] = k[c] * (gi[c] - a[c] - (xi[c] - mean[c]) * q[c])
        else:
            for c in range(c_):
                kc, ac, qc, m = k[c], a[c], q[c], mean[c]
                lo, hi = c * s_, (c + 1) * s_
                gs, xs, os = gi[lo:hi], xi[lo:hi], oi[lo:hi]
                for j in range(s_):
                    os[j] = kc * (gs[j] - ac - (xs[j] - m) * qc)
