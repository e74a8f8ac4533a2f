"""Shared helpers for the tapegrad asv benchmarks (no benchmarks live here).

Only numpy and the standard library are imported at module level; torch is
imported lazily and is optional.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before NumPy's BLAS starts its thread pool
# JAX's CPU backend (XLA) on one thread too, read when jax is first imported: the targets
# compare one thread with one thread
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false "
                      "intra_op_parallelism_threads=1")

import numpy as np  # noqa: E402

_THREAD_VARS = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "NUMBA_NUM_THREADS",
)


def single_thread() -> None:
    """Pin BLAS/OpenMP/Numba thread pools to one thread unless already set.

    Must run before numpy's BLAS / numba's threading layer initialise to take
    full effect, which is why it is called at import of this module.
    """
    for var in _THREAD_VARS:
        os.environ.setdefault(var, "1")


single_thread()


def blas_one_thread() -> str:
    """Pin NumPy's BLAS to one thread *now*, also when NumPy was imported before the
    environment variables were set, so tapegrad (NumPy kernels) and PyTorch (pinned by
    ``has_torch``) are compared on one thread each. Returns what it did, for the table
    (``tapegrad._threads``: threadpoolctl, else OpenBLAS's own functions)."""
    from tapegrad._threads import set_blas_threads  # noqa: PLC0415

    return set_blas_threads(1) or "environment variables only"

_TORCH_CHECKED = False
_TORCH = None


def has_torch() -> bool:
    """True if torch imports; also pins torch to one intra-op thread, and NumPy's BLAS to
    one thread (``blas_one_thread``).

    The torch default dtype is left unchanged (benchmarks pass dtypes
    explicitly).
    """
    global _TORCH_CHECKED, _TORCH
    if not _TORCH_CHECKED:
        _TORCH_CHECKED = True
        try:
            import torch  # noqa: PLC0415
        except Exception:  # ImportError, or a broken install
            _TORCH = None
        else:
            try:
                torch.set_num_threads(1)
            except Exception:
                pass
            blas_one_thread()  # NumPy's side of the comparison too
            _TORCH = torch
    return _TORCH is not None


def torch_or_skip():
    """Return the torch module, or raise NotImplementedError (asv: skipped)."""
    if not has_torch():
        raise NotImplementedError("torch is not installed; comparison skipped")
    return _TORCH


def library(impl: str):
    """The module a benchmark runs with: torch on one thread for ``"torch"`` (skipped when not
    installed), else tapegrad."""
    if impl == "torch":
        torch = torch_or_skip()
        torch.set_num_threads(1)
        return torch
    import tapegrad

    return tapegrad


def rng(seed: int = 0) -> np.random.Generator:
    """Deterministic numpy Generator."""
    return np.random.default_rng(seed)


def run_subprocess_seconds(
    code: str, env_extra: dict | None = None, repeat: int = 1
) -> float:
    """Run ``python -c code`` in a fresh interpreter; return median wall seconds.

    Uses the current ``sys.executable``. ``env_extra`` is merged over the
    current environment (e.g. ``{"NUMBA_CACHE_DIR": <empty temp dir>}`` for a
    cold-compile measurement; reuse one populated directory for warm import).
    Raises RuntimeError if the child exits non-zero.
    """
    if repeat < 1:
        raise ValueError("repeat must be >= 1")
    env = os.environ.copy()
    if env_extra:
        env.update({str(k): str(v) for k, v in env_extra.items()})
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", code],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        elapsed = time.perf_counter() - t0
        if proc.returncode != 0:
            raise RuntimeError(
                f"subprocess exited with {proc.returncode}:\n{proc.stderr[-4000:]}"
            )
        times.append(elapsed)
    return float(statistics.median(times))


if __name__ == "__main__":
    import tempfile

    t = run_subprocess_seconds("pass")
    assert t > 0.0, t
    with tempfile.TemporaryDirectory() as d:
        t2 = run_subprocess_seconds(
            "import os; assert os.environ['NUMBA_CACHE_DIR']",
            env_extra={"NUMBA_CACHE_DIR": d},
            repeat=3,
        )
    print(f"run_subprocess_seconds('pass') = {t:.4f}s; with env_extra x3 median = {t2:.4f}s")
    print(f"has_torch() = {has_torch()}; rng draw = {rng().standard_normal():.6f}")
    print("common.py self-check OK")
