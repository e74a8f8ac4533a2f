"""``python -m tapegrad.warmup``: compile (or load) the sweep now, so the first gradient is fast.

Numba compiles the sweep on first use and caches it beside the package; when that folder is not
writable, point ``NUMBA_CACHE_DIR`` at a user cache directory.
"""

import time


def warmup():
    """Run one tiny backward of every kind of record; return the seconds it took."""
    import numpy as np

    import tapegrad as tg

    t0 = time.perf_counter()
    x = tg.tensor(np.array([0.5, 1.5]), requires_grad=True)
    ((x.sin() * x)[0] + (x @ x) + x.sum()).backward()
    s = tg.tensor(0.5, requires_grad=True)
    (s * s).backward()
    return time.perf_counter() - t0


if __name__ == "__main__":
    print(f"tapegrad sweep ready in {warmup():.2f} s")
