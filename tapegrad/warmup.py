"""``python -m tapegrad.warmup``: compile (or load) the sweep now, so the first gradient is fast.

Numba compiles the sweep on first use and caches it in the user cache folder (or in
``NUMBA_CACHE_DIR``), once per machine and tapegrad version, wherever tapegrad is installed.

On a Dask cluster, ``dask worker --preload tapegrad.warmup`` (or ``preload=["tapegrad.warmup"]``
for a ``LocalCluster``) runs it in every worker as it starts, before it takes tasks; see
``docs/dask.md``.
"""

import time

LAST_SECONDS = None  # how long this process's last warm-up took (set by the Dask hooks)


def warmup():
    """Run tiny backwards of every kind of record, of scalars and of arrays (the two compiled
    kernels); return the seconds it took."""
    import numpy as np

    import tapegrad as tg

    t0 = time.perf_counter()
    x = tg.tensor(np.array([0.5, 1.5]), requires_grad=True)
    ((x.sin() * x)[0] + (x @ x) + x.sum()).backward()
    s = tg.tensor(0.5, requires_grad=True)
    (s * s).backward()
    v = tg.tensor(np.linspace(0.1, 1.0, 256), requires_grad=True)  # arrays: the vector kernel
    (tg.tanh(v * v + v) * 2.0).sum().backward()
    from .compile import loops  # tg.compile's loops (SGD step, tanh gradient), ranks 1 and 2

    for p in (np.zeros(2), np.zeros((2, 2))):
        loops.sub_scaled()[p.ndim](p, np.ones_like(p), 0.5)
        loops.tanh_backward()[p.ndim](p, p, np.empty_like(p))
    return time.perf_counter() - t0


def warmup_one_at_a_time():
    """``warmup()``, but when processes of one machine start together (the workers of a Dask
    cluster) the first compiles into the shared Numba cache while the others wait for it, then
    load from that cache side by side, instead of each compiling the same code."""
    try:
        import fcntl
    except ImportError:  # not POSIX: each process warms up on its own
        return warmup()
    import hashlib
    import os
    import tempfile

    from numba.core.config import CACHE_DIR  # NUMBA_CACHE_DIR, "" when unset

    key = hashlib.sha1(f"{os.path.abspath(__file__)}|{CACHE_DIR}".encode()).hexdigest()[:16]
    with open(os.path.join(tempfile.gettempdir(), f"tapegrad-warmup-{key}.lock"), "a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # another process is warming up: wait for it, then load its cache
            fcntl.flock(f, fcntl.LOCK_EX)
            fcntl.flock(f, fcntl.LOCK_UN)
            return warmup()
        try:
            return warmup()
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


async def dask_setup(worker):
    """Dask worker preload hook: warm up in a thread, so the worker keeps answering the
    scheduler while it compiles; the worker takes no task until this returns."""
    import asyncio

    global LAST_SECONDS
    LAST_SECONDS = await asyncio.get_running_loop().run_in_executor(None, warmup_one_at_a_time)


if __name__ == "__main__":
    print(f"tapegrad sweep ready in {warmup():.2f} s")
