"""Consecutive large elementwise records of one size swept a chunk at a time.

``sin(x) * exp(-x*x)`` of 2e6 elements has four such records in a row in its backward
(``exp``, ``-``, ``x*x``, ``sin``): each read its gradient from memory (16 MB) and wrote its
result back, which the next one read again. While such a chain lasts, ``numpy_records.numpy_vjp``
decides where each result goes as before (the same arrays: held adjoints, spares, dead
gradients, arena slots), but hands the passes themselves to ``Later`` instead of running them;
the sweep goes on to the next record without its compiled loop while that record continues the
chain (``Sweep.run``), and runs what is pending before anything else reads an adjoint
(``Later.run``). Pending passes of two or more records run a chunk (``CHUNK`` bytes of each
array) at a time, every record's passes over one chunk before the next chunk, so a chunk's
gradients flow down the chain while they are in the L2 cache.

Every pass is elementwise over flat arrays of the chain's size: element ``i`` goes through the
same operations in the same order either way, so the values are the same bit for bit. Chunks
start at multiples of ``CHUNK`` and the last one takes the remainder, so a vectorised loop's
tail and a kernel's size threshold (``vecmath.THRESHOLD``) see the elements they saw over the
whole array. 2e6 float64 elements: backward 6.1-6.3 -> 5.7-6.0 ms.
"""

import numpy as np

CHUNK = 1 << 19  # bytes of an array in a chunk (65536 float64 elements): the few arrays a
# pass reads and writes stay in a 2 MB L2 (2e6 float64 elements, backward medians on a loaded
# 2-core VM: chunks of 2**15 elements 7.0-7.2 ms, 2**16 6.8-7.0, 2**17 7.0, 2**18 8.1, whole
# arrays 7.6-8.6; float32: 2**15 3.5, 2**16 3.1, 2**17 2.9-3.1, whole 3.4-3.6)


def _call(fn, *args):
    fn(*args)


class _Now:
    """Passes run at once (a record outside a chain)."""

    __slots__ = ()
    __call__ = quiet = staticmethod(_call)  # (``numpy_vjp`` sets the error state itself)

    def any(self, fn, *args):
        fn(*args)

    def run(self):
        pass


NOW = _Now()


class Later:
    """The pending passes of a chain of records of ``n`` elements: ``(fn, args, errors)``, each
    run as ``fn(*args)`` with every array argument of ``n`` elements cut to a chunk;
    ``errors``: False runs it under NumPy's error state as the caller has it (as a pass run at
    once), True with errors ignored (``numpy_vjp`` runs its formulas so), None where it cannot
    matter (compiled loops)."""

    __slots__ = ("ops", "n", "records", "chunk")

    def __init__(self, n, chunk):
        self.ops, self.n, self.records, self.chunk = [], n, 0, chunk

    def __call__(self, fn, *args):
        self.ops.append((fn, args, False))

    def quiet(self, fn, *args):
        self.ops.append((fn, args, True))

    def any(self, fn, *args):
        self.ops.append((fn, args, None))

    def run(self):
        """Run the pending passes (chunk by chunk for two records or more)."""
        ops, n = self.ops, self.n
        if not ops:
            self.records = 0
            return
        self.ops, records, self.records = [], self.records, 0
        if records < 2:
            _run(ops, ((0, n),), n)
            return
        c = self.chunk
        whole = max(n // c, 1)
        _run(ops, [(i * c, (i + 1) * c if i + 1 < whole else n) for i in range(whole)], n)


def _run(ops, chunks, n):
    arrays, plans = [], []  # each array argument once (identical arguments stay identical)
    where = {}
    for fn, args, errors in ops:
        spec = []
        for a in args:
            if type(a) is np.ndarray and a.ndim == 1 and a.shape[0] == n:
                j = where.get(id(a))
                if j is None:
                    j = where[id(a)] = len(arrays)
                    arrays.append(a)
                spec.append(j)
            else:
                spec.append(-1)
        plans.append((fn, args, tuple(spec), errors))
    ignoring, saved = False, None
    try:
        for lo, hi in chunks:
            cut = [a[lo:hi] for a in arrays]
            for fn, args, spec, errors in plans:
                if errors is not None and errors != ignoring:
                    if errors:
                        saved = np.seterr(all="ignore")
                    else:
                        np.seterr(**saved)
                    ignoring = errors
                fn(*[a if j < 0 else cut[j] for a, j in zip(args, spec)])
    finally:
        if ignoring:
            np.seterr(**saved)


def start(sw, n, itemsize):
    """The ``Later`` of ``sw`` for a record of ``n`` elements of ``itemsize`` bytes (continuing
    its chain, or a new one after running what an earlier chain left), or ``NOW`` below two
    chunks."""
    later = sw.later
    if later is not None and later.n != n:
        stop(sw)
        later = None
    chunk = CHUNK // itemsize
    if n < 2 * chunk:
        return NOW
    if later is None:
        later = sw.later = Later(n, chunk)
    later.records += 1
    return later


def stop(sw):
    """Run what is pending on ``sw`` and end its chain; ``NOW``."""
    later = sw.later
    if later is not None:
        sw.later = None
        later.run()
    return NOW


def pending(sw):
    """Run what is pending on ``sw`` (before NumPy reads an adjoint), its chain going on."""
    if sw.later is not None:
        sw.later.run()
