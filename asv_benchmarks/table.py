"""Print the README benchmark table: tapegrad vs PyTorch on the performance-target workloads.

Run: python asv_benchmarks/table.py   (one process; tapegrad and PyTorch runs alternate, 7 each,
after a warm-up; medians). ``--compiled`` prints only the tg.compile table (compiled, eager,
PyTorch and JAX jit runs in turn, 5 each after the first call, which is reported apart; all
on one core, as XLA otherwise runs some programs on two threads).
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

from benchmarks.common import blas_one_thread, has_torch  # noqa: E402
from benchmarks.workloads import WORKLOADS  # noqa: E402
from benchmarks.bench_compile import (cold_first_gradient_seconds,  # noqa: E402
                                      warm_first_gradient_seconds)
from benchmarks.compiled import COMPILED_WORKLOADS, make as make_compiled  # noqa: E402


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


def interleaved_many(runs, reps=7):
    """Medians of round-robin runs of each callable (None: not run)."""
    live = {k: r for k, r in runs.items() if r is not None}
    times = {k: [] for k in live}
    for _ in range(reps):
        for k, run in live.items():
            t0 = time.perf_counter()
            run()
            times[k].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in times.items()}


def first_call(run):
    t0 = time.perf_counter()
    run()
    return time.perf_counter() - t0


def compiled_table(torch_ok):
    """tg.compile's rows: steady state against PyTorch eager and JAX jit, and first calls."""
    libs = ["compiled", "tapegrad"] + (["torch"] if torch_ok else []) + ["jax"]
    # one core for all: XLA runs some programs on two threads whatever its flags say (sin·exp:
    # 57 ms of CPU in 31 ms), and the targets compare one thread with one thread. Threads
    # started from here on (JAX's) inherit the affinity.
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    import tapegrad as tg

    x = tg.tensor([1.0], requires_grad=True)
    (x * x).sum().backward()  # load the eager sweep: first calls below are tracing only
    print()
    print("| workload (tg.compile) | compiled | eager tapegrad | PyTorch | JAX jit | "
          "compiled/PyTorch | compiled/JAX | first call: compiled, JAX |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name in COMPILED_WORKLOADS:
        runs = {lib: make_compiled(name, lib) for lib in libs}
        # eager libraries first: the two timed first calls then meet the same allocator state
        # (the first big arrays of a process cost page faults, ~5-25 ms per 16 MB here)
        order = [lib for lib in ("tapegrad", "torch", "compiled", "jax") if lib in runs]
        first = {lib: first_call(runs[lib]) for lib in order if runs[lib] is not None}
        t = interleaved_many(runs, reps=5)

        def ms(lib, t=t):
            return f"{t[lib] * 1e3:.2f} ms" if lib in t else "-"

        def ratio(lib, t=t):
            return f"{t['compiled'] / t[lib]:.3f}" if lib in t else "-"

        fj = f"{first['jax']:.2f} s" if "jax" in first else "-"
        print(f"| {name} | {ms('compiled')} | {ms('tapegrad')} | {ms('torch')} | {ms('jax')} | "
              f"{ratio('torch')} | {ratio('jax')} | {first['compiled']:.2f} s, {fj} |")


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
    cold = cold_first_gradient_seconds(repeat=3)
    warm = warm_first_gradient_seconds(repeat=5)
    print(f"| import + first gradient, cache warm | {warm:.2f} s | | |")
    print(f"| first gradient ever (cold compile) | {cold:.2f} s | | |")
    compiled_table(torch_ok)


if __name__ == "__main__":
    if "--compiled" in sys.argv:
        compiled_table(has_torch())
    else:
        main()
