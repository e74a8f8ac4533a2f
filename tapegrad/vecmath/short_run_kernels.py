"""Compiled loops for ``tapegrad.vecmath.short_runs`` (Numba; imported on first large use).

Each loop computes exactly what NumPy computes, operation for operation and in NumPy's order,
so the results are the same bit for bit:

* sums over the middle axis of an ``(outer, n, inner)`` array with ``inner > 1`` add the rows
  one after another into a zero-initialised accumulator, as NumPy's reduction does there;
* sums of rows of at most 128 elements (``inner == 1``) repeat NumPy's ``pairwise_sum`` for
  such rows: eight running sums, combined as ``((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7))``, then
  the leftover elements; fewer than eight elements are added in order (NumPy's reduction
  starts from zero in both cases);
* broadcast arithmetic is the one IEEE operation per element (a broadcast copy: none).

Every loop also returns whether all its results are finite (``r - r == 0``: false for inf
and NaN). A non-finite result
sends the caller back to NumPy, whose warnings and ``np.errstate`` handling then apply
unchanged.
"""

from numba import njit

from .. import _numba_cache  # noqa: F401 (before any kernel: where Numba caches them)

_OPTS = dict(cache=True, fastmath=False, error_model="numpy", nogil=True)


@njit(**_OPTS)
def sum_middle(x, out):
    """``out[o, :] = sum over r of x[o, r, :]`` (C-contiguous ``x`` of shape (O, n, I));
    returns whether every sum is finite."""
    n_outer, n, inner = x.shape
    finite = True
    for o in range(n_outer):
        acc = out[o]
        acc[:] = 0
        for r in range(n):
            row = x[o, r]
            for i in range(inner):
                acc[i] += row[i]
        for i in range(inner):
            finite &= acc[i] - acc[i] == 0
    return finite


@njit(inline="always")
def row_sum(a, zero):
    """NumPy's pairwise sum of the 1-D contiguous ``a`` (at most 128 elements) starting from
    ``zero`` (of the sum's type: float32 rows are summed in float32, as NumPy does)."""
    n = a.shape[0]
    if n < 8:
        res = zero
        for i in range(n):
            res += a[i]
    else:
        end = n - n % 8
        r0, r1, r2, r3 = a[0], a[1], a[2], a[3]
        r4, r5, r6, r7 = a[4], a[5], a[6], a[7]
        for i in range(8, end, 8):
            r0 += a[i]
            r1 += a[i + 1]
            r2 += a[i + 2]
            r3 += a[i + 3]
            r4 += a[i + 4]
            r5 += a[i + 5]
            r6 += a[i + 6]
            r7 += a[i + 7]
        res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
        for i in range(end, n):
            res += a[i]
    return zero + res  # NumPy's reduction adds the row's sum to its zero start (-0.0 -> 0.0)


@njit(**_OPTS)
def sum_rows(x, out):
    """``out[o] = NumPy's pairwise sum of x[o, :]`` for C-contiguous ``x`` of shape (O, n),
    ``n <= 128``; returns whether every sum is finite."""
    out[0] = 0
    zero = out[0]
    finite = True
    for o in range(x.shape[0]):
        res = row_sum(x[o], zero)
        out[o] = res
        finite &= res - res == 0
    return finite


ADD, SUB, MUL, DIV, COPY = 0, 1, 2, 3, 4


@njit(inline="always")
def _apply(op, u, v):
    if op == ADD:
        return u + v
    if op == SUB:
        return u - v
    if op == MUL:
        return u * v
    if op == DIV:
        return u / v
    return u


@njit(inline="always")
def _nest(op, a, b, out):
    n0, n1, n2, n3 = out.shape
    for i in range(n0):
        for j in range(n1):
            for k in range(n2):
                for m in range(n3):
                    out[i, j, k, m] = _apply(op, a[i, j, k, m], b[i, j, k, m])


@njit(**_OPTS)
def broadcast(op, a, b, out):
    """``out = a <op> b`` (``COPY``: ``out = a``) over 4-D views (``a`` and ``b`` broadcast with
    zero strides, ``out`` C-contiguous), one loop nest per operation; returns whether every
    result is finite."""
    if op == ADD:
        _nest(ADD, a, b, out)
    elif op == SUB:
        _nest(SUB, a, b, out)
    elif op == MUL:
        _nest(MUL, a, b, out)
    elif op == DIV:
        _nest(DIV, a, b, out)
    else:
        _nest(COPY, a, b, out)
        return True  # (copies are exact: nothing to check)
    return all_finite(out)


@njit(inline="always")
def all_finite(out):
    """Whether every element of the C-contiguous ``out`` is finite: checked in a pass of its
    own, an integer or-reduction over contiguous memory that vectorises (~25 us for 250k
    results), where a check inside a loop nest doubled its time."""
    flat = out.reshape(-1)
    bad = 0
    for i in range(flat.size):
        v = flat[i]
        bad |= v - v != 0
    return bad == 0


@njit(inline="always")
def row_max(a):
    """The largest element of the 1-D ``a``, NaN where it holds one (either zero for zeros)."""
    if a.shape[0] >= 16:
        return _lanes_max(a)
    res = a[0]
    for i in range(1, a.shape[0]):
        v = a[i]
        if v > res:
            res = v
    if res == res:  # (no NaN met as the first element: look for one)
        for i in range(a.shape[0]):
            if a[i] != a[i]:
                return a[i]
    return res


@njit(inline="always")
def _lanes_max(a):
    """``row_max`` of 16 elements or more: eight running maxima and a NaN flag in one pass
    (~4x quicker than one running maximum and a second pass looking for NaN). Each maximum is
    a chain of dependent selects: with four of them the loop waited on the chains (a (256,
    1024) array's rows 134 µs on a Xeon with AVX-512), with eight 70 (NumPy's reduction 57)."""
    n = a.shape[0]
    r0 = r1 = r2 = r3 = r4 = r5 = r6 = r7 = a[0]
    nan = False
    end = n - n % 8
    for i in range(0, end, 8):
        v0, v1, v2, v3 = a[i], a[i + 1], a[i + 2], a[i + 3]
        v4, v5, v6, v7 = a[i + 4], a[i + 5], a[i + 6], a[i + 7]
        r0 = v0 if v0 > r0 else r0
        r1 = v1 if v1 > r1 else r1
        r2 = v2 if v2 > r2 else r2
        r3 = v3 if v3 > r3 else r3
        r4 = v4 if v4 > r4 else r4
        r5 = v5 if v5 > r5 else r5
        r6 = v6 if v6 > r6 else r6
        r7 = v7 if v7 > r7 else r7
        nan |= ((v0 != v0) | (v1 != v1) | (v2 != v2) | (v3 != v3) | (v4 != v4) | (v5 != v5) |
                (v6 != v6) | (v7 != v7))
    for i in range(end, n):
        v = a[i]
        r0 = v if v > r0 else r0
        nan |= v != v
    if nan:
        for i in range(n):
            if a[i] != a[i]:
                return a[i]
    r0 = r1 if r1 > r0 else r0
    r2 = r3 if r3 > r2 else r2
    r4 = r5 if r5 > r4 else r4
    r6 = r7 if r7 > r6 else r6
    r0 = r2 if r2 > r0 else r0
    r4 = r6 if r6 > r4 else r4
    return r4 if r4 > r0 else r0


@njit(**_OPTS)
def max_rows(x, out):
    """``out[o] = max(x[o, :])`` for C-contiguous ``x`` of shape (O, n), NaN for a row holding
    one; which zero a row of zeros gives is not NumPy's choice (its SIMD loop picks either), so
    this serves only callers to whom +0.0 and -0.0 are the same (a shift constant)."""
    for o in range(x.shape[0]):
        out[o] = row_max(x[o])
