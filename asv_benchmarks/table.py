"""Print the README benchmark table: tapegrad vs PyTorch on the performance-target workloads.

Run: python asv_benchmarks/table.py   (one process; tapegrad and PyTorch runs alternate, 7 each,
after a warm-up; medians)
"""

import os
import statistics
import sys
import time

# The targets are ratios on one thread: NumPy's BLAS (OpenBLAS reads these when it loads; the
# children that time the first gradient inherit them) as well as PyTorch (has_torch)
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_var] = "1"

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from benchmarks.common import blas_one_thread, has_torch, run_subprocess_seconds  # noqa: E402
from benchmarks.workloads import WORKLOADS  # noqa: E402
from benchmarks.bench_compile import FIRST_GRADIENT  # noqa: E402


def median_time(run, reps=5):
    run()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def interleaved(run_a, run_b, reps=7):
    """Medians of alternating runs of a and b: machine noise hits both alike."""
    run_a(), run_b()
    ta, tb = [], []
    for _ in range(reps):
        for run, out in ((run_a, ta), (run_b, tb)):
            t0 = time.perf_counter()
            run()
            out.append(time.perf_counter() - t0)
    return statistics.median(ta), statistics.median(tb)


def main():
    torch_ok = has_torch()
    how = blas_one_thread()
    print(f"One thread each: PyTorch (torch.set_num_threads(1)), NumPy's BLAS ({how}).\n")
    print("| workload | tapegrad | PyTorch | ratio |")
    print("|---|---:|---:|---:|")
    for name, make in WORKLOADS.items():
        if torch_ok:
            t, p = interleaved(make("tapegrad"), make("torch"))
            print(f"| {name} | {t * 1e3:.2f} ms | {p * 1e3:.2f} ms | {t / p:.2f} |")
        else:
            t = median_time(make("tapegrad"))
            print(f"| {name} | {t * 1e3:.2f} ms | - | - |")
    import tempfile

    with tempfile.TemporaryDirectory() as cache:
        cold = run_subprocess_seconds(FIRST_GRADIENT, {"NUMBA_CACHE_DIR": cache})
    run_subprocess_seconds(FIRST_GRADIENT)
    warm = run_subprocess_seconds(FIRST_GRADIENT, repeat=5)
    print(f"| import + first gradient, cache warm | {warm:.2f} s | | |")
    print(f"| first gradient ever (cold compile) | {cold:.2f} s | | |")


if __name__ == "__main__":
    main()
